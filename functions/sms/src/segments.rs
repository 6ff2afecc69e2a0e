//! SMS segment counting (GSM 03.38 / 3GPP TS 23.038 default alphabet, else UCS-2).

/// Septets in a single GSM-7 message.
pub const GSM7_SINGLE_SEGMENT: usize = 160;
/// Septets per part of a concatenated GSM-7 message (7 go to the UDH).
pub const GSM7_MULTI_SEGMENT: usize = 153;
/// UTF-16 code units in a single UCS-2 message.
pub const UCS2_SINGLE_SEGMENT: usize = 70;
/// UTF-16 code units per part of a concatenated UCS-2 message.
pub const UCS2_MULTI_SEGMENT: usize = 67;

/// How a message body is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GSM 03.38 default alphabet, 7 bits per character (extension characters take 2).
    Gsm7,
    /// UCS-2 / UTF-16: used as soon as one character is outside the GSM alphabet.
    Ucs2,
}

/// The result of [`segments`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentCount {
    pub encoding: Encoding,
    /// Septets for [`Encoding::Gsm7`], UTF-16 code units for [`Encoding::Ucs2`].
    pub units: usize,
    /// Number of SMS parts the carrier bills.
    pub segments: usize,
}

/// Septets `c` takes in the GSM 03.38 default alphabet: 1 for the basic table, 2 for
/// the extension table (escape + character), `None` if it is not representable.
pub fn gsm7_units(c: char) -> Option<usize> {
    match c {
        // Basic table, in code-point order of the GSM table (0x00–0x7F, minus ESC).
        '@'
        | '£'
        | '$'
        | '¥'
        | 'è'
        | 'é'
        | 'ù'
        | 'ì'
        | 'ò'
        | 'Ç'
        | '\n'
        | 'Ø'
        | 'ø'
        | '\r'
        | 'Å'
        | 'å'
        | 'Δ'
        | '_'
        | 'Φ'
        | 'Γ'
        | 'Λ'
        | 'Ω'
        | 'Π'
        | 'Ψ'
        | 'Σ'
        | 'Θ'
        | 'Ξ'
        | 'Æ'
        | 'æ'
        | 'ß'
        | 'É'
        | ' '
        | '!'
        | '"'
        | '#'
        | '¤'
        | '%'
        | '&'
        | '\''
        | '('
        | ')'
        | '*'
        | '+'
        | ','
        | '-'
        | '.'
        | '/'
        | '0'..='9'
        | ':'
        | ';'
        | '<'
        | '='
        | '>'
        | '?'
        | '¡'
        | 'A'..='Z'
        | 'Ä'
        | 'Ö'
        | 'Ñ'
        | 'Ü'
        | '§'
        | '¿'
        | 'a'..='z'
        | 'ä'
        | 'ö'
        | 'ñ'
        | 'ü'
        | 'à' => Some(1),
        // Extension table.
        '\u{0C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' => Some(2),
        _ => None,
    }
}

/// Whether every character of `text` is in the GSM 03.38 alphabet (basic or extension).
pub(crate) fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| gsm7_units(c).is_some())
}

/// Counts the encoding, units and SMS segments of `text`.
///
/// * All characters in the GSM alphabet: GSM-7, 160 septets in one segment, 153 per
///   segment when concatenated; a 2-septet extension character is never split across
///   two segments.
/// * Otherwise UCS-2: UTF-16 code units (an emoji outside the BMP takes 2), 70 in one
///   segment, 67 per segment when concatenated; a surrogate pair is never split.
/// * Empty text is `Gsm7`, 0 units, **0 segments**: there is nothing to send, and
///   callers should not send an empty SMS.
///
/// Segments are counted per character, not per grapheme cluster: a carrier may split
/// a multi-codepoint emoji sequence between segments, and so do we.
pub fn segments(text: &str) -> SegmentCount {
    if is_gsm7(text) {
        let widths = text.chars().map(|c| gsm7_units(c).unwrap_or(1));
        count(
            Encoding::Gsm7,
            widths,
            GSM7_SINGLE_SEGMENT,
            GSM7_MULTI_SEGMENT,
        )
    } else {
        let widths = text.chars().map(char::len_utf16);
        count(
            Encoding::Ucs2,
            widths,
            UCS2_SINGLE_SEGMENT,
            UCS2_MULTI_SEGMENT,
        )
    }
}

fn count(
    encoding: Encoding,
    widths: impl Iterator<Item = usize> + Clone,
    single: usize,
    multi: usize,
) -> SegmentCount {
    let units: usize = widths.clone().sum();
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        // Greedy packing: a character that does not fit whole starts the next part.
        let (mut parts, mut used) = (1, 0);
        for w in widths {
            if used + w > multi {
                parts += 1;
                used = 0;
            }
            used += w;
        }
        parts
    };
    SegmentCount {
        encoding,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Encoding::{Gsm7, Ucs2};

    fn sc(encoding: Encoding, units: usize, segments: usize) -> SegmentCount {
        SegmentCount {
            encoding,
            units,
            segments,
        }
    }

    #[test]
    fn gsm_table_membership() {
        let basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
        // 128 positions minus ESC.
        assert_eq!(basic.chars().count(), 127);
        for c in basic.chars() {
            assert_eq!(gsm7_units(c), Some(1), "{c:?}");
        }
        for c in "^{}\\[~]|€\u{0C}".chars() {
            assert_eq!(gsm7_units(c), Some(2), "{c:?}");
        }
        // Look-alikes and common characters that are NOT in the alphabet.
        for c in "ç`\tÀâêÊ…’“”•–—\u{2126}\u{00B5}한😀".chars() {
            assert_eq!(gsm7_units(c), None, "{c:?}");
        }
        // Decomposed é (e + combining acute) is not GSM.
        assert_eq!(gsm7_units('\u{0301}'), None);
    }

    #[test]
    fn counts() {
        let a = |n: usize| "a".repeat(n);
        let brace = |n: usize| "{".repeat(n);
        let ko = |n: usize| "가".repeat(n);
        let emoji = |n: usize| "😀".repeat(n);
        let cases: Vec<(String, SegmentCount)> = vec![
            (String::new(), sc(Gsm7, 0, 0)),
            ("a".into(), sc(Gsm7, 1, 1)),
            ("Hello\r\n".into(), sc(Gsm7, 7, 1)),
            (a(160), sc(Gsm7, 160, 1)),
            (a(161), sc(Gsm7, 161, 2)),
            (a(306), sc(Gsm7, 306, 2)),
            (a(307), sc(Gsm7, 307, 3)),
            ("€".into(), sc(Gsm7, 2, 1)),
            (brace(80), sc(Gsm7, 160, 1)),
            (brace(81), sc(Gsm7, 162, 2)),
            // 152 septets then an extension char: it would straddle 153, so it moves.
            (format!("{}{{{}", a(152), a(7)), sc(Gsm7, 161, 2)),
            (format!("{}{{{}", a(152), a(152)), sc(Gsm7, 306, 3)),
            (format!("{}{{{}", a(151), a(152)), sc(Gsm7, 305, 2)),
            ("가".into(), sc(Ucs2, 1, 1)),
            (ko(70), sc(Ucs2, 70, 1)),
            (ko(71), sc(Ucs2, 71, 2)),
            (ko(134), sc(Ucs2, 134, 2)),
            (ko(135), sc(Ucs2, 135, 3)),
            // One non-GSM character switches the whole message.
            (format!("{}ç", a(69)), sc(Ucs2, 70, 1)),
            (format!("{}ç", a(70)), sc(Ucs2, 71, 2)),
            // Extension chars are 1 UTF-16 unit in UCS-2.
            (format!("{}한", brace(69)), sc(Ucs2, 70, 1)),
            ("😀".into(), sc(Ucs2, 2, 1)),
            (emoji(35), sc(Ucs2, 70, 1)),
            (emoji(36), sc(Ucs2, 72, 2)),
            // 66 units then a surrogate pair: the pair moves to part 2.
            (format!("{}😀{}", ko(66), ko(1)), sc(Ucs2, 69, 1)),
            (format!("{}😀{}", ko(66), ko(3)), sc(Ucs2, 71, 2)),
            (format!("{}😀{}", ko(66), ko(66)), sc(Ucs2, 134, 3)),
            (format!("{}😀{}", ko(65), ko(66)), sc(Ucs2, 133, 2)),
        ];
        for (text, want) in cases {
            assert_eq!(
                segments(&text),
                want,
                "text of {} chars",
                text.chars().count()
            );
        }
    }
}
