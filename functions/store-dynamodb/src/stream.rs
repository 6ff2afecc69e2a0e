//! Reading the table's DynamoDB stream: which records are new outbox items, and the
//! item each one holds. The key shape (`OUTBOX#…`, the `type` attribute) is this
//! crate's business, so the dispatcher never sees it.

use aws_lambda_events::event::dynamodb::EventRecord;

use handoff_core::model::OutboxItem;

use crate::keys;

/// Why a stream record that is an outbox insert could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("outbox record has no data attribute")]
    NoData,
    #[error("outbox record data is not an outbox item: {0}")]
    BadData(String),
}

/// Whether a partition key is an outbox item's.
pub fn is_outbox_key(pk: &str) -> bool {
    pk.strip_prefix(&keys::outbox("")).is_some()
}

/// The outbox item a stream record inserted; `None` for anything else (other item
/// types, updates, deletes).
pub fn outbox_insert(record: &EventRecord) -> Result<Option<OutboxItem>, StreamError> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    // serde_dynamo's item serialises as DynamoDB JSON: {"attr": {"S": "..."}}.
    let image = serde_json::to_value(&record.change.new_image)
        .map_err(|e| StreamError::BadData(e.to_string()))?;
    let is_outbox = image[keys::TYPE]["S"].as_str() == Some(keys::TYPE_OUTBOX)
        || image[keys::PK]["S"].as_str().is_some_and(is_outbox_key);
    if !is_outbox {
        return Ok(None);
    }
    let data = image[keys::DATA]["S"].as_str().ok_or(StreamError::NoData)?;
    serde_json::from_str(data)
        .map(Some)
        .map_err(|e| StreamError::BadData(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, image: serde_json::Value) -> EventRecord {
        serde_json::from_value(serde_json::json!({
            "eventID": "1",
            "eventName": name,
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {"NewImage": image, "SequenceNumber": "1", "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"}
        }))
        .unwrap()
    }

    #[test]
    fn only_outbox_inserts_are_read() {
        let data = r#"{"id":"alert:c_1:1","created_at":"2026-11-23T01:00:00Z","item":{"kind":"agent_alert","conversation_id":"c_1","text":"t","queue":"support","priority":"normal","language":"ko","channel":"web"}}"#;
        let outbox = serde_json::json!({"PK": {"S": "OUTBOX#alert:c_1:1"}, "data": {"S": data}});
        let item = outbox_insert(&record("INSERT", outbox.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(item.id, "alert:c_1:1");
        assert!(outbox_insert(&record("MODIFY", outbox)).unwrap().is_none());
        let conv = serde_json::json!({"PK": {"S": "CONV#c_1"}, "type": {"S": "conversation"}, "data": {"S": "{}"}});
        assert!(outbox_insert(&record("INSERT", conv)).unwrap().is_none());
        let bare = serde_json::json!({"PK": {"S": "OUTBOX#x"}});
        assert!(matches!(
            outbox_insert(&record("INSERT", bare)),
            Err(StreamError::NoData)
        ));
        assert!(is_outbox_key("OUTBOX#x") && !is_outbox_key("CONV#x"));
    }
}
