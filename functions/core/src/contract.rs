//! The storage contract, written once and run against every store
//! (in-memory, embedded SQLite, DynamoDB). Each check uses fresh ids, so the
//! suite can share one store (and one DynamoDB table) with other tests.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::error::StoreError;
use crate::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey, MessageId};
use crate::model::*;
use crate::ports::{Commit, ConversationStore, ConversationWrite, CustomerWrite};

mod records;

pub use records::{
    counters_hold_their_limit, queue_pages_in_order, records_are_versioned,
    records_commit_atomically,
};

type Store = Arc<dyn ConversationStore>;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn conversation(customer: &CustomerId) -> Conversation {
    let mut c = Conversation::new(
        ConversationId::generate(),
        customer.clone(),
        Lang::Ko,
        Channel::Web,
        at(0),
    );
    c.version = 1;
    c.topic = Some("배송비 문의".into());
    c
}

fn message(conv: &Conversation, seq: u64, from: Role, text: &str) -> Message {
    Message {
        id: MessageId::generate(),
        conversation_id: conv.id.clone(),
        seq,
        from,
        text: text.into(),
        at: at(seq as i64),
        channel: Channel::Web,
        agent_id: None,
        faq_id: (from == Role::Bot).then(|| "shipping-fee".to_string()),
    }
}

fn create(conv: &Conversation, messages: Vec<Message>) -> Commit {
    Commit {
        conversation: Some(ConversationWrite {
            conversation: conv.clone(),
            expected_version: None,
        }),
        messages,
        ..Commit::default()
    }
}

fn update(conv: &Conversation, messages: Vec<Message>) -> Commit {
    let mut next = conv.clone();
    next.version += 1;
    next.last_seq += messages.len() as u64;
    Commit {
        conversation: Some(ConversationWrite {
            conversation: next,
            expected_version: Some(conv.version),
        }),
        messages,
        ..Commit::default()
    }
}

fn queued(customer: &CustomerId, priority: Priority, waited_from: i64) -> Conversation {
    let mut c = conversation(customer);
    c.status = Status::Queued;
    c.handoff = Some(Handoff {
        reason: if priority == Priority::High {
            HandoffReason::Threat
        } else {
            HandoffReason::CustomerAsked
        },
        priority,
        requested_at: at(waited_from),
        summary: "s".into(),
        number: 1,
    });
    c
}

fn phone(n: u32) -> PhoneNumber {
    // Random per run (UK mobile range, 9 free digits) so checks can share a long-lived table.
    let tail = (uuid::Uuid::new_v4().as_u128() % 100_000_000) as u32;
    PhoneNumber::from_e164(&format!("+447{n}{tail:08}"))
        .unwrap_or_else(|e| panic!("test phone: {e}"))
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
}

pub async fn round_trip_and_cursor(store: &Store) {
    let cust = CustomerId::generate();
    let mut conv = conversation(&cust);
    conv.last_seq = 3;
    let msgs = vec![
        message(&conv, 1, Role::Customer, "배송비가 얼마예요?"),
        message(&conv, 2, Role::Bot, "배송비는 3,000원이에요."),
        message(&conv, 3, Role::System, "note"),
    ];
    store
        .commit(create(&conv, msgs.clone()))
        .await
        .expect("round_trip: create");
    let back = store
        .conversation(&conv.id)
        .await
        .expect("read")
        .expect("round_trip: stored");
    assert_eq!(back, conv, "round_trip: conversation reads back equal");
    assert_eq!(
        store.messages(&conv.id, 0, 100).await.expect("messages"),
        msgs,
        "round_trip: all messages in order"
    );
    assert_eq!(
        store.messages(&conv.id, 1, 100).await.expect("messages"),
        msgs[1..].to_vec(),
        "round_trip: after cursor"
    );
    assert_eq!(
        store
            .messages(&conv.id, 0, 2)
            .await
            .expect("messages")
            .len(),
        2,
        "round_trip: limit"
    );
    assert!(
        store
            .messages(&conv.id, 3, 10)
            .await
            .expect("messages")
            .is_empty(),
        "round_trip: nothing after the last"
    );
    let missing = ConversationId::generate();
    assert!(
        store.conversation(&missing).await.expect("read").is_none(),
        "round_trip: unknown is None"
    );
    assert!(store
        .messages(&missing, 0, 10)
        .await
        .expect("read")
        .is_empty());
}

pub async fn stale_version_conflicts_and_writes_nothing(store: &Store) {
    let cust = CustomerId::generate();
    let mut conv = conversation(&cust);
    conv.last_seq = 1;
    store
        .commit(create(&conv, vec![message(&conv, 1, Role::Customer, "hi")]))
        .await
        .expect("create");
    let first = update(&conv, vec![message(&conv, 2, Role::Customer, "a")]);
    store.commit(first).await.expect("stale: first update");
    // A writer that read version 1 too loses, and none of its parts are written.
    let mut stale = update(&conv, vec![message(&conv, 3, Role::Customer, "b")]);
    stale.idempotency = Some(IdempotencyRecord {
        key: IdempotencyKey::web(
            &conv.id,
            &crate::ids::ClientMessageId::parse("stale-1").expect("id"),
        ),
        conversation_id: conv.id.clone(),
        first_seq: 3,
        last_seq: 3,
        at: at(3),
    });
    let outbox_id = format!("alert:{}:stale", conv.id);
    stale.outbox = vec![OutboxItem {
        id: outbox_id.clone(),
        created_at: at(3),
        item: Outbound::AgentAlert(AgentAlert {
            conversation_id: conv.id.clone(),
            link: None,
            text: "t".into(),
            queue: "support".into(),
            priority: Priority::Normal,
            language: Lang::Ko,
            channel: Channel::Web,
        }),
    }];
    let idem_key = stale
        .idempotency
        .as_ref()
        .map(|r| r.key.clone())
        .expect("key");
    match store.commit(stale).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("stale: expected Conflict, got {other:?}"),
    }
    let msgs = store.messages(&conv.id, 0, 10).await.expect("messages");
    assert_eq!(
        msgs.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2],
        "stale: no half-written message"
    );
    assert!(
        store.idempotency(&idem_key).await.expect("idem").is_none(),
        "stale: no idempotency record"
    );
    let pending = store
        .pending_outbox(at(1_000_000), 1000)
        .await
        .expect("outbox");
    assert!(
        !pending.iter().any(|o| o.id == outbox_id),
        "stale: no outbox item"
    );
    assert_eq!(
        store
            .conversation(&conv.id)
            .await
            .expect("read")
            .expect("conv")
            .version,
        2
    );
}

pub async fn create_twice_conflicts(store: &Store) {
    let conv = conversation(&CustomerId::generate());
    store
        .commit(create(&conv, vec![]))
        .await
        .expect("create once");
    assert!(
        matches!(
            store.commit(create(&conv, vec![])).await,
            Err(StoreError::Conflict(_))
        ),
        "create twice: Conflict"
    );
}

pub async fn duplicate_idempotency_key(store: &Store) {
    let mut conv = conversation(&CustomerId::generate());
    conv.last_seq = 2;
    let key = IdempotencyKey::sms("test", &uuid::Uuid::new_v4().to_string());
    let record = IdempotencyRecord {
        key: key.clone(),
        conversation_id: conv.id.clone(),
        first_seq: 1,
        last_seq: 2,
        at: at(1),
    };
    let mut c = create(
        &conv,
        vec![
            message(&conv, 1, Role::Customer, "q"),
            message(&conv, 2, Role::Bot, "a"),
        ],
    );
    c.idempotency = Some(record.clone());
    store.commit(c).await.expect("idempotency: first");
    assert_eq!(
        store.idempotency(&key).await.expect("read"),
        Some(record),
        "idempotency: record reads back"
    );
    // The repeat is reported as Duplicate even though it would also conflict on the version.
    let mut again = update(&conv, vec![message(&conv, 3, Role::Customer, "q")]);
    again.idempotency = Some(IdempotencyRecord {
        first_seq: 3,
        last_seq: 3,
        ..store.idempotency(&key).await.expect("r").expect("r")
    });
    match store.commit(again).await {
        Err(StoreError::Duplicate) => {}
        other => panic!("idempotency: expected Duplicate, got {other:?}"),
    }
    assert_eq!(
        store.messages(&conv.id, 0, 10).await.expect("m").len(),
        2,
        "idempotency: nothing new stored"
    );
}

pub async fn duplicate_message_seq_conflicts(store: &Store) {
    let mut conv = conversation(&CustomerId::generate());
    conv.last_seq = 1;
    store
        .commit(create(&conv, vec![message(&conv, 1, Role::Customer, "q")]))
        .await
        .expect("create");
    // A buggy writer reusing a sequence number must not overwrite history.
    let mut c = update(&conv, vec![message(&conv, 1, Role::Customer, "overwrite")]);
    if let Some(w) = c.conversation.as_mut() {
        w.conversation.last_seq = 1;
    }
    assert!(
        matches!(store.commit(c).await, Err(StoreError::Conflict(_))),
        "seq reuse: Conflict"
    );
    assert_eq!(
        store.messages(&conv.id, 0, 10).await.expect("m")[0].text,
        "q"
    );
}

pub async fn queue_order_and_membership(store: &Store) {
    let cust = CustomerId::generate();
    let normal_old = queued(&cust, Priority::Normal, -300);
    let normal_new = queued(&cust, Priority::Normal, -100);
    let high_new = queued(&cust, Priority::High, -50);
    let not_queued = conversation(&cust);
    for c in [&normal_new, &high_new, &normal_old, &not_queued] {
        store
            .commit(create(c, vec![]))
            .await
            .expect("queue: create");
    }
    let ours = [&normal_old.id, &normal_new.id, &high_new.id, &not_queued.id];
    let q: Vec<ConversationId> = store
        .queue(1000)
        .await
        .expect("queue")
        .into_iter()
        .map(|c| c.id)
        .filter(|id| ours.contains(&id))
        .collect();
    assert_eq!(
        q,
        vec![
            high_new.id.clone(),
            normal_old.id.clone(),
            normal_new.id.clone()
        ],
        "queue: priority then waiting time"
    );
    // Claiming takes it out of the queue.
    let mut claimed = high_new.clone();
    claimed.status = Status::Assigned;
    claimed.assigned_to = Some(AgentId::parse("agent-q").expect("id"));
    claimed.version += 1;
    store
        .commit(Commit {
            conversation: Some(ConversationWrite {
                conversation: claimed,
                expected_version: Some(high_new.version),
            }),
            ..Commit::default()
        })
        .await
        .expect("queue: claim");
    let q = store.queue(1000).await.expect("queue");
    assert!(
        !q.iter().any(|c| c.id == high_new.id),
        "queue: assigned leaves the queue"
    );
}

pub async fn assigned_listing(store: &Store) {
    let agent = AgentId::parse(&format!("agent-{}", uuid::Uuid::new_v4().simple())).expect("id");
    let cust = CustomerId::generate();
    let mut a = conversation(&cust);
    a.status = Status::Assigned;
    a.assigned_to = Some(agent.clone());
    a.updated_at = at(10);
    let mut b = a.clone();
    b.id = ConversationId::generate();
    b.updated_at = at(20);
    let mut resolved = a.clone();
    resolved.id = ConversationId::generate();
    resolved.status = Status::Resolved;
    for c in [&a, &b, &resolved] {
        store
            .commit(create(c, vec![]))
            .await
            .expect("assigned: create");
    }
    let mine: Vec<ConversationId> = store
        .assigned_to(&agent, 10)
        .await
        .expect("mine")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        mine,
        vec![b.id, a.id],
        "assigned: only open assigned ones, newest first"
    );
}

pub async fn customers_and_phones(store: &Store) {
    let now = at(0);
    let p = phone(1);
    let mut alice = Customer::new(CustomerId::generate(), now);
    alice.phone = Some(p.clone());
    alice.version = 1;
    store
        .commit(Commit {
            customer: Some(CustomerWrite {
                customer: alice.clone(),
                expected_version: None,
            }),
            ..Commit::default()
        })
        .await
        .expect("customers: create");
    assert_eq!(
        store.customer(&alice.id).await.expect("read"),
        Some(alice.clone())
    );
    assert_eq!(
        store
            .customer_by_phone(&p)
            .await
            .expect("read")
            .map(|c| c.id),
        Some(alice.id.clone()),
        "customers: by phone"
    );
    // Another customer cannot take the same number.
    let mut bob = Customer::new(CustomerId::generate(), now);
    bob.phone = Some(p.clone());
    bob.version = 1;
    assert!(
        matches!(
            store
                .commit(Commit {
                    customer: Some(CustomerWrite {
                        customer: bob.clone(),
                        expected_version: None
                    }),
                    ..Commit::default()
                })
                .await,
            Err(StoreError::Conflict(_))
        ),
        "customers: phone is unique"
    );
    assert!(
        store.customer(&bob.id).await.expect("read").is_none(),
        "customers: loser not written"
    );
    // A stale customer version conflicts.
    let mut opted = alice.clone();
    opted.sms_opted_out = true;
    opted.version = 2;
    store
        .commit(Commit {
            customer: Some(CustomerWrite {
                customer: opted.clone(),
                expected_version: Some(1),
            }),
            ..Commit::default()
        })
        .await
        .expect("customers: update");
    assert!(
        matches!(
            store
                .commit(Commit {
                    customer: Some(CustomerWrite {
                        customer: opted.clone(),
                        expected_version: Some(1)
                    }),
                    ..Commit::default()
                })
                .await,
            Err(StoreError::Conflict(_))
        ),
        "customers: stale version"
    );
    assert!(
        store
            .customer_by_phone(&p)
            .await
            .expect("read")
            .expect("c")
            .sms_opted_out
    );
    // Changing the number frees the old one.
    let p2 = phone(2);
    let mut moved = opted.clone();
    moved.phone = Some(p2.clone());
    moved.version = 3;
    store
        .commit(Commit {
            customer: Some(CustomerWrite {
                customer: moved,
                expected_version: Some(2),
            }),
            ..Commit::default()
        })
        .await
        .expect("customers: change number");
    assert!(
        store.customer_by_phone(&p).await.expect("read").is_none(),
        "customers: old number freed"
    );
    assert_eq!(
        store
            .customer_by_phone(&p2)
            .await
            .expect("read")
            .map(|c| c.id),
        Some(alice.id)
    );
}

pub async fn customer_history_newest_first(store: &Store) {
    let cust = CustomerId::generate();
    let mut old = conversation(&cust);
    old.created_at = at(-1000);
    old.status = Status::Resolved;
    let mut new = conversation(&cust);
    new.created_at = at(-10);
    let other = conversation(&CustomerId::generate());
    for c in [&old, &new, &other] {
        store
            .commit(create(c, vec![]))
            .await
            .expect("history: create");
    }
    let ids: Vec<ConversationId> = store
        .customer_conversations(&cust, 10)
        .await
        .expect("history")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        ids,
        vec![new.id.clone(), old.id.clone()],
        "history: newest first, only this customer"
    );
    assert_eq!(
        store
            .customer_conversations(&cust, 1)
            .await
            .expect("h")
            .len(),
        1,
        "history: limit"
    );
}

pub async fn outbox_lease_and_complete(store: &Store) {
    let conv = conversation(&CustomerId::generate());
    let id = format!("sms:{}:1", conv.id);
    let item = OutboxItem {
        id: id.clone(),
        created_at: at(0),
        item: Outbound::CustomerSms {
            conversation_id: conv.id.clone(),
            to: phone(3),
            text: "hello".into(),
        },
    };
    let mut c = create(&conv, vec![]);
    c.outbox = vec![item.clone()];
    store.commit(c).await.expect("outbox: create");
    let now = at(100);
    let pending = store.pending_outbox(now, 10_000).await.expect("pending");
    assert_eq!(
        pending.iter().find(|o| o.id == id),
        Some(&item),
        "outbox: pending reads back"
    );
    let until = now.checked_add(SignedDuration::from_secs(60)).expect("t");
    assert!(
        store.lease_outbox(&id, now, until).await.expect("lease"),
        "outbox: first lease"
    );
    assert!(
        !store.lease_outbox(&id, now, until).await.expect("lease"),
        "outbox: second lease refused"
    );
    assert!(
        !store
            .pending_outbox(now, 10_000)
            .await
            .expect("p")
            .iter()
            .any(|o| o.id == id),
        "outbox: leased is not pending"
    );
    // A worker whose send failed gives it back: pending and leasable at once.
    store.release_outbox(&id).await.expect("release");
    assert!(
        store
            .pending_outbox(now, 10_000)
            .await
            .expect("p")
            .iter()
            .any(|o| o.id == id),
        "outbox: released is pending"
    );
    assert!(
        store.lease_outbox(&id, now, until).await.expect("lease"),
        "outbox: released can be leased again"
    );
    // After the lease runs out (the worker died), it is pending again.
    let later = until.checked_add(SignedDuration::from_secs(1)).expect("t");
    assert!(
        store
            .pending_outbox(later, 10_000)
            .await
            .expect("p")
            .iter()
            .any(|o| o.id == id),
        "outbox: expired lease is pending"
    );
    assert!(store
        .lease_outbox(
            &id,
            later,
            later.checked_add(SignedDuration::from_secs(60)).expect("t")
        )
        .await
        .expect("lease"));
    store.complete_outbox(&id, later).await.expect("complete");
    let much_later = at(1_000_000);
    assert!(
        !store
            .pending_outbox(much_later, 10_000)
            .await
            .expect("p")
            .iter()
            .any(|o| o.id == id),
        "outbox: completed never pending"
    );
    assert!(
        !store
            .lease_outbox(&id, much_later, much_later)
            .await
            .expect("lease"),
        "outbox: completed cannot be leased"
    );
}

pub async fn concurrent_writers_one_wins(store: &Store) {
    let mut conv = queued(&CustomerId::generate(), Priority::Normal, 0);
    conv.last_seq = 0;
    store
        .commit(create(&conv, vec![]))
        .await
        .expect("concurrency: create");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        let conv = conv.clone();
        tasks.push(tokio::spawn(async move {
            let mut claimed = conv.clone();
            claimed.status = Status::Assigned;
            claimed.assigned_to = Some(AgentId::parse(&format!("agent-{i}")).expect("id"));
            let msg = message(&conv, 1, Role::System, &format!("agent-{i} joined"));
            let mut c = update(&claimed, vec![msg]);
            if let Some(w) = c.conversation.as_mut() {
                w.expected_version = Some(conv.version);
            }
            store.commit(c).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(()) => wins += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("concurrency: unexpected {e:?}"),
        }
    }
    assert_eq!(wins, 1, "concurrency: exactly one of 20 writers wins");
    assert_eq!(
        store.messages(&conv.id, 0, 100).await.expect("m").len(),
        1,
        "concurrency: one message"
    );
}
