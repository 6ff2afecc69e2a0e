//! SMS conventions for Handoff: pure functions, no I/O, no async, no cloud SDK types.
//!
//! * [`PhoneNumber`]: validated E.164 numbers (with lenient parsing of what people type
//!   for Korea and the US, strict parsing of what providers send).
//! * [`segments`] / [`fit_to_segments`]: GSM 03.38 / UCS-2 segment counting and
//!   trimming a reply so it fits a segment budget.
//! * [`keyword`]: carrier opt-out / opt-in / help keywords.
//! * Twilio: [`twilio_signature`], [`validate_twilio_signature`], [`parse_form`],
//!   [`TwilioInbound`], [`twiml`].
//! * AWS End User Messaging SMS two-way inbound: [`InboundSms`].
//!
//! Privacy rule for the whole crate: error messages never contain a phone number or
//! message text, and the `Debug` output of [`PhoneNumber`], [`TwilioInbound`] and
//! [`InboundSms`] is masked, because all of these end up in logs.

mod aws;
mod error;
mod fit;
mod keyword;
mod phone;
mod segments;
mod twilio;

pub use aws::InboundSms;
pub use error::{PhoneError, SmsError};
pub use fit::fit_to_segments;
pub use keyword::{keyword, SmsKeyword};
pub use phone::{Country, PhoneNumber, MAX_E164_DIGITS, MIN_E164_DIGITS};
pub use segments::{
    gsm7_units, segments, Encoding, SegmentCount, GSM7_MULTI_SEGMENT, GSM7_SINGLE_SEGMENT,
    UCS2_MULTI_SEGMENT, UCS2_SINGLE_SEGMENT,
};
pub use twilio::{parse_form, twilio_signature, twiml, validate_twilio_signature, TwilioInbound};

/// Describes a message body for `Debug` output without revealing it.
pub(crate) fn redacted_len(text: &str) -> String {
    format!("<{} chars>", text.chars().count())
}
