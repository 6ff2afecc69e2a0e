//! The customer-facing function: chat messages, the conversation's messages since a
//! cursor, continuing by SMS, withdrawing a request for a person; the widget; and,
//! when a Twilio auth token is configured, Twilio's incoming-SMS webhook ([`twilio`]).

mod photos;
mod rating;
pub mod twilio;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use handoff_core::auth::ConversationTokens;
use handoff_core::ids::{ClientMessageId, ConversationId, DeviceId, IdempotencyKey};
use handoff_core::model::{Message, MessageText, Status};
use handoff_core::service::{Inbound, Origin, QueueInfo, ReplyVia, Sender};
use handoff_core::sms::{Country, PhoneNumber};
use handoff_core::verification::PhoneCode;
use handoff_core::HandoffService;
use handoff_http::cors::AllowedOrigins;
use handoff_http::routes::{self, Function, Routed};
use handoff_http::{
    bearer, header, html_csp, html_response, json_body, json_response, method, path, query,
    require_visible, respond, static_response, ApiError, Framing, Request, Response,
};

pub const WIDGET_JS: &str = include_str!("../assets/widget.js");
pub const DEMO_HTML: &str = include_str!("../assets/demo.html");

pub use twilio::TwilioSettings;

pub struct ChatApi {
    pub service: Arc<HandoffService>,
    pub tokens: ConversationTokens,
    /// Twilio's webhook (`POST /v1/sms/twilio`) is served only when this is set.
    pub twilio: Option<TwilioSettings>,
    /// Origins of the pages that embed the widget (`HANDOFF_ALLOWED_ORIGINS`).
    pub origins: AllowedOrigins,
    /// Where customers' photos go; `None`: the photo routes answer 404.
    pub photos: Option<handoff_core::service::Photos>,
}

#[derive(Debug, Deserialize)]
struct SendBody {
    text: String,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    client_message_id: Option<String>,
    /// The browser's random id (the widget keeps one): scopes keys and limits.
    #[serde(default)]
    device_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SendReply {
    pub conversation_id: ConversationId,
    pub token: String,
    pub status: Status,
    pub replies: Vec<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueInfo>,
    /// The customer's own message, when it carries photos.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

#[derive(Debug, Serialize)]
pub struct MessagesReply {
    pub conversation_id: ConversationId,
    pub status: Status,
    pub messages: Vec<Message>,
    pub cursor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueInfo>,
    /// The survey after a resolve: `pending` (the widget shows it) or `done`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
struct ContactBody {
    phone: String,
}

#[derive(Debug, Deserialize)]
struct VerifyBody {
    code: String,
}

impl ChatApi {
    pub fn new(service: Arc<HandoffService>, tokens: ConversationTokens) -> Self {
        Self {
            service,
            tokens,
            twilio: None,
            origins: AllowedOrigins::Any,
            photos: None,
        }
    }

    /// Takes customers' photos into this store.
    pub fn with_photos(mut self, photos: impl Into<Option<handoff_core::service::Photos>>) -> Self {
        self.photos = photos.into();
        self
    }

    /// Answers cross-origin calls from these origins only.
    pub fn with_origins(mut self, origins: AllowedOrigins) -> Self {
        self.origins = origins;
        self
    }

    /// Serves Twilio's webhook with these settings (`None`: the route stays off).
    pub fn with_twilio(mut self, settings: impl Into<Option<TwilioSettings>>) -> Self {
        self.twilio = settings.into();
        self
    }

    #[tracing::instrument(skip_all, fields(method = method(&req), path = path(&req), request_id = req.request_context.request_id.as_deref().unwrap_or("")))]
    pub async fn handle(&self, req: Request) -> Response {
        let m = method(&req).to_string();
        let p = path(&req).to_string();
        let origin = header(&req, "origin").map(str::to_string);
        if m == "OPTIONS" {
            let preflight = handoff_http::text_response(204, "text/plain", String::new());
            return self.origins.apply(origin.as_deref(), preflight);
        }
        let response = match routes::route(Function::Chat, &m, &p) {
            Routed::Found(route, params) => self.dispatch(route.operation, &params, &req).await,
            Routed::MethodNotAllowed(allowed) => routes::method_not_allowed(&allowed),
            Routed::NotFound => ApiError::not_found().into_response(),
        };
        self.origins.apply(origin.as_deref(), response)
    }

    /// One arm per `operationId` of the chat rows of [`routes::ROUTES`].
    async fn dispatch(&self, operation: &str, params: &[&str], req: &Request) -> Response {
        let id = params.first().copied().unwrap_or("");
        match operation {
            "demoPage" => html_response(
                DEMO_HTML,
                &html_csp(&[], Framing::SameOrigin),
                Framing::SameOrigin,
            ),
            "widgetScript" => static_response("application/javascript; charset=utf-8", WIDGET_JS),
            "health" => json_response(200, &serde_json::json!({"status": "ok"})),
            "openapi" => static_response("application/json", handoff_http::openapi::OPENAPI_JSON),
            "sendMessage" => respond(200, self.send(req).await),
            "customerMessages" => respond(200, self.messages(req, id).await),
            "leaveContact" => respond(202, self.contact(req, id).await),
            "verifyContact" => respond(200, self.verify_contact(req, id).await),
            "withdraw" => respond(200, self.withdraw(req, id).await),
            "twilioWebhook" => self.twilio_webhook(req).await,
            "createAttachment" => self.create_attachment(req, id).await,
            "uploadAttachment" => self.upload(req, id).await,
            "customerAttachment" => self.read_attachment(req, params).await,
            "rateConversation" => respond(200, rating::rate(self, req, id).await),
            _ => ApiError::not_found().into_response(),
        }
    }

    async fn twilio_webhook(&self, req: &Request) -> Response {
        match &self.twilio {
            Some(settings) => twilio::webhook(self, settings, req).await,
            None => ApiError::not_found().into_response(),
        }
    }

    /// The conversation named in the path, if the bearer token is its token.
    pub(crate) fn authorize(&self, req: &Request, id: &str) -> Result<ConversationId, ApiError> {
        let id = ConversationId::parse(id)?;
        match bearer(req) {
            Some(token) if self.tokens.verify(&id, token) => Ok(id),
            _ => Err(ApiError::unauthorized()),
        }
    }

    async fn send(&self, req: &Request) -> Result<SendReply, ApiError> {
        let probe: serde_json::Value = json_body(req)?;
        if probe.get("attachment_ids").is_some_and(|v| !v.is_null()) {
            return self.send_photos(req).await;
        }
        let body: SendBody = json_body(req)?;
        let text = MessageText::parse(&body.text)?;
        require_visible(&body.text)?;
        let conversation = match body.conversation_id.as_deref() {
            Some(id) => Some(self.authorize(req, id)?),
            None => None,
        };
        let client = body
            .client_message_id
            .as_deref()
            .map(ClientMessageId::parse)
            .transpose()?;
        let device = body.device_id.as_deref().map(DeviceId::parse).transpose()?;
        let idempotency = client.map(|c| match &conversation {
            Some(id) => IdempotencyKey::web(id, &c),
            None => IdempotencyKey::web_first(device.as_ref(), &c, text.as_str()),
        });
        let received = self
            .service
            .receive(Inbound {
                origin: Origin::Web { conversation },
                text,
                idempotency,
                reply_via: ReplyVia::Response,
                sender: Sender {
                    ip: source_ip(req),
                    device,
                },
            })
            .await?;
        let id = received.conversation.id.clone();
        Ok(SendReply {
            token: self.tokens.issue(&id),
            conversation_id: id,
            status: received.conversation.status,
            replies: received.replies,
            queue: received.queue,
            message: None,
        })
    }

    async fn messages(&self, req: &Request, id: &str) -> Result<MessagesReply, ApiError> {
        let id = self.authorize(req, id)?;
        let after = match query(req, "after") {
            None | Some("") => 0,
            Some(c) => c.parse::<u64>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_cursor",
                    "after must be a cursor returned by this route",
                )
            })?,
        };
        let (conv, messages, queue) = self.service.customer_messages(&id, after).await?;
        let cursor = messages.last().map_or(after, |m| m.seq).to_string();
        let survey = rating::survey_state(&conv);
        Ok(MessagesReply {
            survey,
            conversation_id: conv.id,
            status: conv.status,
            messages,
            cursor,
            queue,
        })
    }

    async fn contact(&self, req: &Request, id: &str) -> Result<serde_json::Value, ApiError> {
        let id = self.authorize(req, id)?;
        let body: ContactBody = json_body(req)?;
        let phone = PhoneNumber::parse(&body.phone, Country::KR)
            .map_err(|e| ApiError::bad_request("invalid_phone", e.to_string()))?;
        // The same answer whatever the number's state: no oracle for opted-out numbers.
        self.service
            .request_phone_code(
                &id,
                phone,
                &self.tokens.phone_codes(),
                source_ip(req).as_deref(),
            )
            .await?;
        Ok(serde_json::json!({ "verification": "sent" }))
    }

    async fn verify_contact(&self, req: &Request, id: &str) -> Result<serde_json::Value, ApiError> {
        let id = self.authorize(req, id)?;
        let body: VerifyBody = json_body(req)?;
        let code = PhoneCode::parse(&body.code).ok_or_else(|| {
            ApiError::bad_request("invalid_code", "code: must be the 6 digits of the text")
        })?;
        let conv = self
            .service
            .verify_phone(&id, &code, &self.tokens.phone_codes())
            .await?;
        Ok(serde_json::json!({ "phone_verified": true, "status": conv.status }))
    }

    async fn withdraw(&self, req: &Request, id: &str) -> Result<serde_json::Value, ApiError> {
        let id = self.authorize(req, id)?;
        let conv = self.service.withdraw(&id).await?;
        Ok(serde_json::json!({ "conversation_id": conv.id, "status": conv.status }))
    }
}

/// The caller's address as API Gateway (or the local server) saw it.
fn source_ip(req: &Request) -> Option<String> {
    req.request_context.http.source_ip.clone()
}

impl ChatApi {
    /// As configured from the environment (Lambda) or the local runner, which must
    /// hold the customer-token secret. The Twilio route is on when `TWILIO_AUTH_TOKEN`
    /// is configured; cross-origin callers are limited by `HANDOFF_ALLOWED_ORIGINS`.
    pub fn from_config(
        service: Arc<HandoffService>,
        config: &handoff_http::Config,
    ) -> Result<Self, handoff_http::ConfigError> {
        let tokens = config
            .conversation_tokens
            .clone()
            .ok_or(handoff_http::ConfigError::Missing("HANDOFF_TOKEN_SECRET"))?;
        Ok(Self::new(service, tokens)
            .with_twilio(TwilioSettings::from_config(
                config.twilio_auth_token.clone(),
                config.public_base_url.clone(),
            ))
            .with_origins(config.allowed_origins.clone()))
    }
}
