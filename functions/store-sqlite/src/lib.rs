//! The embedded, durable conversation store: one SQLite file, the local default.
//!
//! Each record is kept whole as JSON in a `data` column; the other columns exist
//! only to find, order and check records (ids, versions, queue keys, timestamps in
//! milliseconds since the Unix epoch). A [`Commit`] is one `BEGIN IMMEDIATE`
//! transaction that first runs [`check_commit`] against the stored state and only
//! then writes, so a failed commit leaves nothing behind, and two writers (tasks
//! or processes sharing the file) cannot both win the same version.
//!
//! `rusqlite` blocks, so every call runs on tokio's blocking pool
//! ([`tokio::task::spawn_blocking`]) and needs a tokio runtime.
//!
//! The file is opened in WAL mode with `synchronous=NORMAL`: a committed write
//! survives a crash of the process; a power loss may lose the last few commits
//! but never corrupts the file.

use std::cell::RefCell;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;

use handoff_core::error::StoreError;
use handoff_core::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey};
use handoff_core::memory::{check_commit, check_records};
use handoff_core::model::{
    Conversation, Customer, IdempotencyRecord, Message, OutboxItem, PhoneNumber, Status,
};
use handoff_core::ports::{Commit, ConversationStore, OutboxStore};
use handoff_core::queue_position::QueuePosition;
use handoff_core::records::RecordKey;

mod counters;
mod records;

/// The schema this build writes, kept in SQLite's `user_version` so that later
/// builds can migrate older files.
pub const SCHEMA_VERSION: i64 = 2;

/// How long a call waits for another connection's write lock before it reports
/// [`StoreError::Unavailable`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS conversations (
    id            TEXT PRIMARY KEY NOT NULL,
    version       INTEGER NOT NULL,
    status        TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    queue_rank    INTEGER,
    queue_at      INTEGER,
    assigned_to   TEXT,
    updated_at_ms INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    data          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_queue
    ON conversations (queue_rank, queue_at, id) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS conversations_assigned
    ON conversations (assigned_to, updated_at_ms DESC, id DESC) WHERE status = 'assigned';
CREATE INDEX IF NOT EXISTS conversations_customer
    ON conversations (customer_id, created_at_ms DESC, id DESC);

CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    data            TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS customers (
    id      TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    phone   TEXT UNIQUE,
    data    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS idempotency (
    key  TEXT PRIMARY KEY NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    leased_until_ms INTEGER,
    delivered_at_ms INTEGER,
    data            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_pending
    ON outbox (created_at_ms, id) WHERE delivered_at_ms IS NULL;
";

/// Version 2: small keyed records (verifications, alert gates, rate counters).
const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS records (
    key           TEXT PRIMARY KEY NOT NULL,
    version       INTEGER NOT NULL,
    expires_at_ms INTEGER,
    data          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_expiry ON records (expires_at_ms) WHERE expires_at_ms IS NOT NULL;
";

/// The embedded store. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database file at `path` and creates the schema if it
    /// is missing. The parent directory must exist. A new file is readable by this user
    /// only (SQLite gives its WAL and shared-memory files the same mode).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path.as_ref())
                .map_err(|e| {
                    StoreError::Unavailable(format!("{}: {e}", path.as_ref().display()))
                })?;
        }
        let conn = Connection::open(path.as_ref()).map_err(db_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(journal_mode = %mode, "sqlite store: WAL mode unavailable");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        Self::init(conn)
    }

    /// A private database that lives as long as this store (and its clones): for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(db_err)?;
        Self::init(conn)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        migrate(&mut conn)?;
        conn.execute_batch(counters::SCHEMA).map_err(db_err)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no open transaction behind
            // (rusqlite rolls back on drop), so a poisoned lock is safe to reuse.
            let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Unavailable(format!(
            "database schema version {version} is newer than this build's {SCHEMA_VERSION}"
        )));
    }
    if version < 1 {
        tx.execute_batch(SCHEMA_V1).map_err(db_err)?;
    }
    if version < 2 {
        tx.execute_batch(SCHEMA_V2).map_err(db_err)?;
    }
    // Later versions migrate here, one step at a time.
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(db_err)?;
    tx.commit().map_err(db_err)
}

/// Maps SQLite's errors. The messages name tables and columns, never stored values.
fn db_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable("database is busy".into())
        }
        // The checks run before every write, so this is a race the checks missed
        // or a bug; either way the write did not happen.
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(format!("record exists: {e}")),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Corrupt(format!("database file: {e}"))
        }
        _ => StoreError::Unavailable(format!("sqlite: {e}")),
    }
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| {
        StoreError::Corrupt(format!("{what} could not be encoded: {:?}", e.classify()))
    })
}

/// Parses a stored record. serde_json's messages may quote the offending value,
/// so only its category and position are reported.
fn decode<T: DeserializeOwned>(what: &str, key: &str, data: &str) -> Result<T, StoreError> {
    serde_json::from_str(data).map_err(|e| {
        StoreError::Corrupt(format!(
            "{what} {key}: stored JSON does not parse ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

fn to_i64(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} is out of range")))
}

fn to_u64(what: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored {what} {v} is negative")))
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// Runs a query selecting `(key, data)` and decodes `data` of each row.
fn query_data<T: DeserializeOwned>(
    conn: &Connection,
    what: &str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (key, data) = row.map_err(db_err)?;
        out.push(decode(what, &key, &data)?);
    }
    Ok(out)
}

fn query_one<T: DeserializeOwned>(
    conn: &Connection,
    what: &str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<T>, StoreError> {
    Ok(query_data(conn, what, sql, params)?.into_iter().next())
}

fn write_commit(conn: &mut Connection, commit: &Commit) -> Result<(), StoreError> {
    // IMMEDIATE takes the write lock now, so nobody writes between the checks and
    // the writes, whichever connection or process they come from.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    check(&tx, commit)?;

    if let Some(w) = &commit.conversation {
        let c = &w.conversation;
        let (rank, queue_at) = match c.status {
            // Same order as `memory::sort_queue`: a queued conversation without a
            // handoff record goes last.
            Status::Queued => {
                let (rank, at) = c.queue_key().unwrap_or((u8::MAX, i64::MAX));
                (Some(i64::from(rank)), Some(at))
            }
            _ => (None, None),
        };
        let version = to_i64("conversation version", c.version)?;
        let data = encode("conversation", c)?;
        execute(
            &tx,
            "INSERT INTO conversations
                 (id, version, status, customer_id, queue_rank, queue_at, assigned_to,
                  updated_at_ms, created_at_ms, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET
                 version = excluded.version, status = excluded.status,
                 customer_id = excluded.customer_id, queue_rank = excluded.queue_rank,
                 queue_at = excluded.queue_at, assigned_to = excluded.assigned_to,
                 updated_at_ms = excluded.updated_at_ms, created_at_ms = excluded.created_at_ms,
                 data = excluded.data",
            params![
                c.id.as_str(),
                version,
                c.status.as_str(),
                c.customer_id.as_str(),
                rank,
                queue_at,
                c.assigned_to.as_ref().map(AgentId::as_str),
                ms(c.updated_at),
                ms(c.created_at),
                data,
            ],
        )?;
    }

    if let Some(w) = &commit.customer {
        let c = &w.customer;
        let version = to_i64("customer version", c.version)?;
        let data = encode("customer", c)?;
        // Updating the row in place frees the old number when it changes.
        execute(
            &tx,
            "INSERT INTO customers (id, version, phone, data) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET
                 version = excluded.version, phone = excluded.phone, data = excluded.data",
            params![
                c.id.as_str(),
                version,
                c.phone.as_ref().map(PhoneNumber::as_str),
                data
            ],
        )?;
    }

    for m in &commit.messages {
        let seq = to_i64("message seq", m.seq)?;
        let data = encode("message", m)?;
        execute(
            &tx,
            "INSERT INTO messages (conversation_id, seq, data) VALUES (?1, ?2, ?3)",
            params![m.conversation_id.as_str(), seq, data],
        )?;
    }

    if let Some(r) = &commit.idempotency {
        let data = encode("idempotency record", r)?;
        execute(
            &tx,
            "INSERT INTO idempotency (key, data) VALUES (?1, ?2)",
            params![r.key.as_str(), data],
        )?;
    }

    for o in &commit.outbox {
        let data = encode("outbox item", o)?;
        execute(
            &tx,
            "INSERT INTO outbox (id, created_at_ms, leased_until_ms, delivered_at_ms, data)
             VALUES (?1, ?2, NULL, NULL, ?3)",
            params![o.id, ms(o.created_at), data],
        )?;
    }
    for r in &commit.records {
        records::write(&tx, &r.record)?;
    }
    for c in &commit.counters {
        counters::add(&tx, c)?;
    }

    tx.commit().map_err(db_err)
}

/// Runs one statement; returns the number of rows it changed.
fn execute(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(params))
        .map_err(db_err)
}

/// `check_commit` asks through infallible closures: the first read error is kept
/// aside (and wins over whatever the checks concluded).
fn keep<T>(failed: &RefCell<Option<StoreError>>, r: Result<Option<T>, StoreError>) -> Option<T> {
    match r {
        Ok(v) => v,
        Err(e) => {
            failed.borrow_mut().get_or_insert(e);
            None
        }
    }
}

/// Runs the shared checks against the stored state, inside the write transaction.
fn check(conn: &Connection, commit: &Commit) -> Result<(), StoreError> {
    let failed: RefCell<Option<StoreError>> = RefCell::new(None);
    let version = |sql: &str, id: &str| -> Result<Option<u64>, StoreError> {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.query_row([id], |r| r.get::<_, i64>(0)).optional())
            .map_err(db_err)?
            .map(|v| to_u64("version", v))
            .transpose()
    };
    let exists = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Option<()>, StoreError> {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.exists(p))
            .map(|found| found.then_some(()))
            .map_err(db_err)
    };
    let checked = check_commit(
        commit,
        |id: &ConversationId| {
            keep(
                &failed,
                version(
                    "SELECT version FROM conversations WHERE id = ?1",
                    id.as_str(),
                ),
            )
        },
        |id: &CustomerId| {
            keep(
                &failed,
                version("SELECT version FROM customers WHERE id = ?1", id.as_str()),
            )
        },
        |phone: &PhoneNumber| {
            keep(
                &failed,
                conn.prepare_cached("SELECT id FROM customers WHERE phone = ?1")
                    .and_then(|mut s| {
                        s.query_row([phone.as_str()], |r| r.get::<_, String>(0))
                            .optional()
                    })
                    .map_err(db_err)
                    .and_then(|id| {
                        id.map(|id| {
                            CustomerId::parse(&id).map_err(|_| {
                                StoreError::Corrupt("stored customer id is invalid".into())
                            })
                        })
                        .transpose()
                    }),
            )
        },
        |id: &ConversationId, seq: u64| {
            let seq = match to_i64("message seq", seq) {
                Ok(seq) => seq,
                Err(e) => return keep(&failed, Err::<Option<()>, _>(e)).is_some(),
            };
            keep(
                &failed,
                exists(
                    "SELECT 1 FROM messages WHERE conversation_id = ?1 AND seq = ?2",
                    &[&id.as_str(), &seq],
                ),
            )
            .is_some()
        },
        |key: &IdempotencyKey| {
            keep(
                &failed,
                exists("SELECT 1 FROM idempotency WHERE key = ?1", &[&key.as_str()]),
            )
            .is_some()
        },
        |id: &str| {
            keep(
                &failed,
                exists("SELECT 1 FROM outbox WHERE id = ?1", &[&id]),
            )
            .is_some()
        },
    )
    .and_then(|()| {
        check_records(commit, |key: &RecordKey| {
            keep(
                &failed,
                version("SELECT version FROM records WHERE key = ?1", key.as_str()),
            )
        })
    });
    if let Some(e) = failed.into_inner() {
        return Err(e);
    }
    checked
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        let id = id.clone();
        self.run(move |c| {
            query_one(
                c,
                "conversation",
                "SELECT id, data FROM conversations WHERE id = ?1",
                [id.as_str()],
            )
        })
        .await
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        self.run(move |c| write_commit(c, &commit)).await
    }

    async fn messages(
        &self,
        id: &ConversationId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        // Sequence numbers are stored as SQLite integers; none is above i64::MAX.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let id = id.clone();
        self.run(move |c| {
            query_data(
                c,
                "messages of conversation",
                "SELECT conversation_id, data FROM messages
                 WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                params![id.as_str(), after, limit_of(limit)],
            )
        })
        .await
    }

    async fn idempotency(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let key = key.clone();
        self.run(move |c| {
            query_one(
                c,
                "idempotency record",
                "SELECT key, data FROM idempotency WHERE key = ?1",
                [key.as_str()],
            )
        })
        .await
    }

    async fn queue(&self, limit: usize) -> Result<Vec<Conversation>, StoreError> {
        self.run(move |c| {
            query_data(
                c,
                "conversation",
                "SELECT id, data FROM conversations WHERE status = 'queued'
                 ORDER BY queue_rank, queue_at, id LIMIT ?1",
                [limit_of(limit)],
            )
        })
        .await
    }

    async fn queue_after(
        &self,
        after: &QueuePosition,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        let (rank, at, id) = (
            i64::from(after.rank),
            after.waiting_since_ms,
            after.id.as_str().to_string(),
        );
        self.run(move |c| {
            query_data(
                c,
                "conversation",
                "SELECT id, data FROM conversations WHERE status = 'queued'
                   AND (queue_rank, queue_at, id) > (?1, ?2, ?3)
                 ORDER BY queue_rank, queue_at, id LIMIT ?4",
                params![rank, at, id, limit_of(limit)],
            )
        })
        .await
    }

    async fn assigned_to(
        &self,
        agent: &AgentId,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        let agent = agent.clone();
        self.run(move |c| {
            query_data(
                c,
                "conversation",
                "SELECT id, data FROM conversations WHERE status = 'assigned' AND assigned_to = ?1
                 ORDER BY updated_at_ms DESC, id DESC LIMIT ?2",
                params![agent.as_str(), limit_of(limit)],
            )
        })
        .await
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let id = id.clone();
        self.run(move |c| {
            query_one(
                c,
                "customer",
                "SELECT id, data FROM customers WHERE id = ?1",
                [id.as_str()],
            )
        })
        .await
    }

    async fn customer_by_phone(&self, phone: &PhoneNumber) -> Result<Option<Customer>, StoreError> {
        let phone = phone.as_str().to_string();
        self.run(move |c| {
            query_one(
                c,
                "customer",
                "SELECT id, data FROM customers WHERE phone = ?1",
                [phone.as_str()],
            )
        })
        .await
    }

    async fn customer_conversations(
        &self,
        id: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        let id = id.clone();
        self.run(move |c| {
            query_data(
                c,
                "conversation",
                "SELECT id, data FROM conversations WHERE customer_id = ?1
                 ORDER BY created_at_ms DESC, id DESC LIMIT ?2",
                params![id.as_str(), limit_of(limit)],
            )
        })
        .await
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn pending_outbox(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.run(move |c| {
            query_data(
                c,
                "outbox item",
                "SELECT id, data FROM outbox
                 WHERE delivered_at_ms IS NULL AND (leased_until_ms IS NULL OR leased_until_ms <= ?1)
                 ORDER BY created_at_ms, id LIMIT ?2",
                params![ms(now), limit_of(limit)],
            )
        })
        .await
    }

    async fn lease_outbox(
        &self,
        id: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |c| {
            // One statement: SQLite runs it under the write lock, so two workers
            // cannot both take the item.
            let changed = c
                .prepare_cached(
                    "UPDATE outbox SET leased_until_ms = ?3
                     WHERE id = ?1 AND delivered_at_ms IS NULL
                       AND (leased_until_ms IS NULL OR leased_until_ms <= ?2)",
                )
                .and_then(|mut s| s.execute(params![id, ms(now), ms(until)]))
                .map_err(db_err)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn complete_outbox(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run(move |c| {
            // Completing twice keeps the first time; an unknown id is not an error.
            c.prepare_cached(
                "UPDATE outbox SET delivered_at_ms = ?2 WHERE id = ?1 AND delivered_at_ms IS NULL",
            )
            .and_then(|mut s| s.execute(params![id, ms(at)]))
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn release_outbox(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run(move |c| {
            c.prepare_cached(
                "UPDATE outbox SET leased_until_ms = NULL WHERE id = ?1 AND delivered_at_ms IS NULL",
            )
            .and_then(|mut s| s.execute(params![id]))
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}
