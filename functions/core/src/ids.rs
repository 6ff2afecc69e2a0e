//! Validated identifiers. Everything that crosses the edge (paths, bodies, claims)
//! is parsed into one of these before it reaches the domain.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

use crate::error::InputError;

fn valid_id(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'@'))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, InputError> {
                if valid_id(s, $max) {
                    Ok(Self(s.to_string()))
                } else {
                    Err(InputError::new(
                        $field,
                        concat!($field, " must be 1-", stringify!($max), " characters of letters, digits, '-', '_', '.', ':' or '@'"),
                    ))
                }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A conversation: one per customer at a time, whatever the channel.
    ConversationId, "conversation_id", 64);
id_type!(
    /// A customer: a web session or a phone number, linked when the customer leaves one.
    CustomerId, "customer_id", 64);
id_type!(
    /// An agent, as the identity provider names them (`sub` claim).
    AgentId, "agent_id", 128);
id_type!(
    /// A stored message.
    MessageId, "message_id", 64);
id_type!(
    /// A client's own id for one send, so a retried send is stored once.
    ClientMessageId, "client_message_id", 100);
id_type!(
    /// A browser's random id (the widget keeps it): scopes first-message keys and
    /// abuse limits to one sender.
    DeviceId, "device_id", 64);

fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

impl ConversationId {
    pub fn generate() -> Self {
        Self(new_id("c_"))
    }
}
impl CustomerId {
    pub fn generate() -> Self {
        Self(new_id("u_"))
    }
}
impl MessageId {
    pub fn generate() -> Self {
        Self(new_id("m_"))
    }
}

/// The key that makes an inbound delivery idempotent: its scope (channel and
/// provider) plus the sender's own id for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A message to an existing conversation: the key is scoped to it.
    pub fn web(conversation: &ConversationId, client: &ClientMessageId) -> Self {
        Self(format!("web:{conversation}:{client}"))
    }
    /// A first message: scoped to the sending browser, or, without a device id, to
    /// the text itself, so a key can never return another sender's conversation.
    pub fn web_first(device: Option<&DeviceId>, client: &ClientMessageId, text: &str) -> Self {
        match device {
            Some(d) => Self(format!("web:new:dev:{d}:{client}")),
            None => {
                use sha2::{Digest, Sha256};
                let digest = Sha256::digest(text.as_bytes());
                let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
                Self(format!("web:new:text:{hex}:{client}"))
            }
        }
    }
    /// `provider` is e.g. `sns` or `twilio`; `id` the provider's message id.
    pub fn sms(provider: &str, id: &str) -> Self {
        Self(format!("sms:{provider}:{id}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_validate_on_construction() {
        assert!(ConversationId::parse("c_0123abc").is_ok());
        for bad in ["", "has space", "slash/in", "quote\"", &"x".repeat(65)] {
            let err = ConversationId::parse(bad).unwrap_err();
            assert_eq!(err.field, "conversation_id", "{bad:?}");
        }
        assert!(AgentId::parse("agent-a@example.com").is_ok());
        assert!(serde_json::from_str::<ConversationId>("\"a b\"").is_err());
    }

    #[test]
    fn generated_ids_are_unique_and_valid() {
        let a = ConversationId::generate();
        let b = ConversationId::generate();
        assert_ne!(a, b);
        assert!(ConversationId::parse(a.as_str()).is_ok());
    }
}
