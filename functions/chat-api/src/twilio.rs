//! `POST /v1/sms/twilio`: Twilio's incoming-message webhook.
//!
//! * The request must carry a valid `X-Twilio-Signature` (Twilio's "Webhooks
//!   security"): HMAC-SHA1 with the account's auth token over the URL Twilio requested
//!   and the sorted form parameters. The URL is `PUBLIC_BASE_URL` + the route's path +
//!   `?query` when a public base URL is configured (the address given to Twilio);
//!   otherwise it is rebuilt from the request: `x-forwarded-proto` (else `https`) +
//!   `://` + the `Host` header + the raw path + `?` + the raw query. A mismatch is
//!   `403` and nothing is stored.
//! * A body that is not a readable form, or lacks `MessageSid`, `From`, `To` or `Body`,
//!   is `400` with a JSON error naming the problem (never the number or the text), and
//!   nothing is stored.
//! * The message goes to [`HandoffService::receive`] as [`Origin::Sms`] with the
//!   idempotency key `sms:twilio:{MessageSid}` and [`ReplyVia::Response`]: the answer is
//!   the TwiML of this response, one `<Message>` per text of
//!   [`Received::texts`](handoff_core::service::Received::texts) (every
//!   bot or system reply, cut to the SMS segment budget). When a person has the
//!   conversation the customer's message produces no reply and the TwiML is an empty
//!   `<Response></Response>`; the agent's replies go out through the outbox.
//! * Repeats: Twilio retries a webhook that failed or timed out with the same
//!   `MessageSid`, and only the response of the attempt that succeeded is delivered
//!   to the customer. So a repeat is answered with the same TwiML as the first time,
//!   rebuilt from the stored replies; nothing is stored twice, and since at most one
//!   attempt's response reaches the customer, they get the answer once.
//! * A customer who texted STOP gets no TwiML replies (only the confirmation of the STOP
//!   itself) until they text START: the service's SMS reply policy, as for texts sent
//!   through the outbox.

use handoff_core::ids::IdempotencyKey;
use handoff_core::model::MessageText;
use handoff_core::service::{Inbound, Origin, ReplyVia};
use handoff_core::sms::{parse_form, twiml, validate_twilio_signature, TwilioInbound};
use handoff_http::{body_text, header, path, text_response, ApiError, Request, Response};

use crate::ChatApi;

/// The route Twilio posts incoming messages to.
pub const ROUTE: &str = "/v1/sms/twilio";

/// The provider name in idempotency keys of texts that came through Twilio.
pub const PROVIDER: &str = "twilio";

/// Turns the Twilio route on.
#[derive(Clone)]
pub struct TwilioSettings {
    /// The Twilio account's auth token (`TWILIO_AUTH_TOKEN`): the signing key.
    pub auth_token: String,
    /// Where the app is reachable publicly (`PUBLIC_BASE_URL`, no trailing slash): the
    /// base of the URL Twilio signs. `None`: rebuilt from each request.
    pub public_base_url: Option<String>,
}

impl TwilioSettings {
    pub fn new(auth_token: impl Into<String>, public_base_url: Option<String>) -> Self {
        Self {
            auth_token: auth_token.into(),
            public_base_url: public_base_url.map(|u| u.trim_end_matches('/').to_string()),
        }
    }

    /// Settings when an auth token is configured (`None` turns the route off).
    pub fn from_config(
        auth_token: Option<String>,
        public_base_url: Option<String>,
    ) -> Option<Self> {
        auth_token
            .filter(|t| !t.trim().is_empty())
            .map(|t| Self::new(t.trim(), public_base_url))
    }
}

impl std::fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("auth_token", &"<redacted>")
            .field("public_base_url", &self.public_base_url)
            .finish()
    }
}

/// The URL Twilio signed for this request (see the module docs).
pub fn signed_url(settings: &TwilioSettings, req: &Request) -> String {
    let query = req
        .raw_query_string
        .as_deref()
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    match &settings.public_base_url {
        Some(base) => format!("{base}{}{query}", path(req)),
        None => {
            let scheme = header(req, "x-forwarded-proto")
                .and_then(|p| p.split(',').next())
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .unwrap_or("https");
            let host = header(req, "host")
                .or(req.request_context.domain_name.as_deref())
                .unwrap_or("");
            let raw_path = req
                .raw_path
                .as_deref()
                .or(req.request_context.http.path.as_deref())
                .unwrap_or("/");
            format!("{scheme}://{host}{raw_path}{query}")
        }
    }
}

fn xml(body: String) -> Response {
    text_response(200, "text/xml; charset=utf-8", body)
}

/// Handles the webhook; the TwiML answer or a JSON error.
pub(crate) async fn webhook(api: &ChatApi, settings: &TwilioSettings, req: &Request) -> Response {
    match answer(api, settings, req).await {
        Ok(twiml) => xml(twiml),
        Err(e) => e.into_response(),
    }
}

async fn answer(
    api: &ChatApi,
    settings: &TwilioSettings,
    req: &Request,
) -> Result<String, ApiError> {
    if let Some(ct) = header(req, "content-type") {
        if !ct
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(ApiError::new(
                415,
                "unsupported_media_type",
                "Twilio webhooks must be application/x-www-form-urlencoded",
            ));
        }
    }
    let body = body_text(req)?;
    let params = parse_form(&body)
        .map_err(|e| ApiError::bad_request("invalid_form", format!("form body: {e}")))?;
    let signature = header(req, "x-twilio-signature").unwrap_or("");
    let url = signed_url(settings, req);
    if !validate_twilio_signature(&settings.auth_token, &url, &params, signature) {
        tracing::warn!(signed_url = %url, has_signature = !signature.is_empty(), "Twilio signature mismatch");
        return Err(ApiError::new(
            403,
            "invalid_signature",
            "X-Twilio-Signature is missing or does not match this request",
        ));
    }
    let inbound = TwilioInbound::from_params(&params)
        .map_err(|e| ApiError::bad_request("invalid_input", e.to_string()))?;
    let text = MessageText::parse(&inbound.body)
        .map_err(|e| ApiError::bad_request("invalid_input", format!("Body: {}", e.message)))?;
    tracing::info!(message_sid = %inbound.message_sid, from = %inbound.from.masked(), chars = inbound.body.chars().count(), "Twilio inbound SMS");
    let received = api
        .service
        .receive(Inbound {
            origin: Origin::Sms {
                phone: inbound.from.clone(),
            },
            text,
            idempotency: Some(IdempotencyKey::sms(PROVIDER, &inbound.message_sid)),
            reply_via: ReplyVia::Response,
        })
        .await?;
    // The use case decided what to text (its one SMS reply policy: nothing but the STOP
    // confirmation to a number that opted out; a repeat gets the first answer again).
    if received.repeat {
        tracing::info!(message_sid = %inbound.message_sid, "repeated Twilio delivery: same answer as before");
    }
    let texts: Vec<&str> = received.texts.iter().map(String::as_str).collect();
    Ok(twiml(&texts))
}
