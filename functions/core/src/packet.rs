//! The handoff packet: everything the person taking over needs, so the customer
//! never repeats themselves.

use jiff::Timestamp;
use serde::Serialize;

use handoff_faq::signals;

use crate::ids::{AgentId, ConversationId, CustomerId};
use crate::model::{
    Channel, Conversation, Customer, HandoffReason, Lang, Message, Priority, Role, Status,
};

#[derive(Debug, Clone, Serialize)]
pub struct BotAnswer {
    pub faq_id: String,
    pub text: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct EarlierConversation {
    pub conversation_id: ConversationId,
    pub status: Status,
    pub summary: String,
    pub started_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    pub customer_id: CustomerId,
    /// Masked: the console shows enough to recognise a number, not to copy it.
    pub phone: Option<String>,
    pub sms_opted_out: bool,
    pub channels: Vec<Channel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HandoffPacket {
    pub conversation_id: ConversationId,
    pub status: Status,
    pub assigned_to: Option<AgentId>,
    pub priority: Option<Priority>,
    pub reason: Option<HandoffReason>,
    pub reason_text: Option<String>,
    pub summary: String,
    pub language: Lang,
    /// The language the customer writes in, as detected (`ja`, `es`, …).
    pub customer_language: handoff_faq::LangTag,
    pub channel: Channel,
    pub customer: CustomerView,
    pub transcript: Vec<Message>,
    pub bot_answers: Vec<BotAnswer>,
    pub earlier_conversations: Vec<EarlierConversation>,
    pub queued_at: Option<Timestamp>,
    /// Goodwill credits: who asked, when and why, who decided and when.
    pub credits: Vec<crate::credit::Credit>,
    /// Agents' private notes; never shown to the customer.
    pub notes: Vec<crate::credit::Note>,
    /// Active known-problem notices this conversation was told.
    pub incidents: Vec<crate::incident::Incident>,
}

pub fn reason_text(reason: HandoffReason, lang: Lang) -> &'static str {
    match (reason, lang) {
        (HandoffReason::CustomerAsked, Lang::Ko) => "고객이 상담원을 요청함",
        (HandoffReason::CustomerAsked, Lang::En) => "Customer asked for a person",
        (HandoffReason::Frustration, Lang::Ko) => "고객이 불만/화가 남",
        (HandoffReason::Frustration, Lang::En) => "Customer is frustrated",
        (HandoffReason::Threat, Lang::Ko) => "신고·분쟁 언급",
        (HandoffReason::Threat, Lang::En) => "Complaint, chargeback or legal threat",
        (HandoffReason::DoubleCharge, Lang::Ko) => "이중 결제",
        (HandoffReason::DoubleCharge, Lang::En) => "Charged twice",
        (HandoffReason::SafetyOrHealth, Lang::Ko) => "안전·건강 문제",
        (HandoffReason::SafetyOrHealth, Lang::En) => "Safety or health problem",
        (HandoffReason::BotCouldNotHelp, Lang::Ko) => "챗봇이 답하지 못함",
        (HandoffReason::BotCouldNotHelp, Lang::En) => "Bot could not help",
    }
}

/// Longest summary, in characters: one line on a phone screen or in an SMS alert.
pub const SUMMARY_CHARS: usize = 100;

pub fn clip(s: &str, max: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut out: String = one_line.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// One line: why, what the customer wants (their first real question, not the bare
/// "agent please"), and what the bot already answered.
pub fn summary(
    reason: HandoffReason,
    transcript: &[Message],
    answered: &[String],
    lang: Lang,
) -> String {
    let customer: Vec<&Message> = transcript
        .iter()
        .filter(|m| m.from == Role::Customer)
        .collect();
    let topic = customer
        .iter()
        .find(|m| !signals::wants_human(&m.text) || m.text.chars().count() > 20)
        .or(customer.last())
        .map(|m| m.text.as_str())
        .unwrap_or("");
    let mut line = format!("{}: \"{}\"", reason_text(reason, lang), clip(topic, 50));
    if !answered.is_empty() {
        let mut ids: Vec<&str> = Vec::new();
        for a in answered {
            if !ids.contains(&a.as_str()) {
                ids.push(a);
            }
        }
        line.push_str(match lang {
            Lang::Ko => " · 봇 답변: ",
            Lang::En => " · bot answered: ",
        });
        line.push_str(&ids.join(", "));
    }
    clip(&line, SUMMARY_CHARS)
}

pub fn customer_view(customer: Option<&Customer>, conversation: &Conversation) -> CustomerView {
    CustomerView {
        customer_id: conversation.customer_id.clone(),
        phone: customer.and_then(|c| c.phone.as_ref()).map(|p| p.masked()),
        sms_opted_out: customer.is_some_and(|c| c.sms_opted_out),
        channels: conversation.channels.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MessageId;

    fn msg(from: Role, text: &str) -> Message {
        Message {
            id: MessageId::generate(),
            conversation_id: ConversationId::parse("c_1").unwrap(),
            seq: 1,
            from,
            text: text.into(),
            at: Timestamp::UNIX_EPOCH,
            channel: Channel::Web,
            agent_id: None,
            faq_id: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn summary_names_the_real_question_not_the_request_for_a_person() {
        let t = vec![
            msg(Role::Customer, "환불은 어떻게 받나요? 원두가 너무 시어요"),
            msg(Role::Bot, "..."),
            msg(Role::Customer, "상담원"),
        ];
        let s = summary(
            HandoffReason::CustomerAsked,
            &t,
            &["refund-policy".into()],
            Lang::Ko,
        );
        assert!(s.contains("환불은 어떻게"), "{s}");
        assert!(s.contains("refund-policy"), "{s}");
        assert!(s.chars().count() <= SUMMARY_CHARS);
    }

    #[test]
    fn summary_is_short_for_long_messages() {
        let long = "my order ".repeat(80);
        let s = summary(
            HandoffReason::Frustration,
            &[msg(Role::Customer, &long)],
            &[],
            Lang::En,
        );
        assert!(s.chars().count() <= SUMMARY_CHARS, "{}", s.chars().count());
        assert!(s.starts_with("Customer is frustrated"));
    }
}
