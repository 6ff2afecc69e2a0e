//! The local server on a random port for the HTTP test suites: spawned on a fresh
//! data directory (removed when the app is dropped), with helpers to act as a
//! customer, an agent or a supervisor and to read what the outbox delivered.
#![allow(dead_code)] // each suite uses its own share of the helpers

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use handoff_core::auth::{AgentClaims, AgentTokens, ACCESS_TOKEN_USE, LOCAL_ISSUER};
use handoff_http::cors::AllowedOrigins;
use handoff_local::{build_app, serve_with, Limits, ServeOptions};
use handoff_sqlite::SqliteStore;

pub struct TestApp {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub data: PathBuf,
    pub tokens: AgentTokens,
}

pub async fn spawn(limits: Limits, origins: Option<&str>) -> TestApp {
    let data =
        std::env::temp_dir().join(format!("handoff-attack-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data).unwrap();
    let store = Arc::new(SqliteStore::open(data.join("handoff.db")).unwrap());
    let opts = ServeOptions {
        data: data.clone(),
        faqs: None,
    };
    let app = build_app(&opts, store).unwrap();
    // Agents always in: alerts go out at any hour the suite runs (after hours they
    // wait for the opening digest, which tests/tests/presence.rs covers).
    let mut settings = app.config.settings.clone();
    settings.hours = handoff_core::hours::AgentHours::parse("24/7", "UTC").unwrap();
    let mut app = app
        .with_clock_and_settings(Arc::new(handoff_core::ports::SystemClock), settings)
        .unwrap();
    if let Some(list) = origins {
        app.chat.origins = AllowedOrigins::parse(Some(list));
    }
    let tokens = app.agent_tokens.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = serve_with(listener, Arc::new(app), limits).await.unwrap();
    TestApp {
        base: format!("http://{addr}"),
        addr,
        client: reqwest::Client::new(),
        data,
        tokens,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn(Limits::default(), None).await
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl TestApp {
    pub fn jwt(&self, groups: &[&str], iss: &str, token_use: &str) -> String {
        self.tokens.sign(&AgentClaims {
            sub: "agent-a".into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            name: None,
            iat: now(),
            exp: now() + 600,
            iss: iss.into(),
            token_use: token_use.into(),
        })
    }
    pub fn agent_token(&self) -> String {
        self.jwt(&["agents"], LOCAL_ISSUER, ACCESS_TOKEN_USE)
    }
    /// A conversation waiting for a person: (id, customer token).
    pub async fn queued_conversation(&self) -> (String, String) {
        let r: Value = self
            .client
            .post(format!("{}/v1/chat/messages", self.base))
            .json(&json!({"text": "상담원 연결해 주세요"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["status"], "queued", "{r}");
        (
            r["conversation_id"].as_str().unwrap().to_string(),
            r["token"].as_str().unwrap().to_string(),
        )
    }
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: &str,
        bearer: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .body(body.to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
    pub async fn queue_len(&self) -> usize {
        let r: Value = self
            .client
            .get(format!("{}/v1/agent/queue", self.base))
            .bearer_auth(self.agent_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["queued"].as_array().map_or(0, Vec::len)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

impl TestApp {
    /// A token of agent `id`, of the supervisors' group too when `supervisor`.
    pub fn token_of(&self, id: &str, supervisor: bool) -> String {
        let id = handoff_core::ids::AgentId::parse(id).unwrap();
        self.tokens.issue(&id, supervisor, now(), 3600)
    }

    /// POST JSON: status, body and the `Retry-After` header.
    pub async fn post(
        &self,
        path: &str,
        body: Value,
        token: Option<&str>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let retry = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (r.status(), r.json().await.unwrap_or(Value::Null), retry)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    fn delivered(&self) -> Vec<Value> {
        std::fs::read_to_string(self.data.join("deliveries.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// What the outbox delivered (texts and alerts), once at least `at_least` lines
    /// are there and one more dispatcher tick has passed.
    pub async fn deliveries(&self, at_least: usize) -> Vec<Value> {
        for _ in 0..50 {
            if self.delivered().len() >= at_least {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        self.delivered()
    }
}

/// The texts among `deliveries` sent to `phone` (E.164).
/// Any request: status and JSON body (Null when there is none), with a bearer token
/// when given.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

pub fn texts_to(deliveries: &[Value], phone: &str) -> Vec<String> {
    deliveries
        .iter()
        .filter(|d| d["item"]["kind"] == "customer_sms" && d["item"]["to"] == phone)
        .map(|d| d["item"]["text"].as_str().unwrap_or("").to_string())
        .collect()
}
