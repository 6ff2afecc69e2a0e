//! A place in the agents' queue, and the opaque cursor that pages past it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use crate::error::InputError;
use crate::ids::ConversationId;
use crate::model::Conversation;

/// Queue order is (priority rank, waiting since, id): this is one such key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueuePosition {
    pub rank: u8,
    pub waiting_since_ms: i64,
    pub id: ConversationId,
}

impl QueuePosition {
    pub fn of(c: &Conversation) -> Option<Self> {
        let (rank, waiting_since_ms) = c.queue_key()?;
        Some(Self {
            rank,
            waiting_since_ms,
            id: c.id.clone(),
        })
    }

    /// The cursor a client sends back to get the conversations after this one.
    pub fn cursor(&self) -> String {
        B64.encode(format!(
            "{}.{}.{}",
            self.rank, self.waiting_since_ms, self.id
        ))
    }

    pub fn from_cursor(cursor: &str) -> Result<Self, InputError> {
        let bad = || InputError::new("cursor", "must be a cursor returned by this route");
        let raw = B64.decode(cursor.trim()).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let mut parts = raw.splitn(3, '.');
        let rank = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let waiting_since_ms = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id = parts
            .next()
            .and_then(|p| ConversationId::parse(p).ok())
            .ok_or_else(bad)?;
        Ok(Self {
            rank,
            waiting_since_ms,
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let p = QueuePosition {
            rank: 1,
            waiting_since_ms: 1_790_000_000_123,
            id: ConversationId::parse("c_a.b").unwrap(),
        };
        assert_eq!(QueuePosition::from_cursor(&p.cursor()).unwrap(), p);
        for junk in ["", "!!", "MQ", &B64.encode("x.y.z"), &B64.encode("1.2.")] {
            assert!(QueuePosition::from_cursor(junk).is_err(), "{junk}");
        }
    }
}
