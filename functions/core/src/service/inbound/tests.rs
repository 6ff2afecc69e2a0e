//! The pure decisions of an inbound message, without a store.

use jiff::Timestamp;

use handoff_faq::FaqCatalog;
use handoff_sms::SmsKeyword;

use super::decide::*;
use super::Change;
use crate::error::ServiceError;
use crate::hours::AgentHours;
use crate::ids::{ConversationId, CustomerId};
use crate::model::Outbound;
use crate::model::{
    Channel, Conversation, Customer, HandoffReason, Lang, Message, PhoneNumber, Status,
};
use crate::service::Settings;
use crate::triage::Triage;

fn settings() -> Settings {
    Settings {
        business_name: "Dalbit Coffee".into(),
        business_name_ko: Some("달빛커피".into()),
        hours: AgentHours::parse("Mon-Fri 09:00-18:00", "Asia/Seoul").unwrap(),
        escalate_after: jiff::SignedDuration::from_mins(5),
        queue_name: "support".into(),
        console_url: Some("https://shop.example/console".into()),
        answers_url: None,
        sms_max_segments: 2,
        agent_language: Lang::Ko,
        earlier_conversations: 5,
        rate_limits: crate::limits::RateLimits::off(),
        alert_coalesce: jiff::SignedDuration::ZERO,
        credits: Default::default(),
    }
}

/// Monday 2026-11-23 10:00 KST: agents are working.
fn open() -> Timestamp {
    "2026-11-23T01:00:00Z".parse().unwrap()
}

fn texter() -> Customer {
    let mut c = Customer::new(CustomerId::generate(), open());
    c.phone = Some(PhoneNumber::from_e164("+821012345678").unwrap());
    c.version = 1;
    c
}

/// A stored SMS conversation with the customer's new message taken.
fn sms_change(customer: &Customer, text: &str) -> Change {
    let mut conv = Conversation::new(
        ConversationId::generate(),
        customer.id.clone(),
        Lang::Ko,
        Channel::Sms,
        open(),
    );
    conv.version = 1;
    let mut change = Change::of(conv, open());
    take_message(&mut change, text, handoff_faq::LangTag::Ko, Channel::Sms);
    change
}

#[test]
fn a_handoff_queues_tells_the_wait_and_alerts_once() {
    let customer = texter();
    let mut change = sms_change(&customer, "상담원 연결해 주세요");
    let transcript = change.messages.clone();
    decide_handoff(
        &mut change,
        HandoffReason::Threat,
        &transcript,
        2,
        crate::waits::WaitFacts {
            agents_online: 2,
            median_claim_secs: Some(100),
        },
        &settings(),
    )
    .unwrap();
    assert_eq!(change.conv.status, Status::Queued);
    let q = change.queue.clone().unwrap();
    assert_eq!((q.position, q.open_now), (Some(3), true));
    // The median recent wait for each round of two agents: ⌈3 / 2⌉ × 100 s.
    assert_eq!(q.estimated_wait_seconds, Some(200));
    assert_eq!(
        (q.agents_online, q.basis),
        (2, crate::waits::WaitBasis::RecentClaims)
    );
    assert_eq!(
        change.messages.len(),
        2,
        "the customer's message and the notice"
    );
    match &change.outbox[..] {
        [o] => match &o.item {
            Outbound::AgentAlert(a) => {
                assert!(a.text.starts_with("[!] "), "high priority is marked");
                assert_eq!(
                    a.link.as_deref(),
                    Some(&*format!(
                        "https://shop.example/console#c/{}",
                        change.conv.id
                    ))
                );
            }
            other => panic!("{other:?}"),
        },
        other => panic!("one alert, got {other:?}"),
    }
}

#[test]
fn stop_withdraws_opts_out_and_is_the_only_text_an_opted_out_number_gets() {
    let customer = texter();
    let mut change = sms_change(&customer, "STOP");
    change
        .conv
        .queue(HandoffReason::CustomerAsked, "s".into(), open())
        .unwrap();
    decide_keyword(&mut change, Some(&customer), SmsKeyword::Stop, &settings()).unwrap();
    assert_eq!(change.conv.status, Status::Bot);
    let after = &change.customer.as_ref().unwrap().customer;
    assert!(after.sms_opted_out);
    let replies: Vec<Message> = change.messages[1..].to_vec();
    let stop = sms_replies(&replies, Some(after), Some(SmsKeyword::Stop), &settings());
    assert_eq!(stop.len(), 1, "the STOP confirmation goes out");
    assert!(sms_replies(&replies, Some(after), None, &settings()).is_empty());
    assert!(sms_replies(&replies, Some(after), Some(SmsKeyword::Help), &settings()).is_empty());
    assert_eq!(
        sms_replies(&replies, Some(&customer), None, &settings()).len(),
        1
    );
}

#[test]
fn a_keyword_without_its_customer_is_an_internal_error() {
    let customer = texter();
    let mut change = sms_change(&customer, "START");
    assert!(matches!(
        decide_keyword(&mut change, None, SmsKeyword::Start, &settings()),
        Err(ServiceError::Internal(_))
    ));
}

#[test]
fn the_bot_keeps_a_bounded_list_of_its_answers() {
    let catalog = FaqCatalog::from_json(
        r#"{"business": {"name": "S"}, "faqs": [{"id": "f", "questions": {"en": ["q?"]}, "answer": {"en": "A."}}]}"#,
    )
    .unwrap();
    let mut change = sms_change(&texter(), "q?");
    for _ in 0..MAX_FAQ_ANSWERS + 5 {
        decide_bot_turn(&mut change, Triage::Answer { faq_id: "f".into() }, &catalog);
    }
    assert_eq!(change.conv.faq_answers.len(), MAX_FAQ_ANSWERS);
    assert_eq!(
        change.conv.faq_answers.last().map(|a| a.seq),
        Some(change.conv.last_seq)
    );
    decide_bot_turn(
        &mut change,
        Triage::Clarify { candidates: vec![] },
        &catalog,
    );
    assert_eq!(change.conv.bot_misses, 1);
}

#[test]
fn a_question_in_a_language_the_catalog_lacks_is_answered_in_english_with_a_line_in_theirs() {
    let catalog = FaqCatalog::from_json(
        r#"{"business": {"name": "Shop", "languages": ["ko", "en"]},
            "faqs": [{"id": "shipping-fee",
                      "questions": {"ko": ["배송비 얼마예요?"], "en": ["How much is shipping?"]},
                      "answer": {"ko": "배송비는 3,000원이에요.", "en": "Shipping is 3,000 won."}}]}"#,
    )
    .unwrap();
    let customer = texter();
    let mut change = sms_change(&customer, "送料はいくらですか？");
    assert_eq!(
        change.conv.detected_language,
        Some(handoff_faq::LangTag::Ja)
    );
    decide_bot_turn(
        &mut change,
        Triage::Answer {
            faq_id: "shipping-fee".into(),
        },
        &catalog,
    );
    let answer = &change.messages.last().unwrap().text;
    assert!(answer.starts_with("Shipping is 3,000 won."), "{answer}");
    assert!(answer.contains("日本語"), "a line in Japanese: {answer}");
}
