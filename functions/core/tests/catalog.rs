//! The catalog as data: changes apply whole, the changing instance answers with them
//! at once, and another instance over the same store within one refresh interval.

mod common;

use std::sync::Arc;

use handoff_core::auth::Agent;
use handoff_core::catalog::{CatalogChange, FaqInput};
use handoff_core::faq::FaqIndex;
use handoff_core::ids::AgentId;
use handoff_core::{HandoffService, ServiceError};
use jiff::SignedDuration;

use common::*;

fn supervisor() -> Agent {
    Agent {
        id: AgentId::parse("boss").unwrap(),
        supervisor: true,
    }
}

fn parking() -> CatalogChange {
    let input: FaqInput = serde_json::from_value(serde_json::json!({
        "id": "parking",
        "questions": {"ko": ["주차 가능한가요?", "주차장 있어요?"], "en": ["Is there parking?"]},
        "answer": {"ko": "건물 뒤 주차장을 1시간 무료로 쓰실 수 있어요.", "en": "One free hour in the lot behind the building."}
    }))
    .unwrap();
    CatalogChange::Add(input.into_faq(None).unwrap())
}

async fn answer(service: &HandoffService, text: &str) -> Option<String> {
    let r = service.receive(web(None, text)).await.unwrap();
    r.replies.iter().find_map(|m| m.faq_id.clone())
}

#[tokio::test]
async fn another_instance_answers_with_a_change_within_one_interval() {
    let h = harness();
    // A second function instance: same store and clock, its own cache.
    let catalog = catalog();
    let index = Arc::new(FaqIndex::build(&catalog));
    let other = HandoffService::new(h.store.clone(), h.clock.clone(), catalog, index, settings());
    assert_eq!(answer(&other, "주차 가능한가요?").await, None);

    let export = h
        .service
        .change_catalog(&supervisor(), parking(), None)
        .await
        .unwrap();
    assert_eq!(export.version, 1);
    assert_eq!(
        answer(&h.service, "주차 가능한가요?").await.as_deref(),
        Some("parking"),
        "the instance that changed it answers at once"
    );
    h.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(
        answer(&other, "주차 가능한가요?").await,
        None,
        "checked less than a minute ago: the cached catalog"
    );
    h.clock.advance(SignedDuration::from_secs(31));
    assert_eq!(
        answer(&other, "주차 가능한가요?").await.as_deref(),
        Some("parking"),
        "a minute on: the new version"
    );
    assert_eq!(other.live_catalog().await.version, 1);
}

#[tokio::test]
async fn a_zero_interval_checks_at_every_message() {
    let h = harness();
    let catalog = catalog();
    let index = Arc::new(FaqIndex::build(&catalog));
    let other = HandoffService::new(h.store.clone(), h.clock.clone(), catalog, index, settings())
        .with_catalog_refresh(SignedDuration::ZERO);
    assert_eq!(answer(&other, "주차 가능한가요?").await, None);
    h.service
        .change_catalog(&supervisor(), parking(), None)
        .await
        .unwrap();
    assert_eq!(
        answer(&other, "주차 가능한가요?").await.as_deref(),
        Some("parking")
    );
}

#[tokio::test]
async fn agents_cannot_change_and_bad_changes_write_nothing() {
    let h = harness();
    let denied = h.service.change_catalog(&agent("a"), parking(), None).await;
    assert!(
        matches!(denied, Err(ServiceError::Forbidden(_))),
        "{denied:?}"
    );
    h.service
        .change_catalog(&supervisor(), parking(), None)
        .await
        .unwrap();
    let again = h
        .service
        .change_catalog(&supervisor(), parking(), None)
        .await;
    assert!(
        matches!(again, Err(ServiceError::FaqExists(_))),
        "{again:?}"
    );
    let stale = h
        .service
        .change_catalog(
            &supervisor(),
            CatalogChange::Delete("parking".into()),
            Some(0),
        )
        .await;
    assert!(
        matches!(stale, Err(ServiceError::CatalogStale { current: 1 })),
        "{stale:?}"
    );
    let export = h.service.export_catalog().await.unwrap();
    assert_eq!(export.version, 1, "refused changes bump nothing");
    assert!(export.catalog.faq("parking").is_some());
    let deleted = h
        .service
        .change_catalog(
            &supervisor(),
            CatalogChange::Delete("parking".into()),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(deleted.version, 2);
    assert!(deleted.catalog.faq("parking").is_none());
}
