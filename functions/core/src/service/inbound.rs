//! A customer's message, from the web chat or by SMS:
//!
//! 1. **load** the customer and the conversation the message continues (or start one);
//! 2. **decide**, with pure functions: SMS keywords (STOP/START/HELP) first, else
//!    [`triage`](crate::triage): answer, clarify, or hand off; a handoff first loads the transcript and
//!    the queue, then `decide_handoff` records it, tells the customer the wait and
//!    alerts the agents (through the outbox);
//! 3. **commit** it all at once, keyed by the delivery's idempotency key: a repeated
//!    delivery is answered from what was stored (`HandoffService::replay`).
//!
//! The SMS reply policy is `sms_replies`, the one place that decides what a texting
//! customer is sent: by the outbox ([`ReplyVia::SmsOutbox`]) or in the response
//! ([`Received::texts`], Twilio's TwiML).

use handoff_sms::keyword;

use crate::error::{ServiceError, StoreError};
use std::sync::atomic::Ordering::Relaxed;

use crate::ids::{ConversationId, CustomerId, IdempotencyKey};
use crate::insights::Score;
use crate::limits::LimitKind;
use crate::model::{
    Channel, Conversation, Customer, Lang, Message, MessageText, PhoneNumber, Priority, Role,
    Status,
};
use crate::packet;
use crate::ports::Commit;
use crate::triage::Triage;

use super::change::Change;
use super::queue::QueueInfo;
use super::{retry_on_conflict, HandoffService, TRANSCRIPT_LIMIT};

mod decide;
mod learn;
mod told;
use decide::*;

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

impl Origin {
    fn channel(&self) -> Channel {
        match self {
            Origin::Web { .. } => Channel::Web,
            Origin::Sms { .. } => Channel::Sms,
        }
    }
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

#[derive(Debug, Clone)]
pub struct Received {
    pub conversation: Conversation,
    pub customer_message: Option<Message>,
    /// Bot and system messages this message produced.
    pub replies: Vec<Message>,
    /// The texts to answer an SMS with in the response (SMS with [`ReplyVia::Response`]),
    /// each cut to the segment budget; none for a number that opted out (but the
    /// confirmation of STOP itself). Empty for the web, and when texts go by the outbox.
    pub texts: Vec<String>,
    pub queue: Option<QueueInfo>,
    /// This delivery was a repeat; the result is the stored one.
    pub repeat: bool,
}

/// What one attempt decided: the commit and what the caller is told once it is written.
struct Planned {
    commit: Commit,
    conversation: Conversation,
    messages: Vec<Message>,
    queue: Option<QueueInfo>,
    /// This message handed the conversation to a person (what the abuse limits count).
    handed_off: bool,
    texts: Vec<String>,
}

impl HandoffService {
    /// A customer's message, from any channel.
    #[tracing::instrument(skip_all, fields(channel = ?inbound.reply_via))]
    pub async fn receive(&self, inbound: Inbound) -> Result<Received, ServiceError> {
        let inbound = &inbound;
        if let (Origin::Sms { phone }, Some(score)) =
            (&inbound.origin, Score::from_sms(inbound.text.as_str()))
        {
            // A digit after a resolve answers the survey instead of starting anew.
            if let Some(rated) = self.rate_by_sms(inbound, phone, score).await? {
                return Ok(rated);
            }
        }
        let web = matches!(inbound.origin, Origin::Web { .. });
        if matches!(inbound.origin, Origin::Web { conversation: None })
            && self.settings.rate_limits.is_on()
        {
            if let Some(key) = &inbound.idempotency {
                // A retried first message is answered from the store, not counted again.
                if self.store.idempotency(key).await?.is_some() {
                    return self.replay(inbound, key).await;
                }
            }
            self.take_sender_limits(
                &inbound.sender,
                LimitKind::NewConversationPerIp,
                LimitKind::NewConversationPerDevice,
            )
            .await?;
        }
        let handoff_counted = &std::sync::atomic::AtomicBool::new(false);
        retry_on_conflict(|| async move {
            let planned = self.plan(inbound).await?;
            if web && planned.handed_off && !handoff_counted.swap(true, Relaxed) {
                // Counted before anything is stored: over the limit, nothing is.
                self.take_sender_limits(
                    &inbound.sender,
                    LimitKind::HandoffPerIp,
                    LimitKind::HandoffPerDevice,
                )
                .await?;
            }
            match self.write(planned.commit).await {
                Ok(()) => {}
                Err(StoreError::Duplicate) => {
                    let key = inbound.idempotency.as_ref().ok_or_else(|| {
                        ServiceError::Internal("a write without a key was called a repeat".into())
                    })?;
                    return self.replay(inbound, key).await;
                }
                Err(e) => return Err(e.into()),
            }
            let conv = planned.conversation;
            let queue = match (conv.status, planned.queue) {
                (Status::Queued, Some(q)) => Some(q),
                (Status::Queued, None) => Some(self.queue_info(&conv).await?),
                _ => None,
            };
            let mut messages = planned.messages.into_iter();
            let customer_message = messages.next();
            tracing::info!(conversation_id = %conv.id, status = %conv.status, "customer message stored");
            Ok(Received {
                conversation: conv,
                customer_message,
                replies: messages.collect(),
                texts: planned.texts,
                queue,
                repeat: false,
            })
        })
        .await
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

    /// A repeated delivery: answered with what its first delivery stored.
    async fn replay(
        &self,
        inbound: &Inbound,
        key: &IdempotencyKey,
    ) -> Result<Received, ServiceError> {
        // The record may not be visible yet right after the write that made it.
        let record = self
            .store
            .idempotency(key)
            .await?
            .ok_or(ServiceError::Contended)?;
        let conv = self.existing(&record.conversation_id).await?;
        let count = (record.last_seq + 1 - record.first_seq) as usize;
        let stored = self
            .store
            .messages(&conv.id, record.first_seq - 1, count)
            .await?;
        let mut stored = stored.into_iter();
        let customer_message = stored.next();
        if customer_message
            .as_ref()
            .is_some_and(|m| m.text != inbound.text.as_str())
        {
            return Err(ServiceError::IdempotencyKeyReused);
        }
        let replies: Vec<Message> = stored.collect();
        let texts = match (&inbound.origin, inbound.reply_via) {
            (Origin::Sms { phone }, ReplyVia::Response) => {
                let customer = self.store.customer_by_phone(phone).await?;
                let stop = keyword(inbound.text.as_str());
                sms_replies(&replies, customer.as_ref(), stop, &self.settings)
                    .into_iter()
                    .map(|(_, t)| t)
                    .collect()
            }
            _ => Vec::new(),
        };
        let queue = self.queue_if_waiting(&conv).await?;
        tracing::info!(conversation_id = %conv.id, "repeated delivery answered from the store");
        Ok(Received {
            conversation: conv,
            customer_message,
            replies,
            texts,
            queue,
            repeat: true,
        })
    }

    /// Load, then decide: the commit this message makes.
    async fn plan(&self, inbound: &Inbound) -> Result<Planned, ServiceError> {
        let now = self.clock.now();
        let text = inbound.text.as_str();
        let live = self.live_catalog().await;
        let incidents = self.live_incidents().await;
        let catalog_language = super::catalog_language(&live.catalog);
        // A new conversation starts in the language the message is written in.
        // A new conversation's language is set from this message by `take_message`.
        let lang = catalog_language.reply_lang();
        let channel = inbound.origin.channel();
        let (mut change, customer) = self.load(&inbound.origin, text, lang, now).await?;
        take_message(&mut change, text, catalog_language, channel);
        if let (None, Some(c)) = (change.expected, &customer) {
            if c.version > 0 {
                self.note_repeat(&mut change, &c.id).await?;
            }
        }

        // SMS keywords come before triage: they are about the channel, not the question.
        let sms_keyword = match inbound.origin {
            Origin::Sms { .. } => keyword(text),
            Origin::Web { .. } => None,
        };
        let mut handed_off = false;
        match sms_keyword {
            Some(k) => decide_keyword(&mut change, customer.as_ref(), k, &self.settings)?,
            None => match self
                .triage_and_tell(
                    &mut change,
                    text,
                    &live.index,
                    &incidents,
                    catalog_language.code(),
                )
                .await?
            {
                Triage::Handoff { reason } => {
                    // Only a handoff reads the transcript and the queue.
                    let mut transcript = match change.expected {
                        Some(_) => {
                            self.store
                                .messages(&change.conv.id, 0, TRANSCRIPT_LIMIT)
                                .await?
                        }
                        None => Vec::new(),
                    };
                    transcript.extend(change.messages.iter().cloned());
                    let ahead = self.waiting_ahead(reason.priority(), None).await?;
                    let facts = self.wait_facts().await?;
                    decide_handoff(
                        &mut change,
                        reason,
                        &transcript,
                        ahead,
                        facts,
                        &self.settings,
                    )?;
                    handed_off = true;
                }
                decision => {
                    let waiting = change.conv.status == Status::Queued
                        && change
                            .conv
                            .handoff
                            .as_ref()
                            .is_some_and(|h| !h.acknowledged);
                    decide_bot_turn(&mut change, decision, &live.catalog);
                    if waiting {
                        // Read only for the one acknowledgement of a wait.
                        let id = change.conv.id.clone();
                        let ahead = self.waiting_ahead(Priority::Normal, Some(&id)).await?;
                        let facts = self.wait_facts().await?;
                        decide_wait_ack(&mut change, ahead, facts, &self.settings);
                    }
                }
            },
        }

        let mut texts = Vec::new();
        if let Origin::Sms { phone } = &inbound.origin {
            // The customer as this message leaves them (STOP and START change them).
            let after = change.customer.as_ref().map(|w| &w.customer);
            let replies: Vec<Message> = change
                .messages
                .iter()
                .filter(|m| m.from != Role::Customer)
                .cloned()
                .collect();
            let out = sms_replies(
                &replies,
                after.or(customer.as_ref()),
                sms_keyword,
                &self.settings,
            );
            match inbound.reply_via {
                ReplyVia::SmsOutbox => {
                    for (seq, t) in out {
                        change.text(seq, phone.clone(), t);
                    }
                }
                ReplyVia::Response => texts = out.into_iter().map(|(_, t)| t).collect(),
            }
        }
        let queue = change.queue.take();
        let (commit, conversation, messages) = change.into_commit(inbound.idempotency.as_ref());
        Ok(Planned {
            commit,
            conversation,
            messages,
            queue,
            handed_off,
            texts,
        })
    }

    /// The conversation this message continues, as a change, and the customer when known.
    async fn load(
        &self,
        origin: &Origin,
        text: &str,
        lang: Lang,
        now: jiff::Timestamp,
    ) -> Result<(Change, Option<Customer>), ServiceError> {
        let channel = origin.channel();
        let new_conversation = |customer_id: CustomerId| {
            let mut c =
                Conversation::new(ConversationId::generate(), customer_id, lang, channel, now);
            c.topic = Some(packet::clip(text, 60));
            c
        };
        // A new conversation for this customer, which their next message continues.
        let start = |mut customer: Customer| {
            let conv = new_conversation(customer.id.clone());
            customer.open_conversation = Some(conv.id.clone());
            let mut change = Change::new(conv, None, now);
            change.set_customer(customer.clone());
            (change, customer)
        };
        Ok(match origin {
            Origin::Web { conversation: None } => {
                let (change, customer) = start(Customer::new(CustomerId::generate(), now));
                (change, Some(customer))
            }
            Origin::Web {
                conversation: Some(id),
            } => {
                let conv = self.existing(id).await?;
                if conv.status == Status::Resolved {
                    // A resolved conversation stays closed; the customer's next message starts
                    // a new one that the packet links back to.
                    let customer = self.store.customer(&conv.customer_id).await?;
                    let c = customer
                        .clone()
                        .unwrap_or_else(|| Customer::new(conv.customer_id.clone(), now));
                    (start(c).0, customer)
                } else {
                    (Change::of(conv, now), None)
                }
            }
            Origin::Sms { phone } => {
                let found = self.store.customer_by_phone(phone).await?;
                let customer = found.clone().unwrap_or_else(|| {
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
                        let mut change = Change::of(conv, now);
                        if found.is_none() {
                            change.set_customer(customer.clone());
                        }
                        (change, Some(customer))
                    }
                    None => {
                        let (change, customer) = start(customer);
                        (change, Some(customer))
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
