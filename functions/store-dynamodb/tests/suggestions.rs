//! The learning loop on DynamoDB (moto): a resolve after a canned answer and a tag
//! writes the suggestions in its one transaction; a supervisor lists and accepts
//! (the catalog change and the decision in one transaction) or rejects; and the
//! requests each use case makes
//! (`cargo test -p handoff-dynamodb --test suggestions -- --nocapture` prints them).

use std::sync::Arc;

use handoff_core::auth::Agent;
use handoff_core::ids::AgentId;
use handoff_core::ports::SystemClock;
use handoff_dynamodb::testing;

fn agent(name: &str, supervisor: bool) -> Agent {
    Agent {
        id: AgentId::parse(name).expect("agent id"),
        supervisor,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn request_budget_of_the_learning_loop() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let service = testing::service(store.clone(), Arc::new(SystemClock));
    let a = agent("agent-learn", false);
    let sup = agent("sup-learn", true);
    let mut lines = Vec::new();
    let mut measure = |what: &str, counts: handoff_dynamodb::RequestCounts| {
        lines.push(format!("  {what:<44} {counts}"));
        counts
    };

    // A resolve with nothing to learn, for comparison.
    let plain = service
        .receive(testing::web(None, "상담원 연결해 주세요", "learn-0"))
        .await
        .expect("handoff");
    service
        .claim(&a, &plain.conversation.id)
        .await
        .expect("claim");
    store.reset_request_counts();
    service
        .resolve(&a, &plain.conversation.id)
        .await
        .expect("resolve");
    let resolve_plain = measure("resolve, nothing to learn:", store.request_counts());

    let queued = service
        .receive(testing::web(None, "상담원 연결해 주세요", "learn-1"))
        .await
        .expect("handoff");
    let id = queued.conversation.id.clone();
    service.claim(&a, &id).await.expect("claim");
    let asked = service
        .receive(testing::web(
            Some(&id),
            "택배 부치는 돈은 얼마 들어요?",
            "learn-2",
        ))
        .await
        .expect("question");
    let q_seq = asked
        .customer_message
        .as_ref()
        .map(|m| m.seq)
        .expect("the customer's message");
    service
        .canned_reply(&a, &id, "shipping-fee")
        .await
        .expect("canned");
    let other = service
        .receive(testing::web(Some(&id), "돈은 언제 돌려받아요?", "learn-3"))
        .await
        .expect("second question");
    let tagged_seq = other
        .customer_message
        .as_ref()
        .map(|m| m.seq)
        .expect("the customer's message");

    store.reset_request_counts();
    service
        .tag_message(&a, &id, tagged_seq, "refund-timing")
        .await
        .expect("tag");
    let tag = measure("agent tags a message with an FAQ:", store.request_counts());

    store.reset_request_counts();
    service.resolve(&a, &id).await.expect("resolve");
    let resolve_learn = measure("resolve with 2 suggestions:", store.request_counts());

    store.reset_request_counts();
    let list = service.suggestions(&sup).await.expect("list");
    let listing = measure("supervisor lists suggestions:", store.request_counts());
    assert_eq!(list.len(), 2, "{list:?}");
    let canned = list
        .iter()
        .find(|s| s.suggestion.seq == q_seq)
        .expect("the canned one");
    let tagged = list
        .iter()
        .find(|s| s.suggestion.seq == tagged_seq)
        .expect("the tagged one");

    store.reset_request_counts();
    let accepted = service
        .decide_suggestion(&sup, &canned.suggestion.id, true)
        .await
        .expect("accept");
    let accept = measure(
        "supervisor accepts (catalog change):",
        store.request_counts(),
    );
    assert_eq!(accepted.catalog_version, Some(1));

    store.reset_request_counts();
    let rejected = service
        .decide_suggestion(&sup, &tagged.suggestion.id, false)
        .await
        .expect("reject");
    let reject = measure("supervisor rejects:", store.request_counts());
    assert_eq!(rejected.catalog_version, None);

    let again = service
        .decide_suggestion(&sup, &canned.suggestion.id, false)
        .await;
    assert!(again.is_err(), "decided once: {again:?}");
    let stored = service.export_catalog().await.expect("export");
    let faq = stored.catalog.faq("shipping-fee").expect("faq");
    assert!(faq.questions["ko"]
        .iter()
        .any(|q| q.starts_with("택배 부치는 돈")));

    println!("DynamoDB requests per use case (moto):");
    for l in &lines {
        println!("{l}");
    }
    // Each change is one transaction (the tag: one conditional put); the list writes nothing.
    for c in [&resolve_plain, &resolve_learn, &accept, &reject] {
        assert_eq!(c.get("TransactWriteItems"), 1, "{c}");
    }
    assert_eq!(tag.writes(), 1, "{tag}");
    assert_eq!(listing.writes(), 0, "{listing}");
    assert_eq!(
        resolve_learn.reads(),
        resolve_plain.reads() + 1,
        "learning adds one read, the suggestions list: {resolve_learn} vs {resolve_plain}"
    );
}
