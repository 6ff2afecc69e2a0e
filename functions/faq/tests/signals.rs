//! Handoff signals: positives and negatives in Korean and English.

use handoff_faq::signals::{urgency, wants_human, Urgency};

#[test]
fn wants_human_positives() {
    for text in [
        "상담원 연결해 주세요",
        "상담원이랑 얘기할래요",
        "상담원한테 넘겨주세요",
        "사람이랑 얘기하고 싶어요",
        "사람좀",
        "직원분 계세요?",
        "챗봇 말고 진짜 사람 바꿔줘요",
        "상담사랑 통화하고 싶습니다",
        "연결해 주세요",
        "0",
        " 0 ",
        "talk to a human",
        "agent please",
        "Agent",
        "can i speak to a real person",
        "representative",
        "this bot is useless, get me someone",
        "I want to talk to someone",
        "i need to speak with an operator",
        "connect me to customer service",
        "customer service",
        "how can i speak to a human agent",
    ] {
        assert!(wants_human(text), "should want a human: {text}");
    }
}

#[test]
fn wants_human_negatives() {
    for text in [
        "0원",
        "10개 주문할게요",
        "00",
        "what's the agent fee?",
        "고객센터 몇 시까지 해요?",
        "주말에도 상담 되나요?",
        "상담 가능한 시간이 언제예요?",
        "what hours is support available",
        "When are your support staff available?",
        "What are your customer service hours?",
        "배송비가 얼마예요?",
        "사람들이 많이 사는 원두가 뭐예요?",
        "how many people does a 200g bag serve",
        "",
    ] {
        assert!(!wants_human(text), "should not want a human: {text}");
    }
}

#[test]
fn urgency_kinds() {
    let cases: &[(&str, Option<Urgency>)] = &[
        (
            "세 번째 문의인데 아직도 해결이 안 됐어요. 너무 화가 나네요",
            Some(Urgency::Frustration),
        ),
        ("아 진짜 짜증나요", Some(Urgency::Frustration)),
        ("이게 뭐야", Some(Urgency::Frustration)),
        (
            "this is ridiculous, nobody answers my emails",
            Some(Urgency::Frustration),
        ),
        ("worst service ever", Some(Urgency::Frustration)),
        ("where is my order!!!", Some(Urgency::Frustration)),
        ("소비자원에 신고할 거예요", Some(Urgency::Threat)),
        ("고소하겠습니다", Some(Urgency::Threat)),
        (
            "I will file a chargeback if this isn't fixed today",
            Some(Urgency::Threat),
        ),
        ("my lawyer will contact you", Some(Urgency::Threat)),
        ("결제가 두 번 됐어요", Some(Urgency::DoubleCharge)),
        ("이중결제 됐네요", Some(Urgency::DoubleCharge)),
        (
            "I've been charged twice for the same order",
            Some(Urgency::DoubleCharge),
        ),
        ("you double charged my card", Some(Urgency::DoubleCharge)),
        ("원두에서 이물질이 나왔어요", Some(Urgency::SafetyOrHealth)),
        ("마시고 배가 아파요", Some(Urgency::SafetyOrHealth)),
        ("케틀 때문에 화상 입었어요", Some(Urgency::SafetyOrHealth)),
        (
            "I'm allergic and there was a nut in it",
            Some(Urgency::SafetyOrHealth),
        ),
        (
            "found a piece of glass in the bag",
            Some(Urgency::SafetyOrHealth),
        ),
        (
            "I got sick after drinking it",
            Some(Urgency::SafetyOrHealth),
        ),
        ("배송비가 얼마예요?", None),
        ("환불 며칠 걸려요?", None),
        ("can i get it ground for french press", None),
        ("my mug came broken", None),
        ("do you have decaf?", None),
        ("임신 중이라 카페인 없는 원두 찾아요", None),
        ("두 개 주문하면 배송비 무료인가요?", None),
        ("can I pay with two cards?", None),
        ("is the coffee freshly roasted?", None),
        ("this tastes a bit burnt", None),
    ];
    for (text, want) in cases {
        assert_eq!(urgency(text), *want, "{text}");
    }
    assert_eq!(
        serde_json::to_string(&Urgency::SafetyOrHealth).unwrap(),
        "\"safety_or_health\""
    );
}
