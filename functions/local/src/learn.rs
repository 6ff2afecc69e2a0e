//! The learning loop measured offline: `handoff eval --learn-from FILE` adds FILE's
//! `faq:<id>` queries to the catalog as accepted examples — the same change an
//! accepted suggestion makes (`handoff_core::suggestion::add_example`, validated by
//! `handoff_core::catalog::apply`) — before evaluating. `--half learn|test` selects
//! one half of a query file by a fixed split, and `handoff eval-split` prints it.
//!
//! The split: the file's non-blank lines numbered from 1; odd lines are the `learn`
//! half, even lines the `test` half. Dev sets interleave their FAQs, so both halves
//! cover the catalog; the split needs no seed and never changes.

use std::str::FromStr;

use handoff_core::catalog::apply;
use handoff_core::faq::{FaqCatalog, LangTag};
use handoff_core::suggestion::{add_example, example_language};

use crate::eval::{parse_queries, Expect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    Learn,
    Test,
}

impl FromStr for Half {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "learn" => Ok(Half::Learn),
            "test" => Ok(Half::Test),
            _ => Err(format!("--half must be learn or test, not {s:?}")),
        }
    }
}

/// The lines of `jsonl` in `half` (non-blank lines counted from 1: odd ones learn,
/// even ones test), each ending in a newline.
pub fn half(jsonl: &str, half: Half) -> String {
    let keep = |n: usize| match half {
        Half::Learn => !n.is_multiple_of(2),
        Half::Test => n.is_multiple_of(2),
    };
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .filter(|(i, _)| keep(i + 1))
        .map(|(_, l)| format!("{l}\n"))
        .collect()
}

/// What learning from one file did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Learned {
    /// Examples added to the catalog.
    pub added: usize,
    /// `faq:` queries that were examples already.
    pub known: usize,
    /// `faq:` queries naming an FAQ the catalog does not have.
    pub unknown_faq: usize,
}

/// `catalog` with every `faq:<id>` query of `queries_jsonl` added as an accepted
/// example of that FAQ, under the query's language (else the catalog's first one).
pub fn learn(catalog: &FaqCatalog, queries_jsonl: &str) -> Result<(FaqCatalog, Learned), String> {
    let default = catalog
        .business
        .languages
        .iter()
        .find_map(|c| LangTag::from_code(c))
        .unwrap_or(LangTag::En);
    let mut next = catalog.clone();
    let mut learned = Learned::default();
    for (q, expect) in parse_queries(queries_jsonl)? {
        let Expect::Faq(id) = expect else { continue };
        if next.faq(&id).is_none() {
            learned.unknown_faq += 1;
            continue;
        }
        let lang = example_language(&q.text, default);
        match add_example(&next, &id, &lang, &q.text).map_err(|e| e.to_string())? {
            None => learned.known += 1,
            Some(change) => {
                next = apply(&next, &change).map_err(|e| format!("learning {id:?}: {e}"))?;
                learned.added += 1;
            }
        }
    }
    Ok((next, learned))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"{"business":{"name":"T","languages":["ko","en"]},"faqs":[
      {"id":"ship","questions":{"ko":["배송비 얼마예요?"]},"answer":{"ko":"3,000원"}}]}"#;

    #[test]
    fn the_halves_alternate_and_together_are_the_file() {
        let file = "a\n\nb\nc\nd\ne\n";
        assert_eq!(half(file, Half::Learn), "a\nc\ne\n");
        assert_eq!(half(file, Half::Test), "b\nd\n");
        assert!("middle".parse::<Half>().is_err());
    }

    #[test]
    fn faq_queries_become_examples_once_and_others_are_skipped() {
        let catalog = FaqCatalog::from_json(CATALOG).unwrap();
        let queries = [
            r#"{"text":"택배비 얼마?","expect":"faq:ship"}"#,
            r#"{"text":"How much is delivery?","expect":"faq:ship"}"#,
            r#"{"text":"배송비 얼마예요","expect":"faq:ship"}"#,
            r#"{"text":"상담원","expect":"handoff"}"#,
            r#"{"text":"x","expect":"faq:gone"}"#,
        ]
        .join("\n");
        let (next, learned) = learn(&catalog, &queries).unwrap();
        assert_eq!(
            learned,
            Learned {
                added: 2,
                known: 1,
                unknown_faq: 1
            }
        );
        let faq = next.faq("ship").unwrap();
        assert_eq!(faq.questions["ko"].len(), 2);
        assert_eq!(
            faq.questions["en"],
            vec!["How much is delivery?".to_string()]
        );
    }
}

/// The learning loop's options of `handoff eval`.
#[derive(Debug, Clone, Default)]
pub struct LoopOptions {
    /// One file per set (or none): its `faq:` queries are learnt before evaluating.
    pub learn_from: Vec<std::path::PathBuf>,
    /// Evaluate only this half of each query file.
    pub half: Option<Half>,
}

impl LoopOptions {
    pub fn check(&self, sets: usize) -> Result<(), String> {
        match self.learn_from.len() {
            0 => Ok(()),
            n if n == sets => Ok(()),
            n => Err(format!(
                "give one --learn-from per --faqs ({sets} catalogs, {n} files to learn from)"
            )),
        }
    }

    /// Set `i`'s catalog JSON after learning (unchanged without `--learn-from`), its
    /// queries (the chosen half), and a comment line saying what was learnt.
    pub fn prepare(
        &self,
        i: usize,
        catalog_json: String,
        queries: String,
    ) -> Result<(String, String, Option<String>), String> {
        let queries = match self.half {
            Some(h) => half(&queries, h),
            None => queries,
        };
        let Some(path) = self.learn_from.get(i) else {
            return Ok((catalog_json, queries, None));
        };
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let catalog = FaqCatalog::from_json(&catalog_json).map_err(|e| format!("catalog: {e}"))?;
        let (next, l) = learn(&catalog, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        let json = serde_json::to_string(&next).map_err(|e| format!("catalog: {e}"))?;
        let note = format!(
            "# learnt from {}: {} examples added, {} known already, {} naming no FAQ",
            path.display(),
            l.added,
            l.known,
            l.unknown_faq
        );
        Ok((json, queries, Some(note)))
    }
}
