//! The shared storage contract, run against the embedded store (in memory and on
//! disk) and against the in-memory fake the use-case tests rely on.

mod common;

use std::sync::Arc;

use handoff_core::memory::MemoryStore;
use handoff_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_sqlite_in_memory() {
    let store = SqliteStore::in_memory().expect("open in memory");
    handoff_core::contract::run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_sqlite_file() {
    let dir = common::TempDir::new();
    let store = SqliteStore::open(dir.db()).expect("open file");
    handoff_core::contract::run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_sqlite_file_twice_on_one_file() {
    // The suite uses fresh ids, so it can run a second time on the same, already
    // populated file (as the suite's design promises).
    let dir = common::TempDir::new();
    handoff_core::contract::run_all(Arc::new(SqliteStore::open(dir.db()).expect("open"))).await;
    handoff_core::contract::run_all(Arc::new(SqliteStore::open(dir.db()).expect("reopen"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_memory_store() {
    handoff_core::contract::run_all(Arc::new(MemoryStore::new())).await;
}
