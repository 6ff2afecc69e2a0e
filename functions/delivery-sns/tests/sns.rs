//! SnsDelivery against a real SNS API (moto's server), read back through what moto
//! recorded (`GET /moto-api/data.json`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use handoff_core::ids::ConversationId;
use handoff_core::model::{AgentAlert, Channel, Lang, Outbound, OutboxItem, PhoneNumber, Priority};
use handoff_core::ports::{Commit, ConversationStore, Delivery, ManualClock};
use handoff_core::service::Dispatched;
use handoff_core::DeliveryError;
use handoff_dynamodb::testing::{self, AccountHeader};
use handoff_sns::{SmsSettings, SnsDelivery};
use serde_json::Value;

async fn sns(account: &str) -> aws_sdk_sns::Client {
    let sdk = testing::moto().sdk_config().await;
    aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&sdk)
            .interceptor(AccountHeader(account.to_string()))
            .build(),
    )
}

/// `sent_notifications` of the topic: `[message_id, message, subject, attributes, group_id]`.
fn notifications(topic_arn: &str) -> Vec<Value> {
    let data = testing::moto().data();
    let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
    topics
        .iter()
        .find(|t| t["arn"].as_str() == Some(topic_arn))
        .unwrap_or_else(|| panic!("topic {topic_arn} not in moto's data: {}", data["sns"]))
        ["sent_notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Texts moto recorded for this number.
fn texts_to(phone: &str) -> Vec<String> {
    let data = testing::moto().data();
    data["sns"]["SMS"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["phone_number"].as_str() == Some(phone))
        .filter_map(|m| m["message"].as_str().map(str::to_string))
        .collect()
}

fn alert(conversation: &ConversationId, n: u32, text: &str) -> OutboxItem {
    OutboxItem {
        id: format!("alert:{conversation}:{n}"),
        created_at: jiff::Timestamp::now(),
        item: Outbound::AgentAlert(AgentAlert {
            conversation_id: conversation.clone(),
            link: None,
            text: text.into(),
            queue: "support".into(),
            priority: Priority::High,
            language: Lang::Ko,
            channel: Channel::Sms,
        }),
    }
}

fn unique_phone() -> PhoneNumber {
    let tail = uuid::Uuid::new_v4().as_u128() % 100_000_000;
    PhoneNumber::from_e164(&format!("+8210{tail:08}")).expect("phone")
}

#[tokio::test]
async fn alert_goes_to_the_topic_with_attributes() {
    let account = testing::moto().account();
    let client = sns(&account).await;
    let arn = SnsDelivery::provision_topic(&client, "handoff-alerts")
        .await
        .expect("topic");
    assert_eq!(
        SnsDelivery::provision_topic(&client, "handoff-alerts")
            .await
            .expect("again"),
        arn,
        "idempotent"
    );
    let delivery = SnsDelivery::new(client, arn.clone(), SmsSettings::default());
    let conv = ConversationId::generate();
    delivery
        .deliver(&alert(
            &conv,
            1,
            "[!] 이중 결제 문의 https://example.test/console#c",
        ))
        .await
        .expect("deliver");
    let sent = notifications(&arn);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0][1],
        "[!] 이중 결제 문의 https://example.test/console#c"
    );
    let attrs = &sent[0][3];
    for (name, value) in [
        ("kind", "agent_alert"),
        ("audience", "agents"),
        ("conversation_id", conv.as_str()),
        ("queue", "support"),
        ("priority", "high"),
        ("language", "ko"),
        ("channel", "sms"),
    ] {
        assert_eq!(attrs[name]["Type"], "String", "{name}: {attrs}");
        assert_eq!(attrs[name]["Value"], value, "{name}: {attrs}");
    }
}

#[tokio::test]
async fn escalation_and_digest_name_their_conversations_and_link_the_console() {
    use handoff_core::escalation::{Digest, Escalation};
    let account = testing::moto().account();
    let client = sns(&account).await;
    let arn = SnsDelivery::provision_topic(&client, "handoff-alerts")
        .await
        .expect("topic");
    let delivery = SnsDelivery::new(client, arn.clone(), SmsSettings::default())
        .with_console_url(Some("https://shop.example/console".into()));
    let (a, b) = (ConversationId::generate(), ConversationId::generate());
    let escalation = OutboxItem {
        id: format!("escalation:{a}:1"),
        created_at: jiff::Timestamp::now(),
        item: Outbound::Escalation(Escalation {
            conversation_id: a.clone(),
            minutes_waited: 6,
            text: "Unclaimed for 6 min".into(),
            link: None,
            queue: "support".into(),
            priority: Priority::Normal,
        }),
    };
    let digest = OutboxItem {
        id: "digest:support:1".into(),
        created_at: jiff::Timestamp::now(),
        item: Outbound::Digest(Digest {
            conversation_ids: vec![a.clone(), b.clone()],
            waiting: 2,
            text: "2 waiting since before opening".into(),
            link: None,
            queue: "support".into(),
            opened_at: jiff::Timestamp::now(),
        }),
    };
    delivery.deliver(&escalation).await.expect("escalation");
    delivery.deliver(&digest).await.expect("digest");
    let sent = notifications(&arn);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(
        sent[0][1],
        format!("Unclaimed for 6 min https://shop.example/console#c/{a}")
    );
    let attrs = &sent[0][3];
    for (name, value) in [
        ("kind", "escalation"),
        ("audience", "supervisors"),
        ("conversation_id", a.as_str()),
    ] {
        assert_eq!(attrs[name]["Value"], value, "{name}: {attrs}");
    }
    assert_eq!(attrs["minutes_waited"]["Type"], "Number", "{attrs}");
    assert_eq!(attrs["minutes_waited"]["Value"], "6", "{attrs}");
    let attrs = &sent[1][3];
    assert_eq!(attrs["kind"]["Value"], "digest", "{attrs}");
    assert_eq!(
        attrs["conversation_ids"]["Value"],
        format!("{a},{b}"),
        "{attrs}"
    );
    assert!(sent[1][1]
        .as_str()
        .unwrap_or("")
        .ends_with("https://shop.example/console"));
}

#[tokio::test]
async fn text_goes_to_the_phone() {
    let account = testing::moto().account();
    let client = sns(&account).await;
    let arn = SnsDelivery::provision_topic(&client, "handoff-alerts")
        .await
        .expect("topic");
    let sms = SmsSettings {
        sender_id: Some("Roasters".into()),
        origination_number: None,
    };
    let delivery = SnsDelivery::new(client, arn, sms);
    let to = unique_phone();
    let item = OutboxItem {
        id: "sms:c_1:3".into(),
        created_at: jiff::Timestamp::now(),
        item: Outbound::CustomerSms {
            conversation_id: ConversationId::generate(),
            to: to.clone(),
            text: "상담원이 답장했어요.".into(),
        },
    };
    delivery.deliver(&item).await.expect("deliver");
    assert_eq!(
        texts_to(to.as_str()),
        vec!["상담원이 답장했어요.".to_string()]
    );
}

#[tokio::test]
async fn errors_are_classified() {
    let account = testing::moto().account();
    let client = sns(&account).await;
    let missing = format!("arn:aws:sns:us-east-1:{account}:no-such-topic");
    let delivery = SnsDelivery::new(client, missing, SmsSettings::default());
    match delivery
        .deliver(&alert(&ConversationId::generate(), 1, "x"))
        .await
    {
        Err(DeliveryError::Permanent(_)) => {}
        other => panic!("missing topic: expected Permanent, got {other:?}"),
    }
    // Nothing listens on this port: the request never arrives.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "t", "t", None, None, "t",
        ))
        .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled())
        .load()
        .await;
    let dead = SnsDelivery::new(
        aws_sdk_sns::Client::new(&sdk),
        "arn:aws:sns:us-east-1:1:t".into(),
        SmsSettings::default(),
    );
    match dead
        .deliver(&alert(&ConversationId::generate(), 1, "x"))
        .await
    {
        Err(DeliveryError::Transient(_)) => {}
        other => panic!("dead endpoint: expected Transient, got {other:?}"),
    }
}

/// Fails the first send, then sends for real.
struct FailsOnce {
    inner: SnsDelivery,
    calls: AtomicUsize,
}

#[async_trait]
impl Delivery for FailsOnce {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(DeliveryError::Transient("injected: SNS throttled".into()));
        }
        self.inner.deliver(item).await
    }
}

/// A send that fails is retried, and arrives exactly once.
#[tokio::test]
async fn failed_publish_is_retried_and_arrives_once() {
    let (store, account) = testing::store().await;
    let store = Arc::new(store);
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let service = testing::service(store.clone(), clock.clone());
    let client = sns(&account).await;
    let arn = SnsDelivery::provision_topic(&client, "handoff-alerts")
        .await
        .expect("topic");
    let delivery = FailsOnce {
        inner: SnsDelivery::new(client, arn.clone(), SmsSettings::default()),
        calls: AtomicUsize::new(0),
    };

    let conv = ConversationId::generate();
    let item = alert(&conv, 1, "customer asked for a person");
    store
        .commit(Commit {
            outbox: vec![item.clone()],
            ..Commit::default()
        })
        .await
        .expect("commit outbox");

    assert!(
        service.dispatch(&delivery, &item).await.is_err(),
        "first send fails"
    );
    assert!(notifications(&arn).is_empty());
    // The failed send gave its lease back: the stream's retry delivers it.
    assert_eq!(
        service.dispatch(&delivery, &item).await.expect("retry"),
        Dispatched::Delivered
    );
    clock.advance(jiff::SignedDuration::from_secs(61));
    assert_eq!(
        service
            .dispatch_pending(&delivery, 10)
            .await
            .expect("sweep"),
        (0, 0),
        "delivered: never again"
    );
    assert_eq!(
        service
            .dispatch(&delivery, &item)
            .await
            .expect("redelivered record"),
        Dispatched::Skipped
    );
    let sent = notifications(&arn);
    assert_eq!(sent.len(), 1, "exactly once: {sent:?}");
    assert_eq!(sent[0][1], "customer asked for a person");
}
