//! The DynamoDB store: Handoff's [`ConversationStore`] on one table.
//!
//! Every use case's change is one `TransactWriteItems` guarded by the versions it read;
//! lists come from sparse global secondary indexes, never a Scan. The layout is in
//! `README.md` beside `src/`, and [`DynamoStore::provision`] creates the same table as
//! `infra/template.yaml`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;

use handoff_core::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey};
use handoff_core::model::{
    Conversation, Customer, IdempotencyRecord, Message, OutboxItem, PhoneNumber, Status,
};
use handoff_core::ports::{Commit, ConversationStore, OutboxStore};
use handoff_core::queue_position::QueuePosition;
use handoff_core::StoreError;

mod counter;
pub mod keys;
mod records;
pub mod stream;
mod tallies;
#[cfg(feature = "testing")]
pub mod testing;

pub use counter::RequestCounts;
use counter::{CountRequests, Counter};

/// DynamoDB caps a transaction at 100 items.
pub const MAX_TRANSACTION_ITEMS: usize = 100;
/// Retries of throttled or failed requests, in the SDK's standard mode.
pub const MAX_ATTEMPTS: u32 = 5;

type Item = HashMap<String, AttributeValue>;

/// Configuration read from the environment, failing with the variable's name.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set; it names the DynamoDB table")]
    MissingTable(&'static str),
    #[error("environment variable {name} must be a whole number of days (0 keeps items forever), got {value:?}")]
    BadRetention { name: &'static str, value: String },
}

/// The store. Cheap to clone; clones share the client and the request counter.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Seconds after which items get `expires_at`; `None` keeps them.
    retention_secs: Option<i64>,
    counter: Arc<Counter>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .field("retention_secs", &self.retention_secs)
            .finish_non_exhaustive()
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A request that could not even be built: a bug, never retried.
fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("building a DynamoDB request: {e}"))
}

/// DynamoDB's validation errors are permanent (the same request fails again); the
/// rest (throttling, network, service errors) may pass.
fn sdk_error<E, R>(operation: &str, e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    let message = format!("DynamoDB {operation}: {}", DisplayErrorContext(&e));
    match e.as_service_error().and_then(|s| s.code()) {
        Some("ValidationException" | "SerializationException") => StoreError::Invalid(message),
        _ => StoreError::Unavailable(message),
    }
}

fn to_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode record: {e}")))
}

/// The record in the item's `data` attribute.
fn data<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let pk = item
        .get(keys::PK)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .unwrap_or("?");
    let raw = item
        .get(keys::DATA)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("item {pk} has no data attribute")))?;
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("item {pk}: {e}")))
}

/// What each item of a commit's transaction is, to explain a cancellation.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Idempotency,
    Conversation(String),
    Customer(String),
    Phone,
    OldPhone,
    Message(u64),
    Outbox(String),
    Record(String),
    Counters(String),
}

impl Part {
    fn conflict(&self) -> String {
        match self {
            Part::Idempotency => "idempotency key used".into(),
            Part::Conversation(id) => format!("conversation {id} changed"),
            Part::Customer(id) => format!("customer {id} changed"),
            Part::Phone => "phone number belongs to another customer".into(),
            Part::OldPhone => "previous phone number changed hands".into(),
            Part::Message(seq) => format!("message {seq} exists"),
            Part::Outbox(id) => format!("outbox item {id} exists"),
            Part::Record(key) => format!("record {key} changed"),
            Part::Counters(key) => format!("counters {key} busy"),
        }
    }
}

/// Builds conditional `Put`s with the expression names every condition uses.
fn put(
    table: &str,
    item: Item,
    condition: &str,
    values: Item,
) -> Result<TransactWriteItem, StoreError> {
    let mut b = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition);
    if condition.contains("#pk") {
        b = b.expression_attribute_names("#pk", keys::PK);
    }
    if condition.contains("#v") {
        b = b.expression_attribute_names("#v", keys::VERSION);
    }
    if condition.contains("#cid") {
        b = b.expression_attribute_names("#cid", keys::CUSTOMER_ID);
    }
    if !values.is_empty() {
        b = b.set_expression_attribute_values(Some(values));
    }
    Ok(TransactWriteItem::builder()
        .put(b.build().map_err(build_error)?)
        .build())
}

impl DynamoStore {
    /// A store on `table` through `client`. The client is rebuilt with an interceptor
    /// that counts requests ([`request_counts`](Self::request_counts)); everything else
    /// about it (endpoint, credentials, retries) is kept.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let counter = Arc::new(Counter::default());
        let config = client
            .config()
            .to_builder()
            .interceptor(CountRequests(counter.clone()))
            .build();
        Self {
            client: Client::from_conf(config),
            table: table.into(),
            retention_secs: None,
            counter,
        }
    }

    /// A store from shared AWS configuration, with the standard retry mode
    /// ([`MAX_ATTEMPTS`] attempts: throttling and 5xx are retried with backoff).
    pub fn from_conf(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::from(sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .build();
        Self::new(Client::from_conf(config), table)
    }

    /// The table from `HANDOFF_TABLE` and item expiry from `HANDOFF_RETENTION_DAYS`
    /// (unset, empty or 0: items never expire).
    pub fn from_env(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Self::from_vars(sdk, |name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `var`.
    pub fn from_vars(
        sdk: &aws_config::SdkConfig,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let table = var("HANDOFF_TABLE")
            .filter(|t| !t.trim().is_empty())
            .ok_or(ConfigError::MissingTable("HANDOFF_TABLE"))?;
        let days = match var("HANDOFF_RETENTION_DAYS").map(|v| v.trim().to_string()) {
            None => 0,
            Some(v) if v.is_empty() => 0,
            Some(v) => v.parse::<u32>().map_err(|_| ConfigError::BadRetention {
                name: "HANDOFF_RETENTION_DAYS",
                value: v.clone(),
            })?,
        };
        Ok(Self::from_conf(sdk, table.trim()).with_retention_days(days))
    }

    /// Items get `expires_at` this many days after their last change (0: never).
    /// Customers and phone numbers never expire: an SMS opt-out must be kept.
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_secs = (days > 0).then(|| i64::from(days) * 86_400);
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Requests sent so far, by operation (every attempt, retries included).
    pub fn request_counts(&self) -> RequestCounts {
        self.counter.snapshot()
    }
    pub fn reset_request_counts(&self) {
        self.counter.reset()
    }

    fn expiry(&self, item: &mut Item, from: Timestamp) {
        if let Some(secs) = self.retention_secs {
            item.insert(
                keys::EXPIRES_AT.into(),
                n(from.as_second().saturating_add(secs)),
            );
        }
    }

    fn base(pk: String, kind: &str, data: String) -> Item {
        HashMap::from([
            (keys::PK.to_string(), s(pk)),
            (keys::SK.to_string(), s(keys::META)),
            (keys::TYPE.to_string(), s(kind)),
            (keys::DATA.to_string(), s(data)),
        ])
    }

    fn conversation_item(&self, c: &Conversation) -> Result<Item, StoreError> {
        let mut item = Self::base(
            keys::conversation(c.id.as_str()),
            keys::TYPE_CONVERSATION,
            to_json(c)?,
        );
        item.insert(keys::VERSION.into(), n(c.version));
        item.insert(keys::STATUS.into(), s(c.status.as_str()));
        item.insert(keys::CUSTOMER_ID.into(), s(c.customer_id.as_str()));
        item.insert(keys::CREATED_AT.into(), n(c.created_at.as_millisecond()));
        item.insert(keys::UPDATED_AT.into(), n(c.updated_at.as_millisecond()));
        if let Some((rank, waiting_since)) = c.queue_key() {
            item.insert(keys::GSI1PK.into(), s(keys::QUEUE));
            let since = keys::millis(
                Timestamp::from_millisecond(waiting_since).unwrap_or(Timestamp::UNIX_EPOCH),
            );
            item.insert(keys::GSI1SK.into(), s(format!("{rank}#{since}#{}", c.id)));
        }
        if let (Status::Assigned, Some(agent)) = (c.status, &c.assigned_to) {
            item.insert(keys::GSI2PK.into(), s(keys::agent(agent.as_str())));
            item.insert(
                keys::GSI2SK.into(),
                s(format!("{}#{}", keys::millis(c.updated_at), c.id)),
            );
        }
        item.insert(
            keys::GSI3PK.into(),
            s(keys::customer(c.customer_id.as_str())),
        );
        item.insert(
            keys::GSI3SK.into(),
            s(format!("{}#{}", keys::millis(c.created_at), c.id)),
        );
        self.expiry(&mut item, c.updated_at);
        Ok(item)
    }

    fn message_item(&self, m: &Message) -> Result<Item, StoreError> {
        let mut item = Self::base(
            keys::conversation(m.conversation_id.as_str()),
            keys::TYPE_MESSAGE,
            to_json(m)?,
        );
        item.insert(keys::SK.into(), s(keys::message_sk(m.seq)));
        self.expiry(&mut item, m.at);
        Ok(item)
    }

    fn customer_item(c: &Customer, pk: String, kind: &str) -> Result<Item, StoreError> {
        let mut item = Self::base(pk, kind, to_json(c)?);
        item.insert(keys::VERSION.into(), n(c.version));
        item.insert(keys::CUSTOMER_ID.into(), s(c.id.as_str()));
        if let Some(p) = &c.phone {
            item.insert(keys::PHONE.into(), s(p.as_str()));
        }
        Ok(item)
    }

    fn outbox_item(&self, o: &OutboxItem) -> Result<Item, StoreError> {
        let mut item = Self::base(keys::outbox(&o.id), keys::TYPE_OUTBOX, to_json(o)?);
        item.insert(keys::CREATED_AT.into(), n(o.created_at.as_millisecond()));
        item.insert(keys::GSI1PK.into(), s(keys::OUTBOX));
        item.insert(
            keys::GSI1SK.into(),
            s(format!("{}#{}", keys::millis(o.created_at), o.id)),
        );
        self.expiry(&mut item, o.created_at);
        Ok(item)
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        Ok(out.item)
    }

    /// The phone number stored with the customer when it is still at `version`.
    async fn stored_phone(
        &self,
        id: &CustomerId,
        version: u64,
    ) -> Result<Option<String>, StoreError> {
        let Some(item) = self.get(keys::customer(id.as_str()), keys::META).await? else {
            return Ok(None);
        };
        let stored_version = item
            .get(keys::VERSION)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if stored_version != Some(version) {
            // The transaction's version check fails anyway.
            return Ok(None);
        }
        Ok(item.get(keys::PHONE).and_then(|v| v.as_s().ok()).cloned())
    }

    /// Items of a Query, following pages until `limit` items or the end.
    async fn query(&self, q: Query<'_>, limit: usize) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        while found.len() < limit {
            let remaining = limit - found.len();
            let page = if q.filter.is_some() {
                remaining.max(100)
            } else {
                remaining
            };
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(q.key_condition)
                .set_filter_expression(q.filter.map(str::to_string))
                .set_index_name(q.index.map(str::to_string))
                .scan_index_forward(q.forward)
                .consistent_read(q.index.is_none())
                .limit(i32::try_from(page).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            for (k, v) in q.names {
                req = req.expression_attribute_names(*k, *v);
            }
            for (k, v) in &q.values {
                req = req.expression_attribute_values(*k, v.clone());
            }
            let out = req.send().await.map_err(|e| sdk_error("Query", e))?;
            found.extend(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .take(limit - found.len()),
            );
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(found)
    }

    /// Creates the table (keys, indexes, stream, TTL as in `infra/template.yaml`)
    /// unless it exists, and waits until it is active.
    pub async fn provision(&self) -> Result<(), StoreError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(e) => return Err(sdk_error("DescribeTable", e)),
        }
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(build_error)
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_error)
        };
        let mut attributes = Vec::new();
        for name in [
            keys::PK,
            keys::SK,
            keys::GSI1PK,
            keys::GSI1SK,
            keys::GSI2PK,
            keys::GSI2SK,
            keys::GSI3PK,
            keys::GSI3SK,
        ] {
            attributes.push(attr(name)?);
        }
        let mut indexes = Vec::new();
        for (name, pk, sk) in [
            (keys::GSI1, keys::GSI1PK, keys::GSI1SK),
            (keys::GSI2, keys::GSI2PK, keys::GSI2SK),
            (keys::GSI3, keys::GSI3PK, keys::GSI3SK),
        ] {
            indexes.push(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(key(pk, KeyType::Hash)?)
                    .key_schema(key(sk, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(build_error)?,
            );
        }
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(attributes))
            .key_schema(key(keys::PK, KeyType::Hash)?)
            .key_schema(key(keys::SK, KeyType::Range)?)
            .set_global_secondary_indexes(Some(indexes))
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .map_err(build_error)?,
            )
            .send()
            .await;
        match created {
            Ok(_) => {}
            // Another process created it meanwhile.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(sdk_error("CreateTable", e)),
        }
        for _ in 0..120 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTable", e))?;
            if out.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(keys::EXPIRES_AT)
                    .build()
                    .map_err(build_error)?,
            )
            .send()
            .await
            .map_err(|e| sdk_error("UpdateTimeToLive", e))?;
        tracing::info!(table = %self.table, "table created");
        Ok(())
    }

    /// The table's stream ARN (for wiring a local dispatcher or tests).
    pub async fn stream_arn(&self) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTable", e))?;
        Ok(out.table.and_then(|t| t.latest_stream_arn))
    }

    fn map_commit_error(
        parts: &[Part],
        e: SdkError<TransactWriteItemsError, impl std::fmt::Debug>,
    ) -> StoreError {
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            e.as_service_error()
        else {
            return sdk_error("TransactWriteItems", e);
        };
        let reasons = cancelled.cancellation_reasons();
        let code_of = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
        // A repeated delivery is Duplicate even when the versions moved on too.
        if let Some(i) = parts.iter().position(|p| *p == Part::Idempotency) {
            if code_of(i) == "ConditionalCheckFailed" {
                return StoreError::Duplicate;
            }
        }
        for (i, part) in parts.iter().enumerate() {
            match code_of(i) {
                "ConditionalCheckFailed" => return StoreError::Conflict(part.conflict()),
                // Another transaction touched the same items: re-read and retry.
                "TransactionConflict" => {
                    return StoreError::Conflict(format!("concurrent transaction on {part:?}"))
                }
                _ => {}
            }
        }
        let codes: Vec<&str> = (0..parts.len())
            .map(code_of)
            .filter(|c| *c != "None")
            .collect();
        let message = format!(
            "DynamoDB TransactWriteItems cancelled: {}",
            codes.join(", ")
        );
        // An item too large or badly formed is refused the same way every time.
        if codes
            .iter()
            .any(|c| *c == "ValidationError" || *c == "ItemCollectionSizeLimitExceeded")
        {
            StoreError::Invalid(message)
        } else {
            StoreError::Unavailable(message)
        }
    }
}

impl DynamoStore {
    /// An UpdateItem on one outbox item.
    fn outbox_update(
        &self,
        id: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::outbox(id)))
            .key(keys::SK, s(keys::META))
    }

    /// The records of one partition of a secondary index, in its sort order
    /// (`forward`) or reversed, at most `limit`.
    async fn list_index<T: DeserializeOwned>(
        &self,
        index: &'static str,
        pk_attribute: &'static str,
        pk: AttributeValue,
        forward: bool,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let names = [("#pk", pk_attribute)];
        let items = self
            .query(
                Query {
                    index: Some(index),
                    key_condition: "#pk = :pk",
                    filter: None,
                    names: &names,
                    values: vec![(":pk", pk)],
                    forward,
                },
                limit,
            )
            .await?;
        items.iter().map(data).collect()
    }
}

/// Sends a conditional UpdateItem: false when its condition did not hold.
async fn conditional_update(
    req: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
) -> Result<bool, StoreError> {
    match req.send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(sdk_error("UpdateItem", e)),
    }
}

struct Query<'a> {
    index: Option<&'static str>,
    key_condition: &'a str,
    filter: Option<&'a str>,
    names: &'a [(&'static str, &'static str)],
    values: Vec<(&'static str, AttributeValue)>,
    forward: bool,
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.get(keys::conversation(id.as_str()), keys::META)
            .await?
            .map(|item| data(&item))
            .transpose()
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let table = self.table.as_str();
        let mut items = Vec::new();
        let mut parts = Vec::new();
        let no_values = HashMap::new;
        // First, so that a repeat is recognised whatever else fails with it.
        if let Some(r) = &commit.idempotency {
            let mut item = Self::base(
                keys::idempotency(r.key.as_str()),
                keys::TYPE_IDEMPOTENCY,
                to_json(r)?,
            );
            self.expiry(&mut item, r.at);
            items.push(put(table, item, "attribute_not_exists(#pk)", no_values())?);
            parts.push(Part::Idempotency);
        }
        if let Some(w) = &commit.conversation {
            let item = self.conversation_item(&w.conversation)?;
            items.push(match w.expected_version {
                None => put(table, item, "attribute_not_exists(#pk)", no_values())?,
                Some(v) => put(
                    table,
                    item,
                    "#v = :v",
                    HashMap::from([(":v".to_string(), n(v))]),
                )?,
            });
            parts.push(Part::Conversation(w.conversation.id.to_string()));
        }
        if let Some(w) = &commit.customer {
            let c = &w.customer;
            let old_phone = match w.expected_version {
                Some(v) => self.stored_phone(&c.id, v).await?,
                None => None,
            };
            let item = Self::customer_item(c, keys::customer(c.id.as_str()), keys::TYPE_CUSTOMER)?;
            items.push(match w.expected_version {
                None => put(table, item, "attribute_not_exists(#pk)", no_values())?,
                Some(v) => put(
                    table,
                    item,
                    "#v = :v",
                    HashMap::from([(":v".to_string(), n(v))]),
                )?,
            });
            parts.push(Part::Customer(c.id.to_string()));
            let mine = || HashMap::from([(":cid".to_string(), s(c.id.as_str()))]);
            if let Some(p) = &c.phone {
                // The lookup item carries a copy of the customer: one read by phone.
                let item = Self::customer_item(c, keys::phone(p.as_str()), keys::TYPE_PHONE)?;
                items.push(put(
                    table,
                    item,
                    "attribute_not_exists(#pk) OR #cid = :cid",
                    mine(),
                )?);
                parts.push(Part::Phone);
            }
            if let Some(old) = old_phone
                .filter(|old| Some(old.as_str()) != c.phone.as_ref().map(PhoneNumber::as_str))
            {
                let delete = Delete::builder()
                    .table_name(table)
                    .key(keys::PK, s(keys::phone(&old)))
                    .key(keys::SK, s(keys::META))
                    .condition_expression("attribute_not_exists(#pk) OR #cid = :cid")
                    .expression_attribute_names("#pk", keys::PK)
                    .expression_attribute_names("#cid", keys::CUSTOMER_ID)
                    .set_expression_attribute_values(Some(mine()))
                    .build()
                    .map_err(build_error)?;
                items.push(TransactWriteItem::builder().delete(delete).build());
                parts.push(Part::OldPhone);
            }
        }
        for m in &commit.messages {
            items.push(put(
                table,
                self.message_item(m)?,
                "attribute_not_exists(#pk)",
                no_values(),
            )?);
            parts.push(Part::Message(m.seq));
        }
        for o in &commit.outbox {
            items.push(put(
                table,
                self.outbox_item(o)?,
                "attribute_not_exists(#pk)",
                no_values(),
            )?);
            parts.push(Part::Outbox(o.id.clone()));
        }
        for r in &commit.records {
            let (condition, values) = records::condition(r.expected_version);
            let mut item = records::item(&r.record)?;
            if r.record.expires_at.is_none() {
                // Kept records (credits, notes) hold personal data: they go with
                // the conversation's retention, counted from their last change.
                self.expiry(&mut item, jiff::Timestamp::now());
            }
            items.push(put(table, item, condition, values)?);
            parts.push(Part::Record(r.record.key.to_string()));
        }
        for c in &commit.counters {
            items.push(tallies::update(table, c)?);
            parts.push(Part::Counters(c.key.to_string()));
        }
        if items.is_empty() {
            return Ok(());
        }
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Invalid(format!(
                "a commit of {} items exceeds DynamoDB's {MAX_TRANSACTION_ITEMS}-item transaction limit",
                items.len()
            )));
        }
        self.counter.add_transaction_items(items.len());
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(|e| Self::map_commit_error(&parts, e))?;
        Ok(())
    }

    async fn messages(
        &self,
        id: &ConversationId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let items = self
            .query(
                Query {
                    index: None,
                    key_condition: "#pk = :pk AND #sk BETWEEN :from AND :to",
                    filter: None,
                    names: &[("#pk", keys::PK), ("#sk", keys::SK)],
                    values: vec![
                        (":pk", s(keys::conversation(id.as_str()))),
                        (":from", s(keys::message_sk(after.saturating_add(1)))),
                        (":to", s(keys::message_sk(999_999_999_999))),
                    ],
                    forward: true,
                },
                limit,
            )
            .await?;
        items.iter().map(data).collect()
    }

    async fn idempotency(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(keys::idempotency(key.as_str()), keys::META)
            .await?
            .map(|item| data(&item))
            .transpose()
    }

    async fn queue(&self, limit: usize) -> Result<Vec<Conversation>, StoreError> {
        self.list_index(keys::GSI1, keys::GSI1PK, s(keys::QUEUE), true, limit)
            .await
    }

    async fn queue_after(
        &self,
        after: &QueuePosition,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let since = keys::millis(
            Timestamp::from_millisecond(after.waiting_since_ms).unwrap_or(Timestamp::UNIX_EPOCH),
        );
        // GSI1SK sorts as (rank, waiting since, id): a key condition pages past it.
        let names = [("#pk", keys::GSI1PK), ("#sk", keys::GSI1SK)];
        let items = self
            .query(
                Query {
                    index: Some(keys::GSI1),
                    key_condition: "#pk = :pk AND #sk > :after",
                    filter: None,
                    names: &names,
                    values: vec![
                        (":pk", s(keys::QUEUE)),
                        (":after", s(format!("{}#{since}#{}", after.rank, after.id))),
                    ],
                    forward: true,
                },
                limit,
            )
            .await?;
        items.iter().map(data).collect()
    }

    async fn assigned_to(
        &self,
        agent: &AgentId,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.list_index(
            keys::GSI2,
            keys::GSI2PK,
            s(keys::agent(agent.as_str())),
            false,
            limit,
        )
        .await
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.get(keys::customer(id.as_str()), keys::META)
            .await?
            .map(|item| data(&item))
            .transpose()
    }

    async fn customer_by_phone(&self, phone: &PhoneNumber) -> Result<Option<Customer>, StoreError> {
        self.get(keys::phone(phone.as_str()), keys::META)
            .await?
            .map(|item| data(&item))
            .transpose()
    }

    async fn customer_conversations(
        &self,
        id: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.list_index(
            keys::GSI3,
            keys::GSI3PK,
            s(keys::customer(id.as_str())),
            false,
            limit,
        )
        .await
    }
}

#[async_trait]
impl OutboxStore for DynamoStore {
    async fn pending_outbox(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let items = self
            .query(
                Query {
                    index: Some(keys::GSI1),
                    key_condition: "#pk = :pk",
                    filter: Some("attribute_not_exists(#lu) OR #lu <= :now"),
                    names: &[("#pk", keys::GSI1PK), ("#lu", keys::LEASED_UNTIL)],
                    values: vec![(":pk", s(keys::OUTBOX)), (":now", n(now.as_millisecond()))],
                    forward: true,
                },
                limit,
            )
            .await?;
        items.iter().map(data).collect()
    }

    async fn lease_outbox(
        &self,
        id: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let req = self
            .outbox_update(id)
            .update_expression("SET #lu = :until")
            .condition_expression(
                "attribute_exists(#pk) AND attribute_not_exists(#da) AND (attribute_not_exists(#lu) OR #lu <= :now)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#lu", keys::LEASED_UNTIL)
            .expression_attribute_names("#da", keys::DELIVERED_AT)
            .expression_attribute_values(":until", n(until.as_millisecond()))
            .expression_attribute_values(":now", n(now.as_millisecond()));
        conditional_update(req).await
    }

    async fn complete_outbox(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let req = self
            .outbox_update(id)
            // Leaving the sparse index: a delivered item is never pending again.
            .update_expression("SET #da = :at REMOVE #g1pk, #g1sk")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#da", keys::DELIVERED_AT)
            .expression_attribute_names("#g1pk", keys::GSI1PK)
            .expression_attribute_names("#g1sk", keys::GSI1SK)
            .expression_attribute_values(":at", n(at.as_millisecond()));
        // Gone (expired): nothing left to complete.
        conditional_update(req).await.map(|_| ())
    }

    async fn release_outbox(&self, id: &str) -> Result<(), StoreError> {
        let req = self
            .outbox_update(id)
            .update_expression("REMOVE #lu")
            .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#da)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#lu", keys::LEASED_UNTIL)
            .expression_attribute_names("#da", keys::DELIVERED_AT);
        // Delivered meanwhile, or unknown: nothing to give back.
        conditional_update(req).await.map(|_| ())
    }
}
