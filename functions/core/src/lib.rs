//! Handoff's domain: conversations, triage, replies, handoff packets and the ports.
//! No I/O and no AWS types: adapters and Lambda functions depend on this, never
//! the other way round.

pub mod auth;
pub mod conversation;
pub mod error;
pub mod hours;
pub mod ids;
pub mod memory;
pub mod model;
pub mod outbox;
pub mod packet;
pub mod ports;
pub mod replies;
pub mod service;
pub mod triage;

#[cfg(feature = "contract")]
pub mod contract;

pub use handoff_faq as faq;
pub use handoff_sms as sms;

pub use error::{DeliveryError, InputError, ServiceError, StoreError};
pub use service::{HandoffService, Settings};
