//! The meaning side of the ranking: a multilingual sentence encoder
//! (`handoff-encoder`) embeds every example question once per index build,
//! and a message is scored by its nearest example and by the FAQ's centroid.
//! Scores become a distribution over FAQs (a softmax of the similarities) so
//! that they mix with the lexical scores on the same 0..1 scale.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use handoff_encoder::{Encoder, DIM};

/// Catalog texts already embedded, shared by an index and the sub-indexes of
/// its calibration so nothing is embedded twice.
pub(crate) type EmbedCache = Arc<HashMap<String, Vec<f32>>>;

/// Encoder state of one index.
pub(crate) struct Semantic {
    encoder: Arc<Encoder>,
    cache: EmbedCache,
    /// example embeddings, row-major (n × DIM), unit length
    ex: Vec<f32>,
    ex_class: Vec<u32>,
    ex_text: Vec<String>,
    /// FAQ centroid embeddings (C × DIM), unit length
    centroids: Vec<f32>,
    n_classes: usize,
    /// softmax regression over embeddings: weights (C × DIM) and biases
    lr_w: Vec<f32>,
    lr_b: Vec<f32>,
    /// the built-in bank of must-reach-a-person messages, embedded
    bank: Arc<Vec<f32>>,
    bank_label: Vec<BankLabel>,
    /// similarity to the bank a message needs to count as one of them: above
    /// every catalog example's own similarity to the bank (so no FAQ question
    /// of this catalog would be taken for one), and never below `BANK_MIN`
    bank_threshold: f32,
    /// the last message embedded
    last: std::sync::Mutex<Option<(String, Vec<f32>)>>,
}

/// What a bank example stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BankLabel {
    Person,
    Situation(crate::signals::Situation),
}

/// Lowest similarity to a bank example that may hand a message off by meaning.
const BANK_MIN: f32 = 0.72;
/// How far above the catalog's own examples the bank threshold sits.
const BANK_GAP: f32 = 0.05;

impl std::fmt::Debug for Semantic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semantic")
            .field("examples", &self.ex_class.len())
            .finish_non_exhaustive()
    }
}

fn unit(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Dot product in eight independent lanes: a single running sum is a chain
/// the compiler may not reorder, so it would stay scalar; lanes vectorize.
/// Catalog preparation (the regressions of the calibration) and every
/// message's similarity to each example are dot products of 512 floats.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Embeds the texts not yet in `cache` (in batches) and returns the grown cache.
pub(crate) fn extend_cache(encoder: &Encoder, cache: &EmbedCache, texts: &[&str]) -> EmbedCache {
    let missing: Vec<&str> = {
        let mut seen = std::collections::HashSet::new();
        texts
            .iter()
            .copied()
            .filter(|t| !cache.contains_key(*t) && seen.insert(*t))
            .collect()
    };
    if missing.is_empty() {
        return cache.clone();
    }
    let mut map: HashMap<String, Vec<f32>> = (**cache).clone();
    for (t, e) in missing.iter().zip(encoder.embed_batch(&missing)) {
        let mut v = e.as_slice().to_vec();
        unit(&mut v);
        map.insert((*t).to_string(), v);
    }
    Arc::new(map)
}

/// The bank's embeddings (unit, in the order of [`crate::signals::person_examples`]
/// then [`crate::signals::situation_examples`]), computed once per encoder and
/// process: the bank is the same for every catalog, and embedding its hundreds of
/// sentences again for each index (the calibration builds ten) was most of a
/// cold start.
fn bank_vectors(encoder: &Arc<Encoder>) -> Arc<Vec<f32>> {
    type Held = Option<(std::sync::Weak<Encoder>, Arc<Vec<f32>>)>;
    static BANK: std::sync::Mutex<Held> = std::sync::Mutex::new(None);
    let mut held = BANK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((who, vectors)) = held.as_ref() {
        if who.upgrade().is_some_and(|e| Arc::ptr_eq(&e, encoder)) {
            return vectors.clone();
        }
    }
    let texts: Vec<&str> = crate::signals::person_examples()
        .iter()
        .copied()
        .chain(crate::signals::situation_examples().iter().map(|(_, t)| *t))
        .collect();
    let mut bank = Vec::with_capacity(texts.len() * DIM);
    for e in encoder.embed_batch(&texts) {
        let mut v = e.as_slice().to_vec();
        unit(&mut v);
        bank.extend_from_slice(&v);
    }
    let bank = Arc::new(bank);
    *held = Some((Arc::downgrade(encoder), bank.clone()));
    bank
}

impl Semantic {
    /// `examples` and `answers` are (class, text), embedded in `cache` or
    /// here. Answers are documents of their FAQ for the centroid (their mean
    /// weighted by `answer_weight`) and the regression, never nearest
    /// examples: they carry the words customers use that the owner's few
    /// example questions miss.
    pub(crate) fn new(
        encoder: Arc<Encoder>,
        cache: EmbedCache,
        examples: &[(u32, &str)],
        answers: &[(u32, &str)],
        answer_weight: f32,
        n_classes: usize,
        lr_epochs: usize,
    ) -> Semantic {
        let embed = |t: &str| match cache.get(t) {
            Some(v) => v.clone(),
            None => {
                let mut v = encoder.embed(t).as_slice().to_vec();
                unit(&mut v);
                v
            }
        };
        let mut ex = Vec::with_capacity(examples.len() * DIM);
        let mut ex_class = Vec::with_capacity(examples.len());
        let mut ex_text = Vec::with_capacity(examples.len());
        let mut centroids = vec![0f32; n_classes * DIM];
        for &(c, t) in examples {
            let v = embed(t);
            for (acc, x) in centroids[c as usize * DIM..(c as usize + 1) * DIM]
                .iter_mut()
                .zip(&v)
            {
                *acc += x;
            }
            ex.extend_from_slice(&v);
            ex_class.push(c);
            ex_text.push(t.to_string());
        }
        // Each centroid: mean of the examples + answer_weight × mean of the answers.
        let mut n_ex = vec![0usize; n_classes];
        ex_class.iter().for_each(|&c| n_ex[c as usize] += 1);
        let answers: Vec<(u32, Vec<f32>)> = if answer_weight > 0.0 {
            answers.iter().map(|&(c, t)| (c, embed(t))).collect()
        } else {
            Vec::new()
        };
        let mut n_ans = vec![0usize; n_classes];
        answers.iter().for_each(|(c, _)| n_ans[*c as usize] += 1);
        let mut ans_sum = vec![0f32; n_classes * DIM];
        for (c, v) in &answers {
            let row = &mut ans_sum[*c as usize * DIM..(*c as usize + 1) * DIM];
            row.iter_mut().zip(v).for_each(|(a, x)| *a += x);
        }
        for c in 0..n_classes {
            let row = &mut centroids[c * DIM..(c + 1) * DIM];
            let (ke, ka) = (n_ex[c].max(1) as f32, n_ans[c].max(1) as f32);
            for (a, s) in row.iter_mut().zip(&ans_sum[c * DIM..(c + 1) * DIM]) {
                *a = *a / ke + answer_weight * s / ka;
            }
            unit(row);
        }
        let (lr_w, lr_b) = if lr_epochs > 0 {
            let mut docs = ex.clone();
            let mut doc_class = ex_class.clone();
            for (c, v) in &answers {
                docs.extend_from_slice(v);
                doc_class.push(*c);
            }
            train_lr(&docs, &doc_class, n_classes, lr_epochs)
        } else {
            (Vec::new(), Vec::new())
        };
        let bank_texts: Vec<(BankLabel, &str)> = crate::signals::person_examples()
            .iter()
            .map(|t| (BankLabel::Person, *t))
            .chain(
                crate::signals::situation_examples()
                    .iter()
                    .map(|(k, t)| (BankLabel::Situation(*k), *t)),
            )
            .collect();
        let bank = bank_vectors(&encoder);
        let bank_label = bank_texts.iter().map(|(l, _)| *l).collect();
        let mut bank_threshold = BANK_MIN;
        for row in ex.chunks_exact(DIM) {
            for b in bank.chunks_exact(DIM) {
                bank_threshold = bank_threshold.max(dot(row, b) + BANK_GAP);
            }
        }
        Semantic {
            last: std::sync::Mutex::new(None),
            bank,
            bank_label,
            bank_threshold,
            lr_w,
            lr_b,
            encoder,
            cache,
            ex,
            ex_class,
            ex_text,
            centroids,
            n_classes,
        }
    }

    pub(crate) fn example(&self, e: usize) -> &str {
        &self.ex_text[e]
    }

    pub(crate) fn cache(&self) -> &EmbedCache {
        &self.cache
    }

    pub(crate) fn encoder(&self) -> &Arc<Encoder> {
        &self.encoder
    }

    /// The unit embedding of `text` (from the cache when it is a catalog text,
    /// or the message just embedded: triage asks twice, for the signal bank
    /// and for the ranking).
    pub(crate) fn embed(&self, text: &str) -> Vec<f32> {
        if let Some(v) = self.cache.get(text) {
            return v.clone();
        }
        if let Ok(last) = self.last.lock() {
            if let Some((t, v)) = last.as_ref() {
                if t == text {
                    return v.clone();
                }
            }
        }
        let mut v = self.encoder.embed(text).as_slice().to_vec();
        unit(&mut v);
        if let Ok(mut last) = self.last.lock() {
            *last = Some((text.to_string(), v.clone()));
        }
        v
    }

    /// Per FAQ: the best example similarity and the centroid similarity, and
    /// the nearest example per FAQ (index into the examples given to `new`).
    pub(crate) fn similarities(&self, q: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<Option<usize>>) {
        let mut best = vec![-1f32; self.n_classes];
        let mut arg = vec![None; self.n_classes];
        for (e, row) in self.ex.chunks_exact(DIM).enumerate() {
            let s = dot(q, row);
            let c = self.ex_class[e] as usize;
            if s > best[c] {
                best[c] = s;
                arg[c] = Some(e);
            }
        }
        let cent = self
            .centroids
            .chunks_exact(DIM)
            .map(|row| dot(q, row))
            .collect();
        (best, cent, arg)
    }
}

impl Semantic {
    /// The bank example `q` is closest to, when it is close enough and closer
    /// than any catalog example: (label, similarity, bank text).
    pub(crate) fn bank_match(&self, q: &[f32]) -> Option<(BankLabel, f32, usize)> {
        let (mut best, mut arg) = (f32::NEG_INFINITY, 0usize);
        for (i, b) in self.bank.chunks_exact(DIM).enumerate() {
            let s = dot(q, b);
            if s > best {
                best = s;
                arg = i;
            }
        }
        if best < self.bank_threshold {
            return None;
        }
        let nearest_faq = self
            .ex
            .chunks_exact(DIM)
            .map(|row| dot(q, row))
            .fold(f32::NEG_INFINITY, f32::max);
        (best > nearest_faq).then(|| (self.bank_label[arg], best, arg))
    }

    pub(crate) fn bank_threshold(&self) -> f32 {
        self.bank_threshold
    }

    /// FAQ probabilities from the regression over embeddings (None when not trained).
    pub(crate) fn lr_probs(&self, q: &[f32]) -> Option<Vec<f32>> {
        if self.lr_w.is_empty() {
            return None;
        }
        let mut z: Vec<f32> = self
            .lr_w
            .chunks_exact(DIM)
            .zip(&self.lr_b)
            .map(|(row, b)| dot(q, row) + b)
            .collect();
        softmax_t(&mut z, 1.0);
        Some(z)
    }
}

/// Most (example, FAQ) pairs the regression over embeddings visits in training.
const LR_PAIR_BUDGET: usize = 20_000_000;

/// Softmax regression on unit embeddings by plain SGD, deterministic (fixed
/// order shuffle). Large catalogs get fewer passes to bound the build time.
fn train_lr(ex: &[f32], class: &[u32], c: usize, epochs: usize) -> (Vec<f32>, Vec<f32>) {
    let n = class.len();
    let mut w = vec![0f32; c * DIM];
    let mut b = vec![0f32; c];
    if n == 0 || c == 0 {
        return (w, b);
    }
    let epochs = if n > 1000 {
        (epochs * 1000 / n).max(3)
    } else {
        epochs
    };
    // Each update touches every FAQ's weights: a catalog of a thousand FAQs
    // would spend most of its preparation here, so bound the pairs of
    // (example, FAQ) visited; catalogs of up to ~150 FAQs are not affected.
    let epochs = epochs.min((LR_PAIR_BUDGET / (n * c)).max(1));
    let mut order: Vec<usize> = (0..n).collect();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut z = vec![0f32; c];
    for epoch in 0..epochs {
        for i in (1..n).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        let eta = 2.0 / (1.0 + epoch as f32 * 0.5);
        for &i in &order {
            let x = &ex[i * DIM..(i + 1) * DIM];
            for (k, zk) in z.iter_mut().enumerate() {
                *zk = dot(x, &w[k * DIM..(k + 1) * DIM]) + b[k];
            }
            softmax_t(&mut z, 1.0);
            z[class[i] as usize] -= 1.0;
            for (k, &g) in z.iter().enumerate() {
                if g.abs() < 1e-4 {
                    continue;
                }
                let s = eta * g;
                for (wk, xv) in w[k * DIM..(k + 1) * DIM].iter_mut().zip(x) {
                    *wk -= s * xv;
                }
                b[k] -= 0.1 * s;
            }
        }
    }
    (w, b)
}

/// Softmax of `sims / temperature`, in place.
pub(crate) fn softmax_t(sims: &mut [f32], temperature: f32) {
    let t = temperature.max(1e-3);
    let m = sims.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in sims.iter_mut() {
        *v = ((*v - m) / t).exp();
        sum += *v;
    }
    if sum > 0.0 {
        sims.iter_mut().for_each(|v| *v /= sum);
    }
}

/// The encoder in the model directory (`$HANDOFF_MODEL_DIR`, else
/// `.handoff/models/usem3` here or above), opened once per process; None when
/// the model files are not there (the index then ranks by words alone).
pub fn shared_encoder() -> Option<Arc<Encoder>> {
    static ENCODER: OnceLock<Option<Arc<Encoder>>> = OnceLock::new();
    ENCODER
        .get_or_init(|| Encoder::from_env().ok().map(Arc::new))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::dot;

    #[test]
    fn lane_dot_equals_the_plain_sum_for_any_length() {
        for n in [0usize, 1, 7, 8, 9, 512, 515] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x * y)).sum();
            assert!((f64::from(dot(&a, &b)) - plain).abs() < 1e-4, "n={n}");
        }
    }
}
