//! Reads across conversations: the queue, an agent's list, customers and phones.

use crate::error::StoreError;
use crate::ids::{AgentId, ConversationId, CustomerId};
use crate::model::*;
use crate::ports::{Commit, ConversationWrite, CustomerWrite};

use super::fixtures::*;
use super::Store;

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
    let mut claimed = claimed(&high_new, &agent("agent-q"));
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
    let mut a = assigned(&cust, &agent, false);
    a.updated_at = at(10);
    let mut b = a.clone();
    b.id = ConversationId::generate();
    b.updated_at = at(20);
    let mut resolved = assigned(&cust, &agent, true);
    resolved.updated_at = at(10);
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
    let mut old = assigned(&cust, &agent("agent-h"), true);
    old.created_at = at(-1000);
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
