//! What a hostile customer tries: taking over someone's phone thread, replaying
//! another sender's idempotency key, flooding the queue. Each is refused here,
//! over the in-memory store (the HTTP attack suite repeats them end to end).

mod common;

use common::*;
use handoff_core::ids::{ClientMessageId, DeviceId, IdempotencyKey};
use handoff_core::limits::RateLimits;
use handoff_core::model::Status;
use handoff_core::ports::ConversationStore;
use handoff_core::service::Sender;
use handoff_core::verification::{CodeRejected, PhoneCode};
use handoff_core::ServiceError;
use jiff::SignedDuration;

#[tokio::test]
async fn a_phone_joins_only_after_its_code_comes_back() {
    let h = harness();
    let victim = "+821055509999";
    let attacker = h
        .service
        .receive(web(None, "상담원 연결해 주세요"))
        .await
        .unwrap();
    let id = attacker.conversation.id.clone();
    h.service
        .request_phone_code(&id, phone("010-5550-9999"), &phone_codes(), None)
        .await
        .unwrap();
    let delivery = Recorder::default();
    h.service.dispatch_pending(&delivery, 20).await.unwrap();
    assert_eq!(delivery.texts().len(), 1, "only the code is texted");
    assert_eq!(delivery.texts()[0].0, victim);
    // The victim's own text starts their own conversation, not the attacker's.
    let theirs = h
        .service
        .receive(sms("010-5550-9999", "주문 확인 부탁해요", "v-1"))
        .await
        .unwrap();
    assert_ne!(theirs.conversation.id, id);
    let packet = h.service.packet(&id).await.unwrap();
    assert!(packet.customer.phone.is_none(), "no link before the code");
    // Guessing fails, and dies after five tries.
    let wrong = PhoneCode::parse("000000").unwrap();
    let right = code_sent_to(&delivery, victim);
    let wrong = if wrong == right {
        PhoneCode::parse("000001").unwrap()
    } else {
        wrong
    };
    for _ in 0..4 {
        let e = h
            .service
            .verify_phone(&id, &wrong, &phone_codes())
            .await
            .unwrap_err();
        assert!(
            matches!(e, ServiceError::CodeRejected(CodeRejected::Wrong { .. })),
            "{e:?}"
        );
    }
    let e = h
        .service
        .verify_phone(&id, &wrong, &phone_codes())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ServiceError::CodeRejected(CodeRejected::TooManyAttempts)),
        "{e:?}"
    );
    let e = h
        .service
        .verify_phone(&id, &right, &phone_codes())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ServiceError::CodeRejected(CodeRejected::TooManyAttempts)),
        "dead code: {e:?}"
    );
    assert!(h
        .service
        .packet(&id)
        .await
        .unwrap()
        .customer
        .phone
        .is_none());
}

#[tokio::test]
async fn codes_expire_and_are_capped_per_phone() {
    let h = harness();
    let r = h
        .service
        .receive(web(None, "배송비 얼마예요?"))
        .await
        .unwrap();
    let id = r.conversation.id;
    let delivery = Recorder::default();
    h.service
        .request_phone_code(&id, phone("010-1234-0000"), &phone_codes(), None)
        .await
        .unwrap();
    h.service.dispatch_pending(&delivery, 20).await.unwrap();
    let code = code_sent_to(&delivery, "+821012340000");
    h.clock.advance(SignedDuration::from_mins(11));
    let e = h
        .service
        .verify_phone(&id, &code, &phone_codes())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ServiceError::CodeRejected(CodeRejected::Expired)),
        "{e:?}"
    );
    // Two more codes this hour, then no more for that phone.
    for _ in 0..2 {
        h.service
            .request_phone_code(&id, phone("010-1234-0000"), &phone_codes(), None)
            .await
            .unwrap();
    }
    let e = h
        .service
        .request_phone_code(&id, phone("010-1234-0000"), &phone_codes(), None)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::RateLimited { .. }), "{e:?}");
    // A new code replaces the old one; the latest works.
    h.service.dispatch_pending(&delivery, 20).await.unwrap();
    let latest = code_sent_to(&delivery, "+821012340000");
    h.service
        .verify_phone(&id, &latest, &phone_codes())
        .await
        .unwrap();
    let packet = h.service.packet(&id).await.unwrap();
    assert_eq!(packet.customer.phone.as_deref(), Some("+82******0000"));
}

#[tokio::test]
async fn an_opted_out_number_gets_the_same_answer_and_no_text() {
    let h = harness();
    h.service
        .receive(sms("010-3333-4444", "STOP", "s-1"))
        .await
        .unwrap();
    let delivery = Recorder::default();
    h.service.dispatch_pending(&delivery, 20).await.unwrap();
    let before = delivery.texts().len();
    let r = h.service.receive(web(None, "안녕하세요")).await.unwrap();
    h.service
        .request_phone_code(
            &r.conversation.id,
            phone("010-3333-4444"),
            &phone_codes(),
            None,
        )
        .await
        .expect("same answer as for any number");
    h.service.dispatch_pending(&delivery, 20).await.unwrap();
    assert_eq!(
        delivery.texts().len(),
        before,
        "no code to an opted-out number"
    );
    let e = h
        .service
        .verify_phone(
            &r.conversation.id,
            &PhoneCode::parse("123456").unwrap(),
            &phone_codes(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::CodeRejected(_)), "{e:?}");
}

fn first_message(text: &str, client: &str, device: Option<&str>) -> handoff_core::service::Inbound {
    let mut i = web(None, text);
    let device = device.map(|d| DeviceId::parse(d).unwrap());
    i.idempotency = Some(IdempotencyKey::web_first(
        device.as_ref(),
        &ClientMessageId::parse(client).unwrap(),
        text,
    ));
    i.sender = Sender {
        ip: Some("203.0.113.7".into()),
        device,
    };
    i
}

#[tokio::test]
async fn a_reused_client_message_id_never_returns_another_senders_conversation() {
    let h = harness();
    let first = h
        .service
        .receive(first_message("제 주소는 서울시 …", "m-1", Some("dev-a")))
        .await
        .unwrap();
    // Another browser, same key: its own new conversation.
    let other = h
        .service
        .receive(first_message("anything", "m-1", Some("dev-b")))
        .await
        .unwrap();
    assert_ne!(other.conversation.id, first.conversation.id);
    assert!(!other.repeat);
    // No device: the key is scoped to the text, so a different text is new too.
    let bare = h
        .service
        .receive(first_message("anything", "m-1", None))
        .await
        .unwrap();
    assert_ne!(bare.conversation.id, first.conversation.id);
    // The same browser retrying gets its stored answer; with another text, a 409.
    let again = h
        .service
        .receive(first_message("제 주소는 서울시 …", "m-1", Some("dev-a")))
        .await
        .unwrap();
    assert!(again.repeat);
    assert_eq!(again.conversation.id, first.conversation.id);
    let e = h
        .service
        .receive(first_message("different", "m-1", Some("dev-a")))
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::IdempotencyKeyReused), "{e:?}");
}

#[tokio::test]
async fn a_flood_of_handoffs_is_refused_and_nothing_is_stored() {
    let mut h = harness();
    let mut settings = settings();
    settings.rate_limits =
        RateLimits::parse("handoff_per_device=2/10m,new_per_device=3/10m").unwrap();
    h = rebuild(h, settings);
    let mut admitted = 0;
    let mut refused = 0;
    for i in 0..5 {
        match h
            .service
            .receive(first_message("상담원", &format!("f-{i}"), Some("bot-1")))
            .await
        {
            Ok(r) => {
                assert_eq!(r.conversation.status, Status::Queued);
                admitted += 1;
            }
            Err(ServiceError::RateLimited { retry_after_secs }) => {
                assert!(retry_after_secs > 0 && retry_after_secs <= 600);
                refused += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((admitted, refused), (2, 3));
    assert_eq!(
        h.store.queue(100).await.unwrap().len(),
        2,
        "refused handoffs left nothing queued"
    );
    // A retried delivery of an admitted message is answered, not counted again.
    let again = h
        .service
        .receive(first_message("상담원", "f-0", Some("bot-1")))
        .await
        .unwrap();
    assert!(again.repeat);
}

#[tokio::test]
async fn a_burst_of_handoffs_sends_one_alert_and_a_count() {
    let mut settings = settings();
    settings.alert_coalesce = SignedDuration::from_secs(30);
    let h = rebuild(harness(), settings);
    for i in 0..5 {
        h.service
            .receive(first_message(
                "상담원",
                &format!("b-{i}"),
                Some(&format!("dev-{i}")),
            ))
            .await
            .unwrap();
        h.clock.advance(SignedDuration::from_secs(2));
    }
    let delivery = Recorder::default();
    h.service.dispatch_pending(&delivery, 50).await.unwrap();
    assert_eq!(delivery.alerts().len(), 1, "one alert for the burst");
    // Nothing more until the window has passed; then one summary with the count.
    h.service.dispatch_pending(&delivery, 50).await.unwrap();
    assert_eq!(delivery.alerts().len(), 1);
    h.clock.advance(SignedDuration::from_secs(31));
    h.service.dispatch_pending(&delivery, 50).await.unwrap();
    let alerts = delivery.alerts();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(
        alerts[1].text.contains("+4 more waiting"),
        "{}",
        alerts[1].text
    );
    // The next handoff after a quiet window alerts at once, with nothing to add.
    h.clock.advance(SignedDuration::from_secs(60));
    h.service
        .receive(first_message("상담원", "b-9", Some("dev-9")))
        .await
        .unwrap();
    h.service.dispatch_pending(&delivery, 50).await.unwrap();
    let alerts = delivery.alerts();
    assert_eq!(alerts.len(), 3);
    assert!(!alerts[2].text.contains("more waiting"));
    assert_eq!(
        h.store.queue(100).await.unwrap().len(),
        6,
        "every handoff is queued"
    );
}

#[tokio::test]
async fn the_queue_pages_past_its_first_page() {
    let h = harness();
    for i in 0..5 {
        h.service
            .receive(first_message(
                "상담원",
                &format!("q-{i}"),
                Some(&format!("d-{i}")),
            ))
            .await
            .unwrap();
        h.clock.advance(SignedDuration::from_secs(1));
    }
    let a = handoff_core::auth::Agent::from_claims("agent-a", "agents").unwrap();
    let first = h.service.agent_queue(&a, None, 2).await.unwrap();
    assert_eq!(first.queued.len(), 2);
    let mut all: Vec<_> = first
        .queued
        .iter()
        .map(|q| q.conversation_id.clone())
        .collect();
    let mut cursor = first.next_cursor.clone();
    while let Some(c) = cursor {
        let p = handoff_core::queue_position::QueuePosition::from_cursor(&c).unwrap();
        let page = h.service.agent_queue(&a, Some(&p), 2).await.unwrap();
        all.extend(page.queued.iter().map(|q| q.conversation_id.clone()));
        cursor = page.next_cursor;
    }
    assert_eq!(all.len(), 5);
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), 5);
}
