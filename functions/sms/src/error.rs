//! Error types. No variant carries caller-supplied text: the phone number or message
//! that failed may be personal data, and errors get logged.

/// Why a phone number was rejected. Messages describe the problem, never the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number contains letters")]
    ContainsLetters,
    #[error("phone number contains a character that is neither a digit nor a separator")]
    InvalidCharacter,
    #[error("'+' may only appear at the start of a phone number")]
    MisplacedPlus,
    #[error("phone number has too few digits (E.164 needs at least 7 including the country code)")]
    TooShort,
    #[error("phone number has too many digits (E.164 allows at most 15)")]
    TooLong,
    #[error("country calling code cannot start with 0")]
    InvalidCountryCode,
    #[error("national number lacks the trunk prefix 0; write it with +country code instead")]
    MissingTrunkPrefix,
    #[error("wrong number of digits for country code +{country_code}")]
    InvalidLengthForCountry { country_code: &'static str },
    #[error("phone number is not strict E.164 ('+' followed by digits only)")]
    NotE164,
}

/// Errors from parsing provider webhooks. Field names are ours (static), values never
/// appear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    #[error("form body contains an invalid percent-escape")]
    InvalidPercentEncoding,
    #[error("form body is not valid UTF-8 after percent-decoding")]
    FormNotUtf8,
    #[error("required field `{0}` is missing")]
    MissingField(&'static str),
    #[error("field `{0}` appears more than once")]
    DuplicateField(&'static str),
    #[error("field `{field}` is invalid: {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
    #[error("field `{field}` is not a valid E.164 phone number: {source}")]
    InvalidPhone {
        field: &'static str,
        #[source]
        source: PhoneError,
    },
    #[error("field `{field}` must be {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("body is not valid JSON (line {line}, column {column})")]
    InvalidJson { line: usize, column: usize },
    #[error("JSON body must be an object")]
    NotAnObject,
}
