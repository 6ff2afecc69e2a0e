// Browser test of known-problem notices (issue 13 §3): a supervisor posts an incident;
// an agent's console on a phone shows it in the banner; a customer whose message
// matches it sees its text first in the widget, and when they ask for a person the
// agent sees it in that conversation's packet. The incident is about something no
// other browser test writes about (they run in parallel on the same server), and is
// ended at the end.
//   HANDOFF_URL, AGENT_TOKEN_A and AGENT_TOKEN_SUP as for credits.test.mjs.
// Run: node --test tests/browser/
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN_A, TOKEN_SUP, SHOTS, T, PHONE, useBrowser, api, signIn, send } from './harness.mjs';

const SUFFIX = Math.random().toString(36).slice(2, 8);
const KO = `로스팅 기계 수리로 이번 주 원두 발송이 하루씩 늦어지고 있어요. 죄송합니다 (${SUFFIX}).`;
const EN = `Our roaster is being repaired: beans ship one day late this week. Sorry (${SUFFIX}).`;

let incidentId = null;

// The incident ends even when the test fails half-way (the other files share the server).
after(async () => {
  if (incidentId) await api(TOKEN_SUP, 'DELETE', `/v1/agent/incidents/${incidentId}`).catch(() => {});
});

// Phones by default: these pages are used on one.
const { newPage: open, problems } = useBrowser({
  env: ['HANDOFF_URL', 'AGENT_TOKEN_A', 'AGENT_TOKEN_SUP'], defaults: { viewport: PHONE, mobile: true },
});

async function assertFits(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the console does not scroll sideways (overflow ${overflow}px)`);
}

/** A customer writes `text` in the widget: the page and the response body. */
async function ask(text) {
  const page = await open('customer');
  await page.goto(BASE + '/');
  await page.getByTestId('hf-launcher').click();
  const body = await send(page, text);
  return { page, body };
}

test('a supervisor posts an incident on a phone; the console shows it and the widget tells it first', T, async () => {
  // An agent cannot post one: no form, and the route refuses.
  const until = new Date(Date.now() + 2 * 3600_000).toISOString();
  const refused = await api(TOKEN_A, 'POST', '/v1/agent/incidents', { text: { ko: KO }, examples: ['x'], until });
  assert.equal(refused.status, 403, JSON.stringify(refused.body));

  // The supervisor posts it with the console's form, on a phone.
  const sup = await open('supervisor');
  await signIn(sup, TOKEN_SUP);
  const form = sup.getByTestId('incident-box');
  await form.waitFor();
  await form.locator('summary').click();
  await sup.getByTestId('incident-ko').fill(KO);
  await sup.getByTestId('incident-en').fill(EN);
  await sup.getByTestId('incident-examples').fill('로스팅 기계 고장났어요?\n원두 로스팅이 멈췄나요?\nis your coffee roaster broken');
  await sup.getByTestId('incident-for').selectOption('6');
  await assertFits(sup);
  await sup.getByTestId('incident-post').click();
  await sup.locator('[data-testid="console-incidents"]').filter({ hasText: SUFFIX }).waitFor();
  const listed = await api(TOKEN_A, 'GET', '/v1/agent/incidents');
  const mine = listed.body.incidents.find((i) => (i.text.ko || '').includes(SUFFIX));
  assert.ok(mine, JSON.stringify(listed.body));
  incidentId = mine.id;
  assert.equal(mine.examples.length, 3, 'one example per line');
  const hours = (Date.parse(mine.until) - Date.now()) / 3600_000;
  assert.ok(hours > 5.5 && hours <= 6, `until is six hours ahead (${hours} h)`);

  // The agent's console on a phone: the banner.
  const agent = await open('agent');
  await signIn(agent, TOKEN_A);
  const banner = agent.getByTestId('console-incidents');
  await banner.filter({ hasText: SUFFIX }).waitFor();
  assert.ok((await banner.innerText()).includes(KO));
  await assertFits(agent);
  await agent.screenshot({ path: `${SHOTS}incident-console-phone.png` });

  // A customer asks about it: the notice is the first reply, shown in the widget.
  const { page: widget, body } = await ask('로스팅 기계 고장났어요? 상담원 연결해 주세요');
  assert.equal(body.replies[0].text, KO, JSON.stringify(body));
  assert.equal(body.status, 'queued', 'the way to a person stays');
  await widget.locator('[data-testid="hf-msg"]').filter({ hasText: SUFFIX }).waitFor();
  await widget.screenshot({ path: `${SHOTS}incident-widget.png` });

  // The agent opens that conversation: the packet names the incident.
  await agent.goto(BASE + `/console#c/${body.conversation_id}`);
  await agent.getByTestId('packet-incidents').filter({ hasText: SUFFIX }).waitFor();
  await assertFits(agent);

  // Agents have no end button; a supervisor ends it on their phone.
  assert.equal(await agent.getByTestId('incident-end').count(), 0, 'no end button for agents');
  assert.ok(!(await agent.getByTestId('incident-box').isVisible()), 'no incident form for agents');
  const item = sup.locator(`[data-testid="console-incidents"] li[data-incident="${incidentId}"]`);
  await item.waitFor();
  sup.once('dialog', (d) => d.accept());
  await item.getByTestId('incident-end').click();
  await item.waitFor({ state: 'detached' });
  const list = await api(TOKEN_A, 'GET', '/v1/agent/incidents');
  assert.ok(!list.body.incidents.some((i) => i.id === incidentId), JSON.stringify(list.body));
  incidentId = null;
  // The agent's banner goes at its next refresh.
  await agent.waitForFunction((s) => !document.getElementById('incidents').innerText.includes(s), SUFFIX);
});

test('the incidents test logged no errors', () => {
  assert.deepEqual(problems, []);
});
