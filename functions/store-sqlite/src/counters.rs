//! Insight counters (`Commit::counters`) in the `counters` table: one row per
//! (key, name), added to inside the commit's transaction.

use rusqlite::{params, Connection};

use handoff_core::error::StoreError;
use handoff_core::insights::{CounterAdd, Counts};
use handoff_core::records::RecordKey;

use super::db_err;

/// Created on open whatever the schema version (it only adds a table), so that it
/// needs no version of its own.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS counters (
    key   TEXT NOT NULL,
    name  TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (key, name)
) WITHOUT ROWID;
";

pub(crate) fn add(conn: &Connection, add: &CounterAdd) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO counters (key, name, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (key, name) DO UPDATE SET value = value + excluded.value",
        )
        .map_err(db_err)?;
    for (name, n) in &add.adds {
        stmt.execute(params![add.key.as_str(), name, n])
            .map_err(db_err)?;
    }
    Ok(())
}

pub(crate) fn read(conn: &Connection, keys: &[RecordKey]) -> Result<Vec<Counts>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT name, value FROM counters WHERE key = ?1")
        .map_err(db_err)?;
    keys.iter()
        .map(|k| {
            stmt.query_map([k.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .and_then(|rows| rows.collect::<Result<Counts, _>>())
            .map_err(db_err)
        })
        .collect()
}
