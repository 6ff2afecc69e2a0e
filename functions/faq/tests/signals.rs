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

#[test]
fn person_requests_by_title_and_rejecting_the_bot() {
    for text in [
        "사장님 바꿔주세요",
        "사장님이랑 직접 통화하고 싶습니다",
        "매니저님 계세요? 드릴 말씀이 있어서요",
        "책임자 연결해 주세요",
        "직원분이랑 얘기 좀 할 수 있을까요?",
        "봇 말고 사람요",
        "봇 말고 사람이랑 얘기할래요",
        "사람 상담이요ㅠ 봇은 말이 안 통하네",
        "전화 좀 주세요 010-2345-6789 입니다",
        "can i talk to the owner?",
        "let me talk to the owner",
        "i'd rather speak with a staff member than a bot",
        "is there an actual human i can chat with",
        "i need to speak to someone at the shop, not an automated reply",
        "customer service rep please",
    ] {
        assert!(wants_human(text), "should want a human: {text}");
    }
}

#[test]
fn disguised_person_requests() {
    for text in [
        "a\u{200b}g\u{200b}e\u{200b}n\u{200b}t",
        "ＡＧＥＮＴ",
        "０",
        "0\u{fe0f}\u{20e3}",
        "\u{0430}g\u{0435}nt please",
        "talk to a hum\u{03b1}n",
        "a g e n t",
        "h.u.m.a.n please",
        "상 담 원",
        "상\u{200b}담\u{200b}원 연결",
        "𝐡𝐮𝐦𝐚𝐧",
    ] {
        assert!(wants_human(text), "should want a human: {text:?}");
    }
}

#[test]
fn person_requests_in_other_languages() {
    for text in [
        "担当者と話したいです",
        "オペレーターにつないでください",
        "我要转人工",
        "请帮我联系客服",
        "Quiero hablar con una persona real",
        "¿Puedo hablar con el encargado?",
        "Tôi muốn gặp nhân viên tư vấn",
        "Je voudrais parler à un conseiller",
        "Ich möchte mit einem Mitarbeiter sprechen",
        "Позовите оператора, пожалуйста",
        "ขอคุยกับพนักงานหน่อย",
        "Saya mau bicara dengan petugas",
    ] {
        assert!(wants_human(text), "should want a human: {text}");
    }
}

#[test]
fn other_languages_asking_about_hours_or_people_are_not_requests() {
    for text in [
        "¿Cuánto cuesta para una persona?",
        "Tôi muốn đặt lịch cho 2 người",
        "Quels sont vos horaires d'ouverture ?",
        "What are the operator hours?",
        "营业时间是几点？",
        "선생님 수업 있나요?",
        "0개",
        "10",
        "ok",
    ] {
        assert!(!wants_human(text), "should not want a human: {text}");
    }
}

#[test]
fn urgent_situations_for_any_business() {
    use handoff_faq::signals::{situation, Situation};
    let cases: &[(&str, Situation)] = &[
        ("수업 중에 떨어졌는데 손목이 너무 아파요", Situation::Safety),
        ("탈의실에서 어떤 분이 쓰러지셨어요", Situation::Safety),
        (
            "i twisted my knee during class and it's swollen",
            Situation::Safety,
        ),
        (
            "someone just fainted in the changing room",
            Situation::Safety,
        ),
        (
            "충전하다가 폰에서 연기 나더니 불 붙었어요",
            Situation::Hazard,
        ),
        ("배터리가 부풀어서 액정이 들떴어요", Situation::Hazard),
        ("my phone battery is swelling", Situation::Hazard),
        ("laptop started smoking while charging", Situation::Hazard),
        ("I smell gas in the kitchen", Situation::Hazard),
        ("천장에서 물이 새요 누수 같아요", Situation::Hazard),
        ("there's no heating and no hot water", Situation::Hazard),
        ("I'm locked out of my room", Situation::Lockout),
        ("문이 잠겨서 못 들어가요", Situation::Lockout),
        (
            "가게 이름으로 링크 눌러서 카드번호 입력하라는 문자가 왔어요",
            Situation::Fraud,
        ),
        (
            "got a text from you asking me to pay through a link. is this legit??",
            Situation::Fraud,
        ),
        ("누가 제 계정을 해킹한 것 같아요", Situation::Fraud),
        (
            "저 결제한 적 없는데 카드에 결제됐어요",
            Situation::UnknownCharge,
        ),
        (
            "there's a charge from you and i've never been to your shop",
            Situation::UnknownCharge,
        ),
        ("카드 결제가 두 번 됐어요", Situation::DoubleCharge),
        (
            "you charged me twice for my membership",
            Situation::DoubleCharge,
        ),
        ("네이버 리뷰에 다 올릴 거예요", Situation::Threat),
        (
            "i'm reporting you to the consumer agency",
            Situation::Threat,
        ),
        ("I'll leave a one star review", Situation::Threat),
        ("worst studio ever, i'm furious", Situation::Anger),
        (
            "this is the worst service ive ever had. you people are clowns",
            Situation::Anger,
        ),
        (
            "수리하고 나서 오히려 더 망가졌어요",
            Situation::PastVisitComplaint,
        ),
        (
            "after your screen repair all my photos are gone",
            Situation::PastVisitComplaint,
        ),
        (
            "락커에 넣어둔 지갑이 없어졌어요",
            Situation::PropertyLostOrDamaged,
        ),
        (
            "맡긴 아이패드를 잃어버렸다는 게 말이 돼요",
            Situation::PropertyLostOrDamaged,
        ),
        ("맡길 땐 멀쩡했거든요", Situation::PropertyLostOrDamaged),
    ];
    for (text, want) in cases {
        assert_eq!(situation(text).map(|s| s.0), Some(*want), "{text}");
    }
}

#[test]
fn everyday_questions_are_not_urgent() {
    use handoff_faq::signals::situation;
    for text in [
        "Is smoking allowed on the terrace?",
        "does it hurt?",
        "리뷰 쓰면 적립되나요?",
        "can I leave a review?",
        "수리 접수할게요",
        "제품 사기 전에 궁금한 게 있어요",
        "명의 변경 되나요?",
        "예약 링크 어디 있어요?",
        "my screen is cracked, how much to fix it?",
        "세 번째 수업은 언제예요?",
        "tell me a joke",
        "can you text me a link to pay?",
        "I received an item I didn't order",
        "how much is a battery replacement?",
    ] {
        assert_eq!(situation(text), None, "{text}");
    }
}

#[test]
fn detect_names_the_evidence() {
    use handoff_faq::signals::detect;
    let (urgency, hit) = detect("사장님 바꿔주세요").unwrap();
    assert_eq!(urgency, None);
    assert_eq!(hit.kind, "person_request");
    assert!(hit.evidence.contains("사장"), "{}", hit.evidence);
    let (urgency, hit) = detect("you charged me twice").unwrap();
    assert_eq!(urgency, Some(Urgency::DoubleCharge));
    assert_eq!(hit.kind, "double_charge");
    assert_eq!(detect("배송비 얼마예요?"), None);
}
