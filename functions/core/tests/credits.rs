//! Goodwill credits and the console's tools over the in-memory store, with a manual
//! clock: business days in the business's time zone, configured limits, SMS customers.

mod common;

use common::*;
use handoff_core::auth::Agent;
use handoff_core::credit::{Credit, CreditPolicy, CreditRequest, CreditStatus, Currency, Decision};
use handoff_core::ids::{AgentId, ConversationId};
use handoff_core::model::{Outbound, Status};
use handoff_core::ports::ConversationStore;
use handoff_core::ServiceError;

fn supervisor() -> Agent {
    Agent {
        id: AgentId::parse("sup").unwrap(),
        supervisor: true,
    }
}

fn req(h: &Harness, amount: i64, id: &str) -> CreditRequest {
    let policy = &h.service.settings().credits;
    CreditRequest::parse(amount, policy.currency.as_str(), "late parcel", id, policy).unwrap()
}

async fn claimed(h: &Harness, by: &str, client: &str) -> ConversationId {
    let r = h
        .service
        .receive(web_once(None, "상담원 연결해 주세요", client))
        .await
        .unwrap();
    assert_eq!(r.conversation.status, Status::Queued);
    h.service
        .claim(&agent(by), &r.conversation.id)
        .await
        .unwrap();
    r.conversation.id
}

async fn grant(h: &Harness, by: &str, id: &ConversationId, amount: i64, rid: &str) -> Credit {
    h.service
        .grant_credit(&agent(by), id, &req(h, amount, rid))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_daily_limit_is_per_business_day_in_the_business_time_zone() {
    // Monday 23:40 in Seoul (14:40 UTC).
    let h = harness_at("2026-11-23T14:40:00Z");
    let id = claimed(&h, "a", "d-0").await;
    for (i, amount) in [30_000, 30_000, 30_000, 10_000].into_iter().enumerate() {
        let c = grant(&h, "a", &id, amount, &format!("d-{i}")).await;
        assert_eq!(c.status, CreditStatus::Granted, "credit {i}");
    }
    assert_eq!(
        grant(&h, "a", &id, 1, "d-over").await.status,
        CreditStatus::PendingApproval,
        "100,000 granted today: nothing more alone"
    );
    // Another agent has their own day.
    let other = claimed(&h, "b", "d-b").await;
    assert_eq!(
        grant(&h, "b", &other, 30_000, "b-1").await.status,
        CreditStatus::Granted
    );
    // 00:10 on Tuesday in Seoul, still Monday in UTC: a new business day.
    h.clock.set("2026-11-23T15:10:00Z".parse().unwrap());
    assert_eq!(
        grant(&h, "a", &id, 30_000, "d-next").await.status,
        CreditStatus::Granted
    );
}

#[tokio::test]
async fn configured_limits_and_currency_apply() {
    let mut settings = settings();
    settings.credits = CreditPolicy {
        per_credit: 5_000,
        daily: 8_000,
        currency: Currency::parse("USD").unwrap(),
    };
    let h = rebuild(harness(), settings);
    let id = claimed(&h, "a", "c-0").await;
    assert!(CreditRequest::parse(100, "KRW", "x", "r", &h.service.settings().credits).is_err());
    let first = grant(&h, "a", &id, 5_000, "c-1").await;
    assert_eq!(first.status, CreditStatus::Granted);
    assert_eq!(first.currency.as_str(), "USD");
    assert_eq!(
        grant(&h, "a", &id, 5_001, "c-2").await.status,
        CreditStatus::PendingApproval
    );
    assert_eq!(
        grant(&h, "a", &id, 4_000, "c-3").await.status,
        CreditStatus::PendingApproval,
        "over the day"
    );
    assert_eq!(
        grant(&h, "a", &id, 3_000, "c-4").await.status,
        CreditStatus::Granted
    );
    let texts = h.store.messages(&id, 0, 100).await.unwrap();
    assert!(
        texts.iter().any(|m| m.text.contains("50.00 USD")),
        "amounts in the currency's units"
    );
}

#[tokio::test]
async fn an_sms_customer_is_texted_each_step_and_supervisors_are_alerted() {
    let h = harness();
    let r = h
        .service
        .receive(sms("010-2222-3333", "상담원 연결해 주세요", "s-1"))
        .await
        .unwrap();
    let id = r.conversation.id.clone();
    h.service.claim(&agent("a"), &id).await.unwrap();
    let pending = grant(&h, "a", &id, 45_000, "s-big").await;
    assert_eq!(pending.status, CreditStatus::PendingApproval);
    // Agents cannot decide; a supervisor declines, once.
    assert!(matches!(
        h.service
            .decide_credit(&agent("a"), &pending.id, Decision::Approve, None)
            .await,
        Err(ServiceError::Forbidden(_))
    ));
    let declined = h
        .service
        .decide_credit(
            &supervisor(),
            &pending.id,
            Decision::Decline,
            Some("ask for photos first".into()),
        )
        .await
        .unwrap();
    assert_eq!(declined.status, CreditStatus::Declined);
    assert_eq!(
        declined.decision_note.as_deref(),
        Some("ask for photos first")
    );
    assert!(matches!(
        h.service
            .decide_credit(&supervisor(), &pending.id, Decision::Approve, None)
            .await,
        Err(ServiceError::CreditDecided("declined"))
    ));
    assert!(h
        .service
        .pending_credits(&supervisor())
        .await
        .unwrap()
        .is_empty());

    let rec = Recorder::default();
    h.service.dispatch_pending(&rec, 100).await.unwrap();
    let texts: Vec<String> = rec
        .texts()
        .into_iter()
        .filter(|(_, t)| t.contains("45,000 KRW"))
        .map(|(_, t)| t)
        .collect();
    assert_eq!(texts.len(), 2, "pending, then declined, by text: {texts:?}");
    assert!(texts[1].contains("승인되지"), "{}", texts[1]);
    let sent = rec.sent.lock().unwrap().clone();
    let approval: Vec<_> = sent
        .iter()
        .filter_map(|o| match &o.item {
            Outbound::CreditApproval(a) => Some(a.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(approval.len(), 1);
    assert_eq!(
        approval[0].link.as_deref(),
        Some(format!("https://shop.example/console#c/{id}").as_str())
    );
    assert!(
        approval[0].text.contains("45,000 KRW"),
        "{}",
        approval[0].text
    );
    let decided: Vec<_> = sent
        .iter()
        .filter_map(|o| match &o.item {
            Outbound::CreditDecided(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(decided, vec![declined]);
}

#[tokio::test]
async fn transfer_and_notes_follow_the_rules() {
    let h = harness();
    let id = claimed(&h, "a", "t-0").await;
    let b = AgentId::parse("b").unwrap();
    assert!(matches!(
        h.service.transfer(&agent("c"), &id, Some(b.clone())).await,
        Err(ServiceError::NotOwner { .. })
    ));
    let conv = h
        .service
        .transfer(&agent("a"), &id, Some(b.clone()))
        .await
        .unwrap();
    assert_eq!(conv.assigned_to, Some(b));
    assert!(matches!(
        h.service
            .grant_credit(&agent("a"), &id, &req(&h, 100, "t-1"))
            .await,
        Err(ServiceError::NotOwner { .. })
    ));
    let back = h.service.transfer(&supervisor(), &id, None).await.unwrap();
    assert_eq!((back.status, back.assigned_to), (Status::Queued, None));
    assert_eq!(
        h.service
            .agent_queue(&agent("z"), None, 10)
            .await
            .unwrap()
            .queued[0]
            .conversation_id,
        id
    );

    h.service
        .add_note(&agent("z"), &id, "  VIP  ")
        .await
        .unwrap();
    let notes = h.service.conversation_notes(&id).await.unwrap();
    assert_eq!(notes[0].text, "VIP");
    assert!(h
        .store
        .messages(&id, 0, 100)
        .await
        .unwrap()
        .iter()
        .all(|m| !m.text.contains("VIP")));
    for i in 1..handoff_core::credit::MAX_NOTES {
        h.service
            .add_note(&agent("z"), &id, &format!("n{i}"))
            .await
            .unwrap();
    }
    assert!(matches!(
        h.service.add_note(&agent("z"), &id, "one too many").await,
        Err(ServiceError::TooMany(_))
    ));
    let missing = ConversationId::parse("c_missing").unwrap();
    assert!(matches!(
        h.service.add_note(&agent("z"), &missing, "x").await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn a_canned_answer_is_in_the_customers_language() {
    let h = harness();
    let r = h
        .service
        .receive(web_once(None, "I need to talk to a person please", "e-1"))
        .await
        .unwrap();
    let id = r.conversation.id.clone();
    h.service.claim(&agent("a"), &id).await.unwrap();
    let faq = h.service.canned_answers()[0].faq_id.clone();
    let m = h
        .service
        .canned_reply(&agent("a"), &id, &faq)
        .await
        .unwrap();
    let en = h
        .service
        .catalog()
        .faq(&faq)
        .unwrap()
        .answer
        .get("en")
        .cloned()
        .unwrap();
    assert_eq!(m.text, en);
    assert!(matches!(
        h.service.canned_reply(&agent("a"), &id, "nope").await,
        Err(ServiceError::Input(e)) if e.field == "faq_id"
    ));
    assert!(matches!(
        h.service.canned_reply(&agent("b"), &id, &faq).await,
        Err(ServiceError::NotOwner { .. })
    ));
}
