//! The words-only fast path. Embedding a message costs milliseconds; the
//! lexical scorers take microseconds. When the words alone are sure, beyond
//! thresholds set at build time so that none of the catalog's held-out
//! questions, none of the questions of its held-out FAQs and none of the
//! built-in must-reach-a-person sentences would pass them, the answer needs
//! no embedding. Only an index with an encoder has a fast path: without one,
//! the words are the whole path already.

use serde::{Deserialize, Serialize};

use super::{FaqDecision, FaqIndex};

/// Lexical (top score, margin over the second) of one held-out question, and
/// whether its top FAQ is the right one.
#[derive(Debug, Clone, Copy)]
pub(super) struct LexScored {
    pub top: f32,
    pub margin: f32,
    pub right: bool,
}

/// The thresholds of the fast path and what they kept on the held-out data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SureByWords {
    pub min: f32,
    pub margin: f32,
    /// Share of held-out in-scope questions answered by words alone.
    pub answered: f32,
}

/// Thresholds no right answer on the held-out data needs: the loosest ones
/// passing no wrong held-out question and no bank sentence, and the most
/// right ones among those; None when no threshold passes anything right.
pub(super) fn choose_sure(
    pos: &[LexScored],
    neg: &[LexScored],
    bank: &[LexScored],
) -> Option<SureByWords> {
    const STEP: f32 = 0.02;
    // Floors: below these, lexical scores of a few examples are noise.
    const MIN_FLOOR: f32 = 0.3;
    const MARGIN_FLOOR: f32 = 0.1;
    let mut best: Option<(usize, f32, f32)> = None;
    let steps = |floor: f32| ((1.0 - floor) / STEP).round() as usize;
    for i in 0..=steps(MIN_FLOOR) {
        let a = MIN_FLOOR + STEP * i as f32;
        for j in 0..=steps(MARGIN_FLOOR) {
            let m = MARGIN_FLOOR + STEP * j as f32;
            let passes = |s: &&LexScored| s.top >= a && s.margin >= m;
            let unsafe_pass = pos.iter().filter(passes).any(|s| !s.right)
                || neg.iter().any(|s| passes(&s))
                || bank.iter().any(|s| passes(&s));
            if unsafe_pass {
                continue;
            }
            let right = pos.iter().filter(passes).count();
            // Strictly more right answers only: ties keep the stricter thresholds.
            if right > 0 && best.is_none_or(|(r, _, _)| right > r) {
                best = Some((right, a, m));
            }
        }
    }
    best.map(|(right, min, margin)| SureByWords {
        min,
        margin,
        answered: right as f32 / pos.len().max(1) as f32,
    })
}

impl FaqIndex {
    /// Lexical (best FAQ, top, margin) of `text`; None when it has no usable content.
    pub(super) fn lexical_top(&self, text: &str) -> Option<(usize, f32, f32)> {
        let (q, any) = self.vectorize(text);
        if !any {
            return None;
        }
        let scores = self.lexical_scores(&q, None);
        Some(super::calibrate::top_two(&scores))
    }

    /// The answer by words alone when they are sure (see the module doc); None
    /// means: take the full path, signals by meaning and the encoder included.
    pub fn sure_by_words(&self, text: &str) -> Option<FaqDecision> {
        self.semantic.as_ref()?;
        let sure = self.sure?;
        let (best, top, second) = self.lexical_top(text)?;
        (top >= sure.min && top - second >= sure.margin).then(|| FaqDecision::Answer {
            faq_id: self.ids[best].clone(),
            score: top,
        })
    }

    /// The fast path's thresholds, when it has one.
    pub fn sure_by_words_thresholds(&self) -> Option<SureByWords> {
        self.sure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(top: f32, margin: f32, right: bool) -> LexScored {
        LexScored { top, margin, right }
    }

    #[test]
    fn thresholds_stay_above_every_wrong_and_bank_score() {
        let pos = [s(0.9, 0.6, true), s(0.7, 0.5, true), s(0.6, 0.3, false)];
        let neg = [s(0.5, 0.4, false)];
        let bank = [s(0.8, 0.2, false)];
        let sure = choose_sure(&pos, &neg, &bank).unwrap();
        let passes = |x: &LexScored| x.top >= sure.min && x.margin >= sure.margin;
        assert!(passes(&pos[0]) && passes(&pos[1]), "{sure:?}");
        assert!(!passes(&pos[2]) && !passes(&neg[0]) && !passes(&bank[0]));
        assert!((sure.answered - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn no_fast_path_when_nothing_right_can_pass() {
        let pos = [s(0.9, 0.6, false), s(0.2, 0.05, true)];
        assert_eq!(choose_sure(&pos, &[], &[]), None);
    }
}
