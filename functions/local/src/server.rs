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
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

use agent_api::AgentApi;
use chat_api::ChatApi;
use handoff_core::attachments::MAX_ATTACHMENT_BYTES;
use handoff_core::auth::AgentTokens;
use handoff_core::ports::{ConversationStore, Delivery};
use handoff_core::service::Photos;
use handoff_core::HandoffService;
use handoff_http::config::{load_catalog, ProcessEnv};
use handoff_http::routes::{function_of, Function};
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
    /// The same delivery as `delivery`: told the console's URL once the server listens.
    pub local_delivery: Arc<FileDelivery>,
    pub config: Config,
    pub store: Arc<dyn ConversationStore>,
    /// Customers' photos in the data directory.
    pub photos: Photos,
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
    let attachments = crate::attachments::DirAttachments::open(&opts.data.join("attachments"))
        .map_err(|e| format!("attachments in {}: {e}", opts.data.display()))?;
    let photos = Photos::new(Arc::new(attachments), config.retention_days);
    let local_delivery = Arc::new(FileDelivery::new(opts.data.join("deliveries.jsonl")));
    Ok(App {
        chat: ChatApi::from_config(service.clone(), &config)
            .map_err(|e| e.to_string())?
            .with_photos(photos.clone()),
        // The local gateway checks the issuer, as API Gateway does in AWS; `invoke`
        // runs AWS-shaped events through this same function.
        agent: AgentApi::new(service.clone()).with_photos(photos.clone()),
        agent_tokens: AgentTokens::new(secrets.jwt_secret),
        service,
        delivery: local_delivery.clone(),
        local_delivery,
        config,
        store,
        photos,
        scratch: None,
    })
}

impl App {
    /// The same app on another clock (tests drive time through it) and settings.
    pub fn with_clock_and_settings(
        mut self,
        clock: Arc<dyn handoff_core::ports::Clock>,
        settings: handoff_core::Settings,
    ) -> Result<Self, String> {
        self.config.settings = settings;
        let service = Arc::new(self.config.service_on(self.store.clone(), clock));
        let origins = self.chat.origins.clone();
        self.chat = ChatApi::from_config(service.clone(), &self.config)
            .map_err(|e| e.to_string())?
            .with_photos(Some(self.photos.clone()));
        self.chat.origins = origins;
        self.agent = AgentApi::new(service.clone()).with_photos(Some(self.photos.clone()));
        self.service = service;
        Ok(self)
    }
}

/// What one local server allows a client: slow or idle clients are cut off and at
/// most `max_connections` are open at once (more are closed on accept).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send the request line and headers.
    pub header_timeout: Duration,
    /// Time to send the body, once the headers are in.
    pub body_timeout: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

#[derive(Clone)]
struct Shared {
    app: Arc<App>,
    body_timeout: Duration,
}

async fn handle(State(shared): State<Shared>, req: HttpRequest<Body>) -> Response {
    let app = shared.app;
    let (parts, body) = req.into_parts();
    // A photo upload may be up to 10 MB; its route checks the exact limit.
    let max = match parts.uri.path().starts_with("/v1/chat/uploads/") {
        true => MAX_ATTACHMENT_BYTES as usize,
        false => MAX_BODY_BYTES,
    };
    let read = tokio::time::timeout(shared.body_timeout, to_bytes(body, max + 1)).await;
    let bytes = match read {
        Ok(Ok(b)) if b.len() <= max => b,
        Err(_) => {
            return gateway::from_response(
                ApiError::new(408, "request_timeout", "the body was not sent in time")
                    .into_response(),
            )
        }
        _ => {
            return gateway::from_response(
                ApiError::new(413, "body_too_large", format!("body is over {max} bytes"))
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
    let response = match function_of(&path) {
        Some(Function::Agent) => app.agent.handle(event).await,
        _ => app.chat.handle(event).await,
    };
    gateway::from_response(response)
}

/// Runs the escalation sweep this often (in AWS the schedule runs it every minute).
const SWEEP_EVERY_TICKS: u32 = 4;

/// Deliver the outbox every half second, as the dispatcher function does in AWS, and
/// every two seconds run the escalation sweep its schedule runs.
pub fn spawn_dispatcher(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let mut ticks = 0u32;
        loop {
            tick.tick().await;
            ticks = ticks.wrapping_add(1);
            if ticks.is_multiple_of(SWEEP_EVERY_TICKS) {
                match app.service.escalator().sweep().await {
                    Ok(r) if r.escalated + r.digests > 0 => {
                        tracing::info!(
                            escalated = r.escalated,
                            digests = r.digests,
                            "escalation sweep"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "escalation sweep failed"),
                }
            }
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
    serve_with(listener, app, Limits::default()).await
}

/// [`serve`] with these limits.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    limits: Limits,
) -> std::io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    app.local_delivery
        .set_console_url(format!("http://{addr}/console"));
    let router = Router::new().fallback(handle).with_state(Shared {
        app: app.clone(),
        body_timeout: limits.body_timeout,
    });
    spawn_dispatcher(app);
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                tracing::warn!(
                    max = limits.max_connections,
                    "connection cap reached; closing"
                );
                drop(stream);
                continue;
            };
            let service = TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _permit = permit;
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "connection closed");
                }
            });
        }
    });
    Ok(addr)
}
