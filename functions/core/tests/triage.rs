//! Triage, table-driven, in Korean and English.

mod common;

use handoff_core::faq::FaqIndex;
use handoff_core::ids::{AgentId, ConversationId, CustomerId};
use handoff_core::model::{Channel, Lang};
use handoff_core::model::{Conversation, FaqAnswer, HandoffReason, Status};
use handoff_core::triage::{triage, Triage};

fn index() -> FaqIndex {
    FaqIndex::build(&common::catalog())
}

fn conversation() -> Conversation {
    Conversation::new(
        ConversationId::generate(),
        CustomerId::generate(),
        Lang::Ko,
        Channel::Web,
        common::OPEN.parse().unwrap(),
    )
}

#[test]
fn first_messages() {
    let index = index();
    let answer = |id: &str| Triage::Answer { faq_id: id.into() };
    let handoff = |r: HandoffReason| Triage::Handoff { reason: r };
    let cases: Vec<(&str, Triage)> = vec![
        // FAQ answers, both languages, with and without spaces and particles.
        ("배송비 얼마예요?", answer("shipping-fee")),
        ("배송비얼마에요", answer("shipping-fee")),
        ("How much is shipping?", answer("shipping-fee")),
        ("환불 되나요?", answer("refund-policy")),
        ("can I get a refund", answer("refund-policy")),
        ("디카페인 있나요?", answer("decaf")),
        // A person, on this very message.
        ("상담원", handoff(HandoffReason::CustomerAsked)),
        (
            "상담원 연결해 주세요",
            handoff(HandoffReason::CustomerAsked),
        ),
        (
            "사람이랑 얘기하고 싶어요",
            handoff(HandoffReason::CustomerAsked),
        ),
        ("직원 바꿔주세요", handoff(HandoffReason::CustomerAsked)),
        ("0", handoff(HandoffReason::CustomerAsked)),
        (" 0 ", handoff(HandoffReason::CustomerAsked)),
        ("agent", handoff(HandoffReason::CustomerAsked)),
        (
            "I want to talk to a human",
            handoff(HandoffReason::CustomerAsked),
        ),
        (
            "representative please",
            handoff(HandoffReason::CustomerAsked),
        ),
        // Urgent: high priority.
        ("결제가 두 번 됐어요", handoff(HandoffReason::DoubleCharge)),
        (
            "I was charged twice for one order",
            handoff(HandoffReason::DoubleCharge),
        ),
        ("소비자원에 신고할 거예요", handoff(HandoffReason::Threat)),
        (
            "I'm going to file a chargeback",
            handoff(HandoffReason::Threat),
        ),
        (
            "커피 마시고 알레르기 반응이 났어요",
            handoff(HandoffReason::SafetyOrHealth),
        ),
        (
            "there was glass in the bag",
            handoff(HandoffReason::SafetyOrHealth),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(triage(text, None, &index), expected, "{text:?}");
    }
}

#[test]
fn urgent_reasons_are_high_priority() {
    for r in [
        HandoffReason::DoubleCharge,
        HandoffReason::Threat,
        HandoffReason::SafetyOrHealth,
        HandoffReason::Frustration,
    ] {
        assert_eq!(r.priority(), handoff_core::model::Priority::High, "{r:?}");
    }
}

#[test]
fn unclear_messages_get_one_clarifying_turn_then_a_person() {
    let index = index();
    for text in ["음...", "blorp wizzle", "그거 있잖아요"] {
        let first = triage(text, None, &index);
        assert!(
            matches!(first, Triage::Clarify { .. }),
            "{text:?}: {first:?}"
        );
        let mut conv = conversation();
        conv.bot_misses = 1;
        conv.last_seq = 2;
        assert_eq!(
            triage(text, Some(&conv), &index),
            Triage::Handoff {
                reason: HandoffReason::BotCouldNotHelp
            },
            "second miss for {text:?}"
        );
    }
}

#[test]
fn the_same_answer_twice_in_a_row_hands_off() {
    let index = index();
    let mut conv = conversation();
    conv.last_seq = 2;
    conv.faq_answers.push(FaqAnswer {
        faq_id: "shipping-fee".into(),
        seq: 2,
        at: common::OPEN.parse().unwrap(),
    });
    assert_eq!(
        triage("배송비 얼마예요?", Some(&conv), &index),
        Triage::Handoff {
            reason: HandoffReason::BotCouldNotHelp
        }
    );
    // Another question is progress.
    assert_eq!(
        triage("환불 되나요?", Some(&conv), &index),
        Triage::Answer {
            faq_id: "refund-policy".into()
        }
    );
}

#[test]
fn with_a_person_the_bot_stays_quiet() {
    let index = index();
    for status in [Status::Queued, Status::Assigned] {
        let mut conv = conversation();
        conv.queue(HandoffReason::CustomerAsked, "s".into(), conv.created_at)
            .unwrap();
        if status == Status::Assigned {
            conv.claim(&AgentId::parse("agent-a").unwrap()).unwrap();
        }
        for text in ["배송비 얼마예요?", "0", "hello?"] {
            assert_eq!(
                triage(text, Some(&conv), &index),
                Triage::ForPerson,
                "{status:?} {text:?}"
            );
        }
    }
}

#[test]
fn first_messages_that_reach_a_person_for_any_business() {
    let index = index();
    let handoff = |r: HandoffReason| Triage::Handoff { reason: r };
    let cases: Vec<(&str, Triage)> = vec![
        ("사장님 바꿔주세요", handoff(HandoffReason::CustomerAsked)),
        ("봇 말고 사람요", handoff(HandoffReason::CustomerAsked)),
        ("a\u{200b}gent", handoff(HandoffReason::CustomerAsked)),
        ("0\u{fe0f}\u{20e3}", handoff(HandoffReason::CustomerAsked)),
        ("０", handoff(HandoffReason::CustomerAsked)),
        (
            "担当者と話したいです",
            handoff(HandoffReason::CustomerAsked),
        ),
        ("我要转人工", handoff(HandoffReason::CustomerAsked)),
        (
            "Quiero hablar con una persona real",
            handoff(HandoffReason::CustomerAsked),
        ),
        (
            "배터리가 부풀어서 뒷판이 벌어졌어요",
            handoff(HandoffReason::SafetyOrHealth),
        ),
        (
            "someone just fainted in the changing room",
            handoff(HandoffReason::SafetyOrHealth),
        ),
        (
            "got a text from you with a payment link, is this legit?",
            handoff(HandoffReason::Threat),
        ),
        (
            "저 결제한 적 없는데 카드에 결제됐어요",
            handoff(HandoffReason::DoubleCharge),
        ),
        ("리뷰에 다 올릴게요", handoff(HandoffReason::Threat)),
        (
            "맡길 땐 멀쩡했는데 찾아보니 옆면이 찍혀 있어요",
            handoff(HandoffReason::Frustration),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(triage(text, None, &index), expected, "{text:?}");
    }
}

#[test]
fn the_trace_names_the_evidence() {
    use handoff_core::triage::triage_traced;
    let index = index();
    let (t, trace) = triage_traced("사장님 바꿔주세요", None, &index);
    assert_eq!(t, triage("사장님 바꿔주세요", None, &index));
    let hit = trace.signal.expect("a signal decided");
    assert_eq!(hit.kind, "person_request");
    let (t, trace) = triage_traced("배송비 얼마예요?", None, &index);
    assert_eq!(
        t,
        Triage::Answer {
            faq_id: "shipping-fee".into()
        }
    );
    assert!(trace.signal.is_none());
    assert_eq!(trace.ranked[0].faq_id, "shipping-fee");
    let faq = trace.faq.expect("the index decided");
    assert!(faq.nearest_example.is_some());
    assert!(faq
        .components
        .iter()
        .any(|(name, v)| name == "lr" && *v > 0.0));
}

/// With the encoder, a message the words alone are sure of is answered without
/// it (the trace says so), and the traced and product paths agree on every
/// catalog question and every bank sentence.
#[test]
fn words_alone_decide_when_they_are_sure() {
    use handoff_core::triage::triage_traced;
    let encoder = handoff_core::faq::shared_encoder().expect(
        "model files missing: run functions/encoder/fetch-model.sh or set HANDOFF_MODEL_DIR",
    );
    let c = common::catalog();
    let index = FaqIndex::build_with_encoder(&c, handoff_core::faq::Params::default(), encoder);
    let mut by_words = 0;
    let bank = handoff_core::faq::signals::person_examples()
        .iter()
        .copied();
    let questions: Vec<&str> = c.faqs.iter().flat_map(|f| f.all_questions()).collect();
    for text in questions.iter().copied().chain(bank) {
        let (t, trace) = triage_traced(text, None, &index);
        assert_eq!(t, triage(text, None, &index), "{text}");
        if trace.by_words_alone {
            by_words += 1;
            assert!(matches!(t, Triage::Answer { .. }), "{text}: {t:?}");
        }
    }
    assert!(by_words > 0, "no catalog question was sure by words");
}
