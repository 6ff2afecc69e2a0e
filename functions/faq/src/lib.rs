//! FAQ catalog and matching for Handoff: pure Rust, no I/O, no async.
//!
//! * [`FaqCatalog`] is the business's FAQ in the eval JSON format, validated on load.
//! * [`FaqIndex`] is built once per process from a catalog and then only read:
//!   [`FaqIndex::rank`] orders FAQs for a message and [`FaqIndex::decide`] applies
//!   the answer / ask-back thresholds.
//! * [`signals`] spots messages that must go to a person at once, whatever the
//!   business and the language.
//! * [`language`] tells the customer's language and keeps a conversation's.

mod catalog;
mod index;
pub mod language;
pub mod normalize;
mod semantic;
pub mod signals;
mod text;

pub use catalog::{Business, CatalogError, Faq, FaqCatalog};
pub use handoff_encoder::Encoder;
pub use index::{Calibration, Explanation, FaqDecision, FaqIndex, Params, Ranked, SureByWords};
pub use language::LangTag;
pub use semantic::shared_encoder;

use serde::{Deserialize, Serialize};

/// A reply language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// The ISO 639-1 code used as key in catalogs: `"ko"` or `"en"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    /// The other of the two supported languages.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ko => Lang::En,
            Lang::En => Lang::Ko,
        }
    }
}

/// Hangul present (syllables or jamo) => Korean, else English.
pub fn detect_language(text: &str) -> Lang {
    if text.chars().any(text::is_hangul) {
        Lang::Ko
    } else {
        Lang::En
    }
}
