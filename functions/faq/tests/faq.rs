//! Catalog validation, language detection, matching and decisions on a small
//! ko+en fixture catalog.

use handoff_faq::{detect_language, CatalogError, FaqCatalog, FaqDecision, FaqIndex, Lang};

const MINI: &str = include_str!("fixtures/mini-shop.json");

fn catalog() -> FaqCatalog {
    FaqCatalog::from_json(MINI).expect("fixture is valid")
}

#[test]
fn loads_fixture_and_keeps_unknown_business_fields() {
    let c = catalog();
    assert_eq!(c.faqs.len(), 6);
    assert_eq!(c.business.timezone.as_deref(), Some("Asia/Seoul"));
    assert_eq!(
        c.business.extra.get("phone").and_then(|v| v.as_str()),
        Some("02-000-0000")
    );
    assert_eq!(c.business_name(Lang::Ko), "테스트 로스터스");
    assert_eq!(c.business_name(Lang::En), "Test Roasters");
    // round trip keeps the extra field
    let back = serde_json::to_string(&c).unwrap();
    assert!(back.contains("\"phone\""));
    assert_eq!(FaqCatalog::from_json(&back).unwrap(), c);
}

#[test]
fn answers_fall_back_across_languages() {
    let c = catalog();
    assert_eq!(
        c.answer("shipping-fee", Lang::Ko),
        Some("배송비는 3,000원입니다.")
    );
    assert_eq!(
        c.answer("shipping-fee", Lang::En),
        Some("Shipping is 3,000 KRW.")
    );
    // decaf has only an English answer
    assert_eq!(
        c.answer("decaf", Lang::Ko),
        Some("Yes, our Colombia decaf.")
    );
    assert_eq!(c.answer("nope", Lang::En), None);
    assert!(c.faq("store-hours").is_some());
}

#[test]
fn validation_errors_name_the_faq() {
    let biz = r#""business": {"name": "B", "languages": ["ko"]}"#;
    let cases: &[(&str, CatalogError)] = &[
        (
            r#"{"business": {"name": "B"}, "faqs": []}"#,
            CatalogError::Empty,
        ),
        (
            &format!(
                r#"{{{biz}, "faqs": [{{"id": " ", "questions": {{"ko": ["q"]}}, "answer": {{"ko": "a"}}}}]}}"#
            ),
            CatalogError::EmptyId { index: 0 },
        ),
        (
            &format!(
                r#"{{{biz}, "faqs": [
                {{"id": "a", "questions": {{"ko": ["q"]}}, "answer": {{"ko": "a"}}}},
                {{"id": "a", "questions": {{"en": ["q"]}}, "answer": {{"en": "a"}}}}]}}"#
            ),
            CatalogError::DuplicateId {
                id: "a".into(),
                index: 1,
            },
        ),
        (
            &format!(
                r#"{{{biz}, "faqs": [{{"id": "x", "questions": {{"ko": ["", " "]}}, "answer": {{"ko": "a"}}}}]}}"#
            ),
            CatalogError::NoQuestions { id: "x".into() },
        ),
        (
            &format!(
                r#"{{{biz}, "faqs": [{{"id": "y", "questions": {{"en": ["q"]}}, "answer": {{}}}}]}}"#
            ),
            CatalogError::NoAnswer { id: "y".into() },
        ),
    ];
    for (json, want) in cases {
        assert_eq!(FaqCatalog::from_json(json).unwrap_err(), *want, "{json}");
    }
    let err = FaqCatalog::from_json("{not json").unwrap_err();
    assert!(matches!(err, CatalogError::Json(_)));
    assert!(CatalogError::NoAnswer { id: "y".into() }
        .to_string()
        .contains("\"y\""));
}

#[test]
fn detects_language() {
    for (text, lang) in [
        ("배송비 얼마예요?", Lang::Ko),
        ("ㅋㅋㅋ", Lang::Ko),
        ("refund 언제 돼요", Lang::Ko),
        ("How much is shipping?", Lang::En),
        ("0", Lang::En),
        ("", Lang::En),
    ] {
        assert_eq!(detect_language(text), lang, "{text}");
    }
    assert_eq!(Lang::Ko.code(), "ko");
    assert_eq!(serde_json::to_string(&Lang::En).unwrap(), "\"en\"");
}

#[test]
fn ranks_paraphrases_first() {
    let index = FaqIndex::build(&catalog());
    for (text, want) in [
        ("배송 보통 며칠 정도 걸려요?", "shipping-time"),
        ("배송비 있나요?", "shipping-fee"),
        ("what's the delivery charge", "shipping-fee"),
        ("환불 며칠 걸려요?", "refund-timing"),
        ("when do i get my money back", "refund-timing"),
        ("비번 까먹었어요", "password-reset"),
        ("reset password", "password-reset"),
        ("디카페인 있어요?", "decaf"),
        ("any decaffeinated beans?", "decaf"),
        ("카페 몇 시까지 해요?", "store-hours"),
        ("is the cafe open on sunday", "store-hours"),
    ] {
        let ranked = index.rank(text, 3);
        assert_eq!(ranked.len(), 3);
        assert_eq!(ranked[0].faq_id, want, "{text}: {ranked:?}");
        assert!(ranked[0].score >= ranked[1].score);
    }
}

#[test]
fn decides_answer_for_clear_questions_and_not_for_out_of_scope() {
    let index = FaqIndex::build(&catalog());
    for (text, want) in [
        ("배송비가 얼마인가요?", "shipping-fee"),
        ("I forgot my password", "password-reset"),
        ("비밀번호 잊어버렸어요", "password-reset"),
    ] {
        match index.decide(text) {
            FaqDecision::Answer { faq_id, score } => {
                assert_eq!(faq_id, want, "{text}");
                assert!(score > 0.0);
            }
            other => panic!("{text}: expected answer, got {other:?}"),
        }
    }
    for text in [
        "오늘 서울 날씨 어때요?",
        "write me a poem about cats",
        "asdfghjkl",
        "ㅋㅋㅋㅋ",
        "",
        "?!",
    ] {
        assert!(
            !matches!(index.decide(text), FaqDecision::Answer { .. }),
            "{text} must not be answered"
        );
    }
    assert_eq!(index.decide("   "), FaqDecision::NoMatch);
    assert!(index.rank("", 3).is_empty());
}

#[test]
fn index_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FaqIndex>();
}

#[test]
fn calibration_only_raises_the_thresholds_and_follows_the_target() {
    use handoff_faq::Params;
    let c = catalog();
    let with = |wrong: f32| {
        let p = Params {
            calib_wrong: wrong,
            ..Params::default()
        };
        let idx = FaqIndex::build_with(&c, p.clone());
        let cal = idx.calibration().expect("calibration ran").clone();
        assert!(idx.answer_margin() >= p.margin_min);
        assert!(idx.answer_margin() <= p.calib_margin_max + 1e-6);
        assert!(idx.answer_min() >= p.answer_min);
        assert!(cal.in_scope > 0 && cal.out_of_scope > 0, "{cal:?}");
        cal
    };
    // Allowing any error answers as much as the floors allow; a stricter
    // target never answers more of the held-out questions.
    let loose = with(1.0);
    let strict = with(1e-6);
    assert!(strict.in_scope_answered <= loose.in_scope_answered);
    assert!(loose.expected_wrong <= 1.0);
    // Turned off: the thresholds are exactly the floors.
    let off = FaqIndex::build_with(
        &c,
        Params {
            calib_wrong: 0.0,
            margin_min: 0.2,
            ..Params::default()
        },
    );
    assert_eq!(off.answer_margin(), 0.2);
    assert_eq!(off.answer_min(), Params::default().answer_min);
    assert!(off.calibration().is_none());
}

/// With the sentence encoder (its model files are fetched by
/// functions/encoder/fetch-model.sh; this test fails, never skips, without them).
#[test]
fn the_encoder_ranks_by_meaning_across_languages() {
    let encoder = handoff_faq::shared_encoder().expect(
        "model files missing: run functions/encoder/fetch-model.sh or set HANDOFF_MODEL_DIR",
    );
    let c = catalog();
    let lexical = FaqIndex::build(&c);
    let index = FaqIndex::build_with_encoder(&c, handoff_faq::Params::default(), encoder);
    assert!(index.has_encoder() && !lexical.has_encoder());
    // Japanese and Spanish, which the catalog does not have: only meaning can tell.
    for (text, want) in [
        ("送料はいくらですか？", "shipping-fee"),
        ("¿Cuánto cuesta el envío?", "shipping-fee"),
        ("パスワードを忘れました", "password-reset"),
    ] {
        let ranked = index.rank(text, 2);
        assert_eq!(ranked[0].faq_id, want, "{text}: {ranked:?}");
    }
    let e = index.explain("how much do you charge for delivery");
    assert!(
        e.components.iter().any(|(n, v)| n == "encoder" && *v > 0.0),
        "{e:?}"
    );
    assert!(e.encoder_nearest_example.is_some());
    let cal = index.calibration().expect("calibrated");
    assert!(cal.in_scope > 0 && cal.out_of_scope > 0);
}

/// The words-only fast path skips the encoder only when the words are sure:
/// never for a sentence of the built-in bank, and its answer is the FAQ whose
/// own wording the message repeats.
#[test]
fn the_words_only_fast_path_is_sure_only_of_its_own_wording() {
    let encoder = handoff_faq::shared_encoder().expect(
        "model files missing: run functions/encoder/fetch-model.sh or set HANDOFF_MODEL_DIR",
    );
    let c = FaqCatalog::from_json(include_str!("../../http/sample-faq.json")).unwrap();
    let index = FaqIndex::build_with_encoder(&c, handoff_faq::Params::default(), encoder);
    let sure = index
        .sure_by_words_thresholds()
        .expect("a catalog of this size gets a fast path");
    assert!(sure.min >= 0.3 && sure.margin >= 0.1, "{sure:?}");
    let bank = handoff_faq::signals::person_examples()
        .iter()
        .copied()
        .chain(
            handoff_faq::signals::situation_examples()
                .iter()
                .map(|(_, t)| *t),
        );
    for text in bank {
        assert_eq!(index.sure_by_words(text), None, "{text}");
    }
    let mut answered = 0;
    for faq in &c.faqs {
        for q in faq.all_questions() {
            if let Some(FaqDecision::Answer { faq_id, .. }) = index.sure_by_words(q) {
                assert_eq!(faq_id, faq.id, "{q}");
                answered += 1;
            }
        }
    }
    assert!(answered > 0);
    // Without an encoder the words are the whole path: no separate fast path.
    assert_eq!(FaqIndex::build(&c).sure_by_words("배송비 얼마예요?"), None);
}
