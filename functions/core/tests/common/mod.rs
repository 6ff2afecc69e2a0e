#![allow(dead_code)]
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use handoff_core::model::{Outbound, OutboxItem};
use handoff_core::ports::Delivery;
use handoff_core::DeliveryError;

use handoff_core::auth::Agent;
use handoff_core::faq::{FaqCatalog, FaqIndex, Lang};
use handoff_core::hours::AgentHours;
use handoff_core::ids::{AgentId, ClientMessageId, ConversationId, IdempotencyKey};
use handoff_core::memory::MemoryStore;
use handoff_core::model::MessageText;
use handoff_core::ports::ManualClock;
use handoff_core::service::{Inbound, Origin, ReplyVia};
use handoff_core::sms::{Country, PhoneNumber};
use handoff_core::{HandoffService, Settings};

pub const CATALOG: &str = r#"{
  "business": {"name": "Dalbit Coffee", "name_ko": "달빛커피", "timezone": "Asia/Seoul", "agent_hours": "Mon-Fri 09:00-18:00", "languages": ["ko", "en"]},
  "faqs": [
    {"id": "shipping-fee",
     "questions": {"ko": ["배송비 얼마예요?", "배송비가 있나요?", "무료배송은 얼마부터예요?", "택배비 얼마인가요?"],
                   "en": ["How much is shipping?", "Do you charge for delivery?", "When is shipping free?"]},
     "answer": {"ko": "배송비는 3,000원이고, 30,000원 이상 주문하시면 무료예요.", "en": "Shipping is 3,000 KRW, free over 30,000 KRW."}},
    {"id": "refund-policy",
     "questions": {"ko": ["환불 되나요?", "반품하고 싶어요", "원두가 입맛에 안 맞으면 환불돼요?"],
                   "en": ["Can I get a refund?", "How do I return an item?", "What is your return policy?"]},
     "answer": {"ko": "받으신 날부터 7일 안에 미개봉 상품은 전액 환불해 드려요.", "en": "Unopened items are refunded in full within 7 days."}},
    {"id": "delivery-time",
     "questions": {"ko": ["배송 얼마나 걸려요?", "언제 도착해요?", "오늘 주문하면 언제 받아요?"],
                   "en": ["How long does delivery take?", "When will my order arrive?"]},
     "answer": {"ko": "보통 1~2일 안에 도착해요.", "en": "Usually 1-2 days."}},
    {"id": "decaf",
     "questions": {"ko": ["디카페인 원두 있어요?", "카페인 없는 커피 팔아요?"], "en": ["Do you sell decaf?", "Do you have caffeine-free coffee?"]},
     "answer": {"ko": "네, 디카페인 원두가 있어요.", "en": "Yes, we have decaf."}}
  ]
}"#;

/// Monday 2026-11-23 10:00 KST: agents are working.
pub const OPEN: &str = "2026-11-23T01:00:00Z";
/// Saturday 2026-11-28 10:00 KST: nobody is in.
pub const CLOSED: &str = "2026-11-28T01:00:00Z";

pub struct Harness {
    pub service: HandoffService,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
}

pub fn catalog() -> Arc<FaqCatalog> {
    Arc::new(FaqCatalog::from_json(CATALOG).unwrap())
}

pub fn settings() -> Settings {
    Settings {
        business_name: "Dalbit Coffee".into(),
        business_name_ko: Some("달빛커피".into()),
        hours: AgentHours::parse("Mon-Fri 09:00-18:00", "Asia/Seoul").unwrap(),
        escalate_after: jiff::SignedDuration::from_mins(5),
        queue_name: "support".into(),
        console_url: Some("https://shop.example/console".into()),
        answers_url: Some("https://shop.example".into()),
        sms_max_segments: 2,
        agent_language: Lang::Ko,
        earlier_conversations: 5,
        rate_limits: handoff_core::limits::RateLimits::off(),
        alert_coalesce: jiff::SignedDuration::ZERO,
        credits: Default::default(),
    }
}

pub fn harness_at(now: &str) -> Harness {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(now.parse().unwrap()));
    let catalog = catalog();
    let index = Arc::new(FaqIndex::build(&catalog));
    let service = HandoffService::new(store.clone(), clock.clone(), catalog, index, settings());
    Harness {
        service,
        store,
        clock,
    }
}

pub fn harness() -> Harness {
    harness_at(OPEN)
}

pub fn web(conversation: Option<&ConversationId>, text: &str) -> Inbound {
    Inbound {
        origin: Origin::Web {
            conversation: conversation.cloned(),
        },
        text: MessageText::parse(text).unwrap(),
        idempotency: None,
        reply_via: ReplyVia::Response,
        sender: Default::default(),
    }
}

pub fn web_once(conversation: Option<&ConversationId>, text: &str, client_id: &str) -> Inbound {
    let mut i = web(conversation, text);
    let client = ClientMessageId::parse(client_id).unwrap();
    i.idempotency = Some(match conversation {
        Some(c) => IdempotencyKey::web(c, &client),
        None => IdempotencyKey::web_first(None, &client, text),
    });
    i
}

/// The key phone codes are hashed with in these tests.
pub fn phone_codes() -> handoff_core::verification::PhoneCodes {
    handoff_core::auth::ConversationTokens::new(
        handoff_core::auth::Secret::new(b"test-secret-0123456789".to_vec()).unwrap(),
    )
    .phone_codes()
}

/// The 6-digit code in the last text sent to `to`.
pub fn code_sent_to(delivery: &Recorder, to: &str) -> handoff_core::verification::PhoneCode {
    let text = delivery
        .texts()
        .into_iter()
        .rev()
        .find(|(phone, _)| phone == to)
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no text to {to}"));
    let digits: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text:?}"))
        .to_string();
    handoff_core::verification::PhoneCode::parse(&digits).unwrap()
}

/// Asks for a code for `phone`, reads it from the texts and proves it.
pub async fn verify_phone(h: &Harness, id: &ConversationId, phone_text: &str) {
    let number = phone(phone_text);
    let e164 = number.as_str().to_string();
    h.service
        .request_phone_code(id, number, &phone_codes(), None)
        .await
        .unwrap();
    let delivery = Recorder::default();
    h.service.dispatch_pending(&delivery, 50).await.unwrap();
    let code = code_sent_to(&delivery, &e164);
    h.service
        .verify_phone(id, &code, &phone_codes())
        .await
        .unwrap();
}

pub fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::parse(s, Country::KR).unwrap()
}

pub fn sms(from: &str, text: &str, message_id: &str) -> Inbound {
    Inbound {
        origin: Origin::Sms { phone: phone(from) },
        text: MessageText::parse(text).unwrap(),
        idempotency: Some(IdempotencyKey::sms("sns", message_id)),
        reply_via: ReplyVia::SmsOutbox,
        sender: Default::default(),
    }
}

pub fn agent(id: &str) -> Agent {
    Agent {
        id: AgentId::parse(id).unwrap(),
        supervisor: false,
    }
}

/// Records what the outbox delivers; can fail the next sends.
#[derive(Default)]
pub struct Recorder {
    pub sent: Mutex<Vec<OutboxItem>>,
    pub fail_next: Mutex<usize>,
}

#[async_trait]
impl Delivery for Recorder {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        let mut fail = self.fail_next.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return Err(DeliveryError::Transient("simulated outage".into()));
        }
        self.sent.lock().unwrap().push(item.clone());
        Ok(())
    }
}

impl Recorder {
    pub fn alerts(&self) -> Vec<handoff_core::model::AgentAlert> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter_map(|o| match &o.item {
                Outbound::AgentAlert(a) => Some(a.clone()),
                _ => None,
            })
            .collect()
    }
    pub fn texts(&self) -> Vec<(String, String)> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter_map(|o| match &o.item {
                Outbound::CustomerSms { to, text, .. } => {
                    Some((to.as_str().to_string(), text.clone()))
                }
                _ => None,
            })
            .collect()
    }
}

/// The same store and clock with other settings.
pub fn rebuild(h: Harness, settings: Settings) -> Harness {
    let catalog = catalog();
    let index = Arc::new(FaqIndex::build(&catalog));
    let service = HandoffService::new(h.store.clone(), h.clock.clone(), catalog, index, settings);
    Harness { service, ..h }
}
