// End-to-end browser test: customer widget (demo page) <-> agent console, against a running server.
//   HANDOFF_URL    base URL of a running `handoff serve` (required)
//   AGENT_TOKEN_A  agent JWT (required), AGENT_TOKEN_B a second agent's JWT (required)
//   HANDOFF_DATA   the server's --data folder (required): texted codes are read from its deliveries.jsonl
//   The server should raise its per-IP limits (tests/run sets HANDOFF_RATE_LIMITS): every
//   test browser shares 127.0.0.1. The per-browser limits must keep their defaults.
//   CHROMIUM_PATH  optional, default /usr/bin/chromium (Debian's chromium; no browser is ever downloaded)
// Run: node --test tests/browser/   Screenshots go to tests/browser/screenshots/ (git-ignored).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { BASE, TOKEN_A, TOKEN_B, DATA, SHOTS, T, PHONE, DESKTOP, useBrowser, apiOk as agentApi, waitFor, signIn } from './harness.mjs';

const DEVICE_KEY = 'handoff:device:v1';
const KO_FAQ = '배송비 얼마예요?';
const KO_HUMAN = '상담원 연결해주세요';
const KO_REPLY = '안녕하세요, 상담원 김하늘입니다';

const S = {}; // state carried from one step to the next (the steps are one story, run in order)

// Korean desktops by default; a page's console errors fail the run unless its `allow` expects them.
const { open, problems: consoleProblems } = useBrowser({
  env: ['HANDOFF_URL', 'AGENT_TOKEN_A', 'AGENT_TOKEN_B', 'HANDOFF_DATA'],
  hint: '. This test needs a running server: e.g.\n' +
    '  cargo run -q -p handoff-local -- serve --port 3000 --data /tmp/hf-data &\n' +
    '  HANDOFF_URL=http://127.0.0.1:3000 AGENT_TOKEN_A=$(cargo run -q -p handoff-local -- token agent-a --data /tmp/hf-data) \\\n' +
    '  AGENT_TOKEN_B=$(cargo run -q -p handoff-local -- token agent-b --data /tmp/hf-data) HANDOFF_DATA=/tmp/hf-data node --test tests/browser/',
  args: ['--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

before(async () => {
  S.agentA = (await agentApi(TOKEN_A, 'GET', '/v1/agent/me')).agent_id;
  S.agentB = (await agentApi(TOKEN_B, 'GET', '/v1/agent/me')).agent_id;
  assert.ok(S.agentA && S.agentB && S.agentA !== S.agentB, `two different agents expected, got ${S.agentA} / ${S.agentB}`);
});

/* ---------------- helpers ---------------- */

/** A fresh Korean mobile number: typed form, E.164, and the widget's mask of it. */
function randomPhone() {
  const a = String(5000 + Math.floor(Math.random() * 5000)), b = String(Math.floor(Math.random() * 10000)).padStart(4, '0');
  return { typed: `010-${a}-${b}`, e164: `+8210${a}${b}`, masked: `+82******${b}` };
}

/** The texts the server has sent to `e164` so far (deliveries.jsonl of HANDOFF_DATA). */
function textsTo(e164) {
  const file = `${DATA}/deliveries.jsonl`;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((d) => d.item?.kind === 'customer_sms' && d.item.to === e164).map((d) => d.item.text);
}

/** The code of the `n`-th text to `e164` (1-based), waiting for it to be written. */
async function codeFor(e164, n) {
  const text = await waitFor(() => textsTo(e164)[n - 1], `text #${n} to ${e164} in ${DATA}/deliveries.jsonl`);
  const m = /\b(\d{6})\b/.exec(text);
  assert.ok(m, `a 6-digit code in ${text}`);
  return m[1];
}

const isPost = (path) => (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(path);

/** How many message polls the page makes in `ms` milliseconds. */
async function pollsDuring(page, ms) {
  let n = 0;
  const count = (r) => { if (r.method() === 'GET' && /\/v1\/chat\/conversations\/[^/]+\/messages/.test(r.url())) n++; };
  page.on('request', count);
  await page.waitForTimeout(ms);
  page.off('request', count);
  return n;
}

const isChatPost = (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/chat/messages';

/** Types into the widget, presses Enter, returns the POST /v1/chat/messages response body. */
async function say(page, text) {
  const input = page.getByTestId('hf-input');
  await input.fill(text);
  const [res] = await Promise.all([page.waitForResponse(isChatPost), input.press('Enter')]);
  const req = JSON.parse(res.request().postData() || '{}');
  assert.equal(req.text, text);
  assert.match(String(req.client_message_id), /^[0-9a-f-]{36}$/i, 'each send carries a client_message_id (UUID)');
  assert.match(String(req.device_id), /^[A-Za-z0-9._:@-]{1,64}$/, 'each send carries a device_id');
  assert.equal(req.device_id, await page.evaluate((k) => localStorage.getItem(k), DEVICE_KEY), 'the device_id is the one kept in localStorage');
  const body = await res.json();
  assert.equal(res.status(), 200, `POST /v1/chat/messages -> ${res.status()} ${JSON.stringify(body)}`);
  return body;
}

/** [{from, id, text}] of the widget's rendered messages. */
const widgetMessages = (page) => page.getByTestId('hf-msg').evaluateAll((els) =>
  els.map((e) => ({ from: e.dataset.from, id: e.dataset.id || null, text: e.innerText })));

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}${name}.png` });
}

/** The widget panel must fit in the viewport and not scroll sideways. */
async function assertFits(page, width) {
  const box = await page.getByTestId('hf-panel').boundingBox();
  assert.ok(box, 'panel visible');
  assert.ok(box.x >= 0 && box.x + box.width <= width + 0.5, `panel ${JSON.stringify(box)} fits in ${width}px`);
  const overflow = await page.getByTestId('hf-panel').evaluate((p) => p.scrollWidth - p.clientWidth);
  assert.ok(overflow <= 0, `panel does not scroll sideways (overflow ${overflow}px)`);
}

/* ---------------- the story ---------------- */

test('serves the demo page, widget.js and console with the right content types', T, async () => {
  for (const [path, type] of [['/', /text\/html/], ['/widget.js', /javascript/], ['/console', /text\/html/]]) {
    const res = await fetch(BASE + path);
    assert.equal(res.status, 200, `GET ${path}`);
    assert.match(res.headers.get('content-type') || '', type, `content-type of ${path}`);
  }
  // widget.js holds Korean text and runs on pages of any encoding: it must say it is UTF-8
  assert.match((await fetch(BASE + '/widget.js')).headers.get('content-type'), /charset=utf-8/i, 'widget.js is served as UTF-8');
  // strict CSP: scripts from this origin or hashed, never 'unsafe-inline' (the console's
  // inline script runs by its hash; a wrong hash shows up as a console error below)
  for (const path of ['/', '/console']) {
    const csp = (await fetch(BASE + path)).headers.get('content-security-policy') || '';
    const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src')) || '';
    assert.match(scriptSrc, /^script-src 'self'/, `${path} CSP: ${csp}`);
    assert.ok(!scriptSrc.includes('unsafe-inline'), `${path} CSP allows no unhashed inline script: ${csp}`);
  }
  assert.match((await fetch(BASE + '/console')).headers.get('content-security-policy'), /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, 'console script allowed by hash');
  const demo = await (await fetch(BASE + '/')).text();
  assert.match(demo, /<script[^>]+src="\/widget\.js"/, 'demo page includes the widget');
});

test('customer (ko-KR) opens the widget and gets a bot answer to an FAQ', T, async () => {
  const { ctx, page } = await open('customer-ko', { allow: [/status of 400.*\/contact/] });
  S.customer = { ctx, page };
  await page.goto(BASE + '/');
  const launcher = page.getByTestId('hf-launcher');
  await launcher.click();
  await page.getByTestId('hf-panel').waitFor({ state: 'visible' });
  // keyboard: focus lands in the input, Escape closes and returns focus to the launcher, Enter reopens
  await waitFor(() => page.getByTestId('hf-input').evaluate((e) => e.getRootNode().activeElement === e), 'focus in the input');
  await page.keyboard.press('Escape');
  await page.getByTestId('hf-panel').waitFor({ state: 'hidden' });
  await waitFor(() => launcher.evaluate((e) => e.getRootNode().activeElement === e), 'focus back on the launcher');
  await page.keyboard.press('Enter');
  await page.getByTestId('hf-panel').waitFor({ state: 'visible' });
  assert.equal(await page.getByTestId('hf-input').getAttribute('placeholder'), '메시지를 입력하세요', 'Korean UI for ko-KR');

  const r = await say(page, KO_FAQ);
  S.koDevice = await page.evaluate((k) => localStorage.getItem(k), DEVICE_KEY);
  assert.ok(r.conversation_id && r.token, 'a new conversation with a token');
  assert.equal(r.status, 'bot');
  S.cid = r.conversation_id;
  const bot = r.replies.find((m) => m.from === 'bot');
  assert.ok(bot, `a bot reply to "${KO_FAQ}": ${JSON.stringify(r.replies)}`);
  assert.ok(bot.faq_id, `"${KO_FAQ}" matched an FAQ: ${JSON.stringify(bot)}`);
  const shown = page.locator('[data-testid="hf-msg"][data-from="bot"]').filter({ hasText: bot.text.split('\n')[0].slice(0, 30) });
  await shown.first().waitFor();
  await waitFor(async () => (await page.getByTestId('hf-live').innerText()).includes(bot.text.split('\n')[0].slice(0, 20)),
    'the bot answer announced in the aria-live region');
  // after a poll has merged the server's copy, the customer's own message is shown exactly once
  await page.waitForTimeout(2500);
  const mine = (await widgetMessages(page)).filter((m) => m.from === 'customer');
  assert.equal(mine.length, 1, `customer message shown once: ${JSON.stringify(mine)}`);
  assert.ok(mine[0].id, 'customer message reconciled with the server copy');
});

test('customer asks for a person and sees the queued notice and honest status', T, async () => {
  const { page } = S.customer;
  const r = await say(page, KO_HUMAN);
  assert.equal(r.status, 'queued', `"${KO_HUMAN}" queues the conversation: ${JSON.stringify(r)}`);
  assert.ok(r.queue, 'queued response carries a queue object');
  for (const k of ['position', 'estimated_wait_seconds', 'open_now', 'opens_at', 'agents_online', 'basis']) assert.ok(k in r.queue, `queue.${k} present: ${JSON.stringify(r.queue)}`);
  S.waitBasis = r.queue.basis;
  // Never a made-up figure: no estimate while nobody is online.
  if (r.queue.basis === 'no_agents_online') assert.equal(r.queue.estimated_wait_seconds, null, JSON.stringify(r.queue));
  const sys = r.replies.find((m) => m.from === 'system');
  assert.ok(sys, `a system notice marks the handoff: ${JSON.stringify(r.replies)}`);
  await page.locator('[data-testid="hf-msg"][data-from="system"]').first().waitFor();
  const status = page.getByTestId('hf-status');
  await status.waitFor({ state: 'visible' });
  const line = await status.innerText();
  if (r.queue.open_now) assert.match(line, /상담원 연결을 기다리는 중/, line);
  else assert.match(line, /상담 시간이 아니에요/, line);
  // continue by SMS: a bad number is rejected with a clear error
  await page.getByTestId('hf-sms').click();
  await page.getByTestId('hf-phone').fill('123');
  await page.waitForTimeout(2000); // a poll or two must not wipe what is being typed
  assert.equal(await page.getByTestId('hf-phone').inputValue(), '123', 'phone input survives polling');
  const [res] = await Promise.all([
    page.waitForResponse((x) => x.url().endsWith('/contact')),
    page.getByTestId('hf-sms-send').click(),
  ]);
  assert.equal(res.status(), 400, 'a bad phone number is rejected');
  assert.equal((await res.json()).error?.code, 'invalid_phone');
  await waitFor(async () => /전화번호 형식/.test(await page.getByTestId('hf-sms-error').innerText()), 'invalid phone error shown');
  await shot(page, 'widget-desktop-queued');
});

test('the console keeps the agent online, and the waiting customer sees who is working', T, async () => {
  const { ctx, page } = await open('agent-presence', { locale: 'ko-KR', viewport: { width: 390, height: 844 }, mobile: true });
  await signIn(page, TOKEN_A);
  const btn = page.getByTestId('console-presence');
  await btn.waitFor({ state: 'visible' });
  await waitFor(async () => (await btn.getAttribute('data-status')) === 'online', 'online once signed in');
  assert.match(await btn.innerText(), /상담 중 · [1-9]\d*명 접속/, 'presence and the count shown');
  // The agent steps away with the button, then comes back.
  const [away] = await Promise.all([
    page.waitForResponse((x) => x.url().endsWith('/v1/agent/me/presence') && x.request().method() === 'PUT'),
    btn.click(),
  ]);
  assert.equal((await away.json()).status, 'away');
  await waitFor(async () => (await btn.getAttribute('data-status')) === 'away', 'away shown');
  await btn.click();
  await waitFor(async () => (await btn.getAttribute('data-status')) === 'online', 'online again');
  await shot(page, 'console-mobile-presence');
  // The waiting customer's status line follows the same facts (in agent hours).
  const status = S.customer.page.getByTestId('hf-status');
  if (S.waitBasis !== 'closed') {
    await waitFor(async () => /상담원 [1-9]\d*명 상담 중/.test(await status.innerText()), 'customer sees agents online', 20_000);
  } else {
    console.log('# note: outside agent hours; the customer is told the opening time instead');
    assert.match(await status.innerText(), /상담 시간이 아니에요/);
  }
  await ctx.close();
});

test('agent A sees the conversation on top of the queue, opens the packet, claims and replies', T, async () => {
  const { ctx, page } = await open('agent-a', { locale: 'ko-KR' });
  S.agent = { ctx, page };
  await signIn(page, TOKEN_A);
  await waitFor(async () => (await page.getByTestId('console-me').innerText()).includes(S.agentA), 'signed-in agent shown');
  const row = page.locator(`[data-testid="queue-item"][data-conversation-id="${S.cid}"]`);
  await row.waitFor();
  const q = await agentApi(TOKEN_A, 'GET', '/v1/agent/queue');
  const rank = (x) => [x.priority === 'high' ? 0 : 1, Date.parse(x.waiting_since)];
  for (let i = 1; i < q.queued.length; i++) {
    const [a, b] = [rank(q.queued[i - 1]), rank(q.queued[i])];
    assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]), `server queue sorted by priority then waiting time: ${JSON.stringify(q.queued)}`);
  }
  const shown = await page.locator('#queue [data-testid="queue-item"]').evaluateAll((els) => els.map((e) => e.dataset.conversationId));
  const others = q.queued.filter((x) => x.conversation_id !== S.cid);
  if (others.length === 0) assert.equal(shown[0], S.cid, 'our conversation is at the top of the queue');
  else console.log(`# note: queue holds ${others.length} older conversation(s) from an earlier run; checking order only`);
  assert.deepEqual(shown, q.queued.map((x) => x.conversation_id), 'console shows the queue in the server order');
  const item = q.queued.find((x) => x.conversation_id === S.cid);
  assert.ok(item?.summary, `queue item has a summary: ${JSON.stringify(item)}`);
  assert.ok((await row.innerText()).includes(item.summary), 'queue row shows the summary');
  await shot(page, 'console-desktop-queue');

  await row.click();
  const summary = page.getByTestId('packet-summary');
  await waitFor(async () => (await summary.innerText()) === item.summary, 'packet summary shown');
  const packet = await agentApi(TOKEN_A, 'GET', `/v1/agent/conversations/${S.cid}`);
  const msgs = page.getByTestId('packet-msg');
  await waitFor(async () => (await msgs.count()) === packet.transcript.length, `${packet.transcript.length} transcript messages`);
  const texts = await msgs.allInnerTexts();
  assert.ok(texts.some((x) => x.includes(KO_FAQ)) && texts.some((x) => x.includes(KO_HUMAN)), 'transcript has the customer messages');
  assert.ok(packet.bot_answers.length >= 1, 'packet lists the bot answers already given');

  await page.getByTestId('console-claim').click();
  const reply = page.getByTestId('console-reply');
  await waitFor(() => reply.isEnabled(), 'reply box enabled after claiming');
  await reply.fill(KO_REPLY);
  await page.getByTestId('console-send').click();
  await page.locator('[data-testid="packet-msg"][data-from="agent"]').filter({ hasText: KO_REPLY }).waitFor();
  await waitFor(async () => (await reply.inputValue()) === '', 'reply box cleared');
  await shot(page, 'console-desktop-packet');
});

test('customer sees the agent reply without reloading, and again after a reload', T, async () => {
  const { page } = S.customer;
  const agentMsg = page.locator('[data-testid="hf-msg"][data-from="agent"]').filter({ hasText: KO_REPLY });
  await agentMsg.waitFor({ timeout: 15_000 });
  await waitFor(async () => /상담원이 대화에 참여했어요/.test(await page.getByTestId('hf-status').innerText()), 'assigned status line');
  const before = await widgetMessages(page);
  assert.ok(before.every((m) => m.id), `every message reconciled with the server: ${JSON.stringify(before)}`);
  // polling: fast while the panel is open and a person is involved, backed off while closed
  const open = await pollsDuring(page, 4000);
  assert.ok(open >= 2, `polls about every 1.5 s while open and assigned (saw ${open} in 4 s)`);
  await page.getByTestId('hf-close').click();
  await page.waitForTimeout(300);
  const closed = await pollsDuring(page, 5000);
  assert.ok(closed <= 2, `backs off while the panel is closed (saw ${closed} in 5 s)`);
  await page.getByTestId('hf-launcher').click();
  await shot(page, 'widget-desktop-agent-reply');

  await page.reload();
  await page.getByTestId('hf-panel').waitFor({ state: 'visible' }); // it was open, so it reopens
  await agentMsg.waitFor();
  await waitFor(async () => (await widgetMessages(page)).length === before.length, `${before.length} messages after reload`);
  const afterReload = await widgetMessages(page);
  assert.deepEqual(afterReload.map((m) => [m.from, m.id]), before.map((m) => [m.from, m.id]), 'same conversation after reload');
});

test('agent B opens the same conversation and gets a conflict naming agent A', T, async () => {
  const { page } = await open('agent-b', { locale: 'en-US', allow: [/status of 409.*\/claim/] });
  await signIn(page, TOKEN_B);
  await waitFor(async () => (await page.getByTestId('console-me').innerText()).includes(S.agentB), 'agent B signed in');
  await page.goto(`${BASE}/console#c/${encodeURIComponent(S.cid)}`);
  await page.getByTestId('packet-summary').waitFor();
  await page.getByTestId('console-claim').click();
  const notice = page.getByTestId('console-notice');
  await notice.waitFor({ state: 'visible' });
  await waitFor(async () => (await notice.innerText()).includes(`Already claimed by ${S.agentA}`), `notice "Already claimed by ${S.agentA}"`);
  await page.setViewportSize(PHONE);
  await shot(page, 'console-phone-conflict');
});

test('widget fits phone screens (390 px and 320 px)', T, async () => {
  const storageState = await S.customer.ctx.storageState();
  for (const [w, h] of [[390, 844], [320, 640]]) {
    const { page } = await open(`customer-${w}`, { viewport: { width: w, height: h }, mobile: true, storageState });
    await page.goto(BASE + '/');
    await page.getByTestId('hf-panel').waitFor({ state: 'visible' }); // restored conversation, panel was open
    await page.locator('[data-testid="hf-msg"][data-from="agent"]').first().waitFor();
    await assertFits(page, w);
    const sendBox = await page.getByTestId('hf-send').boundingBox();
    assert.ok(sendBox && sendBox.x + sendBox.width <= w && sendBox.y + sendBox.height <= h, `send button on screen at ${w}px`);
    await shot(page, `widget-phone-${w}`);
    // closed state: the launcher is reachable
    await page.getByTestId('hf-close').click();
    await page.getByTestId('hf-launcher').waitFor({ state: 'visible' });
    if (w === 390) await shot(page, 'widget-phone-390-closed');
  }
});

test('console works on a 390 px phone: list and detail as stacked views', T, async () => {
  const { page } = await open('agent-a-phone', { viewport: PHONE, mobile: true });
  await signIn(page, TOKEN_A);
  const row = page.locator(`#mine [data-testid="queue-item"][data-conversation-id="${S.cid}"]`);
  await row.waitFor();
  await shot(page, 'console-phone-list');
  await row.click();
  await page.getByTestId('packet-summary').waitFor({ state: 'visible' });
  assert.equal(await row.isVisible(), false, 'list is hidden while the detail view is shown');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scrolling (scrollWidth ${width})`);
  await shot(page, 'console-phone-packet');
  await page.getByTestId('console-back').click();
  await row.waitFor({ state: 'visible' });
  // going back and forth must not multiply the 3-second refresh
  for (let i = 0; i < 3; i++) {
    await row.click();
    await page.getByTestId('packet-summary').waitFor({ state: 'visible' });
    await page.getByTestId('console-back').click();
    await row.waitFor({ state: 'visible' });
  }
  let n = 0;
  const count = (r) => { if (new URL(r.url()).pathname === '/v1/agent/queue') n++; };
  page.on('request', count);
  await page.waitForTimeout(6500);
  page.off('request', count);
  assert.ok(n >= 1 && n <= 3, `queue refreshes about every 3 s (saw ${n} in 6.5 s)`);
});

test('English customer: FAQ (response lost once, retried), handoff, SMS contact; agent hands back to the bot', T, async () => {
  const { page } = await open('customer-en', { locale: 'en-US', allow: [/ERR_CONNECTION_RESET|ERR_FAILED/, /status of 400.*\/contact\/verify/] });
  await page.goto(BASE + '/');
  await page.getByTestId('hf-launcher').click();
  assert.equal(await page.getByTestId('hf-input').getAttribute('placeholder'), 'Type a message', 'English UI for en-US');

  // The first send reaches the server but its response is lost: the widget retries with the same
  // client_message_id, and the server must not create a second message (or a second conversation).
  const sent = [];
  let lost = null;
  await page.route('**/v1/chat/messages', async (route) => {
    sent.push(JSON.parse(route.request().postData() || '{}'));
    if (sent.length === 1) {
      const upstream = await route.fetch();
      lost = await upstream.json();
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  const FAQ_EN = 'How much is shipping?';
  await page.getByTestId('hf-input').fill(FAQ_EN);
  const [res1] = await Promise.all([page.waitForResponse((r) => isChatPost(r) && r.status() === 200), page.getByTestId('hf-input').press('Enter')]);
  const r1 = await res1.json();
  await page.unroute('**/v1/chat/messages');
  assert.equal(sent.length, 2, 'one retry after the lost response');
  assert.equal(sent[1].client_message_id, sent[0].client_message_id, 'the retry reuses the client_message_id');
  assert.equal(sent[1].device_id, sent[0].device_id, 'and the device_id');
  assert.ok(sent[0].device_id && sent[0].device_id !== S.koDevice, `each browser has its own device_id (${sent[0].device_id} vs ${S.koDevice})`);
  assert.equal(r1.conversation_id, lost.conversation_id, 'the retry lands in the same conversation');
  const bot = r1.replies.find((m) => m.from === 'bot');
  assert.ok(bot?.faq_id, `English FAQ matched: ${JSON.stringify(r1.replies)}`);
  await page.locator('[data-testid="hf-msg"][data-from="bot"]').first().waitFor();
  const hist = await (await fetch(`${BASE}/v1/chat/conversations/${r1.conversation_id}/messages`, { headers: { authorization: `Bearer ${r1.token}` } })).json();
  assert.equal(hist.messages.filter((m) => m.from === 'customer' && m.text === FAQ_EN).length, 1, `message stored once: ${JSON.stringify(hist.messages)}`);
  await page.waitForTimeout(2000);
  assert.equal((await widgetMessages(page)).filter((m) => m.from === 'customer').length, 1, 'and shown once');
  const r2 = await say(page, 'I would like to talk to a person, please');
  assert.equal(r2.status, 'queued', `English handoff request queues: ${JSON.stringify(r2)}`);
  const status = page.getByTestId('hf-status');
  await status.waitFor({ state: 'visible' });
  assert.match(await status.innerText(), r2.queue?.open_now ? /Waiting for a person/ : /offline/);
  // continue by SMS: the number gets a code, a wrong code is refused, the right one links it
  const phone = randomPhone();
  await page.getByTestId('hf-sms').click();
  await page.getByTestId('hf-phone').fill(phone.typed);
  const [res] = await Promise.all([page.waitForResponse(isPost('/contact')), page.getByTestId('hf-sms-send').click()]);
  assert.equal(res.status(), 202, `contact accepted: ${await res.text()}`);
  assert.deepEqual(await res.json(), { verification: 'sent' });
  const codeInput = page.getByTestId('hf-code');
  await codeInput.waitFor();
  assert.equal(await codeInput.getAttribute('inputmode'), 'numeric');
  assert.equal(await codeInput.getAttribute('autocomplete'), 'one-time-code');
  assert.ok(await codeInput.evaluate((e) => e.getRootNode().activeElement === e), 'focus moves to the code input');
  assert.ok((await page.getByTestId('hf-code-hint').innerText()).includes(phone.masked), 'the code step names the masked number');
  const code = await codeFor(phone.e164, 1);
  const wrong = String((Number(code) + 1) % 1e6).padStart(6, '0');
  await codeInput.fill(wrong);
  const [bad] = await Promise.all([page.waitForResponse(isPost('/contact/verify')), page.getByTestId('hf-code-send').click()]);
  assert.equal(bad.status(), 400);
  assert.equal((await bad.json()).error?.code, 'code_invalid');
  await waitFor(async () => /That code is not right\. 4 tries left\./.test(await page.getByTestId('hf-code-error').innerText()), 'wrong-code error with the tries left');
  assert.equal(await page.getByTestId('hf-sms-ok').count(), 0, 'not linked after a wrong code');
  await codeInput.fill(code);
  const [good] = await Promise.all([page.waitForResponse(isPost('/contact/verify')), page.getByTestId('hf-code-send').click()]);
  assert.equal(good.status(), 200, `right code: ${await good.text()}`);
  assert.equal((await good.json()).phone_verified, true);
  const okText = await waitFor(async () => { const x = await page.getByTestId('hf-sms-ok').innerText(); return x.includes(phone.masked) && x; }, 'confirmation with the masked number');
  assert.ok(!okText.includes(phone.e164.slice(5, 9)), `the middle digits are hidden: ${okText}`);
  assert.equal(await page.getByTestId('hf-code').count(), 0, 'the code step is gone');
  await shot(page, 'widget-desktop-en-queued');

  // agent A claims it and hands it back to the bot; the customer's status line goes away
  const agent = S.agent.page;
  await agent.goto(`${BASE}/console#c/${encodeURIComponent(r2.conversation_id)}`);
  await agent.reload(); // hash-only navigation: make sure the page routes from scratch
  await agent.getByTestId('packet-summary').waitFor();
  await agent.getByTestId('console-claim').click();
  await agent.getByTestId('console-release').waitFor({ state: 'visible' });
  await agent.getByTestId('console-release').click();
  await waitFor(async () => (await agentApi(TOKEN_A, 'GET', `/v1/agent/conversations/${r2.conversation_id}`)).status === 'bot', 'released to the bot');
  await status.waitFor({ state: 'hidden', timeout: 35_000 });
});

test('Korean customer on a 390 px phone: the code step, new codes up to the hourly cap, a polite 429, then verified', T, async () => {
  const { page } = await open('customer-ko-code', { viewport: PHONE, mobile: true, allow: [/status of 429.*\/contact/, /status of 400.*\/contact\/verify/] });
  await page.goto(BASE + '/');
  await page.getByTestId('hf-launcher').click();
  const r = await say(page, KO_HUMAN);
  assert.equal(r.status, 'queued');
  const phone = randomPhone();
  await page.getByTestId('hf-sms').click();
  await page.getByTestId('hf-phone').fill(phone.typed);
  const [res] = await Promise.all([page.waitForResponse(isPost('/contact')), page.getByTestId('hf-sms-send').click()]);
  assert.equal(res.status(), 202);
  const codeInput = page.getByTestId('hf-code');
  await codeInput.waitFor();
  assert.match(await page.getByTestId('hf-code-hint').innerText(), /인증번호 6자리를 보냈어요/);
  assert.ok((await page.getByTestId('hf-code-hint').innerText()).includes(phone.masked));
  await assertFits(page, PHONE.width);
  for (const id of ['hf-code', 'hf-code-send', 'hf-code-resend']) {
    const b = await page.getByTestId(id).boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= PHONE.width && b.y + b.height <= PHONE.height, `${id} on screen at 390 px: ${JSON.stringify(b)}`);
  }
  await shot(page, 'widget-phone-390-code');

  // only digits go in; fewer than 6 is caught before any request
  let verifies = 0;
  const countVerify = (q) => { if (q.method() === 'POST' && q.url().endsWith('/contact/verify')) verifies++; };
  page.on('request', countVerify);
  await codeInput.pressSequentially('12a3');
  assert.equal(await codeInput.inputValue(), '123', 'letters are dropped');
  await page.getByTestId('hf-code-send').click();
  await waitFor(async () => /숫자 6자리/.test(await page.getByTestId('hf-code-error').innerText()), 'short-code error');
  await page.waitForTimeout(2000); // a poll or two must not wipe what is being typed
  page.off('request', countVerify);
  assert.equal(verifies, 0, 'a short code is not sent');
  assert.equal(await codeInput.inputValue(), '123', 'the code input survives polling');
  await shot(page, 'widget-phone-390-code-error');

  // five wrong codes kill the first code; each answer is said plainly
  const first = await codeFor(phone.e164, 1);
  const wrong = String((Number(first) + 1) % 1e6).padStart(6, '0');
  for (let left = 4; left >= 0; left--) {
    await codeInput.fill(wrong);
    const [bad] = await Promise.all([page.waitForResponse(isPost('/contact/verify')), page.getByTestId('hf-code-send').click()]);
    assert.equal(bad.status(), 400);
    const want = left > 0 ? new RegExp(`인증번호가 맞지 않아요\\. ${left}번 더`) : /잘못 입력한 횟수가 너무 많아요/;
    assert.equal((await bad.json()).error?.code, left > 0 ? 'code_invalid' : 'code_dead');
    await waitFor(async () => want.test(await page.getByTestId('hf-code-error').innerText()), `error ${want}`);
  }
  await codeInput.fill(first);
  const [dead] = await Promise.all([page.waitForResponse(isPost('/contact/verify')), page.getByTestId('hf-code-send').click()]);
  assert.equal((await dead.json()).error?.code, 'code_dead', 'a dead code stays dead, even the right one');

  // "send a new code": the 2nd and 3rd codes of the hour arrive; the 4th is refused politely
  for (const n of [2, 3]) {
    const [again] = await Promise.all([page.waitForResponse(isPost('/contact')), page.getByTestId('hf-code-resend').click()]);
    assert.equal(again.status(), 202, `code #${n}`);
    await waitFor(async () => /새 인증번호를 보냈어요/.test(await page.getByTestId('hf-code-info').innerText()), `"new code sent" #${n}`);
    assert.equal(await page.getByTestId('hf-code-error').innerText(), '', 'the old error is cleared');
  }
  const third = await codeFor(phone.e164, 3);
  const [over] = await Promise.all([page.waitForResponse(isPost('/contact')), page.getByTestId('hf-code-resend').click()]);
  assert.equal(over.status(), 429, 'a 4th code within the hour is refused');
  assert.equal((await over.json()).error?.code, 'rate_limited');
  assert.ok(Number(over.headers()['retry-after']) > 0, 'with Retry-After');
  const limitText = await waitFor(async () => { const x = await page.getByTestId('hf-code-error').innerText(); return /요청이 많아 잠시 쉬어 가요/.test(x) && x; }, 'polite rate-limit message');
  assert.doesNotMatch(limitText, /429|HTTP|rate/i, `no raw error: ${limitText}`);
  assert.equal(textsTo(phone.e164).length, 3, 'no 4th text was sent');

  // the newest code still links the number
  await codeInput.fill(third);
  const [good] = await Promise.all([page.waitForResponse(isPost('/contact/verify')), page.getByTestId('hf-code-send').click()]);
  assert.equal(good.status(), 200, `verify: ${await good.text()}`);
  await waitFor(async () => (await page.getByTestId('hf-sms-ok').innerText()).includes(phone.masked), 'masked number confirmed');
  await shot(page, 'widget-phone-390-verified');
  // leave the queue clean
  await agentApi(TOKEN_A, 'POST', `/v1/agent/conversations/${r.conversation_id}/claim`);
  await agentApi(TOKEN_A, 'POST', `/v1/agent/conversations/${r.conversation_id}/resolve`);
});

test('a send over a per-browser limit gets a polite message and no automatic retries', T, async () => {
  // use up one browser's allowance of new conversations through the API
  const device = `limit-${Date.now()}`;
  let res;
  for (let i = 0; i < 20; i++) {
    res = await fetch(`${BASE}/v1/chat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `${KO_FAQ} ${i}`, device_id: device }) });
    if (res.status === 429) break;
    assert.equal(res.status, 200, `setup message ${i}: ${await res.text()}`);
  }
  assert.equal(res.status, 429, 'the per-browser limit on new conversations is reached');
  const { ctx, page } = await open('customer-limited', { allow: [/status of 429.*\/v1\/chat\/messages/] });
  await ctx.addInitScript(([k, d]) => localStorage.setItem(k, d), [DEVICE_KEY, device]);
  await page.goto(BASE + '/');
  await page.getByTestId('hf-launcher').click();
  let posts = 0;
  page.on('request', (q) => { if (q.method() === 'POST' && new URL(q.url()).pathname === '/v1/chat/messages') posts++; });
  await page.getByTestId('hf-input').fill(KO_FAQ);
  const [limited] = await Promise.all([page.waitForResponse(isChatPost), page.getByTestId('hf-input').press('Enter')]);
  assert.equal(limited.status(), 429);
  assert.equal(JSON.parse(limited.request().postData()).device_id, device, 'the stored device_id is sent');
  const msg = await waitFor(async () => { const x = await page.getByTestId('hf-error').innerText(); return /요청이 많아 잠시 쉬어 가요/.test(x) && x; }, 'polite message');
  assert.doesNotMatch(msg, /429|HTTP|rate/i, `no raw error: ${msg}`);
  await page.getByTestId('hf-retry').waitFor();
  await page.waitForTimeout(3000);
  assert.equal(posts, 1, 'a 429 is not retried behind the customer\'s back');
});

test('console pages the queue: "Load more" on a 390 px phone appends the next page', T, async () => {
  const made = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${BASE}/v1/chat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: KO_HUMAN, device_id: `pager-${Date.now()}-${i}` }) });
    const j = await res.json();
    assert.equal(res.status, 200, JSON.stringify(j));
    assert.equal(j.status, 'queued');
    made.push(j.conversation_id);
  }
  const all = (await agentApi(TOKEN_A, 'GET', '/v1/agent/queue')).queued.map((x) => x.conversation_id);
  assert.ok(all.length >= 3, `at least 3 waiting: ${all.length}`);
  const { page } = await open('agent-a-pages', { viewport: PHONE, mobile: true, locale: 'en-US' });
  const calls = [];
  page.on('request', (q) => { const u = new URL(q.url()); if (u.pathname === '/v1/agent/queue') calls.push(u.searchParams); });
  await signIn(page, TOKEN_A, '/console?page_size=2');
  const rows = page.locator('#queue [data-testid="queue-item"]');
  const more = page.getByTestId('queue-more');
  await more.waitFor({ state: 'visible' });
  assert.equal(await rows.count(), 2, 'a first page of 2');
  assert.ok(calls.some((q) => q.get('limit') === '2' && !q.get('cursor')), 'asks for pages of 2');
  assert.equal(await page.getByTestId('queue-count').innerText(), '2+', 'the count says there is more');
  const box = await more.boundingBox();
  assert.ok(box.height >= 44 && box.x >= 0 && box.x + box.width <= PHONE.width, `a thumb-sized button: ${JSON.stringify(box)}`);
  await shot(page, 'console-phone-load-more');
  for (let pages = 2; await more.isVisible(); pages++) {
    assert.ok(pages < 200, 'load more ends');
    await more.click();
    const want = Math.min(2 * pages, all.length);
    await waitFor(async () => (await rows.count()) >= want, `${want} rows after page ${pages}`);
  }
  assert.ok(calls.some((q) => q.get('limit') === '2' && q.get('cursor')), 'next pages are asked by cursor');
  const shown = await rows.evaluateAll((els) => els.map((e) => e.dataset.conversationId));
  assert.deepEqual(shown.slice().sort(), all.slice().sort(), 'every waiting conversation is listed once');
  for (const id of made) assert.ok(shown.includes(id), `${id} listed`);
  assert.equal(await page.getByTestId('queue-count').innerText(), String(all.length));
  // the 3-second refresh keeps every opened page
  await page.waitForTimeout(3500);
  assert.equal(await rows.count(), all.length, 'the opened pages stay after a refresh');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scrolling (scrollWidth ${width})`);
  for (const id of made) {
    await agentApi(TOKEN_A, 'POST', `/v1/agent/conversations/${id}/claim`);
    await agentApi(TOKEN_A, 'POST', `/v1/agent/conversations/${id}/resolve`);
  }
});

test('agent A resolves the Korean conversation; the customer sees it closed', T, async () => {
  const agent = S.agent.page;
  await agent.goto(`${BASE}/console#c/${encodeURIComponent(S.cid)}`);
  await agent.reload();
  await agent.getByTestId('packet-summary').waitFor();
  await agent.getByTestId('console-resolve').click();
  await waitFor(async () => (await agentApi(TOKEN_A, 'GET', `/v1/agent/conversations/${S.cid}`)).status === 'resolved', 'resolved');
  const { page } = S.customer;
  await waitFor(async () => /상담이 종료되었어요/.test(await page.getByTestId('hf-status').innerText()), 'customer sees the conversation closed', 20_000);
  const after = await pollsDuring(page, 4000);
  assert.ok(after <= 1, `polling stops once resolved (saw ${after} in 4 s)`);
});

test('customer can cancel the request for a person', T, async () => {
  const { page } = await open('customer-withdraw', { locale: 'ko-KR' });
  await page.goto(BASE + '/');
  await page.getByTestId('hf-launcher').click();
  const r = await say(page, KO_HUMAN);
  assert.equal(r.status, 'queued');
  await page.getByTestId('hf-status').waitFor({ state: 'visible' });
  const [res] = await Promise.all([page.waitForResponse((x) => x.url().endsWith('/withdraw')), page.getByTestId('hf-withdraw').click()]);
  assert.equal(res.status(), 200, `withdraw -> ${res.status()} ${await res.text()}`);
  assert.equal((await res.json()).status, 'bot');
  await page.getByTestId('hf-status').waitFor({ state: 'hidden' });
  const hist = await (await fetch(`${BASE}/v1/chat/conversations/${r.conversation_id}/messages`, { headers: { authorization: `Bearer ${r.token}` } })).json();
  assert.equal(hist.status, 'bot');
  const q = await agentApi(TOKEN_A, 'GET', '/v1/agent/queue');
  assert.ok(!q.queued.some((x) => x.conversation_id === r.conversation_id), 'no longer in the queue');
});

test('console: a bad token is refused, a stale stored one leads back to sign-in, sign-out forgets it', T, async () => {
  const { ctx, page } = await open('agent-bad-token', { locale: 'en-US', allow: [/status of 401/] });
  await signIn(page, 'not-a-token');
  await waitFor(async () => /not valid/.test(await page.getByTestId('console-notice').innerText()), 'bad-token notice');
  assert.ok(await page.getByTestId('console-token').isVisible(), 'still on the sign-in form');

  await ctx.addInitScript(() => sessionStorage.setItem('handoff:console:token', 'stale.jwt.value'));
  await page.goto(BASE + '/console');
  await page.getByTestId('console-token').waitFor({ state: 'visible' });
  await page.getByTestId('console-notice').waitFor({ state: 'visible' });

  const fresh = await open('agent-signout', { locale: 'en-US' });
  await signIn(fresh.page, TOKEN_A);
  await waitFor(async () => (await fresh.page.getByTestId('console-me').innerText()).includes(S.agentA), 'signed in');
  await fresh.page.reload(); // the token is kept across reloads
  await waitFor(async () => (await fresh.page.getByTestId('console-me').innerText()).includes(S.agentA), 'still signed in after reload');
  await fresh.page.getByTestId('console-signout').click();
  await fresh.page.getByTestId('console-token').waitFor({ state: 'visible' });
  assert.equal(await fresh.page.evaluate(() => sessionStorage.getItem('handoff:console:token')), null, 'sign-out forgets the token');
});

test('console lists high priority first with a red badge', T, async () => {
  const post = async (text) => {
    const res = await fetch(`${BASE}/v1/chat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    assert.equal(res.status, 200);
    return res.json();
  };
  const normal = await post('상담원 연결해주세요');
  const high = await post('결제가 두 번 됐어요. 확인해 주세요'); // charged twice: high priority
  assert.equal(high.status, 'queued', `a double charge goes to a person: ${JSON.stringify(high)}`);
  const { page } = await open('agent-a-priority', { locale: 'en-US' });
  await signIn(page, TOKEN_A);
  const items = page.locator('#queue [data-testid="queue-item"]');
  await page.locator(`#queue [data-conversation-id="${normal.conversation_id}"]`).waitFor();
  await page.locator(`#queue [data-conversation-id="${high.conversation_id}"]`).waitFor();
  assert.equal(await items.first().getAttribute('data-conversation-id'), high.conversation_id, 'high priority is listed first');
  const badge = items.first().getByTestId('priority');
  assert.equal(await badge.innerText(), 'High');
  const [r, g, b] = (await badge.evaluate((e) => getComputedStyle(e).backgroundColor)).match(/\d+/g).map(Number);
  assert.ok(r > 150 && g < 80 && b < 80, `high badge is red (rgb ${r},${g},${b})`);
  await shot(page, 'console-desktop-priority');
  // leave the queue clean
  for (const c of [normal, high]) {
    await agentApi(TOKEN_A, 'POST', `/v1/agent/conversations/${c.conversation_id}/claim`);
    await agentApi(TOKEN_A, 'POST', `/v1/agent/conversations/${c.conversation_id}/resolve`);
  }
});

test('widget embeds on another origin (CORS) and ignores the host page\'s CSS', T, async () => {
  // A shop page on another loopback port with hostile global CSS and no data-api: the API is where widget.js came from.
  const html = '<!doctype html><html><head><link rel="icon" href="data:,"><style>*{font-family:"Comic Sans MS"!important;color:red!important;' +
    'line-height:3!important;letter-spacing:3px!important} button,textarea{padding:40px!important;background:yellow!important} div{border:5px solid lime!important}</style></head>' +
    `<body><h1>Another shop</h1><script src="${BASE}/widget.js" data-business="Another Shop" async></script></body></html>`;
  const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(html); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const shop = `http://127.0.0.1:${server.address().port}/`;
    assert.notEqual(new URL(shop).origin, new URL(BASE).origin);
    const { page } = await open('customer-cross-origin', { locale: 'en-US' });
    await page.goto(shop);
    await page.getByTestId('hf-launcher').click();
    const r1 = await say(page, 'How much is shipping?');
    const r2 = await say(page, 'What are your opening hours?'); // carries the conversation token: a preflighted request
    assert.equal(r2.conversation_id, r1.conversation_id);
    assert.equal(r2.status, 'bot', `a second, different FAQ stays with the bot: ${JSON.stringify(r2)}`);
    await waitFor(async () => (await page.locator('[data-testid="hf-msg"][data-from="bot"]').count()) >= 1, 'bot answers on the other origin');
    const send = await page.getByTestId('hf-send').evaluate((e) => { const s = getComputedStyle(e); return { bg: s.backgroundColor, pad: s.paddingTop, color: s.color, ls: s.letterSpacing }; });
    assert.notEqual(send.bg, 'rgb(255, 255, 0)', 'host button styles do not leak in');
    assert.notEqual(send.pad, '40px');
    assert.notEqual(send.color, 'rgb(255, 0, 0)');
    const hostBorder = await page.locator('#handoff-widget').evaluate((e) => getComputedStyle(e).borderTopWidth);
    assert.equal(hostBorder, '0px', 'the host element is not styled by the page');
    await shot(page, 'widget-cross-origin');
  } finally {
    server.close();
  }
});

test('no console errors on any page', T, () => {
  assert.deepEqual(consoleProblems, []);
});
