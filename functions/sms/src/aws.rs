//! AWS End User Messaging SMS (formerly Pinpoint SMS) two-way inbound messages.

use std::fmt;

use serde_json::{Map, Value};

use crate::{PhoneNumber, SmsError};

/// An inbound SMS as AWS End User Messaging SMS publishes it (the JSON that is the SNS
/// message body for two-way SMS):
///
/// ```json
/// {"originationNumber":"+14255550182","destinationNumber":"+12125550101",
///  "messageKeyword":"JOIN","messageBody":"EXAMPLE",
///  "inboundMessageId":"cae173d2-66b9-564c-8309-21f858e9fb84",
///  "previousPublishedMessageId":"wJ0uF4vJ1k6iL5fQ0zT3mW8nY2cB6dA0"}
/// ```
///
/// `Debug` masks the numbers and hides the body.
#[derive(Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The customer's number (sender).
    pub origination_number: PhoneNumber,
    /// Our number (recipient).
    pub destination_number: PhoneNumber,
    /// May be empty.
    pub message_body: String,
    pub inbound_message_id: String,
    /// The registered keyword AWS matched, if any (absent, `null` or `""` → `None`).
    pub message_keyword: Option<String>,
    /// Id of the outbound message this replies to, if any (absent, `null` or `""` → `None`).
    pub previous_published_message_id: Option<String>,
}

impl InboundSms {
    /// Parses the JSON. `originationNumber` and `destinationNumber` must be strict
    /// E.164; `messageBody` and a non-empty `inboundMessageId` are required; unknown
    /// fields are ignored. Errors name the field and never contain its value.
    pub fn from_json(s: &str) -> Result<InboundSms, SmsError> {
        let value: Value = serde_json::from_str(s).map_err(|e| SmsError::InvalidJson {
            line: e.line(),
            column: e.column(),
        })?;
        let Value::Object(obj) = value else {
            return Err(SmsError::NotAnObject);
        };
        let phone = |field: &'static str| {
            PhoneNumber::from_e164(required(&obj, field)?)
                .map_err(|source| SmsError::InvalidPhone { field, source })
        };
        let inbound_message_id = required(&obj, "inboundMessageId")?;
        if inbound_message_id.is_empty() {
            return Err(SmsError::InvalidField {
                field: "inboundMessageId",
                reason: "must not be empty",
            });
        }
        Ok(InboundSms {
            origination_number: phone("originationNumber")?,
            destination_number: phone("destinationNumber")?,
            message_body: required(&obj, "messageBody")?.to_owned(),
            inbound_message_id: inbound_message_id.to_owned(),
            message_keyword: optional(&obj, "messageKeyword")?,
            previous_published_message_id: optional(&obj, "previousPublishedMessageId")?,
        })
    }
}

fn required<'a>(obj: &'a Map<String, Value>, field: &'static str) -> Result<&'a str, SmsError> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(SmsError::MissingField(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(SmsError::WrongType {
            field,
            expected: "a string",
        }),
    }
}

fn optional(obj: &Map<String, Value>, field: &'static str) -> Result<Option<String>, SmsError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(SmsError::WrongType {
            field,
            expected: "a string or null",
        }),
    }
}

impl fmt::Debug for InboundSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundSms")
            .field("origination_number", &self.origination_number)
            .field("destination_number", &self.destination_number)
            .field("message_body", &crate::redacted_len(&self.message_body))
            .field("inbound_message_id", &self.inbound_message_id)
            .field("message_keyword", &self.message_keyword)
            .field(
                "previous_published_message_id",
                &self.previous_published_message_id,
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PhoneError;

    /// The example from the AWS End User Messaging SMS user guide (two-way SMS).
    const AWS_EXAMPLE: &str = r#"{
        "originationNumber":"+14255550182",
        "destinationNumber":"+12125550101",
        "messageKeyword":"JOIN",
        "messageBody":"EXAMPLE",
        "inboundMessageId":"cae173d2-66b9-564c-8309-21f858e9fb84",
        "previousPublishedMessageId":"wJ0uF4vJ1k6iL5fQ0zT3mW8nY2cB6dA0"
    }"#;

    #[test]
    fn parses_aws_example() {
        let sms = InboundSms::from_json(AWS_EXAMPLE).unwrap();
        assert_eq!(
            sms,
            InboundSms {
                origination_number: PhoneNumber::from_e164("+14255550182").unwrap(),
                destination_number: PhoneNumber::from_e164("+12125550101").unwrap(),
                message_body: "EXAMPLE".into(),
                inbound_message_id: "cae173d2-66b9-564c-8309-21f858e9fb84".into(),
                message_keyword: Some("JOIN".into()),
                previous_published_message_id: Some("wJ0uF4vJ1k6iL5fQ0zT3mW8nY2cB6dA0".into()),
            }
        );
    }

    #[test]
    fn optional_fields_and_korean_body() {
        let json = r#"{"originationNumber":"+821012345678","destinationNumber":"+8215881234",
            "messageBody":"수신거부","inboundMessageId":"id-1","messageKeyword":null,
            "previousPublishedMessageId":"","somethingNew":42}"#;
        let sms = InboundSms::from_json(json).unwrap();
        assert_eq!(sms.message_body, "수신거부");
        assert_eq!(sms.origination_number.as_str(), "+821012345678");
        assert_eq!(sms.message_keyword, None);
        assert_eq!(sms.previous_published_message_id, None);
        let debug = format!("{sms:?}");
        assert!(
            !debug.contains("수신거부") && !debug.contains("12345678"),
            "{debug}"
        );
    }

    #[test]
    fn errors_name_the_field_without_values() {
        let base: Value = serde_json::from_str(AWS_EXAMPLE).unwrap();
        let edit = |field: &str, value: Option<Value>| -> String {
            let mut v = base.clone();
            let obj = v.as_object_mut().unwrap();
            match value {
                Some(value) => obj.insert(field.into(), value),
                None => obj.remove(field),
            };
            v.to_string()
        };
        let cases: Vec<(String, SmsError)> = vec![
            (
                edit("originationNumber", None),
                SmsError::MissingField("originationNumber"),
            ),
            (
                edit("destinationNumber", None),
                SmsError::MissingField("destinationNumber"),
            ),
            (
                edit("messageBody", None),
                SmsError::MissingField("messageBody"),
            ),
            (
                edit("inboundMessageId", None),
                SmsError::MissingField("inboundMessageId"),
            ),
            (
                edit("messageBody", Some(Value::Null)),
                SmsError::MissingField("messageBody"),
            ),
            (
                edit("messageBody", Some(Value::from(98765))),
                SmsError::WrongType {
                    field: "messageBody",
                    expected: "a string",
                },
            ),
            (
                edit("messageKeyword", Some(Value::from(true))),
                SmsError::WrongType {
                    field: "messageKeyword",
                    expected: "a string or null",
                },
            ),
            (
                edit("inboundMessageId", Some(Value::from(""))),
                SmsError::InvalidField {
                    field: "inboundMessageId",
                    reason: "must not be empty",
                },
            ),
            (
                edit("originationNumber", Some(Value::from("010-9876-5432"))),
                SmsError::InvalidPhone {
                    field: "originationNumber",
                    source: PhoneError::NotE164,
                },
            ),
            (
                edit("destinationNumber", Some(Value::from("+1987654"))),
                SmsError::InvalidPhone {
                    field: "destinationNumber",
                    source: PhoneError::InvalidLengthForCountry { country_code: "1" },
                },
            ),
            ("[]".into(), SmsError::NotAnObject),
            ("\"+14255550182\"".into(), SmsError::NotAnObject),
            (
                "{\"messageBody\": \"98765".into(),
                SmsError::InvalidJson {
                    line: 1,
                    column: 22,
                },
            ),
            (String::new(), SmsError::InvalidJson { line: 1, column: 0 }),
        ];
        for (json, want) in cases {
            let err = InboundSms::from_json(&json).unwrap_err();
            assert_eq!(err, want, "{json}");
            let msg = err.to_string();
            assert!(!msg.contains("98765") && !msg.contains("9876"), "{msg}");
            if let SmsError::MissingField(f)
            | SmsError::WrongType { field: f, .. }
            | SmsError::InvalidField { field: f, .. }
            | SmsError::InvalidPhone { field: f, .. } = want
            {
                assert!(msg.contains(&format!("`{f}`")), "{msg}");
            }
        }
    }
}
