//! `handoff serve`: chat-api and agent-api on one localhost port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::Request as HttpRequest;
use axum::response::Response;
use axum::Router;

use agent_api::AgentApi;
use chat_api::ChatApi;
use handoff_core::auth::AgentTokens;
use handoff_core::ports::{ConversationStore, Delivery};
use handoff_core::HandoffService;
use handoff_http::config::{load_catalog, ProcessEnv};
use handoff_http::{ApiError, Config, MAX_BODY_BYTES};

use crate::delivery::FileDelivery;
use crate::gateway::{self, Auth};
use crate::secrets;

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub data: PathBuf,
    pub faqs: Option<PathBuf>,
}

/// Everything one local server runs.
pub struct App {
    pub chat: ChatApi,
    pub agent: AgentApi,
    pub agent_tokens: AgentTokens,
    pub service: Arc<HandoffService>,
    pub delivery: Arc<dyn Delivery>,
    pub config: Config,
    pub store: Arc<dyn ConversationStore>,
    /// A data directory of this app alone, removed with it (`handoff invoke`).
    pub scratch: Option<ScratchDir>,
}

/// A directory removed, with everything in it, when dropped.
#[derive(Debug)]
pub struct ScratchDir(pub std::path::PathBuf);

impl ScratchDir {
    /// A fresh directory under the system's temp dir, named `{prefix}-{random}`.
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn build_app(opts: &ServeOptions, store: Arc<dyn ConversationStore>) -> Result<App, String> {
    let secrets = secrets::load_or_create(&opts.data)
        .map_err(|e| format!("secrets in {}: {e}", opts.data.display()))?;
    build_app_with(opts, store, secrets)
}

pub fn build_app_with(
    opts: &ServeOptions,
    store: Arc<dyn ConversationStore>,
    secrets: secrets::LocalSecrets,
) -> Result<App, String> {
    let faq_path = opts
        .faqs
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| {
            std::env::var("HANDOFF_FAQ_FILE")
                .ok()
                .filter(|s| !s.is_empty())
        });
    let catalog = load_catalog(faq_path.as_deref()).map_err(|e| e.to_string())?;
    let config = Config::with_catalog(&ProcessEnv, catalog, secrets.token_secret)
        .map_err(|e| e.to_string())?;
    let service = Arc::new(config.service(store.clone()));
    Ok(App {
        chat: ChatApi::from_config(service.clone(), &config).map_err(|e| e.to_string())?,
        agent: AgentApi::new(service.clone()),
        agent_tokens: AgentTokens::new(secrets.jwt_secret),
        service,
        delivery: Arc::new(FileDelivery::new(opts.data.join("deliveries.jsonl"))),
        config,
        store,
        scratch: None,
    })
}

async fn handle(State(app): State<Arc<App>>, req: HttpRequest<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(b) if b.len() <= MAX_BODY_BYTES => b,
        _ => {
            return gateway::from_response(
                ApiError::new(
                    413,
                    "body_too_large",
                    format!("body is over {MAX_BODY_BYTES} bytes"),
                )
                .into_response(),
            )
        }
    };
    let path = parts.uri.path().to_string();
    let request_id = uuid::Uuid::new_v4().to_string();
    let claims = if gateway::needs_agent_jwt(&path) && parts.method != axum::http::Method::OPTIONS {
        match gateway::authorize(
            &parts.headers,
            &app.agent_tokens,
            jiff::Timestamp::now().as_second(),
        ) {
            Auth::Claims(c) => Some(c),
            Auth::None => None,
            Auth::Rejected => {
                return gateway::from_response(ApiError::unauthorized().into_response())
            }
        }
    } else {
        None
    };
    let event = match gateway::to_event(
        &parts.method,
        &parts.uri,
        &parts.headers,
        &bytes,
        claims,
        &request_id,
    ) {
        Ok(e) => e,
        Err(_) => {
            return gateway::from_response(
                ApiError::bad_request("invalid_request", "request could not be read")
                    .into_response(),
            )
        }
    };
    let response = if path.starts_with("/v1/agent/") || path == "/console" {
        app.agent.handle(event).await
    } else {
        app.chat.handle(event).await
    };
    gateway::from_response(response)
}

/// Deliver the outbox every half second, as the dispatcher function does in AWS.
pub fn spawn_dispatcher(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            if let Err(e) = app
                .service
                .dispatch_pending(app.delivery.as_ref(), 50)
                .await
            {
                tracing::warn!(error = %e, "outbox dispatch failed");
            }
        }
    })
}

/// Serve on an already bound listener (port 0 in tests); returns the address.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
) -> std::io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    let router = Router::new().fallback(handle).with_state(app.clone());
    spawn_dispatcher(app);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(addr)
}
