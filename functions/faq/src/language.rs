//! The customer's language: detected per message with `whatlang` (scripts
//! first: Hangul, kana, Han, Thai and Cyrillic decide alone), and kept per
//! conversation so that "0", "ok", digits, emoji or a one-word "thanks" never
//! switch it.

use serde::{Deserialize, Serialize};

use crate::Lang;

/// A language the product recognises in a customer's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LangTag {
    Ko,
    En,
    Ja,
    Zh,
    Es,
    Vi,
    Fr,
    De,
    Ru,
    Th,
    Id,
    Pt,
    It,
}

impl LangTag {
    pub const ALL: [LangTag; 13] = [
        LangTag::Ko,
        LangTag::En,
        LangTag::Ja,
        LangTag::Zh,
        LangTag::Es,
        LangTag::Vi,
        LangTag::Fr,
        LangTag::De,
        LangTag::Ru,
        LangTag::Th,
        LangTag::Id,
        LangTag::Pt,
        LangTag::It,
    ];

    /// ISO 639-1 code, as used for catalog keys and shown in the packet and queue.
    pub fn code(self) -> &'static str {
        match self {
            LangTag::Ko => "ko",
            LangTag::En => "en",
            LangTag::Ja => "ja",
            LangTag::Zh => "zh",
            LangTag::Es => "es",
            LangTag::Vi => "vi",
            LangTag::Fr => "fr",
            LangTag::De => "de",
            LangTag::Ru => "ru",
            LangTag::Th => "th",
            LangTag::Id => "id",
            LangTag::Pt => "pt",
            LangTag::It => "it",
        }
    }

    /// From an ISO 639-1 code (case-insensitive; a region such as `-KR` is ignored).
    pub fn from_code(code: &str) -> Option<LangTag> {
        let base = code.split(['-', '_']).next()?.to_ascii_lowercase();
        LangTag::ALL.into_iter().find(|l| l.code() == base)
    }

    /// The reply language of the two the product writes every text in: Korean
    /// stays Korean, everything else gets English (see `handoff_core::replies`
    /// for the languages with their own system texts).
    pub fn reply_lang(self) -> Lang {
        match self {
            LangTag::Ko => Lang::Ko,
            _ => Lang::En,
        }
    }
}

impl From<Lang> for LangTag {
    fn from(l: Lang) -> LangTag {
        match l {
            Lang::Ko => LangTag::Ko,
            Lang::En => LangTag::En,
        }
    }
}

/// Short words customers of any language type in Latin letters: they say
/// nothing about the language of the conversation.
const UNIVERSAL: &[&str] = &[
    "ok",
    "okay",
    "okey",
    "k",
    "kk",
    "thx",
    "thanks",
    "thank you",
    "ty",
    "yes",
    "no",
    "yep",
    "nope",
    "hi",
    "hello",
    "hey",
    "bye",
    "lol",
    "sorry",
    "please",
    "pls",
    "plz",
    "agent",
    "sos",
    "help",
    "wifi",
    "app",
    "sms",
    "atm",
    "vip",
];

fn is_hangul(c: char) -> bool {
    crate::text::is_hangul(c)
}
fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F)
}
fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF)
}
fn is_thai(c: char) -> bool {
    matches!(c as u32, 0x0E00..=0x0E7F)
}
fn is_cyrillic(c: char) -> bool {
    matches!(c as u32, 0x0400..=0x04FF)
}

/// The language of one message, or `None` when it carries too little text to
/// tell (digits, emoji, "ok", a single short Latin word, punctuation).
pub fn detect(text: &str) -> Option<LangTag> {
    let norm = crate::normalize::deobfuscate(text);
    let (mut hangul, mut kana, mut han, mut thai, mut cyr, mut latin) = (0, 0, 0, 0, 0, 0);
    for c in norm.chars() {
        if is_hangul(c) {
            hangul += 1;
        } else if is_kana(c) {
            kana += 1;
        } else if is_han(c) {
            han += 1;
        } else if is_thai(c) {
            thai += 1;
        } else if is_cyrillic(c) {
            cyr += 1;
        } else if c.is_ascii_alphabetic() || (c.is_alphabetic() && (c as u32) < 0x0250) {
            latin += 1;
        }
    }
    // Scripts that name one language among those supported. Hangul wins over
    // Latin in code-mixed Korean ("AS 되나요", "iPhone 액정").
    if hangul > 0 && hangul * 2 >= latin.min(hangul * 4) {
        return Some(LangTag::Ko);
    }
    if kana > 0 {
        return Some(LangTag::Ja);
    }
    if han > 0 && han >= latin {
        return Some(LangTag::Zh);
    }
    if thai > 0 {
        return Some(LangTag::Th);
    }
    if cyr > latin {
        return Some(LangTag::Ru);
    }
    if hangul > 0 {
        return Some(LangTag::Ko);
    }
    let words: Vec<&str> = norm
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    if latin < 2 || UNIVERSAL.contains(&joined.as_str()) {
        return None;
    }
    // Latin script: whatlang among the Latin-script languages supported. A
    // short message is English unless whatlang is sure, since English is what
    // most customers fall back to and what the product answers in otherwise.
    let detector = whatlang::Detector::with_allowlist(vec![
        whatlang::Lang::Eng,
        whatlang::Lang::Spa,
        whatlang::Lang::Vie,
        whatlang::Lang::Fra,
        whatlang::Lang::Deu,
        whatlang::Lang::Ind,
        whatlang::Lang::Por,
        whatlang::Lang::Ita,
    ]);
    // Vietnamese is told by its letters alone (ơ, ư, đ, tone marks on vowels).
    if norm.chars().any(|c| {
        matches!(
            c,
            'ơ' | 'ư'
                | 'đ'
                | 'ạ'
                | 'ả'
                | 'ấ'
                | 'ầ'
                | 'ẩ'
                | 'ậ'
                | 'ắ'
                | 'ằ'
                | 'ặ'
                | 'ẹ'
                | 'ẻ'
                | 'ẽ'
                | 'ế'
                | 'ề'
                | 'ể'
                | 'ệ'
                | 'ỉ'
                | 'ị'
                | 'ọ'
                | 'ỏ'
                | 'ố'
                | 'ồ'
                | 'ổ'
                | 'ộ'
                | 'ớ'
                | 'ờ'
                | 'ở'
                | 'ợ'
                | 'ụ'
                | 'ủ'
                | 'ứ'
                | 'ừ'
                | 'ử'
                | 'ữ'
                | 'ự'
                | 'ỳ'
                | 'ỵ'
                | 'ỷ'
                | 'ỹ'
        )
    }) {
        return Some(LangTag::Vi);
    }
    let info = detector.detect(&joined)?;
    let tag = match info.lang() {
        whatlang::Lang::Spa => LangTag::Es,
        whatlang::Lang::Vie => LangTag::Vi,
        whatlang::Lang::Fra => LangTag::Fr,
        whatlang::Lang::Deu => LangTag::De,
        whatlang::Lang::Ind => LangTag::Id,
        whatlang::Lang::Por => LangTag::Pt,
        whatlang::Lang::Ita => LangTag::It,
        _ => LangTag::En,
    };
    if tag != LangTag::En && (words.len() < 3 || info.confidence() < 0.5) {
        // Too little to leave English on: "hola" alone stays undecided.
        return if words.len() >= 2 && info.is_reliable() {
            Some(tag)
        } else {
            None
        };
    }
    if tag == LangTag::En && words.len() < 2 {
        return None;
    }
    Some(tag)
}

/// The conversation's language after this message: the message's language when
/// it has enough text to tell, else the language so far, else `default` (the
/// catalog's first language, say).
pub fn conversation_language(previous: Option<LangTag>, text: &str, default: LangTag) -> LangTag {
    match (detect(text), previous) {
        (Some(now), _) => now,
        (None, Some(prev)) => prev,
        (None, None) => default,
    }
}

/// The catalog language to answer in for a customer writing `customer`:
/// that language when the catalog has it, else English when it has English,
/// else the catalog's first language. `catalog_langs` lists codes in the
/// catalog's order of preference.
pub fn answer_language(customer: LangTag, catalog_langs: &[String]) -> Option<String> {
    let has = |code: &str| catalog_langs.iter().any(|l| l.eq_ignore_ascii_case(code));
    if has(customer.code()) {
        return Some(customer.code().to_string());
    }
    if has("en") {
        return Some("en".to_string());
    }
    catalog_langs.first().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_decide_alone() {
        assert_eq!(detect("배송비 얼마예요?"), Some(LangTag::Ko));
        assert_eq!(detect("iPhone 15 액정 교체 얼마예요"), Some(LangTag::Ko));
        assert_eq!(detect("予約をキャンセルしたいです"), Some(LangTag::Ja));
        assert_eq!(detect("我想取消预约"), Some(LangTag::Zh));
        assert_eq!(detect("ขอคุยกับพนักงาน"), Some(LangTag::Th));
        assert_eq!(detect("Позовите оператора"), Some(LangTag::Ru));
    }

    #[test]
    fn latin_languages() {
        assert_eq!(detect("How much is shipping to Busan?"), Some(LangTag::En));
        assert_eq!(
            detect("Quiero hablar con una persona, por favor"),
            Some(LangTag::Es)
        );
        assert_eq!(
            detect("Je voudrais parler à un conseiller s'il vous plaît"),
            Some(LangTag::Fr)
        );
        assert_eq!(
            detect("Ich möchte bitte mit einem Mitarbeiter sprechen"),
            Some(LangTag::De)
        );
        assert_eq!(
            detect("Tôi muốn nói chuyện với nhân viên"),
            Some(LangTag::Vi)
        );
        assert_eq!(
            detect("Saya ingin berbicara dengan petugas layanan pelanggan"),
            Some(LangTag::Id)
        );
    }

    #[test]
    fn too_little_text_tells_nothing() {
        for t in [
            "0", "0️⃣", "ok", "OK", "okay", "1234", "👍", "🙏🙏", "?", "thanks", "", "  ", "ㅇ",
        ] {
            if t == "ㅇ" {
                // A jamo is Korean all the same.
                assert_eq!(detect(t), Some(LangTag::Ko));
                continue;
            }
            assert_eq!(detect(t), None, "{t:?}");
        }
    }

    #[test]
    fn the_conversation_keeps_its_language_on_zero_ok_digits_and_emoji() {
        let mut lang = conversation_language(None, "배송 언제 와요?", LangTag::En);
        assert_eq!(lang, LangTag::Ko);
        for t in ["0", "ok", "010-1234-5678", "👍", "thanks", "0️⃣", "３"] {
            lang = conversation_language(Some(lang), t, LangTag::En);
            assert_eq!(lang, LangTag::Ko, "switched on {t:?}");
        }
        lang = conversation_language(Some(lang), "Can someone call me back please?", LangTag::Ko);
        assert_eq!(lang, LangTag::En);
        assert_eq!(conversation_language(None, "0", LangTag::Ko), LangTag::Ko);
    }

    #[test]
    fn answers_in_the_nearest_catalog_language() {
        let both = vec!["ko".to_string(), "en".to_string()];
        assert_eq!(answer_language(LangTag::Ko, &both).as_deref(), Some("ko"));
        assert_eq!(answer_language(LangTag::Ja, &both).as_deref(), Some("en"));
        let ko = vec!["ko".to_string()];
        assert_eq!(answer_language(LangTag::Es, &ko).as_deref(), Some("ko"));
        assert_eq!(answer_language(LangTag::En, &[]), None);
        assert_eq!(LangTag::from_code("ko-KR"), Some(LangTag::Ko));
        assert_eq!(LangTag::from_code("xx"), None);
        assert_eq!(LangTag::Ja.reply_lang(), Lang::En);
    }
}
