//! A proactive notice through the dispatcher as wired in AWS, against moto: the
//! table's real stream records carry the fan-out step, the step writes the texts,
//! the next batch publishes them through SNS, and a redelivered batch sends nothing
//! twice.

use std::sync::Arc;

use alert_dispatcher::{Dispatcher, DropRejectedTexts};
use handoff_core::auth::Agent;
use handoff_core::ids::AgentId;
use handoff_core::notices::{NoticeBody, NoticeRequest, QuietHours, TextBody};
use handoff_core::ports::ManualClock;
use handoff_core::service::{NoticeFanout, NoticePolicy, OutboxDispatcher};
use handoff_dynamodb::testing::{self, AccountHeader};
use handoff_sns::{SmsSettings, SnsDelivery};
use serde_json::{json, Value};

const TEXT: &str = "Deliveries are a day late this week.";

fn texts_to(phone: &str) -> Vec<String> {
    testing::moto().data()["sns"]["SMS"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["phone_number"].as_str() == Some(phone))
        .filter_map(|m| m["message"].as_str().map(str::to_string))
        .collect()
}

fn failures(response: &Value) -> usize {
    response["batchItemFailures"]
        .as_array()
        .map_or(usize::MAX, Vec::len)
}

#[tokio::test]
async fn a_notice_fans_out_from_the_stream_and_is_texted_once() {
    let (store, account) = testing::store().await;
    let store = Arc::new(store);
    let sdk = testing::moto().sdk_config().await;
    let sns_client = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&sdk)
            .interceptor(AccountHeader(account.clone()))
            .build(),
    );
    let topic = SnsDelivery::provision_topic(&sns_client, "handoff-alerts")
        .await
        .expect("topic");
    let sns = SnsDelivery::new(sns_client, topic, SmsSettings::default());
    // Noon in UTC, the business's zone here: texting hours.
    let clock = Arc::new(ManualClock::new(
        "2026-11-24T12:00:00Z".parse().expect("ts"),
    ));
    let quiet = QuietHours::parse("21:00-08:00", "UTC").expect("quiet");
    let service = testing::service(store.clone(), clock.clone()).with_quiet_hours(quiet.clone());
    // Numbers of this run only: moto keeps every test's texts together.
    let tail = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() % 100_000_000);
    let phones = [format!("+8210{tail:08}"), format!("+8211{tail:08}")];
    let request = NoticeRequest::parse(NoticeBody {
        phones: Some(phones.to_vec()),
        customer_ids: None,
        text: Some(TextBody {
            ko: None,
            en: Some(TEXT.into()),
        }),
        request_id: Some("stream-1".into()),
    })
    .expect("request");
    let boss = Agent {
        id: AgentId::parse("boss").expect("id"),
        supervisor: true,
    };
    let answer = service.send_notice(&boss, request).await.expect("notice");
    assert_eq!(answer.sent, 2);

    let fanout = NoticeFanout::new(
        store.clone(),
        clock.clone(),
        NoticePolicy {
            quiet_hours: quiet,
            sms_max_segments: 3,
            answers_url: None,
        },
    );
    let dispatcher = Dispatcher::new(
        OutboxDispatcher::new(store.clone(), clock.clone()).with_notices(Arc::new(fanout)),
        Arc::new(DropRejectedTexts(sns)),
    );
    let stream = || async {
        let arn = store
            .stream_arn()
            .await
            .expect("describe")
            .expect("stream enabled");
        json!({ "Records": testing::moto().stream_records(&account, &arn) })
    };

    // The first batch holds the notice record and its step: the step writes the texts.
    let response = dispatcher.handle(stream().await).await.expect("step");
    assert_eq!(failures(&response), 0, "{response}");
    assert!(
        phones.iter().all(|p| texts_to(p).is_empty()),
        "not sent in the step"
    );
    // The next batch (the stream from the start: a redelivery too) sends them, once.
    for _ in 0..2 {
        let response = dispatcher.handle(stream().await).await.expect("texts");
        assert_eq!(failures(&response), 0, "{response}");
        for p in &phones {
            assert_eq!(texts_to(p), vec![TEXT.to_string()], "{p}");
        }
    }
}
