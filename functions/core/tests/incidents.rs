//! Known-problem notices in the service (memory store, manual clock): told first and
//! once, by SMS too; not while a person has the conversation; gone when `until`
//! passes; at most 20 at once; another instance sees a change within one interval.

mod common;

use std::sync::Arc;

use handoff_core::auth::Agent;
use handoff_core::faq::FaqIndex;
use handoff_core::ids::AgentId;
use handoff_core::incident::{IncidentInput, MAX_INCIDENTS};
use handoff_core::service::ReplyVia;
use handoff_core::{HandoffService, ServiceError};
use jiff::SignedDuration;

use common::*;

const EN: &str = "Deliveries are running late this week.";
const KO: &str = "이번 주 배송이 늦어지고 있어요.";

fn supervisor() -> Agent {
    Agent {
        id: AgentId::parse("boss").unwrap(),
        supervisor: true,
    }
}

/// Late deliveries, until `hours` after the harness's clock (2026-11-23T01:00Z).
fn late(hours: i64) -> IncidentInput {
    let until = OPEN
        .parse::<jiff::Timestamp>()
        .unwrap()
        .checked_add(SignedDuration::from_hours(hours))
        .unwrap();
    serde_json::from_value(serde_json::json!({
        "text": {"en": EN, "ko": KO},
        "examples": ["where is my package", "my order hasn't arrived yet", "택배가 안 와요"],
        "until": until.to_string()
    }))
    .unwrap()
}

fn texts(r: &handoff_core::service::Received) -> Vec<&str> {
    r.replies.iter().map(|m| m.text.as_str()).collect()
}

#[tokio::test]
async fn told_first_once_and_by_sms_too() {
    let h = harness();
    h.service
        .create_incident(&supervisor(), late(24))
        .await
        .unwrap();
    let r = h
        .service
        .receive(web(None, "where is my package"))
        .await
        .unwrap();
    assert_eq!(texts(&r)[0], EN);
    assert!(
        r.replies.len() >= 2,
        "then the usual answer: {:?}",
        texts(&r)
    );
    let id = r.conversation.id.clone();
    assert_eq!(r.conversation.incidents_told.len(), 1);
    let again = h
        .service
        .receive(web(Some(&id), "where is my package??"))
        .await
        .unwrap();
    assert!(!texts(&again).contains(&EN), "once: {:?}", texts(&again));

    let mut text = sms("010-2345-6789", "택배가 안 와요", "sms-1");
    text.reply_via = ReplyVia::Response;
    let r = h.service.receive(text).await.unwrap();
    assert_eq!(
        r.texts.first().map(String::as_str),
        Some(KO),
        "{:?}",
        r.texts
    );
}

#[tokio::test]
async fn not_told_while_a_person_has_the_conversation() {
    let h = harness();
    let r = h
        .service
        .receive(web(None, "상담원 연결해 주세요"))
        .await
        .unwrap();
    let id = r.conversation.id.clone();
    h.service.claim(&agent("agent-1"), &id).await.unwrap();
    h.service
        .create_incident(&supervisor(), late(24))
        .await
        .unwrap();
    let r = h
        .service
        .receive(web(Some(&id), "택배가 안 와요"))
        .await
        .unwrap();
    assert!(!texts(&r).contains(&KO), "{:?}", texts(&r));
    // The packet lists only what the conversation was told.
    assert!(h.service.packet(&id).await.unwrap().incidents.is_empty());
}

#[tokio::test]
async fn gone_when_until_passes() {
    let h = harness();
    h.service
        .create_incident(&supervisor(), late(1))
        .await
        .unwrap();
    let r = h
        .service
        .receive(web(None, "where is my package"))
        .await
        .unwrap();
    assert_eq!(texts(&r)[0], EN);
    assert_eq!(
        h.service
            .packet(&r.conversation.id)
            .await
            .unwrap()
            .incidents
            .len(),
        1
    );
    h.clock.advance(SignedDuration::from_mins(61));
    let r2 = h
        .service
        .receive(web(None, "where is my package"))
        .await
        .unwrap();
    assert!(!texts(&r2).contains(&EN), "{:?}", texts(&r2));
    assert!(h.service.active_incidents().await.unwrap().is_empty());
    assert!(h
        .service
        .packet(&r.conversation.id)
        .await
        .unwrap()
        .incidents
        .is_empty());
}

#[tokio::test]
async fn at_most_twenty_at_once_and_agents_cannot_post() {
    let h = harness();
    for _ in 0..MAX_INCIDENTS {
        h.service
            .create_incident(&supervisor(), late(24))
            .await
            .unwrap();
    }
    let over = h.service.create_incident(&supervisor(), late(24)).await;
    assert!(matches!(over, Err(ServiceError::TooMany(_))), "{over:?}");
    let agent = h.service.create_incident(&agent("a-1"), late(24)).await;
    assert!(
        matches!(agent, Err(ServiceError::Forbidden(_))),
        "{agent:?}"
    );
    assert_eq!(
        h.service.active_incidents().await.unwrap().len(),
        MAX_INCIDENTS
    );
}

#[tokio::test]
async fn another_instance_tells_within_one_interval() {
    let h = harness();
    let catalog = catalog();
    let index = Arc::new(FaqIndex::build(&catalog));
    let other = HandoffService::new(h.store.clone(), h.clock.clone(), catalog, index, settings());
    other.receive(web(None, "hello")).await.unwrap();
    h.service
        .create_incident(&supervisor(), late(24))
        .await
        .unwrap();
    h.clock.advance(SignedDuration::from_secs(30));
    let r = other
        .receive(web(None, "where is my package"))
        .await
        .unwrap();
    assert!(!texts(&r).contains(&EN), "cached under a minute");
    h.clock.advance(SignedDuration::from_secs(31));
    let r = other
        .receive(web(None, "where is my package"))
        .await
        .unwrap();
    assert_eq!(texts(&r)[0], EN, "a minute on");
}
