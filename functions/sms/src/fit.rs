//! Trimming a reply to a segment budget.

use crate::segments::{is_gsm7, segments};

/// Returns `text` unchanged if it fits in `max_segments`; otherwise a shortened version
/// that does, ending in an ellipsis and, if given, the link:
/// `cut + " … " + link`, or `cut + "…"` without a link.
///
/// Where to cut, within the longest prefix that fits:
/// 1. after the last sentence end: `.`, `!` or `?` followed by whitespace or the end of
///    the text (this covers Korean `…다. ` / `…요. `), `。！？` anywhere, or before a
///    line break; closing quotes/brackets after the mark stay with the sentence;
/// 2. else at the last whitespace (Korean separates words with spaces too);
/// 3. else between characters, never right before a combining mark, variation selector
///    or emoji modifier, nor right after a zero-width joiner.
///
/// A sentence or word boundary is only used if it keeps at least a third of what would
/// fit; otherwise the next rule applies (so one short first sentence doesn't throw
/// away a whole segment). Trailing whitespace and `,;:-` before the ellipsis go.
///
/// Details that differ from a literal reading of the format above, on purpose:
/// * If the shortened text and the link are all GSM-7, the ellipsis is written `...`:
///   `…` is not in the GSM alphabet and would switch the whole message to UCS-2,
///   cutting the room per segment from 153 to 67 characters.
/// * Without a link, a cut that ends a sentence gets a space before the ellipsis
///   (`"…요. …"`, `"...over. ..."`) rather than `"요.…"`.
/// * If not even one character fits next to the link, the link is dropped.
/// * `max_segments == 0` gives an empty string (unless `text` is empty, which fits).
pub fn fit_to_segments(text: &str, max_segments: usize, more_link: Option<&str>) -> String {
    if segments(text).segments <= max_segments {
        return text.to_owned();
    }
    if max_segments == 0 {
        return String::new();
    }
    let link = more_link.map(str::trim).filter(|l| !l.is_empty());
    if let Some(link) = link {
        if let Some(out) = fit_with(text, max_segments, Some(link)) {
            return out;
        }
    }
    fit_with(text, max_segments, None).unwrap_or_default()
}

fn decorate(cut: &str, link: Option<&str>) -> String {
    let gsm = is_gsm7(cut) && link.is_none_or(is_gsm7);
    let ellipsis = if gsm { "..." } else { "…" };
    match link {
        Some(link) => format!("{cut} {ellipsis} {link}"),
        // "over. …" reads better than "over.…" (or "over....").
        None if cut.ends_with(|c| is_terminator(c) || is_closer(c)) => format!("{cut} {ellipsis}"),
        None => format!("{cut}{ellipsis}"),
    }
}

/// Drops what should not precede an ellipsis.
fn clean_end(s: &str) -> &str {
    s.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '—' | '、' | '，' | '(')
    })
}

fn fit_with(text: &str, max: usize, link: Option<&str>) -> Option<String> {
    // ends[k - 1] = byte length of the first k characters.
    let ends: Vec<usize> = text
        .char_indices()
        .skip(1)
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let fits = |end: usize| segments(&decorate(clean_end(&text[..end]), link)).segments <= max;
    // Longer prefixes never need fewer segments, so `fits` is true then false.
    let n = ends.partition_point(|&end| fits(end));
    if n == 0 {
        return None;
    }
    let limit = ends[n - 1];
    let min = match n / 3 {
        0 => 0,
        half => ends[half - 1],
    };
    let end = sentence_end(text, limit, min)
        .or_else(|| word_end(text, limit, min))
        .unwrap_or_else(|| char_end(text, limit));
    let mut cut = clean_end(&text[..end]);
    if cut.is_empty() {
        cut = clean_end(&text[..limit]);
    }
    if cut.is_empty() {
        return None;
    }
    let out = decorate(cut, link);
    if segments(&out).segments <= max {
        Some(out)
    } else {
        // Not expected (a shorter cut never costs more), but `limit` is known to fit.
        debug_assert!(false, "boundary cut does not fit");
        Some(decorate(clean_end(&text[..limit]), link))
    }
}

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '。' | '！' | '？')
}

fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '”' | '’' | '」' | '』' | '）' | '】'
    )
}

fn skip_closers(text: &str, mut at: usize) -> usize {
    while let Some(c) = text[at..].chars().next().filter(|&c| is_closer(c)) {
        at += c.len_utf8();
    }
    at
}

/// Byte offset just after the last sentence end in `min..=limit`.
fn sentence_end(text: &str, limit: usize, min: usize) -> Option<usize> {
    let mut best = None;
    for (i, c) in text[..limit].char_indices() {
        let after = i + c.len_utf8();
        let end = match c {
            '\n' => Some(i),
            '。' | '！' | '？' => Some(skip_closers(text, after)),
            '.' | '!' | '?' => {
                let j = skip_closers(text, after);
                match text[j..].chars().next() {
                    None => Some(j),
                    Some(next) if next.is_whitespace() => Some(j),
                    Some(_) => None,
                }
            }
            _ => None,
        };
        if let Some(end) = end.filter(|&e| e > 0 && e >= min && e <= limit) {
            best = Some(end);
        }
    }
    best
}

/// Byte offset of the last whitespace in `min..=limit`.
fn word_end(text: &str, limit: usize, min: usize) -> Option<usize> {
    text.char_indices()
        .take_while(|&(i, _)| i <= limit)
        .filter(|&(i, c)| c.is_whitespace() && i > 0 && i >= min)
        .map(|(i, _)| i)
        .last()
}

/// Characters that attach to the one before them.
fn is_extender(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{200D}'
        | '\u{1160}'..='\u{11FF}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0020}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

/// `limit`, moved back so that it does not split a character from its extenders.
fn char_end(text: &str, limit: usize) -> usize {
    let mut end = limit;
    while let Some(prev) = text[..end].chars().next_back() {
        let next = text[end..].chars().next();
        if next.is_some_and(is_extender) || prev == '\u{200D}' {
            end -= prev.len_utf8();
        } else {
            break;
        }
    }
    if end == 0 {
        limit
    } else {
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Encoding, SegmentCount};

    const LINK: &str = "https://hand.off/r/abc123";

    fn check(text: &str, max: usize, link: Option<&str>) -> (String, SegmentCount) {
        let out = fit_to_segments(text, max, link);
        let count = segments(&out);
        assert!(
            count.segments <= max,
            "{out:?} needs {} segments, max {max}",
            count.segments
        );
        (out, count)
    }

    /// The part before the ellipsis (and link).
    fn body<'a>(out: &'a str, link: Option<&str>) -> &'a str {
        let s = match link {
            Some(link) => out.strip_suffix(link).expect("link at end").trim_end(),
            None => out,
        };
        s.strip_suffix("...")
            .or_else(|| s.strip_suffix('…'))
            .expect("ellipsis")
            .trim_end()
    }

    #[test]
    fn fitting_text_is_unchanged() {
        let cases = [
            String::new(),
            "Your table is ready.".to_owned(),
            "a".repeat(160),
            "가".repeat(70),
            "Open 9–6. 커피 주문은 여기서!".to_owned(),
            "a".repeat(306), // 2 segments
        ];
        for text in cases {
            let max = segments(&text).segments.max(1);
            assert_eq!(fit_to_segments(&text, max, Some(LINK)), text);
            assert_eq!(fit_to_segments(&text, max, None), text);
        }
    }

    const EN: &str = "Thanks for your message! We are open from 9am to 6pm on weekdays. \
        Our barista will reply as soon as the current rush is over. \
        In the meantime you can browse the menu, place an order for pickup, \
        or check the status of an existing order online.";

    const KO: &str = "안녕하세요. 메시지 감사합니다. 저희 매장은 평일 오전 9시부터 오후 6시까지 영업합니다. \
        지금은 주문이 많아 답변이 조금 늦어질 수 있어요. 잠시만 기다려 주시면 바리스타가 곧 연락드리겠습니다. \
        그동안 온라인에서 메뉴를 보시거나 픽업 주문을 하실 수 있습니다.";

    const MIXED: &str = "Order #1042 확인되었습니다. Your iced latte will be ready in about 10 minutes! \
        매장 도착하시면 카운터에서 이름을 말씀해 주세요. See you soon 😀 and thanks again for ordering.";

    #[test]
    fn cuts_at_sentence_boundaries() {
        // (text, max segments, link, expected text before the ellipsis, encoding)
        let cases: &[(&str, usize, Option<&str>, &str, Encoding)] = &[
            (
                EN,
                1,
                Some(LINK),
                "Thanks for your message! We are open from 9am to 6pm on weekdays. \
                 Our barista will reply as soon as the current rush is over.",
                Encoding::Gsm7,
            ),
            (
                EN,
                1,
                None,
                "Thanks for your message! We are open from 9am to 6pm on weekdays. \
                 Our barista will reply as soon as the current rush is over.",
                Encoding::Gsm7,
            ),
            (
                KO,
                1,
                Some(LINK),
                "안녕하세요. 메시지 감사합니다.",
                Encoding::Ucs2,
            ),
            (
                KO,
                2,
                Some(LINK),
                "안녕하세요. 메시지 감사합니다. 저희 매장은 평일 오전 9시부터 오후 6시까지 영업합니다. \
                 지금은 주문이 많아 답변이 조금 늦어질 수 있어요.",
                Encoding::Ucs2,
            ),
            (
                KO,
                1,
                None,
                "안녕하세요. 메시지 감사합니다. 저희 매장은 평일 오전 9시부터 오후 6시까지 영업합니다.",
                Encoding::Ucs2,
            ),
            (
                MIXED,
                1,
                Some(LINK),
                "Order #1042 확인되었습니다.",
                Encoding::Ucs2,
            ),
            // The first sentence is under a third of the room: cut at a word instead.
            (
                MIXED,
                1,
                None,
                "Order #1042 확인되었습니다. Your iced latte will be ready in about 10",
                Encoding::Ucs2,
            ),
            (
                MIXED,
                2,
                Some(LINK),
                "Order #1042 확인되었습니다. Your iced latte will be ready in about 10 minutes! \
                 매장 도착하시면 카운터에서 이름을 말씀해 주세요.",
                Encoding::Ucs2,
            ),
        ];
        for (text, max, link, want, encoding) in cases {
            let (out, count) = check(text, *max, *link);
            assert_eq!(body(&out, *link), *want, "max {max}, link {link:?}");
            assert_eq!(count.encoding, *encoding, "{out:?}");
            match (link, encoding) {
                (Some(link), Encoding::Gsm7) => assert!(out.ends_with(&format!(" ... {link}"))),
                (Some(link), Encoding::Ucs2) => assert!(out.ends_with(&format!(" … {link}"))),
                (None, Encoding::Gsm7) => assert!(out.ends_with("...")),
                (None, Encoding::Ucs2) => assert!(out.ends_with('…')),
            }
        }
    }

    #[test]
    fn falls_back_to_words_then_characters() {
        // No sentence end in reach: cut at a space, never inside a word.
        let words = "word ".repeat(100);
        let (out, _) = check(&words, 1, None);
        assert_eq!(out, format!("{}...", "word ".repeat(31).trim_end()));

        // A tiny first sentence is not worth losing most of the segment for.
        let text = format!("Hi. {}", "lorem ipsum ".repeat(30));
        let (out, _) = check(&text, 1, None);
        assert!(body(&out, None).len() > 100, "{out:?}");
        assert!(body(&out, None).ends_with("ipsum") || body(&out, None).ends_with("lorem"));

        // No spaces at all (Korean without spacing): cut between characters.
        let solid = "가".repeat(200);
        let (out, count) = check(&solid, 1, None);
        assert_eq!(out, format!("{}…", "가".repeat(69)));
        assert_eq!(count.units, 70);
        let (out, _) = check(&solid, 2, Some(LINK));
        assert_eq!(
            out,
            format!("{} … {LINK}", "가".repeat(134 - 3 - LINK.len()))
        );

        // Decimal points and URLs are not sentence ends.
        let text = format!(
            "Version 3.14 of example.com/menu is out and {}",
            "more ".repeat(40)
        );
        let (out, _) = check(&text, 1, None);
        assert!(
            out.starts_with("Version 3.14 of example.com/menu is out and more"),
            "{out:?}"
        );
    }

    #[test]
    fn never_splits_clusters_or_surrogates() {
        // Woman-technologist (ZWJ sequence) and thumbs-up with skin tone.
        for unit in ["👩\u{200D}💻", "👍\u{1F3FD}", "e\u{0301}", "😀"] {
            let text = unit.repeat(300);
            for max in 1..=3 {
                let (out, _) = check(&text, max, None);
                let kept = out.strip_suffix('…').expect("ellipsis");
                assert!(!kept.is_empty());
                assert_eq!(kept.len() % unit.len(), 0, "{unit:?} split in {kept:?}");
                assert!(text.starts_with(kept));
            }
        }
    }

    #[test]
    fn link_and_budget_edge_cases() {
        // A link too long to share a segment with any text is dropped.
        let long_link = format!("https://hand.off/{}", "x".repeat(200));
        let (out, _) = check(EN, 1, Some(&long_link));
        assert!(!out.contains("https://"), "{out:?}");
        assert!(out.ends_with("..."));

        // Blank link = no link.
        assert_eq!(
            fit_to_segments(EN, 1, Some("  ")),
            fit_to_segments(EN, 1, None)
        );

        // Nothing fits in zero segments.
        assert_eq!(fit_to_segments(EN, 0, Some(LINK)), "");
        assert_eq!(fit_to_segments("", 0, None), "");

        // A non-GSM link makes the message UCS-2 and the ellipsis `…`.
        let ko_link = "https://hand.off/메뉴";
        let (out, count) = check(EN, 1, Some(ko_link));
        assert_eq!(count.encoding, Encoding::Ucs2);
        assert!(out.ends_with(&format!(" … {ko_link}")));
    }

    #[test]
    fn always_fits_and_keeps_a_prefix() {
        for text in [EN, KO, MIXED] {
            let long = format!("{text} {text} {text}");
            for max in 1..=3 {
                for link in [None, Some(LINK)] {
                    let (out, _) = check(&long, max, link);
                    assert_ne!(out, long, "needs more than {max} segments");
                    let kept = body(&out, link);
                    assert!(!kept.is_empty());
                    assert!(long.starts_with(kept), "{kept:?}");
                    // More budget never keeps less.
                    let (bigger, _) = check(&long, max + 1, link);
                    assert!(body(&bigger, link).len() >= kept.len());
                }
            }
        }
    }
}
