//! Shared by the DynamoDB tests: a small catalog and the service over a store.
#![allow(dead_code)]

use std::sync::Arc;

use handoff_core::hours::AgentHours;
use handoff_core::ids::{ClientMessageId, ConversationId, IdempotencyKey};
use handoff_core::model::{Lang, MessageText};
use handoff_core::ports::{Clock, ConversationStore};
use handoff_core::service::{Inbound, Origin, ReplyVia};
use handoff_core::{HandoffService, Settings};
use handoff_faq::{FaqCatalog, FaqIndex};

pub const CATALOG: &str = r#"{
  "business": { "name": "Test Roasters", "name_ko": "테스트 로스터스", "languages": ["ko", "en"] },
  "faqs": [
    { "id": "shipping-fee",
      "questions": { "ko": ["배송비가 얼마예요?", "무료배송 기준이 있나요?"], "en": ["How much is shipping?", "Is there free shipping?"] },
      "answer": { "ko": "배송비는 3,000원입니다.", "en": "Shipping is 3,000 KRW." } },
    { "id": "refund-timing",
      "questions": { "ko": ["환불은 언제 들어오나요?"], "en": ["When will I get my refund?", "How long does a refund take?"] },
      "answer": { "ko": "3~5영업일 안에 환불됩니다.", "en": "Refunds take 3-5 business days." } },
    { "id": "store-hours",
      "questions": { "ko": ["매장 몇 시에 열어요?"], "en": ["What are your store hours?"] },
      "answer": { "ko": "매일 10시부터 20시까지 엽니다.", "en": "Open daily 10:00-20:00." } }
  ]
}"#;

pub fn settings() -> Settings {
    Settings {
        business_name: "Test Roasters".into(),
        business_name_ko: Some("테스트 로스터스".into()),
        hours: AgentHours::parse("24/7", "UTC").expect("hours"),
        minutes_per_customer: 5,
        queue_name: "support".into(),
        console_url: Some("https://example.test/console".into()),
        answers_url: None,
        sms_max_segments: 3,
        agent_language: Lang::Ko,
        earlier_conversations: 3,
    }
}

pub fn service(store: Arc<dyn ConversationStore>, clock: Arc<dyn Clock>) -> HandoffService {
    let catalog = FaqCatalog::from_json(CATALOG).expect("catalog");
    let index = FaqIndex::build(&catalog);
    HandoffService::new(store, clock, Arc::new(catalog), Arc::new(index), settings())
}

/// A web message with the client's own id, as the widget sends it.
pub fn web(conversation: Option<&ConversationId>, text: &str, client_id: &str) -> Inbound {
    let client = ClientMessageId::parse(client_id).expect("client id");
    Inbound {
        origin: Origin::Web { conversation: conversation.cloned() },
        text: MessageText::parse(text).expect("text"),
        idempotency: Some(IdempotencyKey::web(conversation, &client)),
        reply_via: ReplyVia::Response,
    }
}
