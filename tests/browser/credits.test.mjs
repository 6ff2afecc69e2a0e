// Browser test of the console's tools (issue 11 §1 and §4): an agent grants a credit,
// asks for a bigger one that a supervisor approves on a phone, leaves a note, sends a
// canned answer and transfers the conversation; the customer's widget shows the credit
// messages and the canned answer, never the note.
//   HANDOFF_URL, AGENT_TOKEN_A, AGENT_TOKEN_B as for handoff.test.mjs, and
//   AGENT_TOKEN_SUP a supervisor's JWT (`handoff token sup-1 --supervisor --data ...`).
// Run: node --test tests/browser/
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN_A, TOKEN_B, TOKEN_SUP, SHOTS, T, PHONE, useBrowser, apiOk as api, waitFor, signIn } from './harness.mjs';

const NOTE = '단골 고객: 지난주에도 파손 건 있었음';

const S = {};

// Desktops by default (the agent's console); the supervisor's steps pass a phone.
const { newPage: open, problems } = useBrowser({ env: ['HANDOFF_URL', 'AGENT_TOKEN_A', 'AGENT_TOKEN_B', 'AGENT_TOKEN_SUP'] });

before(async () => {
  S.agentA = (await api(TOKEN_A, 'GET', '/v1/agent/me')).agent_id;
  S.agentB = (await api(TOKEN_B, 'GET', '/v1/agent/me')).agent_id;
  const sup = await api(TOKEN_SUP, 'GET', '/v1/agent/me');
  assert.equal(sup.supervisor, true, 'AGENT_TOKEN_SUP is a supervisor');
  S.limit = sup.credit_limit;
  S.currency = sup.credit_currency;
});


/** The texts the widget shows. */
const widgetTexts = (page) => page.getByTestId('hf-msg').allInnerTexts();

const won = (n) => `${n.toLocaleString('en-US')} ${S.currency}`;

test('customer asks for a person in the widget; agent A claims it in the console', T, async () => {
  const customer = await open('customer');
  S.customer = customer;
  await customer.goto(BASE + '/');
  await customer.getByTestId('hf-launcher').click();
  const input = customer.getByTestId('hf-input');
  await input.fill('택배 상자가 찢어져서 왔어요. 상담원 연결해 주세요');
  const [res] = await Promise.all([
    customer.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/chat/messages'),
    input.press('Enter'),
  ]);
  const body = await res.json();
  assert.equal(body.status, 'queued', JSON.stringify(body));
  S.cid = body.conversation_id;

  const agent = await open('agent-a');
  S.agent = agent;
  await signIn(agent, TOKEN_A, `/console#c/${S.cid}`);
  await agent.getByTestId('console-claim').click();
  await waitFor(() => agent.getByTestId('console-reply').isEnabled(), 'claimed');
});

test('agent A grants a credit within the limit; the customer is told', T, async () => {
  const page = S.agent;
  const amount = Math.min(20_000, S.limit);
  await page.getByTestId('credit-amount').fill(String(amount));
  await page.getByTestId('credit-reason').fill('상자 파손');
  await page.getByTestId('credit-grant').click();
  const item = page.locator('[data-testid="packet-credits"] [data-testid="credit-item"]');
  await waitFor(async () => (await item.count()) === 1 && (await item.first().getAttribute('data-status')) === 'granted', 'a granted credit in the packet');
  assert.match(await item.first().innerText(), /상자 파손/);
  await waitFor(async () => (await widgetTexts(S.customer)).some((t) => t.includes(won(amount)) && t.includes('지급')), 'the customer sees the credit');
});

test('a credit above the limit waits; a supervisor on a phone approves it; the customer hears both', T, async () => {
  const page = S.agent;
  const amount = S.limit + 20_000;
  await page.getByTestId('credit-amount').fill(String(amount));
  await page.getByTestId('credit-reason').fill('제품 전체 교환 필요');
  await page.getByTestId('credit-grant').click();
  const pending = page.locator('[data-testid="packet-credits"] [data-testid="credit-item"][data-status="pending_approval"]');
  await pending.waitFor();
  S.pendingId = await pending.getAttribute('data-id');
  await waitFor(async () => (await widgetTexts(S.customer)).some((t) => t.includes(won(amount)) && t.includes('승인 후')), 'the customer hears it is pending');

  const sup = await open('supervisor-phone', { viewport: PHONE, mobile: true });
  await signIn(sup, TOKEN_SUP);
  const row = sup.locator(`[data-testid="pending-credits"] [data-testid="credit-item"][data-id="${S.pendingId}"]`);
  await row.waitFor();
  const width = await sup.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scrolling on a phone (scrollWidth ${width})`);
  await sup.screenshot({ path: `${SHOTS}console-phone-pending-credit.png` });
  await row.getByTestId('credit-approve').click();
  await row.waitFor({ state: 'detached' });
  const packet = await api(TOKEN_A, 'GET', `/v1/agent/conversations/${S.cid}`);
  const c = packet.credits.find((x) => x.id === S.pendingId);
  assert.equal(c.status, 'approved');
  assert.ok(c.decided_by && c.decided_at, JSON.stringify(c));
  await page.locator(`[data-testid="packet-credits"] [data-testid="credit-item"][data-id="${S.pendingId}"][data-status="approved"]`).waitFor();
  await waitFor(async () => (await widgetTexts(S.customer)).filter((t) => t.includes(won(amount))).length === 2, 'the customer hears it was approved');
});

test('a note is in the packet and never in the widget; a canned answer reaches the customer', T, async () => {
  const page = S.agent;
  await page.getByTestId('note-text').fill(NOTE);
  await page.getByTestId('note-add').click();
  await page.locator('[data-testid="packet-notes"] [data-testid="note-item"]').filter({ hasText: NOTE }).waitFor();

  const select = page.getByTestId('canned-select');
  await waitFor(async () => (await select.locator('option').count()) > 1, 'the FAQ picker is filled');
  const faqId = await select.locator('option').nth(1).getAttribute('value');
  await select.selectOption(faqId);
  await page.getByTestId('canned-send').click();
  await page.locator(`[data-testid="packet-msg"][data-from="agent"]`).filter({ hasText: 'FAQ ' + faqId }).waitFor();
  await waitFor(async () => (await S.customer.locator('[data-testid="hf-msg"][data-from="agent"]').count()) >= 1, 'the customer sees the canned answer');
  await S.customer.waitForTimeout(2500); // a few polls more
  assert.ok(!(await widgetTexts(S.customer)).some((t) => t.includes('단골 고객')), 'the note never reaches the customer');
});

test('agent A transfers the conversation to agent B, who now owns it', T, async () => {
  const page = S.agent;
  await page.getByTestId('transfer-to').fill(S.agentB);
  await page.getByTestId('transfer-btn').click();
  await waitFor(async () => (await page.locator('#badges').innerText()).includes(S.agentB), 'the packet names agent B');
  await waitFor(async () => await page.getByTestId('console-reply').isDisabled(), 'agent A can no longer reply');
  const res = await fetch(`${BASE}/v1/agent/conversations/${S.cid}/messages`, {
    method: 'POST', headers: { authorization: `Bearer ${TOKEN_A}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'still me?' }),
  });
  assert.equal(res.status, 409);
  assert.equal((await res.json()).error.code, 'not_owner');
  const b = await open('agent-b');
  await signIn(b, TOKEN_B);
  await b.locator(`#mine [data-testid="queue-item"][data-conversation-id="${S.cid}"]`).waitFor();
  // The customer still sees a person on the case.
  await waitFor(async () => /상담원/.test(await S.customer.getByTestId('hf-status').innerText()), 'assigned status line');
});

test('a supervisor dismisses junk from the console on a phone', T, async () => {
  const res = await fetch(BASE + '/v1/chat/messages', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'asdf 상담원 asdf', device_id: 'credits-junk' }),
  });
  const junk = await res.json();
  assert.equal(junk.status, 'queued', JSON.stringify(junk));
  const sup = await open('supervisor-dismiss', { viewport: PHONE, mobile: true });
  await signIn(sup, TOKEN_SUP, `/console#c/${junk.conversation_id}`);
  sup.on('dialog', (d) => d.accept());
  await sup.getByTestId('console-dismiss').click();
  await waitFor(async () => (await api(TOKEN_SUP, 'GET', `/v1/agent/conversations/${junk.conversation_id}`)).status === 'resolved', 'dismissed');
  await waitFor(async () => await sup.getByTestId('console-dismiss').isHidden(), 'no dismiss on a closed conversation');
  // Agents do not get the button.
  const agent = await open('agent-no-dismiss');
  await signIn(agent, TOKEN_A, `/console#c/${S.cid}`);
  await agent.getByTestId('packet-summary').waitFor();
  assert.equal(await agent.getByTestId('console-dismiss').isHidden(), true);
});

test('no console errors on these pages', T, () => {
  assert.deepEqual(problems, []);
});
