//! The conversation, its messages and the records kept with it.

use crate::error::InputError;
use crate::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey, MessageId};
pub use handoff_faq::signals::Urgency;
pub use handoff_faq::Lang;
pub use handoff_sms::PhoneNumber;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::conversation::{Conversation, Status};

/// A web customer who has not fetched messages for this long has left the page.
pub const WEB_PRESENCE_SECS: i64 = 45;
/// How often a polling widget's presence is written (a write per poll would be wasteful).
pub const WEB_PRESENCE_WRITE_SECS: i64 = 15;

/// Longest message a customer or agent may send, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Message text: trimmed, 1 to 2,000 characters, no control characters but newlines and tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(InputError::new("text", "text must not be empty"));
        }
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(InputError::new(
                "text",
                format!("text is {chars} characters; the limit is {MAX_TEXT_CHARS}"),
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        {
            return Err(InputError::new("text", "text contains control characters"));
        }
        Ok(Self(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Sms => "sms",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Normal,
}

impl Priority {
    /// Sort rank: high first.
    pub fn rank(self) -> u8 {
        match self {
            Priority::High => 0,
            Priority::Normal => 1,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }
}

/// Why the conversation went to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer asked for a person.
    CustomerAsked,
    /// The customer is angry or frustrated.
    Frustration,
    /// Chargeback, complaint to an authority, legal action.
    Threat,
    /// Charged twice.
    DoubleCharge,
    /// Safety or health problem.
    SafetyOrHealth,
    /// The bot could not answer after a clarifying turn, or its answer did not help.
    BotCouldNotHelp,
}

impl HandoffReason {
    pub fn from_urgency(u: Urgency) -> Self {
        match u {
            Urgency::Frustration => HandoffReason::Frustration,
            Urgency::Threat => HandoffReason::Threat,
            Urgency::DoubleCharge => HandoffReason::DoubleCharge,
            Urgency::SafetyOrHealth => HandoffReason::SafetyOrHealth,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::CustomerAsked => "customer_asked",
            HandoffReason::Frustration => "frustration",
            HandoffReason::Threat => "threat",
            HandoffReason::DoubleCharge => "double_charge",
            HandoffReason::SafetyOrHealth => "safety_or_health",
            HandoffReason::BotCouldNotHelp => "bot_could_not_help",
        }
    }
    pub fn priority(self) -> Priority {
        match self {
            HandoffReason::CustomerAsked | HandoffReason::BotCouldNotHelp => Priority::Normal,
            _ => Priority::High,
        }
    }
}

/// The handoff as recorded on the conversation when it went to a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub reason: HandoffReason,
    pub priority: Priority,
    /// When the customer started waiting; the queue is ordered by it.
    pub requested_at: Timestamp,
    /// One phone-screen line for the agent.
    pub summary: String,
    /// Counts handoffs of this conversation, so each gets its own alert.
    pub number: u32,
    /// Queued outside agent hours: no alert at night, the opening digest lists it.
    #[serde(default)]
    pub after_hours: bool,
    /// The bot has acknowledged a message the customer wrote while waiting (once).
    #[serde(default)]
    pub acknowledged: bool,
    /// When supervisors were alerted that nobody claimed it (once per handoff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<Timestamp>,
}

/// A FAQ answer the bot gave, kept so the agent sees what the customer was already told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqAnswer {
    pub faq_id: String,
    pub seq: u64,
    pub at: Timestamp,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Bot,
    Agent,
    System,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: u64,
    pub from: Role,
    pub text: String,
    pub at: Timestamp,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faq_id: Option<String>,
    /// Photos the customer sent with this message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachments::AttachmentRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub phone: Option<PhoneNumber>,
    /// Replied STOP: nothing more is sent to this number until START.
    pub sms_opted_out: bool,
    /// The conversation the customer's next message continues, if any.
    pub open_conversation: Option<ConversationId>,
    pub created_at: Timestamp,
    pub version: u64,
}

impl Customer {
    pub fn new(id: CustomerId, now: Timestamp) -> Self {
        Self {
            id,
            phone: None,
            sms_opted_out: false,
            open_conversation: None,
            created_at: now,
            version: 0,
        }
    }
}

/// Proof that an inbound delivery was processed: the messages it stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub key: IdempotencyKey,
    pub conversation_id: ConversationId,
    pub first_seq: u64,
    pub last_seq: u64,
    pub at: Timestamp,
}

/// An alert for agents that a conversation needs a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentAlert {
    pub conversation_id: ConversationId,
    /// Reason and summary, one line.
    pub text: String,
    /// The conversation in the agent console, when the console's URL is known here;
    /// otherwise the delivery adds it from its own configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub queue: String,
    pub priority: Priority,
    pub language: Lang,
    pub channel: Channel,
}

impl AgentAlert {
    /// Where the console opens this conversation.
    pub fn console_link(console_url: &str, id: &ConversationId) -> String {
        format!("{}#c/{id}", console_url.trim_end_matches('/'))
    }

    /// The message as agents get it (SMS or e-mail): text, then the link.
    pub fn message(&self, console_url: Option<&str>) -> String {
        let link = self
            .link
            .clone()
            .or_else(|| console_url.map(|u| Self::console_link(u, &self.conversation_id)));
        match link {
            Some(l) => format!("{} {l}", self.text),
            None => self.text.clone(),
        }
    }
}

/// Something to send after a commit, recorded in the same write so a crash between
/// the write and the send cannot lose it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outbound {
    AgentAlert(AgentAlert),
    CustomerSms {
        conversation_id: ConversationId,
        to: PhoneNumber,
        text: String,
    },
    /// Supervisors: a credit waits for approval.
    CreditApproval(crate::credit::CreditAlert),
    /// A decided credit (granted, approved or declined), for the business's systems.
    CreditDecided(crate::credit::Credit),
    /// To supervisors: a handoff nobody claimed in time.
    Escalation(crate::escalation::Escalation),
    /// To agents at opening: who waited while the team was away.
    Digest(crate::escalation::Digest),
    /// Not a send: the next recipients of a notice, worked through by the dispatcher.
    NoticeFanout {
        notice_id: String,
        record: crate::records::RecordKey,
        start: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// Deterministic, so that recording the same send twice is impossible.
    pub id: String,
    pub created_at: Timestamp,
    pub item: Outbound,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_validates() {
        assert_eq!(MessageText::parse("  hi  ").unwrap().as_str(), "hi");
        assert_eq!(MessageText::parse("   ").unwrap_err().field, "text");
        assert!(MessageText::parse(&"가".repeat(2000)).is_ok());
        let err = MessageText::parse(&"가".repeat(2001)).unwrap_err();
        assert!(err.message.contains("2001"), "{err}");
        assert!(MessageText::parse("a\u{0007}b").is_err());
        assert!(MessageText::parse("line\nbreak").is_ok());
    }

    #[test]
    fn high_priority_sorts_first() {
        assert!(Priority::High.rank() < Priority::Normal.rank());
        assert_eq!(HandoffReason::Threat.priority(), Priority::High);
        assert_eq!(HandoffReason::CustomerAsked.priority(), Priority::Normal);
    }
}
