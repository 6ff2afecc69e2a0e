//! Contract checks for what presence, honest waits and escalation store: the handoff's
//! escalation mark on the conversation, the escalation and digest outbox items, and
//! a records-only commit (the opening digest) that goes through once.

use jiff::SignedDuration;

use super::fixtures::{at, queued, update};
use super::Store;
use crate::error::StoreError;
use crate::escalation::{Digest, Escalation};
use crate::ids::CustomerId;
use crate::model::{Outbound, OutboxItem, Priority};
use crate::ports::Commit;
use crate::records::{RecordKey, RecordWrite};
use crate::waits::{Presence, PresenceStatus};

/// A handoff escalated once: the mark and its alert are written together, and a
/// second writer from the same read conflicts and sends nothing.
pub async fn escalation_is_marked_once_with_its_alert(store: &Store) {
    let conv = queued(&CustomerId::generate(), Priority::Normal, 0);
    store
        .commit(super::fixtures::create(&conv, vec![]))
        .await
        .expect("create");
    let escalate = |n: u32| {
        let mut c = update(&conv, vec![]);
        let w = c.conversation.as_mut().expect("conversation");
        assert!(w.conversation.escalate(at(301)).expect("queued"));
        c.outbox.push(OutboxItem {
            id: format!("escalation:{}:{n}", conv.id),
            created_at: at(301),
            item: Outbound::Escalation(Escalation {
                conversation_id: conv.id.clone(),
                minutes_waited: 5,
                text: "Unclaimed for 5 min".into(),
                link: None,
                queue: "support".into(),
                priority: Priority::Normal,
            }),
        });
        c
    };
    store.commit(escalate(1)).await.expect("escalate");
    assert!(
        matches!(
            store.commit(escalate(2)).await,
            Err(StoreError::Conflict(_))
        ),
        "escalation: a second writer from the same read conflicts"
    );
    let stored = store
        .conversation(&conv.id)
        .await
        .expect("read")
        .expect("stored");
    let h = stored.handoff.expect("handoff");
    assert_eq!(
        h.escalated_at,
        Some(at(301)),
        "escalation: the mark is stored"
    );
    let pending = store
        .pending_outbox(at(400), 10_000)
        .await
        .expect("pending");
    let mine: Vec<&OutboxItem> = pending
        .iter()
        .filter(|o| o.id.starts_with(&format!("escalation:{}", conv.id)))
        .collect();
    assert_eq!(mine.len(), 1, "escalation: one alert");
    assert!(matches!(&mine[0].item, Outbound::Escalation(e) if e.minutes_waited == 5));
}

/// The opening digest: a record that must not exist and its outbox item, written
/// together once; a second sweep's identical commit writes nothing.
pub async fn digest_commits_once(store: &Store) {
    let opened = uuid::Uuid::new_v4().simple().to_string();
    let key = RecordKey::new("digest", &format!("support:{opened}")).expect("key");
    let conv = queued(&CustomerId::generate(), Priority::Normal, 0);
    let commit = || Commit {
        records: vec![RecordWrite::next(key.clone(), None, &1usize, Some(at(7200))).expect("w")],
        outbox: vec![OutboxItem {
            id: format!("digest:support:{opened}"),
            created_at: at(0),
            item: Outbound::Digest(Digest {
                conversation_ids: vec![conv.id.clone()],
                waiting: 1,
                text: "1 waiting".into(),
                link: None,
                queue: "support".into(),
                opened_at: at(0),
            }),
        }],
        ..Commit::default()
    };
    store.commit(commit()).await.expect("digest");
    assert!(
        matches!(
            store.commit(commit()).await,
            Err(StoreError::Conflict(_) | StoreError::Duplicate)
        ),
        "digest: the second is refused"
    );
    let later = at(0).checked_add(SignedDuration::from_hours(1)).expect("t");
    let pending = store.pending_outbox(later, 10_000).await.expect("pending");
    let digests: Vec<&OutboxItem> = pending
        .iter()
        .filter(|o| o.id == format!("digest:support:{opened}"))
        .collect();
    assert_eq!(digests.len(), 1, "digest: one item");
    assert!(
        matches!(&digests[0].item, Outbound::Digest(d) if d.conversation_ids == vec![conv.id.clone()])
    );
}

/// Presence round-trips through a record and expires with its last agent.
pub async fn presence_record_round_trips(store: &Store) {
    let key = RecordKey::new("presence", &uuid::Uuid::new_v4().simple().to_string()).expect("key");
    let mut p = Presence::default();
    p.set("agent-a", PresenceStatus::Online, at(0));
    store
        .put_record(p.write(key.clone(), None).expect("w"))
        .await
        .expect("presence");
    let stored = store.record(&key).await.expect("read").expect("stored");
    let back = Presence::of(Some(&stored)).expect("decode");
    assert_eq!(back, p, "presence: round trip");
    assert_eq!(back.online(at(89)), 1);
    assert_eq!(
        stored.expires_at,
        Some(at(90)),
        "presence: expires with its agent"
    );
}
