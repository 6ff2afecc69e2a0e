//! Delivery through Amazon SNS: agent alerts to the alerts topic (agents subscribe by
//! SMS, e-mail or an app; filter policies can select on the message attributes), and
//! texts to customers' phones.

use async_trait::async_trait;
use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use handoff_core::credit::{Credit, CreditAlert};
use handoff_core::escalation::{Digest, Escalation};
use handoff_core::model::{AgentAlert, Outbound, OutboxItem};
use handoff_core::ports::Delivery;
use handoff_core::DeliveryError;

/// SNS settings for texts to customers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsSettings {
    /// Alphanumeric sender id, where the destination country supports it.
    pub sender_id: Option<String>,
    /// The number texts come from (E.164), for countries that require one.
    pub origination_number: Option<String>,
}

impl SmsSettings {
    /// From `HANDOFF_SMS_SENDER_ID` and `HANDOFF_SMS_ORIGINATION_NUMBER` (unset or empty: none).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Self {
            sender_id: get("HANDOFF_SMS_SENDER_ID"),
            origination_number: get("HANDOFF_SMS_ORIGINATION_NUMBER"),
        }
    }
}

/// Sends outbox items with SNS `Publish`.
#[derive(Debug, Clone)]
pub struct SnsDelivery {
    client: Client,
    topic_arn: String,
    sms: SmsSettings,
    /// Agent console URL, for alerts whose link was not known when they were recorded.
    console_url: Option<String>,
    /// The topic decided credits are published to (`HANDOFF_CREDIT_EVENTS_TOPIC_ARN`).
    credit_events_topic_arn: Option<String>,
}

fn number_attr(value: u64) -> Result<MessageAttributeValue, DeliveryError> {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(value.to_string())
        .build()
        .map_err(|e| DeliveryError::Permanent(format!("building a message attribute: {e}")))
}

fn with_link(text: &str, link: Option<String>) -> String {
    match link {
        Some(l) => format!("{text} {l}"),
        None => text.to_string(),
    }
}

fn attr(value: &str) -> Result<MessageAttributeValue, DeliveryError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| DeliveryError::Permanent(format!("building a message attribute: {e}")))
}

/// Error codes that retrying the same request cannot fix.
const PERMANENT_CODES: &[&str] = &[
    "InvalidParameter",
    "InvalidParameterValue",
    "ParameterValueInvalid",
    "ValidationError",
    "NotFound",
    "OptedOut",
    "EndpointDisabled",
    "AuthorizationError",
    "InvalidSecurity",
    "KMSDisabled",
    "KMSInvalidState",
    "KMSNotFound",
    "KMSAccessDenied",
    "PlatformApplicationDisabled",
];

/// Throttling and server-side trouble: worth another attempt later.
const TRANSIENT_CODES: &[&str] = &[
    "Throttled",
    "Throttling",
    "ThrottlingException",
    "KMSThrottling",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "RequestTimeout",
];

/// Whether an SNS error code (and HTTP status, if a response came) is worth retrying.
pub fn is_transient(code: Option<&str>, status: Option<u16>) -> bool {
    match code {
        Some(c) if TRANSIENT_CODES.contains(&c) => true,
        Some(c) if PERMANENT_CODES.contains(&c) => false,
        _ => match status {
            Some(s) => s >= 500 || s == 429,
            // No response at all: the request may not have arrived.
            None => true,
        },
    }
}

fn classify<E>(what: &str, e: SdkError<E, HttpResponse>) -> DeliveryError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let text = format!("SNS Publish ({what}): {}", DisplayErrorContext(&e));
    let transient = match &e {
        SdkError::ConstructionFailure(_) => false,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(se) => {
            is_transient(se.err().code(), Some(se.raw().status().as_u16()))
        }
        _ => is_transient(e.code(), None),
    };
    if transient {
        DeliveryError::Transient(text)
    } else {
        DeliveryError::Permanent(text)
    }
}

impl SnsDelivery {
    pub fn new(client: Client, topic_arn: String, sms: SmsSettings) -> Self {
        Self {
            client,
            topic_arn,
            sms,
            console_url: None,
            credit_events_topic_arn: None,
        }
    }

    /// Decided credits go to this topic (`None`: they cannot be delivered).
    pub fn with_credit_events_topic(mut self, arn: Option<String>) -> Self {
        self.credit_events_topic_arn = arn;
        self
    }

    /// Supervisors' alert of a credit to approve, on the alerts topic (kind `credit_approval`).
    async fn credit_approval(&self, a: &CreditAlert) -> Result<(), DeliveryError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(a.message(self.console_url.as_deref()))
            .message_attributes("kind", attr("credit_approval")?)
            .message_attributes("queue", attr(&a.queue)?)
            .message_attributes("conversation_id", attr(a.conversation_id.as_str())?)
            .send()
            .await
            .map_err(|e| classify("credit approval alert", e))?;
        Ok(())
    }

    /// A decided credit as JSON on the credit events topic (kind `credit_decided`).
    async fn credit_decided(&self, c: &Credit) -> Result<(), DeliveryError> {
        let topic = self.credit_events_topic_arn.as_deref().ok_or_else(|| {
            DeliveryError::Permanent("HANDOFF_CREDIT_EVENTS_TOPIC_ARN is not set".into())
        })?;
        let body = serde_json::to_string(c)
            .map_err(|e| DeliveryError::Permanent(format!("encoding a credit: {e}")))?;
        self.client
            .publish()
            .topic_arn(topic)
            .message(body)
            .message_attributes("kind", attr("credit_decided")?)
            .message_attributes("status", attr(c.status.as_str())?)
            .message_attributes("conversation_id", attr(c.conversation_id.as_str())?)
            .send()
            .await
            .map_err(|e| classify("credit event", e))?;
        Ok(())
    }

    /// Alerts link to the conversation in this console.
    pub fn with_console_url(mut self, console_url: Option<String>) -> Self {
        self.console_url = console_url;
        self
    }

    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Creates the topic (idempotent: an existing one is returned) and gives its ARN.
    pub async fn provision_topic(client: &Client, name: &str) -> Result<String, DeliveryError> {
        let out = client
            .create_topic()
            .name(name)
            .send()
            .await
            .map_err(|e| classify("CreateTopic", e))?;
        out.topic_arn
            .ok_or_else(|| DeliveryError::Permanent(format!("CreateTopic {name} returned no ARN")))
    }

    async fn alert(&self, a: &AgentAlert) -> Result<(), DeliveryError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(a.message(self.console_url.as_deref()))
            .message_attributes("kind", attr("agent_alert")?)
            .message_attributes("audience", attr("agents")?)
            .message_attributes("conversation_id", attr(a.conversation_id.as_str())?)
            .message_attributes("queue", attr(&a.queue)?)
            .message_attributes("priority", attr(a.priority.as_str())?)
            .message_attributes("language", attr(a.language.code())?)
            .message_attributes("channel", attr(a.channel.as_str())?)
            .send()
            .await
            .map_err(|e| classify("agent alert", e))?;
        Ok(())
    }

    /// The supervisors' alert: filter policies select `audience` = `supervisors`.
    async fn escalation(&self, e: &Escalation) -> Result<(), DeliveryError> {
        let link = e.link.clone().or_else(|| {
            self.console_url
                .as_deref()
                .map(|u| AgentAlert::console_link(u, &e.conversation_id))
        });
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(with_link(&e.text, link))
            .message_attributes("kind", attr("escalation")?)
            .message_attributes("audience", attr("supervisors")?)
            .message_attributes("conversation_id", attr(e.conversation_id.as_str())?)
            .message_attributes("minutes_waited", number_attr(e.minutes_waited)?)
            .message_attributes("queue", attr(&e.queue)?)
            .message_attributes("priority", attr(e.priority.as_str())?)
            .send()
            .await
            .map_err(|err| classify("escalation", err))?;
        Ok(())
    }

    /// The opening digest, to agents: every waiting conversation's id in one attribute.
    async fn digest(&self, d: &Digest) -> Result<(), DeliveryError> {
        let link = d.link.clone().or_else(|| self.console_url.clone());
        let ids: Vec<&str> = d.conversation_ids.iter().map(|c| c.as_str()).collect();
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(with_link(&d.text, link))
            .message_attributes("kind", attr("digest")?)
            .message_attributes("audience", attr("agents")?)
            .message_attributes("conversation_ids", attr(&ids.join(","))?)
            .message_attributes("waiting", number_attr(d.waiting as u64)?)
            .message_attributes("queue", attr(&d.queue)?)
            .send()
            .await
            .map_err(|err| classify("digest", err))?;
        Ok(())
    }

    async fn text(
        &self,
        to: &handoff_core::model::PhoneNumber,
        text: &str,
    ) -> Result<(), DeliveryError> {
        let mut req = self
            .client
            .publish()
            .phone_number(to.as_str())
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", attr("Transactional")?);
        if let Some(id) = &self.sms.sender_id {
            req = req.message_attributes("AWS.SNS.SMS.SenderID", attr(id)?);
        }
        if let Some(number) = &self.sms.origination_number {
            req = req.message_attributes("AWS.MM.SMS.OriginationNumber", attr(number)?);
        }
        req.send().await.map_err(|e| classify("text", e))?;
        Ok(())
    }
}

#[async_trait]
impl Delivery for SnsDelivery {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        match &item.item {
            Outbound::AgentAlert(a) => self.alert(a).await,
            Outbound::CustomerSms { to, text, .. } => self.text(to, text).await,
            Outbound::CreditApproval(a) => self.credit_approval(a).await,
            Outbound::CreditDecided(c) => self.credit_decided(c).await,
            Outbound::Escalation(e) => self.escalation(e).await,
            Outbound::Digest(d) => self.digest(d).await,
            Outbound::NoticeFanout { .. } => Err(DeliveryError::Permanent(
                "a notice step is worked through by the dispatcher, not sent".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_error_codes() {
        assert!(is_transient(Some("Throttled"), Some(400)));
        assert!(is_transient(Some("InternalError"), Some(500)));
        assert!(is_transient(None, Some(503)));
        assert!(is_transient(None, None), "no response: retry");
        assert!(!is_transient(Some("InvalidParameter"), Some(400)));
        assert!(!is_transient(Some("OptedOut"), Some(400)));
        assert!(!is_transient(Some("NotFound"), Some(404)));
        assert!(!is_transient(Some("SomethingNew"), Some(400)));
        assert!(is_transient(Some("SomethingNew"), Some(502)));
    }

    #[test]
    fn sms_settings_from_vars() {
        let s = SmsSettings::from_vars(|k| match k {
            "HANDOFF_SMS_SENDER_ID" => Some("Roasters".into()),
            "HANDOFF_SMS_ORIGINATION_NUMBER" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(s.sender_id.as_deref(), Some("Roasters"));
        assert_eq!(
            s.origination_number, None,
            "empty is none (CloudFormation's default)"
        );
    }
}
