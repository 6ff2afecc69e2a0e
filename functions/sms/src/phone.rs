//! E.164 phone numbers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::PhoneError;

/// E.164 allows at most 15 digits (country code included).
pub const MAX_E164_DIGITS: usize = 15;
/// The shortest numbers in service (e.g. Niue, Saint Helena) have 7 digits with the
/// country code; anything shorter is a typo or a short code, not a phone number.
pub const MIN_E164_DIGITS: usize = 7;

/// Country assumed for numbers written without an international prefix.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Country {
    /// South Korea, calling code 82, trunk prefix 0.
    KR,
    /// United States (NANP), calling code 1.
    US,
}

impl Country {
    /// The ITU calling code, without `+`.
    pub const fn calling_code(self) -> &'static str {
        match self {
            Country::KR => "82",
            Country::US => "1",
        }
    }
}

/// A validated phone number in E.164 form (`+` and 7–15 digits, no separators).
///
/// `Display`, [`as_str`](Self::as_str) and serde give the full E.164 string (providers
/// need it); `Debug` is masked like [`masked`](Self::masked) so that `{:?}` in a log
/// line does not leak the number.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses what a person might type.
    ///
    /// * `+` anywhere but first, letters, or other symbols are rejected; spaces, `-`, `.`,
    ///   `/`, `(` and `)` are ignored.
    /// * `+…` and `00…` are international. With [`Country::US`], the NANP international
    ///   prefix `011` is also recognised.
    /// * Otherwise the number is national for `default_country`:
    ///   - KR: the trunk prefix `0` is dropped (`010-1234-5678` → `+821012345678`);
    ///     8-digit nationwide numbers (`1588-1234`) have none. Any other number without
    ///     the `0` is rejected as ambiguous (`821012345678` is probably missing a `+`).
    ///   - US: 10 digits, or 11 starting with `1`.
    /// * Korean numbers written with both the country code and the trunk `0`
    ///   (`+82 010-…`, `+82 (0)10-…`) are accepted and normalised, as people commonly
    ///   write them that way.
    /// * `+1` numbers must have 10 national digits with NANP area code and exchange
    ///   starting with 2–9; `+82` numbers 8–10 national digits.
    pub fn parse(input: &str, default_country: Country) -> Result<PhoneNumber, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut plus = false;
        let mut digits = String::with_capacity(MAX_E164_DIGITS + 1);
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => {
                    // Generous bound: prefixes like `011` are still to be stripped.
                    if digits.len() > MAX_E164_DIGITS + 3 {
                        return Err(PhoneError::TooLong);
                    }
                    digits.push(c);
                }
                '+' if i == 0 => plus = true,
                '+' => return Err(PhoneError::MisplacedPlus),
                '-' | '.' | '/' | '(' | ')' => {}
                c if c.is_whitespace() => {}
                c if c.is_alphabetic() => return Err(PhoneError::ContainsLetters),
                _ => return Err(PhoneError::InvalidCharacter),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::TooShort);
        }

        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else if default_country == Country::US && digits.starts_with("011") {
            digits[3..].to_owned()
        } else {
            national_to_international(&digits, default_country)?
        };
        normalize(&international, true).map(PhoneNumber)
    }

    /// Parses strict E.164 (`+` then digits, nothing else), as providers send it.
    /// The same length and per-country rules as [`parse`](Self::parse) apply, except
    /// that a Korean trunk `0` after `+82` is rejected rather than dropped.
    pub fn from_e164(input: &str) -> Result<PhoneNumber, PhoneError> {
        let digits = input.strip_prefix('+').ok_or(PhoneError::NotE164)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::NotE164);
        }
        normalize(digits, false).map(PhoneNumber)
    }

    /// The E.164 string, e.g. `+821012345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country calling code without `+` (`"1"`, `"82"`, `"44"`, `"353"` …).
    pub fn country_code(&self) -> &str {
        let digits = &self.0[1..];
        &digits[..calling_code_len(digits)]
    }

    /// For logs: country code and last four digits, the rest starred
    /// (`+821012345678` → `+82******5678`).
    pub fn masked(&self) -> String {
        let cc = self.country_code();
        let rest = &self.0[1 + cc.len()..];
        // Numbers are at least 7 digits, so `rest` has at least 4; never show more
        // than half of it.
        let shown = 4.min(rest.len() / 2);
        let hidden = rest.len() - shown;
        format!("+{cc}{}{}", "*".repeat(hidden), &rest[hidden..])
    }
}

fn national_to_international(digits: &str, country: Country) -> Result<String, PhoneError> {
    match country {
        Country::KR => {
            if let Some(nsn) = digits.strip_prefix('0') {
                Ok(format!("82{nsn}"))
            } else if digits.len() == 8 && digits.starts_with('1') {
                // Nationwide "representative" numbers: 15xx-, 16xx-, 18xx-xxxx.
                Ok(format!("82{digits}"))
            } else {
                Err(PhoneError::MissingTrunkPrefix)
            }
        }
        Country::US => match digits.len() {
            10 => Ok(format!("1{digits}")),
            11 if digits.starts_with('1') => Ok(digits.to_owned()),
            n if n < 10 => Err(PhoneError::TooShort),
            _ => Err(PhoneError::InvalidLengthForCountry { country_code: "1" }),
        },
    }
}

/// Validates international digits (country code first, no `+`) and returns E.164.
fn normalize(digits: &str, lenient: bool) -> Result<String, PhoneError> {
    if digits.starts_with('0') {
        return Err(PhoneError::InvalidCountryCode);
    }
    let mut digits = std::borrow::Cow::Borrowed(digits);
    if let Some(nsn) = digits.strip_prefix("82") {
        if lenient {
            if let Some(without_trunk) = nsn.strip_prefix('0') {
                digits = format!("82{without_trunk}").into();
            }
        }
    }
    if digits.len() < MIN_E164_DIGITS {
        return Err(PhoneError::TooShort);
    }
    if digits.len() > MAX_E164_DIGITS {
        return Err(PhoneError::TooLong);
    }
    if let Some(nsn) = digits.strip_prefix('1') {
        // NANP: NPA-NXX-XXXX, with N = 2..9.
        let b = nsn.as_bytes();
        if b.len() != 10 || !(b'2'..=b'9').contains(&b[0]) || !(b'2'..=b'9').contains(&b[3]) {
            return Err(PhoneError::InvalidLengthForCountry { country_code: "1" });
        }
    } else if let Some(nsn) = digits.strip_prefix("82") {
        if !(8..=10).contains(&nsn.len()) || nsn.starts_with('0') {
            return Err(PhoneError::InvalidLengthForCountry { country_code: "82" });
        }
    }
    Ok(format!("+{digits}"))
}

/// Length of the ITU-T E.164 country calling code at the start of `digits`:
/// 1 for zone 1 (NANP) and 7, 2 for the assigned two-digit codes, otherwise 3.
fn calling_code_len(digits: &str) -> usize {
    if digits.starts_with(['1', '7']) {
        return 1;
    }
    const TWO_DIGIT: [&str; 44] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    if TWO_DIGIT.contains(&&digits[..2]) {
        2
    } else {
        3
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Strict E.164, like [`PhoneNumber::from_e164`].
impl FromStr for PhoneNumber {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhoneNumber::from_e164(s)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Deserialises strict E.164 only: stored data must already be normalised.
impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        PhoneNumber::from_e164(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Country::{KR, US};

    #[test]
    fn parses_accepted_forms() {
        let cases: &[(&str, Country, &str)] = &[
            ("+82 10-1234-5678", US, "+821012345678"),
            ("+82 10-1234-5678", KR, "+821012345678"),
            ("010-1234-5678", KR, "+821012345678"),
            ("01012345678", KR, "+821012345678"),
            ("  010 1234 5678\n", KR, "+821012345678"),
            ("010.1234.5678", KR, "+821012345678"),
            ("02-123-4567", KR, "+8221234567"),
            ("031-123-4567", KR, "+82311234567"),
            ("1588-1234", KR, "+8215881234"),
            ("+82 010-1234-5678", KR, "+821012345678"),
            ("+82 (0)10-1234-5678", US, "+821012345678"),
            ("00 82 10 1234 5678", KR, "+821012345678"),
            ("0082-10-1234-5678", US, "+821012345678"),
            ("(415) 555-0100", US, "+14155550100"),
            ("415-555-0100", US, "+14155550100"),
            ("1 (415) 555-0100", US, "+14155550100"),
            ("+1 415 555 0100", KR, "+14155550100"),
            ("+1 (415) 555-0100", US, "+14155550100"),
            ("011 82 10 1234 5678", US, "+821012345678"),
            ("+44 20 7946 0958", KR, "+442079460958"),
            ("+683 4002", US, "+6834002"),
            ("+1\u{a0}415\u{a0}555\u{a0}0100", US, "+14155550100"),
        ];
        for (input, country, want) in cases {
            let got = PhoneNumber::parse(input, *country)
                .unwrap_or_else(|e| panic!("{input:?} ({country:?}) rejected: {e}"));
            assert_eq!(got.as_str(), *want, "input {input:?} ({country:?})");
            assert_eq!(got.to_string(), *want);
        }
    }

    #[test]
    fn rejects_bad_input() {
        use PhoneError::*;
        let cases: &[(&str, Country, PhoneError)] = &[
            ("", KR, Empty),
            ("   ", US, Empty),
            ("010-CALL-NOW", KR, ContainsLetters),
            ("+1 415 555 0100 ext 5", US, ContainsLetters),
            ("전화번호", KR, ContainsLetters),
            ("010_1234_5678", KR, InvalidCharacter),
            ("010#1234", KR, InvalidCharacter),
            ("82+1012345678", KR, MisplacedPlus),
            ("++821012345678", KR, MisplacedPlus),
            ("---", US, TooShort),
            ("+", US, TooShort),
            ("+12345", US, TooShort),
            ("555-0100", US, TooShort),
            ("+1234567890123456", US, TooLong),
            ("+82 10 1234 5678 9012 3456 7890", KR, TooLong),
            ("+0 82 10 1234 5678", KR, InvalidCountryCode),
            ("821012345678", KR, MissingTrunkPrefix),
            ("1012345678", KR, MissingTrunkPrefix),
            (
                "415 555 01000",
                US,
                InvalidLengthForCountry { country_code: "1" },
            ),
            (
                "+1 415 555 010",
                US,
                InvalidLengthForCountry { country_code: "1" },
            ),
            (
                "+1 115 555 0100",
                US,
                InvalidLengthForCountry { country_code: "1" },
            ),
            (
                "(415) 155-0100",
                US,
                InvalidLengthForCountry { country_code: "1" },
            ),
            (
                "010-1234-56789",
                KR,
                InvalidLengthForCountry { country_code: "82" },
            ),
            (
                "+82 1234567",
                KR,
                InvalidLengthForCountry { country_code: "82" },
            ),
        ];
        for (input, country, want) in cases {
            assert_eq!(
                PhoneNumber::parse(input, *country),
                Err(want.clone()),
                "input {input:?} ({country:?})"
            );
        }
    }

    #[test]
    fn strict_e164() {
        assert_eq!(
            PhoneNumber::from_e164("+821012345678").unwrap().as_str(),
            "+821012345678"
        );
        for bad in [
            "821012345678",
            "+82 10 1234 5678",
            "+82-10-1234-5678",
            "+8201012345678",
            "010-1234-5678",
            "+",
            "",
            "+1415555010a",
            "+１４１５５５５０１００",
        ] {
            assert!(PhoneNumber::from_e164(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            "+14155550100".parse::<PhoneNumber>().unwrap().as_str(),
            "+14155550100"
        );
    }

    #[test]
    fn masks_all_but_country_code_and_last_four() {
        let cases = [
            ("+821012345678", "+82******5678", "82"),
            ("+14155550100", "+1******0100", "1"),
            ("+442079460958", "+44******0958", "44"),
            ("+35312345678", "+353****5678", "353"),
            ("+79161234567", "+7******4567", "7"),
            ("+6834002", "+683**02", "683"),
        ];
        for (e164, masked, cc) in cases {
            let p = PhoneNumber::from_e164(e164).unwrap();
            assert_eq!(p.masked(), masked);
            assert_eq!(p.country_code(), cc);
            assert_eq!(format!("{p:?}"), format!("PhoneNumber({masked:?})"));
        }
    }

    #[test]
    fn serde_round_trip_is_strict() {
        let p = PhoneNumber::parse("010-1234-5678", KR).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"+821012345678\"");
        assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), p);
        for bad in [
            "\"010-1234-5678\"",
            "\"+82 10 1234 5678\"",
            "821012345678",
            "null",
        ] {
            assert!(serde_json::from_str::<PhoneNumber>(bad).is_err(), "{bad}");
        }
        // The error mentions the problem, not the number.
        let err = serde_json::from_str::<PhoneNumber>("\"+8201099998888\"")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("9999"), "{err}");
    }

    #[test]
    fn error_messages_do_not_echo_input() {
        for (input, country) in [
            ("010-9876-54321", KR),
            ("+1 415 CALL 0100", US),
            ("98765", US),
        ] {
            let msg = PhoneNumber::parse(input, country).unwrap_err().to_string();
            assert!(
                !msg.contains("9876") && !msg.contains("CALL") && !msg.contains("98765"),
                "{msg}"
            );
        }
    }
}
