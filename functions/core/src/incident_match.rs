//! Which active incident a customer's message is about, by words or by meaning.
//!
//! Built once per version of the incidents record (see `service/incidents.rs`): the
//! FAQ matcher's lexical index over the incidents' examples (each incident one
//! "FAQ"), and, when the sentence encoder is there, the examples' embeddings. A
//! message matches when its nearest example is close by words OR by meaning; both
//! thresholds are conservative on purpose (an unrelated customer told about a delivery
//! problem is worse than one who is not), checked against the dev sets in the tests.

use std::sync::Arc;

use handoff_faq::{Business, Encoder, Faq, FaqCatalog, FaqIndex, Params};

use crate::incident::Incident;

/// Cosine of TF-IDF vectors (the FAQ matcher's features) to the nearest example.
pub const WORDS_MIN: f32 = 0.55;
/// With the encoder: cosine of sentence embeddings to the nearest example plus half
/// the words' cosine. Meaning alone separates poorly on short shop messages ("update
/// the delivery address on my order" is as close to "my order hasn't arrived" as a
/// true paraphrase); the words' share tips the balance. Chosen on the shop dev set's
/// delivery-related messages (see the tests and the README's numbers).
pub const MEANING_MIN: f32 = 0.76;
/// The words' share in the meaning score.
const WORDS_SHARE: f32 = 0.5;

/// (incident index, unit embedding) of each example.
type Vectors = Vec<(usize, Vec<f32>)>;

/// How a message matched an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentMatch {
    /// Index into the incidents the matcher was built from.
    pub incident: usize,
    pub by_words: f32,
    pub by_meaning: f32,
}

/// The incidents' examples, ready to match messages against.
pub struct IncidentMatcher {
    ids: Vec<String>,
    words: Option<FaqIndex>,
    /// (incident index, embedding) per example, with the encoder that made them.
    meaning: Option<(Arc<Encoder>, Vectors)>,
}

impl std::fmt::Debug for IncidentMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncidentMatcher")
            .field("incidents", &self.ids.len())
            .field("by_meaning", &self.meaning.is_some())
            .finish()
    }
}

impl IncidentMatcher {
    /// Over `incidents` (all of them; the caller passes the active ones), with the
    /// encoder when given.
    pub fn build(incidents: &[Incident], encoder: Option<Arc<Encoder>>) -> Self {
        let ids: Vec<String> = incidents.iter().map(|i| i.id.to_string()).collect();
        if incidents.is_empty() {
            return Self {
                ids,
                words: None,
                meaning: None,
            };
        }
        let catalog = FaqCatalog {
            business: Business {
                name: "incidents".into(),
                name_ko: None,
                timezone: None,
                agent_hours: None,
                languages: vec!["ko".into(), "en".into()],
                extra: Default::default(),
            },
            faqs: incidents
                .iter()
                .map(|i| Faq {
                    id: i.id.to_string(),
                    questions: [("ko".to_string(), i.examples.clone())].into(),
                    answer: Default::default(),
                })
                .collect(),
        };
        // Only the nearest example's similarity is used: no answers as documents and
        // no calibration (a handful of examples cannot calibrate anything).
        let params = Params {
            answer_weight: 0.0,
            calib_wrong: 0.0,
            ..Params::default()
        };
        let words = Some(FaqIndex::build_with(&catalog, params));
        let meaning = encoder.map(|e| {
            let vectors = incidents
                .iter()
                .enumerate()
                .flat_map(|(n, i)| i.examples.iter().map(move |x| (n, x)))
                .map(|(n, x)| (n, e.embed(x).into_vec()))
                .collect();
            (e, vectors)
        });
        Self {
            ids,
            words,
            meaning,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether this matcher matches by meaning too.
    pub fn has_encoder(&self) -> bool {
        self.meaning.is_some()
    }

    /// The incident `text` is most clearly about, when it is close enough to one.
    pub fn best(&self, text: &str) -> Option<IncidentMatch> {
        let words = self.words.as_ref()?;
        let explained = words.explain(text);
        let by_words = explained.ranked.first().and_then(|r| {
            let n = self.ids.iter().position(|id| *id == r.faq_id)?;
            Some((n, explained.nearest_similarity))
        });
        let by_meaning = self.meaning.as_ref().and_then(|(e, vectors)| {
            let q = e.embed(text).into_vec();
            vectors
                .iter()
                .map(|(n, v)| (*n, handoff_encoder_cosine(&q, v)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
        });
        let w = by_words.filter(|(_, s)| *s >= WORDS_MIN);
        let words_share = by_words.map_or(0.0, |(_, s)| WORDS_SHARE * s);
        let m = by_meaning.filter(|(_, s)| *s + words_share >= MEANING_MIN);
        // Words first when both agree or only words match; else meaning.
        let incident = w.or(m)?.0;
        Some(IncidentMatch {
            incident,
            by_words: by_words.map_or(0.0, |(_, s)| s),
            by_meaning: by_meaning.map_or(0.0, |(_, s)| s),
        })
    }

    /// The scores of `text` against the nearest example (words, meaning), for
    /// measuring thresholds.
    pub fn scores(&self, text: &str) -> (f32, f32) {
        let by_words = self
            .words
            .as_ref()
            .map_or(0.0, |w| w.explain(text).nearest_similarity);
        let by_meaning = self.meaning.as_ref().map_or(0.0, |(e, vectors)| {
            let q = e.embed(text).into_vec();
            vectors
                .iter()
                .map(|(_, v)| handoff_encoder_cosine(&q, v))
                .fold(0.0, f32::max)
        });
        (by_words, by_meaning)
    }
}

fn handoff_encoder_cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let n = norm(a) * norm(b);
    if n > 0.0 {
        dot / n
    } else {
        0.0
    }
}

#[cfg(test)]
#[path = "incident_match_tests.rs"]
mod tests;
