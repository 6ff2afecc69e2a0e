//! Errors of the domain. The HTTP layer maps each to a status and a JSON body;
//! nothing internal (store messages) is ever shown to a client.

use crate::conversation::{Status, TransitionError};
use crate::ids::AgentId;

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
    /// The backend refused the request itself (e.g. over DynamoDB's transaction limit):
    /// the same request can never succeed, so it is not retried.
    #[error("request refused as invalid: {0}")]
    Invalid(String),
}

impl StoreError {
    /// Whether trying again (from a fresh read) may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Conflict(_) | StoreError::Unavailable(_))
    }
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
    /// Lost the race too often: trying again later may succeed.
    #[error("too many concurrent changes, try again")]
    Contended,
    /// A state that cannot happen, or a request the store can never accept: a bug, not a
    /// reason to retry. Clients see no details.
    #[error("internal error: {0}")]
    Internal(String),
    /// The caller is signed in but may not do this (e.g. only supervisors dismiss).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("this client_message_id was already used for a different message")]
    IdempotencyKeyReused,
    #[error("no code was sent for this conversation; ask for one first")]
    NoVerification,
    #[error(transparent)]
    CodeRejected(#[from] crate::verification::CodeRejected),
    #[error("credit not found")]
    CreditNotFound,
    /// A credit is decided once; this one is `granted`, `approved` or `declined` already.
    #[error("this credit is already {0}")]
    CreditDecided(&'static str),
    /// A bounded list is full (a conversation's credits or notes, pending credits).
    #[error("{0}")]
    TooMany(&'static str),
    #[error("no FAQ with id {0:?}")]
    FaqNotFound(String),
    #[error("an FAQ with id {0:?} already exists")]
    FaqExists(String),
    /// The catalog changed since the version the client sent.
    #[error("the catalog is at version {current}, not the version this change was made on")]
    CatalogStale { current: u64 },
    #[error(transparent)]
    Attachment(#[from] crate::attachments::AttachmentRejected),
    /// A rating the survey does not take (already rated, or no survey was asked).
    #[error("{0}")]
    Rating(crate::insights::RatingRefused),
    #[error("no active or ended incident with id {0:?}")]
    IncidentNotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("suggestion not found (unknown, or expired undecided)")]
    SuggestionNotFound,
    /// A suggestion is decided once; this one is `accepted` or `rejected` already.
    #[error("this suggestion is already {0}")]
    SuggestionDecided(&'static str),
    /// The suggestion's FAQ was deleted after it was suggested.
    #[error("FAQ {0:?} was deleted; this suggestion can only be rejected")]
    SuggestionFaqGone(String),
}

impl ServiceError {
    /// Whether the same request may succeed later (a retry, or the caller's next attempt).
    pub fn is_transient(&self) -> bool {
        match self {
            ServiceError::Contended => true,
            ServiceError::Store(e) => e.is_transient(),
            ServiceError::Delivery(e) => matches!(e, DeliveryError::Transient(_)),
            _ => false,
        }
    }
}

impl From<TransitionError> for ServiceError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Illegal { from, action } => {
                ServiceError::IllegalTransition { from, action }
            }
            TransitionError::AlreadyClaimed { by } => ServiceError::AlreadyClaimed { by },
            TransitionError::NotOwner { owner } => ServiceError::NotOwner { owner },
        }
    }
}
