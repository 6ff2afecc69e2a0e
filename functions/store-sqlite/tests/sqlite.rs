//! Behaviour of the embedded store beyond the shared contract: durability,
//! several connections on one file, atomicity, schema versioning, errors.

mod common;

use std::sync::Arc;

use handoff_core::error::StoreError;
use handoff_core::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey};
use handoff_core::model::*;
use handoff_core::ports::{
    Commit, ConversationStore, ConversationWrite, CustomerWrite, OutboxStore,
};
use handoff_sqlite::{SqliteStore, SCHEMA_VERSION};
use jiff::SignedDuration;

use handoff_core::contract::fixtures::{at, create, in_state as conversation};

fn message(conv: &Conversation, seq: u64, text: &str) -> Message {
    handoff_core::contract::fixtures::message(conv, seq, Role::Customer, text)
}

fn phone() -> PhoneNumber {
    let tail = (uuid::Uuid::new_v4().as_u128() % 100_000_000) as u32;
    PhoneNumber::parse(&format!("+8210{tail:08}"), handoff_core::sms::Country::KR).expect("phone")
}

fn sms(conv: &Conversation, n: u32, to: &PhoneNumber) -> OutboxItem {
    OutboxItem {
        id: format!("sms:{}:{n}", conv.id),
        created_at: at(n as i64),
        item: Outbound::CustomerSms {
            conversation_id: conv.id.clone(),
            to: to.clone(),
            text: "안녕하세요".into(),
        },
    }
}

/// A claim of `conv` by `agent` that expects the version it was read at.
fn claim(conv: &Conversation, agent: &str) -> Commit {
    let mut next = conv.clone();
    next.claim(&AgentId::parse(agent).expect("agent"))
        .expect("claim");
    next.version += 1;
    next.last_seq += 1;
    let msg = message(conv, conv.last_seq + 1, &format!("{agent} joined"));
    Commit {
        conversation: Some(ConversationWrite {
            conversation: next,
            expected_version: Some(conv.version),
        }),
        messages: vec![msg],
        ..Commit::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_reopening_the_file() {
    let dir = common::TempDir::new();
    let number = phone();
    let mut customer = Customer::new(CustomerId::generate(), at(0));
    customer.phone = Some(number.clone());
    customer.version = 1;
    let mut conv = conversation(Status::Queued);
    conv.customer_id = customer.id.clone();
    conv.last_seq = 2;
    customer.open_conversation = Some(conv.id.clone());
    let msgs = vec![
        message(&conv, 1, "환불해 주세요"),
        message(&conv, 2, "사람과 얘기하고 싶어요"),
    ];
    let key = IdempotencyKey::sms("sns", &uuid::Uuid::new_v4().to_string());
    let record = IdempotencyRecord {
        key: key.clone(),
        conversation_id: conv.id.clone(),
        first_seq: 1,
        last_seq: 2,
        at: at(2),
    };
    let (leased, free) = (sms(&conv, 1, &number), sms(&conv, 2, &number));
    {
        let store = SqliteStore::open(dir.db()).expect("open");
        store
            .commit(Commit {
                conversation: Some(ConversationWrite {
                    conversation: conv.clone(),
                    expected_version: None,
                }),
                customer: Some(CustomerWrite {
                    customer: customer.clone(),
                    expected_version: None,
                }),
                messages: msgs.clone(),
                idempotency: Some(record.clone()),
                outbox: vec![leased.clone(), free.clone()],
                records: Vec::new(),
                counters: Vec::new(),
            })
            .await
            .expect("commit");
        assert!(store
            .lease_outbox(&leased.id, at(10), at(70))
            .await
            .expect("lease"));
    }
    let store = SqliteStore::open(dir.db()).expect("reopen");
    assert_eq!(
        store.conversation(&conv.id).await.expect("read"),
        Some(conv.clone())
    );
    assert_eq!(store.messages(&conv.id, 0, 10).await.expect("read"), msgs);
    assert_eq!(
        store.customer(&customer.id).await.expect("read"),
        Some(customer.clone())
    );
    assert_eq!(
        store.customer_by_phone(&number).await.expect("read"),
        Some(customer.clone())
    );
    assert_eq!(store.idempotency(&key).await.expect("read"), Some(record));
    assert_eq!(
        store
            .customer_conversations(&customer.id, 10)
            .await
            .expect("read"),
        vec![conv.clone()]
    );
    assert_eq!(store.queue(10).await.expect("read"), vec![conv.clone()]);
    // The lease was kept too: only the other item is pending until it runs out.
    assert_eq!(
        store.pending_outbox(at(20), 10).await.expect("read"),
        vec![free.clone()]
    );
    assert_eq!(
        store.pending_outbox(at(70), 10).await.expect("read"),
        vec![leased.clone(), free]
    );
    // Old versions still conflict after the restart.
    assert!(matches!(
        store.commit(create(&conv, vec![])).await,
        Err(StoreError::Conflict(_))
    ));

    let raw = rusqlite::Connection::open(dir.db()).expect("raw open");
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_writers_on_separate_connections_one_wins() {
    // Five handles on one file stand for five server processes: SQLite's file
    // lock (BEGIN IMMEDIATE) and the version check must hold across them.
    let dir = common::TempDir::new();
    let stores: Vec<Arc<SqliteStore>> = (0..5)
        .map(|_| Arc::new(SqliteStore::open(dir.db()).expect("open")))
        .collect();
    for round in 0..5 {
        let conv = conversation(Status::Queued);
        stores[round]
            .commit(create(&conv, vec![]))
            .await
            .expect("create");
        let barrier = Arc::new(tokio::sync::Barrier::new(20));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = Arc::clone(&stores[i % stores.len()]);
                let commit = claim(&conv, &format!("agent-{i}"));
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    (i, store.commit(commit).await)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            match t.await.expect("join") {
                (i, Ok(())) => winners.push(i),
                (_, Err(StoreError::Conflict(_))) => {}
                (_, Err(e)) => panic!("round {round}: unexpected {e:?}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one winner, got {winners:?}"
        );
        let winner = AgentId::parse(&format!("agent-{}", winners[0])).expect("agent");
        for store in &stores {
            let stored = store
                .conversation(&conv.id)
                .await
                .expect("read")
                .expect("stored");
            assert_eq!(
                (stored.version, stored.assigned_to.as_ref()),
                (2, Some(&winner))
            );
            let msgs = store.messages(&conv.id, 0, 100).await.expect("read");
            assert_eq!(msgs.len(), 1, "round {round}: one join message");
            assert_eq!(msgs[0].text, format!("{winner} joined"));
            assert!(!store
                .queue(1000)
                .await
                .expect("queue")
                .iter()
                .any(|c| c.id == conv.id));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn retrying_writers_on_separate_connections_lose_no_update() {
    // Read-modify-write with retry on Conflict, from 20 tasks over 4 connections:
    // every increment lands exactly once.
    let dir = common::TempDir::new();
    let stores: Vec<Arc<SqliteStore>> = (0..4)
        .map(|_| Arc::new(SqliteStore::open(dir.db()).expect("open")))
        .collect();
    let conv = conversation(Status::Bot);
    stores[0]
        .commit(create(&conv, vec![]))
        .await
        .expect("create");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&stores[i % stores.len()]);
            let id = conv.id.clone();
            tokio::spawn(async move {
                loop {
                    let current = store
                        .conversation(&id)
                        .await
                        .expect("read")
                        .expect("stored");
                    let mut next = current.clone();
                    next.version += 1;
                    next.last_seq += 1;
                    let commit = Commit {
                        conversation: Some(ConversationWrite {
                            conversation: next,
                            expected_version: Some(current.version),
                        }),
                        messages: vec![message(
                            &current,
                            current.last_seq + 1,
                            &format!("writer {i}"),
                        )],
                        ..Commit::default()
                    };
                    match store.commit(commit).await {
                        Ok(()) => return,
                        Err(StoreError::Conflict(_)) => tokio::task::yield_now().await,
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("join");
    }
    let stored = stores[3]
        .conversation(&conv.id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!((stored.version, stored.last_seq), (21, 20));
    let seqs: Vec<u64> = stores[1]
        .messages(&conv.id, 0, 100)
        .await
        .expect("m")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_failing_write_rolls_back_the_whole_commit() {
    // Two messages with the same seq in one commit pass the checks (neither is
    // stored yet) and fail on the second insert: nothing of the commit remains.
    let store = SqliteStore::in_memory().expect("open");
    let conv = conversation(Status::Bot);
    let mut commit = create(&conv, vec![message(&conv, 1, "a"), message(&conv, 1, "b")]);
    commit.idempotency = Some(IdempotencyRecord {
        key: IdempotencyKey::sms("sns", "twice"),
        conversation_id: conv.id.clone(),
        first_seq: 1,
        last_seq: 1,
        at: at(1),
    });
    assert!(matches!(
        store.commit(commit).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.conversation(&conv.id).await.expect("read").is_none());
    assert!(store
        .messages(&conv.id, 0, 10)
        .await
        .expect("read")
        .is_empty());
    assert!(store
        .idempotency(&IdempotencyKey::sms("sns", "twice"))
        .await
        .expect("read")
        .is_none());
    // The store is still usable afterwards.
    store
        .commit(create(&conv, vec![message(&conv, 1, "a")]))
        .await
        .expect("retry");
}

#[tokio::test]
async fn a_freed_number_can_be_taken_by_another_customer() {
    let store = SqliteStore::in_memory().expect("open");
    let (old, new) = (phone(), phone());
    let mut alice = Customer::new(CustomerId::generate(), at(0));
    alice.phone = Some(old.clone());
    alice.version = 1;
    let write = |c: &Customer, expected| Commit {
        customer: Some(CustomerWrite {
            customer: c.clone(),
            expected_version: expected,
        }),
        ..Commit::default()
    };
    store.commit(write(&alice, None)).await.expect("alice");
    let mut moved = alice.clone();
    moved.phone = Some(new.clone());
    moved.version = 2;
    store
        .commit(write(&moved, Some(1)))
        .await
        .expect("alice moves");
    let mut bob = Customer::new(CustomerId::generate(), at(0));
    bob.phone = Some(old.clone());
    bob.version = 1;
    store
        .commit(write(&bob, None))
        .await
        .expect("bob takes the old number");
    assert_eq!(
        store
            .customer_by_phone(&old)
            .await
            .expect("r")
            .map(|c| c.id),
        Some(bob.id)
    );
    // Removing a number frees it as well.
    let mut removed = moved.clone();
    removed.phone = None;
    removed.version = 3;
    store
        .commit(write(&removed, Some(2)))
        .await
        .expect("alice drops her number");
    assert!(store.customer_by_phone(&new).await.expect("r").is_none());
}

#[tokio::test]
async fn queue_puts_high_priority_first_and_skips_other_statuses() {
    let store = SqliteStore::in_memory().expect("open");
    let mut high = conversation(Status::Queued);
    if let Some(h) = high.handoff.as_mut() {
        h.priority = Priority::High;
        h.requested_at = at(500);
    }
    let mut old = conversation(Status::Queued);
    if let Some(h) = old.handoff.as_mut() {
        h.requested_at = at(-500);
    }
    let recent = conversation(Status::Queued);
    // Queued without a handoff record (should not happen) sorts last, as in memory.
    let mut bare = conversation(Status::Queued);
    bare.handoff = None;
    for c in [
        &bare,
        &recent,
        &old,
        &high,
        &conversation(Status::Resolved),
        &conversation(Status::Bot),
    ] {
        store.commit(create(c, vec![])).await.expect("create");
    }
    let ids: Vec<ConversationId> = store
        .queue(10)
        .await
        .expect("q")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        ids,
        vec![high.id.clone(), old.id.clone(), recent.id, bare.id]
    );
    assert_eq!(store.queue(2).await.expect("q").len(), 2);
    assert!(store.queue(0).await.expect("q").is_empty());
}

#[tokio::test]
async fn completing_an_unknown_outbox_item_is_not_an_error() {
    let store = SqliteStore::in_memory().expect("open");
    store
        .complete_outbox("no-such-item", at(0))
        .await
        .expect("complete");
    assert!(!store
        .lease_outbox("no-such-item", at(0), at(60))
        .await
        .expect("lease"));
}

#[tokio::test]
async fn duplicate_outbox_id_conflicts() {
    let store = SqliteStore::in_memory().expect("open");
    let conv = conversation(Status::Bot);
    let item = sms(&conv, 1, &phone());
    let mut first = create(&conv, vec![]);
    first.outbox = vec![item.clone()];
    store.commit(first).await.expect("first");
    let again = Commit {
        outbox: vec![item],
        ..Commit::default()
    };
    assert!(matches!(
        store.commit(again).await,
        Err(StoreError::Conflict(_))
    ));
}

#[tokio::test]
async fn unreadable_record_is_corrupt_and_the_error_does_not_quote_it() {
    let dir = common::TempDir::new();
    let store = SqliteStore::open(dir.db()).expect("open");
    let conv = conversation(Status::Bot);
    store
        .commit(create(&conv, vec![message(&conv, 1, "secret text")]))
        .await
        .expect("create");
    let raw = rusqlite::Connection::open(dir.db()).expect("raw");
    raw.execute(
        "UPDATE messages SET data = json_set(data, '$.from', 'secret text') WHERE conversation_id = ?1",
        [conv.id.as_str()],
    )
    .expect("tamper");
    match store.messages(&conv.id, 0, 10).await {
        Err(StoreError::Corrupt(msg)) => assert!(!msg.contains("secret"), "{msg}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    raw.execute(
        "UPDATE conversations SET data = '{' WHERE id = ?1",
        [conv.id.as_str()],
    )
    .expect("tamper");
    assert!(matches!(
        store.conversation(&conv.id).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn a_file_from_a_newer_build_is_refused() {
    let dir = common::TempDir::new();
    drop(SqliteStore::open(dir.db()).expect("create"));
    let raw = rusqlite::Connection::open(dir.db()).expect("raw");
    raw.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .expect("bump");
    drop(raw);
    match SqliteStore::open(dir.db()) {
        Err(StoreError::Unavailable(msg)) => assert!(msg.contains("newer"), "{msg}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = common::TempDir::new();
    std::fs::write(dir.db(), vec![0x42u8; 8192]).expect("write junk");
    match SqliteStore::open(dir.db()) {
        Err(StoreError::Corrupt(_)) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_file_reports_unavailable() {
    // Another process holds the write lock longer than the busy timeout.
    let dir = common::TempDir::new();
    let store = SqliteStore::open(dir.db()).expect("open");
    let mut raw = rusqlite::Connection::open(dir.db()).expect("raw");
    let tx = raw
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .expect("lock");
    let conv = conversation(Status::Bot);
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(
        handoff_sqlite::BUSY_TIMEOUT + std::time::Duration::from_secs(10),
        store.commit(create(&conv, vec![])),
    )
    .await
    .expect("commit returns after the busy timeout");
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() >= handoff_sqlite::BUSY_TIMEOUT - std::time::Duration::from_millis(100)
    );
    drop(tx);
    store
        .commit(create(&conv, vec![]))
        .await
        .expect("works once the lock is gone");
}

#[tokio::test]
async fn outbox_pending_is_oldest_first_and_respects_limit() {
    let store = SqliteStore::in_memory().expect("open");
    let conv = conversation(Status::Bot);
    let p = phone();
    let items = vec![sms(&conv, 3, &p), sms(&conv, 1, &p), sms(&conv, 2, &p)];
    let mut c = create(&conv, vec![]);
    c.outbox = items.clone();
    store.commit(c).await.expect("create");
    let now = at(100);
    let ids: Vec<String> = store
        .pending_outbox(now, 10)
        .await
        .expect("p")
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(
        ids,
        vec![
            items[1].id.clone(),
            items[2].id.clone(),
            items[0].id.clone()
        ]
    );
    assert_eq!(store.pending_outbox(now, 1).await.expect("p").len(), 1);
    // A lease that ends exactly now has expired (as in the in-memory store).
    assert!(store
        .lease_outbox(
            &items[1].id,
            now,
            now.checked_add(SignedDuration::from_secs(30)).expect("t")
        )
        .await
        .expect("l"));
    let end = now.checked_add(SignedDuration::from_secs(30)).expect("t");
    assert!(store
        .pending_outbox(end, 10)
        .await
        .expect("p")
        .iter()
        .any(|o| o.id == items[1].id));
    store
        .complete_outbox(&items[1].id, end)
        .await
        .expect("complete");
    store
        .complete_outbox(&items[1].id, end)
        .await
        .expect("complete twice");
    assert_eq!(
        store.pending_outbox(at(10_000), 10).await.expect("p").len(),
        2
    );
}
