//! An in-memory store: the fake for unit tests of the use cases. It keeps the same
//! contract as the real stores (the contract suite runs against it too).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::StoreError;
use crate::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey};
use crate::model::{
    Conversation, Customer, IdempotencyRecord, Message, OutboxItem, PhoneNumber, Status,
};
use crate::ports::{Commit, ConversationStore, OutboxStore};
use crate::queue_position::QueuePosition;
use crate::records::{Count, Record, RecordKey, RecordStore, RecordWrite};

#[derive(Default)]
struct State {
    conversations: HashMap<ConversationId, Conversation>,
    messages: HashMap<ConversationId, BTreeMap<u64, Message>>,
    customers: HashMap<CustomerId, Customer>,
    phones: HashMap<String, CustomerId>,
    idempotency: HashMap<String, IdempotencyRecord>,
    outbox: BTreeMap<String, (OutboxItem, Option<Timestamp>, bool)>,
    records: HashMap<RecordKey, Record>,
    counters: HashMap<RecordKey, crate::insights::Counts>,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Checks shared by the in-memory and embedded stores: everything a commit must verify
/// before it writes anything.
pub fn check_commit(
    commit: &Commit,
    conversation: impl Fn(&ConversationId) -> Option<u64>,
    customer: impl Fn(&CustomerId) -> Option<u64>,
    phone_owner: impl Fn(&PhoneNumber) -> Option<CustomerId>,
    message_exists: impl Fn(&ConversationId, u64) -> bool,
    idempotency_exists: impl Fn(&IdempotencyKey) -> bool,
    outbox_exists: impl Fn(&str) -> bool,
) -> Result<(), StoreError> {
    if let Some(rec) = &commit.idempotency {
        if idempotency_exists(&rec.key) {
            return Err(StoreError::Duplicate);
        }
    }
    if let Some(w) = &commit.conversation {
        let stored = conversation(&w.conversation.id);
        if stored != w.expected_version {
            return Err(StoreError::Conflict(format!(
                "conversation {} changed",
                w.conversation.id
            )));
        }
    }
    if let Some(w) = &commit.customer {
        if customer(&w.customer.id) != w.expected_version {
            return Err(StoreError::Conflict(format!(
                "customer {} changed",
                w.customer.id
            )));
        }
        if let Some(phone) = &w.customer.phone {
            if phone_owner(phone).is_some_and(|owner| owner != w.customer.id) {
                return Err(StoreError::Conflict(
                    "phone number belongs to another customer".into(),
                ));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for m in &commit.messages {
        if !seen.insert((&m.conversation_id, m.seq)) || message_exists(&m.conversation_id, m.seq) {
            return Err(StoreError::Conflict(format!("message {} exists", m.seq)));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for o in &commit.outbox {
        if !seen.insert(o.id.as_str()) || outbox_exists(&o.id) {
            return Err(StoreError::Conflict(format!("outbox item {} exists", o.id)));
        }
    }
    Ok(())
}

/// The record checks of a commit: each stored version must be the expected one.
pub fn check_records(
    commit: &Commit,
    record_version: impl Fn(&RecordKey) -> Option<u64>,
) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for r in &commit.records {
        if !seen.insert(&r.record.key) || record_version(&r.record.key) != r.expected_version {
            return Err(StoreError::Conflict(format!(
                "record {} changed",
                r.record.key
            )));
        }
    }
    Ok(())
}

/// Queue order: high priority first, then longest waiting.
pub fn sort_queue(conversations: &mut [Conversation]) {
    conversations.sort_by(|a, b| {
        let key = |c: &Conversation| c.queue_key().unwrap_or((u8::MAX, i64::MAX));
        key(a).cmp(&key(b)).then(a.id.cmp(&b.id))
    });
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        Ok(self.lock().conversations.get(id).cloned())
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let mut s = self.lock();
        check_commit(
            &commit,
            |id| s.conversations.get(id).map(|c| c.version),
            |id| s.customers.get(id).map(|c| c.version),
            |p| s.phones.get(p.as_str()).cloned(),
            |id, seq| s.messages.get(id).is_some_and(|m| m.contains_key(&seq)),
            |k| s.idempotency.contains_key(k.as_str()),
            |id| s.outbox.contains_key(id),
        )?;
        check_records(&commit, |k| s.records.get(k).map(|r| r.version))?;
        if let Some(w) = commit.conversation {
            s.conversations
                .insert(w.conversation.id.clone(), w.conversation);
        }
        if let Some(w) = commit.customer {
            let c = w.customer;
            if let Some(old) = s.customers.get(&c.id).and_then(|o| o.phone.clone()) {
                if Some(&old) != c.phone.as_ref() {
                    s.phones.remove(old.as_str());
                }
            }
            if let Some(p) = &c.phone {
                s.phones.insert(p.as_str().to_string(), c.id.clone());
            }
            s.customers.insert(c.id.clone(), c);
        }
        for m in commit.messages {
            s.messages
                .entry(m.conversation_id.clone())
                .or_default()
                .insert(m.seq, m);
        }
        if let Some(r) = commit.idempotency {
            s.idempotency.insert(r.key.as_str().to_string(), r);
        }
        for o in commit.outbox {
            s.outbox.insert(o.id.clone(), (o, None, false));
        }
        for r in commit.records {
            s.records.insert(r.record.key.clone(), r.record);
        }
        for add in commit.counters {
            let item = s.counters.entry(add.key).or_default();
            for (k, n) in add.adds {
                *item.entry(k).or_insert(0) += n;
            }
        }
        Ok(())
    }

    async fn messages(
        &self,
        id: &ConversationId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        Ok(self
            .lock()
            .messages
            .get(id)
            .map(|m| {
                m.range(after + 1..)
                    .take(limit)
                    .map(|(_, m)| m.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn idempotency(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.lock().idempotency.get(key.as_str()).cloned())
    }

    async fn queue(&self, limit: usize) -> Result<Vec<Conversation>, StoreError> {
        let mut q: Vec<Conversation> = self
            .lock()
            .conversations
            .values()
            .filter(|c| c.status == Status::Queued)
            .cloned()
            .collect();
        sort_queue(&mut q);
        q.truncate(limit);
        Ok(q)
    }

    async fn queue_after(
        &self,
        after: &QueuePosition,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        let mut q: Vec<Conversation> = self
            .lock()
            .conversations
            .values()
            .filter(|c| QueuePosition::of(c).is_some_and(|p| &p > after))
            .cloned()
            .collect();
        sort_queue(&mut q);
        q.truncate(limit);
        Ok(q)
    }

    async fn assigned_to(
        &self,
        agent: &AgentId,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        let mut v: Vec<Conversation> = self
            .lock()
            .conversations
            .values()
            .filter(|c| c.status == Status::Assigned && c.assigned_to.as_ref() == Some(agent))
            .cloned()
            .collect();
        v.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        v.truncate(limit);
        Ok(v)
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        Ok(self.lock().customers.get(id).cloned())
    }

    async fn customer_by_phone(&self, phone: &PhoneNumber) -> Result<Option<Customer>, StoreError> {
        let s = self.lock();
        Ok(s.phones
            .get(phone.as_str())
            .and_then(|id| s.customers.get(id))
            .cloned())
    }

    async fn customer_conversations(
        &self,
        id: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        let mut v: Vec<Conversation> = self
            .lock()
            .conversations
            .values()
            .filter(|c| &c.customer_id == id)
            .cloned()
            .collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        v.truncate(limit);
        Ok(v)
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn pending_outbox(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let mut v: Vec<OutboxItem> = self
            .lock()
            .outbox
            .values()
            .filter(|(_, lease, done)| !done && lease.is_none_or(|l| l <= now))
            .map(|(o, _, _)| o.clone())
            .collect();
        v.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        v.truncate(limit);
        Ok(v)
    }

    async fn lease_outbox(
        &self,
        id: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        match s.outbox.get_mut(id) {
            Some((_, lease, done)) if !*done && lease.is_none_or(|l| l <= now) => {
                *lease = Some(until);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn complete_outbox(&self, id: &str, _at: Timestamp) -> Result<(), StoreError> {
        if let Some((_, _, done)) = self.lock().outbox.get_mut(id) {
            *done = true;
        }
        Ok(())
    }

    async fn release_outbox(&self, id: &str) -> Result<(), StoreError> {
        if let Some((_, lease, false)) = self.lock().outbox.get_mut(id) {
            *lease = None;
        }
        Ok(())
    }
}

#[async_trait]
impl RecordStore for MemoryStore {
    async fn record(&self, key: &RecordKey) -> Result<Option<Record>, StoreError> {
        Ok(self.lock().records.get(key).cloned())
    }

    async fn put_record(&self, write: RecordWrite) -> Result<(), StoreError> {
        let mut s = self.lock();
        let stored = s.records.get(&write.record.key).map(|r| r.version);
        if stored != write.expected_version {
            return Err(StoreError::Conflict(format!(
                "record {} changed",
                write.record.key
            )));
        }
        s.records.insert(write.record.key.clone(), write.record);
        Ok(())
    }

    async fn count(
        &self,
        key: &RecordKey,
        limit: u32,
        expires_at: Timestamp,
    ) -> Result<Count, StoreError> {
        let mut s = self.lock();
        let record = s.records.entry(key.clone()).or_insert_with(|| Record {
            key: key.clone(),
            version: 0,
            data: serde_json::json!(0),
            expires_at: Some(expires_at),
        });
        let n = record.data.as_u64().unwrap_or(0) as u32;
        if n >= limit {
            return Ok(Count::OverLimit);
        }
        record.data = serde_json::json!(n + 1);
        record.version += 1;
        Ok(Count::Admitted(n + 1))
    }

    async fn counters(
        &self,
        keys: &[RecordKey],
    ) -> Result<Vec<crate::insights::Counts>, StoreError> {
        let s = self.lock();
        Ok(keys
            .iter()
            .map(|k| s.counters.get(k).cloned().unwrap_or_default())
            .collect())
    }
}
