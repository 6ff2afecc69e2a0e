//! Known-problem notices on DynamoDB (moto): posting and ending one is one read and
//! one conditional write of the incidents record; another instance sees it at its
//! next check (one GetItem, at most once per interval); telling a customer costs no
//! request beyond the message's own commit. Prints the requests of each use case:
//! `cargo test -p handoff-dynamodb --test incidents -- --nocapture`.

use std::sync::Arc;

use handoff_core::auth::Agent;
use handoff_core::ids::AgentId;
use handoff_core::incident::{IncidentId, IncidentInput};
use handoff_core::ports::ManualClock;
use handoff_dynamodb::testing;
use jiff::SignedDuration;

const EN: &str = "Deliveries are running late this week.";

fn supervisor() -> Agent {
    Agent {
        id: AgentId::parse("sup-1").expect("id"),
        supervisor: true,
    }
}

fn late_deliveries() -> IncidentInput {
    serde_json::from_value(serde_json::json!({
        "text": {"en": EN, "ko": "이번 주 배송이 늦어지고 있어요."},
        "examples": ["where is my package", "my order hasn't arrived yet", "택배가 안 와요"],
        "until": "2026-11-25T01:00:00Z"
    }))
    .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn incidents_reach_other_instances_and_their_request_budget() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let clock = Arc::new(ManualClock::new("2026-11-23T01:00:00Z".parse().expect("t")));
    let editor = testing::service(store.clone(), clock.clone());
    let chat = testing::service(store.clone(), clock.clone());
    let mut lines = Vec::new();
    let mut measure = |what: &str, counts: handoff_dynamodb::RequestCounts| {
        lines.push(format!("  {what:<52} {counts}"));
        counts
    };
    let told = |r: &handoff_core::service::Received| r.replies.iter().any(|m| m.text == EN);

    // The instance's first checks (catalog and incidents), then a message with none due.
    store.reset_request_counts();
    chat.live_catalog().await;
    let none = chat.live_incidents().await;
    assert_eq!(none.version, 0);
    let first_check = measure(
        "first checks, catalog + incidents (nothing stored):",
        store.request_counts(),
    );
    store.reset_request_counts();
    let r = chat
        .receive(testing::web(None, "what are your store hours?", "inc-1"))
        .await
        .expect("message");
    assert!(!told(&r));
    let baseline = measure(
        "message, no check due, no incident:",
        store.request_counts(),
    );
    assert_eq!(baseline.reads(), 0, "{baseline}");

    store.reset_request_counts();
    let incident = editor
        .create_incident(&supervisor(), late_deliveries())
        .await
        .expect("post");
    let post = measure("supervisor posts an incident:", store.request_counts());

    store.reset_request_counts();
    let listed = editor.active_incidents().await.expect("list");
    assert_eq!(listed.len(), 1);
    let list = measure("list (GET /v1/agent/incidents):", store.request_counts());

    // The other instance checked under a minute ago: not told yet.
    store.reset_request_counts();
    let r = chat
        .receive(testing::web(None, "where is my package", "inc-2"))
        .await
        .expect("message");
    assert!(!told(&r), "the cached incidents until the next check");
    let not_told = measure(
        "same message not told, no check due:",
        store.request_counts(),
    );

    clock.advance(SignedDuration::from_secs(60));
    store.reset_request_counts();
    let r = chat
        .receive(testing::web(None, "where is my package", "inc-3"))
        .await
        .expect("message");
    assert!(told(&r), "a minute on: told first");
    assert_eq!(r.replies[0].text, EN);
    let with_check = measure(
        "message told, checks due (catalog + incidents):",
        store.request_counts(),
    );

    store.reset_request_counts();
    let r = chat
        .receive(testing::web(None, "where is my package", "inc-4"))
        .await
        .expect("message");
    assert!(told(&r));
    let told_cached = measure("message told, no check due:", store.request_counts());

    store.reset_request_counts();
    let ended = editor
        .end_incident(&supervisor(), &incident.id)
        .await
        .expect("end");
    assert!(ended.ended_at.is_some());
    let end = measure("supervisor ends it early:", store.request_counts());

    store.reset_request_counts();
    let again = editor
        .end_incident(&supervisor(), &incident.id)
        .await
        .expect("end again");
    assert_eq!(again.ended_at, ended.ended_at);
    let end_again = measure("ending it again (idempotent):", store.request_counts());

    store.reset_request_counts();
    let unknown = editor
        .end_incident(&supervisor(), &IncidentId::parse("i_nope").expect("id"))
        .await;
    assert!(unknown.is_err());
    let end_unknown = measure("ending an unknown one (404):", store.request_counts());

    clock.advance(SignedDuration::from_secs(60));
    let r = chat
        .receive(testing::web(None, "where is my package", "inc-5"))
        .await
        .expect("message");
    assert!(!told(&r), "ended: no longer told");

    println!("DynamoDB requests per use case (moto):");
    for l in &lines {
        println!("{l}");
    }
    assert_eq!((first_check.get("GetItem"), first_check.writes()), (2, 0));
    for c in [&list, &end_again, &end_unknown] {
        assert_eq!((c.get("GetItem"), c.writes()), (1, 0), "{c}");
    }
    for c in [&post, &end] {
        assert_eq!(
            (c.get("GetItem"), c.get("TransactWriteItems")),
            (1, 1),
            "{c}"
        );
    }
    assert_eq!(
        (told_cached.reads(), told_cached.writes()),
        (not_told.reads(), not_told.writes()),
        "telling costs no request beyond the message's own commit"
    );
    assert_eq!(
        with_check.reads(),
        told_cached.reads() + 2,
        "the minute's checks: the catalog's version record and the incidents record"
    );
}
