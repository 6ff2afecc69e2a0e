//! DynamoDB requests of presence, honest waits and escalation, counted against moto
//! (`HANDOFF_MOTO_URL= cargo test -p handoff-dynamodb --test waits_budget -- --nocapture`).

use std::sync::Arc;

use handoff_core::auth::Agent;
use handoff_core::hours::AgentHours;
use handoff_core::ids::AgentId;
use handoff_core::model::Status;
use handoff_core::ports::ManualClock;
use handoff_core::waits::PresenceStatus;
use handoff_core::HandoffService;
use handoff_dynamodb::testing;
use jiff::{SignedDuration, Timestamp};

fn agent(name: &str) -> Agent {
    Agent {
        id: AgentId::parse(name).expect("agent id"),
        supervisor: false,
    }
}

#[tokio::test]
async fn request_budget_of_presence_waits_and_escalation() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    // Monday 23:00 in Seoul: after hours.
    let clock = Arc::new(ManualClock::new(
        "2026-11-23T14:00:00Z".parse::<Timestamp>().expect("t"),
    ));
    let catalog = handoff_core::faq::FaqCatalog::from_json(testing::CATALOG).expect("catalog");
    let index = handoff_core::faq::FaqIndex::build(&catalog);
    let mut settings = testing::settings();
    settings.hours = AgentHours::parse("Mon-Fri 09:00-18:00", "Asia/Seoul").expect("hours");
    let service = HandoffService::new(
        store.clone(),
        clock.clone(),
        Arc::new(catalog),
        Arc::new(index),
        settings,
    );

    let night = service
        .receive(testing::web(None, "상담원 연결해 주세요", "w1"))
        .await
        .expect("night handoff");
    assert_eq!(night.conversation.status, Status::Queued);

    // Opening: the digest.
    clock.set("2026-11-24T00:00:30Z".parse().expect("t"));
    store.reset_request_counts();
    let r = service.escalator().sweep().await.expect("sweep");
    assert_eq!(r.digests, 1);
    let digest = store.request_counts();

    store.reset_request_counts();
    let r = service.escalator().sweep().await.expect("sweep");
    assert_eq!((r.digests, r.escalated), (0, 0));
    let idle_sweep = store.request_counts();

    store.reset_request_counts();
    service
        .set_presence(&agent("agent-a"), PresenceStatus::Online)
        .await
        .expect("presence");
    let heartbeat = store.request_counts();

    store.reset_request_counts();
    let day = service
        .receive(testing::web(None, "상담원 연결해 주세요", "w2"))
        .await
        .expect("day handoff");
    let handoff = store.request_counts();

    store.reset_request_counts();
    let ack = service
        .receive(testing::web(
            Some(&day.conversation.id),
            "주문번호 1234",
            "w3",
        ))
        .await
        .expect("ack");
    assert_eq!(ack.replies.len(), 1);
    let acknowledged = store.request_counts();

    store.reset_request_counts();
    service
        .customer_messages(&day.conversation.id, 0)
        .await
        .expect("poll");
    let poll = store.request_counts();

    // Opening + 5 min: the night's handoff escalates.
    clock.advance(SignedDuration::from_secs(270));
    store.reset_request_counts();
    let r = service.escalator().sweep().await.expect("sweep");
    assert_eq!(r.escalated, 1);
    let escalation = store.request_counts();

    store.reset_request_counts();
    service
        .claim(&agent("agent-a"), &day.conversation.id)
        .await
        .expect("claim");
    let claim = store.request_counts();

    println!("DynamoDB requests per use case (moto):");
    println!("  presence heartbeat:                   {heartbeat}");
    println!("  handoff in hours (with wait facts):   {handoff}");
    println!("  message while waiting, acknowledged:  {acknowledged}");
    println!("  customer poll while queued:           {poll}");
    println!("  agent claims (with the wait sample):  {claim}");
    println!("  sweep, nothing due:                   {idle_sweep}");
    println!("  sweep, opening digest:                {digest}");
    println!("  sweep, one escalation:                {escalation}");

    assert_eq!(
        (heartbeat.reads(), heartbeat.writes()),
        (1, 1),
        "{heartbeat}"
    );
    assert_eq!(claim.get("TransactWriteItems"), 1, "{claim}");
    assert_eq!(escalation.get("TransactWriteItems"), 1, "{escalation}");
    assert_eq!(
        digest.get("TransactWriteItems") + digest.get("PutItem"),
        1,
        "{digest}"
    );
    for c in [
        &heartbeat,
        &handoff,
        &acknowledged,
        &poll,
        &claim,
        &idle_sweep,
        &digest,
        &escalation,
    ] {
        assert_eq!(c.get("Scan"), 0, "never a scan: {c}");
    }
}
