//! Small keyed records (verifications, alert gates, rate counters): one item each,
//! `PK = REC#<key>`, `SK = META`, the [`Record`] as JSON in `data`, its version in
//! `version` and its expiry as the table's TTL attribute. Counters are items of
//! their own shape (`count`, no `data`), only ever touched by [`RecordStore::count`].

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use jiff::Timestamp;

use handoff_core::records::{Count, Record, RecordKey, RecordStore, RecordWrite};
use handoff_core::StoreError;

use super::{data, keys, n, s, sdk_error, to_json, DynamoStore, Item};

pub(crate) const TYPE_RECORD: &str = "record";

fn pk(key: &RecordKey) -> String {
    format!("REC#{key}")
}

pub(crate) fn item(r: &Record) -> Result<Item, StoreError> {
    let mut item = DynamoStore::base(pk(&r.key), TYPE_RECORD, to_json(r)?);
    item.insert(keys::VERSION.into(), n(r.version));
    if let Some(t) = r.expires_at {
        item.insert(keys::EXPIRES_AT.into(), n(t.as_second()));
    }
    Ok(item)
}

/// The condition that the stored version is `expected` (`None`: no item yet).
pub(crate) fn condition(expected: Option<u64>) -> (&'static str, Item) {
    match expected {
        None => ("attribute_not_exists(#pk)", HashMap::new()),
        Some(v) => ("#v = :v", HashMap::from([(":v".to_string(), n(v))])),
    }
}

#[async_trait]
impl RecordStore for DynamoStore {
    async fn counters(
        &self,
        keys: &[RecordKey],
    ) -> Result<Vec<handoff_core::insights::Counts>, StoreError> {
        self.read_counters(keys).await
    }

    async fn record(&self, key: &RecordKey) -> Result<Option<Record>, StoreError> {
        self.get(pk(key), keys::META)
            .await?
            .map(|item| data(&item))
            .transpose()
    }

    async fn put_record(&self, w: RecordWrite) -> Result<(), StoreError> {
        let (cond, values) = condition(w.expected_version);
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some({
                let mut it = item(&w.record)?;
                if w.record.expires_at.is_none() {
                    self.expiry(&mut it, jiff::Timestamp::now());
                }
                it
            }))
            .condition_expression(cond);
        req = if w.expected_version.is_none() {
            req.expression_attribute_names("#pk", keys::PK)
        } else {
            req.expression_attribute_names("#v", keys::VERSION)
        };
        if !values.is_empty() {
            req = req.set_expression_attribute_values(Some(values));
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict(format!(
                    "record {} changed",
                    w.record.key
                )))
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    /// One conditional UpdateItem: `ADD`-like increment guarded by the limit, so that
    /// any number of function instances share one counter.
    async fn count(
        &self,
        key: &RecordKey,
        limit: u32,
        expires_at: Timestamp,
    ) -> Result<Count, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk(key)))
            .key(keys::SK, s(keys::META))
            .update_expression(
                "SET #c = if_not_exists(#c, :zero) + :one, #t = :type, #e = :exp, #k = :key",
            )
            .condition_expression("attribute_not_exists(#c) OR #c < :limit")
            .expression_attribute_names("#c", "count")
            .expression_attribute_names("#t", keys::TYPE)
            .expression_attribute_names("#e", keys::EXPIRES_AT)
            .expression_attribute_names("#k", "record_key")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":type", s("counter"))
            .expression_attribute_values(":exp", n(expires_at.as_second()))
            .expression_attribute_values(":key", s(key.as_str()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(o) => {
                let count = o
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("count"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<u32>().ok())
                    .ok_or_else(|| StoreError::Corrupt(format!("counter {key} has no count")))?;
                Ok(Count::Admitted(count))
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Count::OverLimit)
            }
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }
}
