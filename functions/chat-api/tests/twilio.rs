//! `POST /v1/sms/twilio`: signed requests in, TwiML out, over the in-memory store and
//! the sample catalog. The signature algorithm itself is tested against Twilio's
//! documented examples in handoff-sms; here the route: which URL is signed, what a
//! mismatch or a bad form does, and repeats.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use chat_api::{ChatApi, TwilioSettings};
use handoff_core::auth::Secret;
use handoff_core::memory::MemoryStore;
use handoff_core::model::{PhoneNumber, Role};
use handoff_core::ports::{ConversationStore, ManualClock, OutboxStore};
use handoff_core::sms::twilio_signature;
use handoff_core::HandoffService;
use handoff_http::config::{load_catalog, Config};
use handoff_http::{body_of, Request, Response};

/// The event file `handoff invoke chat-api` runs; signed with [`DEMO_TOKEN`] for
/// `https://demo.handoff.example/v1/sms/twilio`.
const EVENT: &str = include_str!("../../../events/chat-api/twilio-webhook.json");
const DEMO_TOKEN: &str = "handoff-demo-twilio-token";
const HOST: &str = "demo.handoff.example";
const URL: &str = "https://demo.handoff.example/v1/sms/twilio";
const CUSTOMER: &str = "+821000000104";
/// Monday 2026-11-23 10:00 KST: agents are working.
const OPEN: &str = "2026-11-23T01:00:00Z";

struct Harness {
    api: ChatApi,
    store: Arc<MemoryStore>,
}

fn harness(settings: Option<TwilioSettings>) -> Harness {
    let store = Arc::new(MemoryStore::new());
    let catalog = load_catalog(None).unwrap();
    let secret = Secret::new(b"chat-api-twilio-tests-secret-012345".to_vec()).unwrap();
    let config = Config::with_catalog(&HashMap::new(), catalog, secret).unwrap();
    let service = Arc::new(HandoffService::new(
        store.clone(),
        Arc::new(ManualClock::new(OPEN.parse().unwrap())),
        config.catalog,
        config.index,
        config.settings,
    ));
    Harness {
        api: ChatApi::new(service, config.conversation_tokens.expect("secret given"))
            .with_twilio(settings),
        store,
    }
}

fn demo() -> Harness {
    harness(Some(TwilioSettings::new(DEMO_TOKEN, None)))
}

fn params(sid: &str, from: &str, body: &str) -> Vec<(String, String)> {
    [
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("Body", body),
        ("To", "+12125550100"),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn form_encode(params: &[(String, String)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                b => format!("%{b:02X}"),
            })
            .collect()
    }
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A webhook request for `path_and_query` with `body`, carrying `signature`.
fn request(path_and_query: &str, body: &str, signature: Option<&str>) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut headers = json!({
        "content-type": "application/x-www-form-urlencoded",
        "host": HOST,
        "user-agent": "TwilioProxy/1.1",
    });
    if let Some(s) = signature {
        headers["x-twilio-signature"] = s.into();
    }
    serde_json::from_value(json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": HOST,
            "requestId": "twilio-test",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:01:00:00 +0000",
            "timeEpoch": 1795395600000u64,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "54.172.60.0"}
        },
        "isBase64Encoded": false,
        "body": body,
    }))
    .unwrap()
}

/// A correctly signed request for these params.
fn signed(params: &[(String, String)]) -> Request {
    let sig = twilio_signature(DEMO_TOKEN, URL, params);
    request("/v1/sms/twilio", &form_encode(params), Some(&sig))
}

fn content_type(r: &Response) -> String {
    r.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn error_code(r: &Response) -> String {
    let v: Value = serde_json::from_str(&body_of(r)).unwrap();
    v["error"]["code"].as_str().unwrap_or("").to_string()
}

impl Harness {
    async fn nothing_stored_for(&self, phone: &str) {
        let p = PhoneNumber::from_e164(phone).unwrap();
        assert!(self.store.customer_by_phone(&p).await.unwrap().is_none());
    }
    async fn roles(&self, phone: &str) -> Vec<Role> {
        let p = PhoneNumber::from_e164(phone).unwrap();
        let c = self.store.customer_by_phone(&p).await.unwrap().unwrap();
        let id = c.open_conversation.unwrap();
        let messages = self.store.messages(&id, 0, 100).await.unwrap();
        messages.iter().map(|m| m.from).collect()
    }
}

#[tokio::test]
async fn the_signed_event_file_gets_the_faq_answer_as_twiml() {
    let h = demo();
    let req: Request = serde_json::from_str(EVENT).unwrap();
    let r = h.api.handle(req).await;
    let body = body_of(&r);
    assert_eq!(r.status_code, 200, "{body}");
    assert!(
        content_type(&r).starts_with("text/xml"),
        "{}",
        content_type(&r)
    );
    assert!(
        body.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>"#),
        "{body}"
    );
    assert!(body.contains("3,000원"), "{body}");
    assert_eq!(body.matches("<Message>").count(), 1, "{body}");
    assert_eq!(
        h.roles("+821000000103").await,
        vec![Role::Customer, Role::Bot]
    );
    // Replies in the response, not through the outbox.
    let later = "2030-01-01T00:00:00Z".parse().unwrap();
    assert!(h.store.pending_outbox(later, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_public_base_url_is_the_url_that_was_signed() {
    let event: Request = serde_json::from_str(EVENT).unwrap();
    let right = harness(Some(TwilioSettings::new(
        DEMO_TOKEN,
        Some("https://demo.handoff.example/".into()),
    )));
    assert_eq!(right.api.handle(event.clone()).await.status_code, 200);
    let wrong = harness(Some(TwilioSettings::new(
        DEMO_TOKEN,
        Some("https://other.example".into()),
    )));
    let r = wrong.api.handle(event).await;
    assert_eq!(r.status_code, 403);
    assert_eq!(error_code(&r), "invalid_signature");
}

#[tokio::test]
async fn tampered_requests_are_forbidden_and_nothing_is_stored() {
    let h = demo();
    let p = params(
        "SM0000000000000000000000000000a001",
        CUSTOMER,
        "배송비 얼마예요?",
    );
    let sig = twilio_signature(DEMO_TOKEN, URL, &p);
    let mut changed = p.clone();
    changed[3].1 = "상담원 연결해 주세요".into();
    let cases = [
        (
            "changed body",
            request("/v1/sms/twilio", &form_encode(&changed), Some(&sig)),
        ),
        (
            "query added to the URL",
            request("/v1/sms/twilio?x=1", &form_encode(&p), Some(&sig)),
        ),
        (
            "no signature",
            request("/v1/sms/twilio", &form_encode(&p), None),
        ),
        (
            "empty signature",
            request("/v1/sms/twilio", &form_encode(&p), Some("")),
        ),
        (
            "signed with another token",
            request(
                "/v1/sms/twilio",
                &form_encode(&p),
                Some(&twilio_signature("another-token", URL, &p)),
            ),
        ),
        ("another host", {
            let mut r = request("/v1/sms/twilio", &form_encode(&p), Some(&sig));
            r.headers.insert("host", "evil.example".parse().unwrap());
            r
        }),
        ("signed for https, arrived as http", {
            let mut r = request("/v1/sms/twilio", &form_encode(&p), Some(&sig));
            r.headers
                .insert("x-forwarded-proto", "http".parse().unwrap());
            r
        }),
    ];
    for (name, req) in cases {
        let r = h.api.handle(req).await;
        assert_eq!(r.status_code, 403, "{name}: {}", body_of(&r));
        assert!(content_type(&r).starts_with("application/json"), "{name}");
        assert_eq!(error_code(&r), "invalid_signature", "{name}");
    }
    h.nothing_stored_for(CUSTOMER).await;
}

#[tokio::test]
async fn the_query_string_and_forwarded_proto_are_part_of_the_signed_url() {
    let h = demo();
    let p = params(
        "SM0000000000000000000000000000a002",
        CUSTOMER,
        "배송비 얼마예요?",
    );
    let url = "http://demo.handoff.example/v1/sms/twilio?tenant=dalbit&x=%2B1";
    let sig = twilio_signature(DEMO_TOKEN, url, &p);
    let mut req = request(
        "/v1/sms/twilio?tenant=dalbit&x=%2B1",
        &form_encode(&p),
        Some(&sig),
    );
    req.headers
        .insert("x-forwarded-proto", "http".parse().unwrap());
    let r = h.api.handle(req).await;
    assert_eq!(r.status_code, 200, "{}", body_of(&r));
}

#[tokio::test]
async fn malformed_payloads_are_bad_requests_naming_the_problem() {
    let h = demo();
    let sign = |body: &str| {
        let params = handoff_core::sms::parse_form(body).unwrap_or_default();
        twilio_signature(DEMO_TOKEN, URL, &params)
    };
    let p = params(
        "SM0000000000000000000000000000a003",
        CUSTOMER,
        "배송비 얼마예요?",
    );
    let without = |name: &str| -> Vec<(String, String)> {
        p.iter().filter(|(k, _)| k != name).cloned().collect()
    };
    let mut local_from = p.clone();
    local_from[8].1 = "010-0000-0104".into();
    let mut empty = p.clone();
    empty[3].1 = "  ".into();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "missing From",
            form_encode(&without("From")),
            "invalid_input",
            "`From`",
        ),
        (
            "missing MessageSid",
            form_encode(&without("MessageSid")),
            "invalid_input",
            "`MessageSid`",
        ),
        (
            "missing Body",
            form_encode(&without("Body")),
            "invalid_input",
            "`Body`",
        ),
        (
            "From not E.164",
            form_encode(&local_from),
            "invalid_input",
            "`From`",
        ),
        ("empty Body", form_encode(&empty), "invalid_input", "Body"),
    ];
    for (name, body, code, names) in cases {
        let sig = sign(&body);
        let r = h
            .api
            .handle(request("/v1/sms/twilio", &body, Some(&sig)))
            .await;
        assert_eq!(r.status_code, 400, "{name}: {}", body_of(&r));
        assert_eq!(error_code(&r), code, "{name}");
        let text = body_of(&r);
        assert!(text.contains(names), "{name}: {text}");
        assert!(
            !text.contains("0000-0104") && !text.contains("배송비"),
            "{name}: {text}"
        );
    }
    // A body that is not a form at all.
    let r = h
        .api
        .handle(request("/v1/sms/twilio", "Body=100%&From=x", Some("sig")))
        .await;
    assert_eq!(r.status_code, 400);
    assert_eq!(error_code(&r), "invalid_form");
    assert!(body_of(&r).contains("percent"), "{}", body_of(&r));
    // JSON is not what Twilio sends.
    let mut req = request("/v1/sms/twilio", "{}", Some("sig"));
    req.headers
        .insert("content-type", "application/json".parse().unwrap());
    assert_eq!(h.api.handle(req).await.status_code, 415);
    h.nothing_stored_for(CUSTOMER).await;
}

#[tokio::test]
async fn a_repeated_message_sid_gets_the_same_answer_and_is_stored_once() {
    let h = demo();
    let p = params(
        "SM0000000000000000000000000000a004",
        CUSTOMER,
        "How much is shipping?",
    );
    let first = h.api.handle(signed(&p)).await;
    let second = h.api.handle(signed(&p)).await;
    assert_eq!(first.status_code, 200);
    assert_eq!(second.status_code, 200);
    assert!(body_of(&first).contains("3,000 KRW"), "{}", body_of(&first));
    assert_eq!(body_of(&first), body_of(&second));
    assert_eq!(h.roles(CUSTOMER).await, vec![Role::Customer, Role::Bot]);
}

#[tokio::test]
async fn while_waiting_for_a_person_the_bot_acknowledges_once_then_is_silent() {
    let h = demo();
    let r = h
        .api
        .handle(signed(&params(
            "SM0000000000000000000000000000a005",
            CUSTOMER,
            "0",
        )))
        .await;
    let body = body_of(&r);
    assert_eq!(r.status_code, 200);
    // The one notice that they are waiting for a person.
    assert_eq!(body.matches("<Message>").count(), 1, "{body}");
    let r = h
        .api
        .handle(signed(&params(
            "SM0000000000000000000000000000a006",
            CUSTOMER,
            "배송비 얼마예요?",
        )))
        .await;
    assert_eq!(r.status_code, 200);
    // The one acknowledgement of what they write while waiting.
    assert_eq!(
        body_of(&r).matches("<Message>").count(),
        1,
        "{}",
        body_of(&r)
    );
    let r = h
        .api
        .handle(signed(&params(
            "SM0000000000000000000000000000a00b",
            CUSTOMER,
            "아직이에요?",
        )))
        .await;
    assert_eq!(r.status_code, 200);
    assert_eq!(
        body_of(&r),
        r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#
    );
}

#[tokio::test]
async fn after_stop_only_the_confirmation_is_sent() {
    let h = demo();
    let r = h
        .api
        .handle(signed(&params(
            "SM0000000000000000000000000000a007",
            CUSTOMER,
            "STOP",
        )))
        .await;
    let body = body_of(&r);
    assert!(
        body.contains("<Message>") && body.contains("START"),
        "{body}"
    );
    let r = h
        .api
        .handle(signed(&params(
            "SM0000000000000000000000000000a008",
            CUSTOMER,
            "배송비 얼마예요?",
        )))
        .await;
    assert!(!body_of(&r).contains("<Message>"), "{}", body_of(&r));
    let r = h
        .api
        .handle(signed(&params(
            "SM0000000000000000000000000000a009",
            CUSTOMER,
            "START",
        )))
        .await;
    assert!(body_of(&r).contains("<Message>"), "{}", body_of(&r));
}

#[tokio::test]
async fn without_a_twilio_token_the_route_is_off() {
    let h = harness(None);
    let req: Request = serde_json::from_str(EVENT).unwrap();
    let r = h.api.handle(req).await;
    assert_eq!(r.status_code, 404);
    h.nothing_stored_for("+821000000103").await;
    assert!(TwilioSettings::from_config(None, None).is_none());
    assert!(TwilioSettings::from_config(Some("  ".into()), None).is_none());
    assert!(TwilioSettings::from_config(Some("t".into()), None).is_some());
}
