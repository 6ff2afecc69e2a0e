//! `handoff invoke <function> <event.json>`: run one function's handler on a test
//! event, as `sam local invoke -e` would, without Docker. By default it runs on a
//! fresh in-memory store holding the demo conversations the files in `events/`
//! refer to, with the demo token secret their customer tokens were made with.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use handoff_core::auth::Secret;
use handoff_core::ids::{AgentId, ConversationId, CustomerId, MessageId};
use handoff_core::memory::MemoryStore;
use handoff_core::model::*;
use handoff_core::ports::{Commit, ConversationStore, ConversationWrite, CustomerWrite};
use handoff_http::Request;

use crate::secrets::LocalSecrets;
use crate::server::{build_app_with, App, ScratchDir, ServeOptions};

/// The secret the customer tokens in `events/` were made with. For local events only.
pub const DEMO_TOKEN_SECRET: &str = "handoff-demo-secret-for-event-files";
pub const DEMO_JWT_SECRET: &str = "handoff-demo-jwt-secret-for-events";

/// The Twilio auth token `events/chat-api/twilio-webhook.json` was signed with.
pub const DEMO_TWILIO_TOKEN: &str = "handoff-demo-twilio-token";

pub const FUNCTIONS: &[&str] = &["chat-api", "agent-api", "sms-inbound", "alert-dispatcher"];

fn id<T>(r: Result<T, handoff_core::InputError>) -> T {
    // Fixture ids are constants known to be valid.
    r.unwrap_or_else(|e| unreachable!("fixture id: {e}"))
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn msg(conv: &ConversationId, seq: u64, from: Role, text: &str, channel: Channel) -> Message {
    Message {
        id: MessageId::generate(),
        conversation_id: conv.clone(),
        seq,
        from,
        text: text.into(),
        at: at("2026-11-23T01:00:00Z"),
        channel,
        agent_id: (from == Role::Agent).then(|| id(AgentId::parse("agent-a"))),
        faq_id: None,
        attachments: Vec::new(),
    }
}

/// (conversation, customer, status, assigned agent, customer phone, channel)
type DemoSpec = (
    &'static str,
    &'static str,
    Status,
    Option<&'static str>,
    Option<&'static str>,
    Channel,
);

/// The demo conversations the event files refer to.
pub async fn seed_demo(store: &dyn ConversationStore) -> Result<(), String> {
    let t0 = at("2026-11-23T01:00:00Z");
    let specs: [DemoSpec; 3] = [
        (
            "c_demo_bot",
            "u_demo_web",
            Status::Bot,
            None,
            None,
            Channel::Web,
        ),
        (
            "c_demo_queued",
            "u_demo_sms",
            Status::Queued,
            None,
            Some("+821012345678"),
            Channel::Sms,
        ),
        (
            "c_demo_assigned",
            "u_demo_web2",
            Status::Assigned,
            Some("agent-a"),
            None,
            Channel::Web,
        ),
    ];
    for (cid, uid, status, agent, phone, channel) in specs {
        let conv_id = id(ConversationId::parse(cid));
        if store
            .conversation(&conv_id)
            .await
            .map_err(|e| e.to_string())?
            .is_some()
        {
            continue;
        }
        let customer_id = id(CustomerId::parse(uid));
        let mut conv =
            Conversation::new(conv_id.clone(), customer_id.clone(), Lang::Ko, channel, t0);
        let mut messages = vec![
            msg(&conv_id, 1, Role::Customer, "배송비 얼마예요?", channel),
            msg(
                &conv_id,
                2,
                Role::Bot,
                "배송비는 3,000원이고, 30,000원 이상 주문하시면 무료예요.",
                channel,
            ),
        ];
        messages[1].faq_id = Some("shipping-fee".into());
        conv.faq_answers.push(FaqAnswer {
            faq_id: "shipping-fee".into(),
            seq: 2,
            at: t0,
        });
        conv.topic = Some("배송비 얼마예요?".into());
        if status != Status::Bot {
            messages.push(msg(
                &conv_id,
                3,
                Role::Customer,
                "상담원 연결해 주세요",
                channel,
            ));
            conv.queue(
                HandoffReason::CustomerAsked,
                "고객이 상담원을 요청함: \"배송비 얼마예요?\" · 봇 답변: shipping-fee".into(),
                t0,
            )
            .map_err(|e| e.to_string())?;
        }
        // The alert its handoff recorded, which the alert-dispatcher event delivers.
        let outbox = if status == Status::Queued {
            let alert = AgentAlert {
                conversation_id: conv_id.clone(),
                link: None,
                text: "고객이 상담원을 요청함: \"배송비 얼마예요?\"".into(),
                queue: "support".into(),
                priority: Priority::Normal,
                language: Lang::Ko,
                channel,
            };
            vec![handoff_core::outbox::agent_alert(alert, 1, t0)]
        } else {
            Vec::new()
        };
        if let Some(a) = agent {
            conv.claim(&id(AgentId::parse(a)))
                .map_err(|e| e.to_string())?;
        }
        conv.last_seq = messages.len() as u64;
        conv.version = 1;
        let mut customer = Customer::new(customer_id, t0);
        customer.phone = phone.and_then(|p| PhoneNumber::from_e164(p).ok());
        customer.open_conversation = Some(conv_id.clone());
        customer.version = 1;
        store
            .commit(Commit {
                conversation: Some(ConversationWrite {
                    conversation: conv,
                    expected_version: None,
                }),
                customer: Some(CustomerWrite {
                    customer,
                    expected_version: None,
                }),
                messages,
                outbox,
                ..Commit::default()
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// An app on a fresh in-memory store with the demo conversations and secrets.
pub async fn demo_app(faqs: Option<std::path::PathBuf>) -> Result<App, String> {
    let store: Arc<dyn ConversationStore> = Arc::new(MemoryStore::new());
    seed_demo(store.as_ref()).await?;
    let secrets = LocalSecrets {
        token_secret: Secret::new(DEMO_TOKEN_SECRET.as_bytes().to_vec()).map_err(str::to_string)?,
        jwt_secret: Secret::new(DEMO_JWT_SECRET.as_bytes().to_vec()).map_err(str::to_string)?,
    };
    // Deliveries of this one invocation go to a directory of its own, removed with the app.
    let scratch =
        ScratchDir::new("handoff-invoke").map_err(|e| format!("temporary directory: {e}"))?;
    let opts = ServeOptions {
        data: scratch.0.clone(),
        faqs,
    };
    let mut app = build_app_with(&opts, store, secrets)?;
    app.chat.twilio = Some(chat_api::TwilioSettings::new(DEMO_TWILIO_TOKEN, None));
    app.scratch = Some(scratch);
    Ok(app)
}

/// Runs `function` on `event`; the function's response as JSON.
pub async fn invoke(app: &App, function: &str, event: Value) -> Result<Value, String> {
    match function {
        "chat-api" | "agent-api" => {
            let req: Request = serde_json::from_value(event)
                .map_err(|e| format!("not an API Gateway HTTP API (2.0) event: {e}"))?;
            let response = if function == "chat-api" {
                app.chat.handle(req).await
            } else {
                app.agent.handle(req).await
            };
            serde_json::to_value(response).map_err(|e| e.to_string())
        }
        "sms-inbound" => {
            let event: aws_lambda_events::event::sns::SnsEvent =
                serde_json::from_value(event).map_err(|e| format!("not an SNS event: {e}"))?;
            let report = sms_inbound::handle(&app.service, event)
                .await
                .map_err(|e| e.to_string())?;
            // What the dispatcher would text (and alert) next.
            let outbox = app
                .store
                .pending_outbox(app.service.now(), 100)
                .await
                .map_err(|e| e.to_string())?;
            Ok(serde_json::json!({ "report": report, "outbox": outbox }))
        }
        "alert-dispatcher" => {
            // Delivery goes to the local deliveries file instead of SNS.
            let dispatcher =
                alert_dispatcher::Dispatcher::new(app.service.outbox(), app.delivery.clone());
            dispatcher.handle(event).await.map_err(|e| e.to_string())
        }
        other => Err(format!(
            "unknown function {other:?}; functions: {}",
            FUNCTIONS.join(", ")
        )),
    }
}
