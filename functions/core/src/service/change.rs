//! One atomic change to a conversation under construction: what the pure decisions
//! of a use case fill in, and what becomes its one [`Commit`].

use jiff::Timestamp;

use crate::ids::{IdempotencyKey, MessageId};
use crate::insights::tally::{self, tally};
use crate::insights::{self, CounterAdd, Counts};
use crate::model::{
    Channel, Conversation, Customer, IdempotencyRecord, Message, OutboxItem, PhoneNumber, Role,
};
use crate::outbox;
use crate::ports::{Commit, ConversationWrite, CustomerWrite};
use crate::records::RecordWrite;

use super::queue::QueueInfo;

#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub conv: Conversation,
    /// The version the conversation was read at; `None`: it is new.
    pub expected: Option<u64>,
    pub messages: Vec<Message>,
    pub outbox: Vec<OutboxItem>,
    pub customer: Option<CustomerWrite>,
    /// Small records written with the change (a spent verification code).
    pub records: Vec<RecordWrite>,
    pub now: Timestamp,
    /// The customer's place in line, when this change hands off.
    pub queue: Option<QueueInfo>,
    /// The conversation as read (`None`: new): what [`tally`] compares against.
    pub before: Option<Conversation>,
    /// Counted by the use case besides what [`tally`] finds (unanswered, repeats).
    pub counts: Counts,
}

impl Change {
    pub fn new(conv: Conversation, expected: Option<u64>, now: Timestamp) -> Self {
        Self {
            before: expected.map(|_| conv.clone()),
            conv,
            expected,
            messages: Vec::new(),
            outbox: Vec::new(),
            customer: None,
            records: Vec::new(),
            now,
            queue: None,
            counts: Counts::new(),
        }
    }

    /// A change to a conversation as read.
    pub fn of(conv: Conversation, now: Timestamp) -> Self {
        let v = conv.version;
        Self::new(conv, Some(v), now)
    }

    /// Appends a message, numbered after the last one.
    pub fn push(&mut self, from: Role, text: String, channel: Channel) -> &mut Message {
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
            attachments: Vec::new(),
        });
        let last = self.messages.len() - 1;
        &mut self.messages[last]
    }

    /// A system notice in the customer's language, on their channel: its seq.
    pub fn notice(&mut self, text: impl FnOnce(handoff_faq::LangTag) -> String) -> u64 {
        let tag = self.conv.customer_language();
        let channel = self.conv.channel;
        self.push(Role::System, text(tag), channel).seq
    }

    /// The customer as this change leaves them.
    pub fn set_customer(&mut self, customer: Customer) {
        self.customer = Some(customer_write(customer));
    }

    /// Texts message `seq` to `to` through the outbox.
    pub fn text(&mut self, seq: u64, to: PhoneNumber, text: String) {
        self.outbox
            .push(outbox::customer_sms(&self.conv.id, seq, to, text, self.now));
    }

    pub fn into_commit(
        mut self,
        idempotency: Option<&IdempotencyKey>,
    ) -> (Commit, Conversation, Vec<Message>) {
        let mut counts = tally(
            self.before.as_ref(),
            &mut self.conv,
            &self.messages,
            self.now,
        );
        for (k, n) in std::mem::take(&mut self.counts) {
            tally::add(&mut counts, k, n);
        }
        let counters = match counts.is_empty() {
            true => Vec::new(),
            false => vec![CounterAdd {
                key: insights::counters_key(
                    insights::day_of(self.now),
                    insights::shard_of(self.conv.id.as_str()),
                ),
                adds: counts,
            }],
        };
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
            counters,
        };
        (commit, self.conv, self.messages)
    }
}

/// A customer write guarded by the version it was read at (new: none).
pub(crate) fn customer_write(mut customer: Customer) -> CustomerWrite {
    let expected = (customer.version > 0).then_some(customer.version);
    customer.version += 1;
    CustomerWrite {
        customer,
        expected_version: expected,
    }
}
