//! Known-problem notices ("deliveries are late this week"): what a supervisor posts,
//! validated on construction, and the one record that keeps the active ones.
//!
//! All incidents live in one small versioned record (`incidents:active`), so one read
//! gives every active incident and its version, which the matcher cache keys on.
//! Incidents past their `until` are dropped whenever the record is written and ignored
//! whenever it is read; an incident ended early stays (with `ended_at`) until its
//! `until`, so that ending it again answers the same and the packet can say so.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::ids::AgentId;
use crate::records::RecordKey;

/// Most incidents kept at once (active or ended early, not yet past `until`).
pub const MAX_INCIDENTS: usize = 20;
/// Most example messages per incident.
pub const MAX_EXAMPLES: usize = 20;
/// Longest example, in characters.
pub const EXAMPLE_CHARS: usize = 200;
/// Longest notice text per language, in characters.
pub const TEXT_CHARS: usize = 1000;
/// Farthest `until` from now: a notice is about a passing problem.
pub const MAX_AHEAD: SignedDuration = SignedDuration::from_hours(30 * 24);

/// The record that holds every incident.
pub fn incidents_key() -> RecordKey {
    // A constant, valid key: `kind:rest` in printable ASCII.
    RecordKey::new("incidents", "active").unwrap_or_else(|_| unreachable!())
}

/// An incident's id: `i_` and 32 hex digits when generated; parsed from paths.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IncidentId(String);

impl IncidentId {
    pub fn generate() -> Self {
        Self(format!("i_{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn parse(s: &str) -> Result<Self, InputError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(InputError::new(
                "id",
                "must be 1-64 letters, digits, '_' or '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IncidentId {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        Self::parse(&s)
    }
}

impl From<IncidentId> for String {
    fn from(id: IncidentId) -> String {
        id.0
    }
}

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The notice in Korean and/or English (at least one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IncidentText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ko: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl IncidentText {
    /// The text in `code` ("ko"/"en") when there is one, else in `fallback`, else any.
    pub fn in_language(&self, code: &str, fallback: &str) -> &str {
        let get = |c: &str| match c {
            "ko" => self.ko.as_deref(),
            "en" => self.en.as_deref(),
            _ => None,
        };
        get(code)
            .or_else(|| get(fallback))
            .or(self.ko.as_deref())
            .or(self.en.as_deref())
            .unwrap_or_default()
    }
}

/// A known problem, told to customers whose message matches its examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub text: IncidentText,
    pub examples: Vec<String>,
    pub until: Timestamp,
    pub created_by: AgentId,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
}

impl Incident {
    /// Told to customers at `now`: not ended early, not past `until`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.ended_at.is_none() && self.until > now
    }
}

/// `POST /v1/agent/incidents`, as sent; [`IncidentInput::into_incident`] validates it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    #[serde(default)]
    pub text: IncidentText,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub until: Option<String>,
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

impl IncidentInput {
    /// The incident this input makes at `now`, or the first field that is wrong.
    pub fn into_incident(self, by: &AgentId, now: Timestamp) -> Result<Incident, InputError> {
        let text = IncidentText {
            ko: clean(&self.text.ko),
            en: clean(&self.text.en),
        };
        if text.ko.is_none() && text.en.is_none() {
            return Err(InputError::new(
                "text",
                "give the notice in at least one of text.ko and text.en",
            ));
        }
        for (field, t) in [("text.ko", &text.ko), ("text.en", &text.en)] {
            if t.as_ref().is_some_and(|t| t.chars().count() > TEXT_CHARS) {
                return Err(InputError::new(field, "must be at most 1000 characters"));
            }
        }
        let examples: Vec<String> = self.examples.iter().map(|e| e.trim().to_string()).collect();
        if examples.is_empty() || examples.len() > MAX_EXAMPLES {
            return Err(InputError::new(
                "examples",
                "give 1-20 example messages that customers write about this problem",
            ));
        }
        if let Some(i) = examples
            .iter()
            .position(|e| e.is_empty() || e.chars().count() > EXAMPLE_CHARS)
        {
            return Err(InputError::new(
                "examples",
                format!("examples[{i}] must be 1-200 characters, not blank"),
            ));
        }
        let until: Timestamp = self
            .until
            .as_deref()
            .ok_or_else(|| InputError::new("until", "required: an RFC 3339 time"))?
            .parse()
            .map_err(|_| {
                InputError::new(
                    "until",
                    "must be an RFC 3339 time, e.g. 2026-12-05T18:00:00Z",
                )
            })?;
        if until <= now {
            return Err(InputError::new("until", "must be in the future"));
        }
        if until.duration_since(now) > MAX_AHEAD {
            return Err(InputError::new("until", "must be at most 30 days from now"));
        }
        Ok(Incident {
            id: IncidentId::generate(),
            text,
            examples,
            until,
            created_by: by.clone(),
            created_at: now,
            ended_at: None,
        })
    }
}

/// What the incidents record holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentList {
    pub incidents: Vec<Incident>,
}

impl IncidentList {
    /// Those told to customers at `now`.
    pub fn active(&self, now: Timestamp) -> impl Iterator<Item = &Incident> {
        self.incidents.iter().filter(move |i| i.is_active(now))
    }

    /// Drops what is past its `until` (what a write keeps).
    pub fn prune(&mut self, now: Timestamp) {
        self.incidents.retain(|i| i.until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: serde_json::Value) -> IncidentInput {
        serde_json::from_value(v).unwrap()
    }

    fn now() -> Timestamp {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    fn field(v: serde_json::Value) -> &'static str {
        let by = AgentId::parse("sup").unwrap();
        input(v).into_incident(&by, now()).unwrap_err().field
    }

    #[test]
    fn a_valid_incident_is_made_with_an_id() {
        let by = AgentId::parse("sup").unwrap();
        let i = input(serde_json::json!({
            "text": {"en": " Deliveries are late this week. "},
            "examples": ["where is my package"],
            "until": "2026-12-03T10:00:00Z"
        }))
        .into_incident(&by, now())
        .unwrap();
        assert!(i.id.as_str().starts_with("i_"));
        assert_eq!(i.text.en.as_deref(), Some("Deliveries are late this week."));
        assert!(i.is_active(now()));
        assert!(!i.is_active("2026-12-03T10:00:00Z".parse().unwrap()));
    }

    #[test]
    fn each_wrong_field_is_named() {
        let ok_until = "2026-12-03T10:00:00Z";
        assert_eq!(
            field(serde_json::json!({"text": {"ko": " "}, "examples": ["x"], "until": ok_until})),
            "text"
        );
        assert_eq!(
            field(serde_json::json!({"text": {"en": "x"}, "examples": [], "until": ok_until})),
            "examples"
        );
        assert_eq!(
            field(
                serde_json::json!({"text": {"en": "x"}, "examples": ["a", " "], "until": ok_until})
            ),
            "examples"
        );
        let many: Vec<String> = (0..21).map(|i| format!("q{i}")).collect();
        assert_eq!(
            field(serde_json::json!({"text": {"en": "x"}, "examples": many, "until": ok_until})),
            "examples"
        );
        assert_eq!(
            field(serde_json::json!({"text": {"en": "x"}, "examples": ["a"], "until": "soon"})),
            "until"
        );
        assert_eq!(
            field(
                serde_json::json!({"text": {"en": "x"}, "examples": ["a"], "until": "2026-11-30T00:00:00Z"})
            ),
            "until"
        );
        assert_eq!(
            field(
                serde_json::json!({"text": {"en": "x"}, "examples": ["a"], "until": "2027-02-01T00:00:00Z"})
            ),
            "until"
        );
        assert_eq!(
            field(
                serde_json::json!({"text": {"en": "x".repeat(1001)}, "examples": ["a"], "until": ok_until})
            ),
            "text.en"
        );
    }

    #[test]
    fn text_follows_the_language_then_the_fallback() {
        let t = IncidentText {
            ko: Some("배송 지연".into()),
            en: None,
        };
        assert_eq!(t.in_language("en", "en"), "배송 지연");
        let both = IncidentText {
            ko: Some("배송 지연".into()),
            en: Some("Late".into()),
        };
        assert_eq!(both.in_language("en", "ko"), "Late");
        assert_eq!(both.in_language("ja", "ko"), "배송 지연");
    }
}
