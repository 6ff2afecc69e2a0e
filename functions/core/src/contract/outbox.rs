//! The outbox: pending, lease, complete, release.

use jiff::SignedDuration;

use crate::ids::CustomerId;
use crate::model::*;

use super::fixtures::*;
use super::Store;

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
