//! Insight counters (`Commit::counters`): one item per key, `PK = STATS#<key>`,
//! `SK = META`, each counter a number attribute `c:<name>`, added to with `ADD`
//! inside the commit's `TransactWriteItems` (no condition: counting never
//! conflicts with itself, only with a concurrent transaction on the same item,
//! which is why a day's counters are sharded). Read back with `BatchGetItem`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{KeysAndAttributes, TransactWriteItem, Update};

use handoff_core::insights::{CounterAdd, Counts};
use handoff_core::records::RecordKey;
use handoff_core::StoreError;

use super::{build_error, keys, n, s, sdk_error, DynamoStore, Item};

const PREFIX: &str = "c:";
/// Keys per `BatchGetItem` (DynamoDB's limit).
const BATCH: usize = 100;

fn pk(key: &RecordKey) -> String {
    format!("STATS#{key}")
}

/// One `Update` adding every counter of `add` to its item.
pub(crate) fn update(table: &str, add: &CounterAdd) -> Result<TransactWriteItem, StoreError> {
    let mut names = HashMap::from([("#t".to_string(), keys::TYPE.to_string())]);
    let mut values = HashMap::from([(":t".to_string(), s("stats"))]);
    let mut adds = Vec::new();
    for (i, (name, v)) in add.adds.iter().enumerate() {
        names.insert(format!("#c{i}"), format!("{PREFIX}{name}"));
        values.insert(format!(":c{i}"), n(v));
        adds.push(format!("#c{i} :c{i}"));
    }
    let u = Update::builder()
        .table_name(table)
        .key(keys::PK, s(pk(&add.key)))
        .key(keys::SK, s(keys::META))
        .update_expression(format!("SET #t = :t ADD {}", adds.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().update(u).build())
}

fn counts(item: &Item) -> Counts {
    item.iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix(PREFIX)?;
            let n = v.as_n().ok()?.parse::<i64>().ok()?;
            Some((name.to_string(), n))
        })
        .collect()
}

impl DynamoStore {
    /// The counters of `wanted`, in order (empty when an item is missing).
    pub(crate) async fn read_counters(
        &self,
        wanted: &[RecordKey],
    ) -> Result<Vec<Counts>, StoreError> {
        let mut found: HashMap<String, Counts> = HashMap::new();
        for chunk in wanted.chunks(BATCH) {
            let mut pending: Vec<Item> = chunk
                .iter()
                .map(|k| {
                    HashMap::from([
                        (keys::PK.to_string(), s(pk(k))),
                        (keys::SK.to_string(), s(keys::META)),
                    ])
                })
                .collect();
            // Unprocessed keys (throttling) are asked again, a bounded number of times.
            for _ in 0..8 {
                if pending.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchGetItem", e))?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    if let Some(pk) = item.get(keys::PK).and_then(|v| v.as_s().ok()) {
                        found.insert(pk.clone(), counts(&item));
                    }
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Unavailable(
                    "BatchGetItem left keys unprocessed".into(),
                ));
            }
        }
        Ok(wanted
            .iter()
            .map(|k| found.remove(&pk(k)).unwrap_or_default())
            .collect())
    }
}
