//! The single-table layout: key and attribute names and how keys are built.
//! `README.md` beside `src/` describes the design.

use jiff::Timestamp;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const META: &str = "META";

/// Work lists, sparse: queued conversations (`QUEUE`) and undelivered outbox items (`OUTBOX`).
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
/// Assigned conversations by agent, sparse.
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
/// A customer's conversations.
pub const GSI3: &str = "GSI3";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";

/// Item type: `conversation`, `message`, `customer`, `phone`, `idempotency`, `outbox`.
pub const TYPE: &str = "type";
/// The record as JSON (the core model's serde form).
pub const DATA: &str = "data";
pub const VERSION: &str = "version";
pub const STATUS: &str = "status";
pub const CUSTOMER_ID: &str = "customer_id";
pub const PHONE: &str = "phone";
/// Epoch seconds; DynamoDB's TTL deletes the item some time after.
pub const EXPIRES_AT: &str = "expires_at";
/// Outbox: epoch milliseconds until which a worker holds the item.
pub const LEASED_UNTIL: &str = "leased_until";
/// Outbox: epoch milliseconds of the delivery.
pub const DELIVERED_AT: &str = "delivered_at";
pub const CREATED_AT: &str = "created_at";
pub const UPDATED_AT: &str = "updated_at";

pub const QUEUE: &str = "QUEUE";
pub const OUTBOX: &str = "OUTBOX";

pub const TYPE_CONVERSATION: &str = "conversation";
pub const TYPE_MESSAGE: &str = "message";
pub const TYPE_CUSTOMER: &str = "customer";
pub const TYPE_PHONE: &str = "phone";
pub const TYPE_IDEMPOTENCY: &str = "idempotency";
pub const TYPE_OUTBOX: &str = "outbox";

pub fn conversation(id: &str) -> String {
    format!("CONV#{id}")
}
pub fn message_sk(seq: u64) -> String {
    format!("MSG#{seq:012}")
}
pub fn customer(id: &str) -> String {
    format!("CUST#{id}")
}
pub fn phone(e164: &str) -> String {
    format!("PHONE#{e164}")
}
pub fn idempotency(key: &str) -> String {
    format!("IDEM#{key}")
}
pub fn outbox(id: &str) -> String {
    format!("OUTBOX#{id}")
}
pub fn agent(id: &str) -> String {
    format!("AGENT#{id}")
}

/// Epoch milliseconds, zero-padded so that strings sort like numbers (before 1970 clamps to 0).
pub fn millis(t: Timestamp) -> String {
    format!("{:015}", t.as_millisecond().max(0))
}
