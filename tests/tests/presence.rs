//! Presence, honest waits, escalation and the after-hours promise, over real HTTP on
//! the local server. Time is a `ManualClock` the test moves; the server's own timer
//! runs the escalation sweep as in `handoff serve`, and the tests also run it
//! concurrently to check that each alert goes out exactly once.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use handoff_core::auth::AgentTokens;
use handoff_core::hours::AgentHours;
use handoff_core::ids::AgentId;
use handoff_core::ports::ManualClock;
use handoff_local::{build_app, serve, App, ScratchDir, ServeOptions};
use handoff_sqlite::SqliteStore;

/// Monday 2026-11-23, 10:00 in Seoul: in agent hours (Mon-Fri 09:00-18:00).
const MONDAY_10_KST: &str = "2026-11-23T01:00:00Z";
/// Monday 23:00 in Seoul: after hours.
const MONDAY_23_KST: &str = "2026-11-23T14:00:00Z";
/// Tuesday 09:00 in Seoul: opening.
const TUESDAY_09_KST: &str = "2026-11-24T00:00:00Z";

struct Server {
    base: String,
    client: reqwest::Client,
    data: std::path::PathBuf,
    tokens: AgentTokens,
    clock: Arc<ManualClock>,
    app: Arc<App>,
    _scratch: ScratchDir,
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

async fn spawn_at(start: &str) -> Server {
    let scratch = ScratchDir::new("handoff-presence").unwrap();
    let data = scratch.0.clone();
    std::fs::create_dir_all(&data).unwrap();
    let store = Arc::new(SqliteStore::open(data.join("handoff.db")).unwrap());
    let app = build_app(
        &ServeOptions {
            data: data.clone(),
            faqs: None,
        },
        store,
    )
    .unwrap();
    let clock = Arc::new(ManualClock::new(ts(start)));
    let mut settings = app.config.settings.clone();
    settings.hours = AgentHours::parse("Mon-Fri 09:00-18:00", "Asia/Seoul").unwrap();
    settings.escalate_after = SignedDuration::from_mins(5);
    settings.rate_limits = handoff_core::limits::RateLimits::off();
    let app = Arc::new(
        app.with_clock_and_settings(clock.clone(), settings)
            .unwrap(),
    );
    let tokens = app.agent_tokens.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = serve(listener, app.clone()).await.unwrap();
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        data,
        tokens,
        clock,
        app,
        _scratch: scratch,
    }
}

impl Server {
    fn token(&self, id: &str, supervisor: bool) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        self.tokens
            .issue(&AgentId::parse(id).unwrap(), supervisor, now, 3600)
    }

    async fn presence(&self, token: Option<&str>, body: &str) -> (StatusCode, Value) {
        let mut req = self
            .client
            .put(format!("{}/v1/agent/me/presence", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    /// A customer asks for a person: the whole answer.
    async fn hand_off(&self, text: &str) -> Value {
        let r: Value = self
            .client
            .post(format!("{}/v1/chat/messages", self.base))
            .json(&json!({"text": text}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["status"], "queued", "{r}");
        r
    }

    async fn say(&self, conv: &Value, text: &str) -> Value {
        self.client
            .post(format!("{}/v1/chat/messages", self.base))
            .bearer_auth(conv["token"].as_str().unwrap())
            .json(&json!({"text": text, "conversation_id": conv["conversation_id"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn customer_view(&self, conv: &Value) -> Value {
        let id = conv["conversation_id"].as_str().unwrap();
        self.client
            .get(format!(
                "{}/v1/chat/conversations/{id}/messages?after=0",
                self.base
            ))
            .bearer_auth(conv["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn agent_post(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn queue(&self, token: &str) -> Value {
        self.client
            .get(format!("{}/v1/agent/queue", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn delivered(&self) -> Vec<Value> {
        std::fs::read_to_string(self.data.join("deliveries.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Deliveries of `kind`, after the server's timer (sweep every 2 s, delivery every
    /// 0.5 s) has had the chance to run at least twice.
    async fn settled(&self, kind: &str) -> Vec<Value> {
        tokio::time::sleep(Duration::from_millis(4500)).await;
        self.delivered()
            .into_iter()
            .filter(|d| d["item"]["kind"] == kind)
            .collect()
    }

    /// Runs the sweep `n` times at once, as overlapping scheduled invocations would.
    async fn concurrent_sweeps(&self, n: usize) {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let app = self.app.clone();
            tasks.push(tokio::spawn(async move {
                app.service.escalator().sweep().await.unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
}

fn id_of(conv: &Value) -> &str {
    conv["conversation_id"].as_str().unwrap()
}

#[tokio::test]
async fn presence_counts_agents_online_until_the_heartbeat_stops() {
    let s = spawn_at(MONDAY_10_KST).await;
    let (a, b, sup) = (
        s.token("agent-a", false),
        s.token("agent-b", false),
        s.token("boss", true),
    );
    // Attacks and bad input: no token, wrong shape, wrong type, wrong status.
    assert_eq!(
        s.presence(None, r#"{"status":"online"}"#).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (st, body) = s.presence(Some(&a), r#"{"status":"busy"}"#).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
    assert_eq!(
        s.presence(Some(&a), r#"{"status":"online","x":1}"#).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(s.presence(Some(&a), "[]").await.0, StatusCode::BAD_REQUEST);
    let r = s
        .client
        .put(format!("{}/v1/agent/me/presence", s.base))
        .bearer_auth(&a)
        .header("content-type", "text/plain")
        .body(r#"{"status":"online"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A customer's conversation token is not an agent token.
    let conv = s.hand_off("상담원 연결해 주세요").await;
    let customer = conv["token"].as_str().unwrap();
    assert_eq!(
        s.presence(Some(customer), r#"{"status":"online"}"#).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(s.customer_view(&conv).await["queue"]["agents_online"], 0);

    let (st, body) = s.presence(Some(&a), r#"{"status":"online"}"#).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["agent_id"].as_str(),
            body["status"].as_str(),
            body["agents_online"].as_u64()
        ),
        (Some("agent-a"), Some("online"), Some(1))
    );
    assert_eq!(
        body["expires_at"], "2026-11-23T01:01:30Z",
        "90 s TTL: {body}"
    );
    assert_eq!(body["heartbeat_seconds"], 30);
    let (_, body) = s.presence(Some(&sup), r#"{"status":"online"}"#).await;
    assert_eq!(
        body["agents_online"], 2,
        "supervisors count as agents: {body}"
    );
    let (_, body) = s.presence(Some(&b), r#"{"status":"away"}"#).await;
    assert_eq!(
        (body["agents_online"].as_u64(), &body["expires_at"]),
        (Some(2), &Value::Null)
    );
    assert_eq!(s.customer_view(&conv).await["queue"]["agents_online"], 2);

    // Agent a keeps beating; the supervisor's console closed without a word.
    s.clock.advance(SignedDuration::from_secs(60));
    s.presence(Some(&a), r#"{"status":"online"}"#).await;
    s.clock.advance(SignedDuration::from_secs(31));
    let q = s.customer_view(&conv).await["queue"].clone();
    assert_eq!(
        (q["agents_online"].as_u64(), q["basis"].as_str()),
        (Some(1), Some("recent_claims")),
        "{q}"
    );
    let (_, body) = s.presence(Some(&a), r#"{"status":"away"}"#).await;
    assert_eq!(body["agents_online"], 0);
    let q = s.customer_view(&conv).await["queue"].clone();
    assert_eq!(
        (q["basis"].as_str(), &q["estimated_wait_seconds"]),
        (Some("no_agents_online"), &Value::Null),
        "{q}"
    );
}

#[tokio::test]
async fn waits_are_told_from_recent_claims_and_agents_online_never_made_up() {
    let s = spawn_at(MONDAY_10_KST).await;
    let a = s.token("agent-a", false);

    // Nobody online: no figure, and the text says so.
    let first = s.hand_off("상담원 연결해 주세요").await;
    let q = &first["queue"];
    assert_eq!(
        (
            q["position"].as_u64(),
            q["agents_online"].as_u64(),
            q["basis"].as_str(),
            &q["estimated_wait_seconds"]
        ),
        (Some(1), Some(0), Some("no_agents_online"), &Value::Null),
        "{q}"
    );
    let notice = first["replies"][0]["text"].as_str().unwrap();
    assert!(
        notice.contains("알려 드릴 수 없어요") && !notice.contains("약 4분"),
        "{notice}"
    );

    // Online, but no claim seen yet: still no figure.
    s.presence(Some(&a), r#"{"status":"online"}"#).await;
    let q = s.customer_view(&first).await["queue"].clone();
    assert_eq!(
        (q["basis"].as_str(), &q["estimated_wait_seconds"]),
        (Some("recent_claims"), &Value::Null),
        "{q}"
    );

    // While waiting, the bot acknowledges the customer once, not every message.
    let r = s.say(&first, "주문번호는 1234예요").await;
    assert_eq!(r["replies"].as_array().map(Vec::len), Some(1), "{r}");
    assert!(
        r["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("메시지를 받았어요"),
        "{r}"
    );
    let r = s.say(&first, "아직인가요?").await;
    assert_eq!(
        r["replies"].as_array().map(Vec::len),
        Some(0),
        "acknowledged once: {r}"
    );

    // Claimed after 2 minutes: that is the sample.
    s.clock.advance(SignedDuration::from_secs(120));
    s.presence(Some(&a), r#"{"status":"online"}"#).await;
    let (st, body) = s
        .agent_post(
            &a,
            &format!("/v1/agent/conversations/{}/claim", id_of(&first)),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");

    let second = s.hand_off("I want to talk to a person").await;
    let q = &second["queue"];
    assert_eq!(
        (
            q["position"].as_u64(),
            q["agents_online"].as_u64(),
            q["basis"].as_str(),
            q["estimated_wait_seconds"].as_u64()
        ),
        (Some(1), Some(1), Some("recent_claims"), Some(120)),
        "{q}"
    );
    let notice = second["replies"][0]["text"].as_str().unwrap();
    assert!(
        notice.contains("number 1")
            && notice.contains("1 of our team is online")
            && notice.contains("about 2 min"),
        "{notice}"
    );
    // Second in line with one agent: two rounds of the median.
    let third = s.hand_off("상담원 연결").await;
    assert_eq!(third["queue"]["estimated_wait_seconds"], 240, "{third}");

    // Outside agent hours: the wait until opening, basis closed.
    s.clock.set(ts(MONDAY_23_KST));
    let q = s.customer_view(&third).await["queue"].clone();
    assert_eq!(q["basis"], "closed", "{q}");
    assert_eq!(q["estimated_wait_seconds"], 10 * 3600, "{q}");
    assert_eq!(q["opens_at"], TUESDAY_09_KST, "{q}");
}

#[tokio::test]
async fn an_unclaimed_handoff_escalates_exactly_once() {
    let s = spawn_at(MONDAY_10_KST).await;
    let conv = s.hand_off("상담원 연결해 주세요").await;
    let claimed = s.hand_off("agent please").await;
    let a = s.token("agent-a", false);
    s.agent_post(
        &a,
        &format!("/v1/agent/conversations/{}/claim", id_of(&claimed)),
    )
    .await;

    s.clock.advance(SignedDuration::from_secs(4 * 60 + 59));
    s.concurrent_sweeps(4).await;
    assert!(s.settled("escalation").await.is_empty(), "not yet at 4:59");

    s.clock.advance(SignedDuration::from_secs(2));
    s.concurrent_sweeps(8).await;
    let escalations = s.settled("escalation").await;
    assert_eq!(escalations.len(), 1, "exactly once: {escalations:?}");
    let e = &escalations[0]["item"];
    assert_eq!(e["conversation_id"], id_of(&conv));
    assert_eq!(e["minutes_waited"], 5);
    assert_eq!(
        e["link"].as_str().unwrap(),
        format!("{}/console#c/{}", s.base, id_of(&conv)),
        "links to this server's console"
    );
    // The customer hears it, once.
    let view = s.customer_view(&conv).await;
    let updates: Vec<&Value> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["text"]
                .as_str()
                .unwrap_or("")
                .contains("책임자에게 알렸어요")
        })
        .collect();
    assert_eq!(updates.len(), 1, "{view}");

    // Later sweeps change nothing.
    s.clock.advance(SignedDuration::from_mins(30));
    s.concurrent_sweeps(3).await;
    assert_eq!(s.settled("escalation").await.len(), 1);
    // Every agent alert names its conversation and links the console.
    for d in s
        .delivered()
        .iter()
        .filter(|d| d["item"]["kind"] == "agent_alert")
    {
        let id = d["item"]["conversation_id"].as_str().unwrap();
        assert!(
            d["item"]["link"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/console#c/{id}")),
            "{d}"
        );
    }
}

#[tokio::test]
async fn after_hours_handoffs_wait_quietly_then_one_digest_at_opening_and_escalation() {
    let s = spawn_at(MONDAY_23_KST).await;
    let night1 = s.hand_off("상담원 연결해 주세요").await;
    s.clock.advance(SignedDuration::from_mins(30));
    let night2 = s.hand_off("I need a person").await;
    assert_eq!(night1["queue"]["basis"], "closed");
    let told = night1["replies"][0]["text"].as_str().unwrap();
    assert!(told.contains("오전 9:00"), "{told}");
    // The acknowledgement at night says when a person answers.
    let r = s.say(&night1, "내일 연락 주세요").await;
    assert!(
        r["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("오전 9:00부터"),
        "{r}"
    );

    s.concurrent_sweeps(2).await;
    let at_night = s.settled("agent_alert").await;
    assert!(at_night.is_empty(), "nobody paged at night: {at_night:?}");
    assert!(s.settled("digest").await.is_empty());

    // Opening: one digest, even with overlapping sweeps.
    s.clock.set(ts(TUESDAY_09_KST));
    s.clock.advance(SignedDuration::from_secs(30));
    let morning = s.hand_off("상담원이요").await;
    s.concurrent_sweeps(6).await;
    let digests = s.settled("digest").await;
    assert_eq!(digests.len(), 1, "{digests:?}");
    let d = &digests[0]["item"];
    assert_eq!(
        d["conversation_ids"],
        json!([id_of(&night1), id_of(&night2)])
    );
    assert_eq!(d["waiting"], 2);
    assert_eq!(d["link"].as_str().unwrap(), format!("{}/console", s.base));
    // The handoff made in hours was alerted as usual.
    let alerts = s.settled("agent_alert").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["item"]["conversation_id"], id_of(&morning));

    // The night's conversations come first in the queue.
    let sup = s.token("boss", true);
    let q = s.queue(&sup).await;
    let order: Vec<&str> = q["queued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec![id_of(&night1), id_of(&night2), id_of(&morning)]);

    // One is answered by a person; the other hears from the business by 09:05.
    let a = s.token("agent-a", false);
    s.agent_post(
        &a,
        &format!("/v1/agent/conversations/{}/claim", id_of(&night1)),
    )
    .await;
    s.clock.set(ts(TUESDAY_09_KST));
    s.clock.advance(SignedDuration::from_secs(5 * 60));
    s.concurrent_sweeps(4).await;
    let escalations = s.settled("escalation").await;
    let ids: Vec<&str> = escalations
        .iter()
        .map(|e| e["item"]["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![id_of(&night2)],
        "counted from opening, not from the night"
    );
    let view = s.customer_view(&night2).await;
    assert!(
        view["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"].as_str().unwrap_or("").contains("supervisor")),
        "{view}"
    );
}
