//! The SMS inbound function: AWS End User Messaging SMS publishes every text a customer
//! sends to our number to an SNS topic; SNS invokes this function with it.
//!
//! For each record the message body (the two-way SMS JSON) is parsed with
//! [`InboundSms::from_json`] and handed to [`HandoffService::receive`] as an
//! [`Origin::Sms`] message keyed `sms:sns:{inboundMessageId}`, with
//! [`ReplyVia::SmsOutbox`]: the bot's replies are written to the outbox in the same
//! commit, and the dispatcher texts them (SNS `Publish` to the phone). STOP / START /
//! HELP and requests for a person are the service's business, as on every channel.
//!
//! Failure policy. SNS invokes Lambda asynchronously; an `Err` makes Lambda run the
//! whole event again (then the on-failure destination). So:
//! * a record that cannot be read (not the two-way JSON, a bad number, an empty body)
//!   is logged without its number or text and counted as **rejected**: no retry could
//!   make it readable;
//! * a failure that is not transient (an impossible state, a request the store can never
//!   accept: [`ServiceError::is_transient`] is false) is logged and **rejected** too;
//! * a store that is unreachable or too contended is **transient**: the handler returns
//!   [`SmsInboundError`] and Lambda retries. Records already stored are safe to run
//!   again: a repeated `inboundMessageId` is answered from the store and texts nothing
//!   new (the outbox item ids are deterministic).

use aws_lambda_events::event::sns::{SnsEvent, SnsRecord};
use serde::Serialize;

use handoff_core::ids::{ConversationId, IdempotencyKey};
use handoff_core::model::{MessageText, Status};
use handoff_core::service::{Inbound, Origin, ReplyVia};
use handoff_core::sms::InboundSms;
use handoff_core::{HandoffService, ServiceError};

/// The provider name in idempotency keys of texts that came through SNS.
pub const PROVIDER: &str = "sns";

/// What became of one SNS record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Stored, with its replies (and their texts) in the same commit.
    Stored,
    /// A redelivery of a text already stored: nothing new was stored or texted.
    Repeat,
    /// Unreadable or unacceptable: logged, not retried.
    Rejected,
}

/// One record's result. Never holds a phone number or message text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordReport {
    /// The SNS `MessageId`.
    pub sns_message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound_message_id: Option<String>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Bot and system replies the text produced (sent as texts unless opted out).
    pub replies: usize,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The function's result: counts and one entry per record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SmsInboundReport {
    pub stored: usize,
    pub repeats: usize,
    pub rejected: usize,
    pub records: Vec<RecordReport>,
}

/// A failure worth retrying the whole event for.
#[derive(Debug, thiserror::Error)]
pub enum SmsInboundError {
    #[error("SNS message {sns_message_id}: {source}; the event will be retried")]
    Transient {
        sns_message_id: String,
        #[source]
        source: ServiceError,
    },
}

/// Handles one SNS event (in practice one record per invocation).
pub async fn handle(
    service: &HandoffService,
    event: SnsEvent,
) -> Result<SmsInboundReport, SmsInboundError> {
    let mut report = SmsInboundReport::default();
    for record in &event.records {
        let r = handle_record(service, record).await?;
        match r.outcome {
            Outcome::Stored => report.stored += 1,
            Outcome::Repeat => report.repeats += 1,
            Outcome::Rejected => report.rejected += 1,
        }
        report.records.push(r);
    }
    Ok(report)
}

async fn handle_record(
    service: &HandoffService,
    record: &SnsRecord,
) -> Result<RecordReport, SmsInboundError> {
    let sns_message_id = record.sns.message_id.clone();
    let rejected = |inbound_message_id: Option<String>, reason: String| {
        // Reasons name fields, never values (handoff-sms and MessageText errors).
        tracing::warn!(sns_message_id = %sns_message_id, inbound_message_id = ?inbound_message_id, %reason, "inbound SMS rejected");
        RecordReport {
            sns_message_id: sns_message_id.clone(),
            inbound_message_id,
            outcome: Outcome::Rejected,
            conversation_id: None,
            status: None,
            replies: 0,
            reason: Some(reason),
        }
    };
    let sms = match InboundSms::from_json(&record.sns.message) {
        Ok(sms) => sms,
        Err(e) => {
            return Ok(rejected(
                None,
                format!("not an End User Messaging SMS message: {e}"),
            ))
        }
    };
    let id = Some(sms.inbound_message_id.clone());
    let text = match MessageText::parse(&sms.message_body) {
        Ok(t) => t,
        Err(e) => return Ok(rejected(id, format!("message body: {}", e.message))),
    };
    tracing::info!(
        sns_message_id = %sns_message_id,
        inbound_message_id = %sms.inbound_message_id,
        from = %sms.origination_number.masked(),
        chars = sms.message_body.chars().count(),
        "inbound SMS"
    );
    let inbound = Inbound {
        origin: Origin::Sms {
            phone: sms.origination_number,
        },
        text,
        idempotency: Some(IdempotencyKey::sms(PROVIDER, &sms.inbound_message_id)),
        reply_via: ReplyVia::SmsOutbox,
    };
    match service.receive(inbound).await {
        Ok(received) => Ok(RecordReport {
            sns_message_id,
            inbound_message_id: id,
            outcome: if received.repeat {
                Outcome::Repeat
            } else {
                Outcome::Stored
            },
            conversation_id: Some(received.conversation.id),
            status: Some(received.conversation.status),
            replies: received.replies.len(),
            reason: None,
        }),
        Err(e) if e.is_transient() => {
            tracing::error!(sns_message_id = %sns_message_id, error = %e, "inbound SMS not stored; retrying the event");
            Err(SmsInboundError::Transient {
                sns_message_id,
                source: e,
            })
        }
        Err(e) => Ok(rejected(id, e.to_string())),
    }
}
