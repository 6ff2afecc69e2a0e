//! Contract checks for what goodwill credits and notes store: their records written in
//! one commit with the conversation, the new outbox kinds read back whole, and one
//! winner when two deciders race on the same records.

use jiff::{SignedDuration, Timestamp};

use super::fixtures::{agent, at, conversation, create, update};
use super::Store;
use crate::credit::{
    keys, ConversationCredits, Credit, CreditAlert, CreditId, CreditPointer, CreditPolicy,
    CreditStatus, DayTotal, PendingCredits,
};
use crate::error::StoreError;
use crate::ids::CustomerId;
use crate::model::Conversation;
use crate::outbox;
use crate::ports::Commit;
use crate::records::RecordWrite;

fn credit(conv: &Conversation, status: CreditStatus) -> Credit {
    Credit {
        id: CreditId::generate(),
        conversation_id: conv.id.clone(),
        status,
        amount: 50_000,
        currency: CreditPolicy::default().currency,
        agent_id: agent("agent-credit"),
        reason: "상자 파손 · broken box".into(),
        request_id: "req-1".into(),
        created_at: at(0),
        decided_by: None,
        decided_at: None,
        decision_note: None,
    }
}

fn later() -> Timestamp {
    at(0).checked_add(SignedDuration::from_hours(1)).expect("t")
}

/// A credit's records and outbox items commit with the conversation and read back
/// equal; the day total keeps its expiry.
pub async fn credit_records_commit_with_the_conversation(store: &Store) {
    let conv = conversation(&CustomerId::generate());
    let pending = credit(&conv, CreditStatus::PendingApproval);
    let mut granted = credit(&conv, CreditStatus::PendingApproval);
    granted.grant(&granted.agent_id.clone(), at(0));
    let list = ConversationCredits {
        credits: vec![granted.clone(), pending.clone()],
    };
    // A unique day key, so that tests sharing a table never meet.
    let day_key = keys::day_total(
        &agent(&format!("a-{}", uuid::Uuid::new_v4().simple())),
        jiff::civil::date(2026, 12, 1),
    )
    .expect("key");
    let index_key = crate::records::RecordKey::new(
        "credits",
        &format!("pending-{}", uuid::Uuid::new_v4().simple()),
    )
    .expect("key");
    let writes = vec![
        RecordWrite::next(keys::credits_of(&conv.id).expect("k"), None, &list, None).expect("w"),
        RecordWrite::next(
            keys::credit(&pending.id).expect("k"),
            None,
            &CreditPointer {
                conversation_id: conv.id.clone(),
            },
            None,
        )
        .expect("w"),
        RecordWrite::next(
            index_key.clone(),
            None,
            &PendingCredits {
                credits: vec![pending.clone()],
            },
            None,
        )
        .expect("w"),
        RecordWrite::next(
            day_key.clone(),
            None,
            &DayTotal { total: 20_000 },
            Some(at(600)),
        )
        .expect("w"),
    ];
    let alert = CreditAlert {
        conversation_id: conv.id.clone(),
        credit_id: pending.id.clone(),
        text: "Credit to approve".into(),
        link: None,
        queue: "support".into(),
    };
    let items = vec![
        outbox::credit_approval(alert, at(0)),
        outbox::credit_decided(granted.clone(), at(0)),
    ];
    store
        .commit(Commit {
            records: writes.clone(),
            outbox: items.clone(),
            ..create(&conv, vec![])
        })
        .await
        .expect("credits: commit");
    for w in &writes {
        let stored = store
            .record(&w.record.key)
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("credits: {} stored", w.record.key));
        assert_eq!(stored, w.record, "credits: {} round trip", w.record.key);
    }
    let day = store.record(&day_key).await.expect("read").expect("day");
    assert!(!day.is_live(at(600)), "credits: the day total expires");
    let out = store
        .pending_outbox(later(), 10_000)
        .await
        .expect("pending");
    for item in &items {
        let found = out.iter().find(|o| o.id == item.id);
        assert_eq!(found, Some(item), "credits: outbox {} round trip", item.id);
    }
}

/// Two decisions on one credit read at the same versions: exactly one commits, and
/// the loser's message and event are not written.
pub async fn credit_decisions_race_to_one_winner(store: &Store) {
    let conv = conversation(&CustomerId::generate());
    let key = keys::credits_of(&conv.id).expect("k");
    let c = credit(&conv, CreditStatus::PendingApproval);
    let first = RecordWrite::next(
        key.clone(),
        None,
        &ConversationCredits {
            credits: vec![c.clone()],
        },
        None,
    )
    .expect("w");
    store
        .commit(Commit {
            records: vec![first.clone()],
            ..create(&conv, vec![])
        })
        .await
        .expect("credits: create");
    let decide = |decision: crate::credit::Decision| {
        let mut d = c.clone();
        d.decide(decision, &agent("sup"), None, at(1))
            .expect("pending");
        let msg =
            super::fixtures::message(&conv, conv.last_seq + 1, crate::model::Role::System, "told");
        let w = RecordWrite::next(
            key.clone(),
            Some(&first.record),
            &ConversationCredits {
                credits: vec![d.clone()],
            },
            None,
        )
        .expect("w");
        let mut commit = update(&conv, vec![msg]);
        commit.records = vec![w];
        commit.outbox = vec![outbox::credit_decided(d, at(1))];
        commit
    };
    let (a, b) = (
        store.commit(decide(crate::credit::Decision::Approve)),
        store.commit(decide(crate::credit::Decision::Decline)),
    );
    let (a, b) = tokio::join!(a, b);
    let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "credits: one decision wins: {a:?} {b:?}");
    assert!(
        [&a, &b]
            .iter()
            .any(|r| matches!(r, Err(StoreError::Conflict(_)))),
        "credits: the other conflicts"
    );
    let stored: ConversationCredits = store
        .record(&key)
        .await
        .expect("read")
        .expect("stored")
        .decode()
        .expect("decode");
    let status = stored.credits[0].status;
    let events: Vec<_> = store
        .pending_outbox(later(), 10_000)
        .await
        .expect("pending")
        .into_iter()
        .filter(|o| o.id == format!("credit-decided:{}", c.id))
        .collect();
    assert_eq!(events.len(), 1, "credits: one event");
    assert!(
        matches!(&events[0].item, crate::model::Outbound::CreditDecided(d) if d.status == status),
        "credits: the event is the winner's"
    );
    let messages = store.messages(&conv.id, 0, 100).await.expect("messages");
    assert_eq!(messages.len(), 1, "credits: one message, the winner's");
}
