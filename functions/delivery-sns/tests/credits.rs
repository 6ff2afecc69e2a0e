//! Credit alerts and events through SnsDelivery against moto's SNS: supervisors' alert
//! on the alerts topic, decided credits as JSON on their own topic.

use handoff_core::credit::{Credit, CreditAlert, CreditId, CreditStatus, Currency};
use handoff_core::ids::{AgentId, ConversationId};
use handoff_core::outbox;
use handoff_core::ports::Delivery;
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

fn notifications(topic_arn: &str) -> Vec<Value> {
    let data = testing::moto().data();
    data["sns"]["Topic"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .find(|t| t["arn"].as_str() == Some(topic_arn))
        .map(|t| {
            t["sent_notifications"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

fn credit(conv: &ConversationId) -> Credit {
    let now = jiff::Timestamp::now();
    let mut c = Credit {
        id: CreditId::generate(),
        conversation_id: conv.clone(),
        status: CreditStatus::PendingApproval,
        amount: 20_000,
        currency: Currency::parse("KRW").expect("currency"),
        agent_id: AgentId::parse("agent-a").expect("agent"),
        reason: "broken box".into(),
        request_id: "r-1".into(),
        created_at: now,
        decided_by: None,
        decided_at: None,
        decision_note: None,
    };
    c.grant(&AgentId::parse("agent-a").expect("agent"), now);
    c
}

#[tokio::test]
async fn approval_alerts_and_credit_events_go_to_their_topics() {
    let account = testing::moto().account();
    let client = sns(&account).await;
    let alerts = SnsDelivery::provision_topic(&client, "handoff-alerts")
        .await
        .expect("topic");
    let events = SnsDelivery::provision_topic(&client, "handoff-credit-events")
        .await
        .expect("topic");
    let conv = ConversationId::generate();
    let c = credit(&conv);
    let without_events = SnsDelivery::new(client.clone(), alerts.clone(), SmsSettings::default());
    let decided = outbox::credit_decided(c.clone(), c.created_at);
    assert!(
        matches!(
            without_events.deliver(&decided).await,
            Err(DeliveryError::Permanent(_))
        ),
        "no events topic: refused for good, never sent to the alerts topic"
    );
    let delivery = SnsDelivery::new(client, alerts.clone(), SmsSettings::default())
        .with_console_url(Some("https://shop.example/console".into()))
        .with_credit_events_topic(Some(events.clone()));
    let alert = CreditAlert {
        conversation_id: conv.clone(),
        credit_id: c.id.clone(),
        text: "Credit to approve: agent-a asks 50,000 KRW".into(),
        link: None,
        queue: "support".into(),
    };
    delivery
        .deliver(&outbox::credit_approval(alert, c.created_at))
        .await
        .expect("alert");
    delivery.deliver(&decided).await.expect("event");

    let sent = notifications(&alerts);
    let mine: Vec<_> = sent
        .iter()
        .filter(|n| n[3]["conversation_id"]["Value"] == conv.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{sent:?}");
    assert_eq!(
        mine[0][1],
        format!("Credit to approve: agent-a asks 50,000 KRW https://shop.example/console#c/{conv}")
    );
    assert_eq!(mine[0][3]["kind"]["Value"], "credit_approval");
    assert_eq!(mine[0][3]["queue"]["Value"], "support");

    let sent = notifications(&events);
    let mine: Vec<_> = sent
        .iter()
        .filter(|n| n[3]["conversation_id"]["Value"] == conv.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{sent:?}");
    let body: Credit = serde_json::from_str(mine[0][1].as_str().expect("text")).expect("json");
    assert_eq!(body, c);
    assert_eq!(mine[0][3]["kind"]["Value"], "credit_decided");
    assert_eq!(mine[0][3]["status"]["Value"], "granted");
}
