//! Commits: round trips, version checks, repeats, races.

use crate::error::StoreError;
use crate::ids::{ConversationId, CustomerId, IdempotencyKey};
use crate::model::*;

use super::fixtures::*;
use super::Store;

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
            Some(&conv.id),
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
            let claimed = claimed(&conv, &agent(&format!("agent-{i}")));
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
