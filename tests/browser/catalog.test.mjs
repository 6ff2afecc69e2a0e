// Browser test of the FAQ editor (issue 13 §1): a supervisor on a phone adds an FAQ in
// the console's FAQ page, edits its answer, and a customer's widget answers with the
// edited text at once; an agent sees the page read-only; the FAQ is deleted at the end.
// It adds its own FAQ (a fresh id) so that the other browser tests, which run in
// parallel on the same server, keep the catalog they expect.
//   HANDOFF_URL, AGENT_TOKEN_A and AGENT_TOKEN_SUP as for credits.test.mjs.
// Run: node --test tests/browser/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN_A, TOKEN_SUP, SHOTS, T, PHONE, useBrowser, api, signIn, send } from './harness.mjs';

const SUFFIX = Math.random().toString(36).slice(2, 8);
const FAQ_ID = `pets-${SUFFIX}`;
const QUESTION = '반려견 데리고 매장에 가도 되나요?';
const ANSWER_1 = '네, 반려견과 함께 오실 수 있어요.';
const ANSWER_2 = `네, 목줄을 한 반려견은 매장에 함께 오실 수 있어요. 물그릇도 있어요 (${SUFFIX}).`;

// Phones by default: these pages are used on one.
const { newPage: open, problems } = useBrowser({
  env: ['HANDOFF_URL', 'AGENT_TOKEN_A', 'AGENT_TOKEN_SUP'], defaults: { viewport: PHONE, mobile: true },
});

const signInFaqs = (page, token) => signIn(page, token, '/console/faqs', { ids: 'faq', ready: 'faq-item' });

/** The page does not scroll sideways on this phone. */
async function assertFits(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the FAQ page does not scroll sideways (overflow ${overflow}px)`);
}

async function ask(text) {
  const page = await open('customer');
  await page.goto(BASE + '/');
  await page.getByTestId('hf-launcher').click();
  const body = await send(page, text);
  return { page, bot: body.replies.find((m) => m.from === 'bot') };
}

test('a supervisor adds and edits an FAQ on a phone, and the widget answers with it', T, async () => {
  const page = await open('supervisor');
  await signInFaqs(page, TOKEN_SUP);
  const before = Number(/\d+/.exec(await page.getByTestId('faq-version').innerText())[0]);
  await assertFits(page);

  // Add.
  await page.getByTestId('faq-add').click();
  const box = page.getByTestId('faq-new');
  await box.getByTestId('faq-id').fill(FAQ_ID);
  await box.getByTestId('faq-questions-ko').fill(`${QUESTION}\n강아지 동반 가능해요?`);
  await box.getByTestId('faq-questions-en').fill('Can I bring my dog to the store?');
  await box.getByTestId('faq-answer-ko').fill(ANSWER_1);
  await box.getByTestId('faq-answer-en').fill('Yes, dogs are welcome.');
  await box.getByTestId('faq-save').click();
  const item = page.locator(`[data-testid="faq-item"][data-faq-id="${FAQ_ID}"]`);
  await item.waitFor();
  await page.getByTestId('faq-version').filter({ hasText: String(before + 1) }).waitFor();

  // Edit its Korean answer.
  await item.locator('summary').click();
  await item.getByTestId('faq-answer-ko').fill(ANSWER_2);
  await item.getByTestId('faq-save').click();
  await page.getByTestId('faq-version').filter({ hasText: String(before + 2) }).waitFor();
  assert.match(await page.getByTestId('faq-notice').innerText(), /저장했어요/);
  await assertFits(page);
  await page.screenshot({ path: `${SHOTS}faq-editor-phone.png` });

  // The stored catalog has it, as the export shows.
  const exported = await api(TOKEN_SUP, 'GET', '/v1/agent/faqs?format=catalog');
  const faq = exported.body.faqs.find((f) => f.id === FAQ_ID);
  assert.deepEqual(faq.answer.ko, ANSWER_2);
  assert.deepEqual(faq.questions.ko, [QUESTION, '강아지 동반 가능해요?']);

  // A customer asks: the widget shows the edited answer.
  const { page: widget, bot } = await ask(QUESTION);
  assert.equal(bot?.faq_id, FAQ_ID, JSON.stringify(bot));
  assert.ok(bot.text.includes(ANSWER_2), bot.text);
  await widget.locator('[data-testid="hf-msg"][data-from="bot"]').filter({ hasText: SUFFIX }).waitFor();
  await widget.screenshot({ path: `${SHOTS}faq-widget-answer.png` });

  // Delete it in the page (the confirm dialog is accepted).
  page.once('dialog', (d) => d.accept());
  await item.getByTestId('faq-delete').click();
  await item.waitFor({ state: 'detached' });
  await page.getByTestId('faq-version').filter({ hasText: String(before + 3) }).waitFor();
  const { bot: after } = await ask(QUESTION);
  assert.notEqual(after?.faq_id, FAQ_ID, 'the deleted FAQ no longer answers');
});

test('an agent sees the FAQs read-only, and cannot change them', T, async () => {
  const page = await open('agent');
  await signInFaqs(page, TOKEN_A);
  await page.getByText('관리자만 FAQ를 바꿀 수 있어요.').waitFor();
  assert.equal(await page.getByTestId('faq-add').isVisible(), false, 'no add button');
  assert.equal(await page.getByTestId('faq-save').count(), 0, 'no save buttons');
  const r = await api(TOKEN_A, 'DELETE', '/v1/agent/faqs/shipping-fee');
  assert.equal(r.status, 403, JSON.stringify(r.body));
  await assertFits(page);
});

test('the FAQ page logged no errors', () => {
  assert.deepEqual(problems, []);
});
