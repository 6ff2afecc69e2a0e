//! Ports: what the domain needs from the outside world. Adapters implement them:
//! the embedded store and DynamoDB for storage, SNS/Twilio/local for delivery.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::{DeliveryError, StoreError};
use crate::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey};
use crate::model::{Conversation, Customer, IdempotencyRecord, Message, OutboxItem, PhoneNumber};
use crate::queue_position::QueuePosition;
use crate::records::{RecordStore, RecordWrite};

/// A conversation write: the new state and the version it was read at
/// (`None`: the conversation must not exist yet).
#[derive(Debug, Clone)]
pub struct ConversationWrite {
    pub conversation: Conversation,
    pub expected_version: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct CustomerWrite {
    pub customer: Customer,
    pub expected_version: Option<u64>,
}

/// Everything one use case changes, written atomically or not at all.
///
/// Stores must check: the conversation's and customer's expected versions
/// (`StoreError::Conflict`), that a customer's phone belongs to no other customer
/// (`Conflict`), that no message with the same (conversation, seq) exists (`Conflict`),
/// that each record's stored version equals its expected one (`Conflict`),
/// and that the idempotency key is new (`StoreError::Duplicate`, checked so that a
/// repeat is reported as `Duplicate` even when the versions moved on).
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub conversation: Option<ConversationWrite>,
    pub customer: Option<CustomerWrite>,
    pub messages: Vec<Message>,
    pub idempotency: Option<IdempotencyRecord>,
    pub outbox: Vec<OutboxItem>,
    pub records: Vec<RecordWrite>,
    /// Counters added to atomically with the rest (DynamoDB: `ADD`); no condition.
    pub counters: Vec<crate::insights::CounterAdd>,
}

/// Conversations, messages, customers and idempotency records; its commits also write
/// the outbox, so it is an [`OutboxStore`] too.
#[async_trait]
pub trait ConversationStore: OutboxStore + RecordStore {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError>;
    async fn commit(&self, commit: Commit) -> Result<(), StoreError>;
    /// Messages with `seq > after`, oldest first, at most `limit`.
    async fn messages(
        &self,
        id: &ConversationId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError>;
    async fn idempotency(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Queued conversations: high priority first, then longest waiting.
    async fn queue(&self, limit: usize) -> Result<Vec<Conversation>, StoreError>;
    /// The queued conversations after `after`, in queue order: the next page.
    async fn queue_after(
        &self,
        after: &QueuePosition,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError>;
    /// Conversations assigned to this agent, most recently updated first.
    async fn assigned_to(
        &self,
        agent: &AgentId,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError>;

    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError>;
    async fn customer_by_phone(&self, phone: &PhoneNumber) -> Result<Option<Customer>, StoreError>;
    /// The customer's conversations, newest first.
    async fn customer_conversations(
        &self,
        id: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError>;
}

/// The outbox the dispatcher works through: all it needs, and all its IAM policy allows.
/// Items get into it only inside a [`Commit`].
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Outbox items not yet delivered whose lease (if any) expired before `now`.
    async fn pending_outbox(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError>;
    /// Take the item for delivery until `until`; false when it is delivered or leased by another worker.
    async fn lease_outbox(
        &self,
        id: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn complete_outbox(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Give a leased item back after a failed send, so the next attempt need not wait
    /// for the lease to run out. A delivered item stays delivered.
    async fn release_outbox(&self, id: &str) -> Result<(), StoreError>;
}

/// Sends outbox items: agent alerts and texts to customers' phones.
#[async_trait]
pub trait Delivery: Send + Sync {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still unless moved; for tests and evaluation.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        Self(std::sync::Mutex::new(at))
    }
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t = t.checked_add(by).unwrap_or(*t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
