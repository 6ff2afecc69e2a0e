//! What the business learns from its conversations: counters kept at write time (one
//! item per day, added to atomically in the same commit as the event), the survey
//! after a resolve, the texts the bot could not answer, and the report built from
//! them without scanning anything. [`tally`] decides what an event counts, [`emf`]
//! writes the same figures as CloudWatch metrics, [`report`] reads them back.

pub mod emf;
pub mod group;
pub mod report;
pub mod tally;
pub mod texts;

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::ids::AgentId;
use crate::model::{Channel, HandoffReason};
use crate::records::RecordKey;

/// Named counters and what to add to each.
pub type Counts = BTreeMap<String, i64>;

/// Counters of one item, added to atomically within a [`Commit`](crate::ports::Commit):
/// a missing item or field starts at zero.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterAdd {
    pub key: RecordKey,
    pub adds: Counts,
}

/// Texts kept per day of messages the bot could not answer (they hold personal data:
/// the list expires with the retention setting).
pub const UNANSWERED_PER_DAY: usize = 200;
/// A customer who writes again within this many days is a repeat contact.
pub const REPEAT_WITHIN_DAYS: i64 = 7;
/// How long after the resolve an SMS digit is taken as the rating.
pub const SMS_RATING_HOURS: i64 = 24;
/// Longest report range, in days (a read per day).
pub const MAX_RANGE_DAYS: i64 = 92;
/// Longest survey comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// Upper bounds (seconds) of the duration histograms: percentiles are read from them,
/// so a p50 of 60 means "at most a minute".
pub const BUCKETS: &[u64] = &[
    5, 10, 15, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 5400,
    7200, 10_800, 14_400, 21_600, 28_800, 43_200, 86_400, 172_800, 604_800,
];

/// The histogram bucket of a duration: its upper bound, or `None` above the last.
pub fn bucket(secs: u64) -> Option<u64> {
    BUCKETS.iter().copied().find(|b| secs <= *b)
}

/// The day (UTC) an event is counted on.
pub fn day_of(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// A day's counters are spread over this many items, so that concurrent commits
/// rarely touch the same one (DynamoDB cancels concurrent transactions on one item).
pub const COUNTER_SHARDS: u32 = 8;

/// The counters of a day, one shard: `stats:YYYY-MM-DD:<shard>`.
pub fn counters_key(day: Date, shard: u32) -> RecordKey {
    RecordKey::new("stats", &format!("{day}:{shard}")).expect("a date makes a valid key")
}

/// Every counter item of a day.
pub fn day_keys(day: Date) -> Vec<RecordKey> {
    (0..COUNTER_SHARDS).map(|s| counters_key(day, s)).collect()
}

/// The shard a conversation's counts go to (FNV-1a of its id).
pub fn shard_of(id: &str) -> u32 {
    let h = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    h % COUNTER_SHARDS
}

/// The unanswered texts of a day: `unanswered:YYYY-MM-DD`.
pub fn unanswered_key(day: Date) -> RecordKey {
    RecordKey::new("unanswered", &day.to_string()).expect("a date makes a valid key")
}

/// A survey score: 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Score(u8);

impl Score {
    pub fn new(n: i64) -> Result<Self, InputError> {
        match n {
            1..=5 => Ok(Self(n as u8)),
            _ => Err(InputError::new(
                "score",
                "score must be a whole number from 1 to 5",
            )),
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
    /// A text that is one digit 1 to 5 (an SMS answer to the survey), else `None`.
    pub fn from_sms(text: &str) -> Option<Self> {
        let t = text.trim();
        let mut chars = t.chars();
        let c = chars.next()?;
        if chars.next().is_some() {
            return None;
        }
        // Full-width digits (１–５) come from Korean and Japanese keyboards.
        let d = c.to_digit(10).or_else(|| match c {
            '１'..='５' => Some(c as u32 - '０' as u32),
            _ => None,
        })?;
        Self::new(i64::from(d)).ok()
    }
}

impl TryFrom<u8> for Score {
    type Error = InputError;
    fn try_from(n: u8) -> Result<Self, InputError> {
        Self::new(i64::from(n))
    }
}

impl From<Score> for u8 {
    fn from(s: Score) -> u8 {
        s.0
    }
}

/// An optional comment with a rating: trimmed, at most [`MAX_COMMENT_CHARS`].
pub fn parse_comment(raw: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(t) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.chars().count() > MAX_COMMENT_CHARS {
        return Err(InputError::new(
            "comment",
            format!("comment must be at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(InputError::new(
            "comment",
            "comment contains control characters",
        ));
    }
    Ok(Some(t.to_string()))
}

/// What the business learns on a conversation, kept with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationInsight {
    /// The handoff number whose first reply by a person was counted.
    #[serde(default)]
    pub replied_handoff: u32,
    /// The survey after the resolve (at most one per conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<Survey>,
    /// Started by the business (a notice), and the customer has not written
    /// yet: not counted among the conversations, so a notice sent to many does
    /// not inflate the containment rate. Counted at the customer's first message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uncounted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    /// When the conversation was resolved.
    pub at: Timestamp,
    /// Whether the question went out (not to opted-out numbers).
    pub asked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
}

/// A rating, stored with what it rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub score: Score,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: Timestamp,
    pub channel: Channel,
    pub agent: Option<AgentId>,
    pub faqs: Vec<String>,
    pub reason: Option<HandoffReason>,
}

/// Why a rating is refused (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RatingRefused {
    #[error("this conversation was already rated")]
    AlreadyRated,
    #[error("this conversation has no survey: it is not resolved, or was closed without one")]
    NoSurvey,
}

impl RatingRefused {
    pub fn code(self) -> &'static str {
        match self {
            RatingRefused::AlreadyRated => "already_rated",
            RatingRefused::NoSurvey => "no_survey",
        }
    }
}

/// One text the bot could not answer, kept for `top_unanswered`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unanswered {
    pub text: String,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_sms_digits() {
        assert!(Score::new(0).is_err());
        assert!(Score::new(6).is_err());
        assert_eq!(Score::new(5).unwrap().get(), 5);
        assert_eq!(Score::from_sms(" 4 ").map(Score::get), Some(4));
        assert_eq!(Score::from_sms("５").map(Score::get), Some(5));
        assert_eq!(Score::from_sms("0"), None);
        assert_eq!(Score::from_sms("45"), None);
        assert_eq!(Score::from_sms("5 stars"), None);
    }

    #[test]
    fn buckets_are_upper_bounds() {
        assert_eq!(bucket(0), Some(5));
        assert_eq!(bucket(5), Some(5));
        assert_eq!(bucket(6), Some(10));
        assert_eq!(bucket(10_000_000), None);
    }

    #[test]
    fn comments_are_bounded() {
        assert_eq!(parse_comment(Some("  ")).unwrap(), None);
        assert!(parse_comment(Some(&"a".repeat(1001))).is_err());
        assert_eq!(parse_comment(Some(" ok ")).unwrap().as_deref(), Some("ok"));
    }
}
