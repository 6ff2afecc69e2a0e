//! The FAQ catalog on DynamoDB (moto): a supervisor's change is one conditional
//! write, another instance picks it up at its next check (one GetItem, at most once
//! per interval) and rebuilds its index only then; the requests each use case makes
//! (`cargo test -p handoff-dynamodb --test catalog -- --nocapture` prints them).

use std::sync::Arc;

use handoff_core::auth::Agent;
use handoff_core::catalog::{CatalogChange, FaqInput};
use handoff_core::ids::AgentId;
use handoff_core::ports::ManualClock;
use handoff_dynamodb::testing;
use jiff::SignedDuration;

fn supervisor() -> Agent {
    Agent {
        id: AgentId::parse("sup-1").expect("id"),
        supervisor: true,
    }
}

fn pets() -> CatalogChange {
    let input: FaqInput = serde_json::from_value(serde_json::json!({
        "id": "pets",
        "questions": {"ko": ["반려견 데리고 매장에 가도 되나요?"], "en": ["Can I bring my dog to the store?"]},
        "answer": {"ko": "네, 목줄을 한 반려견은 함께 오실 수 있어요.", "en": "Yes, dogs on a leash are welcome."}
    }))
    .expect("json");
    CatalogChange::Add(input.into_faq(None).expect("faq"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_changes_reach_other_instances_and_their_request_budget() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let clock = Arc::new(ManualClock::new("2026-11-23T01:00:00Z".parse().expect("t")));
    let editor = testing::service(store.clone(), clock.clone());
    let chat = testing::service(store.clone(), clock.clone());
    let ask = "반려견 데리고 매장에 가도 되나요?";
    let mut lines = Vec::new();
    let mut measure = |what: &str, counts: handoff_dynamodb::RequestCounts| {
        lines.push(format!("  {what:<44} {counts}"));
        counts
    };

    store.reset_request_counts();
    let check = chat.live_catalog().await;
    assert_eq!(check.version, 0, "nothing stored: the seed");
    let first_check = measure(
        "instance's check (nothing stored yet):",
        store.request_counts(),
    );

    store.reset_request_counts();
    let export = editor.export_catalog().await.expect("export");
    assert_eq!(export.version, 0);
    let export_cost = measure("export (GET /v1/agent/faqs):", store.request_counts());

    store.reset_request_counts();
    let added = editor
        .change_catalog(&supervisor(), pets(), None)
        .await
        .expect("add");
    assert_eq!(added.version, 1);
    let add = measure("supervisor adds an FAQ:", store.request_counts());

    store.reset_request_counts();
    let r = chat
        .receive(testing::web(None, ask, "cat-1"))
        .await
        .expect("ask");
    assert_ne!(
        r.replies[0].faq_id.as_deref(),
        Some("pets"),
        "checked under a minute ago: the cached catalog"
    );
    let no_check = measure("message, no check due:", store.request_counts());

    clock.advance(SignedDuration::from_secs(60));
    store.reset_request_counts();
    let r = chat
        .receive(testing::web(None, ask, "cat-2"))
        .await
        .expect("ask");
    assert_eq!(
        r.replies[0].faq_id.as_deref(),
        Some("pets"),
        "a minute on: v1"
    );
    let with_check = measure(
        "message with the minute's check (new version):",
        store.request_counts(),
    );

    clock.advance(SignedDuration::from_secs(60));
    store.reset_request_counts();
    let same = chat.live_catalog().await;
    assert_eq!(same.version, 1);
    let unchanged = measure("check, version unchanged:", store.request_counts());

    // A stale writer (expected version 0) is refused and writes nothing.
    store.reset_request_counts();
    let stale = editor
        .change_catalog(&supervisor(), CatalogChange::Delete("pets".into()), Some(0))
        .await;
    assert!(stale.is_err(), "{stale:?}");
    let refused = measure("change on a stale version (409):", store.request_counts());

    store.reset_request_counts();
    let deleted = editor
        .change_catalog(&supervisor(), CatalogChange::Delete("pets".into()), Some(1))
        .await
        .expect("delete");
    assert_eq!(deleted.version, 2);
    let delete = measure("supervisor deletes an FAQ:", store.request_counts());

    println!("DynamoDB requests per use case (moto):");
    for l in &lines {
        println!("{l}");
    }
    for c in [&first_check, &unchanged, &export_cost] {
        assert_eq!((c.get("GetItem"), c.writes()), (1, 0), "{c}");
    }
    for c in [&add, &delete] {
        assert_eq!(
            (c.get("GetItem"), c.get("TransactWriteItems")),
            (1, 1),
            "{c}"
        );
    }
    assert_eq!(refused.writes(), 0, "{refused}");
    assert_eq!(
        with_check.reads(),
        no_check.reads() + 2,
        "a check finding a new version reads the version record, then the catalog: {with_check} vs {no_check}"
    );
}
