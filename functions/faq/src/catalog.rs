//! The FAQ catalog: the eval JSON format, validated.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::Lang;

/// Why a catalog was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("catalog is not valid JSON for the FAQ format: {0}")]
    Json(String),
    #[error("catalog has no FAQs")]
    Empty,
    #[error("FAQ #{index} has an empty id")]
    EmptyId { index: usize },
    #[error("FAQ id {id:?} is used more than once (FAQ #{index})")]
    DuplicateId { id: String, index: usize },
    #[error("FAQ {id:?} has no example question")]
    NoQuestions { id: String },
    #[error("FAQ {id:?} has no answer")]
    NoAnswer { id: String },
}

/// Who the catalog belongs to. Unknown fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Business {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_ko: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_hours: Option<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One FAQ: example questions and the answer, keyed by language code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faq {
    pub id: String,
    #[serde(default)]
    pub questions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub answer: BTreeMap<String, String>,
}

impl Faq {
    /// The answer in `lang`, else in the other supported language, else any.
    pub fn answer_in(&self, lang: Lang) -> Option<&str> {
        let nonempty = |s: &String| !s.trim().is_empty();
        self.answer
            .get(lang.code())
            .filter(|s| nonempty(s))
            .or_else(|| self.answer.get(lang.other().code()).filter(|s| nonempty(s)))
            .or_else(|| self.answer.values().find(|s| nonempty(s)))
            .map(String::as_str)
    }

    /// All non-empty example questions, every language.
    pub fn all_questions(&self) -> impl Iterator<Item = &str> {
        self.questions
            .values()
            .flatten()
            .map(String::as_str)
            .filter(|q| !q.trim().is_empty())
    }
}

/// A business's FAQ catalog, exactly the eval JSON format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqCatalog {
    pub business: Business,
    pub faqs: Vec<Faq>,
}

impl FaqCatalog {
    /// Parses and validates a catalog.
    pub fn from_json(s: &str) -> Result<FaqCatalog, CatalogError> {
        let catalog: FaqCatalog =
            serde_json::from_str(s).map_err(|e| CatalogError::Json(e.to_string()))?;
        catalog.validate()?;
        Ok(catalog)
    }

    /// Checks: at least one FAQ; ids non-empty and unique; each FAQ has a
    /// non-empty question and a non-empty answer.
    pub fn validate(&self) -> Result<(), CatalogError> {
        if self.faqs.is_empty() {
            return Err(CatalogError::Empty);
        }
        let mut seen = HashSet::new();
        for (index, faq) in self.faqs.iter().enumerate() {
            if faq.id.trim().is_empty() {
                return Err(CatalogError::EmptyId { index });
            }
            if !seen.insert(faq.id.as_str()) {
                return Err(CatalogError::DuplicateId {
                    id: faq.id.clone(),
                    index,
                });
            }
            if faq.all_questions().next().is_none() {
                return Err(CatalogError::NoQuestions { id: faq.id.clone() });
            }
            if !faq.answer.values().any(|a| !a.trim().is_empty()) {
                return Err(CatalogError::NoAnswer { id: faq.id.clone() });
            }
        }
        Ok(())
    }

    /// The FAQ with this id.
    pub fn faq(&self, id: &str) -> Option<&Faq> {
        self.faqs.iter().find(|f| f.id == id)
    }

    /// The answer of FAQ `id` in `lang`, falling back to the other language, then any.
    pub fn answer(&self, id: &str, lang: Lang) -> Option<&str> {
        self.faq(id)?.answer_in(lang)
    }

    /// The business name to show in `lang` (`name_ko` for Korean when present).
    pub fn business_name(&self, lang: Lang) -> &str {
        match (lang, &self.business.name_ko) {
            (Lang::Ko, Some(ko)) if !ko.trim().is_empty() => ko,
            _ => &self.business.name,
        }
    }
}
