//! Texts to customers through Twilio's Messages API, for businesses whose number is a
//! Twilio number (`HANDOFF_SMS_PROVIDER=twilio`).
//!
//! * [`TwilioDelivery`] sends [`Outbound::CustomerSms`] items with
//!   `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json` (form-encoded `To`,
//!   `From`, `Body`; HTTP basic auth with the account SID and auth token). Throttling
//!   (429), server errors (5xx), timeouts and connection failures are
//!   [`DeliveryError::Transient`]; any other 4xx (an invalid or unsubscribed number,
//!   bad credentials) is [`DeliveryError::Permanent`]. Error texts carry the HTTP status
//!   and Twilio's error code, never the number or the message (Twilio's own error
//!   messages may quote the number). Twilio's Messages API takes no idempotency key: a
//!   send whose response was lost (a timeout after Twilio accepted it) is retried and
//!   may reach the customer twice; the outbox lease keeps it to that case.
//! * Agent alerts do not go through Twilio (they go to the SNS alerts topic):
//!   [`TwilioDelivery`] rejects them as permanent. Compose with [`RoutedDelivery`],
//!   which sends each outbox item to the delivery for its kind.
//!
//! The HTTP client is hyper 1 with rustls (aws-lc-rs) and the system's root
//! certificates: the stack the AWS SDK already builds.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use handoff_core::model::{Outbound, OutboxItem, PhoneNumber};
use handoff_core::ports::Delivery;
use handoff_core::DeliveryError;

/// Twilio's REST API.
pub const API_BASE: &str = "https://api.twilio.com";
/// How long one send may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response body read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A configuration problem, naming the environment variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required when HANDOFF_SMS_PROVIDER=twilio")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    #[error("loading the system's root certificates for TLS: {0}")]
    Tls(#[from] std::io::Error),
}

/// The Twilio account texts are sent from. `Debug` hides the auth token.
#[derive(Clone)]
pub struct TwilioAccount {
    /// `AC…`
    pub account_sid: String,
    pub auth_token: String,
    /// The Twilio number texts come from.
    pub from: PhoneNumber,
    /// [`API_BASE`], or a local server in tests.
    pub api_base: String,
}

impl std::fmt::Debug for TwilioAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioAccount")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("from", &self.from)
            .field("api_base", &self.api_base)
            .finish()
    }
}

impl TwilioAccount {
    pub fn new(
        account_sid: impl Into<String>,
        auth_token: impl Into<String>,
        from: PhoneNumber,
    ) -> Self {
        Self {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            from,
            api_base: API_BASE.into(),
        }
    }

    /// Sends to `base` instead of Twilio (a local server in tests).
    pub fn with_api_base(mut self, base: impl Into<String>) -> Self {
        self.api_base = base.into().trim_end_matches('/').to_string();
        self
    }

    /// The account when `HANDOFF_SMS_PROVIDER` is `twilio` (`None` when it is unset or
    /// `sns`): `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_FROM_NUMBER` (E.164)
    /// are then required; `TWILIO_API_BASE` is optional.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<TwilioAccount>, ConfigError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        match get("HANDOFF_SMS_PROVIDER").map(|p| p.to_ascii_lowercase()) {
            None => return Ok(None),
            Some(p) if p == "sns" => return Ok(None),
            Some(p) if p == "twilio" => {}
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "HANDOFF_SMS_PROVIDER",
                    why: "must be `sns` or `twilio`".into(),
                })
            }
        }
        let account_sid = required("TWILIO_ACCOUNT_SID")?;
        if !account_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ConfigError::Invalid {
                name: "TWILIO_ACCOUNT_SID",
                why: "must be letters and digits (AC…)".into(),
            });
        }
        let auth_token = required("TWILIO_AUTH_TOKEN")?;
        let from = PhoneNumber::from_e164(&required("TWILIO_FROM_NUMBER")?).map_err(|e| {
            ConfigError::Invalid {
                name: "TWILIO_FROM_NUMBER",
                why: e.to_string(),
            }
        })?;
        let mut account = TwilioAccount::new(account_sid, auth_token, from);
        if let Some(base) = get("TWILIO_API_BASE") {
            account = account.with_api_base(base);
        }
        Ok(Some(account))
    }

    /// The Messages resource of this account.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_base, self.account_sid
        )
    }

    fn authorization(&self) -> String {
        let pair = format!("{}:{}", self.account_sid, self.auth_token);
        format!("Basic {}", BASE64.encode(pair))
    }
}

/// `application/x-www-form-urlencoded`: letters, digits and `*-._` as they are, space
/// as `+`, every other byte of the UTF-8 as `%XX`.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    fn push(out: &mut String, s: &str) {
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                b => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push(&mut out, k);
        out.push('=');
        push(&mut out, v);
    }
    out
}

/// What an HTTP status from the Messages API means for the outbox.
pub fn classify(status: u16, twilio_code: Option<i64>) -> Result<(), DeliveryError> {
    let code = twilio_code
        .map(|c| format!(", Twilio error {c}"))
        .unwrap_or_default();
    match status {
        200..=299 => Ok(()),
        429 | 500..=599 => Err(DeliveryError::Transient(format!(
            "Twilio Messages API answered {status}{code}"
        ))),
        _ => Err(DeliveryError::Permanent(format!(
            "Twilio Messages API answered {status}{code}"
        ))),
    }
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends texts with Twilio's Messages API.
#[derive(Clone)]
pub struct TwilioDelivery {
    account: TwilioAccount,
    client: HttpsClient,
    timeout: Duration,
}

impl std::fmt::Debug for TwilioDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioDelivery")
            .field("account", &self.account)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TwilioDelivery {
    /// A delivery for `account` (HTTPS with the system's root certificates; plain HTTP
    /// only when `api_base` says so, for tests).
    pub fn new(account: TwilioAccount) -> Result<Self, TwilioError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self {
            account,
            client,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn account(&self) -> &TwilioAccount {
        &self.account
    }

    /// Sends one text; Twilio's message SID.
    pub async fn send_sms(&self, to: &PhoneNumber, body: &str) -> Result<String, DeliveryError> {
        let form = form_encode(&[
            ("To", to.as_str()),
            ("From", self.account.from.as_str()),
            ("Body", body),
        ]);
        let request = http::Request::post(self.account.messages_url())
            .header(http::header::AUTHORIZATION, self.account.authorization())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| DeliveryError::Permanent(format!("building the request: {e}")))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                DeliveryError::Transient(format!("Twilio Messages API unreachable: {e}"))
            })?;
            let status = response.status().as_u16();
            let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            Ok::<_, DeliveryError>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                DeliveryError::Transient(format!(
                    "Twilio Messages API did not answer within {:?}",
                    self.timeout
                ))
            })??;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        classify(status, json.get("code").and_then(|c| c.as_i64()))?;
        let sid = json
            .get("sid")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string();
        tracing::info!(to = %to.masked(), message_sid = %sid, "text sent through Twilio");
        Ok(sid)
    }
}

#[async_trait]
impl Delivery for TwilioDelivery {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        match &item.item {
            Outbound::CustomerSms { to, text, .. } => self.send_sms(to, text).await.map(|_| ()),
            Outbound::AgentAlert(_)
            | Outbound::CreditApproval(_)
            | Outbound::CreditDecided(_)
            | Outbound::Escalation(_)
            | Outbound::Digest(_)
            | Outbound::NoticeFanout { .. } => Err(DeliveryError::Permanent(
                "alerts and events are not sent through Twilio; compose with RoutedDelivery".into(),
            )),
        }
    }
}

/// Sends agent alerts one way and texts to customers another (SNS alerts topic and
/// Twilio, say).
#[derive(Clone)]
pub struct RoutedDelivery {
    alerts: Arc<dyn Delivery>,
    sms: Arc<dyn Delivery>,
}

impl RoutedDelivery {
    pub fn new(alerts: Arc<dyn Delivery>, sms: Arc<dyn Delivery>) -> Self {
        Self { alerts, sms }
    }
}

#[async_trait]
impl Delivery for RoutedDelivery {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        match &item.item {
            Outbound::AgentAlert(_)
            | Outbound::CreditApproval(_)
            | Outbound::CreditDecided(_)
            | Outbound::Escalation(_)
            | Outbound::Digest(_)
            | Outbound::NoticeFanout { .. } => self.alerts.deliver(item).await,
            Outbound::CustomerSms { .. } => self.sms.deliver(item).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_forms() {
        assert_eq!(
            form_encode(&[("To", "+821000000101"), ("Body", "Hi & bye 100%")]),
            "To=%2B821000000101&Body=Hi+%26+bye+100%25"
        );
        assert_eq!(
            form_encode(&[("Body", "안녕 a=b\n")]),
            "Body=%EC%95%88%EB%85%95+a%3Db%0A"
        );
        assert_eq!(form_encode(&[]), "");
    }

    #[test]
    fn classifies_statuses() {
        assert!(classify(201, None).is_ok());
        for s in [429, 500, 502, 503] {
            assert!(matches!(
                classify(s, None),
                Err(DeliveryError::Transient(_))
            ));
        }
        for s in [400, 401, 403, 404] {
            assert!(matches!(
                classify(s, Some(21211)),
                Err(DeliveryError::Permanent(_))
            ));
        }
        let err = classify(400, Some(21610)).unwrap_err().to_string();
        assert!(err.contains("400") && err.contains("21610"), "{err}");
    }

    #[test]
    fn reads_configuration() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(TwilioAccount::from_vars(vars(&[])).unwrap().is_none());
        assert!(
            TwilioAccount::from_vars(vars(&[("HANDOFF_SMS_PROVIDER", "sns")]))
                .unwrap()
                .is_none()
        );
        let err = TwilioAccount::from_vars(vars(&[("HANDOFF_SMS_PROVIDER", "carrier-pigeon")]))
            .unwrap_err();
        assert!(err.to_string().contains("HANDOFF_SMS_PROVIDER"), "{err}");
        let err = TwilioAccount::from_vars(vars(&[
            ("HANDOFF_SMS_PROVIDER", "twilio"),
            ("TWILIO_ACCOUNT_SID", "AC123"),
            ("TWILIO_AUTH_TOKEN", "secret"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("TWILIO_FROM_NUMBER"), "{err}");
        let err = TwilioAccount::from_vars(vars(&[
            ("HANDOFF_SMS_PROVIDER", "twilio"),
            ("TWILIO_ACCOUNT_SID", "AC123"),
            ("TWILIO_AUTH_TOKEN", "secret"),
            ("TWILIO_FROM_NUMBER", "010-0000-0100"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("TWILIO_FROM_NUMBER"), "{err}");
        let account = TwilioAccount::from_vars(vars(&[
            ("HANDOFF_SMS_PROVIDER", "Twilio"),
            ("TWILIO_ACCOUNT_SID", "AC0123"),
            ("TWILIO_AUTH_TOKEN", "secret-token"),
            ("TWILIO_FROM_NUMBER", "+12125550100"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            account.messages_url(),
            "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages.json"
        );
        assert!(!format!("{account:?}").contains("secret-token"));
    }
}
