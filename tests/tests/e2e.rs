//! The product over real HTTP: the local server on a random port, the embedded store
//! in a fresh directory, a customer and agents talking to it like the widget and the
//! console do.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use handoff_core::auth::AgentTokens;
use handoff_core::ids::AgentId;
use handoff_local::{build_app, serve, ScratchDir, ServeOptions};
use handoff_sqlite::SqliteStore;

struct TestApp {
    base: String,
    client: reqwest::Client,
    data: PathBuf,
    tokens: AgentTokens,
    /// The data directory, removed when the test is done (when this app owns it).
    _scratch: Option<ScratchDir>,
}

async fn spawn_app() -> TestApp {
    let scratch = ScratchDir::new("handoff-e2e").unwrap();
    let mut app = spawn_app_in(scratch.0.clone()).await;
    app._scratch = Some(scratch);
    app
}

async fn spawn_app_in(data: PathBuf) -> TestApp {
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
    // Agents always in, so the walkthrough's alert goes out at any hour the suite runs
    // (after hours it waits for the opening digest: tests/tests/presence.rs).
    let mut settings = app.config.settings.clone();
    settings.hours = handoff_core::hours::AgentHours::parse("24/7", "UTC").unwrap();
    let app = Arc::new(
        app.with_clock_and_settings(Arc::new(handoff_core::ports::SystemClock), settings)
            .unwrap(),
    );
    let tokens = app.agent_tokens.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = serve(listener, app).await.unwrap();
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        data,
        tokens,
        _scratch: None,
    }
}

impl TestApp {
    fn agent_token(&self, id: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        self.tokens
            .issue(&AgentId::parse(id).unwrap(), false, now, 3600)
    }
    async fn send(&self, body: Value, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(format!("{}/v1/chat/messages", self.base))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
    /// The customer's view: status and messages after `after`.
    async fn messages(&self, id: &str, token: &str, after: Option<u64>) -> (StatusCode, Value) {
        let query = after.map(|a| format!("?after={a}")).unwrap_or_default();
        let r = self
            .client
            .get(format!(
                "{}/v1/chat/conversations/{id}/messages{query}",
                self.base
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
    async fn agent(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url),
        }
        .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn the_readme_walkthrough() {
    let app = spawn_app().await;
    // A customer asks an FAQ and gets the answer.
    let (status, r) = app
        .send(
            json!({"text": "배송비 얼마예요?", "client_message_id": "w-1"}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "bot");
    assert!(r["replies"][0]["text"]
        .as_str()
        .unwrap()
        .contains("3,000원"));
    let id = r["conversation_id"].as_str().unwrap().to_string();
    let token = r["token"].as_str().unwrap().to_string();

    // Asks for a person and is queued, with an honest status.
    let (status, r) = app
        .send(
            json!({"text": "상담원 연결해 주세요", "conversation_id": id}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "queued");
    assert_eq!(r["queue"]["position"], 1);
    assert_eq!(r["replies"][0]["from"], "system");

    // An agent sees it at the top of the queue with its summary, reads the packet, claims, replies.
    let a = app.agent_token("agent-a");
    let (status, q) = app.agent("GET", "/v1/agent/queue", &a, None).await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["queued"][0]["conversation_id"], id.as_str());
    assert!(q["queued"][0]["summary"]
        .as_str()
        .unwrap()
        .contains("배송비"));
    let (status, p) = app
        .agent("GET", &format!("/v1/agent/conversations/{id}"), &a, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(p["reason"], "customer_asked");
    assert_eq!(p["bot_answers"][0]["faq_id"], "shipping-fee");
    assert_eq!(p["transcript"].as_array().unwrap().len(), 4);
    let (status, c) = app
        .agent(
            "POST",
            &format!("/v1/agent/conversations/{id}/claim"),
            &a,
            None,
        )
        .await;
    assert_eq!(
        (status, c["assigned_to"].as_str()),
        (StatusCode::OK, Some("agent-a"))
    );
    let (status, m) = app
        .agent(
            "POST",
            &format!("/v1/agent/conversations/{id}/messages"),
            &a,
            Some(json!({"text": "안녕하세요, 상담원입니다"})),
        )
        .await;
    assert_eq!(status, 201, "{m}");

    // The customer sees the reply.
    let (_, r) = app.messages(&id, &token, Some(4)).await;
    assert_eq!(r["status"], "assigned");
    let texts: Vec<&str> = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"안녕하세요, 상담원입니다"), "{texts:?}");
    assert_eq!(r["cursor"], "6");

    // A second agent's claim is a conflict that names the owner.
    let b = app.agent_token("agent-b");
    let (status, e) = app
        .agent(
            "POST",
            &format!("/v1/agent/conversations/{id}/claim"),
            &b,
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(e["error"]["code"], "already_claimed");
    assert_eq!(e["error"]["assigned_to"], "agent-a");

    // The alert for agents went out through the outbox.
    let mut delivered = String::new();
    for _ in 0..40 {
        delivered = std::fs::read_to_string(app.data.join("deliveries.jsonl")).unwrap_or_default();
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let alerts: Vec<Value> = delivered
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{delivered}");
    assert_eq!(alerts[0]["item"]["kind"], "agent_alert");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_nothing_is_stored() {
    let app = spawn_app().await;
    let post_raw = |body: Vec<u8>| {
        app.client
            .post(format!("{}/v1/chat/messages", app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, code) in [
        (b"{\"text\": ".to_vec(), "invalid_json"),
        (b"[1,2]".to_vec(), "invalid_json"),
        (
            vec![b'{', b'"', b't', 0xff, 0xfe, b'"', b'}'],
            "invalid_utf8",
        ),
        (br#"{"text": ""}"#.to_vec(), "invalid_input"),
        (br#"{"text": 5}"#.to_vec(), "invalid_json"),
        (
            format!(r#"{{"text": "{}"}}"#, "a".repeat(2001)).into_bytes(),
            "invalid_input",
        ),
        (
            br#"{"text": "hi", "client_message_id": "has space"}"#.to_vec(),
            "invalid_input",
        ),
    ] {
        let r = post_raw(body.clone()).await.unwrap();
        assert_eq!(r.status(), 400, "{:?}", String::from_utf8_lossy(&body));
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }
    let huge = vec![b'a'; 70 * 1024];
    assert_eq!(post_raw(huge).await.unwrap().status(), 413);
    // Wrong or missing token for an existing conversation.
    let (_, r) = app.send(json!({"text": "배송비 얼마예요?"}), None).await;
    let id = r["conversation_id"].as_str().unwrap();
    let (status, e) = app
        .send(json!({"text": "hi", "conversation_id": id}), Some("forged"))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, _) = app
        .send(json!({"text": "hi", "conversation_id": id}), None)
        .await;
    assert_eq!(status, 401);
    // Nothing was stored by the rejected requests: the conversation has only the first exchange.
    let token = r["token"].as_str().unwrap();
    let (_, m) = app.messages(id, token, None).await;
    assert_eq!(m["messages"].as_array().unwrap().len(), 2);
    // Agents without a valid token are refused; unknown conversations are 404.
    let r = app
        .client
        .get(format!("{}/v1/agent/queue", app.base))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let a = app.agent_token("agent-a");
    let (status, e) = app
        .agent("POST", "/v1/agent/conversations/c_missing/claim", &a, None)
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("conversation_not_found"))
    );
    let (status, e) = app
        .agent(
            "POST",
            &format!("/v1/agent/conversations/{id}/resolve"),
            &a,
            None,
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal_transition"))
    );
}

#[tokio::test]
async fn a_retried_send_is_answered_once_over_http() {
    let app = spawn_app().await;
    let body = json!({"text": "How long does delivery take?", "client_message_id": "retry-42"});
    let (_, first) = app.send(body.clone(), None).await;
    let (_, second) = app.send(body, None).await;
    assert_eq!(first["conversation_id"], second["conversation_id"]);
    assert_eq!(first["replies"], second["replies"]);
    let id = first["conversation_id"].as_str().unwrap();
    let (_, m) = app
        .messages(id, first["token"].as_str().unwrap(), None)
        .await;
    assert_eq!(m["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn conversations_survive_a_restart() {
    let scratch = ScratchDir::new("handoff-restart").unwrap();
    let data = scratch.0.clone();
    let app = spawn_app_in(data.clone()).await;
    let (_, r) = app.send(json!({"text": "상담원"}), None).await;
    let id = r["conversation_id"].as_str().unwrap().to_string();
    let token = r["token"].as_str().unwrap().to_string();
    drop(app);
    // A second server on the same data directory: same secrets, same store.
    let again = spawn_app_in(data).await;
    let (status, v) = again.messages(&id, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(v["status"], "queued");
}

#[tokio::test]
async fn pages_and_health_are_served() {
    let app = spawn_app().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/widget.js", "application/javascript"),
        ("/console", "text/html"),
        ("/healthz", "application/json"),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
    }
    let r = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/chat/messages", app.base),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}
