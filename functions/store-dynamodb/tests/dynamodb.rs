//! The DynamoDB store against a real DynamoDB API (moto's server; see
//! `handoff_dynamodb::testing`): the storage contract, the use cases' races and
//! repeats, the table layout, and the request budget of each use case.

use handoff_dynamodb::testing as common;

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use handoff_core::auth::Agent;
use handoff_core::ids::AgentId;
use handoff_core::model::{Outbound, Status};
use handoff_core::ports::{ConversationStore, Delivery, OutboxStore, SystemClock};
use handoff_core::{DeliveryError, ServiceError};
use handoff_dynamodb::{keys, testing, DynamoStore};

fn agent(name: &str) -> Agent {
    Agent {
        id: AgentId::parse(name).expect("agent id"),
        supervisor: false,
    }
}

async fn raw_item(
    store: &DynamoStore,
    pk: &str,
) -> std::collections::HashMap<String, AttributeValue> {
    store
        .client()
        .get_item()
        .table_name(store.table())
        .key(keys::PK, AttributeValue::S(pk.into()))
        .key(keys::SK, AttributeValue::S(keys::META.into()))
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("item exists")
}

/// The storage contract, one test per rule, each on a fresh table.
mod store_contract {
    use super::*;
    handoff_core::contract_tests!(async {
        let (store, _) = testing::store().await;
        Arc::new(store) as handoff_core::contract::Store
    });
}

/// The table as `infra/template.yaml` declares it, one fact a line: key schemas
/// (`table PK HASH`, `GSI1 GSI1PK HASH`), projections, the TTL attribute, the stream.
fn template_table() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/template.yaml");
    let start = text
        .find("\n  HandoffTable:\n")
        .expect("the template declares HandoffTable");
    let mut facts = Vec::new();
    let (mut index, mut in_ttl) = ("table".to_string(), false);
    for line in text[start + 1..].lines().skip(1) {
        // The next resource (two-space indent) ends the table's block.
        if line.starts_with("  ") && !line.starts_with("   ") && !line.trim_start().starts_with('#')
        {
            break;
        }
        let code = line.split(" #").next().unwrap_or("").trim();
        let value = |key: &str| {
            code.split(key).nth(1).map(|v| {
                v.trim_matches(|c: char| c == ' ' || c == ',' || c == '}')
                    .to_string()
            })
        };
        if let Some(name) = value("IndexName:") {
            index = name;
        } else if code.contains("KeyType:") {
            let attr = value("AttributeName:").unwrap_or_default();
            let attr = attr.split(',').next().unwrap_or("").trim().to_string();
            facts.push(format!(
                "{index} {attr} {}",
                value("KeyType:").unwrap_or_default()
            ));
        } else if let Some(p) = value("ProjectionType:") {
            facts.push(format!("{index} projection {p}"));
        } else if code.starts_with("TimeToLiveSpecification") {
            in_ttl = true;
        } else if in_ttl && code.starts_with("AttributeName:") {
            facts.push(format!(
                "ttl {}",
                value("AttributeName:").unwrap_or_default()
            ));
            in_ttl = false;
        } else if let Some(v) = value("StreamViewType:") {
            facts.push(format!("stream {v}"));
        }
    }
    facts.sort();
    facts
}

#[tokio::test]
async fn provision_matches_the_template_and_is_idempotent() {
    let (store, _) = testing::store().await;
    store
        .provision()
        .await
        .expect("second provision is a no-op");
    let table = store
        .client()
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .expect("describe")
        .table
        .expect("table");
    let mut indexes: Vec<String> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name().map(str::to_string))
        .collect();
    indexes.sort();
    assert_eq!(indexes, vec!["GSI1", "GSI2", "GSI3"]);
    let stream = table.stream_specification().expect("stream");
    assert!(stream.stream_enabled());
    assert!(store.stream_arn().await.expect("arn").is_some());
    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .expect("ttl")
        .time_to_live_description
        .expect("ttl description");
    assert_eq!(ttl.attribute_name(), Some(keys::EXPIRES_AT));

    // Everything the template says about the table, the provisioned table has.
    let mut provisioned: Vec<String> = table
        .key_schema()
        .iter()
        .map(|k| format!("table {} {}", k.attribute_name(), k.key_type().as_str()))
        .collect();
    for gsi in table.global_secondary_indexes() {
        let name = gsi.index_name().unwrap_or("");
        for k in gsi.key_schema() {
            provisioned.push(format!(
                "{name} {} {}",
                k.attribute_name(),
                k.key_type().as_str()
            ));
        }
        if let Some(p) = gsi.projection().and_then(|p| p.projection_type()) {
            provisioned.push(format!("{name} projection {}", p.as_str()));
        }
    }
    if let Some(view) = stream.stream_view_type() {
        provisioned.push(format!("stream {}", view.as_str()));
    }
    if let Some(attr) = ttl.attribute_name() {
        provisioned.push(format!("ttl {attr}"));
    }
    provisioned.sort();
    let template = template_table();
    assert!(
        template.len() >= 12,
        "read the template's table: {template:?}"
    );
    assert_eq!(
        provisioned, template,
        "DynamoStore::provision and infra/template.yaml differ"
    );
}

/// 20 agents claim one queued conversation at once: one wins, the others are told who did.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_claims_one_wins() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let service = Arc::new(common::service(store.clone(), Arc::new(SystemClock)));
    let got = service
        .receive(common::web(None, "상담원 연결해 주세요", "claim-1"))
        .await
        .expect("receive");
    assert_eq!(
        got.conversation.status,
        Status::Queued,
        "asked for a person"
    );
    let id = got.conversation.id.clone();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let service = service.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            service.claim(&agent(&format!("agent-{i}")), &id).await
        }));
    }
    let (mut wins, mut already) = (Vec::new(), 0);
    for t in tasks {
        match t.await.expect("join") {
            Ok(c) => wins.push(c.assigned_to.expect("assigned")),
            Err(ServiceError::AlreadyClaimed { .. }) => already += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(wins.len(), 1, "exactly one claim wins");
    assert_eq!(already, 19, "the rest are AlreadyClaimed");
    let stored = store.conversation(&id).await.expect("read").expect("conv");
    assert_eq!(stored.assigned_to.as_ref(), Some(&wins[0]));
    let joined = store
        .messages(&id, 0, 100)
        .await
        .expect("messages")
        .into_iter()
        .filter(|m| {
            m.from == handoff_core::model::Role::System && m.seq > got.conversation.last_seq
        })
        .count();
    assert_eq!(joined, 1, "one 'agent joined' notice");
    let queue = store.queue(100).await.expect("queue");
    assert!(
        !queue.iter().any(|c| c.id == id),
        "claimed leaves the queue"
    );
    assert_eq!(
        store.assigned_to(&wins[0], 10).await.expect("mine").len(),
        1
    );
}

/// The same delivery three times at once and three times in a row: stored and answered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_delivery_is_stored_and_answered_once() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let service = Arc::new(common::service(store.clone(), Arc::new(SystemClock)));
    let first = service
        .receive(common::web(None, "배송비가 얼마예요?", "first"))
        .await
        .expect("first message");
    let id = first.conversation.id.clone();

    // Concurrently.
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let service = service.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            service
                .receive(common::web(
                    Some(&id),
                    "When will I get my refund?",
                    "dup-1",
                ))
                .await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("join").expect("receive"));
    }
    assert_eq!(
        results.iter().filter(|r| !r.repeat).count(),
        1,
        "one original"
    );
    assert_eq!(
        results.iter().filter(|r| r.repeat).count(),
        2,
        "two repeats"
    );
    let reply_ids = |r: &handoff_core::service::Received| {
        r.replies.iter().map(|m| m.id.clone()).collect::<Vec<_>>()
    };
    let original = results.iter().find(|r| !r.repeat).expect("original");
    assert_eq!(original.replies.len(), 1);
    assert!(
        original.replies[0].faq_id.is_some(),
        "answered by the bot: {:?}",
        original.replies
    );
    for r in &results {
        assert_eq!(reply_ids(r), reply_ids(original), "same replies");
        assert_eq!(
            r.customer_message.as_ref().map(|m| m.id.clone()),
            original.customer_message.as_ref().map(|m| m.id.clone())
        );
    }

    // Sequentially.
    let mut sequential = Vec::new();
    for _ in 0..3 {
        sequential.push(
            service
                .receive(common::web(
                    Some(&id),
                    "What are your store hours?",
                    "dup-2",
                ))
                .await
                .expect("receive"),
        );
    }
    assert!(!sequential[0].repeat);
    assert!(sequential[1].repeat && sequential[2].repeat);
    assert_eq!(reply_ids(&sequential[1]), reply_ids(&sequential[0]));
    assert_eq!(reply_ids(&sequential[2]), reply_ids(&sequential[0]));

    let all = store.messages(&id, 0, 100).await.expect("messages");
    let customer_texts: Vec<&str> = all
        .iter()
        .filter(|m| m.from == handoff_core::model::Role::Customer)
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        customer_texts,
        vec![
            "배송비가 얼마예요?",
            "When will I get my refund?",
            "What are your store hours?"
        ],
        "each message stored once"
    );
    assert_eq!(all.len(), 6, "three questions, three answers");
}

/// What the items look like: keys, sparse index attributes, expiry.
#[tokio::test]
async fn item_layout() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let service = common::service(store.clone(), Arc::new(SystemClock));
    let got = service
        .receive(common::web(
            None,
            "사람이랑 얘기하고 싶어요 상담원 연결",
            "layout",
        ))
        .await
        .expect("receive");
    let id = got.conversation.id.clone();
    assert_eq!(got.conversation.status, Status::Queued);
    let conv = raw_item(&store, &keys::conversation(id.as_str())).await;
    assert_eq!(conv["type"].as_s().expect("s"), "conversation");
    assert_eq!(conv["GSI1PK"].as_s().expect("s"), "QUEUE");
    assert!(
        conv["GSI1SK"].as_s().expect("s").starts_with("1#"),
        "normal priority ranks 1"
    );
    assert!(conv.contains_key("expires_at"), "retention set");
    assert!(!conv.contains_key("GSI2PK"), "not assigned");
    assert_eq!(
        conv["GSI3PK"].as_s().expect("s"),
        &keys::customer(got.conversation.customer_id.as_str())
    );

    let outbox_id = format!("alert:{id}:1");
    let outbox = raw_item(&store, &keys::outbox(&outbox_id)).await;
    assert_eq!(outbox["GSI1PK"].as_s().expect("s"), "OUTBOX");
    let customer = raw_item(
        &store,
        &keys::customer(got.conversation.customer_id.as_str()),
    )
    .await;
    assert!(
        !customer.contains_key("expires_at"),
        "customers are kept (opt-outs)"
    );

    service
        .claim(&agent("agent-layout"), &id)
        .await
        .expect("claim");
    let conv = raw_item(&store, &keys::conversation(id.as_str())).await;
    assert!(!conv.contains_key("GSI1PK"), "left the queue index");
    assert_eq!(conv["GSI2PK"].as_s().expect("s"), "AGENT#agent-layout");

    struct Ok_;
    #[async_trait::async_trait]
    impl Delivery for Ok_ {
        async fn deliver(&self, _: &handoff_core::model::OutboxItem) -> Result<(), DeliveryError> {
            Ok(())
        }
    }
    let pending = store
        .pending_outbox(service.now(), 100)
        .await
        .expect("pending");
    let item = pending
        .iter()
        .find(|o| o.id == outbox_id)
        .expect("alert pending");
    assert!(matches!(item.item, Outbound::AgentAlert(_)));
    service.dispatch(&Ok_, item).await.expect("dispatch");
    let outbox = raw_item(&store, &keys::outbox(&outbox_id)).await;
    assert!(outbox.contains_key("delivered_at"));
    assert!(!outbox.contains_key("GSI1PK"), "left the pending index");
}

/// The request budget: printed with `cargo test -p handoff-dynamodb --test dynamodb budget -- --nocapture`.
#[tokio::test]
async fn request_budget() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let service = common::service(store.clone(), Arc::new(SystemClock));
    // The instance's catalog check (one GetItem at most once a minute; tests/catalog.rs).
    service.live_catalog().await;
    // And its incidents check, the same way (tests/incidents.rs).
    service.live_incidents().await;

    store.reset_request_counts();
    let first = service
        .receive(common::web(None, "배송비가 얼마예요?", "b1"))
        .await
        .expect("first");
    assert!(first.replies[0].faq_id.is_some(), "bot answered");
    let new_conversation = store.request_counts();
    let id = first.conversation.id.clone();

    store.reset_request_counts();
    let second = service
        .receive(common::web(Some(&id), "How long does a refund take?", "b2"))
        .await
        .expect("second");
    assert!(
        second.replies[0].faq_id.is_some(),
        "bot answered: {:?}",
        second.replies
    );
    let bot_answer = store.request_counts();

    store.reset_request_counts();
    let handoff = service
        .receive(common::web(Some(&id), "상담원 연결해 주세요", "b3"))
        .await
        .expect("handoff");
    assert_eq!(handoff.conversation.status, Status::Queued);
    let handoff_cost = store.request_counts();

    store.reset_request_counts();
    struct Ok_;
    #[async_trait::async_trait]
    impl Delivery for Ok_ {
        async fn deliver(&self, _: &handoff_core::model::OutboxItem) -> Result<(), DeliveryError> {
            Ok(())
        }
    }
    let pending = store
        .pending_outbox(service.now(), 10)
        .await
        .expect("pending");
    store.reset_request_counts();
    for item in &pending {
        service.dispatch(&Ok_, item).await.expect("dispatch");
    }
    let dispatch = store.request_counts();

    store.reset_request_counts();
    service
        .claim(&agent("agent-budget"), &id)
        .await
        .expect("claim");
    let claim = store.request_counts();

    println!("DynamoDB requests per use case (moto):");
    println!("  first web message, bot answers:     {new_conversation}");
    println!("  next web message, bot answers:      {bot_answer}");
    println!("  web message handed off to a person: {handoff_cost}");
    println!("  dispatching the alert:              {dispatch}");
    println!("  agent claims:                       {claim}");

    assert!(bot_answer.reads() <= 1, "bot answer reads: {bot_answer}");
    assert!(bot_answer.writes() <= 2, "bot answer writes: {bot_answer}");
    assert_eq!(bot_answer.get("TransactWriteItems"), 1);
    assert_eq!(
        new_conversation.reads(),
        0,
        "a new conversation reads nothing: {new_conversation}"
    );
    assert_eq!(
        dispatch.get("UpdateItem"),
        2,
        "lease and complete: {dispatch}"
    );
    assert!(handoff_cost.writes() <= 1, "{handoff_cost}");
    assert_eq!(handoff_cost.get("Scan"), 0);
}

/// Twenty texts from one number arriving at once (the customer's first ones: the
/// customer, phone lookup and conversation are all created by the race) end up in one
/// conversation, in order, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_texts_at_once_from_one_number() {
    use handoff_core::model::{MessageText, Role};
    use handoff_core::service::{Inbound, Origin, ReplyVia};
    use handoff_core::sms::{Country, PhoneNumber};

    let (store, _account) = common::store().await;
    let store = Arc::new(store);
    let service = Arc::new(common::service(store.clone(), Arc::new(SystemClock)));
    let phone = PhoneNumber::parse("010-4444-5555", Country::KR).expect("phone");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let service = service.clone();
        let phone = phone.clone();
        tasks.push(tokio::spawn(async move {
            service
                .receive(Inbound {
                    origin: Origin::Sms { phone },
                    text: MessageText::parse(&format!("배송비가 얼마예요? {i}")).expect("text"),
                    idempotency: Some(handoff_core::ids::IdempotencyKey::sms(
                        "sns",
                        &format!("burst-{i}"),
                    )),
                    reply_via: ReplyVia::SmsOutbox,
                    sender: Default::default(),
                })
                .await
        }));
    }
    let mut conversations = std::collections::HashSet::new();
    for t in tasks {
        conversations.insert(t.await.expect("join").expect("receive").conversation.id);
    }
    assert_eq!(conversations.len(), 1, "one conversation per customer");
    let id = conversations.into_iter().next().expect("id");
    let messages = store.messages(&id, 0, 1000).await.expect("messages");
    let from_customer: Vec<_> = messages
        .iter()
        .filter(|m| m.from == Role::Customer)
        .collect();
    assert_eq!(from_customer.len(), 20, "none lost");
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "in order, gapless"
    );
    let customer = store
        .customer_by_phone(&phone)
        .await
        .expect("read")
        .expect("customer");
    assert_eq!(customer.open_conversation, Some(id));
}

/// A commit over DynamoDB's transaction limit can never succeed: a permanent error.
#[tokio::test]
async fn a_commit_over_the_transaction_limit_is_refused_for_good() {
    use handoff_core::contract::fixtures::{at, conversation, create};
    use handoff_core::ids::CustomerId;
    use handoff_core::model::{OutboxItem, PhoneNumber};
    use handoff_core::StoreError;

    let (store, _) = testing::store().await;
    let conv = conversation(&CustomerId::generate());
    let mut commit = create(&conv, vec![]);
    let to = PhoneNumber::from_e164("+821012345678").expect("phone");
    commit.outbox = (0..120)
        .map(|seq| -> OutboxItem {
            handoff_core::outbox::customer_sms(&conv.id, seq, to.clone(), "hi".into(), at(0))
        })
        .collect();
    let err = store.commit(commit).await.expect_err("over the limit");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(!ServiceError::from(err).is_transient());
    assert!(
        store.conversation(&conv.id).await.expect("read").is_none(),
        "nothing written"
    );
}

/// What the abuse limits and phone verification cost in DynamoDB requests (moto
/// counts them as DynamoDB would bill them).
#[tokio::test]
async fn request_budget_of_limits_and_verification() {
    use handoff_core::auth::{ConversationTokens, Secret};
    use handoff_core::limits::RateLimits;
    use handoff_core::service::Sender;
    use handoff_core::sms::{Country, PhoneNumber};
    use handoff_core::verification::PhoneCode;

    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let catalog = handoff_core::faq::FaqCatalog::from_json(testing::CATALOG).expect("catalog");
    let index = handoff_core::faq::FaqIndex::build(&catalog);
    let mut settings = testing::settings();
    settings.rate_limits = RateLimits::default();
    let service = handoff_core::HandoffService::new(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(catalog),
        Arc::new(index),
        settings,
    );
    let codes =
        ConversationTokens::new(Secret::new(b"budget-secret-0123456789".to_vec()).expect("s"))
            .phone_codes();
    let mut first = common::web(None, "상담원 연결해 주세요", "lim-1");
    first.sender = Sender {
        ip: Some("203.0.113.9".into()),
        device: Some(handoff_core::ids::DeviceId::parse("budget-device").expect("d")),
    };
    store.reset_request_counts();
    let r = service.receive(first).await.expect("first");
    assert_eq!(r.conversation.status, Status::Queued);
    let first_handoff = store.request_counts();

    let phone = PhoneNumber::parse("010-5550-1212", Country::KR).expect("phone");
    store.reset_request_counts();
    service
        .request_phone_code(&r.conversation.id, phone, &codes, Some("203.0.113.9"))
        .await
        .expect("code");
    let code_request = store.request_counts();

    store.reset_request_counts();
    let wrong = PhoneCode::parse("000000").expect("c");
    let _ = service
        .verify_phone(&r.conversation.id, &wrong, &codes)
        .await;
    let wrong_code = store.request_counts();

    println!("DynamoDB requests with abuse limits on (moto):");
    println!("  first web message, handed off:      {first_handoff}");
    println!("  phone code requested:               {code_request}");
    println!("  a wrong code:                       {wrong_code}");
    // The idempotency pre-check and the queue read, 4 counters, 1 commit.
    assert_eq!(first_handoff.get("UpdateItem"), 4, "{first_handoff}");
    assert_eq!(
        first_handoff.get("TransactWriteItems"),
        1,
        "{first_handoff}"
    );
    assert_eq!(
        code_request.get("TransactWriteItems"),
        1,
        "one commit: {code_request}"
    );
    assert_eq!(
        code_request.get("UpdateItem"),
        2,
        "ip and phone counters: {code_request}"
    );
    assert_eq!(wrong_code.writes(), 1, "the try is counted: {wrong_code}");
}
