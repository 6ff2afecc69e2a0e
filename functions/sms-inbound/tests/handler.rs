//! The handler on the event files in `events/sms-inbound/` (the same ones `handoff
//! invoke sms-inbound` runs), over the in-memory store and the sample catalog.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::sns::SnsEvent;
use jiff::Timestamp;

use handoff_core::auth::Secret;
use handoff_core::ids::{AgentId, ConversationId, CustomerId, IdempotencyKey};
use handoff_core::memory::MemoryStore;
use handoff_core::model::{
    Conversation, Customer, IdempotencyRecord, Message, Outbound, OutboxItem, PhoneNumber, Role,
    Status,
};
use handoff_core::ports::{Commit, ConversationStore, ManualClock, OutboxStore};
use handoff_core::{HandoffService, StoreError};
use handoff_http::config::{load_catalog, Config};
use sms_inbound::{handle, Outcome, SmsInboundError};

const FAQ_KO: &str = include_str!("../../../events/sms-inbound/faq-ko.json");
const FAQ_EN: &str = include_str!("../../../events/sms-inbound/faq-en.json");
const STOP: &str = include_str!("../../../events/sms-inbound/stop.json");
const HELP: &str = include_str!("../../../events/sms-inbound/help.json");
const START: &str = include_str!("../../../events/sms-inbound/start.json");
const DUPLICATE: &str = include_str!("../../../events/sms-inbound/duplicate.json");
const AGENT: &str = include_str!("../../../events/sms-inbound/agent.json");

/// Monday 2026-11-23 10:00 KST: agents are working.
const OPEN: &str = "2026-11-23T01:00:00Z";
const KO_PHONE: &str = "+821000000101";
const KO_PHONE_2: &str = "+821000000102";
const US_PHONE: &str = "+12125550101";

fn service_on(store: Arc<dyn ConversationStore>) -> HandoffService {
    let catalog = load_catalog(None).unwrap();
    let secret = Secret::new(b"sms-inbound-tests-secret-0123456789".to_vec()).unwrap();
    let config = Config::with_catalog(&HashMap::new(), catalog, secret).unwrap();
    let clock = Arc::new(ManualClock::new(OPEN.parse().unwrap()));
    HandoffService::new(store, clock, config.catalog, config.index, config.settings)
}

struct Harness {
    service: HandoffService,
    store: Arc<MemoryStore>,
}

fn harness() -> Harness {
    let store = Arc::new(MemoryStore::new());
    Harness {
        service: service_on(store.clone()),
        store,
    }
}

fn event(json: &str) -> SnsEvent {
    serde_json::from_str(json).unwrap()
}

/// An event with one record whose SNS message is `message`.
fn event_with_message(message: &str) -> SnsEvent {
    let mut v: serde_json::Value = serde_json::from_str(FAQ_KO).unwrap();
    v["Records"][0]["Sns"]["Message"] = message.into();
    serde_json::from_value(v).unwrap()
}

fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).unwrap()
}

impl Harness {
    /// Texts waiting in the outbox, as (to, text).
    async fn texts(&self) -> Vec<(String, String)> {
        self.outbox()
            .await
            .into_iter()
            .filter_map(|o| match o.item {
                Outbound::CustomerSms { to, text, .. } => Some((to.as_str().to_string(), text)),
                _ => None,
            })
            .collect()
    }
    async fn outbox(&self) -> Vec<OutboxItem> {
        let later: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        self.store.pending_outbox(later, 100).await.unwrap()
    }
    async fn customer(&self, p: &str) -> Option<Customer> {
        self.store.customer_by_phone(&phone(p)).await.unwrap()
    }
    async fn transcript(&self, p: &str) -> Vec<Message> {
        let c = self.customer(p).await.expect("customer stored");
        let id = c.open_conversation.expect("open conversation");
        self.store.messages(&id, 0, 100).await.unwrap()
    }
}

#[tokio::test]
async fn korean_faq_is_answered_by_text() {
    let h = harness();
    let report = handle(&h.service, event(FAQ_KO)).await.unwrap();
    assert_eq!((report.stored, report.repeats, report.rejected), (1, 0, 0));
    let r = &report.records[0];
    assert_eq!(r.outcome, Outcome::Stored);
    assert_eq!(r.inbound_message_id.as_deref(), Some("evt-sms-faq-ko-1"));
    assert_eq!(r.status, Some(Status::Bot));
    assert_eq!(r.replies, 1);
    let texts = h.texts().await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0].0, KO_PHONE);
    assert!(texts[0].1.contains("3,000원"), "{}", texts[0].1);
    // The stored idempotency key is the provider's message id.
    let key = IdempotencyKey::sms("sns", "evt-sms-faq-ko-1");
    assert!(h.store.idempotency(&key).await.unwrap().is_some());
    // The report never carries the number or the text.
    let json = serde_json::to_string(&report).unwrap();
    assert!(
        !json.contains("00000101") && !json.contains("배송비"),
        "{json}"
    );
}

#[tokio::test]
async fn english_faq_is_answered_in_english() {
    let h = harness();
    let report = handle(&h.service, event(FAQ_EN)).await.unwrap();
    assert_eq!(report.stored, 1);
    let texts = h.texts().await;
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].0, US_PHONE);
    assert!(texts[0].1.contains("3,000 KRW"), "{}", texts[0].1);
}

#[tokio::test]
async fn stop_opts_out_with_one_confirmation_and_start_opts_back_in() {
    let h = harness();
    handle(&h.service, event(FAQ_KO)).await.unwrap();
    let report = handle(&h.service, event(STOP)).await.unwrap();
    assert_eq!(report.stored, 1);
    assert!(h.customer(KO_PHONE).await.unwrap().sms_opted_out);
    let texts = h.texts().await;
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[1].1.contains("START"), "{}", texts[1].1);

    // Opted out: a question is stored and answered in the conversation, but not texted.
    let mut again: serde_json::Value = serde_json::from_str(FAQ_KO).unwrap();
    let msg = again["Records"][0]["Sns"]["Message"]
        .as_str()
        .unwrap()
        .replace("evt-sms-faq-ko-1", "evt-sms-faq-ko-2");
    again["Records"][0]["Sns"]["Message"] = msg.into();
    let again: SnsEvent = serde_json::from_value(again).unwrap();
    assert_eq!(handle(&h.service, again).await.unwrap().stored, 1);
    assert_eq!(h.texts().await.len(), 2, "nothing texted after STOP");

    let report = handle(&h.service, event(START)).await.unwrap();
    assert_eq!(report.stored, 1);
    assert!(!h.customer(KO_PHONE).await.unwrap().sms_opted_out);
    let texts = h.texts().await;
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[2].0, KO_PHONE);
}

#[tokio::test]
async fn help_names_the_business() {
    let h = harness();
    let report = handle(&h.service, event(HELP)).await.unwrap();
    assert_eq!(report.stored, 1);
    let texts = h.texts().await;
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].0, US_PHONE);
    assert!(texts[0].1.contains("Dalbit Coffee"), "{}", texts[0].1);
    assert!(texts[0].1.contains("STOP"), "{}", texts[0].1);
}

#[tokio::test]
async fn a_redelivered_text_is_stored_once_and_answered_once() {
    let h = harness();
    let report = handle(&h.service, event(DUPLICATE)).await.unwrap();
    assert_eq!((report.stored, report.repeats, report.rejected), (1, 1, 0));
    assert_eq!(report.records[1].outcome, Outcome::Repeat);
    assert_eq!(
        report.records[0].conversation_id,
        report.records[1].conversation_id
    );
    // And once more in a later invocation (Lambda's retry of the event).
    let report = handle(&h.service, event(DUPLICATE)).await.unwrap();
    assert_eq!((report.stored, report.repeats), (0, 2));

    let transcript = h.transcript(KO_PHONE_2).await;
    assert_eq!(
        transcript.iter().map(|m| m.from).collect::<Vec<_>>(),
        vec![Role::Customer, Role::Bot],
        "stored once"
    );
    let texts = h.texts().await;
    assert_eq!(texts.len(), 1, "one answer: {texts:?}");
    assert_eq!(texts[0].0, KO_PHONE_2);
}

#[tokio::test]
async fn zero_asks_for_a_person() {
    let h = harness();
    let report = handle(&h.service, event(AGENT)).await.unwrap();
    assert_eq!(report.records[0].status, Some(Status::Queued));
    let queue = h.store.queue(10).await.unwrap();
    assert_eq!(queue.len(), 1);
    let outbox = h.outbox().await;
    assert!(
        outbox
            .iter()
            .any(|o| matches!(o.item, Outbound::AgentAlert(_))),
        "agents are alerted"
    );
    let texts = h.texts().await;
    assert_eq!(texts.len(), 1, "the customer is told they wait: {texts:?}");
    assert_eq!(texts[0].0, KO_PHONE_2);
}

#[tokio::test]
async fn malformed_records_are_rejected_not_retried_and_nothing_is_stored() {
    let h = harness();
    let good = serde_json::json!({
        "originationNumber": "+821000009876",
        "destinationNumber": "+12125550100",
        "messageBody": "배송비 얼마예요?",
        "inboundMessageId": "evt-bad",
    });
    let edit = |field: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[field] = value;
        v.to_string()
    };
    let cases = [
        ("not JSON", "hello".to_string(), "not valid JSON"),
        (
            "no number",
            {
                let mut v = good.clone();
                v.as_object_mut().unwrap().remove("originationNumber");
                v.to_string()
            },
            "`originationNumber`",
        ),
        (
            "local number",
            edit("originationNumber", "010-0000-9876".into()),
            "`originationNumber`",
        ),
        ("empty body", edit("messageBody", "   ".into()), "empty"),
    ];
    for (name, message, why) in cases {
        let report = handle(&h.service, event_with_message(&message))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (report.stored, report.rejected),
            (0, 1),
            "{name}: {report:?}"
        );
        let r = &report.records[0];
        assert_eq!(r.outcome, Outcome::Rejected);
        let reason = r.reason.as_deref().unwrap();
        assert!(reason.contains(why), "{name}: {reason}");
        assert!(
            !reason.contains("9876") && !reason.contains("배송비"),
            "{name}: {reason}"
        );
    }
    assert!(h.customer("+821000009876").await.is_none());
    assert!(h.outbox().await.is_empty());
    assert!(h.store.queue(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_store_fails_the_event_so_lambda_retries() {
    let service = service_on(Arc::new(DownStore { permanent: false }));
    let err = handle(&service, event(FAQ_KO)).await.unwrap_err();
    let SmsInboundError::Transient { sns_message_id, .. } = &err;
    assert_eq!(sns_message_id, "5f1e8a52-0b7e-5d4b-9c41-000000000001");
    assert!(err.to_string().contains("retried"), "{err}");
}

#[tokio::test]
async fn a_request_the_store_refuses_for_good_is_rejected_not_retried() {
    let service = service_on(Arc::new(DownStore { permanent: true }));
    let report = handle(&service, event(FAQ_KO)).await.expect("no retry");
    assert_eq!((report.stored, report.rejected), (0, 1));
    assert_eq!(report.records[0].outcome, Outcome::Rejected);
}

/// A store whose backend cannot be reached, or (`permanent`) refuses every request
/// as invalid.
struct DownStore {
    permanent: bool,
}

impl DownStore {
    fn down<T>(&self) -> Result<T, StoreError> {
        Err(match self.permanent {
            true => StoreError::Invalid("ValidationException".into()),
            false => StoreError::Unavailable("connection refused".into()),
        })
    }
}

#[async_trait]
impl ConversationStore for DownStore {
    async fn conversation(&self, _: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.down()
    }
    async fn commit(&self, _: Commit) -> Result<(), StoreError> {
        self.down()
    }
    async fn messages(
        &self,
        _: &ConversationId,
        _: u64,
        _: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.down()
    }
    async fn idempotency(
        &self,
        _: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.down()
    }
    async fn queue(&self, _: usize) -> Result<Vec<Conversation>, StoreError> {
        self.down()
    }
    async fn queue_after(
        &self,
        _: &handoff_core::queue_position::QueuePosition,
        _: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.down()
    }
    async fn assigned_to(&self, _: &AgentId, _: usize) -> Result<Vec<Conversation>, StoreError> {
        self.down()
    }
    async fn customer(&self, _: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.down()
    }
    async fn customer_by_phone(&self, _: &PhoneNumber) -> Result<Option<Customer>, StoreError> {
        self.down()
    }
    async fn customer_conversations(
        &self,
        _: &CustomerId,
        _: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.down()
    }
}

#[async_trait]
impl OutboxStore for DownStore {
    async fn pending_outbox(&self, _: Timestamp, _: usize) -> Result<Vec<OutboxItem>, StoreError> {
        self.down()
    }
    async fn lease_outbox(&self, _: &str, _: Timestamp, _: Timestamp) -> Result<bool, StoreError> {
        self.down()
    }
    async fn complete_outbox(&self, _: &str, _: Timestamp) -> Result<(), StoreError> {
        self.down()
    }
    async fn release_outbox(&self, _: &str) -> Result<(), StoreError> {
        self.down()
    }
}

#[async_trait]
impl handoff_core::records::RecordStore for DownStore {
    async fn record(
        &self,
        _: &handoff_core::records::RecordKey,
    ) -> Result<Option<handoff_core::records::Record>, StoreError> {
        self.down()
    }
    async fn put_record(&self, _: handoff_core::records::RecordWrite) -> Result<(), StoreError> {
        self.down()
    }
    async fn count(
        &self,
        _: &handoff_core::records::RecordKey,
        _: u32,
        _: Timestamp,
    ) -> Result<handoff_core::records::Count, StoreError> {
        self.down()
    }
}
