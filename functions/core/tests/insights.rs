//! Issue 12 on the use cases with a manual clock: the EMF lines every commit emits
//! (parsed), real durations in the histograms, the SMS rating window, repeat
//! contacts within a week, and the unanswered list's expiry with the retention.

mod common;

use std::sync::Arc;

use common::*;
use handoff_core::auth::Agent;
use handoff_core::faq::FaqIndex;
use handoff_core::ids::AgentId;
use handoff_core::insights::emf::{MemorySink, NAMESPACE};
use handoff_core::insights::{day_of, unanswered_key};
use handoff_core::model::{MessageText, Status};
use handoff_core::ports::ConversationStore;
use handoff_core::records::RecordStore;
use handoff_core::service::DateRange;
use handoff_core::HandoffService;
use jiff::SignedDuration;
use serde_json::Value;

fn with_metrics(h: Harness, sink: Arc<MemorySink>, retention_days: u32) -> Harness {
    let catalog = catalog();
    let index = Arc::new(FaqIndex::build(&catalog));
    let service = HandoffService::new(h.store.clone(), h.clock.clone(), catalog, index, settings())
        .with_metrics(sink, "test-fn")
        .with_retention_days(retention_days);
    Harness { service, ..h }
}

fn supervisor() -> Agent {
    Agent {
        id: AgentId::parse("boss").unwrap(),
        supervisor: true,
    }
}

/// A metric as emitted: name, value, dimensions.
type Emitted = (String, f64, Vec<(String, String)>);

/// Every EMF document emitted, one entry per metric.
fn parse(lines: &[String]) -> Vec<Emitted> {
    let mut out = Vec::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).expect("an EMF line is JSON");
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], NAMESPACE);
        assert!(v["_aws"]["Timestamp"].as_i64().unwrap() > 0);
        let dims: Vec<String> = cw["Dimensions"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        assert_eq!(dims[0], "Service");
        let dim_values: Vec<(String, String)> = dims
            .iter()
            .map(|d| {
                (
                    d.clone(),
                    v[d].as_str().expect("dimension value").to_string(),
                )
            })
            .collect();
        for m in cw["Metrics"].as_array().unwrap() {
            let name = m["Name"].as_str().unwrap();
            assert!(m["Unit"].is_string());
            out.push((
                name.to_string(),
                v[name].as_f64().expect("metric value"),
                dim_values.clone(),
            ));
        }
    }
    out
}

fn total(parsed: &[Emitted], name: &str) -> f64 {
    parsed
        .iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, v, _)| v)
        .sum()
}

#[tokio::test]
async fn every_commit_emits_emf_lines_with_small_dimensions() {
    let sink = Arc::new(MemorySink::default());
    let h = with_metrics(harness(), sink.clone(), 30);
    let r = h
        .service
        .receive(web(None, "배송비 얼마예요?"))
        .await
        .unwrap();
    let id = r.conversation.id.clone();
    h.clock.advance(SignedDuration::from_secs(30));
    h.service
        .receive(web(Some(&id), "상담원 연결해 주세요"))
        .await
        .unwrap();
    h.clock.advance(SignedDuration::from_secs(100));
    let a = agent("agent-a");
    h.service.claim(&a, &id).await.unwrap();
    h.clock.advance(SignedDuration::from_secs(20));
    h.service
        .agent_reply(&a, &id, MessageText::parse("on it").unwrap())
        .await
        .unwrap();
    h.clock.advance(SignedDuration::from_secs(50));
    h.service.resolve(&a, &id).await.unwrap();
    h.service
        .rate(&id, handoff_core::insights::Score::new(4).unwrap(), None)
        .await
        .unwrap();

    let lines = sink.lines();
    let parsed = parse(&lines);
    assert_eq!(total(&parsed, "Conversations"), 1.0);
    assert_eq!(total(&parsed, "BotAnswers"), 1.0);
    assert_eq!(total(&parsed, "ConversationsHandedOff"), 1.0);
    assert_eq!(total(&parsed, "TimeToClaim"), 100.0);
    assert_eq!(total(&parsed, "TimeToFirstHumanReply"), 120.0);
    assert_eq!(total(&parsed, "ResolutionTime"), 200.0);
    assert_eq!(total(&parsed, "Rating"), 4.0);
    assert_eq!(total(&parsed, "SurveysSent"), 1.0);
    let by = |name: &str| -> Vec<Vec<(String, String)>> {
        parsed
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, _, d)| d.clone())
            .collect()
    };
    assert_eq!(
        by("MessagesIn")[0],
        vec![
            ("Service".into(), "test-fn".into()),
            ("Channel".into(), "web".into())
        ]
    );
    assert_eq!(
        by("Handoffs")[0][1],
        ("Reason".into(), "customer_asked".into())
    );
    // No conversation, customer or agent id anywhere in a line.
    for l in &lines {
        assert!(
            !l.contains(id.as_str()) && !l.contains("agent-a") && !l.contains("c_"),
            "{l}"
        );
    }

    // The same figures feed the report.
    let today = day_of(h.service.now());
    let r = h
        .service
        .insights(
            &supervisor(),
            DateRange {
                from: today,
                to: today,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        r.time_to_claim.p50,
        Some(120),
        "100 s is in the ≤120 s bucket"
    );
    assert_eq!(r.time_to_claim.mean, Some(100.0));
    assert_eq!(r.time_to_first_human_reply.p90, Some(120));
    assert_eq!(r.resolution_time.p50, Some(240));
    assert_eq!(r.csat.by_faq["shipping-fee"].average, Some(4.0));
    assert!(matches!(
        h.service
            .insights(
                &a,
                DateRange {
                    from: today,
                    to: today
                }
            )
            .await,
        Err(handoff_core::ServiceError::Forbidden(_))
    ));
}

#[tokio::test]
async fn an_sms_digit_is_a_rating_only_within_a_day_of_the_resolve() {
    let h = harness();
    let from = "010-5550-1234";
    h.service.receive(sms(from, "상담원", "m1")).await.unwrap();
    let id = h.store.queue(1).await.unwrap()[0].id.clone();
    let a = agent("agent-a");
    h.service.claim(&a, &id).await.unwrap();
    h.service.resolve(&a, &id).await.unwrap();
    h.clock.advance(SignedDuration::from_hours(25));
    let r = h.service.receive(sms(from, "5", "m2")).await.unwrap();
    assert_ne!(
        r.conversation.id, id,
        "too late: a normal message, a new conversation"
    );
    let conv = h.store.conversation(&id).await.unwrap().unwrap();
    assert!(conv.insight.survey.unwrap().rating.is_none());

    // Within the day: stored on the conversation with its agent, reason and channel.
    let (id2, a2) = {
        let r = h
            .service
            .receive(sms(from, "상담원 연결해 주세요", "m3"))
            .await
            .unwrap();
        (r.conversation.id.clone(), agent("agent-b"))
    };
    h.service.claim(&a2, &id2).await.unwrap();
    h.service.resolve(&a2, &id2).await.unwrap();
    h.clock.advance(SignedDuration::from_hours(23));
    let r = h.service.receive(sms(from, "２", "m4")).await.unwrap();
    assert_eq!(
        r.conversation.id, id2,
        "the rating joins the resolved conversation"
    );
    assert_eq!(r.conversation.status, Status::Resolved);
    let rating = r.conversation.insight.survey.unwrap().rating.unwrap();
    assert_eq!(rating.score.get(), 2);
    assert_eq!(rating.agent.as_ref().map(|a| a.as_str()), Some("agent-b"));
    assert_eq!(rating.channel, handoff_core::model::Channel::Sms);
    assert!(rating.reason.is_some());
    assert_eq!(r.replies.len(), 1, "one short thanks");
}

#[tokio::test]
async fn repeats_within_a_week_and_unanswered_texts_expire_with_retention() {
    let sink = Arc::new(MemorySink::default());
    let h = with_metrics(harness(), sink, 30);
    let from = "010-5550-9999";
    h.service
        .receive(sms(from, "배송비 얼마예요?", "r1"))
        .await
        .unwrap();
    h.service.receive(sms(from, "상담원", "r2")).await.unwrap();
    let id = h.store.queue(1).await.unwrap()[0].id.clone();
    let a = agent("agent-a");
    h.service.claim(&a, &id).await.unwrap();
    h.service.resolve(&a, &id).await.unwrap();
    h.clock.advance(SignedDuration::from_hours(24 * 6));
    h.service
        .receive(sms(from, "asdf qwer", "r3"))
        .await
        .unwrap();
    let today = day_of(h.service.now());
    let record = h
        .store
        .record(&unanswered_key(today))
        .await
        .unwrap()
        .unwrap();
    let expires = record.expires_at.unwrap();
    assert!(
        expires.duration_since(h.service.now()) >= SignedDuration::from_hours(24 * 30),
        "kept as long as the retention, no longer than a day past it"
    );
    assert!(expires.duration_since(h.service.now()) <= SignedDuration::from_hours(24 * 31));
    let r = h
        .service
        .insights(
            &supervisor(),
            DateRange {
                from: today,
                to: today,
            },
        )
        .await
        .unwrap();
    assert_eq!(r.repeat_contacts.total, 1);
    assert_eq!(r.repeat_contacts.by[0].key, "faq:shipping-fee");
    assert_eq!(r.top_unanswered[0].examples, vec!["asdf qwer".to_string()]);
    // After the retention the texts are gone from the report; the counts stay.
    h.clock.advance(SignedDuration::from_hours(24 * 32));
    let r = h
        .service
        .insights(
            &supervisor(),
            DateRange {
                from: today,
                to: today,
            },
        )
        .await
        .unwrap();
    assert!(r.top_unanswered.is_empty());
    assert_eq!(r.unanswered, 1);
}
