//! Contract checks for small keyed records and counters.

use jiff::{SignedDuration, Timestamp};

use super::fixtures::{at, conversation, create};
use super::Store;
use crate::error::StoreError;
use crate::ids::CustomerId;
use crate::model::{Outbound, OutboxItem, PhoneNumber};
use crate::ports::Commit;
use crate::records::{Count, RecordKey, RecordWrite};

fn key(kind: &str) -> RecordKey {
    RecordKey::new(kind, &uuid::Uuid::new_v4().simple().to_string())
        .unwrap_or_else(|e| panic!("record key: {e}"))
}

/// Versions guard every write: a stale writer conflicts and changes nothing.
pub async fn records_are_versioned(store: &Store) {
    let k = key("test");
    assert_eq!(
        store.record(&k).await.expect("read"),
        None,
        "records: absent"
    );
    let first = RecordWrite::next(k.clone(), None, &"one", Some(at(600))).expect("w");
    store
        .put_record(first.clone())
        .await
        .expect("records: create");
    let again = store.put_record(first.clone()).await;
    assert!(
        matches!(again, Err(StoreError::Conflict(_))),
        "records: create twice conflicts, got {again:?}"
    );
    let stored = store
        .record(&k)
        .await
        .expect("read")
        .expect("records: stored");
    assert_eq!(stored, first.record, "records: round trip");
    assert!(
        stored.is_live(at(599)) && !stored.is_live(at(600)),
        "records: expiry"
    );
    let second = RecordWrite::next(k.clone(), Some(&stored), &"two", None).expect("w");
    store
        .put_record(second.clone())
        .await
        .expect("records: update");
    let stale = RecordWrite::next(k.clone(), Some(&stored), &"three", None).expect("w");
    assert!(
        matches!(store.put_record(stale).await, Err(StoreError::Conflict(_))),
        "records: stale version conflicts"
    );
    let stored = store.record(&k).await.expect("read").expect("stored");
    assert_eq!(
        stored.decode::<String>().expect("decode"),
        "two",
        "records: stale write changed nothing"
    );
}

/// A record written in a commit is atomic with the rest: a conflicting record
/// version fails the whole commit, outbox item included.
pub async fn records_commit_atomically(store: &Store) {
    let k = key("verify");
    let conv = conversation(&CustomerId::generate());
    let phone = PhoneNumber::from_e164("+821055501234").expect("phone");
    let outbox = |id: &str| OutboxItem {
        id: id.to_string(),
        created_at: at(0),
        item: Outbound::CustomerSms {
            conversation_id: conv.id.clone(),
            to: phone.clone(),
            text: "code".into(),
        },
    };
    let w = RecordWrite::next(k.clone(), None, &1u8, None).expect("w");
    let ok = Commit {
        records: vec![w.clone()],
        outbox: vec![outbox(&format!("verify:{}:1", conv.id))],
        ..create(&conv, vec![])
    };
    store
        .commit(ok)
        .await
        .expect("records: commit with a record");
    let stored = store
        .record(&k)
        .await
        .expect("read")
        .expect("records: committed");
    assert_eq!(stored.version, 1);
    let stale_id = format!("verify:{}:2", conv.id);
    let stale = Commit {
        records: vec![w],
        outbox: vec![outbox(&stale_id)],
        ..Commit::default()
    };
    assert!(
        matches!(store.commit(stale).await, Err(StoreError::Conflict(_))),
        "records: stale record version fails the commit"
    );
    let pending = store
        .pending_outbox(
            at(0).checked_add(SignedDuration::from_hours(1)).expect("t"),
            10_000,
        )
        .await
        .expect("pending");
    assert!(
        !pending.iter().any(|o| o.id == stale_id),
        "records: nothing of a failed commit is written"
    );
}

/// Counters admit up to their limit, also under concurrent callers.
pub async fn counters_hold_their_limit(store: &Store) {
    let k = key("rate");
    let expires = Timestamp::now()
        .checked_add(SignedDuration::from_mins(10))
        .expect("t");
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = store.clone();
        let k = k.clone();
        tasks.push(tokio::spawn(
            async move { store.count(&k, 5, expires).await },
        ));
    }
    let mut admitted = Vec::new();
    for t in tasks {
        match t.await.expect("join").expect("count") {
            Count::Admitted(n) => admitted.push(n),
            Count::OverLimit => {}
        }
    }
    admitted.sort_unstable();
    assert_eq!(
        admitted,
        vec![1, 2, 3, 4, 5],
        "counters: exactly the limit admitted"
    );
    assert_eq!(
        store.count(&k, 5, expires).await.expect("count"),
        Count::OverLimit,
        "counters: stays over the limit"
    );
    assert_eq!(
        store.count(&k, 6, expires).await.expect("count"),
        Count::Admitted(6),
        "counters: a higher limit admits again"
    );
}

/// Paging the queue: each page continues exactly after the last one, in order.
pub async fn queue_pages_in_order(store: &Store) {
    use crate::model::Priority;
    use crate::queue_position::QueuePosition;
    // Far in the past, so these come first whatever else the shared store holds.
    let mut ids = Vec::new();
    for i in 0..7 {
        let c = super::fixtures::queued(&CustomerId::generate(), Priority::High, -10_000_000 + i);
        store
            .commit(create(&c, vec![]))
            .await
            .expect("queue: create");
        ids.push(c.id.clone());
    }
    // Walk the whole queue in pages of 3 (the store may hold others' conversations).
    let mut seen = Vec::new();
    let mut page = store.queue(3).await.expect("queue");
    let mut last: Option<QueuePosition> = None;
    while !page.is_empty() && seen.len() < 10_000 {
        for c in &page {
            let p = QueuePosition::of(c).expect("queued");
            assert!(
                last.as_ref().is_none_or(|l| &p > l),
                "queue: pages are in order"
            );
            last = Some(p);
            seen.push(c.id.clone());
        }
        let after = last.clone().expect("a page");
        page = store.queue_after(&after, 3).await.expect("queue_after");
    }
    let mine: Vec<_> = seen.iter().filter(|id| ids.contains(id)).cloned().collect();
    assert_eq!(mine, ids, "queue: every one reached once, oldest first");
}
