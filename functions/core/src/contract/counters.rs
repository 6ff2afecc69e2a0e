//! Insight counters: added in the commit they come with (or not at all), atomically
//! under concurrent commits, read back per key with missing keys empty.

use crate::ids::CustomerId;
use crate::insights::{CounterAdd, Counts};
use crate::records::RecordKey;
use crate::StoreError;

use super::fixtures::{conversation, create, update};
use super::Store;

fn key() -> RecordKey {
    RecordKey::new(
        "stats",
        &format!("test-{}:0", uuid::Uuid::new_v4().simple()),
    )
    .expect("key")
}

fn adds(pairs: &[(&str, i64)]) -> Counts {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

pub async fn counters_add_with_their_commit(store: &Store) {
    let k = key();
    let conv = conversation(&CustomerId::generate());
    let add = CounterAdd {
        key: k.clone(),
        adds: adds(&[("conversations", 1), ("in:web", 2), ("handoff:threat", 1)]),
    };
    let mut first = create(&conv, vec![]);
    first.counters = vec![add.clone()];
    store.commit(first).await.expect("counters: commit");
    let mut second = update(&conv, vec![]);
    second.counters = vec![CounterAdd {
        key: k.clone(),
        adds: adds(&[("in:web", 3), ("csat_sum", -1)]),
    }];
    store.commit(second).await.expect("counters: second commit");
    // The same write again is stale: it must add nothing.
    let mut stale = update(&conv, vec![]);
    stale.counters = vec![add];
    assert!(
        matches!(store.commit(stale).await, Err(StoreError::Conflict(_))),
        "counters: a stale commit fails"
    );
    let missing = key();
    let read = store
        .counters(&[k.clone(), missing])
        .await
        .expect("counters: read");
    assert_eq!(
        read,
        vec![
            adds(&[
                ("conversations", 1),
                ("in:web", 5),
                ("handoff:threat", 1),
                ("csat_sum", -1)
            ]),
            Counts::new()
        ],
        "counters: added by committed writes only, missing keys empty"
    );
}

pub async fn counters_add_up_under_concurrency(store: &Store) {
    let k = key();
    let writers = (0..8).map(|_| {
        let store = store.clone();
        let k = k.clone();
        tokio::spawn(async move {
            let conv = conversation(&CustomerId::generate());
            let mut c = create(&conv, vec![]);
            c.counters = vec![CounterAdd {
                key: k,
                adds: adds(&[("conversations", 1)]),
            }];
            // A concurrent transaction on the same item may be cancelled: retried,
            // as the use cases do.
            for _ in 0..40 {
                match store.commit(c.clone()).await {
                    Err(StoreError::Conflict(_)) => continue,
                    other => return other,
                }
            }
            Err(StoreError::Conflict("gave up".into()))
        })
    });
    for w in writers.collect::<Vec<_>>() {
        w.await.expect("join").expect("counters: concurrent commit");
    }
    let read = store.counters(&[k]).await.expect("read");
    assert_eq!(
        read[0].get("conversations"),
        Some(&8),
        "counters: no lost adds"
    );
}
