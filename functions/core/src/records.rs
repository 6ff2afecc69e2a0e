//! Small keyed records with a version and an expiry: phone verifications, alert
//! gates and rate-limit counters. One generic port, so that every store implements
//! them once, with the same conditional-write rules as conversations.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{InputError, StoreError};

/// `kind:rest`, e.g. `verify:c_123` or `rate:new_ip:203.0.113.7:2891`. Printable
/// ASCII without spaces, so that it fits any store's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecordKey(String);

impl RecordKey {
    pub const MAX_LEN: usize = 400;

    pub fn new(kind: &str, rest: &str) -> Result<Self, InputError> {
        Self::parse(&format!("{kind}:{rest}"))
    }

    pub fn parse(s: &str) -> Result<Self, InputError> {
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.contains(':')
            && s.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(InputError::new(
                "record_key",
                "must be kind:rest in printable ASCII, at most 400 bytes",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RecordKey {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        Self::parse(&s)
    }
}

impl From<RecordKey> for String {
    fn from(k: RecordKey) -> String {
        k.0
    }
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored record. Stores keep it until `expires_at` has passed and may drop it any
/// time after (DynamoDB's TTL); readers treat an expired record as stale data, but
/// writers still name its version, so a replacement cannot race another writer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub key: RecordKey,
    pub version: u64,
    pub data: serde_json::Value,
    pub expires_at: Option<Timestamp>,
}

impl Record {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }

    /// The payload as `T`, or `Corrupt` when it does not parse.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_value(self.data.clone())
            .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", self.key)))
    }
}

/// A record write: the new state and the version it was read at (`None`: must not exist).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordWrite {
    pub record: Record,
    pub expected_version: Option<u64>,
}

impl RecordWrite {
    /// The next version of `previous` (or a first one) carrying `data`.
    pub fn next(
        key: RecordKey,
        previous: Option<&Record>,
        data: &impl Serialize,
        expires_at: Option<Timestamp>,
    ) -> Result<Self, StoreError> {
        let data = serde_json::to_value(data)
            .map_err(|e| StoreError::Corrupt(format!("record {key}: {e}")))?;
        let expected = previous.map(|p| p.version);
        Ok(Self {
            record: Record {
                key,
                version: expected.unwrap_or(0) + 1,
                data,
                expires_at,
            },
            expected_version: expected,
        })
    }
}

/// What a counter said: admitted (with the count so far) or over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Admitted(u32),
    OverLimit,
}

#[async_trait]
pub trait RecordStore: Send + Sync {
    /// The stored record, expired or not (see [`Record::is_live`]).
    async fn record(&self, key: &RecordKey) -> Result<Option<Record>, StoreError>;
    /// Writes when the stored version equals `expected_version`, else `Conflict`.
    async fn put_record(&self, write: RecordWrite) -> Result<(), StoreError>;
    /// Adds one to the counter `key` when it is below `limit` (one atomic step, safe
    /// across processes). The counter is dropped after `expires_at`.
    async fn count(
        &self,
        key: &RecordKey,
        limit: u32,
        expires_at: Timestamp,
    ) -> Result<Count, StoreError>;
    /// The counters of each key that [`Commit::counters`](crate::ports::Commit) added
    /// to (empty when none), in the order asked.
    async fn counters(
        &self,
        keys: &[RecordKey],
    ) -> Result<Vec<crate::insights::Counts>, StoreError> {
        let _ = keys;
        Err(StoreError::Unavailable(
            "this store keeps no counters".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_ascii_with_a_kind() {
        assert!(RecordKey::new("verify", "c_1").is_ok());
        assert!(RecordKey::parse("nokind").is_err());
        assert!(RecordKey::parse("a:b c").is_err());
        assert!(RecordKey::parse("a:한").is_err());
        assert!(RecordKey::parse(&format!("a:{}", "x".repeat(400))).is_err());
    }

    #[test]
    fn next_version_follows_the_previous_one() {
        let key = RecordKey::new("gate", "q").unwrap();
        let first = RecordWrite::next(key.clone(), None, &1u32, None).unwrap();
        assert_eq!((first.record.version, first.expected_version), (1, None));
        let second = RecordWrite::next(key, Some(&first.record), &2u32, None).unwrap();
        assert_eq!(
            (second.record.version, second.expected_version),
            (2, Some(1))
        );
    }
}
