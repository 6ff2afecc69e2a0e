// Browser test of photos from customers, against the same running server as
// handoff.test.mjs (HANDOFF_URL, AGENT_TOKEN_A; CHROMIUM_PATH optional): on a 390 px
// phone a customer attaches a photo with the widget's button and sees it in their
// transcript; a file that is not an image is refused with a clear message; the agent
// sees the thumbnail in the console and opens the full image.
// Run: node --test tests/browser/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN_A, T, PHONE, useBrowser, waitFor, signIn } from './harness.mjs';

// A real 1×1 PNG, so that the browser decodes it (naturalWidth 1).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const S = {};

// Korean phones (touch, 1x pixels) in the machine's time zone. Only uncaught errors count,
// as this file always checked (the refused upload is a 4xx, which Chromium logs).
const { newPage: open, problems } = useBrowser({
  env: ['HANDOFF_URL', 'AGENT_TOKEN_A'], hint: ' (see handoff.test.mjs)',
  defaults: { locale: 'ko-KR', timezoneId: null, viewport: PHONE, mobile: true, scale: 1, consoleErrors: false },
});

const isPost = (path) => (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === path;

test('customer attaches a photo on a phone and sees it; a non-image is refused with a clear message', T, async () => {
  const page = await open('customer');
  S.customer = page;
  await page.goto(BASE + '/');
  await page.getByTestId('hf-launcher').click();
  // Before any message there is no conversation: the widget says what to do.
  await page.getByTestId('hf-file').setInputFiles({ name: 'box.png', mimeType: 'image/png', buffer: PNG });
  await waitFor(async () => /먼저 메시지를 보낸/.test(await page.getByTestId('hf-error').innerText()), 'send-a-message-first hint');

  const input = page.getByTestId('hf-input');
  await input.fill('상자가 찌그러져 왔어요. 상담원 연결해주세요');
  const [res] = await Promise.all([page.waitForResponse(isPost('/v1/chat/messages')), input.press('Enter')]);
  const sent = await res.json();
  assert.equal(sent.status, 'queued', JSON.stringify(sent));
  S.cid = sent.conversation_id;

  // The attach button is on screen and big enough to tap.
  const attach = page.getByTestId('hf-attach');
  const box = await attach.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 390 && box.height >= 32, `attach button ${JSON.stringify(box)}`);

  // A photo: created, uploaded, sent; the customer sees it in their transcript.
  const [photoSend] = await Promise.all([
    page.waitForResponse((r) => isPost('/v1/chat/messages')(r) && (r.request().postData() || '').includes('attachment_ids')),
    page.getByTestId('hf-file').setInputFiles({ name: 'box.png', mimeType: 'image/png', buffer: PNG }),
  ]);
  const photoBody = await photoSend.json();
  assert.equal(photoSend.status(), 200, JSON.stringify(photoBody));
  S.attachment = photoBody.message.attachments[0].id;
  const img = page.getByTestId('hf-photo');
  await waitFor(() => img.evaluate((i) => i.complete && i.naturalWidth === 1), 'the photo shown in the widget');
  assert.equal(await page.getByTestId('hf-error').isVisible(), false, 'no error after a good photo');

  // A PDF named .png: the server reads the bytes and refuses it; the widget says why.
  await page.getByTestId('hf-file').setInputFiles({ name: 'invoice.png', mimeType: 'image/png', buffer: Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n') });
  const refused = await waitFor(async () => { const x = await page.getByTestId('hf-error').innerText(); return /JPEG, PNG, WebP, HEIC 사진만/.test(x) && x; }, 'a clear refusal of the non-image');
  assert.ok(!/HTTP \d+/.test(refused), `no bare status code: ${refused}`);
  assert.equal(await page.getByTestId('hf-photo').count(), 1, 'the refused file is not shown as a photo');
});

test('the agent sees the thumbnail in the console and opens the full image', T, async () => {
  assert.ok(S.cid && S.attachment, 'the customer step ran');
  const page = await open('agent');
  await signIn(page, TOKEN_A);
  await page.locator(`[data-testid="queue-item"][data-conversation-id="${S.cid}"]`).click();
  const thumb = page.getByTestId('packet-photo');
  await waitFor(() => thumb.evaluate((i) => i.complete && i.naturalWidth === 1), 'the thumbnail loaded with the agent token');
  const [popup] = await Promise.all([page.context().waitForEvent('page'), page.getByTestId('packet-photo-open').click()]);
  assert.match(popup.url(), /^blob:/, 'the full image opens');
  // Without a token the photo is refused.
  const res = await fetch(`${BASE}/v1/agent/conversations/${S.cid}/attachments/${S.attachment}`);
  assert.equal(res.status, 401);
});

test('no uncaught errors on the photo pages', T, () => {
  assert.deepEqual(problems, []);
});
