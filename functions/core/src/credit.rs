//! Goodwill credits: money an agent gives a customer within a limit, or asks a
//! supervisor to approve above it. Amounts are integer minor units of one configured
//! currency, validated on construction. Also the agents' private notes, kept beside
//! the conversation and never shown to the customer.
//!
//! Storage (generic records, written in the same commit as the conversation):
//! `credits:<conversation>` the conversation's credits, `credit:<id>` which
//! conversation a credit belongs to, `creditday:<agent>:<date>` what an agent granted
//! on a business day, `credits:pending` the credits waiting for a supervisor, and
//! `notes:<conversation>` the notes.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::ids::{AgentId, ConversationId};
use crate::records::RecordKey;

mod texts;
pub use texts::{customer_text, format_amount};

/// Largest amount of one credit, in minor units: a typo guard, not a business limit.
pub const MAX_AMOUNT: u64 = 1_000_000_000;
/// Longest reason or decision note, in characters.
pub const MAX_REASON_CHARS: usize = 300;
/// Most credits one conversation can hold (keeps its record small: DynamoDB's 400 KB).
pub const MAX_CREDITS_PER_CONVERSATION: usize = 50;
/// Most credits waiting for a supervisor at once.
pub const MAX_PENDING: usize = 200;
/// Most notes one conversation can hold.
pub const MAX_NOTES: usize = 50;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// How long a per-agent daily total is kept after it was last written.
pub const DAY_TOTAL_KEEP_SECS: i64 = 3 * 86_400;

/// ISO 4217 code: three ASCII capitals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(s: &str) -> Result<Self, InputError> {
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(s.to_string()))
        } else {
            Err(InputError::new(
                "currency",
                "currency must be a three-letter ISO 4217 code such as KRW",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        Self::parse(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

/// The credit limits, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditPolicy {
    /// Largest credit an agent grants alone (`HANDOFF_AGENT_CREDIT_LIMIT`).
    pub per_credit: u64,
    /// Most an agent grants alone per business day (`HANDOFF_AGENT_CREDIT_DAILY_LIMIT`).
    pub daily: u64,
    /// The one currency credits are in (`HANDOFF_CREDIT_CURRENCY`).
    pub currency: Currency,
}

impl Default for CreditPolicy {
    fn default() -> Self {
        Self {
            per_credit: 30_000,
            daily: 100_000,
            currency: Currency("KRW".into()),
        }
    }
}

/// A credit id: `cr_` and 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditId(String);

impl CreditId {
    pub fn generate() -> Self {
        Self(format!("cr_{}", uuid::Uuid::new_v4().simple()))
    }
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let ok = s.len() <= 64
            && s.starts_with("cr_")
            && s.len() > 3
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(InputError::new("credit_id", "not a credit id (cr_…)"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for CreditId {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        Self::parse(&s)
    }
}
impl From<CreditId> for String {
    fn from(c: CreditId) -> String {
        c.0
    }
}
impl std::fmt::Display for CreditId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditStatus {
    Granted,
    PendingApproval,
    Approved,
    Declined,
}

impl CreditStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditStatus::Granted => "granted",
            CreditStatus::PendingApproval => "pending_approval",
            CreditStatus::Approved => "approved",
            CreditStatus::Declined => "declined",
        }
    }
    pub fn is_decided(self) -> bool {
        self != CreditStatus::PendingApproval
    }
}

/// A supervisor's decision on a pending credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Decline,
}

/// Free text of a reason or note: trimmed, 1..=`max` characters, no control characters
/// but newlines and tabs.
fn short_text(raw: &str, field: &'static str, max: usize) -> Result<String, InputError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(InputError::new(field, format!("{field} must not be empty")));
    }
    let n = t.chars().count();
    if n > max {
        return Err(InputError::new(
            field,
            format!("{field} is {n} characters; the limit is {max}"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(InputError::new(
            field,
            format!("{field} contains control characters"),
        ));
    }
    Ok(t.to_string())
}

/// What an agent asks for, validated against the policy's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditRequest {
    pub amount: u64,
    pub currency: Currency,
    pub reason: String,
    pub request_id: String,
}

impl CreditRequest {
    pub fn parse(
        amount: i64,
        currency: &str,
        reason: &str,
        request_id: &str,
        policy: &CreditPolicy,
    ) -> Result<Self, InputError> {
        let amount = u64::try_from(amount)
            .ok()
            .filter(|a| (1..=MAX_AMOUNT).contains(a))
            .ok_or_else(|| {
                InputError::new(
                    "amount",
                    format!("amount must be a whole number of minor units from 1 to {MAX_AMOUNT}"),
                )
            })?;
        let currency = Currency::parse(currency)?;
        if currency != policy.currency {
            return Err(InputError::new(
                "currency",
                format!("credits are in {}", policy.currency.as_str()),
            ));
        }
        let ok_id = !request_id.is_empty()
            && request_id.len() <= 100
            && request_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if !ok_id {
            return Err(InputError::new(
                "request_id",
                "request_id must be 1-100 characters of letters, digits, '-', '_', '.' or ':'",
            ));
        }
        Ok(Self {
            amount,
            currency,
            reason: short_text(reason, "reason", MAX_REASON_CHARS)?,
            request_id: request_id.to_string(),
        })
    }
}

/// A decision note (optional on approve and decline).
pub fn decision_note(raw: Option<&str>) -> Result<Option<String>, InputError> {
    raw.map(|n| short_text(n, "note", MAX_REASON_CHARS))
        .transpose()
}

/// A private note's text.
pub fn note_text(raw: &str) -> Result<String, InputError> {
    short_text(raw, "text", MAX_NOTE_CHARS)
}

/// A credit and its whole history: who asked, when and why; who decided, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    pub id: CreditId,
    pub conversation_id: ConversationId,
    pub status: CreditStatus,
    pub amount: u64,
    pub currency: Currency,
    /// Who asked for it.
    pub agent_id: AgentId,
    pub reason: String,
    pub request_id: String,
    pub created_at: Timestamp,
    /// Who decided: the agent within their limit, or a supervisor.
    #[serde(default)]
    pub decided_by: Option<AgentId>,
    #[serde(default)]
    pub decided_at: Option<Timestamp>,
    #[serde(default)]
    pub decision_note: Option<String>,
}

impl Credit {
    /// Whether a repeated request asks for the same thing.
    pub fn same_request(&self, r: &CreditRequest) -> bool {
        self.amount == r.amount && self.currency == r.currency && self.reason == r.reason
    }

    /// Decides a pending credit; `Err(status)` when it was decided already.
    pub fn decide(
        &mut self,
        decision: Decision,
        by: &AgentId,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<(), CreditStatus> {
        if self.status.is_decided() {
            return Err(self.status);
        }
        let to = match decision {
            Decision::Approve => CreditStatus::Approved,
            Decision::Decline => CreditStatus::Declined,
        };
        self.record(to, by, note, now);
        Ok(())
    }

    /// Granted at once by `by`, within their limits (or a supervisor).
    pub fn grant(&mut self, by: &AgentId, now: Timestamp) {
        self.record(CreditStatus::Granted, by, None, now);
    }

    /// The one place a credit's status changes (a credit's, not a conversation's: the
    /// fields are destructured so the state machine's scan for `.status =` stays exact).
    fn record(&mut self, to: CreditStatus, by: &AgentId, note: Option<String>, now: Timestamp) {
        let Credit {
            status,
            decided_by,
            decided_at,
            decision_note,
            ..
        } = self;
        *status = to;
        *decided_by = Some(by.clone());
        *decided_at = Some(now);
        *decision_note = note;
    }
}

/// A conversation's credits (record `credits:<conversation>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationCredits {
    pub credits: Vec<Credit>,
}

/// Which conversation a credit is in (record `credit:<id>`), so a supervisor can
/// decide it by id alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPointer {
    pub conversation_id: ConversationId,
}

/// Credits waiting for a supervisor (record `credits:pending`), whole, so listing
/// them is one read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCredits {
    pub credits: Vec<Credit>,
}

/// What an agent granted alone on one business day (record `creditday:<agent>:<date>`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    pub total: u64,
}

/// A private note for colleagues: in the packet, never to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub agent_id: AgentId,
    pub text: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationNotes {
    pub notes: Vec<Note>,
}

/// Supervisors' alert that a credit waits for them (delivery kind `credit_approval`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditAlert {
    pub conversation_id: ConversationId,
    pub credit_id: CreditId,
    /// One line: who asks for how much, and why.
    pub text: String,
    /// The conversation in the console, when its URL is known here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub queue: String,
}

impl CreditAlert {
    /// The message as supervisors get it: text, then the link.
    pub fn message(&self, console_url: Option<&str>) -> String {
        let link = self.link.clone().or_else(|| {
            console_url.map(|u| crate::model::AgentAlert::console_link(u, &self.conversation_id))
        });
        match link {
            Some(l) => format!("{} {l}", self.text),
            None => self.text.clone(),
        }
    }
}

pub mod keys {
    use super::*;
    use crate::error::InputError;

    pub fn credits_of(c: &ConversationId) -> Result<RecordKey, InputError> {
        RecordKey::new("credits", c.as_str())
    }
    pub fn credit(id: &CreditId) -> Result<RecordKey, InputError> {
        RecordKey::new("credit", id.as_str())
    }
    pub fn pending() -> Result<RecordKey, InputError> {
        RecordKey::new("credits", "pending")
    }
    pub fn day_total(agent: &AgentId, day: jiff::civil::Date) -> Result<RecordKey, InputError> {
        RecordKey::new("creditday", &format!("{agent}:{day}"))
    }
    pub fn notes_of(c: &ConversationId) -> Result<RecordKey, InputError> {
        RecordKey::new("notes", c.as_str())
    }
}

/// Whether an agent may grant `amount` alone, having granted `today` already.
pub fn within_limits(policy: &CreditPolicy, today: DayTotal, amount: u64) -> bool {
    amount <= policy.per_credit && today.total.saturating_add(amount) <= policy.daily
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CreditPolicy {
        CreditPolicy::default()
    }

    #[test]
    fn requests_validate_amount_currency_reason_and_id() {
        let ok = CreditRequest::parse(20_000, "KRW", " late ", "r-1", &policy()).unwrap();
        assert_eq!((ok.amount, ok.reason.as_str()), (20_000, "late"));
        for (amount, currency, reason, id, field) in [
            (0, "KRW", "x", "r", "amount"),
            (-5, "KRW", "x", "r", "amount"),
            (1_000_000_001, "KRW", "x", "r", "amount"),
            (1, "USD", "x", "r", "currency"),
            (1, "krw", "x", "r", "currency"),
            (1, "KRW", "  ", "r", "reason"),
            (1, "KRW", "x", "", "request_id"),
            (1, "KRW", "x", "a b", "request_id"),
        ] {
            let err = CreditRequest::parse(amount, currency, reason, id, &policy()).unwrap_err();
            assert_eq!(err.field, field, "{amount} {currency} {reason:?} {id:?}");
        }
        let long = "가".repeat(MAX_REASON_CHARS + 1);
        assert_eq!(
            CreditRequest::parse(1, "KRW", &long, "r", &policy())
                .unwrap_err()
                .field,
            "reason"
        );
    }

    #[test]
    fn limits_per_credit_and_per_day() {
        let p = policy();
        assert!(within_limits(&p, DayTotal { total: 0 }, 30_000));
        assert!(!within_limits(&p, DayTotal { total: 0 }, 30_001));
        assert!(within_limits(&p, DayTotal { total: 70_000 }, 30_000));
        assert!(!within_limits(&p, DayTotal { total: 80_000 }, 30_000));
    }

    #[test]
    fn a_credit_is_decided_once() {
        let now = Timestamp::UNIX_EPOCH;
        let sup = AgentId::parse("sup").unwrap();
        let mut c = Credit {
            id: CreditId::generate(),
            conversation_id: ConversationId::generate(),
            status: CreditStatus::PendingApproval,
            amount: 50_000,
            currency: policy().currency,
            agent_id: AgentId::parse("a").unwrap(),
            reason: "broken".into(),
            request_id: "r".into(),
            created_at: now,
            decided_by: None,
            decided_at: None,
            decision_note: None,
        };
        assert!(CreditId::parse("cr_abc").is_ok());
        assert!(CreditId::parse("c_abc").is_err());
        c.decide(Decision::Approve, &sup, None, now).unwrap();
        assert_eq!(c.status, CreditStatus::Approved);
        assert_eq!(
            c.decide(Decision::Decline, &sup, None, now),
            Err(CreditStatus::Approved)
        );
    }
}
