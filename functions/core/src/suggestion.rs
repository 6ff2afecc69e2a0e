//! The bot learns from agents: a customer's question that a person answered with an
//! FAQ (a canned answer, or a message the agent tagged) becomes a suggested example
//! question for that FAQ, which a supervisor accepts into the catalog or rejects.
//!
//! All suggestions live in one bounded, versioned record, written in the same commit
//! as the resolve that found them. A suggestion keeps the customer's words only while
//! it waits for a decision, and at most [`KEEP_TEXT`]; a decided one keeps none.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use handoff_faq::{Faq, FaqCatalog, LangTag};

use crate::catalog::{CatalogChange, MAX_QUESTION_CHARS};
use crate::error::{InputError, ServiceError};
use crate::ids::{AgentId, ConversationId};
use crate::model::{Message, Role};
use crate::records::RecordKey;

/// The one record that holds every suggestion.
pub const SUGGESTIONS_KEY: &str = "suggest:list";
/// At most this many suggestions are kept (decided ones are dropped first), so the
/// record stays far below a DynamoDB item's 400 KB: 100 × 500 characters.
pub const MAX_SUGGESTIONS: usize = 100;
/// How long an undecided suggestion (and the customer's text in it) is kept.
pub const KEEP_TEXT: SignedDuration = SignedDuration::from_hours(30 * 24);
/// Tags one conversation can hold.
pub const MAX_TAGS: usize = 20;

pub fn suggestions_key() -> RecordKey {
    // A constant that parses; the fallback is never taken.
    RecordKey::parse(SUGGESTIONS_KEY).unwrap_or_else(|_| unreachable!("constant key"))
}

/// The record of the FAQ tags agents put on a conversation's messages.
pub fn tags_key(id: &ConversationId) -> Result<RecordKey, InputError> {
    RecordKey::new("faqtag", id.as_str())
}

/// A suggestion id as a path carries it: `s_` and 32 hex digits.
pub fn parse_suggestion_id(s: &str) -> Result<String, InputError> {
    let ok = s.len() == 34 && s.starts_with("s_") && s[2..].bytes().all(|b| b.is_ascii_hexdigit());
    match ok {
        true => Ok(s.to_string()),
        false => Err(InputError::new("id", "id: not a suggestion id")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Accepted,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
        }
    }
}

/// How the agent said which FAQ answered the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The agent sent the FAQ's canned answer after the question.
    Canned,
    /// The agent tagged the customer's message with the FAQ.
    Tag,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub id: String,
    pub faq_id: String,
    /// The catalog language the example goes under (`ko`, `en`, …).
    pub lang: String,
    /// The customer's question; `None` once decided.
    pub text: Option<String>,
    pub conversation_id: ConversationId,
    pub seq: u64,
    pub source: Source,
    pub suggested_by: AgentId,
    pub at: Timestamp,
    pub expires_at: Timestamp,
    /// `status` in JSON; named apart from conversations' status, which only the
    /// state machine assigns.
    #[serde(rename = "status")]
    pub state: Status,
    pub decided_by: Option<AgentId>,
    pub decided_at: Option<Timestamp>,
}

/// A question found in a resolved conversation, before it is checked against the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub faq_id: String,
    pub text: String,
    pub lang: String,
    pub seq: u64,
    pub source: Source,
}

/// An agent's tag: message `seq` is answered by FAQ `faq_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    pub seq: u64,
    pub faq_id: String,
    pub by: AgentId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tags {
    pub tags: Vec<Tag>,
}

impl Tags {
    /// Sets the tag of `tag.seq` (a later tag of the same message replaces it).
    pub fn set(&mut self, tag: Tag) -> Result<(), ServiceError> {
        self.tags.retain(|t| t.seq != tag.seq);
        if self.tags.len() >= MAX_TAGS {
            return Err(ServiceError::TooMany(
                "this conversation has as many FAQ tags as it can hold",
            ));
        }
        self.tags.push(tag);
        Ok(())
    }
}

/// Lower case, single spaces, no surrounding punctuation: "Where's my parcel?" and
/// "where's my parcel" are the same example.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_matches(|c: char| c.is_ascii_punctuation() || c == '？' || c == '。')
        .to_lowercase()
}

/// Whether `text` is already one of `faq`'s example questions, in any language.
pub fn is_example(faq: &Faq, text: &str) -> bool {
    let n = normalize(text);
    faq.questions.values().flatten().any(|q| normalize(q) == n)
}

/// The language key an example goes under: the text's own language when it shows,
/// else the conversation's.
pub fn example_language(text: &str, conversation: LangTag) -> String {
    handoff_faq::language::detect(text)
        .unwrap_or(conversation)
        .code()
        .to_string()
}

/// The questions people answered with an FAQ in this transcript: for each canned
/// answer, the latest customer message before it; for each tag, the tagged message.
pub fn candidates(messages: &[Message], tags: &Tags, conversation: LangTag) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut push = |m: &Message, faq_id: &str, source: Source| {
        let text = m.text.trim();
        let usable = !text.is_empty() && text.chars().count() <= MAX_QUESTION_CHARS;
        let seen = out
            .iter()
            .any(|c| c.faq_id == faq_id && normalize(&c.text) == normalize(text));
        if usable && !seen {
            out.push(Candidate {
                faq_id: faq_id.to_string(),
                text: text.to_string(),
                lang: example_language(text, conversation),
                seq: m.seq,
                source,
            });
        }
    };
    for (i, m) in messages.iter().enumerate() {
        let Some(faq_id) = m.faq_id.as_deref().filter(|_| m.from == Role::Agent) else {
            continue;
        };
        if let Some(q) = messages[..i]
            .iter()
            .rev()
            .find(|q| q.from == Role::Customer)
        {
            push(q, faq_id, Source::Canned);
        }
    }
    for tag in &tags.tags {
        if let Some(m) = messages
            .iter()
            .find(|m| m.seq == tag.seq && m.from == Role::Customer)
        {
            push(m, &tag.faq_id, Source::Tag);
        }
    }
    out
}

/// Every suggestion, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
}

impl Suggestions {
    fn is_live(s: &Suggestion, now: Timestamp) -> bool {
        s.state != Status::Pending || s.expires_at > now
    }

    /// The suggestions waiting for a decision at `now`.
    pub fn pending(&self, now: Timestamp) -> impl Iterator<Item = &Suggestion> {
        self.items
            .iter()
            .filter(move |s| s.state == Status::Pending && s.expires_at > now)
    }

    /// Adds `c` unless its FAQ is gone, it is already an example of it, or it waits
    /// already; true when added. Expired ones go, and the list stays bounded.
    pub fn add(
        &mut self,
        c: Candidate,
        catalog: &FaqCatalog,
        conversation_id: &ConversationId,
        by: &AgentId,
        now: Timestamp,
    ) -> bool {
        let Some(faq) = catalog.faq(&c.faq_id) else {
            return false;
        };
        let n = normalize(&c.text);
        let waiting = self.pending(now).any(|s| {
            s.faq_id == c.faq_id && s.text.as_deref().map(normalize).as_deref() == Some(&n)
        });
        if waiting || is_example(faq, &c.text) {
            return false;
        }
        self.items.push(Suggestion {
            id: format!("s_{}", uuid::Uuid::new_v4().simple()),
            faq_id: c.faq_id,
            lang: c.lang,
            text: Some(c.text),
            conversation_id: conversation_id.clone(),
            seq: c.seq,
            source: c.source,
            suggested_by: by.clone(),
            at: now,
            expires_at: now.checked_add(KEEP_TEXT).unwrap_or(now),
            state: Status::Pending,
            decided_by: None,
            decided_at: None,
        });
        self.prune(now);
        true
    }

    /// Drops expired suggestions (with their text), then the oldest decided ones, then
    /// the oldest pending ones, down to [`MAX_SUGGESTIONS`].
    pub fn prune(&mut self, now: Timestamp) {
        self.items.retain(|s| Self::is_live(s, now));
        while self.items.len() > MAX_SUGGESTIONS {
            let at = self
                .items
                .iter()
                .position(|s| s.state != Status::Pending)
                .unwrap_or(0);
            self.items.remove(at);
        }
    }

    /// When the record may be dropped: after the last pending suggestion expires, and
    /// not before decisions are [`KEEP_TEXT`] old (so a second decision says 409).
    pub fn record_expiry(&self, now: Timestamp) -> Timestamp {
        let floor = now.checked_add(KEEP_TEXT).unwrap_or(now);
        self.pending(now)
            .map(|s| s.expires_at)
            .fold(floor, |a, b| a.max(b))
    }

    /// The pending suggestion `id` (404 when unknown or expired, 409 when decided).
    pub fn find_pending(&self, id: &str, now: Timestamp) -> Result<&Suggestion, ServiceError> {
        match self.items.iter().find(|s| s.id == id) {
            Some(s) if s.state != Status::Pending => {
                Err(ServiceError::SuggestionDecided(s.state.as_str()))
            }
            Some(s) if s.expires_at > now => Ok(s),
            _ => Err(ServiceError::SuggestionNotFound),
        }
    }

    /// Records the decision on `id` and forgets the customer's text; the suggestion as
    /// it was (with its text).
    pub fn decide(
        &mut self,
        id: &str,
        accept: bool,
        by: &AgentId,
        now: Timestamp,
    ) -> Result<Suggestion, ServiceError> {
        let before = self.find_pending(id, now)?.clone();
        self.prune(now);
        if let Some(s) = self.items.iter_mut().find(|s| s.id == id) {
            s.state = match accept {
                true => Status::Accepted,
                false => Status::Rejected,
            };
            s.text = None;
            s.decided_by = Some(by.clone());
            s.decided_at = Some(now);
        }
        Ok(before)
    }
}

/// The catalog change that adds `text` as an example of FAQ `faq_id` under `lang`
/// (what `PUT /v1/agent/faqs/{id}` would send); `None` when it is one already.
pub fn add_example(
    catalog: &FaqCatalog,
    faq_id: &str,
    lang: &str,
    text: &str,
) -> Result<Option<CatalogChange>, ServiceError> {
    let faq = catalog
        .faq(faq_id)
        .ok_or_else(|| ServiceError::FaqNotFound(faq_id.to_string()))?;
    if is_example(faq, text) {
        return Ok(None);
    }
    let mut faq = faq.clone();
    faq.questions
        .entry(lang.to_string())
        .or_default()
        .push(text.trim().to_string());
    Ok(Some(CatalogChange::Replace(faq)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MessageId;
    use crate::model::Channel;

    fn catalog() -> FaqCatalog {
        FaqCatalog::from_json(
            r#"{"business":{"name":"B","languages":["ko","en"]},"faqs":[
            {"id":"ship","questions":{"en":["how much is shipping"]},"answer":{"en":"3000"}}]}"#,
        )
        .unwrap()
    }

    fn msg(seq: u64, from: Role, text: &str, faq: Option<&str>) -> Message {
        Message {
            id: MessageId::generate(),
            conversation_id: ConversationId::parse("c_1").unwrap(),
            seq,
            from,
            text: text.into(),
            at: Timestamp::UNIX_EPOCH,
            channel: Channel::Web,
            agent_id: None,
            faq_id: faq.map(Into::into),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn the_question_before_a_canned_answer_and_tagged_ones_are_candidates() {
        let messages = vec![
            msg(1, Role::Customer, "hi", None),
            msg(2, Role::Customer, "what does delivery cost me", None),
            msg(3, Role::System, "an agent joined", None),
            msg(4, Role::Agent, "3000", Some("ship")),
            msg(5, Role::Customer, "택배비 얼마에요", None),
            msg(6, Role::Agent, "", None),
        ];
        let tags = Tags {
            tags: vec![
                Tag {
                    seq: 5,
                    faq_id: "ship".into(),
                    by: AgentId::parse("a").unwrap(),
                    at: Timestamp::UNIX_EPOCH,
                },
                Tag {
                    seq: 4,
                    faq_id: "ship".into(),
                    by: AgentId::parse("a").unwrap(),
                    at: Timestamp::UNIX_EPOCH,
                },
            ],
        };
        let c = candidates(&messages, &tags, LangTag::En);
        assert_eq!(c.len(), 2, "an agent's message cannot be tagged: {c:?}");
        assert_eq!(
            (c[0].seq, c[0].lang.as_str(), c[0].source),
            (2, "en", Source::Canned)
        );
        assert_eq!(
            (c[1].seq, c[1].lang.as_str(), c[1].source),
            (5, "ko", Source::Tag)
        );
    }

    #[test]
    fn duplicates_and_known_examples_are_skipped_and_decisions_forget_the_text() {
        let now = Timestamp::UNIX_EPOCH;
        let conv = ConversationId::parse("c_1").unwrap();
        let by = AgentId::parse("a").unwrap();
        let cand = |t: &str, faq: &str| Candidate {
            faq_id: faq.into(),
            text: t.into(),
            lang: "en".into(),
            seq: 1,
            source: Source::Canned,
        };
        let mut list = Suggestions::default();
        assert!(!list.add(
            cand("How much is shipping?", "ship"),
            &catalog(),
            &conv,
            &by,
            now
        ));
        assert!(!list.add(cand("delivery cost", "gone"), &catalog(), &conv, &by, now));
        assert!(list.add(cand("delivery cost", "ship"), &catalog(), &conv, &by, now));
        assert!(!list.add(cand("Delivery  cost", "ship"), &catalog(), &conv, &by, now));
        let id = list.items[0].id.clone();
        let got = list.decide(&id, false, &by, now).unwrap();
        assert_eq!(got.text.as_deref(), Some("delivery cost"));
        assert_eq!(list.items[0].text, None);
        assert!(matches!(
            list.decide(&id, true, &by, now),
            Err(ServiceError::SuggestionDecided("rejected"))
        ));
        assert!(matches!(
            list.find_pending("s_0", now),
            Err(ServiceError::SuggestionNotFound)
        ));
    }

    #[test]
    fn expired_suggestions_go_with_their_text_and_the_list_is_bounded() {
        let now = Timestamp::UNIX_EPOCH;
        let conv = ConversationId::parse("c_1").unwrap();
        let by = AgentId::parse("a").unwrap();
        let mut list = Suggestions::default();
        for i in 0..MAX_SUGGESTIONS + 5 {
            let c = Candidate {
                faq_id: "ship".into(),
                text: format!("question {i}"),
                lang: "en".into(),
                seq: 1,
                source: Source::Tag,
            };
            assert!(list.add(c, &catalog(), &conv, &by, now));
        }
        assert_eq!(list.items.len(), MAX_SUGGESTIONS);
        assert_eq!(list.items[0].text.as_deref(), Some("question 5"));
        let later = now.checked_add(KEEP_TEXT).unwrap();
        assert_eq!(list.pending(later).count(), 0);
        list.prune(later);
        assert!(list.items.is_empty());
    }

    #[test]
    fn an_example_is_added_once_under_its_language() {
        let c = catalog();
        let Some(CatalogChange::Replace(faq)) =
            add_example(&c, "ship", "ko", "배송비 얼마").unwrap()
        else {
            panic!("a replace")
        };
        assert_eq!(faq.questions["ko"], vec!["배송비 얼마".to_string()]);
        assert!(add_example(&c, "ship", "en", "How much is shipping")
            .unwrap()
            .is_none());
        assert!(matches!(
            add_example(&c, "gone", "en", "x"),
            Err(ServiceError::FaqNotFound(_))
        ));
        assert!(parse_suggestion_id(&format!("s_{}", "a".repeat(32))).is_ok());
        assert!(parse_suggestion_id("s_../x").is_err());
    }
}
