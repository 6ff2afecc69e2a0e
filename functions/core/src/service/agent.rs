//! What agents do: see the queue and a handoff packet; claim, reply, resolve, release.
//! The reads are in [`HandoffService`]'s methods; the decisions are the pure `decide_*`
//! functions below, tested without a store.

use crate::queue_position::QueuePosition;
use jiff::Timestamp;
use serde::Serialize;

use crate::auth::Agent;
use crate::error::ServiceError;
use crate::ids::{AgentId, ConversationId};
use crate::model::{
    Channel, Conversation, Customer, HandoffReason, Lang, Message, MessageText, Priority, Role,
    Status,
};
use crate::packet::{self, BotAnswer, EarlierConversation, HandoffPacket};
use crate::replies;

use super::change::Change;
use super::{HandoffService, Settings, TRANSCRIPT_LIMIT};

#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub conversation_id: ConversationId,
    pub status: Status,
    pub priority: Option<Priority>,
    pub reason: Option<HandoffReason>,
    pub summary: String,
    pub language: Lang,
    /// The language the customer writes in, as detected (`ja`, `es`, …).
    pub customer_language: handoff_faq::LangTag,
    pub channel: Channel,
    pub waiting_since: Option<Timestamp>,
    pub assigned_to: Option<AgentId>,
}

impl QueueItem {
    fn of(c: &Conversation) -> Self {
        Self {
            conversation_id: c.id.clone(),
            status: c.status,
            priority: c.handoff.as_ref().map(|h| h.priority),
            reason: c.handoff.as_ref().map(|h| h.reason),
            summary: c
                .handoff
                .as_ref()
                .map(|h| h.summary.clone())
                .or_else(|| c.topic.clone())
                .unwrap_or_default(),
            language: c.language,
            customer_language: c.customer_language(),
            channel: c.channel,
            waiting_since: c.handoff.as_ref().map(|h| h.requested_at),
            assigned_to: c.assigned_to.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentQueue {
    pub queued: Vec<QueueItem>,
    pub mine: Vec<QueueItem>,
    /// Pass as `cursor` for the queued conversations after these; `None`: no more.
    pub next_cursor: Option<String>,
}

/// Most queued conversations one page lists.
pub const QUEUE_PAGE_MAX: usize = 200;

impl HandoffService {
    /// One page of the queue (after `after`, at most `limit` up to [`QUEUE_PAGE_MAX`]),
    /// and on the first page the agent's own conversations.
    pub async fn agent_queue(
        &self,
        agent: &Agent,
        after: Option<&QueuePosition>,
        limit: usize,
    ) -> Result<AgentQueue, ServiceError> {
        let limit = limit.clamp(1, QUEUE_PAGE_MAX);
        let mut queued = match after {
            Some(p) => self.store.queue_after(p, limit + 1).await?,
            None => self.store.queue(limit + 1).await?,
        };
        let next_cursor = if queued.len() > limit {
            queued.truncate(limit);
            queued
                .last()
                .and_then(QueuePosition::of)
                .map(|p| p.cursor())
        } else {
            None
        };
        let mine = match after {
            None => self.store.assigned_to(&agent.id, 100).await?,
            Some(_) => Vec::new(),
        };
        Ok(AgentQueue {
            queued: queued.iter().map(QueueItem::of).collect(),
            mine: mine.iter().map(QueueItem::of).collect(),
            next_cursor,
        })
    }

    pub async fn packet(&self, id: &ConversationId) -> Result<HandoffPacket, ServiceError> {
        let conv = self.existing(id).await?;
        let transcript = self.store.messages(id, 0, TRANSCRIPT_LIMIT).await?;
        let customer = self.store.customer(&conv.customer_id).await?;
        let earlier = self
            .store
            .customer_conversations(&conv.customer_id, self.settings.earlier_conversations + 1)
            .await?;
        let mut packet = build_packet(
            &conv,
            transcript,
            customer.as_ref(),
            &earlier,
            &self.settings,
        );
        packet.credits = self.conversation_credits(id).await?;
        packet.notes = self.conversation_notes(id).await?;
        packet.incidents = self.incidents_of(&conv).await;
        Ok(packet)
    }

    /// The agent's message to the customer; by SMS too when that is how they reach them.
    pub async fn agent_reply(
        &self,
        agent: &Agent,
        id: &ConversationId,
        text: MessageText,
    ) -> Result<Message, ServiceError> {
        let (_, mut messages) = self
            .act(id, true, |ch, customer| {
                decide_reply(ch, customer, agent, &text)
            })
            .await?;
        messages
            .pop()
            .ok_or_else(|| ServiceError::Internal("an agent reply stored no message".into()))
    }

    /// Resolved; the questions the agent answered with an FAQ become suggestions
    /// in the same commit (`suggestions.rs`).
    pub async fn resolve(
        &self,
        agent: &Agent,
        id: &ConversationId,
    ) -> Result<Conversation, ServiceError> {
        self.resolve_and_learn(agent, id).await
    }

    /// A supervisor closes junk, from any open state: no survey, no alert, no text.
    pub async fn dismiss(
        &self,
        agent: &Agent,
        id: &ConversationId,
    ) -> Result<Conversation, ServiceError> {
        if !agent.supervisor {
            return Err(ServiceError::Forbidden(
                "only supervisors can dismiss a conversation",
            ));
        }
        let (conv, _) = self
            .act(id, false, |ch, _| {
                ch.conv.dismiss()?;
                Ok(true)
            })
            .await?;
        tracing::info!(conversation_id = %conv.id, supervisor = %agent.id, "dismissed");
        Ok(conv)
    }

    /// Hand the conversation back to the bot.
    pub async fn release(
        &self,
        agent: &Agent,
        id: &ConversationId,
    ) -> Result<Conversation, ServiceError> {
        let (conv, _) = self
            .act(id, true, |ch, customer| {
                decide_release(ch, customer, agent, &self.settings)
            })
            .await?;
        Ok(conv)
    }
}

/// The packet from what was read: the agent's whole context on one screen.
fn build_packet(
    conv: &Conversation,
    transcript: Vec<Message>,
    customer: Option<&Customer>,
    earlier: &[Conversation],
    settings: &Settings,
) -> HandoffPacket {
    let lang = settings.agent_language;
    let bot_answers = conv
        .faq_answers
        .iter()
        .map(|a| BotAnswer {
            faq_id: a.faq_id.clone(),
            text: transcript
                .iter()
                .find(|m| m.seq == a.seq)
                .map(|m| m.text.clone())
                .unwrap_or_default(),
            at: a.at,
        })
        .collect();
    let earlier_conversations = earlier
        .iter()
        .filter(|c| c.id != conv.id)
        .take(settings.earlier_conversations)
        .map(|c| EarlierConversation {
            conversation_id: c.id.clone(),
            status: c.status,
            summary: QueueItem::of(c).summary,
            started_at: c.created_at,
        })
        .collect();
    HandoffPacket {
        conversation_id: conv.id.clone(),
        status: conv.status,
        assigned_to: conv.assigned_to.clone(),
        priority: conv.handoff.as_ref().map(|h| h.priority),
        reason: conv.handoff.as_ref().map(|h| h.reason),
        reason_text: conv
            .handoff
            .as_ref()
            .map(|h| packet::reason_text(h.reason, lang).to_string()),
        summary: QueueItem::of(conv).summary,
        language: conv.language,
        customer_language: conv.customer_language(),
        channel: conv.channel,
        customer: packet::customer_view(customer, conv),
        transcript,
        bot_answers,
        earlier_conversations,
        queued_at: conv.handoff.as_ref().map(|h| h.requested_at),
        credits: Vec::new(),
        notes: Vec::new(),
        incidents: Vec::new(),
    }
}

/// Claimed, with a notice that a person joined; false when it was already this agent's.
pub(super) fn decide_claim(ch: &mut Change, agent: &Agent) -> Result<bool, ServiceError> {
    if !ch.conv.claim(&agent.id)? {
        return Ok(false);
    }
    ch.notice(replies::intl::agent_joined);
    Ok(true)
}

pub(super) fn decide_reply(
    ch: &mut Change,
    customer: Option<&Customer>,
    agent: &Agent,
    text: &MessageText,
) -> Result<bool, ServiceError> {
    ch.conv.ensure_owner(agent, "reply to")?;
    let sms_only = ch.conv.channel == Channel::Sms;
    let wants_sms = ch.conv.reach_by_sms(ch.now);
    let channel = ch.conv.channel;
    let phone = customer.and_then(|c| c.phone.clone());
    let opted_out = customer.is_some_and(|c| c.sms_opted_out);
    if sms_only && (opted_out || phone.is_none()) {
        return Err(ServiceError::OptedOut);
    }
    let m = ch.push(Role::Agent, text.as_str().to_string(), channel);
    m.agent_id = Some(agent.id.clone());
    let seq = m.seq;
    if let (true, false, Some(to)) = (wants_sms, opted_out, phone) {
        // The agent's own words go out whole; SMS segmenting is for the bot's answers.
        ch.text(seq, to, text.as_str().to_string());
    }
    Ok(true)
}

pub(super) fn decide_resolve(
    ch: &mut Change,
    customer: Option<&Customer>,
    agent: &Agent,
    settings: &Settings,
) -> Result<bool, ServiceError> {
    ch.conv.resolve(agent)?;
    let seq = ch.notice(replies::intl::resolved);
    if let Some(c) = customer {
        if c.open_conversation.as_ref() == Some(&ch.conv.id) {
            let mut c = c.clone();
            c.open_conversation = None;
            let text = replies::intl::resolved(ch.conv.customer_language());
            notify_sms(ch, &c, seq, text, settings);
            ch.set_customer(c);
        }
    }
    super::survey::ask(ch, customer, settings);
    Ok(true)
}

fn decide_release(
    ch: &mut Change,
    customer: Option<&Customer>,
    agent: &Agent,
    settings: &Settings,
) -> Result<bool, ServiceError> {
    ch.conv.release(agent)?;
    let seq = ch.notice(replies::intl::released);
    if let Some(c) = customer {
        let text = replies::intl::released(ch.conv.customer_language());
        notify_sms(ch, c, seq, text, settings);
    }
    Ok(true)
}

/// A system notice by SMS to a customer who is reached that way.
pub(super) fn notify_sms(
    ch: &mut Change,
    customer: &Customer,
    seq: u64,
    text: String,
    settings: &Settings,
) {
    let reach = ch.conv.reach_by_sms(ch.now);
    if let (true, false, Some(to)) = (reach, customer.sms_opted_out, customer.phone.clone()) {
        ch.text(seq, to, settings.sms_text(&text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CustomerId;
    use crate::model::{Outbound, PhoneNumber};

    fn settings() -> Settings {
        Settings {
            business_name: "Shop".into(),
            business_name_ko: None,
            hours: crate::hours::AgentHours::parse("Mon-Fri 09:00-18:00", "UTC").unwrap(),
            escalate_after: jiff::SignedDuration::from_mins(5),
            queue_name: "support".into(),
            console_url: None,
            answers_url: None,
            sms_max_segments: 3,
            agent_language: Lang::En,
            earlier_conversations: 5,
            rate_limits: crate::limits::RateLimits::off(),
            alert_coalesce: jiff::SignedDuration::ZERO,
            credits: Default::default(),
        }
    }
    fn agent(id: &str) -> Agent {
        Agent {
            id: AgentId::parse(id).unwrap(),
            supervisor: false,
        }
    }
    /// An SMS conversation claimed by agent "a", and its customer.
    fn assigned_by_sms() -> (Change, Customer) {
        let now = Timestamp::UNIX_EPOCH;
        let mut customer = Customer::new(CustomerId::generate(), now);
        customer.phone = Some(PhoneNumber::from_e164("+821012345678").unwrap());
        let mut conv = Conversation::new(
            ConversationId::generate(),
            customer.id.clone(),
            Lang::En,
            Channel::Sms,
            now,
        );
        conv.queue(HandoffReason::CustomerAsked, "s".into(), now)
            .unwrap();
        conv.claim(&agent("a").id).unwrap();
        customer.open_conversation = Some(conv.id.clone());
        (Change::of(conv, now), customer)
    }

    #[test]
    fn a_reply_by_sms_is_texted_and_a_stranger_cannot_reply() {
        let (mut ch, customer) = assigned_by_sms();
        let text = MessageText::parse("On its way").unwrap();
        assert!(matches!(
            decide_reply(&mut ch.clone(), Some(&customer), &agent("b"), &text),
            Err(ServiceError::NotOwner { .. })
        ));
        assert!(decide_reply(&mut ch, Some(&customer), &agent("a"), &text).unwrap());
        assert_eq!(ch.messages.len(), 1);
        assert!(
            matches!(&ch.outbox[..], [o] if matches!(&o.item, Outbound::CustomerSms { text, .. } if text == "On its way"))
        );
        let mut opted_out = customer.clone();
        opted_out.sms_opted_out = true;
        let (mut ch, _) = assigned_by_sms();
        assert!(matches!(
            decide_reply(&mut ch, Some(&opted_out), &agent("a"), &text),
            Err(ServiceError::OptedOut)
        ));
    }

    #[test]
    fn resolving_closes_the_customers_open_conversation_and_tells_them() {
        let (mut ch, customer) = assigned_by_sms();
        assert!(decide_resolve(&mut ch, Some(&customer), &agent("a"), &settings()).unwrap());
        assert_eq!(ch.conv.status, Status::Resolved);
        let written = ch.customer.as_ref().unwrap();
        assert_eq!(written.customer.open_conversation, None);
        assert_eq!(ch.outbox.len(), 1, "the notice is texted");
    }

    #[test]
    fn claiming_twice_writes_nothing_the_second_time() {
        let (ch, _) = assigned_by_sms();
        let mut again = ch.clone();
        assert!(!decide_claim(&mut again, &agent("a")).unwrap());
        assert!(again.messages.is_empty());
        let mut released = ch;
        assert!(decide_release(&mut released, None, &agent("a"), &settings()).unwrap());
        assert_eq!(released.conv.status, Status::Bot);
    }
}
