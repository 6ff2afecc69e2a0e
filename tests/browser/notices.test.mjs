// Browser test of proactive notices (issue 13 §4): a web customer chats in the widget
// and leaves; a supervisor on a phone sends a notice from the console's form to that
// customer's id; the customer comes back and the widget shows the notice. An agent
// does not see the form, and the route refuses them. (Texts to phones and the quiet
// hours are covered over HTTP in tests/tests/notices.rs, on a clock the test moves.)
//   HANDOFF_URL, AGENT_TOKEN_A and AGENT_TOKEN_SUP as for credits.test.mjs.
// Run: node --test tests/browser/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN_A, TOKEN_SUP, SHOTS, T, PHONE, useBrowser, api, signIn, send } from './harness.mjs';

const SUFFIX = Math.random().toString(36).slice(2, 8);
const NOTICE_KO = `이번 주는 배송이 하루 늦어요. 죄송합니다 (${SUFFIX}).`;

// Phones by default: these pages are used on one.
const { newPage: open, problems } = useBrowser({
  env: ['HANDOFF_URL', 'AGENT_TOKEN_A', 'AGENT_TOKEN_SUP'], defaults: { viewport: PHONE, mobile: true },
});

const signInConsole = (page, token) => signIn(page, token, '/console', { ready: 'queue-list' });

test('a supervisor on a phone sends a notice and the web customer sees it on coming back', T, async () => {
  // The customer asks something and closes the page.
  const customer = await open('customer');
  await customer.goto(BASE + '/');
  await customer.getByTestId('hf-launcher').click();
  const first = await send(customer, '배송비 얼마예요?');
  const packet = await api(TOKEN_SUP, 'GET', `/v1/agent/conversations/${first.conversation_id}`);
  const customerId = packet.body.customer.customer_id;
  assert.ok(customerId, JSON.stringify(packet.body));
  await customer.goto('about:blank');

  // The supervisor sends the notice from the console.
  const page = await open('supervisor');
  await signInConsole(page, TOKEN_SUP);
  const box = page.getByTestId('notice-box');
  await box.locator('summary').click();
  await page.getByTestId('notice-to').fill(customerId);
  await page.getByTestId('notice-ko').fill(NOTICE_KO);
  await page.getByTestId('notice-en').fill(`Deliveries are a day late this week (${SUFFIX}).`);
  await page.getByTestId('notice-send').click();
  await page.getByTestId('notice-result').filter({ hasText: /보냄 1/ }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the console does not scroll sideways (overflow ${overflow}px)`);
  await page.screenshot({ path: `${SHOTS}notice-console-phone.png` });

  // The customer comes back: the widget loads the conversation with the notice in it.
  await customer.goto(BASE + '/');
  const panel = customer.getByTestId('hf-panel');
  if (!(await panel.isVisible())) await customer.getByTestId('hf-launcher').click();
  await customer.locator('[data-testid="hf-msg"]').filter({ hasText: SUFFIX }).waitFor({ timeout: 20_000 });
  await customer.screenshot({ path: `${SHOTS}notice-widget.png` });
});

test('an agent has no notice form and the route refuses them', T, async () => {
  const page = await open('agent');
  await signInConsole(page, TOKEN_A);
  assert.equal(await page.getByTestId('notice-box').isVisible(), false, 'no form for agents');
  const r = await api(TOKEN_A, 'POST', '/v1/agent/notices', {
    customer_ids: ['u_nobody'], text: { ko: '안녕하세요' }, request_id: `agent-${SUFFIX}`,
  });
  assert.equal(r.status, 403, JSON.stringify(r.body));
});

test('the notice pages logged no errors', () => {
  assert.deepEqual(problems, []);
});
