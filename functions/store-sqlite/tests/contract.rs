//! The shared storage contract, one test per rule, run against the embedded store (in
//! memory and on disk) and against the in-memory fake the use-case tests rely on.

mod common;

use std::sync::Arc;

use handoff_core::contract::Store;
use handoff_core::memory::MemoryStore;
use handoff_sqlite::SqliteStore;

mod sqlite_in_memory {
    use super::*;
    handoff_core::contract_tests!(async {
        Arc::new(SqliteStore::in_memory().expect("open in memory")) as Store
    });
}

mod sqlite_file {
    use super::*;
    handoff_core::contract_tests!(async {
        let dir = common::TempDir::new();
        let store = Arc::new(SqliteStore::open(dir.db()).expect("open file")) as Store;
        (store, dir)
    });
}

mod memory_store {
    use super::*;
    handoff_core::contract_tests!(async { Arc::new(MemoryStore::new()) as Store });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_sqlite_file_twice_on_one_file() {
    // The suite uses fresh ids, so it can run a second time on the same, already
    // populated file (as the suite's design promises).
    let dir = common::TempDir::new();
    handoff_core::contract::run_all(Arc::new(SqliteStore::open(dir.db()).expect("open"))).await;
    handoff_core::contract::run_all(Arc::new(SqliteStore::open(dir.db()).expect("reopen"))).await;
}
