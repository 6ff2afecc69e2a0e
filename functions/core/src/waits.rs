//! Honest waits: which agents are working (presence), how long recent handoffs
//! waited until a person claimed them, and the estimate a customer is told, made only
//! from those facts. Pure; the records they live in are read and written by
//! `service::presence`.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{InputError, StoreError};
use crate::hours::AgentHours;
use crate::records::{Record, RecordKey, RecordWrite};

/// An agent's presence lasts this long without a heartbeat. The console beats every
/// [`PRESENCE_HEARTBEAT_SECS`], so two missed beats (a closed laptop, a lost network)
/// and the agent no longer counts as working.
pub const PRESENCE_TTL_SECS: i64 = 90;
/// How often the console renews presence while it is open.
pub const PRESENCE_HEARTBEAT_SECS: i64 = 30;
/// Most agents the presence record holds (a small business has a handful).
pub const PRESENCE_MAX_AGENTS: usize = 500;
/// Claims kept for the median wait.
pub const RECENT_CLAIMS_MAX: usize = 25;
/// Claims older than this say nothing about today's waits.
pub const RECENT_CLAIMS_MAX_AGE_SECS: i64 = 7 * 86_400;

/// What an agent says about themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Away,
}

impl PresenceStatus {
    pub fn parse(s: &str) -> Result<Self, InputError> {
        match s {
            "online" => Ok(Self::Online),
            "away" => Ok(Self::Away),
            _ => Err(InputError::new(
                "status",
                "status must be \"online\" or \"away\"",
            )),
        }
    }
}

/// The one presence record of a queue: agent id → until when they count as online.
/// One record, so counting agents online is one read, never a scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    pub agents: BTreeMap<String, Timestamp>,
}

impl Presence {
    pub fn key(queue: &str) -> Result<RecordKey, InputError> {
        RecordKey::new("presence", queue)
    }

    pub fn of(record: Option<&Record>) -> Result<Self, StoreError> {
        record
            .map(Record::decode)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Agents whose presence has not expired at `now`.
    pub fn online(&self, now: Timestamp) -> usize {
        self.agents.values().filter(|until| **until > now).count()
    }

    /// `agent` says `status` at `now`: online until `now` + TTL, or gone. Expired
    /// entries are dropped, and the record never holds more than its bound.
    pub fn set(
        &mut self,
        agent: &str,
        status: PresenceStatus,
        now: Timestamp,
    ) -> Option<Timestamp> {
        self.agents.retain(|_, until| *until > now);
        let until = match status {
            PresenceStatus::Online => {
                let until = now
                    .checked_add(SignedDuration::from_secs(PRESENCE_TTL_SECS))
                    .unwrap_or(now);
                self.agents.insert(agent.to_string(), until);
                Some(until)
            }
            PresenceStatus::Away => {
                self.agents.remove(agent);
                None
            }
        };
        while self.agents.len() > PRESENCE_MAX_AGENTS {
            let soonest = self
                .agents
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(a, _)| a.clone());
            match soonest {
                Some(a) => self.agents.remove(&a),
                None => break,
            };
        }
        until
    }

    /// The record write of this presence, after `previous`; it expires with its last agent.
    pub fn write(
        &self,
        key: RecordKey,
        previous: Option<&Record>,
    ) -> Result<RecordWrite, StoreError> {
        let expires = self.agents.values().max().copied();
        RecordWrite::next(key, previous, self, expires)
    }
}

/// One claim: how long the customer waited for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimSample {
    pub waited_secs: u64,
    pub at: Timestamp,
}

/// The bounded sample of recent claims of a queue, written in each claim's commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecentClaims {
    pub samples: Vec<ClaimSample>,
}

impl RecentClaims {
    pub fn key(queue: &str) -> Result<RecordKey, InputError> {
        RecordKey::new("claims", queue)
    }

    pub fn of(record: Option<&Record>) -> Result<Self, StoreError> {
        record
            .map(Record::decode)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Adds a claim, keeping the newest [`RECENT_CLAIMS_MAX`] within the age limit.
    pub fn add(&mut self, waited: SignedDuration, now: Timestamp) {
        self.samples.push(ClaimSample {
            waited_secs: waited.as_secs().max(0) as u64,
            at: now,
        });
        self.samples
            .retain(|s| now.duration_since(s.at).as_secs() < RECENT_CLAIMS_MAX_AGE_SECS);
        let excess = self.samples.len().saturating_sub(RECENT_CLAIMS_MAX);
        self.samples.drain(..excess);
    }

    /// The median wait of the claims still recent at `now`; `None` without any.
    pub fn median_secs(&self, now: Timestamp) -> Option<u64> {
        let mut waits: Vec<u64> = self
            .samples
            .iter()
            .filter(|s| now.duration_since(s.at).as_secs() < RECENT_CLAIMS_MAX_AGE_SECS)
            .map(|s| s.waited_secs)
            .collect();
        if waits.is_empty() {
            return None;
        }
        waits.sort_unstable();
        let n = waits.len();
        Some(match n % 2 {
            1 => waits[n / 2],
            _ => (waits[n / 2 - 1] + waits[n / 2]).div_ceil(2),
        })
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn write(
        &self,
        key: RecordKey,
        previous: Option<&Record>,
        now: Timestamp,
    ) -> Result<RecordWrite, StoreError> {
        let expires = now
            .checked_add(SignedDuration::from_secs(RECENT_CLAIMS_MAX_AGE_SECS))
            .ok();
        RecordWrite::next(key, previous, self, expires)
    }
}

/// When a handoff's wait for a person really starts: when it was queued, or, queued
/// after hours, when the agents' hours began.
pub fn wait_started(hours: &AgentHours, requested_at: Timestamp) -> Timestamp {
    hours.next_open(requested_at)
}

/// Where an estimate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitBasis {
    /// Agents are working: the median of recent claims (or no figure yet without any).
    RecentClaims,
    /// In agent hours, but nobody is working now: no figure.
    NoAgentsOnline,
    /// Outside agent hours: the wait until opening.
    Closed,
}

/// What the wait estimate is made from, read once per use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaitFacts {
    pub agents_online: usize,
    /// The median queued → claimed of recent handoffs.
    pub median_claim_secs: Option<u64>,
}

/// The estimate at `position` (1 = next): closed, the time until opening; nobody
/// online, none; otherwise the median recent wait for each round of `agents_online`
/// customers ahead: `median × ⌈position / agents_online⌉`.
pub fn estimate(
    hours: &AgentHours,
    facts: WaitFacts,
    position: usize,
    now: Timestamp,
) -> (WaitBasis, Option<u64>) {
    if !hours.is_open(now) {
        let opens = hours.next_open(now);
        let until = opens.duration_since(now).as_secs().max(0) as u64;
        return (WaitBasis::Closed, Some(until));
    }
    if facts.agents_online == 0 {
        return (WaitBasis::NoAgentsOnline, None);
    }
    let rounds = position.max(1).div_ceil(facts.agents_online) as u64;
    (
        WaitBasis::RecentClaims,
        facts.median_claim_secs.map(|m| m * rounds),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn presence_expires_without_a_heartbeat_and_away_removes_at_once() {
        let t0 = ts("2026-11-23T01:00:00Z");
        let mut p = Presence::default();
        assert!(p.set("a", PresenceStatus::Online, t0).is_some());
        p.set("b", PresenceStatus::Online, t0);
        assert_eq!(p.online(t0), 2);
        let later = t0
            .checked_add(SignedDuration::from_secs(PRESENCE_TTL_SECS))
            .unwrap();
        assert_eq!(p.online(later), 0, "expired exactly at the TTL");
        p.set("a", PresenceStatus::Online, later);
        assert_eq!(p.agents.len(), 1, "expired entries are dropped on write");
        assert_eq!(p.set("a", PresenceStatus::Away, later), None);
        assert_eq!(p.online(later), 0);
    }

    #[test]
    fn presence_is_bounded() {
        let t0 = ts("2026-11-23T01:00:00Z");
        let mut p = Presence::default();
        for i in 0..PRESENCE_MAX_AGENTS + 3 {
            let at = t0
                .checked_add(SignedDuration::from_millis(i as i64))
                .unwrap();
            p.set(&format!("agent-{i}"), PresenceStatus::Online, at);
        }
        assert_eq!(p.agents.len(), PRESENCE_MAX_AGENTS);
        assert!(!p.agents.contains_key("agent-0"), "the stalest goes first");
        assert!(PresenceStatus::parse("busy").is_err());
    }

    #[test]
    fn median_of_recent_claims_only() {
        let t0 = ts("2026-11-23T01:00:00Z");
        let mut c = RecentClaims::default();
        assert_eq!(c.median_secs(t0), None);
        for w in [60, 300, 120] {
            c.add(SignedDuration::from_secs(w), t0);
        }
        assert_eq!(c.median_secs(t0), Some(120));
        c.add(SignedDuration::from_secs(600), t0);
        assert_eq!(c.median_secs(t0), Some(210));
        let week = t0
            .checked_add(SignedDuration::from_secs(RECENT_CLAIMS_MAX_AGE_SECS))
            .unwrap();
        assert_eq!(c.median_secs(week), None, "a week-old sample says nothing");
        for _ in 0..40 {
            c.add(SignedDuration::from_secs(30), t0);
        }
        assert_eq!(c.len(), RECENT_CLAIMS_MAX);
    }

    #[test]
    fn estimates_come_only_from_facts() {
        let hours = AgentHours::parse("Mon-Fri 09:00-18:00", "Asia/Seoul").unwrap();
        let open = ts("2026-11-23T01:00:00Z"); // Mon 10:00 KST
        let nobody = WaitFacts::default();
        assert_eq!(
            estimate(&hours, nobody, 1, open),
            (WaitBasis::NoAgentsOnline, None)
        );
        let two = WaitFacts {
            agents_online: 2,
            median_claim_secs: Some(100),
        };
        assert_eq!(
            estimate(&hours, two, 1, open),
            (WaitBasis::RecentClaims, Some(100))
        );
        assert_eq!(
            estimate(&hours, two, 3, open),
            (WaitBasis::RecentClaims, Some(200))
        );
        let no_sample = WaitFacts {
            agents_online: 1,
            median_claim_secs: None,
        };
        assert_eq!(
            estimate(&hours, no_sample, 1, open),
            (WaitBasis::RecentClaims, None)
        );
        let night = ts("2026-11-23T14:00:00Z"); // Mon 23:00 KST → Tue 09:00 KST
        assert_eq!(
            estimate(&hours, two, 1, night),
            (WaitBasis::Closed, Some(10 * 3600))
        );
        assert_eq!(wait_started(&hours, night), ts("2026-11-24T00:00:00Z"));
        assert_eq!(wait_started(&hours, open), open);
    }
}
