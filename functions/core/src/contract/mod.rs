//! The storage contract, written once and run against every store
//! (in-memory, embedded SQLite, DynamoDB). Each check uses fresh ids, so the
//! suite can share one store (and one DynamoDB table) with other tests.

//!
//! A store's tests run it with [`contract_tests!`](crate::contract_tests), which makes
//! one `#[test]` per check, so a failure names the rule that broke:
//!
//! ```ignore
//! mod memory {
//!     handoff_core::contract_tests!(async { Arc::new(MemoryStore::new()) as Store });
//! }
//! ```

use std::sync::Arc;

use crate::ports::ConversationStore;

pub mod attachments;
mod catalog;
mod counters;
mod credits;
pub mod fixtures;
mod lists;
mod outbox;
mod records;
mod waits;
mod writes;

pub use catalog::*;
pub use counters::*;
pub use credits::*;
pub use lists::*;
pub use outbox::*;
pub use records::*;
pub use waits::*;
pub use writes::*;

pub type Store = Arc<dyn ConversationStore>;

/// What a contract test runs on: a store, or a store with what must outlive it (a
/// temporary directory), dropped when the test ends.
pub trait UnderTest {
    fn store(&self) -> Store;
}

impl UnderTest for Store {
    fn store(&self) -> Store {
        self.clone()
    }
}

impl<G> UnderTest for (Store, G) {
    fn store(&self) -> Store {
        self.0.clone()
    }
}

/// Runs every check; panics with the name of the first that fails.
pub async fn run_all(store: Store) {
    round_trip_and_cursor(&store).await;
    stale_version_conflicts_and_writes_nothing(&store).await;
    create_twice_conflicts(&store).await;
    duplicate_idempotency_key(&store).await;
    duplicate_message_seq_conflicts(&store).await;
    queue_order_and_membership(&store).await;
    assigned_listing(&store).await;
    customers_and_phones(&store).await;
    customer_history_newest_first(&store).await;
    outbox_lease_and_complete(&store).await;
    concurrent_writers_one_wins(&store).await;
    records_are_versioned(&store).await;
    records_commit_atomically(&store).await;
    counters_hold_their_limit(&store).await;
    queue_pages_in_order(&store).await;
    credit_records_commit_with_the_conversation(&store).await;
    credit_decisions_race_to_one_winner(&store).await;
    counters_add_with_their_commit(&store).await;
    counters_add_up_under_concurrency(&store).await;
    escalation_is_marked_once_with_its_alert(&store).await;
    digest_commits_once(&store).await;
    presence_record_round_trips(&store).await;
    catalog_versions(&store).await;
}

/// One `#[tokio::test]` per contract check, each on what the async expression makes
/// (an [`UnderTest`]: a [`Store`], or a store and a guard). Needs `tokio` in the
/// caller's dev-dependencies.
#[macro_export]
macro_rules! contract_tests {
    ($store:expr) => {
        $crate::contract_tests!(@each $store; round_trip_and_cursor, stale_version_conflicts_and_writes_nothing, create_twice_conflicts, duplicate_idempotency_key, duplicate_message_seq_conflicts, queue_order_and_membership, assigned_listing, customers_and_phones, customer_history_newest_first, outbox_lease_and_complete, concurrent_writers_one_wins, records_are_versioned, records_commit_atomically, counters_hold_their_limit, queue_pages_in_order, credit_records_commit_with_the_conversation, credit_decisions_race_to_one_winner, counters_add_with_their_commit, counters_add_up_under_concurrency, escalation_is_marked_once_with_its_alert, digest_commits_once, presence_record_round_trips, catalog_versions);
    };
    (@each $store:expr; $($check:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let under_test = $store.await;
                let store = $crate::contract::UnderTest::store(&under_test);
                $crate::contract::$check(&store).await;
            }
        )+
    };
}
