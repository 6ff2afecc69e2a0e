//! The FAQ catalog as data: stored as one versioned record (the eval JSON format),
//! changed by supervisors without a deploy. Every change is a pure function from the
//! stored catalog to the next one, validated whole before it is written, so a write
//! is all of a change or nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

use handoff_faq::{CatalogError, Faq, FaqCatalog};

use crate::error::{InputError, ServiceError};
use crate::model::MAX_TEXT_CHARS;
use crate::records::{Record, RecordKey};

/// The key of the stored catalog.
pub const CATALOG_KEY: &str = "catalog:faqs";
/// A small record written with every catalog change, at the same version: what the
/// instances' once-a-minute check reads, so that it costs one small read however
/// large the catalog is.
pub const CATALOG_VERSION_KEY: &str = "catalog:version";
/// Largest stored catalog (JSON bytes): well inside a DynamoDB item's 400 KB.
pub const MAX_CATALOG_BYTES: usize = 300_000;
pub const MAX_FAQS: usize = 500;
pub const MAX_QUESTIONS_PER_FAQ: usize = 100;
pub const MAX_QUESTION_CHARS: usize = 500;
pub const MAX_ID_LEN: usize = 64;

pub fn catalog_key() -> RecordKey {
    // A constant that parses; the fallback is never taken.
    RecordKey::parse(CATALOG_KEY).unwrap_or_else(|_| unreachable!("constant key"))
}

pub fn catalog_version_key() -> RecordKey {
    RecordKey::parse(CATALOG_VERSION_KEY).unwrap_or_else(|_| unreachable!("constant key"))
}

/// The catalog in effect and its version (0: the seed file, never written yet).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedCatalog {
    pub version: u64,
    pub catalog: FaqCatalog,
}

impl VersionedCatalog {
    /// The stored catalog, or the seed as version 0 when nothing was stored yet.
    pub fn from_record(record: Option<&Record>, seed: &FaqCatalog) -> Result<Self, ServiceError> {
        match record {
            None => Ok(Self {
                version: 0,
                catalog: seed.clone(),
            }),
            Some(r) => Ok(Self {
                version: r.version,
                catalog: r.decode()?,
            }),
        }
    }
}

/// One FAQ as a client sends it: `POST /v1/agent/faqs` (with `id`) and
/// `PUT /v1/agent/faqs/{id}` (the id from the path; a body id must match).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqInput {
    #[serde(default)]
    pub id: Option<String>,
    pub questions: BTreeMap<String, Vec<String>>,
    pub answer: BTreeMap<String, String>,
}

/// A change a supervisor asks for.
#[derive(Debug, Clone)]
pub enum CatalogChange {
    /// Replace the whole catalog.
    Import(FaqCatalog),
    Add(Faq),
    Replace(Faq),
    Delete(String),
}

/// An FAQ id: what a URL path segment can carry.
pub fn parse_faq_id(id: &str) -> Result<String, InputError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    match ok {
        true => Ok(id.to_string()),
        false => Err(InputError::new(
            "id",
            format!("id: {id:?} must be 1-{MAX_ID_LEN} letters, digits, '-' or '_'"),
        )),
    }
}

impl FaqInput {
    /// The FAQ, with `path_id` (PUT) or the body's id (POST), validated.
    pub fn into_faq(self, path_id: Option<&str>) -> Result<Faq, InputError> {
        let id = match (path_id, self.id) {
            (Some(p), Some(b)) if p != b => {
                return Err(InputError::new(
                    "id",
                    format!("id: the body says {b:?} but the path says {p:?}"),
                ))
            }
            (Some(p), _) => p.to_string(),
            (None, Some(b)) => b,
            (None, None) => return Err(InputError::new("id", "id: required")),
        };
        let faq = Faq {
            id: parse_faq_id(&id)?,
            questions: self.questions,
            answer: self.answer,
        };
        check_faq(&faq, None)?;
        Ok(faq)
    }
}

/// Where an FAQ is, for error messages: `faqs[3] (shipping-fee)`.
fn at(faq: &Faq, index: Option<usize>) -> String {
    match index {
        Some(i) => format!("faqs[{i}] ({:?})", faq.id),
        None => format!("FAQ {:?}", faq.id),
    }
}

fn check_lang(code: &str, field: &'static str, place: &str) -> Result<(), InputError> {
    let ok = (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase());
    match ok {
        true => Ok(()),
        false => Err(InputError::new(
            field,
            format!("{place}.{field}: {code:?} is not a language code like \"ko\" or \"en\""),
        )),
    }
}

/// One FAQ's fields: id, language codes, sizes, and at least one question and answer.
fn check_faq(faq: &Faq, index: Option<usize>) -> Result<(), InputError> {
    let place = at(faq, index);
    parse_faq_id(&faq.id).map_err(|e| InputError::new("id", format!("{place}: {}", e.message)))?;
    let mut questions = 0;
    for (lang, qs) in &faq.questions {
        check_lang(lang, "questions", &place)?;
        for q in qs {
            if q.trim().is_empty() {
                return Err(InputError::new(
                    "questions",
                    format!("{place}.questions.{lang}: a question is empty"),
                ));
            }
            if q.chars().count() > MAX_QUESTION_CHARS {
                return Err(InputError::new(
                    "questions",
                    format!("{place}.questions.{lang}: a question is longer than {MAX_QUESTION_CHARS} characters"),
                ));
            }
        }
        questions += qs.len();
    }
    if questions == 0 {
        return Err(InputError::new(
            "questions",
            format!("{place}.questions: at least one example question is required"),
        ));
    }
    if questions > MAX_QUESTIONS_PER_FAQ {
        return Err(InputError::new(
            "questions",
            format!("{place}.questions: at most {MAX_QUESTIONS_PER_FAQ} example questions"),
        ));
    }
    for (lang, a) in &faq.answer {
        check_lang(lang, "answer", &place)?;
        if a.trim().is_empty() {
            return Err(InputError::new(
                "answer",
                format!("{place}.answer.{lang}: the answer is empty"),
            ));
        }
        if a.chars().count() > MAX_TEXT_CHARS {
            return Err(InputError::new(
                "answer",
                format!("{place}.answer.{lang}: longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
    }
    if faq.answer.is_empty() {
        return Err(InputError::new(
            "answer",
            format!("{place}.answer: an answer in at least one language is required"),
        ));
    }
    Ok(())
}

/// A whole catalog: the file format's rules ([`FaqCatalog::validate`]), each FAQ's
/// fields, and the size limits of the store.
pub fn check_catalog(catalog: &FaqCatalog) -> Result<(), InputError> {
    catalog.validate().map_err(|e| {
        let field = match &e {
            CatalogError::Empty => "faqs",
            CatalogError::EmptyId { .. } | CatalogError::DuplicateId { .. } => "id",
            CatalogError::NoQuestions { .. } => "questions",
            CatalogError::NoAnswer { .. } => "answer",
            CatalogError::Json(_) => "catalog",
        };
        InputError::new(field, format!("{field}: {e}"))
    })?;
    if catalog.faqs.len() > MAX_FAQS {
        return Err(InputError::new(
            "faqs",
            format!("faqs: at most {MAX_FAQS} FAQs"),
        ));
    }
    if catalog.business.name.trim().is_empty() {
        return Err(InputError::new("business", "business.name: required"));
    }
    for code in &catalog.business.languages {
        check_lang(code, "languages", "business")?;
    }
    for (i, faq) in catalog.faqs.iter().enumerate() {
        check_faq(faq, Some(i))?;
    }
    let bytes = serde_json::to_vec(catalog).map(|v| v.len()).unwrap_or(0);
    if bytes > MAX_CATALOG_BYTES {
        return Err(InputError::new(
            "catalog",
            format!("catalog: {bytes} bytes of JSON; the limit is {MAX_CATALOG_BYTES}"),
        ));
    }
    Ok(())
}

/// The catalog after `change`, validated whole; `current` is not modified.
pub fn apply(current: &FaqCatalog, change: &CatalogChange) -> Result<FaqCatalog, ServiceError> {
    let mut next = current.clone();
    match change {
        CatalogChange::Import(catalog) => next = catalog.clone(),
        CatalogChange::Add(faq) => {
            if next.faq(&faq.id).is_some() {
                return Err(ServiceError::FaqExists(faq.id.clone()));
            }
            next.faqs.push(faq.clone());
        }
        CatalogChange::Replace(faq) => {
            let slot = next
                .faqs
                .iter_mut()
                .find(|f| f.id == faq.id)
                .ok_or_else(|| ServiceError::FaqNotFound(faq.id.clone()))?;
            *slot = faq.clone();
        }
        CatalogChange::Delete(id) => {
            let before = next.faqs.len();
            next.faqs.retain(|f| &f.id != id);
            if next.faqs.len() == before {
                return Err(ServiceError::FaqNotFound(id.clone()));
            }
            if next.faqs.is_empty() {
                return Err(ServiceError::TooMany(
                    "the catalog must keep at least one FAQ; import a new catalog instead",
                ));
            }
        }
    }
    check_catalog(&next)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> FaqCatalog {
        FaqCatalog::from_json(
            r#"{"business":{"name":"B","languages":["ko","en"]},"faqs":[
            {"id":"a","questions":{"en":["how much is shipping"]},"answer":{"en":"3000"}},
            {"id":"b","questions":{"ko":["환불"]},"answer":{"ko":"환불돼요"}}]}"#,
        )
        .unwrap()
    }

    fn faq(id: &str) -> Faq {
        Faq {
            id: id.into(),
            questions: [("en".to_string(), vec!["q".to_string()])].into(),
            answer: [("en".to_string(), "a".to_string())].into(),
        }
    }

    #[test]
    fn changes_apply_whole_or_not_at_all() {
        let c = catalog();
        let added = apply(&c, &CatalogChange::Add(faq("c"))).unwrap();
        assert_eq!(added.faqs.len(), 3);
        assert!(matches!(
            apply(&c, &CatalogChange::Add(faq("a"))),
            Err(ServiceError::FaqExists(id)) if id == "a"
        ));
        assert!(matches!(
            apply(&c, &CatalogChange::Replace(faq("zz"))),
            Err(ServiceError::FaqNotFound(_))
        ));
        assert!(matches!(
            apply(&c, &CatalogChange::Delete("zz".into())),
            Err(ServiceError::FaqNotFound(_))
        ));
        let one = apply(&c, &CatalogChange::Delete("a".into())).unwrap();
        assert!(matches!(
            apply(&one, &CatalogChange::Delete("b".into())),
            Err(ServiceError::TooMany(_))
        ));
        assert_eq!(c, catalog(), "the current catalog is untouched");
    }

    #[test]
    fn errors_name_the_field() {
        let mut bad = faq("x");
        bad.answer.insert("en".into(), " ".into());
        let e = check_faq(&bad, Some(2)).unwrap_err();
        assert_eq!(e.field, "answer");
        assert!(e.message.contains("faqs[2]") && e.message.contains("answer.en"));
        let input: FaqInput =
            serde_json::from_str(r#"{"id":"a b","questions":{"en":["q"]},"answer":{"en":"a"}}"#)
                .unwrap();
        assert_eq!(input.into_faq(None).unwrap_err().field, "id");
        let input: FaqInput =
            serde_json::from_str(r#"{"id":"a","questions":{"en":["q"]},"answer":{"en":"a"}}"#)
                .unwrap();
        assert_eq!(input.into_faq(Some("b")).unwrap_err().field, "id");
        let mut c = catalog();
        c.faqs[1].questions.insert("KO!".into(), vec!["q".into()]);
        assert_eq!(check_catalog(&c).unwrap_err().field, "questions");
        let mut c = catalog();
        c.faqs.push(faq("a"));
        assert_eq!(check_catalog(&c).unwrap_err().field, "id");
    }
}
