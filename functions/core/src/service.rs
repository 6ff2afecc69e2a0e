//! The use cases: a customer writes, agents work the queue, the outbox is delivered.
//! Each reads what it needs, decides with pure code, and commits one atomic change
//! guarded by the versions it read; a lost race is retried from a fresh read.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use handoff_faq::{FaqCatalog, FaqIndex};
use handoff_sms::{fit_to_segments, keyword, SmsKeyword};

use crate::auth::Agent;
use crate::error::{DeliveryError, ServiceError, StoreError};
use crate::hours::AgentHours;
use crate::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey, MessageId};
use crate::limits::LimitKind;
use crate::model::{
    AgentAlert, Channel, Conversation, Customer, FaqAnswer, Handoff, HandoffReason,
    IdempotencyRecord, Lang, Message, MessageText, Outbound, OutboxItem, PhoneNumber, Priority,
    Role, Status,
};
use crate::packet::{self, BotAnswer, EarlierConversation, HandoffPacket};
use crate::ports::{Clock, Commit, ConversationStore, ConversationWrite, CustomerWrite, Delivery};
use crate::queue_position::QueuePosition;
use crate::records::RecordWrite;
use crate::replies;
use crate::triage::{triage, Triage};

mod abuse;
mod alerts;
mod contact;

pub use alerts::{AlertGate, GateDecision};

/// How often a use case re-reads and retries after losing a conditional write.
const ATTEMPTS: usize = 40;
/// Largest conversation read for a packet or summary.
const TRANSCRIPT_LIMIT: usize = 1000;
const QUEUE_SCAN: usize = 500;
/// FAQ answers kept on the conversation for the packet (the transcript has them all).
const MAX_FAQ_ANSWERS: usize = 20;

/// Business settings, from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub business_name: String,
    pub business_name_ko: Option<String>,
    pub hours: AgentHours,
    /// Average minutes an agent needs per waiting customer: the basis of wait estimates.
    pub minutes_per_customer: u32,
    /// The queue name put on agent alerts (SNS filter policies select on it).
    pub queue_name: String,
    /// Base URL of the agent console, for links in alerts.
    pub console_url: Option<String>,
    /// Base URL where full FAQ answers can be read, for links in long SMS answers.
    pub answers_url: Option<String>,
    pub sms_max_segments: usize,
    /// Language of summaries and alerts for agents.
    pub agent_language: Lang,
    /// How many earlier conversations the packet lists.
    pub earlier_conversations: usize,
    /// Abuse limits on new conversations, handoffs and verification texts.
    pub rate_limits: crate::limits::RateLimits,
    /// Agents get at most one alert per queue in this window; the rest are counted.
    pub alert_coalesce: SignedDuration,
}

impl Settings {
    pub fn business_name(&self, lang: Lang) -> &str {
        match (lang, &self.business_name_ko) {
            (Lang::Ko, Some(ko)) => ko,
            _ => &self.business_name,
        }
    }
}

/// Where a customer's message came from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Web chat; `None` starts a new conversation.
    Web {
        conversation: Option<ConversationId>,
    },
    /// A text from this number.
    Sms { phone: PhoneNumber },
}

/// How the bot's replies reach the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyVia {
    /// In the response to this request (web chat, Twilio's TwiML).
    Response,
    /// As texts through the outbox (SMS that arrived through SNS).
    SmsOutbox,
}

#[derive(Debug, Clone)]
pub struct Inbound {
    pub origin: Origin,
    pub text: MessageText,
    pub idempotency: Option<IdempotencyKey>,
    pub reply_via: ReplyVia,
    pub sender: Sender,
}

/// Who sent a web message, as far as the edge can tell: counted by the abuse limits.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    pub ip: Option<String>,
    pub device: Option<crate::ids::DeviceId>,
}

/// What the customer is told about waiting: honest position and time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueInfo {
    pub position: Option<usize>,
    pub estimated_wait_seconds: Option<u64>,
    pub open_now: bool,
    pub opens_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub conversation: Conversation,
    pub customer_message: Option<Message>,
    /// Bot and system messages this message produced.
    pub replies: Vec<Message>,
    pub queue: Option<QueueInfo>,
    /// This delivery was a repeat; the result is the stored one.
    pub repeat: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub conversation_id: ConversationId,
    pub status: Status,
    pub priority: Option<Priority>,
    pub reason: Option<HandoffReason>,
    pub summary: String,
    pub language: Lang,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatched {
    Delivered,
    /// An agent alert held back by its queue's gate (counted, announced later).
    Folded,
    /// Delivered before, or another worker holds it now.
    Skipped,
}

/// One atomic change to a conversation under construction.
struct Change {
    conv: Conversation,
    expected: Option<u64>,
    messages: Vec<Message>,
    outbox: Vec<OutboxItem>,
    customer: Option<CustomerWrite>,
    records: Vec<RecordWrite>,
    now: Timestamp,
    /// The customer's place in line, when this change hands off.
    queue: Option<QueueInfo>,
}

impl Change {
    fn new(conv: Conversation, expected: Option<u64>, now: Timestamp) -> Self {
        Self {
            conv,
            expected,
            messages: Vec::new(),
            outbox: Vec::new(),
            customer: None,
            records: Vec::new(),
            now,
            queue: None,
        }
    }

    fn push(&mut self, from: Role, text: String, channel: Channel) -> &mut Message {
        self.conv.last_seq += 1;
        self.messages.push(Message {
            id: MessageId::generate(),
            conversation_id: self.conv.id.clone(),
            seq: self.conv.last_seq,
            from,
            text,
            at: self.now,
            channel,
            agent_id: None,
            faq_id: None,
        });
        let last = self.messages.len() - 1;
        &mut self.messages[last]
    }

    fn into_commit(
        mut self,
        idempotency: Option<&IdempotencyKey>,
    ) -> (Commit, Conversation, Vec<Message>) {
        self.conv.version = self.expected.unwrap_or(0) + 1;
        self.conv.updated_at = self.now;
        let record = idempotency.and_then(|key| {
            let first = self.messages.first()?.seq;
            Some(IdempotencyRecord {
                key: key.clone(),
                conversation_id: self.conv.id.clone(),
                first_seq: first,
                last_seq: self.conv.last_seq,
                at: self.now,
            })
        });
        let commit = Commit {
            conversation: Some(ConversationWrite {
                conversation: self.conv.clone(),
                expected_version: self.expected,
            }),
            customer: self.customer,
            messages: self.messages.clone(),
            idempotency: record,
            outbox: self.outbox,
            records: self.records,
        };
        (commit, self.conv, self.messages)
    }
}

fn customer_write(mut customer: Customer) -> CustomerWrite {
    let expected = (customer.version > 0).then_some(customer.version);
    customer.version += 1;
    CustomerWrite {
        customer,
        expected_version: expected,
    }
}

/// The product's use cases over its ports.
pub struct HandoffService {
    store: Arc<dyn ConversationStore>,
    clock: Arc<dyn Clock>,
    catalog: Arc<FaqCatalog>,
    index: Arc<FaqIndex>,
    settings: Settings,
}

impl HandoffService {
    pub fn new(
        store: Arc<dyn ConversationStore>,
        clock: Arc<dyn Clock>,
        catalog: Arc<FaqCatalog>,
        index: Arc<FaqIndex>,
        settings: Settings,
    ) -> Self {
        Self {
            store,
            clock,
            catalog,
            index,
            settings,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    pub fn catalog(&self) -> &FaqCatalog {
        &self.catalog
    }
    pub fn store(&self) -> &Arc<dyn ConversationStore> {
        &self.store
    }
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    // ----- customers -------------------------------------------------------------

    /// A customer's message, from any channel.
    #[tracing::instrument(skip_all, fields(channel = ?inbound.reply_via))]
    pub async fn receive(&self, inbound: Inbound) -> Result<Received, ServiceError> {
        let web = matches!(inbound.origin, Origin::Web { .. });
        if matches!(inbound.origin, Origin::Web { conversation: None })
            && self.settings.rate_limits.is_on()
        {
            if let Some(key) = &inbound.idempotency {
                // A retried first message is answered from the store, not counted again.
                if self.store.idempotency(key).await?.is_some() {
                    return self.replay(key, &inbound.text).await;
                }
            }
            self.take_sender_limits(
                &inbound.sender,
                LimitKind::NewConversationPerIp,
                LimitKind::NewConversationPerDevice,
            )
            .await?;
        }
        let mut handoff_counted = false;
        for _ in 0..ATTEMPTS {
            let ((commit, conv, messages), planned_queue) = self.plan(&inbound).await?;
            if web && planned_queue.is_some() && !handoff_counted {
                // Checked before anything is stored: over the limit, nothing is.
                self.take_sender_limits(
                    &inbound.sender,
                    LimitKind::HandoffPerIp,
                    LimitKind::HandoffPerDevice,
                )
                .await?;
                handoff_counted = true;
            }
            match self.store.commit(commit).await {
                Ok(()) => {
                    let queue = match (conv.status, planned_queue) {
                        (Status::Queued, Some(q)) => Some(q),
                        (Status::Queued, None) => Some(self.queue_info(&conv).await?),
                        _ => None,
                    };
                    let mut messages = messages.into_iter();
                    let customer_message = messages.next();
                    tracing::info!(conversation_id = %conv.id, status = %conv.status, "customer message stored");
                    return Ok(Received {
                        conversation: conv,
                        customer_message,
                        replies: messages.collect(),
                        queue,
                        repeat: false,
                    });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(StoreError::Duplicate) => {
                    let key = inbound
                        .idempotency
                        .as_ref()
                        .ok_or(ServiceError::Contended)?;
                    return self.replay(key, &inbound.text).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended)
    }

    async fn take_sender_limits(
        &self,
        sender: &Sender,
        per_ip: LimitKind,
        per_device: LimitKind,
    ) -> Result<(), ServiceError> {
        if let Some(ip) = sender.ip.as_deref().and_then(crate::limits::ip_subject) {
            self.take_limit(per_ip, &ip).await?;
        }
        if let Some(device) = &sender.device {
            self.take_limit(per_device, device.as_str()).await?;
        }
        Ok(())
    }

    /// A repeated delivery: what was stored for `key`, if it carried the same text.
    async fn replay(
        &self,
        key: &IdempotencyKey,
        text: &MessageText,
    ) -> Result<Received, ServiceError> {
        let record = self
            .store
            .idempotency(key)
            .await?
            .ok_or(ServiceError::Contended)?;
        let conv = self
            .store
            .conversation(&record.conversation_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let count = (record.last_seq + 1 - record.first_seq) as usize;
        let stored = self
            .store
            .messages(&conv.id, record.first_seq - 1, count)
            .await?;
        let mut stored = stored.into_iter();
        let customer_message = stored.next();
        if customer_message
            .as_ref()
            .is_some_and(|m| m.text != text.as_str())
        {
            return Err(ServiceError::IdempotencyKeyReused);
        }
        let queue = if conv.status == Status::Queued {
            Some(self.queue_info(&conv).await?)
        } else {
            None
        };
        tracing::info!(conversation_id = %conv.id, "repeated delivery answered from the store");
        Ok(Received {
            conversation: conv,
            customer_message,
            replies: stored.collect(),
            queue,
            repeat: true,
        })
    }

    /// Reads what the message needs and decides: the commit to make.
    async fn plan(
        &self,
        inbound: &Inbound,
    ) -> Result<((Commit, Conversation, Vec<Message>), Option<QueueInfo>), ServiceError> {
        let now = self.clock.now();
        let text = inbound.text.as_str();
        let lang = handoff_faq::detect_language(text);
        let channel = match inbound.origin {
            Origin::Web { .. } => Channel::Web,
            Origin::Sms { .. } => Channel::Sms,
        };
        let new_conversation = |customer_id: CustomerId| {
            let mut c =
                Conversation::new(ConversationId::generate(), customer_id, lang, channel, now);
            c.topic = Some(packet::clip(text, 60));
            c
        };

        // Find the customer and the conversation this message continues.
        let (mut change, customer) = match &inbound.origin {
            Origin::Web { conversation: None } => {
                let mut customer = Customer::new(CustomerId::generate(), now);
                let conv = new_conversation(customer.id.clone());
                customer.open_conversation = Some(conv.id.clone());
                let mut change = Change::new(conv, None, now);
                change.customer = Some(customer_write(customer.clone()));
                (change, Some(customer))
            }
            Origin::Web {
                conversation: Some(id),
            } => {
                let conv = self
                    .store
                    .conversation(id)
                    .await?
                    .ok_or(ServiceError::NotFound)?;
                if conv.status == Status::Resolved {
                    // A resolved conversation stays closed; the customer's next message starts
                    // a new one that the packet links back to.
                    let customer = self.store.customer(&conv.customer_id).await?;
                    let new = new_conversation(conv.customer_id.clone());
                    let mut change = Change::new(new, None, now);
                    let mut c = customer
                        .clone()
                        .unwrap_or_else(|| Customer::new(conv.customer_id.clone(), now));
                    c.open_conversation = Some(change.conv.id.clone());
                    change.customer = Some(customer_write(c));
                    (change, customer)
                } else {
                    let v = conv.version;
                    (Change::new(conv, Some(v), now), None)
                }
            }
            Origin::Sms { phone } => {
                let found = self.store.customer_by_phone(phone).await?;
                let mut customer = found.clone().unwrap_or_else(|| {
                    let mut c = Customer::new(CustomerId::generate(), now);
                    c.phone = Some(phone.clone());
                    c
                });
                let open = match &customer.open_conversation {
                    Some(id) => self
                        .store
                        .conversation(id)
                        .await?
                        .filter(|c| c.status != Status::Resolved),
                    None => None,
                };
                match open {
                    Some(conv) => {
                        let v = conv.version;
                        let mut change = Change::new(conv, Some(v), now);
                        if found.is_none() {
                            change.customer = Some(customer_write(customer.clone()));
                        }
                        (change, Some(customer))
                    }
                    None => {
                        let conv = new_conversation(customer.id.clone());
                        customer.open_conversation = Some(conv.id.clone());
                        let mut change = Change::new(conv, None, now);
                        change.customer = Some(customer_write(customer.clone()));
                        (change, Some(customer))
                    }
                }
            }
        };
        change.conv.note_channel(channel);
        if change.conv.last_seq == 0 {
            change.conv.language = lang;
        } else if change.conv.status == Status::Bot {
            // Follow the customer if they switch language.
            change.conv.language = lang;
        }
        let lang = change.conv.language;
        change.push(Role::Customer, text.to_string(), channel);

        // SMS keywords come before triage: they are about the channel, not the question.
        let sms_keyword = match inbound.origin {
            Origin::Sms { .. } => keyword(text),
            Origin::Web { .. } => None,
        };
        let mut replies_sent_even_if_opted_out = false;
        match sms_keyword {
            Some(SmsKeyword::Stop) => {
                let mut c = customer.clone().ok_or(ServiceError::Contended)?;
                c.sms_opted_out = true;
                change.customer = Some(customer_write(c));
                if change.conv.status == Status::Queued {
                    change.conv.status = Status::Bot;
                }
                let name = self.settings.business_name(lang).to_string();
                change.push(Role::System, replies::sms_stopped(&name, lang), channel);
                // The one confirmation carriers expect after STOP.
                replies_sent_even_if_opted_out = true;
            }
            Some(SmsKeyword::Start) => {
                let mut c = customer.clone().ok_or(ServiceError::Contended)?;
                c.sms_opted_out = false;
                change.customer = Some(customer_write(c));
                let name = self.settings.business_name(lang).to_string();
                change.push(Role::System, replies::sms_started(&name, lang), channel);
            }
            Some(SmsKeyword::Help) => {
                let name = self.settings.business_name(lang).to_string();
                let t = replies::sms_help(&name, self.settings.hours.spec(), lang);
                change.push(Role::System, t, channel);
            }
            None => self.triage_into(&mut change, text, channel).await?,
        }

        // Texts for an SMS customer whose replies go through the outbox.
        if inbound.reply_via == ReplyVia::SmsOutbox {
            if let Origin::Sms { phone } = &inbound.origin {
                let opted_out = change
                    .customer
                    .as_ref()
                    .map(|w| w.customer.sms_opted_out)
                    .or(customer.as_ref().map(|c| c.sms_opted_out))
                    .unwrap_or(false);
                if !opted_out || replies_sent_even_if_opted_out {
                    let texts: Vec<(u64, String)> = change
                        .messages
                        .iter()
                        .filter(|m| m.from != Role::Customer)
                        .map(|m| (m.seq, self.sms_text(&m.text)))
                        .collect();
                    for (seq, text) in texts {
                        change.outbox.push(OutboxItem {
                            id: format!("sms:{}:{seq}", change.conv.id),
                            created_at: now,
                            item: Outbound::CustomerSms {
                                conversation_id: change.conv.id.clone(),
                                to: phone.clone(),
                                text,
                            },
                        });
                    }
                }
            }
        }
        let queue = change.queue.take();
        Ok((change.into_commit(inbound.idempotency.as_ref()), queue))
    }

    /// Cut a text for SMS at a sentence boundary within the configured segments.
    pub fn sms_text(&self, text: &str) -> String {
        fit_to_segments(
            text,
            self.settings.sms_max_segments,
            self.settings.answers_url.as_deref(),
        )
    }

    async fn triage_into(
        &self,
        change: &mut Change,
        text: &str,
        channel: Channel,
    ) -> Result<(), ServiceError> {
        let lang = change.conv.language;
        // The conversation as it was before this message.
        let mut before = change.conv.clone();
        before.last_seq -= 1;
        let is_new = change.expected.is_none();
        let decision = triage(text, (!is_new).then_some(&before), &self.index);
        match decision {
            Triage::ForPerson => {}
            Triage::Answer { faq_id } => {
                let answer = self
                    .catalog
                    .answer(&faq_id, lang)
                    .unwrap_or_default()
                    .to_string();
                let m = change.push(Role::Bot, replies::faq_answer(&answer, lang), channel);
                m.faq_id = Some(faq_id.clone());
                let seq = m.seq;
                change.conv.faq_answers.push(FaqAnswer {
                    faq_id,
                    seq,
                    at: change.now,
                });
                // Bounded, so a long conversation's item stays small (DynamoDB: 400 KB).
                let excess = change
                    .conv
                    .faq_answers
                    .len()
                    .saturating_sub(MAX_FAQ_ANSWERS);
                change.conv.faq_answers.drain(..excess);
                change.conv.bot_misses = 0;
            }
            Triage::Clarify { candidates } => {
                let options: Vec<String> = candidates
                    .iter()
                    .filter_map(|id| self.catalog.faq(id))
                    .filter_map(|f| {
                        f.questions
                            .get(lang.code())
                            .or_else(|| f.questions.values().next())
                            .and_then(|q| q.first().cloned())
                    })
                    .collect();
                change.push(Role::Bot, replies::clarify(&options, lang), channel);
                change.conv.bot_misses += 1;
            }
            Triage::Handoff { reason } => self.hand_off(change, reason, channel).await?,
        }
        Ok(())
    }

    async fn hand_off(
        &self,
        change: &mut Change,
        reason: HandoffReason,
        channel: Channel,
    ) -> Result<(), ServiceError> {
        let now = change.now;
        let lang = change.conv.language;
        let mut transcript = if change.expected.is_some() {
            self.store
                .messages(&change.conv.id, 0, TRANSCRIPT_LIMIT)
                .await?
        } else {
            Vec::new()
        };
        transcript.extend(change.messages.iter().cloned());
        let answered: Vec<String> = change
            .conv
            .faq_answers
            .iter()
            .map(|a| a.faq_id.clone())
            .collect();
        let summary = packet::summary(reason, &transcript, &answered, self.settings.agent_language);
        let priority = reason.priority();
        change.conv.status = Status::Queued;
        change.conv.assigned_to = None;
        change.conv.bot_misses = 0;
        change.conv.handoffs += 1;
        let number = change.conv.handoffs;
        change.conv.handoff = Some(Handoff {
            reason,
            priority,
            requested_at: now,
            summary: summary.clone(),
            number,
        });

        let ahead = self.waiting_ahead(priority, None).await?;
        let info = self.estimate(ahead + 1, now);
        change.queue = Some(info.clone());
        let notice = match info.opens_at {
            Some(opens) if !info.open_now => {
                let local = replies::local_time(&self.settings.hours.local(opens), lang);
                replies::queued_closed(self.settings.hours.spec(), &local, lang)
            }
            _ => replies::queued_open(ahead + 1, info.estimated_wait_seconds.unwrap_or(0), lang),
        };
        change.push(Role::System, notice, channel);

        let link = self
            .settings
            .console_url
            .as_deref()
            .map(|u| AgentAlert::console_link(u, &change.conv.id));
        let marker = if priority == Priority::High {
            "[!] "
        } else {
            ""
        };
        let alert_text = format!("{marker}{summary}");
        change.outbox.push(OutboxItem {
            id: format!("alert:{}:{number}", change.conv.id),
            created_at: now,
            item: Outbound::AgentAlert(AgentAlert {
                conversation_id: change.conv.id.clone(),
                text: alert_text,
                link,
                queue: self.settings.queue_name.clone(),
                priority,
                language: lang,
                channel: change.conv.channel,
            }),
        });
        tracing::info!(conversation_id = %change.conv.id, reason = reason.as_str(), priority = priority.as_str(), "handed off");
        Ok(())
    }

    /// How many queued conversations are ahead of one of this priority.
    async fn waiting_ahead(
        &self,
        priority: Priority,
        own: Option<&ConversationId>,
    ) -> Result<usize, ServiceError> {
        let queue = self.store.queue(QUEUE_SCAN).await?;
        Ok(match own {
            Some(id) => queue
                .iter()
                .position(|c| &c.id == id)
                .unwrap_or(queue.len()),
            None => queue
                .iter()
                .filter(|c| {
                    c.handoff
                        .as_ref()
                        .is_some_and(|h| h.priority.rank() <= priority.rank())
                })
                .count(),
        })
    }

    fn estimate(&self, position: usize, now: Timestamp) -> QueueInfo {
        let hours = &self.settings.hours;
        let per = u64::from(self.settings.minutes_per_customer) * 60;
        let open_now = hours.is_open(now);
        if open_now {
            QueueInfo {
                position: Some(position),
                estimated_wait_seconds: Some(position as u64 * per),
                open_now,
                opens_at: None,
            }
        } else {
            let opens = hours.next_open(now);
            let until = opens.duration_since(now).as_secs().max(0) as u64;
            QueueInfo {
                position: Some(position),
                estimated_wait_seconds: Some(until + (position.saturating_sub(1)) as u64 * per),
                open_now,
                opens_at: Some(opens),
            }
        }
    }

    pub async fn queue_info(&self, conv: &Conversation) -> Result<QueueInfo, ServiceError> {
        let ahead = self.waiting_ahead(Priority::Normal, Some(&conv.id)).await?;
        Ok(self.estimate(ahead + 1, self.clock.now()))
    }

    /// The customer's view of a conversation after `after`.
    pub async fn customer_messages(
        &self,
        id: &ConversationId,
        after: u64,
    ) -> Result<(Conversation, Vec<Message>, Option<QueueInfo>), ServiceError> {
        let conv = self
            .store
            .conversation(id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let messages = self.store.messages(id, after, TRANSCRIPT_LIMIT).await?;
        self.note_web_presence(&conv).await;
        let queue = if conv.status == Status::Queued {
            Some(self.queue_info(&conv).await?)
        } else {
            None
        };
        Ok((conv, messages, queue))
    }

    /// Remember that a customer who chose to continue by SMS is still on the page, so
    /// agent replies are not texted to them while they read them on the web. Written
    /// at most every few seconds; losing a race here is harmless.
    async fn note_web_presence(&self, conv: &Conversation) {
        if !conv.sms_follow_up || conv.status == Status::Resolved {
            return;
        }
        let now = self.clock.now();
        let fresh = conv.web_seen_at.is_some_and(|seen| {
            now.duration_since(seen).as_secs() < crate::model::WEB_PRESENCE_WRITE_SECS
        });
        if fresh {
            return;
        }
        let mut change = Change::new(conv.clone(), Some(conv.version), now);
        change.conv.web_seen_at = Some(now);
        let (commit, _, _) = change.into_commit(None);
        if let Err(e) = self.store.commit(commit).await {
            tracing::debug!(conversation_id = %conv.id, error = %e, "presence not recorded");
        }
    }

    /// The customer takes back their request for a person.
    pub async fn withdraw(&self, id: &ConversationId) -> Result<Conversation, ServiceError> {
        let (conv, _) = self
            .with_conversation(id, false, |ch, _| match ch.conv.status {
                Status::Queued => {
                    ch.conv.status = Status::Bot;
                    let lang = ch.conv.language;
                    let channel = ch.conv.channel;
                    ch.push(Role::System, replies::withdrawn(lang), channel);
                    Ok(true)
                }
                Status::Bot => Ok(false),
                from => Err(ServiceError::IllegalTransition {
                    from,
                    action: "withdraw",
                }),
            })
            .await?;
        Ok(conv)
    }

    // ----- agents ----------------------------------------------------------------

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
        let conv = self
            .store
            .conversation(id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let transcript = self.store.messages(id, 0, TRANSCRIPT_LIMIT).await?;
        let customer = self.store.customer(&conv.customer_id).await?;
        let earlier = self
            .store
            .customer_conversations(&conv.customer_id, self.settings.earlier_conversations + 1)
            .await?;
        let lang = self.settings.agent_language;
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
            .take(self.settings.earlier_conversations)
            .map(|c| EarlierConversation {
                conversation_id: c.id.clone(),
                status: c.status,
                summary: QueueItem::of(c).summary,
                started_at: c.created_at,
            })
            .collect();
        Ok(HandoffPacket {
            conversation_id: conv.id.clone(),
            status: conv.status,
            assigned_to: conv.assigned_to.clone(),
            priority: conv.handoff.as_ref().map(|h| h.priority),
            reason: conv.handoff.as_ref().map(|h| h.reason),
            reason_text: conv
                .handoff
                .as_ref()
                .map(|h| packet::reason_text(h.reason, lang).to_string()),
            summary: QueueItem::of(&conv).summary,
            language: conv.language,
            channel: conv.channel,
            customer: packet::customer_view(customer.as_ref(), &conv),
            transcript,
            bot_answers,
            earlier_conversations,
            queued_at: conv.handoff.as_ref().map(|h| h.requested_at),
        })
    }

    /// Take a queued conversation. Exactly one of several agents claiming at once wins.
    #[tracing::instrument(skip_all, fields(conversation_id = %id, agent = %agent.id))]
    pub async fn claim(
        &self,
        agent: &Agent,
        id: &ConversationId,
    ) -> Result<Conversation, ServiceError> {
        let (conv, _) = self
            .with_conversation(id, false, |ch, _| {
                match (ch.conv.status, &ch.conv.assigned_to) {
                    (Status::Queued, _) => {
                        ch.conv.status = Status::Assigned;
                        ch.conv.assigned_to = Some(agent.id.clone());
                        let (lang, channel) = (ch.conv.language, ch.conv.channel);
                        ch.push(Role::System, replies::agent_joined(lang), channel);
                        Ok(true)
                    }
                    (Status::Assigned, Some(owner)) if owner == &agent.id => Ok(false),
                    (Status::Assigned, Some(owner)) => {
                        Err(ServiceError::AlreadyClaimed { by: owner.clone() })
                    }
                    (from, _) => Err(ServiceError::IllegalTransition {
                        from,
                        action: "claim",
                    }),
                }
            })
            .await?;
        Ok(conv)
    }

    fn check_owner(
        conv: &Conversation,
        agent: &Agent,
        action: &'static str,
    ) -> Result<(), ServiceError> {
        match (&conv.status, &conv.assigned_to) {
            (Status::Assigned, Some(owner)) if owner == &agent.id || agent.supervisor => Ok(()),
            (Status::Assigned, Some(owner)) => Err(ServiceError::NotOwner {
                owner: owner.clone(),
            }),
            (from, _) => Err(ServiceError::IllegalTransition {
                from: *from,
                action,
            }),
        }
    }

    /// The agent's message to the customer; by SMS too when that is how they reach them.
    pub async fn agent_reply(
        &self,
        agent: &Agent,
        id: &ConversationId,
        text: MessageText,
    ) -> Result<Message, ServiceError> {
        let (_, mut messages) = self
            .with_conversation(id, true, |ch, customer| {
                Self::check_owner(&ch.conv, agent, "reply to")?;
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
                    ch.outbox.push(OutboxItem {
                        id: format!("sms:{}:{seq}", ch.conv.id),
                        created_at: ch.now,
                        item: Outbound::CustomerSms {
                            conversation_id: ch.conv.id.clone(),
                            to,
                            text: text.as_str().to_string(),
                        },
                    });
                }
                Ok(true)
            })
            .await?;
        messages.pop().ok_or(ServiceError::Contended)
    }

    pub async fn resolve(
        &self,
        agent: &Agent,
        id: &ConversationId,
    ) -> Result<Conversation, ServiceError> {
        let (conv, _) = self
            .with_conversation(id, true, |ch, customer| {
                Self::check_owner(&ch.conv, agent, "resolve")?;
                ch.conv.status = Status::Resolved;
                let (lang, channel) = (ch.conv.language, ch.conv.channel);
                let seq = ch.push(Role::System, replies::resolved(lang), channel).seq;
                if let Some(c) = customer {
                    if c.open_conversation.as_ref() == Some(&ch.conv.id) {
                        let mut c = c.clone();
                        c.open_conversation = None;
                        self.notify_sms(ch, &c, seq, replies::resolved(lang));
                        ch.customer = Some(customer_write(c));
                    }
                }
                Ok(true)
            })
            .await?;
        Ok(conv)
    }

    /// Hand the conversation back to the bot.
    pub async fn release(
        &self,
        agent: &Agent,
        id: &ConversationId,
    ) -> Result<Conversation, ServiceError> {
        let (conv, _) = self
            .with_conversation(id, true, |ch, customer| {
                Self::check_owner(&ch.conv, agent, "hand back")?;
                ch.conv.status = Status::Bot;
                ch.conv.assigned_to = None;
                ch.conv.bot_misses = 0;
                let (lang, channel) = (ch.conv.language, ch.conv.channel);
                let seq = ch.push(Role::System, replies::released(lang), channel).seq;
                if let Some(c) = customer {
                    self.notify_sms(ch, c, seq, replies::released(lang));
                }
                Ok(true)
            })
            .await?;
        Ok(conv)
    }

    /// A system notice by SMS to a customer who is reached that way.
    fn notify_sms(&self, ch: &mut Change, customer: &Customer, seq: u64, text: String) {
        let reach = ch.conv.reach_by_sms(ch.now);
        if let (true, false, Some(to)) = (reach, customer.sms_opted_out, customer.phone.clone()) {
            ch.outbox.push(OutboxItem {
                id: format!("sms:{}:{seq}", ch.conv.id),
                created_at: ch.now,
                item: Outbound::CustomerSms {
                    conversation_id: ch.conv.id.clone(),
                    to,
                    text: self.sms_text(&text),
                },
            });
        }
    }

    /// Read, change with `f`, commit; retried from a fresh read when another writer won.
    /// `f` returns false when there is nothing to write.
    async fn with_conversation(
        &self,
        id: &ConversationId,
        needs_customer: bool,
        mut f: impl FnMut(&mut Change, Option<&Customer>) -> Result<bool, ServiceError>,
    ) -> Result<(Conversation, Vec<Message>), ServiceError> {
        for _ in 0..ATTEMPTS {
            let conv = self
                .store
                .conversation(id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let customer = if needs_customer {
                self.store.customer(&conv.customer_id).await?
            } else {
                None
            };
            let v = conv.version;
            let mut change = Change::new(conv.clone(), Some(v), self.clock.now());
            if !f(&mut change, customer.as_ref())? {
                return Ok((conv, Vec::new()));
            }
            let (commit, conv, messages) = change.into_commit(None);
            match self.store.commit(commit).await {
                Ok(()) => return Ok((conv, messages)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended)
    }

    // ----- outbox ----------------------------------------------------------------

    /// The outbox use cases over this service's store and clock.
    pub fn outbox(&self) -> OutboxDispatcher {
        OutboxDispatcher::new(self.store.clone(), self.clock.clone())
            .with_alert_coalescing(&self.settings.queue_name, self.settings.alert_coalesce)
    }

    pub async fn dispatch(
        &self,
        delivery: &dyn Delivery,
        item: &OutboxItem,
    ) -> Result<Dispatched, ServiceError> {
        self.outbox().dispatch(delivery, item).await
    }

    pub async fn dispatch_pending(
        &self,
        delivery: &dyn Delivery,
        limit: usize,
    ) -> Result<(usize, usize), ServiceError> {
        self.outbox().dispatch_pending(delivery, limit).await
    }
}

/// Delivers outbox items; needs only the store and a clock (no catalog), so the
/// dispatcher function builds just this.
pub struct OutboxDispatcher {
    store: Arc<dyn ConversationStore>,
    clock: Arc<dyn Clock>,
    /// Agents get one alert per queue per this window (zero: every alert).
    alert_coalesce: SignedDuration,
    /// The queue whose held-back alerts the sweep announces.
    alert_queue: Option<String>,
}

/// How long a worker holds an item while sending it.
const OUTBOX_LEASE_SECS: i64 = 60;

impl OutboxDispatcher {
    pub fn new(store: Arc<dyn ConversationStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            alert_coalesce: SignedDuration::ZERO,
            alert_queue: None,
        }
    }

    /// Coalesce agent alerts of `queue` to one per `window`.
    pub fn with_alert_coalescing(mut self, queue: &str, window: SignedDuration) -> Self {
        self.alert_coalesce = window;
        self.alert_queue = Some(queue.to_string());
        self
    }

    /// Deliver one outbox item at most once at a time: lease it, send, mark it done.
    /// A transient failure gives the lease back so the next attempt can go at once; a
    /// permanent one is marked done (it can never succeed) and reported.
    #[tracing::instrument(skip_all, fields(outbox_id = %item.id))]
    pub async fn dispatch(
        &self,
        delivery: &dyn Delivery,
        item: &OutboxItem,
    ) -> Result<Dispatched, ServiceError> {
        let now = self.clock.now();
        let until = now
            .checked_add(SignedDuration::from_secs(OUTBOX_LEASE_SECS))
            .unwrap_or(now);
        if !self.store.lease_outbox(&item.id, now, until).await? {
            return Ok(Dispatched::Skipped);
        }
        let gated;
        let item = match &item.item {
            Outbound::AgentAlert(alert) => match self.gate_alert(item, alert).await? {
                Some(send) => {
                    gated = send;
                    &gated
                }
                None => {
                    self.store
                        .complete_outbox(&item.id, self.clock.now())
                        .await?;
                    tracing::info!("alert folded into the next one");
                    return Ok(Dispatched::Folded);
                }
            },
            _ => item,
        };
        match delivery.deliver(item).await {
            Ok(()) => {
                self.store
                    .complete_outbox(&item.id, self.clock.now())
                    .await?;
                tracing::info!("delivered");
                Ok(Dispatched::Delivered)
            }
            Err(e @ DeliveryError::Transient(_)) => {
                tracing::warn!(error = %e, "delivery failed; will retry");
                self.store.release_outbox(&item.id).await?;
                Err(ServiceError::Delivery(e))
            }
            Err(e @ DeliveryError::Permanent(_)) => {
                tracing::error!(error = %e, "delivery rejected for good; not retrying");
                self.store
                    .complete_outbox(&item.id, self.clock.now())
                    .await?;
                Err(ServiceError::Delivery(e))
            }
        }
    }

    /// Deliver what is pending (the local server's loop, and the sweep in AWS):
    /// (delivered, failed).
    pub async fn dispatch_pending(
        &self,
        delivery: &dyn Delivery,
        limit: usize,
    ) -> Result<(usize, usize), ServiceError> {
        let pending = self.store.pending_outbox(self.clock.now(), limit).await?;
        let (mut delivered, mut failed) = (0, 0);
        match self.flush_held_alerts(delivery).await {
            Ok(Dispatched::Delivered) => delivered += 1,
            Ok(_) => {}
            Err(ServiceError::Delivery(_)) => failed += 1,
            Err(e) => return Err(e),
        }
        for item in &pending {
            match self.dispatch(delivery, item).await {
                Ok(Dispatched::Delivered) => delivered += 1,
                Ok(Dispatched::Skipped | Dispatched::Folded) => {}
                Err(ServiceError::Delivery(_)) => failed += 1,
                Err(e) => return Err(e),
            }
        }
        Ok((delivered, failed))
    }
}
