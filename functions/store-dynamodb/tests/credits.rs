//! Goodwill credits, notes, transfer and canned answers on DynamoDB (moto): the use
//! cases end to end on the real API, and the requests each one makes
//! (`cargo test -p handoff-dynamodb --test credits -- --nocapture` prints them).

use std::sync::Arc;

use handoff_core::auth::Agent;
use handoff_core::credit::{CreditRequest, CreditStatus, Decision};
use handoff_core::ids::AgentId;
use handoff_core::model::Status;
use handoff_core::ports::SystemClock;
use handoff_dynamodb::testing;

fn agent(name: &str, supervisor: bool) -> Agent {
    Agent {
        id: AgentId::parse(name).expect("agent id"),
        supervisor,
    }
}

fn request(amount: i64, id: &str) -> CreditRequest {
    let policy = testing::settings().credits;
    CreditRequest::parse(amount, "KRW", "broken box", id, &policy).expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn request_budget_of_credits_and_console_tools() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let service = testing::service(store.clone(), Arc::new(SystemClock));
    // A unique agent: the per-agent daily total is per table.
    let name = format!("agent-{}", uuid::Uuid::new_v4().simple());
    let a = agent(&name, false);
    let sup = agent("sup-budget", true);
    let queued = service
        .receive(testing::web(None, "상담원 연결해 주세요", "cb-1"))
        .await
        .expect("handoff");
    let id = queued.conversation.id.clone();
    service.claim(&a, &id).await.expect("claim");

    let mut lines = Vec::new();
    let mut measure = |what: &str, counts: handoff_dynamodb::RequestCounts| {
        lines.push(format!("  {what:<36} {counts}"));
        counts
    };

    store.reset_request_counts();
    let granted = service
        .grant_credit(&a, &id, &request(20_000, "b-1"))
        .await
        .expect("grant");
    assert_eq!(granted.status, CreditStatus::Granted);
    let grant = measure("credit granted within the limit:", store.request_counts());

    store.reset_request_counts();
    let again = service
        .grant_credit(&a, &id, &request(20_000, "b-1"))
        .await
        .expect("repeat");
    assert_eq!(again, granted);
    let repeat = measure("the same request_id again:", store.request_counts());

    store.reset_request_counts();
    let pending = service
        .grant_credit(&a, &id, &request(50_000, "b-2"))
        .await
        .expect("pending");
    assert_eq!(pending.status, CreditStatus::PendingApproval);
    let ask = measure("credit above the limit (pending):", store.request_counts());

    store.reset_request_counts();
    let list = service.pending_credits(&sup).await.expect("list");
    assert!(list.iter().any(|c| c.id == pending.id));
    let listing = measure("supervisor lists pending credits:", store.request_counts());

    store.reset_request_counts();
    let approved = service
        .decide_credit(&sup, &pending.id, Decision::Approve, None)
        .await
        .expect("approve");
    assert_eq!(approved.status, CreditStatus::Approved);
    let decide = measure("supervisor approves:", store.request_counts());

    store.reset_request_counts();
    service
        .add_note(&a, &id, "called the courier")
        .await
        .expect("note");
    let note = measure("private note:", store.request_counts());

    store.reset_request_counts();
    let m = service
        .canned_reply(&a, &id, "shipping-fee")
        .await
        .expect("canned");
    assert_eq!(m.faq_id.as_deref(), Some("shipping-fee"));
    let canned = measure("canned answer:", store.request_counts());

    store.reset_request_counts();
    let packet = service.packet(&id).await.expect("packet");
    assert_eq!(packet.credits.len(), 2);
    assert_eq!(packet.notes.len(), 1);
    let read_packet = measure("packet (with credits and notes):", store.request_counts());

    store.reset_request_counts();
    let moved = service
        .transfer(&a, &id, Some(AgentId::parse("agent-next").expect("id")))
        .await
        .expect("transfer");
    assert_eq!(moved.status, Status::Assigned);
    let transfer = measure("transfer to another agent:", store.request_counts());

    println!("DynamoDB requests per use case (moto):");
    for l in &lines {
        println!("{l}");
    }
    // Each change is one transaction; the repeat and the listing write nothing.
    for c in [&grant, &ask, &decide, &canned, &transfer] {
        assert_eq!(c.get("TransactWriteItems"), 1, "{c}");
        assert_eq!(c.get("Scan"), 0, "{c}");
    }
    assert_eq!(repeat.writes(), 0, "{repeat}");
    assert_eq!((listing.reads(), listing.writes()), (1, 0), "{listing}");
    assert_eq!(note.writes(), 1, "{note}");
    // Credits and notes cost the packet two GetItems, no more.
    assert_eq!(read_packet.writes(), 0, "{read_packet}");
    assert!(read_packet.reads() <= 6, "{read_packet}");
}

/// Records written without their own expiry (credits, notes: personal data) get the
/// table's retention, from their last change; records with one keep theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_records_expire_with_the_retention_setting() {
    use handoff_core::ports::{Commit, ConversationStore};
    use handoff_core::records::{RecordKey, RecordStore, RecordWrite};
    let (store, _) = testing::store().await; // 30 days of retention
    let now = jiff::Timestamp::now().as_second();
    let kept = RecordKey::new("note", &uuid::Uuid::new_v4().simple().to_string()).unwrap();
    let put = RecordKey::new("note", &uuid::Uuid::new_v4().simple().to_string()).unwrap();
    let own = RecordKey::new("gate", &uuid::Uuid::new_v4().simple().to_string()).unwrap();
    let own_expiry = jiff::Timestamp::from_second(now + 60).unwrap();
    store
        .commit(Commit {
            records: vec![
                RecordWrite::next(kept.clone(), None, &"in a commit", None).unwrap(),
                RecordWrite::next(own.clone(), None, &"own expiry", Some(own_expiry)).unwrap(),
            ],
            ..Commit::default()
        })
        .await
        .expect("commit");
    store
        .put_record(RecordWrite::next(put.clone(), None, &"put alone", None).unwrap())
        .await
        .expect("put");
    let expires = |key: &RecordKey| {
        let (client, table) = (store.client().clone(), store.table().to_string());
        let pk = format!("REC#{key}");
        async move {
            let item = client
                .get_item()
                .table_name(table)
                .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(pk))
                .key(
                    "SK",
                    aws_sdk_dynamodb::types::AttributeValue::S("META".into()),
                )
                .send()
                .await
                .expect("get")
                .item
                .expect("item");
            item["expires_at"]
                .as_n()
                .expect("number")
                .parse::<i64>()
                .unwrap()
        }
    };
    let month = 30 * 86_400;
    for key in [&kept, &put] {
        let at = expires(key).await;
        assert!((at - (now + month)).abs() < 120, "{key}: {at}");
    }
    assert_eq!(expires(&own).await, now + 60);
}
