//! Undoing the ways people disguise words (or type them oddly): zero-width and
//! other invisible characters, fullwidth and "fancy" letters (NFKC), keycap
//! digits ("0️⃣"), Cyrillic or Greek look-alikes inside Latin words (UTS #39
//! confusable skeletons, from `unicode-security`), and letters spaced or dotted
//! apart ("a g e n t", "h.u.m.a.n", "상 담 원").

use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// Invisible characters dropped before anything else: zero-width spaces and
/// joiners, direction marks, the soft hyphen, variation selectors and the
/// keycap combiner (so "0️⃣" is "0").
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x20E3 | 0x3164
        | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xE0000..=0xE0FFF)
}

fn is_greek_or_cyrillic(c: char) -> bool {
    matches!(c as u32, 0x0370..=0x03FF | 0x0400..=0x04FF | 0x1F00..=0x1FFF)
}

/// The ASCII letter a Greek or Cyrillic character is confusable with, if any.
fn latin_lookalike(c: char) -> Option<char> {
    let mut buf = [0u8; 4];
    let mut it = skeleton(c.encode_utf8(&mut buf));
    let first = it.next()?;
    if it.next().is_some() || !first.is_ascii_alphabetic() {
        return None;
    }
    Some(first.to_ascii_lowercase())
}

/// Replaces look-alikes in words that mix Latin letters with Greek or Cyrillic
/// ones ("аgеnt" with Cyrillic а and е). Words wholly in Greek or Cyrillic are
/// left as they are: they are real Greek or Russian.
fn fold_mixed_script_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let latin = word.chars().any(|c| c.is_ascii_alphabetic());
        let other = word.chars().any(is_greek_or_cyrillic);
        if latin && other {
            for c in word.chars() {
                match is_greek_or_cyrillic(c)
                    .then(|| latin_lookalike(c))
                    .flatten()
                {
                    Some(l) => out.push(l),
                    None => out.push(c),
                }
            }
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Joins single letters written apart: "a g e n t" → "agent", "h.u.m.a.n" →
/// "human", "상 담 원" → "상담원". A run needs at least three single letters,
/// so "I a m" style typing stays as it is unless it really spells a word out.
fn join_spelled_out(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // Try a run starting at i: letter (sep+ letter)+ where each letter stands alone.
        let alone_before = i == 0 || !chars[i - 1].is_alphanumeric();
        if chars[i].is_alphabetic() && alone_before {
            let mut letters = vec![chars[i]];
            let mut j = i + 1;
            loop {
                let mut k = j;
                while k < chars.len()
                    && matches!(chars[k], ' ' | '.' | '-' | '_' | '*' | '|' | '·' | '/')
                    && k - j < 2
                {
                    k += 1;
                }
                if k == j || k >= chars.len() || !chars[k].is_alphabetic() {
                    break;
                }
                let alone_after = k + 1 >= chars.len() || !chars[k + 1].is_alphanumeric();
                if !alone_after {
                    break;
                }
                letters.push(chars[k]);
                j = k + 1;
            }
            if letters.len() >= 3 {
                out.extend(letters);
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Lowercase NFKC text with disguises undone. Meaningful text is unchanged
/// apart from case and compatibility forms.
pub fn deobfuscate(text: &str) -> String {
    let visible: String = text.chars().filter(|&c| !is_invisible(c)).collect();
    let nfkc: String = visible.nfkc().flat_map(char::to_lowercase).collect();
    join_spelled_out(&fold_mixed_script_words(&nfkc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disguises_are_undone() {
        let cases = [
            ("a\u{200b}g\u{200d}ent", "agent"),
            ("ＡＧＥＮＴ", "agent"),
            ("０", "0"),
            ("0\u{fe0f}\u{20e3}", "0"),
            ("\u{0430}g\u{0435}nt please", "agent please"), // Cyrillic а, е
            ("hum\u{03b1}n", "human"),                      // Greek alpha
            ("a g e n t", "agent"),
            ("h.u.m.a.n please", "human please"),
            ("상 담 원 연결", "상담원 연결"),
            ("𝐚𝐠𝐞𝐧𝐭", "agent"),
        ];
        for (input, want) in cases {
            assert_eq!(deobfuscate(input), want, "{input:?}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for t in [
            "i am a customer",
            "배송비 얼마예요?",
            "позовите оператора",
            "a b testing",
            "Plan A or B?",
        ] {
            assert_eq!(deobfuscate(t), t.to_lowercase(), "{t:?}");
        }
    }
}
