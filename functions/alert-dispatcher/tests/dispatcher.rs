//! The dispatcher's handler against moto: fed the table's real stream records, the
//! sample events in `events/alert-dispatcher/`, failing deliveries and the sweep.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use alert_dispatcher::{Dispatcher, DropRejectedTexts};
use async_trait::async_trait;
use handoff_core::model::{Outbound, OutboxItem};
use handoff_core::ports::{
    Clock, Commit, ConversationStore, Delivery, ManualClock, OutboxStore, SystemClock,
};
use handoff_core::service::OutboxDispatcher;
use handoff_core::DeliveryError;
use handoff_dynamodb::testing::{self, AccountHeader};
use handoff_dynamodb::DynamoStore;
use handoff_sns::{SmsSettings, SnsDelivery};
use serde_json::{json, Value};

struct Env {
    store: Arc<DynamoStore>,
    account: String,
    topic_arn: String,
    sns: SnsDelivery,
}

async fn env() -> Env {
    let (store, account) = testing::store().await;
    let sdk = testing::moto().sdk_config().await;
    let client = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&sdk)
            .interceptor(AccountHeader(account.clone()))
            .build(),
    );
    let topic_arn = SnsDelivery::provision_topic(&client, "handoff-alerts")
        .await
        .expect("topic");
    let sns = SnsDelivery::new(client, topic_arn.clone(), SmsSettings::default());
    Env {
        store: Arc::new(store),
        account,
        topic_arn,
        sns,
    }
}

impl Env {
    fn dispatcher(&self, clock: Arc<dyn Clock>, delivery: Arc<dyn Delivery>) -> Dispatcher {
        Dispatcher::new(OutboxDispatcher::new(self.store.clone(), clock), delivery)
    }
    fn real(&self) -> Dispatcher {
        self.dispatcher(
            Arc::new(SystemClock),
            Arc::new(DropRejectedTexts(self.sns.clone())),
        )
    }
    fn alerts(&self) -> Vec<Value> {
        let data = testing::moto().data();
        data["sns"]["Topic"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .find(|t| t["arn"].as_str() == Some(self.topic_arn.as_str()))
            .map(|t| {
                t["sent_notifications"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }
    async fn stream_event(&self) -> Value {
        let arn = self
            .store
            .stream_arn()
            .await
            .expect("describe")
            .expect("stream enabled");
        json!({ "Records": testing::moto().stream_records(&self.account, &arn) })
    }
}

fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("not a stream response: {response}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The handoff's alert goes out once from the table's real stream records, and not
/// again when Lambda delivers the same records again.
#[tokio::test]
async fn real_stream_records_publish_once() {
    let env = env().await;
    let service = testing::service(env.store.clone(), Arc::new(SystemClock));
    let first = service
        .receive(testing::web(None, "배송비가 얼마예요?", "s1"))
        .await
        .expect("bot answer");
    let id = first.conversation.id.clone();
    let handoff = service
        .receive(testing::web(Some(&id), "상담원 연결해 주세요", "s2"))
        .await
        .expect("handoff");
    assert_eq!(
        handoff.conversation.status,
        handoff_core::model::Status::Queued
    );

    let event = env.stream_event().await;
    let records = event["Records"].as_array().expect("records");
    let inserts = records
        .iter()
        .filter(|r| r["eventName"] == "INSERT")
        .count();
    assert!(
        inserts >= 8,
        "conversation, customer, messages, idempotency, outbox: {inserts}"
    );
    assert!(
        records.iter().any(|r| r["eventName"] == "MODIFY"),
        "the conversation changed"
    );

    let dispatcher = env.real();
    let response = dispatcher.handle(event.clone()).await.expect("handle");
    assert!(failures(&response).is_empty(), "{response}");
    let alerts = env.alerts();
    assert_eq!(alerts.len(), 1, "one alert: {alerts:?}");
    assert!(
        alerts[0][1]
            .as_str()
            .expect("text")
            .contains(&format!("#c/{id}")),
        "links the conversation: {}",
        alerts[0][1]
    );
    assert_eq!(alerts[0][3]["priority"]["Value"], "normal");

    // Lambda redelivers the batch (e.g. after a timeout): nothing is published twice.
    let response = dispatcher.handle(event).await.expect("handle again");
    assert!(failures(&response).is_empty());
    assert_eq!(env.alerts().len(), 1, "still one alert");
    // The stream now also holds the lease and completion (MODIFY): ignored.
    let response = dispatcher
        .handle(env.stream_event().await)
        .await
        .expect("handle later records");
    assert!(failures(&response).is_empty());
    assert_eq!(env.alerts().len(), 1);
}

struct AlwaysFails(AtomicUsize);

#[async_trait]
impl Delivery for AlwaysFails {
    async fn deliver(&self, _: &OutboxItem) -> Result<(), DeliveryError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(DeliveryError::Transient("injected: SNS unavailable".into()))
    }
}

/// A failed send is reported by sequence number; after the lease runs out the sweep delivers it.
#[tokio::test]
async fn failed_records_are_reported_and_swept_later() {
    let env = env().await;
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let service = testing::service(env.store.clone(), clock.clone());
    service
        .receive(testing::web(None, "상담원 연결해 주세요", "f1"))
        .await
        .expect("handoff");

    let event = env.stream_event().await;
    let outbox_seq: Vec<String> = event["Records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["dynamodb"]["NewImage"]["type"]["S"] == "outbox")
        .map(|r| {
            r["dynamodb"]["SequenceNumber"]
                .as_str()
                .expect("seq")
                .to_string()
        })
        .collect();
    assert_eq!(outbox_seq.len(), 1);

    let failing = env.dispatcher(clock.clone(), Arc::new(AlwaysFails(AtomicUsize::new(0))));
    let response = failing.handle(event.clone()).await.expect("handle");
    assert_eq!(
        failures(&response),
        outbox_seq,
        "only the failed record is retried"
    );

    // The failed send gave its lease back, so Lambda's retry delivers at once.
    let working = env.dispatcher(clock.clone(), Arc::new(DropRejectedTexts(env.sns.clone())));
    let response = working.handle(event.clone()).await.expect("retry");
    assert!(failures(&response).is_empty());
    assert_eq!(env.alerts().len(), 1);

    // Neither a redelivered stream record nor the sweep sends it again.
    let response = working.handle(event).await.expect("redelivery");
    assert!(failures(&response).is_empty());
    clock.advance(jiff::SignedDuration::from_secs(61));
    let swept = working.handle(sweep_event()).await.expect("sweep");
    assert_eq!(swept["delivered"], 0, "{swept}");
    assert_eq!(env.alerts().len(), 1, "exactly once");
}

struct Rejects;

#[async_trait]
impl Delivery for Rejects {
    async fn deliver(&self, _: &OutboxItem) -> Result<(), DeliveryError> {
        Err(DeliveryError::Permanent(
            "injected: InvalidParameter".into(),
        ))
    }
}

/// Items rejected for good are never retried; a rejected text is only logged, a
/// rejected alert also fails its record, so it lands in the DLQ and trips the alarm.
#[tokio::test]
async fn permanent_rejections() {
    let env = env().await;
    let dispatcher = env.dispatcher(Arc::new(SystemClock), Arc::new(DropRejectedTexts(Rejects)));
    let conv = handoff_core::ids::ConversationId::generate();
    let text = OutboxItem {
        id: format!("sms:{conv}:2"),
        created_at: jiff::Timestamp::now(),
        item: Outbound::CustomerSms {
            conversation_id: conv.clone(),
            to: handoff_core::model::PhoneNumber::from_e164("+821055550000").expect("phone"),
            text: "hi".into(),
        },
    };
    let alert = OutboxItem {
        id: format!("alert:{conv}:1"),
        created_at: jiff::Timestamp::now(),
        item: Outbound::AgentAlert(handoff_core::model::AgentAlert {
            conversation_id: conv.clone(),
            link: None,
            text: "a".into(),
            queue: "support".into(),
            priority: handoff_core::model::Priority::Normal,
            language: handoff_core::model::Lang::En,
            channel: handoff_core::model::Channel::Web,
        }),
    };
    env.store
        .commit(Commit {
            outbox: vec![text.clone(), alert.clone()],
            ..Commit::default()
        })
        .await
        .expect("commit");
    let event = env.stream_event().await;
    let response = dispatcher.handle(event).await.expect("handle");
    let failed = failures(&response);
    assert_eq!(failed.len(), 1, "the alert fails: {response}");
    let pending = env
        .store
        .pending_outbox(
            jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600),
            10,
        )
        .await
        .expect("pending");
    assert!(
        pending.is_empty(),
        "neither is retried: {:?}",
        pending.iter().map(|o| &o.id).collect::<Vec<_>>()
    );
}

fn sweep_event() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/handoff-sweep"],
        "detail": {}
    })
}

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/alert-dispatcher")
}

fn read_event(name: &str) -> Value {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every sample event parses and runs with a sensible result.
#[tokio::test]
async fn sample_events_run() {
    let mut names: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/alert-dispatcher")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "dynamodb-insert-alert.json",
            "dynamodb-modify.json",
            "scheduled-sweep.json"
        ]
    );

    let env = env().await;
    let dispatcher = env.real();

    // The insert's item is in the table, as it is when the stream reports it.
    let insert = read_event("dynamodb-insert-alert.json");
    let record: aws_lambda_events::event::dynamodb::EventRecord =
        serde_json::from_value(insert["Records"][0].clone()).expect("record");
    let item = handoff_dynamodb::stream::outbox_insert(&record)
        .expect("parses")
        .expect("an outbox insert");
    assert!(matches!(item.item, Outbound::AgentAlert(_)));
    env.store
        .commit(Commit {
            outbox: vec![item],
            ..Commit::default()
        })
        .await
        .expect("commit");
    let response = dispatcher.handle(insert.clone()).await.expect("insert");
    assert!(failures(&response).is_empty(), "{response}");
    assert_eq!(env.alerts().len(), 1, "published");
    let response = dispatcher.handle(insert).await.expect("insert again");
    assert!(failures(&response).is_empty());
    assert_eq!(env.alerts().len(), 1, "not again");

    let modify = read_event("dynamodb-modify.json");
    let response = dispatcher.handle(modify).await.expect("modify");
    assert!(failures(&response).is_empty(), "{response}");
    assert_eq!(env.alerts().len(), 1, "ignored");

    let sweep = read_event("scheduled-sweep.json");
    let summary = dispatcher.handle(sweep).await.expect("sweep");
    assert_eq!(summary["delivered"], 0, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");

    assert!(
        dispatcher.handle(json!({"hello": "world"})).await.is_err(),
        "unknown events are refused"
    );
}
