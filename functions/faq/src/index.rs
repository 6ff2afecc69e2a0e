//! The FAQ index: TF-IDF vectors over the analyser's features, scored by a
//! mix of example nearest neighbours, class centroids and a softmax
//! regression trained at build time (deterministic).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::text::{Analyzer, N_GROUPS};
use crate::FaqCatalog;

/// One FAQ in a ranking, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub faq_id: String,
    /// Combined score in 0..=1 (higher is better).
    pub score: f32,
}

/// What to do with a message, FAQ-wise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaqDecision {
    /// Confident: answer with this FAQ.
    Answer { faq_id: String, score: f32 },
    /// Something may fit: ask back, offering these (1 to 3, best first).
    Unsure { candidates: Vec<Ranked> },
    /// Nothing in the catalog fits.
    NoMatch,
}

/// Model and threshold settings. [`Params::default`] is what the product uses;
/// the values were chosen by cross-validation on catalog examples and on the
/// shop development set (see `examples/tune.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Weight of each feature group: word, bigram, char n-gram, Hangul n-gram,
    /// Korean word, concept, English word pair.
    pub group_weight: [f32; N_GROUPS],
    /// Add bilingual concept (synonym) features.
    pub use_concepts: bool,
    /// Mix of the three scorers (they are each in 0..=1).
    pub w_knn: f32,
    pub w_centroid: f32,
    pub w_lr: f32,
    /// Class kNN score = mean of this many best example similarities.
    pub knn_top: usize,
    /// Softmax regression: passes over the examples, step size, weight decay per pass.
    pub lr_epochs: usize,
    pub lr_rate: f32,
    pub lr_decay: f32,
    /// Share of an example's features dropped (at random, per pass) while
    /// training the regression: augmentation against few examples per FAQ.
    pub lr_dropout: f32,
    /// Answer only when the best score reaches this…
    pub answer_min: f32,
    /// …and leads the second by at least this much.
    pub margin_min: f32,
    /// Below this the message matches nothing (NoMatch); between it and the
    /// answer thresholds the decision is Unsure.
    pub unsure_min: f32,
    /// Build-time self-calibration: the margin threshold is raised (never
    /// lowered below `margin_min`) until, in a cross-validation over the
    /// catalog's own examples, at most this share of held-out examples would
    /// be answered with the wrong FAQ. 0 turns calibration off.
    pub calib_wrong: f32,
    /// Folds of that cross-validation (catalogs with more than
    /// `calib_full_max` examples run only the first fold).
    pub calib_folds: usize,
    pub calib_full_max: usize,
    /// Upper bound of the calibrated margin threshold.
    pub calib_margin_max: f32,
    /// Fewer held-out examples than this (a small catalog) leave `margin_min`
    /// as it is: a few errors would move the threshold by noise alone.
    pub calib_min_held: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            group_weight: [1.0, 0.6, 0.5, 0.5, 0.6, 2.5, 0.5],
            use_concepts: true,
            w_knn: 0.2,
            w_centroid: 0.2,
            w_lr: 0.6,
            knn_top: 1,
            lr_epochs: 8,
            lr_rate: 3.0,
            lr_decay: 0.0,
            lr_dropout: 0.0,
            answer_min: 0.22,
            margin_min: 0.09,
            unsure_min: 0.12,
            calib_wrong: 0.02,
            calib_folds: 5,
            calib_full_max: 4000,
            calib_margin_max: 0.5,
            calib_min_held: 300,
        }
    }
}

/// Most held-out examples ranked when calibrating a large catalog (build time).
const CALIB_MAX_HELD: usize = 1500;

/// A sparse, L2-normalised vector: (feature id, value), sorted by id.
type SparseVec = Vec<(u32, f32)>;

/// Built once per process, then read-only (Send + Sync).
#[derive(Debug)]
pub struct FaqIndex {
    params: Params,
    analyzer: Analyzer,
    ids: Vec<String>,
    vocab: HashMap<(u8, u64), u32>,
    idf: Vec<f32>,
    /// idf given to a feature no example has (counts toward the query norm only).
    unknown_idf: f32,
    /// class of each example
    ex_class: Vec<u32>,
    /// feature -> (example, value)
    postings: Vec<Vec<(u32, f32)>>,
    /// feature -> (class, value) of the L2-normalised class centroids
    centroid_postings: Vec<Vec<(u32, f32)>>,
    /// softmax regression, feature-major: w[f * classes + c]
    lr_w: Vec<f32>,
    lr_b: Vec<f32>,
    /// Margin the best score must have over the second to answer: `margin_min`,
    /// or higher when the build-time calibration asked for it.
    answer_margin: f32,
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

fn softmax_in_place(z: &mut [f32]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        sum += *v;
    }
    if sum > 0.0 {
        for v in z.iter_mut() {
            *v /= sum;
        }
    }
}

impl FaqIndex {
    /// Builds the index with the default parameters.
    pub fn build(catalog: &FaqCatalog) -> FaqIndex {
        FaqIndex::build_with(catalog, Params::default())
    }

    /// Builds the index with explicit parameters (used for tuning), then
    /// calibrates the answer margin on the catalog's own examples.
    pub fn build_with(catalog: &FaqCatalog, params: Params) -> FaqIndex {
        let mut index = FaqIndex::build_model(catalog, params);
        if index.params.calib_wrong > 0.0 && index.params.calib_folds >= 2 {
            index.answer_margin = index.calibrated_margin(catalog);
        }
        index
    }

    /// Margin threshold from a cross-validation over the catalog's examples:
    /// the smallest margin (≥ `margin_min`) at which held-out examples answered
    /// wrongly stay within `calib_wrong` of all held-out examples.
    fn calibrated_margin(&self, catalog: &FaqCatalog) -> f32 {
        let p = &self.params;
        let k = p.calib_folds;
        let n_ex: usize = catalog.faqs.iter().map(|f| f.all_questions().count()).sum();
        let run_folds = if n_ex > p.calib_full_max { 1 } else { k };
        // Too few examples to hold out enough: the result would be the default anyway,
        // so skip the sub-builds (they are most of a small catalog's cold start).
        if run_folds == k && n_ex < p.calib_min_held {
            return p.margin_min;
        }
        let mut sub_params = p.clone();
        sub_params.calib_wrong = 0.0;
        // (margin, correct) of held-out examples that pass the score floor;
        // `total` counts every held-out example.
        let mut seen: Vec<(f32, bool)> = Vec::new();
        let mut total = 0usize;
        for fold in 0..run_folds {
            let mut train = catalog.clone();
            let mut held: Vec<(usize, String)> = Vec::new();
            for (ci, faq) in train.faqs.iter_mut().enumerate() {
                let all: Vec<(String, String)> = faq
                    .questions
                    .iter()
                    .flat_map(|(l, qs)| qs.iter().map(move |q| (l.clone(), q.clone())))
                    .filter(|(_, q)| !q.trim().is_empty())
                    .collect();
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
            if held.is_empty() {
                continue;
            }
            if run_folds == 1 && held.len() > CALIB_MAX_HELD {
                // Large catalog: a spread-out sample of the fold is enough.
                let step = held.len().div_ceil(CALIB_MAX_HELD);
                held = held.into_iter().step_by(step).collect();
            }
            let sub = FaqIndex::build_model(&train, sub_params.clone());
            for (ci, q) in &held {
                total += 1;
                let Some(scores) = sub.scores(q) else {
                    continue;
                };
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
                let s2 = s2.max(0.0);
                if s1 >= p.answer_min {
                    seen.push((s1 - s2, b1 == *ci));
                }
            }
        }
        if total == 0 || total < p.calib_min_held {
            return p.margin_min;
        }
        // Walk margins from the highest down; the threshold is the lowest
        // margin reached while the wrong answers stay within budget.
        seen.sort_by(|a, b| b.0.total_cmp(&a.0));
        let budget = p.calib_wrong * total as f32;
        let mut wrong = 0usize;
        let mut threshold = p.calib_margin_max;
        let mut i = 0;
        while i < seen.len() {
            let m = seen[i].0;
            let mut j = i;
            while j < seen.len() && seen[j].0 == m {
                if !seen[j].1 {
                    wrong += 1;
                }
                j += 1;
            }
            if wrong as f32 > budget {
                break;
            }
            threshold = m;
            i = j;
        }
        threshold.clamp(p.margin_min, p.calib_margin_max.max(p.margin_min))
    }

    /// The answer margin in use (`margin_min` raised by calibration).
    pub fn answer_margin(&self) -> f32 {
        self.answer_margin
    }

    fn build_model(catalog: &FaqCatalog, params: Params) -> FaqIndex {
        let analyzer = Analyzer::new(params.use_concepts);
        let ids: Vec<String> = catalog.faqs.iter().map(|f| f.id.clone()).collect();
        let mut ex_class = Vec::new();
        let mut ex_counts: Vec<HashMap<u32, f32>> = Vec::new();
        let mut vocab: HashMap<(u8, u64), u32> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        for (ci, faq) in catalog.faqs.iter().enumerate() {
            for q in faq.all_questions() {
                let a = analyzer.analyze(q);
                let mut counts: HashMap<u32, f32> = HashMap::new();
                for key in a.feats {
                    let next = vocab.len() as u32;
                    let id = *vocab.entry(key).or_insert(next);
                    if id as usize == df.len() {
                        df.push(0);
                    }
                    *counts.entry(id).or_insert(0.0) += 1.0;
                }
                for id in counts.keys() {
                    df[*id as usize] += 1;
                }
                ex_class.push(ci as u32);
                ex_counts.push(counts);
            }
        }
        let n_ex = ex_counts.len();
        let n_feat = vocab.len();
        let idf: Vec<f32> = df
            .iter()
            .map(|&d| ((n_ex as f32 + 1.0) / (d as f32 + 1.0)).ln() + 1.0)
            .collect();
        let unknown_idf = (n_ex as f32 + 1.0).ln() + 1.0;
        let mut group_of = vec![0u8; n_feat];
        for (&(g, _), &id) in &vocab {
            group_of[id as usize] = g;
        }

        let answer_margin = params.margin_min;
        let mut index = FaqIndex {
            params,
            analyzer,
            ids,
            vocab,
            idf,
            unknown_idf,
            ex_class,
            postings: vec![Vec::new(); n_feat],
            centroid_postings: vec![Vec::new(); n_feat],
            lr_w: Vec::new(),
            lr_b: Vec::new(),
            answer_margin,
        };

        let vectors: Vec<SparseVec> = ex_counts
            .iter()
            .map(|counts| {
                let mut v: SparseVec = counts
                    .iter()
                    .map(|(&f, &tf)| {
                        let g = group_of[f as usize] as usize;
                        (
                            f,
                            index.params.group_weight[g] * (1.0 + tf.ln()) * index.idf[f as usize],
                        )
                    })
                    .collect();
                v.sort_unstable_by_key(|p| p.0);
                let norm = v.iter().map(|p| p.1 * p.1).sum::<f32>().sqrt();
                if norm > 0.0 {
                    for p in &mut v {
                        p.1 /= norm;
                    }
                }
                v
            })
            .collect();

        let n_classes = index.ids.len();
        let mut centroids: Vec<HashMap<u32, f32>> = vec![HashMap::new(); n_classes];
        for (e, v) in vectors.iter().enumerate() {
            let c = index.ex_class[e] as usize;
            for &(f, x) in v {
                index.postings[f as usize].push((e as u32, x));
                *centroids[c].entry(f).or_insert(0.0) += x;
            }
        }
        for (c, cent) in centroids.iter().enumerate() {
            let norm = cent.values().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (&f, &x) in cent {
                    index.centroid_postings[f as usize].push((c as u32, x / norm));
                }
            }
        }
        if index.params.w_lr > 0.0 && index.params.lr_epochs > 0 {
            index.train_lr(&vectors);
        }
        index
    }

    fn train_lr(&mut self, vectors: &[SparseVec]) {
        let c = self.ids.len();
        let n_feat = self.postings.len();
        let mut w = vec![0f32; n_feat * c];
        let mut b = vec![0f32; c];
        let mut order: Vec<usize> = (0..vectors.len()).collect();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut z = vec![0f32; c];
        // Large catalogs converge in fewer passes; cap the work to keep cold
        // starts short (about 24k example updates at least, 3 passes at least).
        let epochs = if vectors.len() > 3000 {
            (self.params.lr_epochs * 3000 / vectors.len()).max(3)
        } else {
            self.params.lr_epochs
        };
        let mut active: Vec<usize> = Vec::with_capacity(c);
        let mut dropped: SparseVec = Vec::new();
        for epoch in 0..epochs {
            for i in (1..order.len()).rev() {
                let j = (rng.next() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            let eta = self.params.lr_rate / (1.0 + epoch as f32);
            for &i in &order {
                let x: &[(u32, f32)] = if self.params.lr_dropout > 0.0 {
                    dropped.clear();
                    let cut = (self.params.lr_dropout * 65536.0) as u64;
                    let mut kept2 = 0.0f32;
                    for &(f, v) in &vectors[i] {
                        if rng.next() % 65536 >= cut {
                            dropped.push((f, v));
                            kept2 += v * v;
                        }
                    }
                    if dropped.is_empty() {
                        &vectors[i]
                    } else {
                        let k = 1.0 / kept2.sqrt();
                        for p in dropped.iter_mut() {
                            p.1 *= k;
                        }
                        &dropped
                    }
                } else {
                    &vectors[i]
                };
                z.copy_from_slice(&b);
                for &(f, v) in x {
                    let row = &w[f as usize * c..(f as usize + 1) * c];
                    for (zc, wc) in z.iter_mut().zip(row) {
                        *zc += v * wc;
                    }
                }
                softmax_in_place(&mut z);
                z[self.ex_class[i] as usize] -= 1.0;
                active.clear();
                active.extend((0..c).filter(|&k| z[k].abs() > 1e-4));
                for &(f, v) in x {
                    let row = &mut w[f as usize * c..(f as usize + 1) * c];
                    let s = eta * v;
                    if active.len() * 4 < c {
                        for &k in &active {
                            row[k] -= s * z[k];
                        }
                    } else {
                        for (wc, g) in row.iter_mut().zip(&z) {
                            *wc -= s * g;
                        }
                    }
                }
                for (bc, g) in b.iter_mut().zip(&z) {
                    *bc -= eta * 0.1 * g;
                }
            }
            if self.params.lr_decay > 0.0 {
                let keep = 1.0 - self.params.lr_decay;
                for x in &mut w {
                    *x *= keep;
                }
            }
        }
        self.lr_w = w;
        self.lr_b = b;
    }

    /// The parameters this index was built with.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Number of FAQs.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the index has no FAQ (never for a validated catalog).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Query vector over known features, and whether the text had any feature at all.
    fn vectorize(&self, text: &str) -> (SparseVec, bool) {
        let a = self.analyzer.analyze(text);
        if a.feats.is_empty() {
            return (Vec::new(), false);
        }
        let mut counts: HashMap<(u8, u64), f32> = HashMap::new();
        for key in a.feats {
            *counts.entry(key).or_insert(0.0) += 1.0;
        }
        let mut norm2 = 0.0f32;
        let mut v: SparseVec = Vec::with_capacity(counts.len());
        for (key, tf) in counts {
            let gw = self.params.group_weight[key.0 as usize];
            match self.vocab.get(&key) {
                Some(&f) => {
                    let x = gw * (1.0 + tf.ln()) * self.idf[f as usize];
                    norm2 += x * x;
                    v.push((f, x));
                }
                None => {
                    let x = gw * (1.0 + tf.ln()) * self.unknown_idf;
                    norm2 += x * x;
                }
            }
        }
        let norm = norm2.sqrt();
        if norm > 0.0 {
            for p in &mut v {
                p.1 /= norm;
            }
        }
        v.sort_unstable_by_key(|p| p.0);
        (v, norm > 0.0)
    }

    /// Combined score for every FAQ (by catalog position).
    fn scores(&self, text: &str) -> Option<Vec<f32>> {
        let (q, any) = self.vectorize(text);
        if !any {
            return None;
        }
        let c = self.ids.len();
        let p = &self.params;
        let mut total = vec![0f32; c];
        if p.w_knn > 0.0 {
            let mut sims = vec![0f32; self.ex_class.len()];
            for &(f, x) in &q {
                for &(e, v) in &self.postings[f as usize] {
                    sims[e as usize] += x * v;
                }
            }
            let k = p.knn_top.clamp(1, 4);
            let mut best = vec![[0f32; 4]; c];
            for (e, &s) in sims.iter().enumerate() {
                let slot = &mut best[self.ex_class[e] as usize];
                if s > slot[k - 1] {
                    let mut i = k - 1;
                    while i > 0 && slot[i - 1] < s {
                        slot[i] = slot[i - 1];
                        i -= 1;
                    }
                    slot[i] = s;
                }
            }
            for (t, b) in total.iter_mut().zip(&best) {
                *t += p.w_knn * b[..k].iter().sum::<f32>() / k as f32;
            }
        }
        if p.w_centroid > 0.0 {
            for &(f, x) in &q {
                for &(cl, v) in &self.centroid_postings[f as usize] {
                    total[cl as usize] += p.w_centroid * x * v;
                }
            }
        }
        if p.w_lr > 0.0 && !self.lr_w.is_empty() {
            let mut z = self.lr_b.clone();
            for &(f, x) in &q {
                let row = &self.lr_w[f as usize * c..(f as usize + 1) * c];
                for (zc, wc) in z.iter_mut().zip(row) {
                    *zc += x * wc;
                }
            }
            softmax_in_place(&mut z);
            for (t, pz) in total.iter_mut().zip(&z) {
                *t += p.w_lr * pz;
            }
        }
        Some(total)
    }

    /// The `k` best FAQs for `text`, best first. Empty when the text has no
    /// usable content.
    pub fn rank(&self, text: &str, k: usize) -> Vec<Ranked> {
        let Some(scores) = self.scores(text) else {
            return Vec::new();
        };
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order
            .into_iter()
            .take(k)
            .map(|i| Ranked {
                faq_id: self.ids[i].clone(),
                score: scores[i],
            })
            .collect()
    }

    /// Applies the thresholds to the ranking.
    pub fn decide(&self, text: &str) -> FaqDecision {
        let ranked = self.rank(text, 3);
        self.decide_ranked(ranked)
    }

    /// [`FaqIndex::decide`] on a ranking already made by [`FaqIndex::rank`] (k ≥ 2
    /// for the margin to count).
    pub fn decide_ranked(&self, mut ranked: Vec<Ranked>) -> FaqDecision {
        let p = &self.params;
        let Some(top) = ranked.first() else {
            return FaqDecision::NoMatch;
        };
        let second = ranked.get(1).map_or(0.0, |r| r.score);
        if top.score >= p.answer_min && top.score - second >= self.answer_margin {
            return FaqDecision::Answer {
                faq_id: top.faq_id.clone(),
                score: top.score,
            };
        }
        if top.score < p.unsure_min {
            return FaqDecision::NoMatch;
        }
        let floor = p.unsure_min.max(top.score * 0.5);
        ranked.truncate(3);
        ranked.retain(|r| r.score >= floor);
        FaqDecision::Unsure { candidates: ranked }
    }
}
