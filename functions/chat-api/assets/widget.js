/*! Handoff chat widget. One tag adds it to a page:
 *  <script src="https://HOST/widget.js" data-api="" data-business="Shop name" async></script>
 *  data-api       API base URL; empty or absent = the origin of this script's src
 *  data-business  name shown in the panel header (data-business-ko: Korean name, optional)
 *  data-lang      "ko" | "en"; default from navigator.language (ko* = Korean)
 * Plain JS, no dependencies. UI lives in an open Shadow DOM root so the host page's
 * CSS and ours never touch each other. */
(function () {
  'use strict';
  if (window.__handoffWidget) return;
  window.__handoffWidget = true;

  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="widget.js"]');
    script = all[all.length - 1];
  }
  function attr(n) { return script ? script.getAttribute(n) : null; }
  var apiAttr = attr('data-api');
  var API = apiAttr ? apiAttr.replace(/\/+$/, '')
    : (script && script.src ? new URL(script.src, location.href).origin : location.origin);
  var LANG = (attr('data-lang') || navigator.language || 'en').toLowerCase().indexOf('ko') === 0 ? 'ko' : 'en';
  var KO = LANG === 'ko';
  var BUSINESS = (KO && attr('data-business-ko')) || attr('data-business') || (KO ? '채팅 상담' : 'Chat');
  var KEY = 'handoff:v1:' + API;
  var MAX = 2000;

  var T = KO ? {
    open: '채팅 상담 열기', close: '채팅 닫기', unread: '새 메시지 {n}개',
    sub: '자동 답변 · 필요하면 상담원이 이어받아요',
    hello: '안녕하세요! {b}입니다. 무엇을 도와드릴까요?\n배송, 주문, 원두 등을 물어보세요. 상담원과 이야기하시려면 "상담원"이라고 보내 주세요.',
    ph: '메시지를 입력하세요', send: '보내기', label: '메시지',
    customer: '나', bot: '자동 답변', agent: '상담원', system: '안내',
    sending: '보내는 중…', failed: '전송 실패', retry: '다시 보내기', retrying: '연결이 불안정해요. 다시 보내는 중…',
    err: '메시지를 보내지 못했어요. {m}', errNet: '인터넷 연결을 확인해 주세요.', tooLong: '메시지는 2000자까지 보낼 수 있어요.',
    queued: '상담원 연결을 기다리는 중이에요.', pos: '대기 순번 {n}번', wait: '예상 대기 약 {t}', soon: '곧 연결해 드릴게요.',
    nobody: '지금은 상담 중인 상담원이 없어 대기 시간을 알 수 없어요', online: '상담원 {n}명 상담 중',
    closed: '지금은 상담 시간이 아니에요. 상담원이 {t}에 답변드릴게요.', closedNoTime: '지금은 상담 시간이 아니에요. 상담 시간이 되면 답변드릴게요.',
    assigned: '상담원이 대화에 참여했어요.', resolved: '상담이 종료되었어요. 메시지를 보내면 다시 도와드릴게요.',
    newChat: '새 대화 시작',
    min1: '1분 이내', mins: '{n}분', hours: '{n}시간', today: '오늘 {t}', tomorrow: '내일 {t}',
    sms: '문자로 답변 받기', smsHint: '창을 닫아도 상담원 답변을 문자로 보내드려요.', phone: '휴대폰 번호',
    phonePh: '010-1234-5678', smsSend: '등록', smsOk: '{p}(으)로 문자 답변을 보내드릴게요.',
    smsBad: '전화번호 형식이 올바르지 않아요. 예: 010-1234-5678', smsErr: '번호를 등록하지 못했어요. {m}', cancel: '취소',
    codeSent: '{p}(으)로 인증번호 6자리를 보냈어요. 문자로 받은 번호를 입력해 주세요.', codeLabel: '인증번호', codePh: '6자리 숫자',
    codeGo: '확인', codeAgain: '인증번호 다시 받기', codeChange: '번호 바꾸기', codeResent: '새 인증번호를 보냈어요.',
    codeFormat: '문자로 받은 숫자 6자리를 입력해 주세요.', codeWrong: '인증번호가 맞지 않아요. {n}번 더 시도할 수 있어요.',
    codeWrong0: '인증번호가 맞지 않아요.', codeExpired: '인증번호가 만료되었어요. 새 인증번호를 받아 주세요.',
    codeDead: '잘못 입력한 횟수가 너무 많아요. 새 인증번호를 받아 주세요.', codeNone: '보낸 인증번호가 없어요. 인증번호를 다시 받아 주세요.',
    codeErr: '인증하지 못했어요. {m}',
    slow: '요청이 많아 잠시 쉬어 가요. 잠시 후 다시 시도해 주세요.', slowFor: '요청이 많아 잠시 쉬어 가요. {t} 후에 다시 시도해 주세요.',
    withdraw: '연결 요청 취소',
    rateQ: '상담은 어떠셨나요?', rateComment: '의견 (선택)', rateThanks: '평가해 주셔서 감사합니다!', rateN: '{n}점',
    said: '{w}: {m}'
  } : {
    open: 'Open chat', close: 'Close chat', unread: '{n} new messages',
    sub: 'Automatic answers · a person takes over when needed',
    hello: 'Hi! This is {b}. How can we help?\nAsk about shipping, orders or our beans. To talk to a person, just send "agent".',
    ph: 'Type a message', send: 'Send', label: 'Message',
    customer: 'You', bot: 'Assistant', agent: 'Agent', system: 'Notice',
    sending: 'Sending…', failed: 'Not sent', retry: 'Retry', retrying: 'Connection trouble. Retrying…',
    err: 'Your message was not sent. {m}', errNet: 'Please check your connection.', tooLong: 'Messages can be up to 2000 characters.',
    queued: 'Waiting for a person to join.', pos: 'You are number {n} in line', wait: 'expected wait about {t}', soon: 'Someone will be with you shortly.',
    nobody: 'nobody is online right now, so there is no wait estimate', online: '{n} of our team online',
    closed: 'Our team is offline right now. A person will answer {t}.', closedNoTime: 'Our team is offline right now. A person will answer when we open.',
    assigned: 'A person has joined the chat.', resolved: 'This conversation is closed. Send a message if you need anything else.',
    newChat: 'Start a new chat',
    min1: 'under a minute', mins: '{n} min', hours: '{n} h', today: 'today at {t}', tomorrow: 'tomorrow at {t}',
    sms: 'Continue by SMS', smsHint: 'Leave your number and we will text you the reply.', phone: 'Mobile number',
    phonePh: '+1 555 123 4567', smsSend: 'Save', smsOk: 'We will text the reply to {p}.',
    smsBad: 'That does not look like a valid phone number.', smsErr: 'Could not save your number. {m}', cancel: 'Cancel',
    codeSent: 'We texted a 6-digit code to {p}. Enter it here.', codeLabel: 'Code', codePh: '6 digits',
    codeGo: 'Verify', codeAgain: 'Send a new code', codeChange: 'Change number', codeResent: 'We sent a new code.',
    codeFormat: 'Enter the 6 digits from the text.', codeWrong: 'That code is not right. {n} tries left.',
    codeWrong0: 'That code is not right.', codeExpired: 'That code has expired. Please get a new one.',
    codeDead: 'Too many wrong tries. Please get a new code.', codeNone: 'No code has been sent yet. Please get a new one.',
    codeErr: 'Could not verify the code. {m}',
    slow: 'We are getting a lot of requests. Please wait a moment and try again.', slowFor: 'We are getting a lot of requests. Please try again in {t}.',
    withdraw: 'Cancel request',
    rateQ: 'How did we do?', rateComment: 'Comment (optional)', rateThanks: 'Thank you for your rating!', rateN: '{n} of 5',
    said: '{w}: {m}'
  };
  function t(k, v) {
    return T[k].replace(/\{(\w)\}/g, function (_, n) { return v && v[n] != null ? v[n] : ''; });
  }

  /* ---------- state ---------- */
  var S = load() || {};          // {cid, token, open, sms (masked, verified)}
  var status = null, queue = null, cursor = null, survey = null;
  var msgs = {};                 // id -> {seq, el}
  var locals = [];               // optimistic customer messages: {cmid, text, el, state}
  var outbox = [], sending = false;
  var unread = 0, restoring = false;
  var pollTimer = null, polling = false, idleDelay = 4000, epoch = 0;

  function load() { try { return JSON.parse(localStorage.getItem(KEY)); } catch (e) { return null; } }
  function save() { try { localStorage.setItem(KEY, JSON.stringify(S)); } catch (e) { /* private mode */ } }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), h = [];
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (var i = 0; i < 16; i++) h.push((b[i] + 256).toString(16).slice(1));
    h = h.join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // One random id per browser (not per API): first-message idempotency keys are scoped
  // to it, so a guessed client_message_id never reaches someone else's conversation.
  var DEVICE = (function () {
    var k = 'handoff:device:v1', id = null;
    try { id = localStorage.getItem(k); } catch (e) { /* private mode */ }
    if (!id || !/^[A-Za-z0-9._:@-]{1,64}$/.test(id)) {
      id = uuid();
      try { localStorage.setItem(k, id); } catch (e) { /* kept for this page only */ }
    }
    return id;
  })();

  /* ---------- DOM ---------- */
  var CSS = ':host{all:initial!important}' +
    '*{box-sizing:border-box}' +
    '.w{font:14px/1.45 system-ui,-apple-system,"Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR","NanumGothic",sans-serif;color:#1d2330;-webkit-text-size-adjust:100%}' +
    '.l{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:58px;height:58px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;padding:0}' +
    '.l svg{width:28px;height:28px;fill:currentColor}' +
    '.b{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#d92d20;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center;padding:0 5px}' +
    'button:focus-visible,textarea:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f5a524;outline-offset:2px}' +
    '.p{position:fixed;right:20px;bottom:90px;z-index:2147483001;width:370px;height:min(600px,calc(100vh - 110px));background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.28);display:flex;flex-direction:column;overflow:hidden}' +
    '.p[hidden],[hidden]{display:none!important}' +
    '.h{background:var(--c);color:#fff;padding:12px 8px 12px 16px;display:flex;align-items:center;gap:8px}' +
    '.h div{flex:1;min-width:0}.h h2{font-size:16px;margin:0;font-weight:700;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.h p{margin:2px 0 0;font-size:12px;opacity:.85}' +
    '.x{background:transparent;border:0;color:#fff;font-size:26px;line-height:1;width:40px;height:40px;border-radius:8px;cursor:pointer;flex:none}.x:hover{background:rgba(255,255,255,.15)}' +
    '.s{padding:8px 14px;background:#fff7e6;border-bottom:1px solid #f3deb0;font-size:13px;color:#5c3d00}' +
    '.s.a{background:#eaf6ee;border-color:#bfe3cb;color:#145a2c}.s.r{background:#f1f2f4;border-color:#dcdfe4;color:#3b4250}' +
    '.lk{background:none;border:0;padding:0;margin:4px 12px 0 0;color:inherit;font:inherit;font-weight:600;text-decoration:underline;cursor:pointer}' +
    '.f{margin-top:6px;display:flex;flex-wrap:wrap;gap:6px;align-items:center}.f label{width:100%;font-size:12px}' +
    '.f input{flex:1;min-width:0;font:inherit;padding:7px 9px;border:1px solid #b9bec8;border-radius:8px;background:#fff;color:#1d2330}' +
    '.f .e{width:100%;color:#b42318;font-weight:600}.f .e:empty,.f .ok:empty{display:none}.f .ok{width:100%;color:#145a2c;font-weight:600}' +
    '.f .code{flex:0 1 9em;letter-spacing:.3em;font-variant-numeric:tabular-nums}.f .code::placeholder{letter-spacing:normal}.f .lk{margin:2px 12px 0 0}' +
    '.m{flex:1;overflow-y:auto;padding:14px 12px;background:#f6f7f9;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain}' +
    '.g,.msg{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}' +
    '.g,.bot,.agent{align-self:flex-start;background:#fff;border:1px solid #e3e6ea;border-bottom-left-radius:4px}' +
    '.agent{border-color:var(--c);box-shadow:inset 3px 0 0 var(--c)}' +
    '.customer{align-self:flex-end;background:var(--c);color:#fff;border-bottom-right-radius:4px}' +
    '.customer a{color:#fff}.customer.pending{opacity:.7}.customer.failed{background:#fff;color:#b42318;border:1px solid #b42318}' +
    '.system{align-self:center;max-width:95%;background:#eef0f3;color:#3b4250;font-size:12.5px;text-align:center;border-radius:10px}' +
    '.who{display:block;font-size:11.5px;font-weight:700;margin-bottom:2px;opacity:.75}' +
    '.meta{display:block;font-size:11px;opacity:.7;margin-top:3px;text-align:right}' +
    '.meta button{font:inherit;font-weight:700;color:inherit;background:none;border:0;text-decoration:underline;cursor:pointer;padding:0 0 0 6px}' +
    '.err{padding:6px 14px;background:#fef3f2;color:#b42318;font-size:13px;border-top:1px solid #fecdca}' +
    '.i{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e6ea;background:#fff;align-items:flex-end}' +
    '.i textarea{flex:1;min-width:0;resize:none;font:inherit;font-size:15px;line-height:1.4;max-height:120px;padding:9px 11px;border:1px solid #b9bec8;border-radius:10px;color:#1d2330;background:#fff}' +
    '.btn{font:inherit;font-weight:700;border:0;border-radius:10px;background:var(--c);color:#fff;padding:0 14px;height:40px;cursor:pointer;flex:none}' +
    '.btn:disabled{opacity:.5;cursor:default}.f .btn{height:34px}.f .sec{background:#fff;color:var(--c);border:1px solid var(--c)}' +
    '.rt{display:flex;flex-direction:column;gap:6px;margin-top:6px}.rt .n{display:flex;gap:6px}.rt .n button{flex:1;min-height:40px;font:inherit;font-weight:700;border:1px solid var(--c);border-radius:10px;background:#fff;color:var(--c);cursor:pointer}' +
    '.rt input{font:inherit;font-size:14px;padding:7px 9px;border:1px solid #b9bec8;border-radius:8px}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    '@media (max-width:480px){.p{inset:0;width:100%;height:100%;border-radius:0}.i textarea,.f input{font-size:16px}.f input,.f .btn{min-height:44px}.f .lk{padding:10px 0}.p:not([hidden])~.l{display:none}.l{right:14px;bottom:14px}}' +
    '@media (prefers-reduced-motion:no-preference){.p{animation:u .16s ease-out}@keyframes u{from{opacity:0;transform:translateY(8px)}}}';

  function el(tag, props, kids) {
    var e = document.createElement(tag);
    for (var k in props || {}) {
      if (k === 'text') e.textContent = props[k];
      else if (k === 'class') e.className = props[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), props[k]);
      else if (props[k] != null && props[k] !== false) e.setAttribute(k, props[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  var host = el('div', { id: 'handoff-widget', 'data-handoff': '' });
  var root = host.attachShadow({ mode: 'open' });
  var color = attr('data-color') || '#1f4e79';
  var wrap = el('div', { class: 'w', style: '--c:' + color });
  var ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.6 2 11c0 2.4 1.3 4.5 3.4 6L4.5 21l4.3-2.3c1 .3 2.1.4 3.2.4 5.5 0 10-3.6 10-8s-4.5-8-10-8z"/></svg>';

  var badge = el('span', { class: 'b', hidden: '', 'aria-hidden': 'true' });
  var launcher = el('button', { class: 'l', type: 'button', 'data-testid': 'hf-launcher', 'aria-controls': 'hf-panel', 'aria-expanded': 'false', 'aria-label': T.open });
  launcher.innerHTML = ICON;
  launcher.appendChild(badge);

  var closeBtn = el('button', { class: 'x', type: 'button', 'aria-label': T.close, 'data-testid': 'hf-close', text: '×' });
  var statusEl = el('div', { class: 's', 'data-testid': 'hf-status', hidden: '' });
  var statusText = el('div');
  var smsBox = el('div');
  statusEl.appendChild(statusText); statusEl.appendChild(smsBox);
  var list = el('div', { class: 'm', 'data-testid': 'hf-messages', role: 'log', 'aria-live': 'off', tabindex: '0', 'aria-label': BUSINESS });
  var greet = el('div', { class: 'g', 'data-testid': 'hf-greeting' });
  greet.appendChild(el('span', { class: 'who', text: BUSINESS }));
  greet.appendChild(document.createTextNode(t('hello', { b: BUSINESS })));
  list.appendChild(greet);
  var errEl = el('div', { class: 'err', role: 'alert', 'data-testid': 'hf-error', hidden: '' });
  var input = el('textarea', { rows: '1', maxlength: String(MAX), placeholder: T.ph, 'aria-label': T.label, 'data-testid': 'hf-input', enterkeyhint: 'send', autocomplete: 'off' });
  var sendBtn = el('button', { class: 'btn', type: 'submit', 'data-testid': 'hf-send', text: T.send });
  /* ---------- photos: pick, upload with progress, send; shown through authorized reads ---------- */
  var PT = KO ? { attach: '사진 첨부', type: 'JPEG, PNG, WebP, HEIC 사진만 보낼 수 있어요.', big: '사진은 10MB까지 보낼 수 있어요.', first: '먼저 메시지를 보낸 뒤 사진을 첨부해 주세요.', up: '사진 올리는 중… {n}%', photo: '사진' }
    : { attach: 'Attach a photo', type: 'Only JPEG, PNG, WebP and HEIC photos can be sent.', big: 'Photos can be up to 10 MB.', first: 'Send a message first, then attach a photo.', up: 'Uploading photo… {n}%', photo: 'Photo' };
  var fileIn = el('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp,image/heic,image/heif', hidden: '', 'data-testid': 'hf-file' });
  var attachBtn = el('button', { class: 'btn sec', type: 'button', 'aria-label': PT.attach, title: PT.attach, 'data-testid': 'hf-attach', text: '📎', onclick: function () { fileIn.click(); } });
  var progress = el('div', { class: 'meta', 'aria-live': 'polite', 'data-testid': 'hf-progress', hidden: '' });
  fileIn.addEventListener('change', function () { var f = fileIn.files && fileIn.files[0]; fileIn.value = ''; if (f) attachPhoto(f); });
  function photoErr(r) {
    // the two refusals a customer can fix, in their language; the rest as the server says
    if (r && r.status === 415) return PT.type;
    if (r && r.status === 413) return PT.big;
    return r && r.data && r.data.error ? errMsg(r) : T.errNet;
  }
  function attachPhoto(f) {
    showErr('');
    if (!S.cid) { showErr(PT.first); return; }
    var type = f.type || (/\.hei[cf]$/i.test(f.name) ? 'image/heic' : '');
    if (f.size > 10485760) { showErr(PT.big); return; }
    attachBtn.disabled = true;
    var done = function (msg) { attachBtn.disabled = false; progress.hidden = true; if (msg) showErr(msg); };
    req('POST', '/v1/chat/conversations/' + encodeURIComponent(S.cid) + '/attachments', { content_type: type || 'application/octet-stream', size: f.size }).then(function (r) {
      if (!r.ok || !r.data) return done(photoErr(r));
      var id = r.data.attachment_id, xhr = new XMLHttpRequest();
      xhr.open('PUT', new URL(r.data.upload_url, API + '/').href);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) { progress.hidden = false; progress.textContent = PT.up.replace('{n}', Math.round(100 * e.loaded / e.total)); } };
      xhr.onerror = function () { done(T.errNet); };
      xhr.onload = function () {
        if (xhr.status < 200 || xhr.status > 299) { var j = null; try { j = JSON.parse(xhr.responseText); } catch (e) { /* S3 answers XML */ } return done(photoErr({ status: xhr.status, data: j })); }
        req('POST', '/v1/chat/messages', { conversation_id: S.cid, attachment_ids: [id], device_id: DEVICE }).then(function (s) {
          if (!s.ok || !s.data) return done(photoErr(s));
          done(); if (s.data.message) { addMessages([s.data.message], true); scrollEnd(); }
        }, function () { done(T.errNet); });
      };
      progress.hidden = false; progress.textContent = PT.up.replace('{n}', '0');
      xhr.send(f);
    }, function () { done(T.errNet); });
  }
  function showPhotos(node, m) {
    (m.attachments || []).forEach(function (a) {
      var img = el('img', { alt: PT.photo, 'data-testid': 'hf-photo', style: 'display:block;max-width:180px;max-height:180px;border-radius:8px;margin:4px 0;cursor:pointer' });
      node.insertBefore(img, node.lastChild);
      fetch(API + '/v1/chat/conversations/' + encodeURIComponent(S.cid) + '/attachments/' + encodeURIComponent(a.id), { headers: { Authorization: 'Bearer ' + S.token }, credentials: 'omit' })
        .then(function (r) { return r.ok ? r.blob() : null; })
        .then(function (b) { if (b) { var u = URL.createObjectURL(b); img.src = u; img.onclick = function () { window.open(u, '_blank', 'noopener'); }; } }, function () { /* stays a placeholder */ });
    });
  }
  var form = el('form', { class: 'i', onsubmit: function (e) { e.preventDefault(); submit(); } }, [attachBtn, fileIn, input, sendBtn]);
  var live = el('div', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'false', 'data-testid': 'hf-live' });
  var panel = el('div', { class: 'p', id: 'hf-panel', 'data-testid': 'hf-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'hf-title', hidden: '' }, [
    el('div', { class: 'h' }, [el('div', {}, [el('h2', { id: 'hf-title', text: BUSINESS }), el('p', { text: T.sub })]), closeBtn]),
    statusEl, list, errEl, progress, form
  ]);
  var style = el('style'); style.textContent = CSS;
  root.appendChild(style);
  wrap.appendChild(panel); wrap.appendChild(launcher); wrap.appendChild(live);
  root.appendChild(wrap);

  /* ---------- panel ---------- */
  function isOpen() { return !panel.hidden; }
  function openPanel(focus) {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    unread = 0; paintBadge();
    if (!S.open) { S.open = true; if (S.cid) save(); }
    scrollEnd();
    if (focus !== false) input.focus();
    schedule(0);
  }
  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    S.open = false; if (S.cid) save();
    launcher.focus();
    schedule();
  }
  launcher.addEventListener('click', function () { isOpen() ? closePanel() : openPanel(); });
  closeBtn.addEventListener('click', closePanel);
  panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.stopPropagation(); closePanel(); } });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  });
  input.addEventListener('input', grow);
  function grow() { input.style.height = 'auto'; input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px'; }
  function paintBadge() {
    badge.hidden = !unread; badge.textContent = unread > 9 ? '9+' : String(unread);
    launcher.setAttribute('aria-label', T.open + (unread ? ' (' + t('unread', { n: unread }) + ')' : ''));
  }
  function scrollEnd() { list.scrollTop = list.scrollHeight; }
  function nearEnd() { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }
  function announce(s) {
    var d = el('div', { text: s });
    live.appendChild(d);
    while (live.childNodes.length > 5) live.removeChild(live.firstChild);
  }
  function showErr(s) { errEl.textContent = s || ''; errEl.hidden = !s; }

  /* ---------- messages ---------- */
  function fmtTime(iso) {
    var d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleTimeString(KO ? 'ko-KR' : 'en-US', { hour: 'numeric', minute: '2-digit' });
  }
  function body(node, text) {
    // text only, never innerHTML; URLs become links
    var re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g, last = 0, m;
    while ((m = re.exec(text))) {
      node.appendChild(document.createTextNode(text.slice(last, m.index)));
      node.appendChild(el('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer', text: m[0] }));
      last = m.index + m[0].length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  function bubble(from, text, at, channel) {
    var d = el('div', { class: 'msg ' + from, 'data-testid': 'hf-msg', 'data-from': from });
    if (from === 'bot' || from === 'agent') d.appendChild(el('span', { class: 'who', text: from === 'bot' ? BUSINESS + ' · ' + T.bot : T.agent }));
    body(d, text);
    var meta = el('span', { class: 'meta' });
    if (from !== 'system') meta.textContent = (channel === 'sms' ? 'SMS · ' : '') + (at ? fmtTime(at) : '');
    d.appendChild(meta);
    return d;
  }
  function place(node, seq) {
    // keep bubbles in seq order; optimistic ones (no seq) stay last
    var kids = list.children;
    for (var i = 0; i < kids.length; i++) {
      var s = kids[i].__seq;
      if (s === undefined && kids[i] !== greet) { list.insertBefore(node, kids[i]); return; }
      if (typeof s === 'number' && s > seq) { list.insertBefore(node, kids[i]); return; }
    }
    list.appendChild(node);
  }
  function norm(s) { return String(s || '').normalize ? String(s).normalize('NFC').trim() : String(s).trim(); }
  function addMessages(arr, quiet) {
    var stick = nearEnd(), added = 0;
    (arr || []).slice().sort(function (a, b) { return a.seq - b.seq; }).forEach(function (m) {
      if (!m || m.id == null || msgs[m.id]) return;
      var node = null;
      if (m.from === 'customer' && m.channel !== 'sms') {
        // match an optimistic bubble, exact text first, then the oldest sent one
        var i, hit = -1;
        for (i = 0; i < locals.length && hit < 0; i++) if (locals[i].state === 'sent' && norm(locals[i].text) === norm(m.text)) hit = i;
        for (i = 0; i < locals.length && hit < 0; i++) if (locals[i].state === 'sent') hit = i;
        if (hit >= 0) {
          node = locals[hit].el; locals.splice(hit, 1);
          node.classList.remove('pending');
          node.lastChild.textContent = fmtTime(m.at);
          list.removeChild(node);
        }
      }
      if (!node) { node = bubble(m.from, m.text || '', m.at, m.channel); showPhotos(node, m); }
      node.__seq = m.seq; node.setAttribute('data-id', m.id);
      msgs[m.id] = { seq: m.seq, el: node };
      place(node, m.seq);
      added++;
      if (!quiet && m.from !== 'customer') {
        announce(t('said', { w: m.from === 'bot' ? T.bot : T[m.from] || m.from, m: m.text }));
        if (!isOpen()) unread++;
      }
    });
    if (added) { paintBadge(); if (stick || quiet) scrollEnd(); }
    return added;
  }

  /* ---------- status line ---------- */
  function dur(sec) {
    if (sec < 60) return T.min1;
    var m = Math.ceil(sec / 60);
    return m < 90 ? t('mins', { n: m }) : t('hours', { n: Math.round(m / 60) });
  }
  function when(iso) {
    var d = new Date(iso); if (isNaN(d)) return null;
    var loc = KO ? 'ko-KR' : 'en-US';
    // the reader's own clock; English readers are often abroad, so name the zone
    var tm = d.toLocaleTimeString(loc, KO ? { hour: 'numeric', minute: '2-digit' } : { hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
    var day = function (x) { return new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime(); };
    var diff = Math.round((day(d) - day(new Date())) / 864e5);
    if (diff <= 0) return t('today', { t: tm });
    if (diff === 1) return t('tomorrow', { t: tm });
    return d.toLocaleString(loc, KO ? { weekday: 'long', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }
      : { weekday: 'long', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
  }
  var lastLine = '', lastKey = '';
  function paintStatus() {
    var line = '', cls = 's', stick = nearEnd();
    if (status === 'queued') {
      var q = queue || {};
      if (q.open_now === false) {
        var w = q.opens_at && when(q.opens_at);
        line = w ? t('closed', { t: w }) : T.closedNoTime;
      } else {
        var parts = [];
        if (q.position != null) parts.push(t('pos', { n: q.position }));
        if (q.basis === 'no_agents_online') parts.push(T.nobody);
        else if (q.agents_online > 0) parts.push(t('online', { n: q.agents_online }));
        if (q.estimated_wait_seconds != null) parts.push(t('wait', { t: dur(q.estimated_wait_seconds) }));
        line = T.queued + ' ' + (parts.length ? parts.join(', ') + '.' : T.soon);
      }
    } else if (status === 'assigned') { line = T.assigned; cls += ' a'; }
    else if (status === 'resolved') { line = T.resolved; cls += ' r'; }
    // repaint only what changed: keeps focus and whatever is typed in the SMS form
    // the survey's state is part of what is drawn under the resolved line
    var drawn = line + (status === 'resolved' && survey ? '|' + survey : '');
    if (drawn !== lastLine) {
      statusEl.className = cls;
      statusEl.hidden = !line;
      statusText.textContent = line;
      if (status === 'resolved') {
        statusText.appendChild(document.createTextNode(' '));
        statusText.appendChild(el('button', { class: 'lk', type: 'button', 'data-testid': 'hf-new', text: T.newChat, onclick: reset }));
        if (survey) statusText.appendChild(surveyBox());
      }
      if (line && line !== lastLine.split('|')[0]) announce(line);
      lastLine = drawn;
    }
    var key = smsShown() + '|' + S.sms + '|' + smsOpen + '|' + !!smsPhone;
    if (key !== lastKey) { lastKey = key; paintSms(); }
    if (stick) scrollEnd(); // the status line changes the list's height
  }
  /* ---------- the survey after a resolve: five buttons and an optional comment ---------- */
  function surveyBox() {
    if (survey === 'done') return el('div', { class: 'ok', role: 'status', 'data-testid': 'hf-rate-done', text: T.rateThanks });
    var comment = el('input', { type: 'text', maxlength: '1000', 'aria-label': T.rateComment, placeholder: T.rateComment, 'data-testid': 'hf-rate-comment' });
    var row = el('div', { class: 'n', role: 'group', 'aria-label': T.rateQ });
    [1, 2, 3, 4, 5].forEach(function (n) {
      row.appendChild(el('button', { type: 'button', 'data-testid': 'hf-rate-' + n, 'aria-label': t('rateN', { n: n }), text: String(n), onclick: function () { rate(n, comment.value); } }));
    });
    return el('div', { class: 'rt', 'data-testid': 'hf-rate' }, [el('strong', { text: T.rateQ }), row, comment]);
  }
  function rate(n, comment) {
    var body = { score: n };
    if (comment && comment.trim()) body.comment = comment.trim();
    req('POST', '/v1/chat/conversations/' + encodeURIComponent(S.cid) + '/rating', body).then(function (r) {
      // rated now, or before (409): either way the question is answered
      if (r.ok || r.status === 409) { survey = 'done'; paintStatus(); }
      else showErr(errMsg(r));
    });
  }
  function setStatus(st, q) {
    if (st) status = st;
    if (q !== undefined) queue = q || null;
    paintStatus();
  }

  /* ---------- continue by SMS ---------- */
  // Two steps: the number gets a 6-digit code, and only the code links it. smsPhone is
  // the number a code went to; it stays in memory (a raw number never goes to storage).
  var smsOpen = false, smsPhone = null;
  function contactPath(tail) { return '/v1/chat/conversations/' + encodeURIComponent(S.cid) + '/contact' + (tail || ''); }
  function smsShown() { return status === 'queued' || (smsOpen && status === 'assigned'); }
  // E.164 as the server reads it: no country code means Korea
  function e164(v) {
    var d = String(v).replace(/[^\d+]/g, '');
    if (d.indexOf('00') === 0) d = '+' + d.slice(2);
    if (d.charAt(0) === '+') return '+' + d.slice(1).replace(/\D/g, '');
    return '+82' + d.replace(/^0/, '');
  }
  var CC2 = /^(2[07]|3[0-469]|4[013-9]|5[1-8]|6[0-6]|8[1246]|9[0-58])/;
  function mask(v) {
    var n = e164(v).slice(1), cc = /^[17]/.test(n) ? 1 : CC2.test(n) ? 2 : 3;
    if (n.length < cc + 5) return '+' + n.slice(0, cc) + '****';
    return '+' + n.slice(0, cc) + new Array(n.length - cc - 3).join('*') + n.slice(-4);
  }
  function paintSms() {
    smsBox.textContent = '';
    if (S.sms) { smsBox.appendChild(el('div', { 'data-testid': 'hf-sms-ok', tabindex: '-1', text: t('smsOk', { p: S.sms }) })); return; }
    if (!smsShown()) return;
    if (!smsOpen) {
      smsBox.appendChild(el('button', { class: 'lk', type: 'button', 'data-testid': 'hf-sms', text: T.sms, onclick: function () { smsOpen = true; paintStatus(); var f = smsBox.querySelector('input'); if (f) f.focus(); } }));
      smsBox.appendChild(el('button', { class: 'lk', type: 'button', 'data-testid': 'hf-withdraw', text: T.withdraw, onclick: withdraw }));
      return;
    }
    if (smsPhone) { paintCode(''); return; }
    var ph = el('input', { id: 'hf-phone', type: 'tel', inputmode: 'tel', autocomplete: 'tel', placeholder: T.phonePh, 'data-testid': 'hf-phone', 'aria-describedby': 'hf-sms-hint hf-sms-err' });
    var er = el('div', { class: 'e', id: 'hf-sms-err', role: 'alert', 'data-testid': 'hf-sms-error' });
    var go = el('button', { class: 'btn', type: 'submit', 'data-testid': 'hf-sms-send', text: T.smsSend });
    var f = el('form', { class: 'f', onsubmit: function (e) {
      e.preventDefault();
      var v = ph.value.trim();
      if (!v) { er.textContent = T.smsBad; ph.focus(); return; }
      go.disabled = true; er.textContent = '';
      req('POST', contactPath(), { phone: v }).then(function (r) {
        go.disabled = false;
        if (r.ok) {
          smsPhone = v; paintStatus();
          var c = smsBox.querySelector('input'); if (c) c.focus();
          announce(t('codeSent', { p: mask(v) }));
          return;
        }
        var code = r.data && r.data.error && r.data.error.code;
        er.textContent = code === 'invalid_phone' ? T.smsBad : r.status === 429 ? errMsg(r) : t('smsErr', { m: errMsg(r) });
        ph.setAttribute('aria-invalid', 'true'); ph.focus();
      }, function () { go.disabled = false; er.textContent = t('smsErr', { m: T.errNet }); });
    } }, [
      el('label', { for: 'hf-phone', id: 'hf-sms-hint', text: T.smsHint }), ph, go,
      el('button', { class: 'btn sec', type: 'button', text: T.cancel, onclick: function () { smsOpen = false; paintStatus(); } }), er
    ]);
    smsBox.appendChild(f);
  }
  function codeError(r) {
    var e = (r.data && r.data.error) || {};
    if (r.status === 429) return errMsg(r);
    if (e.code === 'code_invalid') {
      var n = parseInt(e.attempts_left, 10);
      return n > 0 ? t('codeWrong', { n: n }) : n === 0 ? T.codeDead : T.codeWrong0;
    }
    if (e.code === 'code_expired') return T.codeExpired;
    if (e.code === 'code_dead') return T.codeDead;
    if (e.code === 'no_code_sent') return T.codeNone;
    if (e.code === 'invalid_code') return T.codeFormat;
    return t('codeErr', { m: errMsg(r) });
  }
  function paintCode(note) {
    smsBox.textContent = '';
    var masked = mask(smsPhone);
    var inp = el('input', { id: 'hf-code', class: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*', placeholder: T.codePh, enterkeyhint: 'done', 'aria-label': T.codeLabel, 'data-testid': 'hf-code', 'aria-describedby': 'hf-code-hint hf-code-err' });
    var er = el('div', { class: 'e', id: 'hf-code-err', role: 'alert', 'data-testid': 'hf-code-error' });
    var info = el('div', { class: 'ok', role: 'status', 'data-testid': 'hf-code-info', text: note });
    var go = el('button', { class: 'btn', type: 'submit', 'data-testid': 'hf-code-send', text: T.codeGo });
    var again = el('button', { class: 'lk', type: 'button', 'data-testid': 'hf-code-resend', text: T.codeAgain });
    var change = el('button', { class: 'lk', type: 'button', 'data-testid': 'hf-code-change', text: T.codeChange, onclick: function () {
      smsPhone = null; paintStatus(); var p = smsBox.querySelector('input'); if (p) p.focus();
    } });
    function busy(b) { go.disabled = b; again.disabled = b; }
    function bad(s) { er.textContent = s; info.textContent = ''; inp.setAttribute('aria-invalid', 'true'); inp.focus(); }
    // digits only, whatever the keyboard or a paste gives ("123 456", full-width digits)
    inp.addEventListener('input', function () {
      var d = (inp.value.normalize ? inp.value.normalize('NFKC') : inp.value).replace(/\D/g, '').slice(0, 6);
      if (d !== inp.value) inp.value = d;
    });
    again.addEventListener('click', function () {
      busy(true); er.textContent = ''; info.textContent = '';
      req('POST', contactPath(), { phone: smsPhone }).then(function (r) {
        busy(false);
        if (r.ok) { inp.value = ''; inp.removeAttribute('aria-invalid'); info.textContent = T.codeResent; inp.focus(); return; }
        bad(r.status === 429 ? errMsg(r) : t('smsErr', { m: errMsg(r) }));
      }, function () { busy(false); bad(t('smsErr', { m: T.errNet })); });
    });
    var f = el('form', { class: 'f', onsubmit: function (e) {
      e.preventDefault();
      var code = inp.value;
      if (!/^\d{6}$/.test(code)) { bad(T.codeFormat); return; }
      busy(true); er.textContent = '';
      req('POST', contactPath('/verify'), { code: code }).then(function (r) {
        busy(false);
        if (r.ok) {
          S.sms = masked; smsPhone = null; smsOpen = false; save(); paintStatus();
          var ok = smsBox.querySelector('[data-testid="hf-sms-ok"]'); if (ok) ok.focus();
          announce(t('smsOk', { p: masked }));
          return;
        }
        bad(codeError(r)); inp.select();
      }, function () { busy(false); bad(t('codeErr', { m: T.errNet })); });
    } }, [
      el('label', { for: 'hf-code', id: 'hf-code-hint', 'data-testid': 'hf-code-hint', text: t('codeSent', { p: masked }) }), inp, go, er, info,
      el('div', {}, [again, change])
    ]);
    smsBox.appendChild(f);
  }

  function withdraw(e) {
    var b = e.currentTarget; b.disabled = true;
    req('POST', '/v1/chat/conversations/' + encodeURIComponent(S.cid) + '/withdraw', {}).then(function (r) {
      b.disabled = false;
      if (!r.ok) { showErr(errMsg(r)); return; }
      epoch++; setStatus((r.data && r.data.status) || 'bot'); input.focus(); schedule(0);
    }, function () { b.disabled = false; showErr(T.errNet); });
  }

  /* ---------- HTTP ---------- */
  function req(method, path, data) {
    var h = { 'Accept': 'application/json' };
    if (data) h['Content-Type'] = 'application/json';
    if (S.token) h.Authorization = 'Bearer ' + S.token;
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl && setTimeout(function () { ctl.abort(); }, 20000);
    return fetch(API + path, { method: method, headers: h, body: data ? JSON.stringify(data) : undefined, signal: ctl && ctl.signal, credentials: 'omit' })
      .then(function (res) {
        clearTimeout(timer);
        return res.text().then(function (txt) {
          var j = null; try { j = txt ? JSON.parse(txt) : null; } catch (e) { /* not JSON */ }
          // Retry-After is readable same-origin only (CORS does not expose it); 0 = unknown
          return { ok: res.ok, status: res.status, data: j, retry: parseInt(res.headers.get('Retry-After'), 10) || 0 };
        });
      }, function (e) { clearTimeout(timer); throw e; });
  }
  function errMsg(r) {
    // a limit is not the customer's fault: say so kindly, never "HTTP 429"
    if (r.status === 429) return r.retry >= 60 ? t('slowFor', { t: dur(r.retry) }) : T.slow;
    return (r.data && r.data.error && r.data.error.message) || ('HTTP ' + r.status);
  }

  /* ---------- sending ---------- */
  function submit() {
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (text.length > MAX) { showErr(T.tooLong); return; }
    input.value = ''; grow(); showErr('');
    var item = { cmid: uuid(), text: text, state: 'pending', tries: 0 };
    item.el = bubble('customer', text, null, 'web');
    item.el.classList.add('pending');
    item.el.lastChild.textContent = T.sending;
    locals.push(item);
    list.appendChild(item.el); scrollEnd();
    outbox.push(item);
    pump();
    input.focus();
  }
  function pump() {
    if (sending || !outbox.length) return;
    sending = true;
    var item = outbox[0];
    item.tries++;
    var payload = { text: item.text, client_message_id: item.cmid, device_id: DEVICE };
    if (S.cid) payload.conversation_id = S.cid;
    req('POST', '/v1/chat/messages', payload).then(function (r) {
      if (r.ok && r.data) {
        var d = r.data;
        if (d.conversation_id && d.conversation_id !== S.cid) {
          // a new conversation (first message, or the server started over): earlier bubbles stay on top
          if (S.cid) { for (var k in msgs) msgs[k].el.__seq = -1; msgs = {}; delete S.sms; smsOpen = false; smsPhone = null; }
          S.cid = d.conversation_id; cursor = null;
        }
        if (d.token) S.token = d.token;
        S.open = isOpen(); save();
        item.state = 'sent'; item.el.lastChild.textContent = '';
        epoch++;
        setStatus(d.status, d.queue);
        addMessages(d.replies);
        done(item); idleDelay = 4000; schedule(0);
      } else if (r.status === 429) {
        // over a limit: retrying now only hits it again; the Retry button stays
        fail(item, errMsg(r), true);
      } else if (r.status >= 500 || r.status === 408) {
        retry(item, errMsg(r));
      } else {
        fail(item, errMsg(r));
        if (r.status === 401 || r.status === 404) forget();
      }
    }, function () { retry(item, T.errNet); });
  }
  function done(item) { outbox.shift(); sending = false; pump(); }
  function retry(item, why) {
    if (item.tries < 3) {
      item.el.lastChild.textContent = T.retrying;
      sending = false;
      setTimeout(pump, 800 * item.tries * item.tries);
      return;
    }
    fail(item, why);
  }
  function fail(item, why, plain) {
    // a failed send stays in place with a Retry button that reuses the same client_message_id
    item.state = 'failed';
    item.el.classList.remove('pending'); item.el.classList.add('failed');
    var meta = item.el.lastChild; meta.textContent = T.failed;
    meta.appendChild(el('button', { type: 'button', 'data-testid': 'hf-retry', text: T.retry, onclick: function () {
      item.state = 'pending'; item.tries = 0;
      item.el.classList.remove('failed'); item.el.classList.add('pending');
      meta.textContent = T.sending; showErr('');
      outbox.push(item); pump();
    } }));
    showErr(plain ? why : t('err', { m: why }));
    outbox.shift(); sending = false; pump();
  }

  /* ---------- polling ---------- */
  function human() { return status === 'queued' || status === 'assigned'; }
  function schedule(ms) {
    clearTimeout(pollTimer); pollTimer = null;
    if (!S.cid) return;
    if (ms === undefined) {
      if (status === 'resolved') return;          // nothing more will come; a send restarts polling
      if (document.hidden) ms = 30000;
      else if (isOpen() && human()) ms = 1500;
      else { ms = idleDelay; idleDelay = Math.min(Math.round(idleDelay * 1.5), human() ? 15000 : 30000); }
    }
    pollTimer = setTimeout(poll, ms);
  }
  function poll() {
    if (!S.cid || polling) return;
    polling = true;
    var at = epoch, cid = S.cid;
    var q = cursor != null ? '?after=' + encodeURIComponent(cursor) : '';
    return req('GET', '/v1/chat/conversations/' + encodeURIComponent(cid) + '/messages' + q).then(function (r) {
      polling = false;
      if (cid !== S.cid) { schedule(); return; }
      if (r.ok && r.data) {
        var quiet = restoring; restoring = false;
        if (addMessages(r.data.messages, quiet) && !quiet) idleDelay = 4000;
        if (r.data.cursor != null) cursor = r.data.cursor;
        if (at === epoch) { survey = r.data.survey || null; setStatus(r.data.status, r.data.queue); }
      } else if (r.status === 401 || r.status === 404) {
        forget(); return;
      }
      schedule();
    }, function () { polling = false; schedule(); });
  }
  document.addEventListener('visibilitychange', function () { if (!document.hidden) { idleDelay = 4000; schedule(0); } });

  function forget() {
    // stored conversation is gone (e.g. server data wiped): start fresh
    S = { open: isOpen() }; try { localStorage.removeItem(KEY); } catch (e) { /* ignore */ }
    cursor = null; status = null; queue = null; survey = null; clearTimeout(pollTimer);
    paintStatus();
  }
  function reset() {
    forget();
    for (var id in msgs) msgs[id].el.remove();
    msgs = {}; locals = []; lastLine = ''; smsOpen = false; smsPhone = null;
    input.focus();
  }

  /* ---------- start ---------- */
  function start() {
    document.body.appendChild(host);
    if (S.cid && S.token) {
      restoring = true;
      poll();
      if (S.open) openPanel(false);
    } else {
      S = {};
    }
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
