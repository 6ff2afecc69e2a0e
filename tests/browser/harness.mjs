// What every browser test file shares: the env it reads, one Chromium per file, pages that
// record console and page errors, the agent API and the sign-in forms. Not a test file
// itself (its name matches none of node --test's patterns), so `node --test tests/browser/`
// only runs the *.test.mjs files, each in its own process with its own browser.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// The server under test and the tokens tests/run mints.
export const BASE = (process.env.HANDOFF_URL || '').replace(/\/+$/, '');
export const TOKEN_A = process.env.AGENT_TOKEN_A || '';
export const TOKEN_B = process.env.AGENT_TOKEN_B || '';
export const TOKEN_SUP = process.env.AGENT_TOKEN_SUP || '';
export const SUPERVISOR = process.env.SUPERVISOR_TOKEN || '';
export const DATA = process.env.HANDOFF_DATA || '';
// Debian's chromium: no browser is ever downloaded.
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
export const T = { timeout: 90_000 };
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

// A locale's time zone, so that Korean customers see Korean times.
const ZONES = { 'ko-KR': 'Asia/Seoul', 'en-US': 'America/Los_Angeles' };

/** Throws, naming what is missing, when one of the env vars `names` is unset. */
export function requireEnv(names, hint = ' (see the header of this file)') {
  const missing = names.filter((k) => !process.env[k]);
  if (missing.length) throw new Error(`${missing.join(', ')} not set${hint}`);
}

/**
 * Registers before/after hooks that check `env`, launch Chromium (with `args` added to the
 * usual flags) and close it with every context at the end. `defaults` are the file's page
 * options (see newPage). Returns this file's `problems` (console errors and uncaught
 * errors of its pages, which its last test asserts empty) and two ways to open a page.
 */
export function useBrowser({ env = ['HANDOFF_URL'], hint, args = [], defaults = {} } = {}) {
  let browser;
  const contexts = [];
  const problems = [];

  before(async () => {
    requireEnv(env, hint);
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', ...args],
    });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
  });

  /**
   * A page in a fresh context. Options (over the file's `defaults`): locale ('ko-KR'),
   * timezoneId (from the locale; null keeps the machine's), viewport (DESKTOP), mobile
   * (touch and `scale`× pixels, 2 unless given), storageState, session ([key, value] put in
   * sessionStorage before any script runs: the console pages share their sign-in there),
   * allow (regexps of expected console errors, matched against "text @ url") and
   * consoleErrors (false: only uncaught errors count, for pages that log expected refusals).
   */
  async function newPage(label, opts = {}) {
    const o = { locale: 'ko-KR', viewport: DESKTOP, mobile: false, allow: [], consoleErrors: true, ...defaults, ...opts };
    const timezoneId = o.timezoneId === undefined ? ZONES[o.locale] : o.timezoneId;
    const ctx = await browser.newContext({
      locale: o.locale, viewport: o.viewport, storageState: o.storageState,
      ...(timezoneId ? { timezoneId } : {}),
      ...(o.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: o.scale ?? 2 } : {}),
    });
    contexts.push(ctx);
    ctx.setDefaultTimeout(15_000);
    if (o.session) {
      await ctx.addInitScript(([k, v]) => { try { sessionStorage.setItem(k, v); } catch (e) { /* ignore */ } }, o.session);
    }
    const page = await ctx.newPage();
    if (o.consoleErrors) {
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const where = m.location()?.url || '';
        if (o.allow.some((a) => a.test(`${m.text()} @ ${where}`))) return;
        problems.push(`[${label}] console.error: ${m.text()} @ ${where}`);
      });
    }
    page.on('pageerror', (e) => problems.push(`[${label}] uncaught: ${e.message}`));
    return page;
  }

  /** newPage, for tests that also close or reuse the context. */
  async function open(label, opts) {
    const page = await newPage(label, opts);
    return { ctx: page.context(), page };
  }

  return { problems, newPage, open };
}

async function call(token, method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { res, text: await res.text() };
}

/** A call to the agent API: `{status, body}` whatever the status (for tests of refusals). */
export async function api(token, method, path, body) {
  const { res, text } = await call(token, method, path, body);
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A call to the agent API that must succeed: its body. */
export async function apiOk(token, method, path, body) {
  const { res, text } = await call(token, method, path, body);
  assert.ok(res.ok, `${method} ${path} -> ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls `fn` every 200 ms until it returns something truthy (which it returns). */
export async function waitFor(fn, what, timeout = 15_000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > end) assert.fail(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Signs in on a console page with its token form. The console, the FAQ editor and the
 * suggestions page each have one, told apart by the test ids' prefix (`ids`); `ready`
 * names a test id to wait for after signing in.
 */
export async function signIn(page, token, path = '/console', { ids = 'console', ready } = {}) {
  await page.goto(BASE + path);
  await page.getByTestId(`${ids}-token`).fill(token);
  await page.getByTestId(`${ids}-signin`).click();
  if (ready) await page.getByTestId(ready).first().waitFor();
}

/** Is `r` the response to a message the widget sends? */
export const isChatPost = (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/chat/messages';

/** Types `text` in the widget of `page` and presses Enter: the response's body, which must be a 200. */
export async function send(page, text) {
  const input = page.getByTestId('hf-input');
  await input.fill(text);
  const [res] = await Promise.all([page.waitForResponse(isChatPost), input.press('Enter')]);
  const body = await res.json();
  assert.equal(res.status(), 200, JSON.stringify(body));
  return body;
}
