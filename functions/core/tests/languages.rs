//! The customer's language, end to end over the use cases: detected, kept through
//! "0" and emoji, system texts in it where a translation exists, and answers in the
//! nearest catalog language with a line in the customer's own.

mod common;

use common::*;
use handoff_core::faq::LangTag;
use handoff_core::model::Status;

#[tokio::test]
async fn a_bare_0_from_a_korean_catalog_gets_the_korean_queue_notice() {
    // The catalog's first language is Korean: a message without words is answered in it.
    let h = harness();
    let r = h.service.receive(web(None, "0")).await.unwrap();
    assert_eq!(r.conversation.status, Status::Queued);
    assert_eq!(r.conversation.detected_language, Some(LangTag::Ko));
    assert!(
        r.replies[0].text.contains("상담원"),
        "{}",
        r.replies[0].text
    );
}

#[tokio::test]
async fn zero_ok_and_emoji_never_switch_the_language() {
    let h = harness();
    let r = h
        .service
        .receive(web(None, "배송비 얼마예요?"))
        .await
        .unwrap();
    let id = r.conversation.id.clone();
    let mut replies = Vec::new();
    for text in ["ok", "👍", "12345", "0"] {
        let r = h.service.receive(web(Some(&id), text)).await.unwrap();
        assert_eq!(
            r.conversation.detected_language,
            Some(LangTag::Ko),
            "{text}"
        );
        replies.extend(r.replies);
    }
    // Whichever of them handed off, the notice was in Korean.
    assert!(
        replies.iter().any(|m| m.text.contains("대기")),
        "{replies:?}"
    );
    let packet = h.service.packet(&id).await.unwrap();
    assert_eq!(packet.customer_language, LangTag::Ko);
}

#[tokio::test]
async fn a_japanese_person_request_hands_off_in_japanese() {
    let h = harness();
    let r = h
        .service
        .receive(web(None, "担当者と話したいです"))
        .await
        .unwrap();
    assert_eq!(r.conversation.status, Status::Queued);
    assert_eq!(r.conversation.detected_language, Some(LangTag::Ja));
    assert!(
        r.replies[0].text.contains("担当者"),
        "{}",
        r.replies[0].text
    );
    let a = agent("agent-a");
    let queue = h.service.agent_queue(&a, None, 10).await.unwrap();
    assert_eq!(queue.queued[0].customer_language, LangTag::Ja);
}

#[tokio::test]
async fn other_languages_get_english_system_texts_and_a_line_in_their_own() {
    let h = harness();
    let r = h
        .service
        .receive(web(None, "Quiero hablar con una persona, por favor"))
        .await
        .unwrap();
    assert_eq!(r.conversation.status, Status::Queued, "{:?}", r.replies);
    assert_eq!(r.conversation.detected_language, Some(LangTag::Es));
    assert!(
        r.replies[0].text.is_ascii() || r.replies[0].text.contains("agent"),
        "{}",
        r.replies[0].text
    );
}
