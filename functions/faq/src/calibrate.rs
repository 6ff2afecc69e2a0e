//! Build-time calibration of the answer thresholds from the catalog itself, so
//! that a catalog nobody tuned still keeps wrong answers low.
//!
//! Two cross-validations give labelled scores: held-out example questions
//! (should be answered with their own FAQ) and held-out whole FAQs (their
//! examples are questions about the business the rest of the catalog cannot
//! answer: any answer is wrong). A grid over the score floor and the margin
//! then picks the thresholds answering the most held-out examples correctly
//! while the expected share of wrong answers stays within `calib_wrong`.

use serde::{Deserialize, Serialize};

use super::fast::{choose_sure, LexScored, SureByWords};
use super::FaqIndex;
use crate::FaqCatalog;

/// Most held-out questions scored per cross-validation on a large catalog.
const MAX_HELD: usize = 1500;

/// What the calibration saw and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Held-out example questions scored (in scope).
    pub in_scope: usize,
    /// Questions of held-out FAQs scored (out of scope).
    pub out_of_scope: usize,
    pub answer_min: f32,
    pub answer_margin: f32,
    /// On the held-out data, at the chosen thresholds: share of in-scope
    /// questions answered right, and the expected share of wrong answers.
    pub in_scope_answered: f32,
    pub expected_wrong: f32,
    /// The words-only fast path (with an encoder only).
    pub sure_by_words: Option<SureByWords>,
    /// The encoder's share in the mix that ranked the held-out questions best
    /// (with an encoder; else the configured one).
    pub w_enc: f32,
}

/// A held-out question's lexical and encoder scores per FAQ, and its FAQ
/// (None: a question of a held-out FAQ, which no answer fits).
struct Held {
    lexical: Vec<f32>,
    encoder: Option<Vec<f32>>,
    faq: Option<usize>,
}

impl Held {
    fn mixed(&self, w: f32) -> Vec<f32> {
        match &self.encoder {
            Some(e) => self
                .lexical
                .iter()
                .zip(e)
                .map(|(l, e)| (1.0 - w) * l + w * e)
                .collect(),
            None => self.lexical.clone(),
        }
    }

    fn scored(&self, w: f32) -> Scored {
        let (b, s1, s2) = top_two(&self.mixed(w));
        Scored {
            top: s1,
            margin: s1 - s2,
            right: self.faq == Some(b),
        }
    }

    fn lex_scored(&self) -> LexScored {
        let (b, s1, s2) = top_two(&self.lexical);
        LexScored {
            top: s1,
            margin: s1 - s2,
            right: self.faq == Some(b),
        }
    }
}

/// The encoder share ranking the most held-out example questions first
/// (ties: the one nearest the configured share).
fn choose_mix(pos: &[Held], configured: f32) -> f32 {
    let mut best = (0usize, configured);
    for i in 1..=9 {
        let w = i as f32 / 10.0;
        let right = pos.iter().filter(|h| h.scored(w).right).count();
        let nearer = (w - configured).abs() < (best.1 - configured).abs();
        if right > best.0 || (right == best.0 && nearer) {
            best = (right, w);
        }
    }
    best.1
}

/// One scored held-out question: best score, margin over the second, and
/// whether answering it with the best FAQ would be right.
#[derive(Debug, Clone, Copy)]
struct Scored {
    top: f32,
    margin: f32,
    right: bool,
}

pub(super) fn top_two(scores: &[f32]) -> (usize, f32, f32) {
    let (mut b1, mut s1, mut s2) = (0usize, f32::NEG_INFINITY, f32::NEG_INFINITY);
    for (i, &s) in scores.iter().enumerate() {
        if s > s1 {
            s2 = s1;
            s1 = s;
            b1 = i;
        } else if s > s2 {
            s2 = s;
        }
    }
    (b1, s1, s2.max(0.0))
}

fn sample<T>(v: Vec<T>, max: usize) -> Vec<T> {
    if v.len() <= max {
        return v;
    }
    let step = v.len().div_ceil(max);
    v.into_iter().step_by(step).collect()
}

/// Every non-empty example question as (language, text).
fn examples(faq: &crate::Faq) -> Vec<(String, String)> {
    faq.questions
        .iter()
        .flat_map(|(l, qs)| qs.iter().map(move |q| (l.clone(), q.clone())))
        .filter(|(_, q)| !q.trim().is_empty())
        .collect()
}

impl FaqIndex {
    /// Thresholds from cross-validation over the catalog (None when it is too
    /// small to hold anything out).
    pub(super) fn calibrate(&self, catalog: &FaqCatalog) -> Option<Calibration> {
        let p = &self.params;
        let k = p.calib_folds.max(2);
        let n_ex: usize = catalog.faqs.iter().map(|f| f.all_questions().count()).sum();
        let run_folds = if n_ex > p.calib_full_max { 1 } else { k };
        let mut sub_params = p.clone();
        sub_params.calib_wrong = 0.0;
        let sem = self
            .semantic
            .as_ref()
            .map(|s| (s.encoder().clone(), s.cache().clone()));
        let mut pos: Vec<Held> = Vec::new();
        let mut neg: Vec<Held> = Vec::new();
        let fast = sem.is_some();

        // Held-out examples: right when their own FAQ ranks first.
        for fold in 0..run_folds {
            let mut train = catalog.clone();
            let mut held: Vec<(usize, String)> = Vec::new();
            for (ci, faq) in train.faqs.iter_mut().enumerate() {
                let all = examples(faq);
                if all.len() < 2 {
                    continue;
                }
                faq.questions.clear();
                for (i, (lang, q)) in all.into_iter().enumerate() {
                    if (i + ci) % k == fold {
                        held.push((ci, q));
                    } else {
                        faq.questions.entry(lang).or_default().push(q);
                    }
                }
            }
            let held = sample(held, MAX_HELD / run_folds);
            if held.is_empty() {
                continue;
            }
            let sub = FaqIndex::build_model(&train, sub_params.clone(), sem.clone());
            for (ci, q) in &held {
                if let Some((lexical, encoder)) = sub.component_scores(q, None) {
                    pos.push(Held {
                        lexical,
                        encoder,
                        faq: Some(*ci),
                    });
                }
            }
        }

        // Held-out FAQs: every answer to their questions is wrong.
        let n_faq = catalog.faqs.len();
        if n_faq >= 4 {
            for fold in 0..run_folds {
                let mut train = catalog.clone();
                let mut held: Vec<String> = Vec::new();
                let mut kept = Vec::new();
                for (ci, faq) in train.faqs.drain(..).enumerate() {
                    if ci % k == fold {
                        held.extend(faq.all_questions().map(str::to_string));
                    } else {
                        kept.push(faq);
                    }
                }
                train.faqs = kept;
                let held = sample(held, MAX_HELD / run_folds);
                let sub = FaqIndex::build_model(&train, sub_params.clone(), sem.clone());
                for q in &held {
                    if let Some((lexical, encoder)) = sub.component_scores(q, None) {
                        neg.push(Held {
                            lexical,
                            encoder,
                            faq: None,
                        });
                    }
                }
            }
        }
        if pos.is_empty() {
            return None;
        }
        let w_enc = if fast && p.calib_mix {
            choose_mix(&pos, self.w_enc)
        } else {
            self.w_enc
        };
        let scored = |h: &[Held]| h.iter().map(|h| h.scored(w_enc)).collect::<Vec<_>>();
        let mut c = choose(&scored(&pos), &scored(&neg), p);
        c.w_enc = w_enc;
        if fast {
            let lex_pos: Vec<LexScored> = pos.iter().map(Held::lex_scored).collect();
            let lex_neg: Vec<LexScored> = neg.iter().map(Held::lex_scored).collect();
            // Sentences that must reach a person never pass the fast path, which
            // skips the signal bank's matching by meaning.
            let bank: Vec<LexScored> = crate::signals::person_examples()
                .iter()
                .copied()
                .chain(crate::signals::situation_examples().iter().map(|(_, t)| *t))
                .filter_map(|t| self.lexical_top(t))
                .map(|(_, s1, s2)| LexScored {
                    top: s1,
                    margin: s1 - s2,
                    right: false,
                })
                .collect();
            c.sure_by_words = choose_sure(&lex_pos, &lex_neg, &bank);
        }
        Some(c)
    }
}

/// The grid search: the thresholds (≥ the floors in `p`) answering the most
/// held-out examples right with the expected wrong share within budget; the
/// least wrong when nothing is within it. Ties go to the looser thresholds:
/// customers' own wording scores lower than the owner's held-out examples.
fn choose(pos: &[Scored], neg: &[Scored], p: &super::Params) -> Calibration {
    let out = if neg.is_empty() {
        0.0
    } else {
        p.calib_out_share.clamp(0.0, 1.0)
    };
    let evaluate = |a: f32, m: f32| {
        let passes = |s: &Scored| s.top >= a && s.margin >= m;
        let (mut right, mut wrong_pos) = (0usize, 0usize);
        for s in pos.iter().filter(|s| passes(s)) {
            if s.right {
                right += 1;
            } else {
                wrong_pos += 1;
            }
        }
        let wrong_neg = neg.iter().filter(|s| passes(s)).count();
        let recall = right as f32 / pos.len() as f32;
        let wrong = (1.0 - out) * wrong_pos as f32 / pos.len() as f32
            + out * wrong_neg as f32 / neg.len().max(1) as f32;
        (recall, wrong)
    };
    let step = 0.01f32;
    let a_steps = ((1.0 - p.answer_min) / step).ceil().max(0.0) as usize;
    let m_steps = ((p.calib_margin_max - p.margin_min) / step).ceil().max(0.0) as usize;
    let mut best: Option<(f32, f32, f32, f32)> = None; // (a, m, recall, wrong)
    let mut least: (f32, f32, f32, f32) = (p.answer_min, p.margin_min, 0.0, f32::INFINITY);
    for i in 0..=a_steps {
        let a = p.answer_min + step * i as f32;
        for j in 0..=m_steps {
            let m = p.margin_min + step * j as f32;
            let (recall, wrong) = evaluate(a, m);
            if wrong < least.3 {
                least = (a, m, recall, wrong);
            }
            if wrong <= p.calib_wrong && best.is_none_or(|b| recall > b.2) {
                best = Some((a, m, recall, wrong));
            }
        }
    }
    let (a, m, recall, wrong) = best.unwrap_or(least);
    Calibration {
        in_scope: pos.len(),
        out_of_scope: neg.len(),
        answer_min: a,
        answer_margin: m,
        in_scope_answered: recall,
        expected_wrong: wrong,
        sure_by_words: None,
        w_enc: p.w_enc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(top: f32, margin: f32, right: bool) -> Scored {
        Scored { top, margin, right }
    }

    #[test]
    fn thresholds_rise_until_out_of_scope_questions_stay_unanswered() {
        let p = super::super::Params {
            answer_min: 0.1,
            margin_min: 0.0,
            calib_wrong: 0.05,
            calib_out_share: 0.5,
            ..Default::default()
        };
        // Right answers score 0.6+, out-of-scope questions up to 0.45.
        let pos: Vec<Scored> = (0..20)
            .map(|i| s(0.6 + i as f32 * 0.01, 0.3, true))
            .collect();
        let neg: Vec<Scored> = (0..20)
            .map(|i| s(0.2 + i as f32 * 0.0125, 0.3, false))
            .collect();
        let c = choose(&pos, &neg, &p);
        assert!(c.answer_min >= 0.4 && c.answer_min <= 0.6, "{c:?}");
        assert_eq!(c.in_scope_answered, 1.0);
        assert!(c.expected_wrong <= 0.05);
    }

    #[test]
    fn a_stricter_budget_never_answers_more() {
        let pos: Vec<Scored> = (0..50)
            .map(|i| s(0.2 + i as f32 * 0.01, i as f32 * 0.005, i % 5 != 0))
            .collect();
        let neg: Vec<Scored> = (0..30)
            .map(|i| s(0.15 + i as f32 * 0.01, 0.1, false))
            .collect();
        let at = |w: f32| {
            let p = super::super::Params {
                calib_wrong: w,
                ..Default::default()
            };
            choose(&pos, &neg, &p)
        };
        let (loose, strict) = (at(0.2), at(0.01));
        assert!(strict.in_scope_answered <= loose.in_scope_answered);
        assert!(strict.expected_wrong <= 0.01 || strict.in_scope_answered == 0.0);
        assert!(loose.expected_wrong <= 0.2);
    }
}
