//! Proactive notices (issue 13 §4), end to end over HTTP on the local server with a
//! `ManualClock`: texts to phones in the customer's language, opted-out numbers
//! skipped, quiet hours held then sent, a repeated request_id sending nothing twice,
//! a reply joining the conversation with the notice in the agent's packet, web
//! customers seeing it in their conversation, and the attacks. The server's own
//! dispatcher loop sends, as in `handoff serve`.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{json, Value};

use chat_api::TwilioSettings;
use handoff_core::ports::ManualClock;
use handoff_core::sms::twilio_signature;
use handoff_local::{build_app, serve_with, Limits, ServeOptions};
use handoff_sqlite::SqliteStore;

mod common;

use common::{texts_to, TestApp};

/// Tuesday 2026-11-24 12:00 in Seoul (the sample business's zone): texting hours.
const NOON_KST: &str = "2026-11-24T03:00:00Z";
/// Tuesday 22:00 in Seoul: inside the default quiet hours 21:00-08:00.
const NIGHT_KST: &str = "2026-11-24T13:00:00Z";
/// Wednesday 08:00 in Seoul: the quiet hours end.
const MORNING_KST: &str = "2026-11-24T23:00:00Z";

const TWILIO_TOKEN: &str = "notices-test-twilio-token";
const OUR_NUMBER: &str = "+15005550006";
const KO_TEXT: &str = "이번 주는 배송이 하루 늦어요. 죄송합니다.";
const EN_TEXT: &str = "Deliveries are a day late this week. Sorry.";

struct Server {
    app: TestApp,
    clock: Arc<ManualClock>,
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

async fn spawn_at(start: &str) -> Server {
    let data =
        std::env::temp_dir().join(format!("handoff-notices-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data).unwrap();
    let store = Arc::new(SqliteStore::open(data.join("handoff.db")).unwrap());
    let opts = ServeOptions {
        data: data.clone(),
        faqs: None,
    };
    let app = build_app(&opts, store).unwrap();
    let clock = Arc::new(ManualClock::new(ts(start)));
    let mut settings = app.config.settings.clone();
    settings.rate_limits = handoff_core::limits::RateLimits::off();
    let mut app = app
        .with_clock_and_settings(clock.clone(), settings)
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    app.chat.twilio = Some(TwilioSettings::new(
        TWILIO_TOKEN,
        Some(format!("http://{addr}")),
    ));
    let tokens = app.agent_tokens.clone();
    let addr = serve_with(listener, Arc::new(app), Limits::default())
        .await
        .unwrap();
    Server {
        app: TestApp {
            base: format!("http://{addr}"),
            addr,
            client: reqwest::Client::new(),
            data,
            tokens,
        },
        clock,
    }
}

impl Server {
    /// A text from `phone` through Twilio's webhook: the TwiML answer.
    async fn sms(&self, phone: &str, sid: &str, body: &str) -> String {
        let params: Vec<(String, String)> = [
            ("MessageSid", sid),
            ("From", phone),
            ("To", OUR_NUMBER),
            ("Body", body),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = format!("{}/v1/sms/twilio", self.app.base);
        let sig = twilio_signature(TWILIO_TOKEN, &url, &params);
        let r = self
            .app
            .client
            .post(&url)
            .header("x-twilio-signature", sig)
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.unwrap()
    }

    async fn notice(&self, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut req = self
            .app
            .client
            .post(format!("{}/v1/agent/notices", self.app.base))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    fn boss(&self) -> String {
        self.app.token_of("boss", true)
    }
}

fn both_languages(phones: &[&str], request_id: &str) -> Value {
    json!({"phones": phones, "text": {"ko": KO_TEXT, "en": EN_TEXT}, "request_id": request_id})
}

/// The texts the outbox delivered to `phone` (E.164) so far.
fn texts_now(app: &TestApp, phone: &str) -> Vec<String> {
    let lines: Vec<Value> = std::fs::read_to_string(app.data.join("deliveries.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    texts_to(&lines, phone)
}

/// The texts to `phone` containing `needle`, once there are `n` (or 3 s passed), and
/// after a few more dispatcher ticks, so that a double send would show.
async fn texts_with(app: &TestApp, phone: &str, needle: &str, n: usize) -> Vec<String> {
    let matching = || -> Vec<String> {
        texts_now(app, phone)
            .into_iter()
            .filter(|t| t.contains(needle))
            .collect()
    };
    for _ in 0..30 {
        if matching().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    matching()
}

#[tokio::test]
async fn texts_go_in_the_customers_language_opted_out_skipped_and_a_repeat_sends_nothing() {
    let s = spawn_at(NOON_KST).await;
    let (english, opted_out, stranger) = ("+821055500001", "+821055500002", "+821055500003");
    // An English-speaking customer and one who opted out.
    s.sms(english, "SMa1", "how much is shipping?").await;
    s.sms(opted_out, "SMb1", "STOP").await;

    let body = both_languages(&[english, opted_out, stranger], "late-week-48");
    let (status, first) = s.notice(Some(&s.boss()), body.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["sent"], 2, "{first}");
    assert_eq!(first["skipped_opted_out"], 1, "{first}");
    assert_eq!(first["deferred_quiet_hours"], 0, "{first}");
    assert!(first["notice_id"].as_str().unwrap().starts_with("n_"));

    assert_eq!(texts_with(&s.app, english, EN_TEXT, 1).await.len(), 1);
    // Unknown number: the business's first language (ko).
    assert_eq!(texts_with(&s.app, stranger, KO_TEXT, 1).await.len(), 1);
    assert!(
        texts_now(&s.app, opted_out)
            .iter()
            .all(|t| !t.contains(KO_TEXT) && !t.contains(EN_TEXT)),
        "nothing to an opted-out number"
    );

    // The same request_id again: the same answer, and no second text.
    let (status, again) = s.notice(Some(&s.boss()), body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(again, first);
    assert_eq!(texts_with(&s.app, english, EN_TEXT, 1).await.len(), 1);
    assert_eq!(texts_with(&s.app, stranger, KO_TEXT, 1).await.len(), 1);
}

#[tokio::test]
async fn a_reply_joins_the_conversation_and_the_agent_sees_the_notice() {
    let s = spawn_at(NOON_KST).await;
    let phone = "+821055500011";
    let (status, r) = s
        .notice(Some(&s.boss()), both_languages(&[phone], "reply-joins"))
        .await;
    assert_eq!(
        (status, r["sent"].as_u64()),
        (StatusCode::ACCEPTED, Some(1)),
        "{r}"
    );
    assert_eq!(texts_with(&s.app, phone, KO_TEXT, 1).await.len(), 1);
    // A conversation the business started counts in the insights only once the
    // customer writes: notices to many must not inflate the containment rate.
    let day = "/v1/agent/insights?from=2026-11-24&to=2026-11-24";
    let (status, r) = s.app.get(day, &s.boss()).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["conversations"].as_i64(), Some(0), "{r}");

    // The customer answers and asks for a person: the agent's packet shows the notice
    // before the reply, in the one conversation.
    s.sms(phone, "SMr1", "상담원 연결해 주세요").await;
    let (_, r) = s.app.get(day, &s.boss()).await;
    assert_eq!(r["conversations"].as_i64(), Some(1), "{r}");
    assert_eq!(r["containment_rate"].as_f64(), Some(0.0), "{r}");
    let agent = s.app.token_of("agent-a", false);
    let (_, queue) = s.app.get("/v1/agent/queue", &agent).await;
    let id = queue["queued"][0]["conversation_id"].as_str().unwrap();
    let (status, packet) = s
        .app
        .get(&format!("/v1/agent/conversations/{id}"), &agent)
        .await;
    assert_eq!(status, StatusCode::OK, "{packet}");
    let transcript: Vec<(&str, &str)> = packet["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["from"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(transcript[0], ("system", KO_TEXT), "{transcript:?}");
    assert_eq!(
        transcript[1],
        ("customer", "상담원 연결해 주세요"),
        "{transcript:?}"
    );
}

#[tokio::test]
async fn quiet_hours_hold_texts_until_they_end_but_web_customers_see_it_at_once() {
    let s = spawn_at(NIGHT_KST).await;
    // A web customer, found by the supervisor in the packet.
    let (status, web, _) = s
        .app
        .post(
            "/v1/chat/messages",
            json!({"text": "배송비 얼마예요?", "device_id": "notice-web"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{web}");
    let conv = web["conversation_id"].as_str().unwrap();
    let (_, packet) = s
        .app
        .get(&format!("/v1/agent/conversations/{conv}"), &s.boss())
        .await;
    let web_customer = packet["customer"]["customer_id"].as_str().unwrap();
    // And a texting customer.
    let phone = "+821055500021";
    s.sms(phone, "SMq1", "배송비 얼마예요?").await;
    let (_, by_phone) = s
        .notice(
            Some(&s.boss()),
            json!({"phones": [phone], "text": {"ko": "x"}, "request_id": "probe"}),
        )
        .await;
    assert_eq!(by_phone["deferred_quiet_hours"], 1, "{by_phone}");

    let (status, r) = s
        .notice(
            Some(&s.boss()),
            json!({"customer_ids": [web_customer], "text": {"ko": KO_TEXT, "en": EN_TEXT}, "request_id": "night-web"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{r}");
    assert_eq!(
        (r["sent"].as_u64(), r["deferred_quiet_hours"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    // The widget loads the conversation's history when the customer comes back.
    let mut seen = false;
    for _ in 0..50 {
        let r: Value = s
            .app
            .client
            .get(format!(
                "{}/v1/chat/conversations/{conv}/messages?after=0",
                s.app.base
            ))
            .bearer_auth(web["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen = r["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == KO_TEXT);
        if seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the web customer sees the notice");

    // The text waits for the morning.
    assert!(texts_with(&s.app, phone, "x", 1)
        .await
        .iter()
        .all(|t| t != "x"));
    s.clock.set(ts(MORNING_KST));
    assert_eq!(
        texts_with(&s.app, phone, "x", 1).await,
        vec!["x".to_string()]
    );
}

#[tokio::test]
async fn only_supervisors_send_and_bad_input_names_the_field_with_nothing_sent() {
    let s = spawn_at(NOON_KST).await;
    let phone = "+821055500031";
    let body = both_languages(&[phone], "attack-1");
    // No token; a customer's conversation token; an agent.
    let (status, _) = s.notice(None, body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, web, _) = s
        .app
        .post("/v1/chat/messages", json!({"text": "hi"}), None)
        .await;
    let (status, _) = s
        .notice(Some(web["token"].as_str().unwrap()), body.clone())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, r) = s
        .notice(Some(&s.app.token_of("agent-a", false)), body.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{r}");

    for (bad, field) in [
        (json!({"text": {"ko": "a"}, "request_id": "b1"}), "phones"),
        (
            json!({"phones": [phone], "customer_ids": ["u_1"], "text": {"ko": "a"}, "request_id": "b2"}),
            "phones",
        ),
        (
            json!({"phones": ["01055500031"], "text": {"ko": "a"}, "request_id": "b3"}),
            "phones",
        ),
        (
            json!({"phones": [phone], "text": {}, "request_id": "b4"}),
            "text",
        ),
        (
            json!({"phones": [phone], "text": {"ko": "a"}, "request_id": "no spaces"}),
            "request_id",
        ),
        (
            json!({"customer_ids": ["u_nobody"], "text": {"ko": "a"}, "request_id": "b6"}),
            "customer_ids",
        ),
    ] {
        let (status, r) = s.notice(Some(&s.boss()), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains(field),
            "{bad}: {r}"
        );
    }
    // Refused requests sent nothing and did not take their request_id.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(texts_now(&s.app, phone).is_empty());
    let (status, r) = s.notice(Some(&s.boss()), body).await;
    assert_eq!(
        (status, r["sent"].as_u64()),
        (StatusCode::ACCEPTED, Some(1)),
        "{r}"
    );
}
