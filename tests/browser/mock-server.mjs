// A throwaway in-memory stand-in for the Handoff HTTP API, written from the API contract so the
// widget, console and browser test could be developed before the Rust server existed.
// It is NOT the product and the test never starts it. Use:
//   node tests/browser/mock-server.mjs 3999      # agent tokens: "mock:agent-a", "mock:agent-b"
//   HANDOFF_URL=http://127.0.0.1:3999 AGENT_TOKEN_A=mock:agent-a AGENT_TOKEN_B=mock:agent-b node --test tests/browser/
// MOCK_CLOSED=1 makes the queue report "outside agent hours".
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

const root = new URL('../../', import.meta.url);
const asset = (p) => readFileSync(new URL(p, root), 'utf8');
const port = Number(process.argv[2] || 3999);
const convs = new Map();
const byCmid = new Map();
let seq = 0;

const now = () => new Date().toISOString();
function msg(c, from, text, extra = {}) {
  const m = { id: randomUUID(), seq: ++seq, from, text, at: now(), channel: 'web', ...extra };
  c.messages.push(m);
  return m;
}
function queueOf(c) {
  if (c.status !== 'queued') return undefined;
  const queued = [...convs.values()].filter((x) => x.status === 'queued').sort((a, b) => a.queued_at.localeCompare(b.queued_at));
  const closed = !!process.env.MOCK_CLOSED;
  const opens = new Date(); opens.setDate(opens.getDate() + 1); opens.setHours(9, 0, 0, 0);
  return {
    position: queued.indexOf(c) + 1,
    estimated_wait_seconds: closed ? null : 180,
    open_now: !closed,
    opens_at: closed ? opens.toISOString() : null,
  };
}
function err(res, status, code, message, extra = {}) {
  send(res, status, { error: { code, message, ...extra } });
}
function send(res, status, body, type = 'application/json; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type', 'access-control-allow-methods': 'GET, POST, OPTIONS' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}
function bearer(req) {
  const h = req.headers.authorization || '';
  return h.startsWith('Bearer ') ? h.slice(7) : null;
}
function item(c) {
  return {
    conversation_id: c.id, status: c.status, priority: c.priority, reason: c.reason, summary: c.summary,
    language: c.language, channel: 'web', waiting_since: c.queued_at, assigned_to: c.assigned_to,
  };
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  let body = '';
  for await (const chunk of req) body += chunk;
  let json = {};
  try { json = body ? JSON.parse(body) : {}; } catch { return err(res, 400, 'bad_json', 'invalid JSON'); }
  if (req.method === 'OPTIONS') return send(res, 204, '');

  if (req.method === 'GET' && p === '/') return send(res, 200, asset('functions/chat-api/assets/demo.html'), 'text/html; charset=utf-8');
  if (req.method === 'GET' && p === '/widget.js') return send(res, 200, asset('functions/chat-api/assets/widget.js'), 'application/javascript; charset=utf-8');
  if (req.method === 'GET' && p === '/console') return send(res, 200, asset('functions/agent-api/assets/console.html'), 'text/html; charset=utf-8');

  if (req.method === 'POST' && p === '/v1/chat/messages') {
    const text = typeof json.text === 'string' ? json.text.trim() : '';
    if (!text || text.length > 2000) return err(res, 400, 'invalid_text', 'text must be 1..2000 chars');
    if (json.client_message_id && byCmid.has(json.client_message_id)) return send(res, 200, byCmid.get(json.client_message_id));
    let c;
    if (json.conversation_id) {
      c = convs.get(json.conversation_id);
      if (!c) return err(res, 404, 'not_found', 'no such conversation');
      if (bearer(req) !== c.token) return err(res, 401, 'unauthorized', 'bad conversation token');
    } else {
      c = { id: randomUUID(), token: randomUUID(), status: 'bot', messages: [], priority: 'normal', reason: null, summary: '', language: /[가-힣]/.test(text) ? 'ko' : 'en', queued_at: null, assigned_to: null, phone: null };
      convs.set(c.id, c);
    }
    const ko = c.language === 'ko';
    msg(c, 'customer', text);
    const replies = [];
    if (c.status === 'resolved') c.status = 'bot';
    if (c.status === 'bot') {
      if (/상담원|사람|person|human|agent/i.test(text)) {
        c.status = 'queued'; c.queued_at = now(); c.reason = 'customer_requested';
        c.summary = ko ? '고객이 배송비 문의 후 상담원 연결을 요청함' : 'Customer asked about shipping, then asked for a person';
        replies.push(msg(c, 'system', ko ? '상담원에게 연결해 드릴게요. 잠시만 기다려 주세요.' : 'Connecting you to a person. Please wait.'));
      } else if (/배송|shipping/i.test(text)) {
        replies.push(msg(c, 'bot', ko ? '배송비는 3,000원이고 3만원 이상 주문은 무료예요.' : 'Shipping is 3,000 KRW, free over 30,000 KRW.', { faq_id: 'shipping' }));
      } else {
        replies.push(msg(c, 'bot', ko ? '잘 모르겠어요. 상담원을 연결해 드릴까요?' : "I'm not sure. Shall I connect you to a person?"));
      }
    }
    const out = { conversation_id: c.id, token: c.token, status: c.status, replies };
    const q = queueOf(c); if (q) out.queue = q;
    if (json.client_message_id) byCmid.set(json.client_message_id, out);
    return send(res, 200, out);
  }
  let m;
  if ((m = /^\/v1\/chat\/conversations\/([^/]+)\/(messages|contact|withdraw)$/.exec(p))) {
    const c = convs.get(decodeURIComponent(m[1]));
    if (!c) return err(res, 404, 'not_found', 'no such conversation');
    if (bearer(req) !== c.token) return err(res, 401, 'unauthorized', 'bad conversation token');
    if (m[2] === 'messages' && req.method === 'GET') {
      const after = Number(url.searchParams.get('after') || 0);
      const out = { status: c.status, messages: c.messages.filter((x) => x.seq > after), cursor: String(c.messages.at(-1)?.seq ?? after) };
      const q = queueOf(c); if (q) out.queue = q;
      return send(res, 200, out);
    }
    if (m[2] === 'withdraw' && req.method === 'POST') {
      if (c.status === 'queued') { c.status = 'bot'; msg(c, 'system', 'Request cancelled.'); }
      return send(res, 200, { conversation_id: c.id, status: c.status });
    }
    if (m[2] === 'contact' && req.method === 'POST') {
      const digits = String(json.phone || '').replace(/[^0-9]/g, '');
      if (digits.length < 9 || digits.length > 15) return err(res, 400, 'invalid_phone', 'not a phone number');
      c.phone = '+82******' + digits.slice(-4);
      return send(res, 200, { phone: c.phone, sms: true });
    }
  }
  if (p.startsWith('/v1/agent/')) {
    const tok = bearer(req);
    if (!tok || !tok.startsWith('mock:')) return err(res, 401, 'unauthorized', 'missing or bad token');
    const agent = tok.slice(5);
    if (p === '/v1/agent/me') return send(res, 200, { agent_id: agent, supervisor: false });
    if (p === '/v1/agent/queue') {
      const all = [...convs.values()];
      return send(res, 200, {
        queued: all.filter((c) => c.status === 'queued').sort((a, b) => (a.priority === b.priority ? a.queued_at.localeCompare(b.queued_at) : a.priority === 'high' ? -1 : 1)).map(item),
        mine: all.filter((c) => c.status === 'assigned' && c.assigned_to === agent).map(item),
      });
    }
    if ((m = /^\/v1\/agent\/conversations\/([^/]+)(?:\/(claim|messages|resolve|release))?$/.exec(p))) {
      const c = convs.get(decodeURIComponent(m[1]));
      if (!c) return err(res, 404, 'not_found', 'no such conversation');
      const act = m[2];
      if (!act && req.method === 'GET') {
        return send(res, 200, {
          conversation_id: c.id, status: c.status, assigned_to: c.assigned_to, priority: c.priority, reason: c.reason,
          reason_text: c.reason ? (c.language === 'ko' ? '고객이 상담원 연결을 요청했어요' : 'The customer asked for a person') : null,
          summary: c.summary, language: c.language, channel: 'web',
          customer: { customer_id: 'cust-' + c.id.slice(0, 8), phone: c.phone, channels: c.phone ? ['web', 'sms'] : ['web'] },
          transcript: c.messages,
          bot_answers: c.messages.filter((x) => x.faq_id).map((x) => ({ faq_id: x.faq_id, text: x.text, at: x.at })),
          earlier_conversations: [], queued_at: c.queued_at,
        });
      }
      if (req.method !== 'POST') return err(res, 405, 'method_not_allowed', 'method not allowed');
      if (act === 'claim') {
        if (c.assigned_to && c.assigned_to !== agent) return err(res, 409, 'already_claimed', `already claimed by ${c.assigned_to}`, { assigned_to: c.assigned_to });
        c.assigned_to = agent; c.status = 'assigned';
        return send(res, 200, { conversation_id: c.id, status: c.status, assigned_to: agent });
      }
      if (c.assigned_to !== agent) return err(res, 409, 'not_assigned', 'claim the conversation first');
      if (act === 'messages') {
        const text = String(json.text || '').trim();
        if (!text) return err(res, 400, 'invalid_text', 'text required');
        return send(res, 201, msg(c, 'agent', text, { agent_id: agent }));
      }
      if (act === 'resolve') { c.status = 'resolved'; return send(res, 200, { conversation_id: c.id, status: c.status }); }
      if (act === 'release') { c.status = 'bot'; c.assigned_to = null; return send(res, 200, { conversation_id: c.id, status: c.status }); }
    }
  }
  return err(res, 404, 'not_found', 'no route');
});
server.listen(port, '127.0.0.1', () => console.log(`mock Handoff API on http://127.0.0.1:${port}`));
