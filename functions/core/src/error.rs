//! Errors of the domain. The HTTP layer maps each to a status and a JSON body;
//! nothing internal (store messages) is ever shown to a client.

use crate::ids::AgentId;
use crate::model::Status;

/// Input that failed validation, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    pub field: &'static str,
    pub message: String,
}

impl InputError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Failures of a storage adapter.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the conversation or customer changed since it was read.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The idempotency key of this write was already used: the delivery is a repeat.
    #[error("duplicate delivery")]
    Duplicate,
    /// The backend could not be reached or refused for now (after its own retries).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

/// Failures of an outbound delivery adapter (SNS, Twilio, local).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("delivery failed, will retry: {0}")]
    Transient(String),
    #[error("delivery rejected: {0}")]
    Permanent(String),
}

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("conversation not found")]
    NotFound,
    #[error("missing or invalid token for this conversation")]
    Unauthorized,
    #[error("cannot {action} a conversation that is {from}")]
    IllegalTransition { from: Status, action: &'static str },
    #[error("conversation is already claimed by {by}")]
    AlreadyClaimed { by: AgentId },
    #[error("conversation is assigned to {owner}, not to you")]
    NotOwner { owner: AgentId },
    #[error("the customer opted out of SMS (replied STOP); nothing can be sent to them by SMS until they text START")]
    OptedOut,
    #[error("too many concurrent changes, try again")]
    Contended,
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("this client_message_id was already used for a different message")]
    IdempotencyKeyReused,
    #[error("no code was sent for this conversation; ask for one first")]
    NoVerification,
    #[error(transparent)]
    CodeRejected(#[from] crate::verification::CodeRejected),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}
