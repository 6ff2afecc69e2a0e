//! Proactive notices on the DynamoDB store (moto): the request, the fan-out steps and
//! their texts, a step retried sending nothing twice, quiet hours held by the step's
//! lease, and what each costs in DynamoDB requests. Printed with
//! `cargo test -p handoff-dynamodb --test notices -- --nocapture`.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::SignedDuration;

use handoff_core::auth::Agent;
use handoff_core::ids::AgentId;
use handoff_core::model::{MessageText, Outbound, OutboxItem};
use handoff_core::notices::{NoticeBody, NoticeRequest, QuietHours, TextBody};
use handoff_core::ports::{Clock, Delivery, ManualClock, OutboxStore};
use handoff_core::service::{Dispatched, Inbound, Origin, ReplyVia};
use handoff_core::sms::PhoneNumber;
use handoff_core::{DeliveryError, HandoffService};
use handoff_dynamodb::{testing, DynamoStore};

struct Sent;
#[async_trait]
impl Delivery for Sent {
    async fn deliver(&self, _: &OutboxItem) -> Result<(), DeliveryError> {
        Ok(())
    }
}

fn boss() -> Agent {
    Agent {
        id: AgentId::parse("boss").expect("id"),
        supervisor: true,
    }
}

fn request(phones: &[&str], request_id: &str) -> NoticeRequest {
    NoticeRequest::parse(NoticeBody {
        phones: Some(phones.iter().map(|p| p.to_string()).collect()),
        customer_ids: None,
        text: Some(TextBody {
            ko: Some("이번 주 배송이 하루 늦어요.".into()),
            en: Some("Deliveries are a day late this week.".into()),
        }),
        request_id: Some(request_id.into()),
    })
    .expect("request")
}

async fn setup(at: &str) -> (Arc<DynamoStore>, Arc<ManualClock>, HandoffService) {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let clock = Arc::new(ManualClock::new(at.parse().expect("ts")));
    let service = testing::service(store.clone(), clock.clone())
        .with_quiet_hours(QuietHours::parse("21:00-08:00", "UTC").expect("quiet"));
    (store, clock, service)
}

fn is_step(item: &OutboxItem) -> bool {
    matches!(item.item, Outbound::NoticeFanout { .. })
}

#[tokio::test]
async fn notices_fan_out_once_and_what_they_cost() {
    let (store, clock, service) = setup("2026-11-24T12:00:00Z").await;
    let known = "+821055510001";
    service
        .receive(Inbound {
            origin: Origin::Sms {
                phone: PhoneNumber::from_e164(known).expect("phone"),
            },
            text: MessageText::parse("How much is shipping?").expect("text"),
            idempotency: None,
            reply_via: ReplyVia::SmsOutbox,
            sender: Default::default(),
        })
        .await
        .expect("a known customer");
    // Their bot answer's text goes out first.
    for item in store.pending_outbox(clock.now(), 10).await.expect("p") {
        service.dispatch(&Sent, &item).await.expect("dispatch");
    }

    let phones = [known, "+821055510002", "+821055510003"];
    store.reset_request_counts();
    let answer = service
        .send_notice(&boss(), request(&phones, "cost-3"))
        .await
        .expect("notice");
    let post = store.request_counts();
    assert_eq!((answer.sent, answer.deferred_quiet_hours), (3, 0));

    let pending = store.pending_outbox(clock.now(), 10).await.expect("p");
    let step = pending.iter().find(|i| is_step(i)).expect("a fan-out step");
    store.reset_request_counts();
    assert_eq!(
        service.dispatch(&Sent, step).await.expect("step"),
        Dispatched::Delivered
    );
    let fanout = store.request_counts();
    // Retried (a redelivered stream record): nothing more.
    assert_eq!(
        service.dispatch(&Sent, step).await.expect("again"),
        Dispatched::Skipped
    );
    let texts: Vec<OutboxItem> = store
        .pending_outbox(clock.now(), 20)
        .await
        .expect("p")
        .into_iter()
        .filter(|i| matches!(i.item, Outbound::CustomerSms { .. }))
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    let english = texts
        .iter()
        .find(|i| matches!(&i.item, Outbound::CustomerSms { to, .. } if to.as_str() == known))
        .expect("to the known customer");
    assert!(
        matches!(&english.item, Outbound::CustomerSms { text, .. } if text.starts_with("Deliveries")),
        "in the language they wrote in: {english:?}"
    );

    // A repeated request_id: the first answer, no new step.
    store.reset_request_counts();
    let again = service
        .send_notice(&boss(), request(&phones, "cost-3"))
        .await
        .expect("repeat");
    let repeat = store.request_counts();
    assert_eq!(again, answer);

    // One recipient, to split the step's cost per recipient.
    service
        .send_notice(&boss(), request(&["+821055510009"], "cost-1"))
        .await
        .expect("one");
    let step = store
        .pending_outbox(clock.now(), 20)
        .await
        .expect("p")
        .into_iter()
        .find(is_step)
        .expect("step");
    store.reset_request_counts();
    service.dispatch(&Sent, &step).await.expect("step");
    let one = store.request_counts();

    println!("DynamoDB requests of notices (moto):");
    println!("  POST /v1/agent/notices, 3 phones:        {post}");
    println!("  the same request_id again:               {repeat}");
    println!("  fan-out step, 3 recipients (1 known):    {fanout}");
    println!("  fan-out step, 1 unknown recipient:       {one}");
    assert_eq!(post.get("TransactWriteItems"), 1, "{post}");
    assert_eq!(repeat.writes(), 0, "{repeat}");
    assert_eq!(
        fanout.get("TransactWriteItems"),
        3,
        "one per recipient: {fanout}"
    );
    assert_eq!(fanout.get("Scan"), 0, "{fanout}");
}

#[tokio::test]
async fn quiet_hours_hold_the_step_until_they_end() {
    let (store, clock, service) = setup("2026-11-24T22:00:00Z").await;
    let answer = service
        .send_notice(&boss(), request(&["+821055520001"], "night"))
        .await
        .expect("notice");
    assert_eq!((answer.sent, answer.deferred_quiet_hours), (0, 1));
    let step = store
        .pending_outbox(clock.now(), 10)
        .await
        .expect("p")
        .into_iter()
        .find(is_step)
        .expect("step");
    assert_eq!(
        service.dispatch(&Sent, &step).await.expect("held"),
        Dispatched::Skipped
    );
    clock.advance(SignedDuration::from_hours(9)); // 07:00: still quiet
    assert!(
        store
            .pending_outbox(clock.now(), 10)
            .await
            .expect("p")
            .is_empty(),
        "nothing is due before 08:00"
    );
    clock.advance(SignedDuration::from_mins(61));
    let due = store.pending_outbox(clock.now(), 10).await.expect("p");
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(
        service.dispatch(&Sent, &due[0]).await.expect("step"),
        Dispatched::Delivered
    );
    let texts = store.pending_outbox(clock.now(), 10).await.expect("p");
    assert!(
        texts
            .iter()
            .any(|i| matches!(i.item, Outbound::CustomerSms { .. })),
        "{texts:?}"
    );
}
