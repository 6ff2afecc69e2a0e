//! Proactive notices: a supervisor's message to a list of customers, by SMS to phones
//! and as a message in web customers' latest conversation. The types here validate on
//! construction; the use case is `service/notices.rs`, the fan-out runs in the
//! dispatcher (never in the request).

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::ids::CustomerId;
use crate::model::{Lang, MessageText, PhoneNumber};
use crate::records::RecordKey;

/// Most recipients one notice may name.
pub const MAX_RECIPIENTS: usize = 500;
/// Recipients one fan-out step works through before handing on to the next step.
pub const FANOUT_BATCH: usize = 25;
/// How long a notice (and its per-recipient marks) is kept, for repeats of its request_id.
pub const NOTICE_KEEP_DAYS: i64 = 30;
/// The default quiet hours, in the business's time zone.
pub const DEFAULT_QUIET_HOURS: &str = "21:00-08:00";

/// `HH:MM-HH:MM` in the business's time zone: no texts from the start until the end
/// (over midnight when the end is earlier). `off` disables them.
#[derive(Debug, Clone)]
pub struct QuietHours {
    window: Option<(Time, Time)>,
    tz: TimeZone,
}

fn parse_hm(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

impl QuietHours {
    pub fn parse(spec: &str, timezone: &str) -> Result<Self, InputError> {
        let tz = TimeZone::get(timezone)
            .map_err(|_| InputError::new("timezone", format!("unknown time zone {timezone:?}")))?;
        if spec.trim().eq_ignore_ascii_case("off") {
            return Ok(Self { window: None, tz });
        }
        let bad = || {
            InputError::new(
                "quiet_hours",
                format!("{spec:?} is not like \"21:00-08:00\" or \"off\""),
            )
        };
        let (a, b) = spec.split_once('-').ok_or_else(bad)?;
        let (start, end) = (parse_hm(a).ok_or_else(bad)?, parse_hm(b).ok_or_else(bad)?);
        if start == end {
            return Err(bad());
        }
        Ok(Self {
            window: Some((start, end)),
            tz,
        })
    }

    /// The default window in `timezone` (UTC when it is unknown).
    pub fn default_in(timezone: &str) -> Self {
        Self::parse(DEFAULT_QUIET_HOURS, timezone).unwrap_or(Self {
            window: parse_hm("21:00").zip(parse_hm("08:00")),
            tz: TimeZone::UTC,
        })
    }

    /// When texting may resume: `None` when `at` is outside the quiet hours.
    pub fn ends_after(&self, at: Timestamp) -> Option<Timestamp> {
        let (start, end) = self.window?;
        let z = at.to_zoned(self.tz.clone());
        let t = z.time();
        let quiet = match start < end {
            true => t >= start && t < end,
            false => t >= start || t < end,
        };
        if !quiet {
            return None;
        }
        let day = match t >= end {
            true => z.date().tomorrow().ok()?,
            false => z.date(),
        };
        day.to_datetime(end)
            .to_zoned(self.tz.clone())
            .ok()
            .map(|z| z.timestamp())
    }
}

/// The notice in Korean, English or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ko: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl NoticeText {
    pub fn parse(ko: Option<&str>, en: Option<&str>) -> Result<Self, InputError> {
        let one = |field: &'static str, s: Option<&str>| {
            s.map(|s| {
                MessageText::parse(s)
                    .map(|t| t.as_str().to_string())
                    .map_err(|e| InputError::new(field, e.message))
            })
            .transpose()
        };
        let text = Self {
            ko: one("text.ko", ko)?,
            en: one("text.en", en)?,
        };
        if text.ko.is_none() && text.en.is_none() {
            return Err(InputError::new("text", "give the notice in ko, en or both"));
        }
        Ok(text)
    }

    /// The text in `lang` if given, else in `fallback`, else the one there is.
    pub fn pick(&self, lang: Option<Lang>, fallback: Lang) -> &str {
        let of = |l: Lang| match l {
            Lang::Ko => self.ko.as_deref(),
            Lang::En => self.en.as_deref(),
        };
        lang.and_then(of)
            .or_else(|| of(fallback))
            .or(self.ko.as_deref())
            .or(self.en.as_deref())
            .unwrap_or_default()
    }
}

/// Who a notice goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Phones(Vec<PhoneNumber>),
    Customers(Vec<CustomerId>),
}

/// The request body of `POST /v1/agent/notices`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    #[serde(default)]
    pub phones: Option<Vec<String>>,
    #[serde(default)]
    pub customer_ids: Option<Vec<String>>,
    #[serde(default)]
    pub text: Option<TextBody>,
    #[serde(default)]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    #[serde(default)]
    pub ko: Option<String>,
    #[serde(default)]
    pub en: Option<String>,
}

/// A validated notice request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRequest {
    pub audience: Audience,
    pub text: NoticeText,
    pub request_id: String,
}

fn check_count(field: &'static str, n: usize) -> Result<(), InputError> {
    match n {
        0 => Err(InputError::new(field, "name at least one recipient")),
        n if n > MAX_RECIPIENTS => Err(InputError::new(
            field,
            format!("{n} recipients; at most {MAX_RECIPIENTS} per notice"),
        )),
        _ => Ok(()),
    }
}

/// Keeps the first of each repeated value.
fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

impl NoticeRequest {
    pub fn parse(body: NoticeBody) -> Result<Self, InputError> {
        let request_id = body
            .request_id
            .ok_or_else(|| InputError::new("request_id", "request_id is required"))?;
        let ok_id = (1..=64).contains(&request_id.len())
            && request_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok_id {
            return Err(InputError::new(
                "request_id",
                "1 to 64 letters, digits, '-' or '_'",
            ));
        }
        let audience = match (body.phones, body.customer_ids) {
            (Some(phones), None) => {
                check_count("phones", phones.len())?;
                let parsed = phones
                    .iter()
                    .map(|p| {
                        PhoneNumber::from_e164(p).map_err(|_| {
                            InputError::new(
                                "phones",
                                "each phone must be E.164, e.g. +821012345678",
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Audience::Phones(dedup(parsed))
            }
            (None, Some(ids)) => {
                check_count("customer_ids", ids.len())?;
                let parsed = ids
                    .iter()
                    .map(|id| {
                        CustomerId::parse(id)
                            .map_err(|e| InputError::new("customer_ids", e.message))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Audience::Customers(dedup(parsed))
            }
            _ => {
                return Err(InputError::new(
                    "phones",
                    "give exactly one of phones or customer_ids",
                ))
            }
        };
        let text = body.text.unwrap_or_default();
        Ok(Self {
            audience,
            text: NoticeText::parse(text.ko.as_deref(), text.en.as_deref())?,
            request_id,
        })
    }

    /// Where the notice and its answer are kept: repeats of the request_id find it.
    pub fn record_key(&self) -> Result<RecordKey, InputError> {
        RecordKey::new("notice", &self.request_id)
    }
}

/// One recipient as resolved when the notice was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
}

impl Recipient {
    /// Reached by text (and so held during quiet hours).
    pub fn texts(&self) -> bool {
        self.phone.is_some()
    }
}

/// The answer to the request, kept to answer its repeats the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeResponse {
    pub notice_id: String,
    pub sent: usize,
    pub skipped_opted_out: usize,
    pub deferred_quiet_hours: usize,
}

/// The stored notice: what the fan-out works through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeRecord {
    pub notice_id: String,
    pub text: NoticeText,
    /// The business's first language: for customers whose language is unknown.
    pub fallback: Lang,
    /// Web-only recipients first, then those reached by text.
    pub recipients: Vec<Recipient>,
    pub response: NoticeResponse,
    pub by: String,
    pub at: Timestamp,
}

/// The mark that recipient `index` of `notice_id` got the notice (retries skip it).
pub fn sent_key(notice_id: &str, index: usize) -> Result<RecordKey, InputError> {
    RecordKey::new("notice-to", &format!("{notice_id}:{index}"))
}

pub fn new_notice_id() -> String {
    format!("n_{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn quiet_hours_span_midnight_in_the_business_zone() {
        let q = QuietHours::parse("21:00-08:00", "Asia/Seoul").unwrap();
        // 22:30 in Seoul → until 08:00 next day (23:00 UTC).
        assert_eq!(
            q.ends_after(ts("2026-12-01T13:30:00Z")),
            Some(ts("2026-12-01T23:00:00Z"))
        );
        // 03:00 in Seoul → 08:00 the same day.
        assert_eq!(
            q.ends_after(ts("2026-12-01T18:00:00Z")),
            Some(ts("2026-12-01T23:00:00Z"))
        );
        assert_eq!(q.ends_after(ts("2026-12-01T03:00:00Z")), None); // noon
        assert_eq!(q.ends_after(ts("2026-12-01T23:00:00Z")), None); // 08:00 sharp
        let day = QuietHours::parse("12:00-13:00", "UTC").unwrap();
        assert_eq!(
            day.ends_after(ts("2026-12-01T12:10:00Z")),
            Some(ts("2026-12-01T13:00:00Z"))
        );
        let off = QuietHours::parse("off", "UTC").unwrap();
        assert_eq!(off.ends_after(ts("2026-12-01T23:00:00Z")), None);
        for bad in [
            "",
            "21-08",
            "21:00",
            "25:00-08:00",
            "08:00-08:00",
            "9:00-10:00",
        ] {
            assert_eq!(
                QuietHours::parse(bad, "UTC").unwrap_err().field,
                "quiet_hours"
            );
        }
        assert_eq!(
            QuietHours::parse("21:00-08:00", "Mars/Base")
                .unwrap_err()
                .field,
            "timezone"
        );
    }

    fn body(v: serde_json::Value) -> Result<NoticeRequest, InputError> {
        NoticeRequest::parse(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn requests_validate_and_name_the_field() {
        let ok = body(
            serde_json::json!({"phones": ["+821012345678", "+821012345678"],
            "text": {"ko": "배송이 늦어요"}, "request_id": "r-1"}),
        )
        .unwrap();
        assert!(matches!(&ok.audience, Audience::Phones(p) if p.len() == 1));
        let field = |v| body(v).unwrap_err().field;
        use serde_json::json;
        assert_eq!(
            field(json!({"text": {"ko": "a"}, "request_id": "r"})),
            "phones"
        );
        assert_eq!(
            field(
                json!({"phones": ["+821012345678"], "customer_ids": ["u_1"], "text": {"ko": "a"}, "request_id": "r"})
            ),
            "phones"
        );
        assert_eq!(
            field(json!({"phones": ["010"], "text": {"ko": "a"}, "request_id": "r"})),
            "phones"
        );
        assert_eq!(
            field(json!({"phones": [], "text": {"ko": "a"}, "request_id": "r"})),
            "phones"
        );
        let many: Vec<String> = (0..501).map(|i| format!("+8210{:08}", i)).collect();
        assert_eq!(
            field(json!({"phones": many, "text": {"ko": "a"}, "request_id": "r"})),
            "phones"
        );
        assert_eq!(
            field(json!({"customer_ids": ["bad id"], "text": {"ko": "a"}, "request_id": "r"})),
            "customer_ids"
        );
        assert_eq!(
            field(json!({"phones": ["+821012345678"], "text": {}, "request_id": "r"})),
            "text"
        );
        assert_eq!(
            field(json!({"phones": ["+821012345678"], "text": {"en": "  "}, "request_id": "r"})),
            "text.en"
        );
        assert_eq!(
            field(json!({"phones": ["+821012345678"], "text": {"ko": "a"}})),
            "request_id"
        );
        assert_eq!(
            field(json!({"phones": ["+821012345678"], "text": {"ko": "a"}, "request_id": "a:b"})),
            "request_id"
        );
    }

    #[test]
    fn text_falls_back_to_the_business_language_then_any() {
        let both = NoticeText::parse(Some("안녕"), Some("hi")).unwrap();
        assert_eq!(both.pick(Some(Lang::En), Lang::Ko), "hi");
        assert_eq!(both.pick(None, Lang::Ko), "안녕");
        let ko = NoticeText::parse(Some("안녕"), None).unwrap();
        assert_eq!(ko.pick(Some(Lang::En), Lang::En), "안녕");
    }
}
