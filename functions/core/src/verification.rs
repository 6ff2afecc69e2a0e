//! Proving a phone is the customer's before a web conversation joins it: a 6-digit
//! code sent by SMS, kept only as a keyed hash, valid 10 minutes, dead after 5
//! wrong tries. Pure: the use case stores the [`PhoneVerification`] as a record.

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::auth::Secret;
use crate::ids::ConversationId;
use crate::model::PhoneNumber;

/// How long a code can be used.
pub const CODE_TTL: SignedDuration = SignedDuration::from_mins(10);
/// Wrong codes after which a code is dead.
pub const MAX_ATTEMPTS: u32 = 5;
/// Codes one phone may be sent per hour.
pub const CODES_PER_PHONE_PER_HOUR: u32 = 3;
/// How long the (hashed) record is kept after it expires, so a late try gets
/// "expired" rather than "no code".
const KEEP_AFTER_EXPIRY: SignedDuration = SignedDuration::from_hours(1);

/// A six-digit code as typed by the customer (spaces and dashes ignored).
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneCode(String);

impl PhoneCode {
    pub fn parse(raw: &str) -> Option<Self> {
        let digits: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(Self(digits))
    }

    /// A fresh uniformly random code (the OS's randomness, through uuid v4).
    pub fn generate() -> Self {
        // 2^122 random bits reduced mod 10^6: the bias is far below one in 10^30.
        let n = uuid::Uuid::new_v4().as_u128() % 1_000_000;
        Self(format!("{n:06}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PhoneCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneCode(..)")
    }
}

/// Hashes codes with a key only the deployment has, bound to the conversation and
/// phone, so a leaked record neither reveals the code nor works elsewhere.
#[derive(Debug, Clone)]
pub struct PhoneCodes {
    key: Secret,
}

impl PhoneCodes {
    pub fn new(key: Secret) -> Self {
        Self { key }
    }

    fn hash(&self, conversation: &ConversationId, phone: &PhoneNumber, code: &PhoneCode) -> String {
        // HMAC accepts keys of any length.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose()) else {
            unreachable!("HMAC takes keys of any length")
        };
        for part in [
            b"phone-code:".as_slice(),
            conversation.as_str().as_bytes(),
            b":",
            phone.as_str().as_bytes(),
            b":",
            code.as_str().as_bytes(),
        ] {
            mac.update(part);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A code sent to a phone for one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneVerification {
    pub conversation_id: ConversationId,
    pub phone: PhoneNumber,
    code_hash: String,
    pub sent_at: Timestamp,
    pub expires_at: Timestamp,
    pub wrong_attempts: u32,
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRejected {
    #[error("the code is wrong")]
    Wrong { attempts_left: u32 },
    #[error("the code has expired; ask for a new one")]
    Expired,
    #[error("too many wrong codes; ask for a new one")]
    TooManyAttempts,
}

impl PhoneVerification {
    pub fn issue(
        codes: &PhoneCodes,
        conversation_id: ConversationId,
        phone: PhoneNumber,
        code: &PhoneCode,
        now: Timestamp,
    ) -> Self {
        let code_hash = codes.hash(&conversation_id, &phone, code);
        Self {
            conversation_id,
            phone,
            code_hash,
            sent_at: now,
            expires_at: now.checked_add(CODE_TTL).unwrap_or(now),
            wrong_attempts: 0,
        }
    }

    /// When the stored record may be dropped.
    pub fn keep_until(&self) -> Timestamp {
        self.expires_at
            .checked_add(KEEP_AFTER_EXPIRY)
            .unwrap_or(self.expires_at)
    }

    /// Checks `code`; a wrong one counts against the limit (the caller stores `self`).
    pub fn check(
        &mut self,
        codes: &PhoneCodes,
        code: &PhoneCode,
        now: Timestamp,
    ) -> Result<(), CodeRejected> {
        if self.wrong_attempts >= MAX_ATTEMPTS {
            return Err(CodeRejected::TooManyAttempts);
        }
        if now >= self.expires_at {
            return Err(CodeRejected::Expired);
        }
        let expected = codes.hash(&self.conversation_id, &self.phone, code);
        if bool::from(expected.as_bytes().ct_eq(self.code_hash.as_bytes())) {
            return Ok(());
        }
        self.wrong_attempts += 1;
        if self.wrong_attempts >= MAX_ATTEMPTS {
            Err(CodeRejected::TooManyAttempts)
        } else {
            Err(CodeRejected::Wrong {
                attempts_left: MAX_ATTEMPTS - self.wrong_attempts,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> PhoneCodes {
        PhoneCodes::new(Secret::new(b"0123456789abcdef0123".to_vec()).unwrap())
    }
    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap()
    }
    fn issued(code: &PhoneCode) -> PhoneVerification {
        PhoneVerification::issue(
            &codes(),
            ConversationId::parse("c_1").unwrap(),
            PhoneNumber::from_e164("+821055501234").unwrap(),
            code,
            at(0),
        )
    }

    #[test]
    fn codes_parse_six_digits_only() {
        assert_eq!(PhoneCode::parse(" 123 456 ").unwrap().as_str(), "123456");
        assert_eq!(PhoneCode::parse("123-456").unwrap().as_str(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert!(PhoneCode::parse(bad).is_none(), "{bad}");
        }
        let g = PhoneCode::generate();
        assert!(PhoneCode::parse(g.as_str()).is_some());
        assert!(!format!("{g:?}").contains(g.as_str()), "never printed");
    }

    #[test]
    fn right_code_within_ten_minutes_passes() {
        let code = PhoneCode::parse("042042").unwrap();
        let mut v = issued(&code);
        assert!(
            !serde_json::to_string(&v).unwrap().contains("042042"),
            "stored hashed"
        );
        assert_eq!(v.check(&codes(), &code, at(599)), Ok(()));
    }

    #[test]
    fn expired_and_wrong_codes_fail() {
        let code = PhoneCode::parse("042042").unwrap();
        let mut v = issued(&code);
        assert_eq!(
            v.check(&codes(), &code, at(600)),
            Err(CodeRejected::Expired)
        );
        let wrong = PhoneCode::parse("000000").unwrap();
        let mut v = issued(&code);
        for left in (1..MAX_ATTEMPTS).rev() {
            assert_eq!(
                v.check(&codes(), &wrong, at(1)),
                Err(CodeRejected::Wrong {
                    attempts_left: left
                })
            );
        }
        assert_eq!(
            v.check(&codes(), &wrong, at(1)),
            Err(CodeRejected::TooManyAttempts)
        );
        // Dead: even the right code no longer works.
        assert_eq!(
            v.check(&codes(), &code, at(2)),
            Err(CodeRejected::TooManyAttempts)
        );
    }

    #[test]
    fn hash_is_bound_to_conversation_phone_and_key() {
        let code = PhoneCode::parse("111111").unwrap();
        let v = issued(&code);
        let mut other_conv = v.clone();
        other_conv.conversation_id = ConversationId::parse("c_2").unwrap();
        assert!(other_conv.check(&codes(), &code, at(1)).is_err());
        let other_key = PhoneCodes::new(Secret::new(b"another secret key!!".to_vec()).unwrap());
        assert!(v.clone().check(&other_key, &code, at(1)).is_err());
    }
}
