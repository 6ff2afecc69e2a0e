//! The escalation sweep on the in-memory store: once per handoff, counted from the
//! opening for handoffs made after hours, an honest text to customers who text, and
//! nothing for a handoff that was claimed or withdrawn in time.

mod common;

use common::*;
use handoff_core::model::{Outbound, Status};
use jiff::SignedDuration;

fn escalations(delivery: &Recorder) -> Vec<handoff_core::escalation::Escalation> {
    delivery
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter_map(|o| match &o.item {
            Outbound::Escalation(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_texting_customer_gets_the_honest_update_by_text_once() {
    let h = harness();
    let delivery = Recorder::default();
    let r = h
        .service
        .receive(sms("010-2222-3333", "상담원 연결해 주세요", "esc-1"))
        .await
        .unwrap();
    assert_eq!(r.conversation.status, Status::Queued);
    h.clock.advance(SignedDuration::from_mins(5));
    let report = h.service.escalator().sweep().await.unwrap();
    assert_eq!(report.escalated, 1);
    assert_eq!(h.service.escalator().sweep().await.unwrap().escalated, 0);
    h.service.dispatch_pending(&delivery, 50).await.unwrap();
    let e = escalations(&delivery);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].conversation_id, r.conversation.id);
    assert_eq!(e[0].minutes_waited, 5);
    assert_eq!(
        e[0].link.as_deref(),
        Some(&*format!(
            "https://shop.example/console#c/{}",
            r.conversation.id
        ))
    );
    let texts = delivery.texts();
    assert!(
        texts
            .iter()
            .any(|(to, t)| to == "+821022223333" && t.contains("책임자에게 알렸어요")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn claimed_or_withdrawn_in_time_nothing_escalates() {
    let h = harness();
    let a = h
        .service
        .receive(web(None, "상담원 연결해 주세요"))
        .await
        .unwrap();
    let b = h
        .service
        .receive(web(None, "I need a person"))
        .await
        .unwrap();
    h.clock.advance(SignedDuration::from_mins(4));
    h.service
        .claim(&agent("agent-a"), &a.conversation.id)
        .await
        .unwrap();
    h.service.withdraw(&b.conversation.id).await.unwrap();
    h.clock.advance(SignedDuration::from_mins(10));
    assert_eq!(h.service.escalator().sweep().await.unwrap().escalated, 0);
}

#[tokio::test]
async fn after_hours_the_clock_starts_at_opening_and_the_night_is_quiet() {
    // Saturday 10:00 in Seoul: closed until Monday 09:00.
    let h = harness_at(CLOSED);
    let delivery = Recorder::default();
    let r = h
        .service
        .receive(web(None, "상담원 연결해 주세요"))
        .await
        .unwrap();
    let q = r.queue.unwrap();
    assert_eq!(
        (q.open_now, q.estimated_wait_seconds),
        (false, Some(47 * 3600))
    );
    h.clock.advance(SignedDuration::from_hours(12));
    assert_eq!(
        h.service.escalator().sweep().await.unwrap(),
        Default::default()
    );
    h.service.dispatch_pending(&delivery, 50).await.unwrap();
    assert!(delivery.alerts().is_empty(), "nobody paged at night");

    // Monday 09:04: the digest, no escalation yet; 09:05: the escalation.
    h.clock.set("2026-11-30T00:04:00Z".parse().unwrap());
    let report = h.service.escalator().sweep().await.unwrap();
    assert_eq!((report.digests, report.escalated), (1, 0));
    h.clock.set("2026-11-30T00:05:00Z".parse().unwrap());
    let report = h.service.escalator().sweep().await.unwrap();
    assert_eq!((report.digests, report.escalated), (0, 1));
    h.service.dispatch_pending(&delivery, 50).await.unwrap();
    let e = escalations(&delivery);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].minutes_waited > 60 * 24,
        "waited since Saturday: {}",
        e[0].minutes_waited
    );
}
