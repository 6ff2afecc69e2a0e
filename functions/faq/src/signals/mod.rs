//! Signals that a message must go to a person, whatever the business: an
//! explicit request for one ([`wants_human`], in many languages and through
//! disguises), or a situation from the built-in bank ([`situation`], [`urgency`]):
//! safety, hazards, lockouts, fraud, unknown or double charges, legal threats,
//! strong anger, complaints about a past visit, property lost or damaged.
//!
//! Text is first undone of disguises ([`crate::normalize::deobfuscate`]). Korean,
//! Japanese, Chinese and Thai patterns match the text with everything but
//! letters and digits removed (people write without spaces and glue particles
//! on: 상담원이랑, 사람좀); Latin-script patterns match whole words.

mod person;
mod situations;

use serde::{Deserialize, Serialize};

use crate::normalize::deobfuscate;

pub use situations::Situation;

/// Why a handoff should be high priority (the coarse grouping the conversation
/// model stores; [`Situation`] is the finer one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Anger or exasperation, complaints about a past visit, property lost or damaged.
    Frustration,
    /// Legal, regulator, review or chargeback threats; fraud and phishing.
    Threat,
    /// Charged more than once, or charged for something never bought.
    DoubleCharge,
    /// Injury, illness, allergy, fire, smoke, gas, leaks, no heating or power, lockouts.
    SafetyOrHealth,
}

/// What made a message go to a person, for the packet and `eval --explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    /// `person_request` or the situation's name.
    pub kind: String,
    /// The pattern that matched.
    pub evidence: String,
}

/// A message prepared for matching.
pub(crate) struct Msg {
    /// deobfuscated, lowercase NFKC
    pub norm: String,
    /// `norm` with everything but letters and digits removed
    pub compact: String,
    /// lowercase words (letters/digits; apostrophes dropped), space-separated,
    /// with a space at both ends so `" word "` finds whole words
    pub words: String,
    /// the word list
    pub list: Vec<String>,
    /// every pair of adjacent bytes in `compact` and `words`, as a 65,536-bit
    /// set: a pattern whose first two bytes are not a pair here cannot match,
    /// so most of the bank's patterns are ruled out without a scan
    pairs: Vec<u64>,
}

fn byte_pairs(texts: &[&str]) -> Vec<u64> {
    let mut set = vec![0u64; 1024];
    for t in texts {
        for w in t.as_bytes().windows(2) {
            let k = (usize::from(w[0]) << 8) | usize::from(w[1]);
            set[k >> 6] |= 1 << (k & 63);
        }
    }
    set
}

fn is_spaceless_script(c: char) -> bool {
    crate::text::is_hangul(c)
        || matches!(c as u32, 0x3040..=0x30FF | 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x0E00..=0x0E7F)
}

impl Msg {
    pub fn new(text: &str) -> Msg {
        let norm = deobfuscate(text);
        let compact: String = norm.chars().filter(|c| c.is_alphanumeric()).collect();
        let mut list = Vec::new();
        let mut cur = String::new();
        for c in norm.chars() {
            if c.is_alphanumeric() {
                cur.push(c);
            } else if (c == '\'' || c == '\u{2019}') && !cur.is_empty() {
                // don't -> dont
            } else if !cur.is_empty() {
                list.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            list.push(cur);
        }
        let words = format!(" {} ", list.join(" "));
        let pairs = byte_pairs(&[&compact, &words]);
        Msg {
            norm,
            compact,
            words,
            list,
            pairs,
        }
    }

    /// False when `pat` surely is in neither `compact` nor `words`.
    fn may_have(&self, pat: &str) -> bool {
        match pat.as_bytes() {
            [a, b, ..] => {
                let k = (usize::from(*a) << 8) | usize::from(*b);
                self.pairs[k >> 6] & (1 << (k & 63)) != 0
            }
            _ => true,
        }
    }

    /// One pattern: text in a spaceless script (Korean, Japanese, Chinese,
    /// Thai) is a substring of `compact`; anything else is a whole word or
    /// phrase, or a word prefix when it ends with `*`.
    pub fn has(&self, pat: &str) -> bool {
        // Most patterns are ASCII words: they skip the character scan.
        if !pat.is_ascii() && pat.chars().any(is_spaceless_script) {
            // Hangul and CJK are letters: test them by range first, so the
            // general Unicode tables (slow) see only the other characters.
            let letter = |c: char| is_spaceless_script(c) || c.is_alphanumeric();
            if pat.chars().all(letter) {
                return self.may_have(pat) && contains(&self.compact, pat);
            }
            let p: String = pat.chars().filter(|&c| letter(c)).collect();
            return self.may_have(&p) && contains(&self.compact, &p);
        }
        if pat.contains(['\'', '\u{2019}']) {
            // Apostrophes are dropped from words ("quelqu'un" is the word "quelquun").
            return self.has(&pat.replace(['\'', '\u{2019}'], ""));
        }
        let (p, prefix) = match pat.strip_suffix('*') {
            Some(p) => (p, true),
            None => (pat, false),
        };
        self.may_have(p) && phrase_in(&self.words, p, prefix)
    }

    /// The first pattern of `pats` present.
    pub fn first<'a>(&self, pats: &[&'a str]) -> Option<&'a str> {
        pats.iter().copied().find(|p| self.has(p))
    }

    pub fn has_any(&self, pats: &[&str]) -> bool {
        self.first(pats).is_some()
    }
}

/// Byte offsets where `needle` starts in `hay`. Both are UTF-8, so a byte
/// match is a match at character boundaries. Messages are short and the
/// patterns many: a plain scan beats building a substring searcher per pattern.
fn find_all<'a>(hay: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let first = n.first().copied();
    (0..(h.len() + 1).saturating_sub(n.len()))
        .filter(move |&i| first.is_none_or(|f| h[i] == f) && h[i..i + n.len()] == *n)
}

fn contains(hay: &str, needle: &str) -> bool {
    find_all(hay, needle).next().is_some()
}

/// `pat` in `words` (space-separated, spaces at both ends) starting at a word
/// boundary, and ending at one unless `prefix`.
fn phrase_in(words: &str, pat: &str, prefix: bool) -> bool {
    let bytes = words.as_bytes();
    find_all(words, pat).any(|at| {
        let end = at + pat.len();
        at > 0 && bytes[at - 1] == b' ' && (prefix || bytes.get(end) == Some(&b' '))
    })
}

/// True when the message asks to talk to a person, in any language the bank
/// knows (ko, en, ja, zh, es, vi, fr, de, ru, th, id), disguised or not.
pub fn wants_human(text: &str) -> bool {
    person_request(text).is_some()
}

/// The pattern that made [`wants_human`] true.
pub fn person_request(text: &str) -> Option<String> {
    let m = Msg::new(text);
    person::request(&m)
}

/// The most serious situation in the message, with the pattern that matched.
pub fn situation(text: &str) -> Option<(Situation, String)> {
    let m = Msg::new(text);
    situations::find(&m)
}

/// The most serious reason, if any, to hand this message off with high priority.
pub fn urgency(text: &str) -> Option<Urgency> {
    situation(text).map(|(s, _)| s.urgency())
}

/// Why this message must reach a person now, if it must: a situation first
/// (it sets the priority), else a request for a person.
pub fn detect(text: &str) -> Option<(Option<Urgency>, Hit)> {
    let m = Msg::new(text);
    if let Some((s, pat)) = situations::find(&m) {
        return Some((
            Some(s.urgency()),
            Hit {
                kind: s.as_str().to_string(),
                evidence: pat,
            },
        ));
    }
    person::request(&m).map(|pat| {
        (
            None,
            Hit {
                kind: "person_request".into(),
                evidence: pat,
            },
        )
    })
}

/// Example sentences of every situation in the bank, for matching by meaning
/// (a sentence encoder compares messages with these).
pub fn situation_examples() -> &'static [(Situation, &'static str)] {
    situations::EXAMPLES
}

/// Example requests for a person, for matching by meaning.
pub fn person_examples() -> &'static [&'static str] {
    person::EXAMPLES
}

#[cfg(test)]
mod prefilter_tests {
    use super::Msg;

    #[test]
    fn the_pair_prefilter_never_rules_out_a_present_pattern() {
        for text in [
            "상담원 연결해 주세요!",
            "I want a REAL person, now",
            "ｓｔａｆｆ 0️⃣ à l'aide",
        ] {
            let m = Msg::new(text);
            for hay in [&m.compact, &m.words] {
                let chars: Vec<(usize, char)> = hay.char_indices().collect();
                for (i, &(a, _)) in chars.iter().enumerate() {
                    for &(b, c) in &chars[i..] {
                        let sub = &hay[a..b + c.len_utf8()];
                        assert!(m.may_have(sub), "{sub:?} of {hay:?}");
                    }
                }
            }
            assert!(
                m.has_any(&["상담원", "person", "staff", "l'aide"]),
                "{text}"
            );
            assert!(!m.has("zebra") && !m.has("수리"));
        }
    }
}
