//! Issue 12 end to end over HTTP: a day of conversations (answered, clarified, handed
//! off, withdrawn, dismissed, rated on the web and by SMS through Twilio's signed
//! webhook, a customer coming back) and every number the insights route returns;
//! the survey's rules and the route's guards (tokens, roles, dates).

mod common;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use chat_api::TwilioSettings;
use handoff_core::sms::twilio_signature;
use handoff_local::{build_app, serve_with, Limits, ServeOptions};
use handoff_sqlite::SqliteStore;

use common::{texts_to, TestApp};

const TWILIO_TOKEN: &str = "insights-test-twilio-token";
const PHONE: &str = "+821055501234";
const OUR_NUMBER: &str = "+15005550006";

/// The local server with Twilio's webhook on (signed for this server's own URL).
async fn spawn_with_twilio() -> TestApp {
    let data = std::env::temp_dir().join(format!(
        "handoff-insights-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&data).unwrap();
    let store = Arc::new(SqliteStore::open(data.join("handoff.db")).unwrap());
    let opts = ServeOptions {
        data: data.clone(),
        faqs: None,
    };
    let mut app = build_app(&opts, store).unwrap();
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
    TestApp {
        base: format!("http://{addr}"),
        addr,
        client: reqwest::Client::new(),
        data,
        tokens,
    }
}

/// A text from `PHONE` through Twilio's webhook: the TwiML answer.
async fn sms(app: &TestApp, sid: &str, body: &str) -> String {
    let params: Vec<(String, String)> = [
        ("MessageSid", sid),
        ("From", PHONE),
        ("To", OUR_NUMBER),
        ("Body", body),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = format!("{}/v1/sms/twilio", app.base);
    let sig = twilio_signature(TWILIO_TOKEN, &url, &params);
    let r = app
        .client
        .post(&url)
        .header("x-twilio-signature", sig)
        .form(&params)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}: {text}");
    text
}

/// A web message: (conversation id, token, reply body).
async fn web(app: &TestApp, text: &str, conv: Option<(&str, &str)>) -> (String, String, Value) {
    let (body, token) = match conv {
        Some((id, tok)) => (json!({"text": text, "conversation_id": id}), Some(tok)),
        None => (json!({"text": text}), None),
    };
    let (status, r, _) = app.post("/v1/chat/messages", body, token).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let id = r["conversation_id"].as_str().unwrap().to_string();
    let tok = r["token"].as_str().unwrap().to_string();
    (id, tok, r)
}

async fn agent_action(app: &TestApp, agent: &str, id: &str, action: &str) -> Value {
    let (status, r, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/{action}"),
            json!({}),
            Some(agent),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {r}");
    r
}

async fn handled_by(app: &TestApp, agent: &str, id: &str) {
    agent_action(app, agent, id, "claim").await;
    let (status, r, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/messages"),
            json!({"text": "Happy to help with that."}),
            Some(agent),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    agent_action(app, agent, id, "resolve").await;
}

async fn rate(app: &TestApp, id: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let (status, r, _) = app
        .post(&format!("/v1/chat/conversations/{id}/rating"), body, token)
        .await;
    (status, r)
}

fn range() -> String {
    // Yesterday to tomorrow (UTC): a run across midnight still sees every event.
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    format!(
        "from={}&to={}",
        today.yesterday().unwrap(),
        today.tomorrow().unwrap()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_conversations_and_every_number_insights_returns() {
    let app = spawn_with_twilio().await;
    let agent_a = app.token_of("agent-a", false);
    let agent_b = app.token_of("agent-b", false);
    let boss = app.token_of("boss", true);

    // A: answered by the bot, nothing more.
    let (_, _, r) = web(&app, "배송비 얼마예요?", None).await;
    assert_eq!(r["replies"][0]["faq_id"], "shipping-fee", "{r}");

    // B: a clarifying question, then a person; rated 5 on the web with a comment.
    let (b, b_tok, r) = web(&app, "what about the thing", None).await;
    assert!(r["replies"][0]["faq_id"].is_null(), "clarified: {r}");
    let (_, _, r) = web(&app, "상담원 연결해 주세요", Some((&b, &b_tok))).await;
    assert_eq!(r["status"], "queued", "{r}");
    let (status, r) = rate(&app, &b, Some(&b_tok), json!({"score": 5})).await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_survey")),
        "no survey before the resolve"
    );
    handled_by(&app, &agent_a, &b).await;
    let (_, msgs) = app
        .get(&format!("/v1/chat/conversations/{b}/messages"), &b_tok)
        .await;
    let last = msgs["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["from"], "system");
    // In the customer's language: B's last words were Korean.
    assert!(
        last["text"]
            .as_str()
            .unwrap()
            .starts_with("상담은 어떠셨나요?"),
        "{last}"
    );
    for bad in [
        json!({"score": 0}),
        json!({"score": 6}),
        json!({"score": 4.5}),
        json!({"score": "5"}),
        json!({}),
    ] {
        let (status, r) = rate(&app, &b, Some(&b_tok), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains("score"),
            "{r}"
        );
    }
    let (status, r) = rate(&app, &b, None, json!({"score": 5})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no token: {r}");
    let (status, r) = rate(
        &app,
        &b,
        Some(&b_tok),
        json!({"score": 5, "comment": "quick and kind"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["score"].as_u64(), r["comment"].as_str()),
        (Some(5), Some("quick and kind"))
    );
    let (status, r) = rate(&app, &b, Some(&b_tok), json!({"score": 1})).await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_rated"))
    );

    // C: asks for a person, then withdraws: abandoned. Its token cannot rate B.
    let (c, c_tok, _) = web(&app, "상담원 연결해 주세요", None).await;
    let (status, _, _) = app
        .post(
            &format!("/v1/chat/conversations/{c}/withdraw"),
            json!({}),
            Some(&c_tok),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = rate(&app, &b, Some(&c_tok), json!({"score": 3})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "another customer's token");

    // D: the bot cannot help (twice not understood), a supervisor dismisses it: no survey.
    let (d, d_tok, _) = web(&app, "asdf qwer", None).await;
    let (_, _, r) = web(&app, "asdf qwer", Some((&d, &d_tok))).await;
    assert_eq!(r["status"], "queued", "{r}");
    agent_action(&app, &boss, &d, "dismiss").await;
    let (status, r) = rate(&app, &d, Some(&d_tok), json!({"score": 1})).await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_survey")),
        "{r}"
    );

    // E: by SMS: answered, then a person (agent-b), resolved; the survey rides on the
    // resolve text; "4" is the rating (no new conversation, one thanks); the customer
    // comes back with a new question the same day.
    let twiml = sms(&app, "SMe1", "how much is shipping?").await;
    assert!(twiml.contains("3,000"), "{twiml}");
    sms(&app, "SMe2", "agent").await;
    let (_, queue) = app.get("/v1/agent/queue", &agent_b).await;
    let e = queue["queued"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["channel"] == "sms")
        .unwrap()["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    handled_by(&app, &agent_b, &e).await;
    let texts = texts_to(&app.deliveries(2).await, PHONE);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Reply with one number from 1")),
        "the survey question is texted: {texts:?}"
    );
    let thanks = sms(&app, "SMe3", "4").await;
    assert!(thanks.contains("Thank you for your rating!"), "{thanks}");
    assert_eq!(
        thanks.matches("<Message>").count(),
        1,
        "one short thanks: {thanks}"
    );
    let again = sms(&app, "SMe3", "4").await;
    assert_eq!(
        again, thanks,
        "a repeated webhook is answered the same, stored once"
    );
    let (_, packet) = app
        .get(&format!("/v1/agent/conversations/{e}"), &boss)
        .await;
    assert_eq!(
        packet["status"], "resolved",
        "the digit started nothing: {packet}"
    );
    let twiml = sms(&app, "SMe4", "배송비 얼마예요?").await;
    assert!(twiml.contains("3,000"), "a normal message again: {twiml}");

    // Agents may not see insights; bad dates are 400 naming the field.
    let (status, _) = app
        .get(&format!("/v1/agent/insights?{}", range()), &agent_a)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = app
        .client
        .get(format!("{}/v1/agent/insights", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    for (q, field) in [
        ("from=2026-02-30", "from"),
        ("from=yesterday", "from"),
        ("to=2026-1-1", "to"),
        ("from=2026-12-02&to=2026-12-01", "to"),
        ("from=2025-01-01&to=2026-01-01", "from"),
    ] {
        let (status, r) = app.get(&format!("/v1/agent/insights?{q}"), &boss).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {r}");
        assert!(
            r["error"]["message"].as_str().unwrap().starts_with(field),
            "{q}: {r}"
        );
    }

    let (status, r) = app
        .get(&format!("/v1/agent/insights?{}", range()), &boss)
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    let n = |v: &Value| v.as_i64().unwrap_or(-1);
    assert_eq!(n(&r["conversations"]), 6, "A, B, C, D, E and E's return");
    assert_eq!(r["messages_in"], json!({"web": 6, "sms": 4}));
    assert_eq!(n(&r["bot_answers"]), 3);
    assert_eq!(n(&r["clarifications"]), 2);
    assert_eq!(n(&r["handoffs"]), 4);
    assert_eq!(
        r["handoffs_by_reason"],
        json!({"customer_asked": 3, "bot_could_not_help": 1})
    );
    assert_eq!(
        r["containment_rate"].as_f64(),
        Some(0.3333),
        "2 of 6 never reached a person"
    );
    assert_eq!(n(&r["abandoned"]), 1);
    assert_eq!(n(&r["resolved"]), 2, "a dismissal is no resolve");
    for d in [
        "time_to_claim",
        "time_to_first_human_reply",
        "resolution_time",
    ] {
        assert_eq!(n(&r[d]["count"]), 2, "{d}");
        // Everything here took seconds: the first histogram bucket (≤ 5 s).
        assert_eq!(
            (r[d]["p50"].as_u64(), r[d]["p90"].as_u64()),
            (Some(5), Some(5)),
            "{d}"
        );
    }
    let csat = &r["csat"];
    assert_eq!(n(&csat["surveys_sent"]), 2);
    assert_eq!(n(&csat["count"]), 2);
    assert_eq!(csat["average"].as_f64(), Some(4.5));
    assert_eq!(
        csat["distribution"],
        json!({"1": 0, "2": 0, "3": 0, "4": 1, "5": 1})
    );
    assert_eq!(
        csat["by_agent"],
        json!({"agent-a": {"count": 1, "average": 5.0}, "agent-b": {"count": 1, "average": 4.0}})
    );
    assert_eq!(
        csat["by_faq"],
        json!({"shipping-fee": {"count": 1, "average": 4.0}})
    );
    assert_eq!(
        r["top_faqs"],
        json!([{"faq_id": "shipping-fee", "count": 3}])
    );
    assert_eq!(n(&r["unanswered"]), 3);
    assert_eq!(
        r["top_unanswered"],
        json!([
            {"count": 2, "examples": ["asdf qwer"]},
            {"count": 1, "examples": ["what about the thing"]}
        ])
    );
    assert_eq!(
        r["repeat_contacts"],
        json!({"total": 1, "by": [{"key": "faq:shipping-fee", "count": 1}]})
    );

    // The console page for supervisors is served with its CSP.
    let page = app
        .client
        .get(format!("{}/console/insights", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sha256-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_survey_goes_to_an_opted_out_number() {
    let app = spawn_with_twilio().await;
    let agent = app.token_of("agent-a", false);
    sms(&app, "SMo1", "agent").await;
    let (_, queue) = app.get("/v1/agent/queue", &agent).await;
    let id = queue["queued"][0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    agent_action(&app, &agent, &id, "claim").await;
    sms(&app, "SMo2", "STOP").await;
    agent_action(&app, &agent, &id, "resolve").await;
    let texts = texts_to(&app.deliveries(1).await, PHONE);
    assert!(
        texts.iter().all(|t| !t.contains("Reply with one number")),
        "nothing asked of an opted-out number: {texts:?}"
    );
    // A digit from it is no rating.
    let twiml = sms(&app, "SMo3", "5").await;
    assert!(!twiml.contains("Thank you for your rating"), "{twiml}");
    let (_, r) = app
        .get("/v1/agent/insights", &app.token_of("boss", true))
        .await;
    assert_eq!(
        (
            r["csat"]["surveys_sent"].as_i64(),
            r["csat"]["count"].as_i64()
        ),
        (Some(0), Some(0)),
        "{r}"
    );
}
