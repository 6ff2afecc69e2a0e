//! Handoff's domain: conversations, triage, replies, handoff packets and the ports.
//! No I/O and no AWS types: adapters and Lambda functions depend on this, never
//! the other way round.
//!
//! Where things are:
//! * [`conversation`]: the conversation and its state machine, the only code that
//!   changes a status;
//! * [`service`]: the use cases by who starts them (`inbound`, `agent`, `customer`),
//!   each load → pure decide → one commit;
//! * [`outbox`]: what to send after a commit, and the dispatcher that sends it;
//! * [`triage`], [`replies`], [`packet`]: the pure decisions and texts the use cases use;
//! * [`ports`]: what the use cases need from outside (`ConversationStore`, `OutboxStore`,
//!   `Delivery`, `Clock`); [`memory`] is the in-memory store, `contract` the suite every
//!   store passes.

pub mod attachments;
pub mod auth;
pub mod catalog;
pub mod conversation;
pub mod credit;
pub mod error;
pub mod escalation;
pub mod hours;
pub mod ids;
pub mod incident;
pub mod incident_match;
pub mod insights;
pub mod limits;
pub mod memory;
pub mod memory_attachments;
pub mod model;
pub mod notices;
pub mod outbox;
pub mod packet;
pub mod ports;
pub mod queue_position;
pub mod records;
pub mod replies;
pub mod service;
pub mod suggestion;
pub mod triage;
pub mod verification;
pub mod waits;

#[cfg(feature = "contract")]
pub mod contract;

pub use handoff_faq as faq;
pub use handoff_sms as sms;

pub use error::{DeliveryError, InputError, ServiceError, StoreError};
pub use service::{HandoffService, Settings};
