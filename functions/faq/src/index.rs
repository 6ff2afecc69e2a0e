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

/// Why the index ranked and decided as it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Best three, best first.
    pub ranked: Vec<Ranked>,
    pub decision: FaqDecision,
    /// Each scorer's share of the top FAQ's score.
    pub components: Vec<(String, f32)>,
    /// The top FAQ's example closest to the message, and its similarity.
    pub nearest_example: Option<String>,
    pub nearest_similarity: f32,
    /// The top FAQ's example closest in meaning (with an encoder).
    pub encoder_nearest_example: Option<String>,
    /// Thresholds in force.
    pub answer_min: f32,
    pub answer_margin: f32,
}

/// Per-FAQ scorer outputs gathered while scoring (explanations only).
#[derive(Debug, Default)]
struct Detail {
    knn: Vec<f32>,
    centroid: Vec<f32>,
    lr: Vec<f32>,
    /// per FAQ: (example, similarity) of its nearest example
    nearest: Vec<Option<(usize, f32)>>,
    /// per FAQ: the encoder's share, its nearest example and best similarity
    enc: Vec<f32>,
    enc_nearest: Vec<Option<usize>>,
    enc_sim: Vec<f32>,
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
    /// Share of the sentence encoder in the combined score (0..1; used only
    /// when the index has an encoder).
    pub w_enc: f32,
    /// Within the encoder's share: nearest example vs FAQ centroid.
    pub enc_knn_share: f32,
    /// Softmax temperature turning encoder similarities into FAQ scores.
    pub enc_temp: f32,
    /// Within the encoder's share: a softmax regression over the example
    /// embeddings (trained at build time, `enc_lr_epochs` passes).
    pub enc_lr_share: f32,
    pub enc_lr_epochs: usize,
    /// Weight of the answer texts on the encoder's side: their mean joins the
    /// FAQ centroid with this weight, and they train the regression. 0 leaves
    /// them out (and unembedded).
    pub enc_answer_weight: f32,
    /// Weight of the answer texts as documents of their FAQ (centroid and
    /// regression; never nearest examples). 0 leaves answers out.
    pub answer_weight: f32,
    /// Build-time self-calibration (see `calibrate.rs`): the score floor and
    /// margin are raised (never lowered below `answer_min` and `margin_min`)
    /// so that, on the catalog's own held-out examples and held-out FAQs, the
    /// expected share of wrong answers stays within this. 0 turns it off.
    pub calib_wrong: f32,
    /// Share of messages assumed to be about something the catalog does not
    /// cover, weighting held-out FAQs against held-out examples.
    pub calib_out_share: f32,
    /// Folds of the cross-validations (catalogs with more than
    /// `calib_full_max` examples run only the first fold).
    pub calib_folds: usize,
    pub calib_full_max: usize,
    /// Upper bound of the calibrated margin threshold.
    pub calib_margin_max: f32,
    /// Let the calibration choose the encoder's share (`w_enc`) that ranks the
    /// catalog's held-out questions best.
    pub calib_mix: bool,
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
            w_enc: 0.4,
            enc_knn_share: 0.2,
            enc_temp: 0.07,
            enc_lr_share: 0.5,
            enc_lr_epochs: 20,
            enc_answer_weight: 1.0,
            answer_weight: 1.0,
            calib_wrong: 0.03,
            calib_out_share: 0.2,
            calib_folds: 5,
            calib_full_max: 4000,
            calib_margin_max: 0.5,
            calib_mix: true,
        }
    }
}

#[path = "calibrate.rs"]
mod calibrate;
#[path = "fast.rs"]
mod fast;
use crate::semantic::{extend_cache, softmax_t, EmbedCache, Semantic};
pub use calibrate::Calibration;
pub use fast::SureByWords;
use handoff_encoder::Encoder;
use std::sync::Arc;

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
    /// text of each example (for explanations)
    ex_text: Vec<String>,
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
    /// Score the best FAQ must reach to answer: `answer_min`, or higher after calibration.
    answer_min: f32,
    calibration: Option<Calibration>,
    /// Thresholds of the words-only fast path (see `fast.rs`), when calibrated.
    sure: Option<SureByWords>,
    /// The encoder's share in the mix: `params.w_enc`, or what the build-time
    /// calibration found best on the catalog's own held-out questions.
    w_enc: f32,
    /// The sentence encoder's side, when the index has one.
    semantic: Option<Semantic>,
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

    /// Builds the index with the sentence encoder when its model files are
    /// present (see [`crate::shared_encoder`]), by words alone otherwise:
    /// what the product and `handoff eval` use.
    pub fn build_auto(catalog: &FaqCatalog) -> FaqIndex {
        match crate::shared_encoder() {
            Some(e) => FaqIndex::build_with_encoder(catalog, Params::default(), e),
            None => FaqIndex::build(catalog),
        }
    }

    /// Builds the index ranking by words and by meaning: every example
    /// question is embedded once here, and reused by the calibration.
    pub fn build_with_encoder(
        catalog: &FaqCatalog,
        params: Params,
        encoder: Arc<Encoder>,
    ) -> FaqIndex {
        let with_answers = params.enc_answer_weight > 0.0;
        let texts: Vec<&str> = catalog
            .faqs
            .iter()
            .flat_map(|f| {
                let answers = f.answer.values().filter(move |_| with_answers);
                f.all_questions().chain(answers.map(String::as_str))
            })
            .filter(|t| !t.trim().is_empty())
            .collect();
        let cache = extend_cache(&encoder, &EmbedCache::default(), &texts);
        FaqIndex::build_calibrated(catalog, params, Some((encoder, cache)))
    }

    /// A message close in meaning to the built-in bank of messages that must
    /// reach a person (see [`crate::signals`]), closer than to any example of
    /// this catalog: the urgency (None for a request for a person) and the
    /// evidence. Always None without an encoder.
    pub fn meaning_signal(
        &self,
        text: &str,
    ) -> Option<(Option<crate::signals::Urgency>, crate::signals::Hit)> {
        use crate::semantic::BankLabel;
        let sem = self.semantic.as_ref()?;
        let q = sem.embed(text);
        let (label, sim, i) = sem.bank_match(&q)?;
        let all: Vec<&str> = crate::signals::person_examples()
            .iter()
            .copied()
            .chain(crate::signals::situation_examples().iter().map(|(_, t)| *t))
            .collect();
        let example = all.get(i).copied().unwrap_or_default();
        let evidence = format!("meaning {sim:.2} ≥ {:.2}: {example}", sem.bank_threshold());
        Some(match label {
            BankLabel::Person => (
                None,
                crate::signals::Hit {
                    kind: "person_request".into(),
                    evidence,
                },
            ),
            BankLabel::Situation(s) => (
                Some(s.urgency()),
                crate::signals::Hit {
                    kind: s.as_str().into(),
                    evidence,
                },
            ),
        })
    }

    /// Whether this index ranks by meaning too.
    pub fn has_encoder(&self) -> bool {
        self.semantic.is_some()
    }

    /// The unit embedding of `text` by this index's encoder; `None` without one.
    pub fn embed(&self, text: &str) -> Option<Vec<f32>> {
        self.semantic.as_ref().map(|s| s.embed(text))
    }

    /// Builds the index with explicit parameters (used for tuning), then
    /// calibrates the answer margin on the catalog's own examples.
    pub fn build_with(catalog: &FaqCatalog, params: Params) -> FaqIndex {
        FaqIndex::build_calibrated(catalog, params, None)
    }

    fn build_calibrated(
        catalog: &FaqCatalog,
        params: Params,
        sem: Option<(Arc<Encoder>, EmbedCache)>,
    ) -> FaqIndex {
        let mut index = FaqIndex::build_model(catalog, params, sem);
        if index.params.calib_wrong > 0.0 && index.params.calib_folds >= 2 {
            if let Some(c) = index.calibrate(catalog) {
                index.answer_min = c.answer_min;
                index.answer_margin = c.answer_margin;
                index.sure = c.sure_by_words;
                index.w_enc = c.w_enc;
                index.calibration = Some(c);
            }
        }
        index
    }

    /// The answer margin in use (`margin_min` raised by calibration).
    pub fn answer_margin(&self) -> f32 {
        self.answer_margin
    }

    /// The score floor in use (`answer_min` raised by calibration).
    pub fn answer_min(&self) -> f32 {
        self.answer_min
    }

    /// What the build-time calibration found, when it ran.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    fn build_model(
        catalog: &FaqCatalog,
        params: Params,
        sem: Option<(Arc<Encoder>, EmbedCache)>,
    ) -> FaqIndex {
        let analyzer = Analyzer::new(params.use_concepts);
        let ids: Vec<String> = catalog.faqs.iter().map(|f| f.id.clone()).collect();
        let mut ex_class = Vec::new();
        let mut ex_text = Vec::new();
        let mut ex_counts: Vec<HashMap<u32, f32>> = Vec::new();
        let mut vocab: HashMap<(u8, u64), u32> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        let mut ex_is_answer = Vec::new();
        for (ci, faq) in catalog.faqs.iter().enumerate() {
            // The answers are documents of their FAQ too: they carry the words
            // customers use that the owner's few example questions miss.
            let answers = faq
                .answer
                .values()
                .map(String::as_str)
                .filter(|a| params.answer_weight > 0.0 && !a.trim().is_empty());
            let docs = faq
                .all_questions()
                .map(|q| (q, false))
                .chain(answers.map(|a| (a, true)));
            for (q, is_answer) in docs {
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
                ex_text.push(q.to_string());
                ex_is_answer.push(is_answer);
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
        let answer_min = params.answer_min;
        let w_enc = params.w_enc.clamp(0.0, 1.0);
        let mut index = FaqIndex {
            params,
            analyzer,
            ids,
            vocab,
            idf,
            unknown_idf,
            ex_class,
            ex_text,
            postings: vec![Vec::new(); n_feat],
            centroid_postings: vec![Vec::new(); n_feat],
            lr_w: Vec::new(),
            lr_b: Vec::new(),
            answer_margin,
            answer_min,
            calibration: None,
            sure: None,
            w_enc,
            semantic: None,
        };
        if let Some((encoder, cache)) = sem {
            let examples: Vec<(u32, &str)> = catalog
                .faqs
                .iter()
                .enumerate()
                .flat_map(|(c, f)| f.all_questions().map(move |q| (c as u32, q)))
                .collect();
            let answers: Vec<(u32, &str)> = catalog
                .faqs
                .iter()
                .enumerate()
                .flat_map(|(c, f)| f.answer.values().map(move |a| (c as u32, a.as_str())))
                .filter(|(_, a)| !a.trim().is_empty())
                .collect();
            index.semantic = Some(Semantic::new(
                encoder,
                cache,
                &examples,
                &answers,
                index.params.enc_answer_weight,
                catalog.faqs.len(),
                if index.params.enc_lr_share > 0.0 {
                    index.params.enc_lr_epochs
                } else {
                    0
                },
            ));
        }

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
            let w = if ex_is_answer[e] {
                index.params.answer_weight
            } else {
                1.0
            };
            for &(f, x) in v {
                // Nearest-example search is over example questions only.
                if !ex_is_answer[e] {
                    index.postings[f as usize].push((e as u32, x));
                }
                *centroids[c].entry(f).or_insert(0.0) += w * x;
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
        self.scores_detail(text, None)
    }

    /// [`Self::scores`], also filling `detail` with each scorer's share and the
    /// nearest example.
    fn scores_detail(&self, text: &str, mut detail: Option<&mut Detail>) -> Option<Vec<f32>> {
        let (mut total, enc) = self.component_scores(text, detail.as_deref_mut())?;
        if let Some(e) = enc {
            let w = self.w_enc;
            for (i, (t, e)) in total.iter_mut().zip(&e).enumerate() {
                *t = (1.0 - w) * *t + w * e;
                if let Some(d) = detail.as_deref_mut() {
                    d.enc[i] = w * e;
                }
            }
        }
        Some(total)
    }

    /// The lexical scores and (with an encoder) the encoder's, each in 0..=1,
    /// before they are mixed with the weight `w_enc`.
    fn component_scores(
        &self,
        text: &str,
        mut detail: Option<&mut Detail>,
    ) -> Option<(Vec<f32>, Option<Vec<f32>>)> {
        let (q, any) = self.vectorize(text);
        if !any {
            return None;
        }
        let lexical = self.lexical_scores(&q, detail.as_deref_mut());
        let p = &self.params;
        let Some(sem) = &self.semantic else {
            return Some((lexical, None));
        };
        let qv = sem.embed(text);
        let (mut knn, mut cent, arg) = sem.similarities(&qv);
        if let Some(d) = detail {
            d.enc_nearest = arg;
            d.enc_sim = knn.clone();
        }
        softmax_t(&mut knn, p.enc_temp);
        softmax_t(&mut cent, p.enc_temp);
        let lr = sem.lr_probs(&qv);
        let lr_share = if lr.is_some() {
            p.enc_lr_share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let share = p.enc_knn_share.clamp(0.0, 1.0);
        let enc = (0..lexical.len())
            .map(|i| {
                let sim = share * knn[i] + (1.0 - share) * cent[i];
                (1.0 - lr_share) * sim + lr_share * lr.as_ref().map_or(0.0, |l| l[i])
            })
            .collect();
        Some((lexical, Some(enc)))
    }

    /// The lexical scorers' combined score for every FAQ (kNN, centroid,
    /// regression), each in 0..=1: the whole score of an index without an encoder.
    fn lexical_scores(&self, q: &SparseVec, mut detail: Option<&mut Detail>) -> Vec<f32> {
        let c = self.ids.len();
        let p = &self.params;
        let mut total = vec![0f32; c];
        if let Some(d) = detail.as_deref_mut() {
            d.knn = vec![0.0; c];
            d.centroid = vec![0.0; c];
            d.lr = vec![0.0; c];
            d.enc = vec![0.0; c];
        }
        if p.w_knn > 0.0 {
            let mut sims = vec![0f32; self.ex_class.len()];
            for &(f, x) in q {
                for &(e, v) in &self.postings[f as usize] {
                    sims[e as usize] += x * v;
                }
            }
            if let Some(d) = detail.as_deref_mut() {
                d.nearest = vec![None; c];
                for (e, &s) in sims.iter().enumerate() {
                    let slot = &mut d.nearest[self.ex_class[e] as usize];
                    if s > 0.0 && slot.is_none_or(|(_, best)| s > best) {
                        *slot = Some((e, s));
                    }
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
            for (i, (t, b)) in total.iter_mut().zip(&best).enumerate() {
                let s = p.w_knn * b[..k].iter().sum::<f32>() / k as f32;
                *t += s;
                if let Some(d) = detail.as_deref_mut() {
                    d.knn[i] = s;
                }
            }
        }
        if p.w_centroid > 0.0 {
            for &(f, x) in q {
                for &(cl, v) in &self.centroid_postings[f as usize] {
                    total[cl as usize] += p.w_centroid * x * v;
                    if let Some(d) = detail.as_deref_mut() {
                        d.centroid[cl as usize] += p.w_centroid * x * v;
                    }
                }
            }
        }
        if p.w_lr > 0.0 && !self.lr_w.is_empty() {
            let mut z = self.lr_b.clone();
            for &(f, x) in q {
                let row = &self.lr_w[f as usize * c..(f as usize + 1) * c];
                for (zc, wc) in z.iter_mut().zip(row) {
                    *zc += x * wc;
                }
            }
            softmax_in_place(&mut z);
            for (i, (t, pz)) in total.iter_mut().zip(&z).enumerate() {
                *t += p.w_lr * pz;
                if let Some(d) = detail.as_deref_mut() {
                    d.lr[i] = p.w_lr * pz;
                }
            }
        }
        total
    }

    /// The ranking, decision and the evidence behind them, for `eval --explain`
    /// and the handoff packet.
    pub fn explain(&self, text: &str) -> Explanation {
        let mut d = Detail::default();
        let Some(scores) = self.scores_detail(text, Some(&mut d)) else {
            return Explanation {
                ranked: Vec::new(),
                decision: FaqDecision::NoMatch,
                components: Vec::new(),
                nearest_example: None,
                nearest_similarity: 0.0,
                encoder_nearest_example: None,
                answer_min: self.answer_min,
                answer_margin: self.answer_margin,
            };
        };
        let ranked = self.ranked_from(&scores, 3);
        let decision = self.decide_ranked(ranked.clone());
        let top = ranked
            .first()
            .and_then(|r| self.ids.iter().position(|i| *i == r.faq_id));
        let nearest = top.and_then(|t| d.nearest.get(t).copied().flatten());
        // Lexical shares as they enter the mix (scaled down when the encoder has a share).
        let lex = if self.semantic.is_some() {
            1.0 - self.w_enc
        } else {
            1.0
        };
        let components = top
            .map(|t| {
                let mut v = vec![
                    ("knn".to_string(), lex * d.knn[t]),
                    ("centroid".to_string(), lex * d.centroid[t]),
                    ("lr".to_string(), lex * d.lr[t]),
                ];
                if self.semantic.is_some() {
                    v.push(("encoder".to_string(), d.enc[t]));
                    v.push(("encoder_similarity".to_string(), d.enc_sim[t]));
                }
                v
            })
            .unwrap_or_default();
        let enc_nearest = top.and_then(|t| {
            let e = d.enc_nearest.get(t).copied().flatten()?;
            Some(self.semantic.as_ref()?.example(e).to_string())
        });
        Explanation {
            ranked,
            decision,
            components,
            nearest_example: nearest.map(|(e, _)| self.ex_text[e].clone()),
            nearest_similarity: nearest.map_or(0.0, |(_, s)| s),
            encoder_nearest_example: enc_nearest,
            answer_min: self.answer_min,
            answer_margin: self.answer_margin,
        }
    }

    fn ranked_from(&self, scores: &[f32], k: usize) -> Vec<Ranked> {
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

    /// The `k` best FAQs for `text`, best first. Empty when the text has no
    /// usable content.
    pub fn rank(&self, text: &str, k: usize) -> Vec<Ranked> {
        let Some(scores) = self.scores(text) else {
            return Vec::new();
        };
        self.ranked_from(&scores, k)
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
        if top.score >= self.answer_min && top.score - second >= self.answer_margin {
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
