// Browser test of the learning loop (issue 13 §2): an agent answers a customer's
// question with a canned answer in the console and resolves; a supervisor on a phone
// accepts the suggestion on the console's suggestions page; a new customer asking the
// same question in the widget now gets that FAQ's answer from the bot.
// It adds its own FAQ (a fresh id) so that the other browser tests, which run in
// parallel on the same server, keep the catalog they expect, and finds its own
// suggestion by its text (other tests' resolves may suggest theirs).
//   HANDOFF_URL, AGENT_TOKEN_A and AGENT_TOKEN_SUP as for credits.test.mjs.
// Run: node --test tests/browser/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN_A, TOKEN_SUP, SHOTS, PHONE, useBrowser, api, waitFor, signIn, send } from './harness.mjs';

const T = { timeout: 120_000 };
const SUFFIX = Math.random().toString(36).slice(2, 8);
const FAQ_ID = `parking-${SUFFIX}`;
const ANSWER = `건물 뒤 공영주차장에 세우시면 돼요. 2시간 무료예요 (${SUFFIX}).`;
// Not one of the FAQ's examples: before learning, the bot does not answer it with them.
const QUESTION = '발렛 돼요?';

// Phones by default: these pages are used on one.
const { newPage: open, problems } = useBrowser({
  env: ['HANDOFF_URL', 'AGENT_TOKEN_A', 'AGENT_TOKEN_SUP'], defaults: { viewport: PHONE, mobile: true },
});

async function widget(label) {
  const page = await open(label);
  await page.goto(BASE + '/');
  await page.getByTestId('hf-launcher').click();
  return page;
}

/** The FAQ the bot answers a new customer's `text` with, and the page. */
async function ask(text) {
  const page = await widget('customer-new');
  const body = await send(page, text);
  return { page, bot: body.replies.find((m) => m.from === 'bot' && m.faq_id) };
}

test('an agent answers with a canned answer and resolves; a supervisor accepts; the bot now answers', T, async () => {
  const added = await api(TOKEN_SUP, 'POST', '/v1/agent/faqs', {
    id: FAQ_ID,
    questions: { ko: ['주차 가능한가요?', '주차장 있어요?'], en: ['Is there parking?'] },
    answer: { ko: ANSWER, en: `Park in the public lot behind the building (${SUFFIX}).` },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  try {
    await learnAndAnswer();
  } finally {
    // The FAQ goes, so the other tests' catalog is as they expect.
    const gone = await api(TOKEN_SUP, 'DELETE', `/v1/agent/faqs/${FAQ_ID}`);
    assert.equal(gone.status, 200, JSON.stringify(gone.body));
  }
});

async function learnAndAnswer() {
  const { bot: before } = await ask(QUESTION);
  assert.notEqual(before?.faq_id, FAQ_ID, 'before learning the bot does not answer it with this FAQ');

  // A customer asks for a person, then asks the question; agent A claims and answers it
  // with the FAQ's canned answer, then resolves.
  const customer = await widget('customer');
  const first = await send(customer, '사람이랑 얘기하고 싶어요. 상담원 연결해 주세요');
  assert.equal(first.status, 'queued', JSON.stringify(first));
  const cid = first.conversation_id;
  const agent = await open('agent-a', { viewport: { width: 1280, height: 900 }, mobile: false });
  await signIn(agent, TOKEN_A, `/console#c/${cid}`);
  await agent.getByTestId('console-claim').click();
  await waitFor(() => agent.getByTestId('console-reply').isEnabled(), 'claimed');
  await send(customer, QUESTION);
  await agent.locator('[data-testid="packet-msg"][data-from="customer"]').filter({ hasText: QUESTION }).waitFor({ timeout: 30_000 });
  const select = agent.getByTestId('canned-select');
  await select.focus();
  await waitFor(async () => (await select.locator(`option[value="${FAQ_ID}"]`).count()) === 1, 'the picker lists the new FAQ');
  await select.selectOption(FAQ_ID);
  await agent.getByTestId('canned-send').click();
  await waitFor(async () => (await customer.getByTestId('hf-msg').allInnerTexts()).some((t) => t.includes(SUFFIX)), 'the customer sees the canned answer');
  agent.on('dialog', (d) => d.accept());
  await agent.getByTestId('console-resolve').click();
  await waitFor(async () => (await api(TOKEN_A, 'GET', `/v1/agent/conversations/${cid}`)).body.status === 'resolved', 'resolved');

  // The supervisor, on a phone, accepts it on the suggestions page.
  const sup = await open('supervisor-phone');
  await signIn(sup, TOKEN_SUP, '/console/suggestions', { ids: 'sug' });
  const item = sup.locator(`[data-testid="sug-item"][data-faq-id="${FAQ_ID}"]`).filter({ hasText: QUESTION });
  await item.waitFor();
  const width = await sup.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scrolling on a phone (scrollWidth ${width})`);
  await sup.screenshot({ path: `${SHOTS}suggestions-phone.png` });
  await item.getByTestId('sug-accept').click();
  await item.waitFor({ state: 'detached' });
  assert.match(await sup.getByTestId('sug-notice').innerText(), /수락했어요/);

  // The same question from a new customer now gets that FAQ's answer.
  const { page: after, bot } = await ask(QUESTION);
  assert.equal(bot?.faq_id, FAQ_ID, JSON.stringify(bot));
  assert.ok(bot.text.includes(SUFFIX), bot.text);
  await after.locator('[data-testid="hf-msg"][data-from="bot"]').filter({ hasText: SUFFIX }).waitFor();
  await after.screenshot({ path: `${SHOTS}suggestions-widget-answer.png` });

  // An agent cannot see the page's list.
  const agentPage = await open('agent-phone');
  await signIn(agentPage, TOKEN_A, '/console/suggestions', { ids: 'sug' });
  await agentPage.getByTestId('sug-notice').filter({ hasText: '관리자' }).waitFor();
}

test('no errors in the pages', async () => {
  assert.deepEqual(problems.filter((p) => !/status of 40[139]/.test(p)), []);
});
