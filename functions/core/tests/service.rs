//! The use cases end to end over the in-memory store: the state machine, handoffs,
//! packets, idempotency, SMS conventions and the outbox.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use handoff_core::auth::Agent;
use handoff_core::ids::{AgentId, ConversationId};
use handoff_core::model::{
    Channel, HandoffReason, MessageText, OutboxItem, Priority, Role, Status,
};
use handoff_core::ports::{ConversationStore, Delivery, OutboxStore};
use handoff_core::service::Dispatched;
use handoff_core::{DeliveryError, ServiceError};

#[tokio::test]
async fn faq_answer_then_person_then_agent_reply_then_resolve() {
    let h = harness();
    let r = h
        .service
        .receive(web(None, "배송비 얼마예요?"))
        .await
        .unwrap();
    assert_eq!(r.conversation.status, Status::Bot);
    assert_eq!(r.replies.len(), 1);
    assert_eq!(r.replies[0].faq_id.as_deref(), Some("shipping-fee"));
    assert!(r.replies[0].text.contains("3,000원") && r.replies[0].text.contains("상담원"));
    let id = r.conversation.id.clone();

    let r = h
        .service
        .receive(web(Some(&id), "상담원 연결해 주세요"))
        .await
        .unwrap();
    assert_eq!(r.conversation.status, Status::Queued);
    let notice = &r.replies[0];
    assert_eq!(notice.from, Role::System);
    // Nobody is online and no claim has been seen: no made-up figure.
    assert!(
        notice.text.contains("1번째") && notice.text.contains("알려 드릴 수 없어요"),
        "{}",
        notice.text
    );
    let q = r.queue.unwrap();
    assert_eq!(
        (
            q.position,
            q.estimated_wait_seconds,
            q.open_now,
            q.agents_online
        ),
        (Some(1), None, true, 0)
    );

    // While queued, the first further message is acknowledged once; the rest go to the person.
    let r = h
        .service
        .receive(web(Some(&id), "배송비 얼마예요?"))
        .await
        .unwrap();
    assert_eq!(r.replies.len(), 1, "one acknowledgement");
    assert!(
        r.replies[0].text.contains("메시지를 받았어요"),
        "{}",
        r.replies[0].text
    );
    let r = h
        .service
        .receive(web(Some(&id), "아직인가요?"))
        .await
        .unwrap();
    assert!(r.replies.is_empty(), "acknowledged once, not every message");

    let a = agent("agent-a");
    let packet = h.service.packet(&id).await.unwrap();
    assert_eq!(packet.reason, Some(HandoffReason::CustomerAsked));
    assert_eq!(packet.transcript.len(), 7);
    assert_eq!(packet.bot_answers.len(), 1);
    assert!(packet.bot_answers[0].text.contains("3,000원"));
    assert!(packet.summary.contains("배송비"), "{}", packet.summary);

    let conv = h.service.claim(&a, &id).await.unwrap();
    assert_eq!(
        (conv.status, conv.assigned_to.clone()),
        (Status::Assigned, Some(a.id.clone()))
    );
    let m = h
        .service
        .agent_reply(
            &a,
            &id,
            MessageText::parse("안녕하세요, 상담원입니다").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(m.from, Role::Agent);
    let (_, after, _) = h.service.customer_messages(&id, 7).await.unwrap();
    assert!(after.iter().any(|x| x.text == "안녕하세요, 상담원입니다"));

    let conv = h.service.resolve(&a, &id).await.unwrap();
    assert_eq!(conv.status, Status::Resolved);
    // A new message after resolution starts a new conversation linked to the same customer.
    let r = h
        .service
        .receive(web(Some(&id), "환불 되나요?"))
        .await
        .unwrap();
    assert_ne!(r.conversation.id, id);
    assert_eq!(r.conversation.customer_id, conv.customer_id);
    let r2 = h
        .service
        .receive(web(Some(&r.conversation.id), "상담원"))
        .await
        .unwrap();
    let packet = h.service.packet(&r2.conversation.id).await.unwrap();
    assert_eq!(packet.earlier_conversations.len(), 1);
    assert_eq!(packet.earlier_conversations[0].conversation_id, id);
}

#[tokio::test]
async fn illegal_transitions_are_clear_errors() {
    let h = harness();
    let a = agent("agent-a");
    let r = h
        .service
        .receive(web(None, "배송비 얼마예요?"))
        .await
        .unwrap();
    let id = r.conversation.id;
    // Bot conversations cannot be claimed, replied to, resolved or released.
    assert!(matches!(
        h.service.claim(&a, &id).await,
        Err(ServiceError::IllegalTransition {
            from: Status::Bot,
            ..
        })
    ));
    assert!(matches!(
        h.service.resolve(&a, &id).await,
        Err(ServiceError::IllegalTransition { .. })
    ));
    assert!(matches!(
        h.service.release(&a, &id).await,
        Err(ServiceError::IllegalTransition { .. })
    ));
    assert!(matches!(
        h.service
            .agent_reply(&a, &id, MessageText::parse("hi").unwrap())
            .await,
        Err(ServiceError::IllegalTransition { .. })
    ));
    h.service.receive(web(Some(&id), "0")).await.unwrap();
    h.service.claim(&a, &id).await.unwrap();
    // Another agent can neither claim nor act on it.
    let b = agent("agent-b");
    match h.service.claim(&b, &id).await {
        Err(ServiceError::AlreadyClaimed { by }) => assert_eq!(by, a.id),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        h.service.resolve(&b, &id).await,
        Err(ServiceError::NotOwner { .. })
    ));
    // A supervisor may.
    let boss = Agent {
        id: AgentId::parse("boss").unwrap(),
        supervisor: true,
    };
    assert_eq!(
        h.service.release(&boss, &id).await.unwrap().status,
        Status::Bot
    );
    assert!(matches!(
        h.service.claim(&a, &ConversationId::generate()).await,
        Err(ServiceError::NotFound)
    ));
    // Claiming twice by the owner is harmless.
    h.service.receive(web(Some(&id), "0")).await.unwrap();
    h.service.claim(&a, &id).await.unwrap();
    assert_eq!(
        h.service.claim(&a, &id).await.unwrap().status,
        Status::Assigned
    );
}

#[tokio::test]
async fn twenty_agents_claim_at_once_and_exactly_one_wins() {
    let h = Arc::new(harness());
    let r = h.service.receive(web(None, "상담원")).await.unwrap();
    let id = r.conversation.id;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let h = h.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            h.service.claim(&agent(&format!("agent-{i}")), &id).await
        }));
    }
    let mut winners = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => winners += 1,
            Err(ServiceError::AlreadyClaimed { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn a_retried_send_is_stored_once_and_answered_from_the_store() {
    let h = harness();
    let first = h
        .service
        .receive(web_once(None, "배송비 얼마예요?", "retry-1"))
        .await
        .unwrap();
    let again = h
        .service
        .receive(web_once(None, "배송비 얼마예요?", "retry-1"))
        .await
        .unwrap();
    assert!(again.repeat && !first.repeat);
    assert_eq!(again.conversation.id, first.conversation.id);
    assert_eq!(
        again.replies.iter().map(|m| &m.id).collect::<Vec<_>>(),
        first.replies.iter().map(|m| &m.id).collect::<Vec<_>>()
    );
    let stored = h
        .store
        .messages(&first.conversation.id, 0, 100)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2, "one customer message, one answer");
}

#[tokio::test]
async fn one_clarifying_turn_then_a_person() {
    let h = harness();
    let r = h.service.receive(web(None, "그거 있잖아요")).await.unwrap();
    assert_eq!(r.conversation.status, Status::Bot);
    assert!(
        r.replies[0].text.contains("상담원"),
        "a clarifying question still offers a person"
    );
    let r = h
        .service
        .receive(web(Some(&r.conversation.id), "음 그러니까 그거요"))
        .await
        .unwrap();
    assert_eq!(r.conversation.status, Status::Queued);
    assert_eq!(
        r.conversation.handoff.unwrap().reason,
        HandoffReason::BotCouldNotHelp
    );
}

#[tokio::test]
async fn urgent_handoffs_jump_the_queue_and_alerts_go_out_once() {
    let h = harness();
    let normal = h
        .service
        .receive(web(None, "상담원 연결해 주세요"))
        .await
        .unwrap();
    h.clock.advance(jiff::SignedDuration::from_secs(60));
    let urgent = h
        .service
        .receive(web(None, "결제가 두 번 됐어요 환불해 주세요"))
        .await
        .unwrap();
    assert_eq!(
        urgent.conversation.handoff.as_ref().unwrap().priority,
        Priority::High
    );
    let queue = h
        .service
        .agent_queue(&agent("agent-a"), None, 200)
        .await
        .unwrap();
    let ids: Vec<_> = queue
        .queued
        .iter()
        .map(|q| q.conversation_id.clone())
        .collect();
    assert_eq!(
        ids,
        vec![
            urgent.conversation.id.clone(),
            normal.conversation.id.clone()
        ]
    );
    // The normal one is now second in line.
    let (_, _, info) = h
        .service
        .customer_messages(&normal.conversation.id, 0)
        .await
        .unwrap();
    assert_eq!(info.unwrap().position, Some(2));

    let delivery = Recorder::default();
    *delivery.fail_next.lock().unwrap() = 1;
    let (ok, failed) = h.service.dispatch_pending(&delivery, 10).await.unwrap();
    assert_eq!((ok, failed), (1, 1), "one alert failed once");
    // The failed one gave its lease back: the next pass delivers it, and only it.
    assert_eq!(
        h.service.dispatch_pending(&delivery, 10).await.unwrap(),
        (1, 0)
    );
    assert_eq!(
        h.service.dispatch_pending(&delivery, 10).await.unwrap(),
        (0, 0)
    );
    let alerts = delivery.alerts();
    assert_eq!(alerts.len(), 2, "each handoff alerted exactly once");
    let urgent_alert = alerts
        .iter()
        .find(|a| a.priority == Priority::High)
        .unwrap();
    assert!(urgent_alert.text.starts_with("[!]"));
    assert_eq!(
        urgent_alert.link.as_deref(),
        Some(format!("https://shop.example/console#c/{}", urgent.conversation.id).as_str())
    );
    assert!(urgent_alert
        .message(None)
        .ends_with(urgent_alert.link.as_deref().unwrap()));
    assert!(urgent_alert.text.chars().count() <= 160, "SMS-length alert");
    assert_eq!(urgent_alert.channel, Channel::Web);
}

#[tokio::test]
async fn after_hours_the_customer_is_told_when_a_person_answers() {
    let h = harness_at(CLOSED);
    let r = h
        .service
        .receive(web(None, "I want to talk to a human"))
        .await
        .unwrap();
    let text = &r.replies[0].text;
    assert!(text.contains("Mon Nov 30, 9:00 AM"), "{text}");
    let q = r.queue.unwrap();
    assert!(!q.open_now);
    assert_eq!(q.opens_at.unwrap().to_string(), "2026-11-30T00:00:00Z");
}

#[tokio::test]
async fn sms_customer_gets_answers_by_text_and_stop_is_honoured() {
    let h = harness();
    let delivery = Recorder::default();
    let r = h
        .service
        .receive(sms("010-1234-5678", "배송비 얼마예요?", "in-1"))
        .await
        .unwrap();
    assert_eq!(r.conversation.channel, Channel::Sms);
    h.service.dispatch_pending(&delivery, 10).await.unwrap();
    let texts = delivery.texts();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].0, "+821012345678");
    assert!(texts[0].1.contains("3,000원"));
    // The same number continues the same conversation.
    let r2 = h
        .service
        .receive(sms("+82 10 1234 5678", "상담원", "in-2"))
        .await
        .unwrap();
    assert_eq!(r2.conversation.id, r.conversation.id);
    assert_eq!(r2.conversation.status, Status::Queued);
    // STOP withdraws the request and silences the number; only the confirmation goes out.
    let r3 = h
        .service
        .receive(sms("01012345678", "STOP", "in-3"))
        .await
        .unwrap();
    assert_eq!(r3.conversation.status, Status::Bot);
    h.service.dispatch_pending(&delivery, 10).await.unwrap();
    let before = delivery.texts().len();
    assert!(delivery.texts().last().unwrap().1.contains("START"));
    h.service
        .receive(sms("01012345678", "배송비 얼마예요?", "in-4"))
        .await
        .unwrap();
    h.service.dispatch_pending(&delivery, 10).await.unwrap();
    assert_eq!(delivery.texts().len(), before, "nothing sent after STOP");
    // An agent who tries gets a clear error.
    h.service
        .receive(sms("01012345678", "0", "in-5"))
        .await
        .unwrap();
    let a = agent("agent-a");
    h.service.claim(&a, &r.conversation.id).await.unwrap();
    let err = h
        .service
        .agent_reply(&a, &r.conversation.id, MessageText::parse("hello").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::OptedOut), "{err:?}");
    assert!(err.to_string().contains("STOP"));
    // START opts back in.
    h.service
        .receive(sms("01012345678", "START", "in-6"))
        .await
        .unwrap();
    h.service
        .agent_reply(
            &a,
            &r.conversation.id,
            MessageText::parse("hello again").unwrap(),
        )
        .await
        .unwrap();
    h.service.dispatch_pending(&delivery, 10).await.unwrap();
    assert_eq!(delivery.texts().last().unwrap().1, "hello again");
}

#[tokio::test]
async fn sms_redelivery_is_answered_once() {
    let h = harness();
    for _ in 0..3 {
        h.service
            .receive(sms("010-5555-0000", "환불 되나요?", "dup-1"))
            .await
            .unwrap();
    }
    let delivery = Recorder::default();
    h.service.dispatch_pending(&delivery, 10).await.unwrap();
    assert_eq!(delivery.texts().len(), 1);
}

#[tokio::test]
async fn a_web_customer_continues_by_sms_in_one_conversation() {
    let h = harness();
    let r = h
        .service
        .receive(web(None, "상담원 연결해 주세요"))
        .await
        .unwrap();
    let id = r.conversation.id.clone();
    verify_phone(&h, &id, "010-2222-3333").await;
    // A text from that phone continues the same conversation.
    let r2 = h
        .service
        .receive(sms("01022223333", "아직 기다리고 있어요", "x-1"))
        .await
        .unwrap();
    assert_eq!(r2.conversation.id, id);
    let a = agent("agent-a");
    h.service.claim(&a, &id).await.unwrap();
    h.service
        .agent_reply(&a, &id, MessageText::parse("문자로 답드려요").unwrap())
        .await
        .unwrap();
    let delivery = Recorder::default();
    h.service.dispatch_pending(&delivery, 20).await.unwrap();
    assert!(delivery
        .texts()
        .iter()
        .any(|(to, t)| to == "+821022223333" && t == "문자로 답드려요"));
    let packet = h.service.packet(&id).await.unwrap();
    assert!(packet.transcript.iter().any(|m| m.channel == Channel::Sms));
    assert!(packet.transcript.iter().any(|m| m.channel == Channel::Web));
    assert_eq!(packet.customer.phone.as_deref(), Some("+82******3333"));
}

#[tokio::test]
async fn twenty_texts_at_once_from_one_number_land_in_one_conversation_in_order() {
    let h = Arc::new(harness());
    let mut tasks = Vec::new();
    for i in 0..20 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            h.service
                .receive(sms(
                    "010-7777-8888",
                    &format!("메시지 {i}"),
                    &format!("burst-{i}"),
                ))
                .await
        }));
    }
    let mut conversations = std::collections::HashSet::new();
    for t in tasks {
        conversations.insert(t.await.unwrap().unwrap().conversation.id);
    }
    assert_eq!(conversations.len(), 1);
    let id = conversations.into_iter().next().unwrap();
    let messages = h.store.messages(&id, 0, 1000).await.unwrap();
    let customer: Vec<_> = messages
        .iter()
        .filter(|m| m.from == Role::Customer)
        .collect();
    assert_eq!(customer.len(), 20, "none lost");
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "gapless order");
}

#[tokio::test]
async fn withdrawing_returns_to_the_bot() {
    let h = harness();
    let r = h.service.receive(web(None, "상담원")).await.unwrap();
    let conv = h.service.withdraw(&r.conversation.id).await.unwrap();
    assert_eq!(conv.status, Status::Bot);
    assert!(h
        .service
        .agent_queue(&agent("a"), None, 200)
        .await
        .unwrap()
        .queued
        .is_empty());
}

#[tokio::test]
async fn a_permanently_rejected_item_is_not_retried() {
    struct Refuses;
    #[async_trait]
    impl Delivery for Refuses {
        async fn deliver(&self, _: &OutboxItem) -> Result<(), DeliveryError> {
            Err(DeliveryError::Permanent("invalid parameter".into()))
        }
    }
    let h = harness();
    h.service.receive(web(None, "상담원")).await.unwrap();
    assert_eq!(
        h.service.dispatch_pending(&Refuses, 10).await.unwrap(),
        (0, 1)
    );
    h.clock.advance(jiff::SignedDuration::from_secs(3600));
    assert_eq!(
        h.service.dispatch_pending(&Refuses, 10).await.unwrap(),
        (0, 0)
    );
}

#[tokio::test]
async fn dispatch_skips_what_was_delivered() {
    let h = harness();
    h.service.receive(web(None, "상담원")).await.unwrap();
    let pending = h.store.pending_outbox(h.service.now(), 10).await.unwrap();
    let d = Recorder::default();
    assert_eq!(
        h.service.dispatch(&d, &pending[0]).await.unwrap(),
        Dispatched::Delivered
    );
    assert_eq!(
        h.service.dispatch(&d, &pending[0]).await.unwrap(),
        Dispatched::Skipped
    );
    assert_eq!(d.alerts().len(), 1);
}
