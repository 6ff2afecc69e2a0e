//! Small keyed records (verifications, alert gates, rate counters) in the `records`
//! table: the whole [`Record`] as JSON, with its version and expiry as columns.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use handoff_core::error::StoreError;
use handoff_core::records::{Count, Record, RecordKey, RecordStore, RecordWrite};

use super::{db_err, decode, encode, execute, ms, to_i64, SqliteStore};

/// Inserts or replaces the record; the caller has checked its version.
pub(crate) fn write(conn: &Connection, r: &Record) -> Result<(), StoreError> {
    let data = encode("record", r)?;
    execute(
        conn,
        "INSERT INTO records (key, version, expires_at_ms, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET version = excluded.version,
             expires_at_ms = excluded.expires_at_ms, data = excluded.data",
        params![
            r.key.as_str(),
            to_i64("record version", r.version)?,
            r.expires_at.map(ms),
            data
        ],
    )?;
    Ok(())
}

fn read(conn: &Connection, key: &RecordKey) -> Result<Option<Record>, StoreError> {
    let data: Option<String> = conn
        .prepare_cached("SELECT data FROM records WHERE key = ?1")
        .and_then(|mut s| s.query_row([key.as_str()], |r| r.get(0)).optional())
        .map_err(db_err)?;
    data.map(|d| decode("record", key.as_str(), &d)).transpose()
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn counters(
        &self,
        keys: &[RecordKey],
    ) -> Result<Vec<handoff_core::insights::Counts>, StoreError> {
        let keys = keys.to_vec();
        self.run(move |c| super::counters::read(c, &keys)).await
    }

    async fn record(&self, key: &RecordKey) -> Result<Option<Record>, StoreError> {
        let key = key.clone();
        self.run(move |c| read(c, &key)).await
    }

    async fn put_record(&self, w: RecordWrite) -> Result<(), StoreError> {
        self.run(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let stored = read(&tx, &w.record.key)?.map(|r| r.version);
            if stored != w.expected_version {
                return Err(StoreError::Conflict(format!(
                    "record {} changed",
                    w.record.key
                )));
            }
            write(&tx, &w.record)?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    async fn count(
        &self,
        key: &RecordKey,
        limit: u32,
        expires_at: Timestamp,
    ) -> Result<Count, StoreError> {
        let key = key.clone();
        self.run(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let mut record = read(&tx, &key)?.unwrap_or(Record {
                key: key.clone(),
                version: 0,
                data: serde_json::json!(0),
                expires_at: Some(expires_at),
            });
            let n = record.data.as_u64().unwrap_or(0);
            if n >= u64::from(limit) {
                return Ok(Count::OverLimit);
            }
            record.data = serde_json::json!(n + 1);
            record.version += 1;
            write(&tx, &record)?;
            // Counters of past windows are of no use: drop what has expired.
            execute(
                &tx,
                "DELETE FROM records WHERE expires_at_ms IS NOT NULL AND expires_at_ms < ?1
                   AND key LIKE 'rate:%'",
                params![ms(Timestamp::now())],
            )?;
            tx.commit().map_err(db_err)?;
            Ok(Count::Admitted((n + 1) as u32))
        })
        .await
    }
}
