//! TwilioDelivery against a small HTTP server on 127.0.0.1 that plays Twilio's Messages
//! API: a real socket and the real client; the server records requests and answers as
//! scripted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use handoff_core::ids::ConversationId;
use handoff_core::model::{AgentAlert, Channel, Lang, Outbound, OutboxItem, PhoneNumber, Priority};
use handoff_core::ports::Delivery;
use handoff_core::DeliveryError;
use handoff_twilio::{RoutedDelivery, TwilioAccount, TwilioDelivery};

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers: (status, JSON body). When the script is empty: 201 with a message SID.
#[derive(Clone, Default)]
struct FakeTwilio {
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<(u16, String)>>>,
}

impl FakeTwilio {
    async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move {
                    let _ = me.serve(stream).await;
                });
            }
        });
        format!("http://{addr}")
    }

    fn answer_next(&self, status: u16, body: &str) {
        self.script
            .lock()
            .unwrap()
            .push_back((status, body.to_string()));
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// One request per connection, then close.
    async fn serve(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(buf.len() < 64 * 1024, "request head too large");
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or("").split(' ');
        let method = request_line.next().unwrap_or("").to_string();
        let path = request_line.next().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
        self.requests.lock().unwrap().push(Recorded {
            method,
            path,
            headers,
            body,
        });
        let (status, body) = self.script.lock().unwrap().pop_front().unwrap_or((
            201,
            r#"{"sid":"SM00000000000000000000000000000001","status":"queued"}"#.into(),
        ));
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    }
}

const SID: &str = "AC00000000000000000000000000000000";
const TOKEN: &str = "test-auth-token";
const FROM: &str = "+12125550100";
const TO: &str = "+821000000101";

fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).unwrap()
}

fn delivery(base: &str) -> TwilioDelivery {
    let account = TwilioAccount::new(SID, TOKEN, phone(FROM)).with_api_base(base);
    TwilioDelivery::new(account)
        .unwrap()
        .with_timeout(Duration::from_secs(5))
}

fn conv() -> ConversationId {
    ConversationId::parse("c_twilio_test").unwrap()
}

fn text_item(text: &str) -> OutboxItem {
    OutboxItem {
        id: "sms:c_twilio_test:2".into(),
        created_at: "2026-11-23T01:00:00Z".parse().unwrap(),
        item: Outbound::CustomerSms {
            conversation_id: conv(),
            to: phone(TO),
            text: text.into(),
        },
    }
}

fn alert_item() -> OutboxItem {
    OutboxItem {
        id: "alert:c_twilio_test:1".into(),
        created_at: "2026-11-23T01:00:00Z".parse().unwrap(),
        item: Outbound::AgentAlert(AgentAlert {
            conversation_id: conv(),
            link: None,
            text: "고객이 상담원을 요청함".into(),
            queue: "support".into(),
            priority: Priority::Normal,
            language: Lang::Ko,
            channel: Channel::Sms,
        }),
    }
}

fn form(body: &str) -> Vec<(String, String)> {
    handoff_core::sms::parse_form(body).unwrap()
}

#[tokio::test]
async fn posts_the_text_to_the_messages_resource_with_basic_auth() {
    let twilio = FakeTwilio::default();
    let base = twilio.start().await;
    let d = delivery(&base);
    d.deliver(&text_item(
        "배송비는 3,000원이에요. Free over 30,000 KRW & more",
    ))
    .await
    .unwrap();
    let requests = twilio.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/2010-04-01/Accounts/{SID}/Messages.json"));
    assert_eq!(
        r.header("authorization"),
        Some(format!("Basic {}", BASE64.encode(format!("{SID}:{TOKEN}"))).as_str())
    );
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    assert_eq!(
        form(&r.body),
        vec![
            ("To".to_string(), TO.to_string()),
            ("From".to_string(), FROM.to_string()),
            (
                "Body".to_string(),
                "배송비는 3,000원이에요. Free over 30,000 KRW & more".to_string()
            ),
        ]
    );
    let sid = d.send_sms(&phone(TO), "again").await.unwrap();
    assert_eq!(sid, "SM00000000000000000000000000000001");
    assert_eq!(twilio.requests().len(), 2);
}

#[tokio::test]
async fn a_server_error_is_transient_and_the_retry_goes_through() {
    let twilio = FakeTwilio::default();
    let base = twilio.start().await;
    twilio.answer_next(
        500,
        r#"{"code":20500,"message":"Internal Server Error","status":500}"#,
    );
    let d = delivery(&base);
    let err = d.deliver(&text_item("hello")).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err:?}");
    assert!(err.to_string().contains("500"), "{err}");
    d.deliver(&text_item("hello")).await.unwrap();
    assert_eq!(twilio.requests().len(), 2);
}

#[tokio::test]
async fn throttling_is_transient() {
    let twilio = FakeTwilio::default();
    let base = twilio.start().await;
    twilio.answer_next(429, r#"{"code":20429,"message":"Too Many Requests"}"#);
    let err = delivery(&base)
        .deliver(&text_item("hello"))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn a_rejected_number_is_permanent_and_the_error_does_not_quote_it() {
    let twilio = FakeTwilio::default();
    let base = twilio.start().await;
    twilio.answer_next(
        400,
        &format!(
            r#"{{"code":21211,"message":"The 'To' number {TO} is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}}"#
        ),
    );
    let err = delivery(&base)
        .deliver(&text_item("hello"))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Permanent(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("400") && msg.contains("21211"), "{msg}");
    assert!(!msg.contains("00000101"), "{msg}");
}

#[tokio::test]
async fn an_unreachable_api_is_transient() {
    // Bind and drop: nothing listens on this port any more.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = delivery(&format!("http://{addr}"))
        .deliver(&text_item("hello"))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn alerts_are_not_texted_through_twilio_unless_routed() {
    let twilio = FakeTwilio::default();
    let base = twilio.start().await;
    let d = Arc::new(delivery(&base));
    let err = d.deliver(&alert_item()).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Permanent(_)), "{err:?}");
    assert!(twilio.requests().is_empty());

    let alerts = Arc::new(Recorder::default());
    let routed = RoutedDelivery::new(alerts.clone(), d);
    routed.deliver(&alert_item()).await.unwrap();
    routed.deliver(&text_item("hello")).await.unwrap();
    assert_eq!(alerts.ids(), vec!["alert:c_twilio_test:1".to_string()]);
    let requests = twilio.requests();
    assert_eq!(requests.len(), 1);
    assert!(form(&requests[0].body).contains(&("Body".into(), "hello".into())));
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn ids(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[async_trait]
impl Delivery for Recorder {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        self.0.lock().unwrap().push(item.id.clone());
        Ok(())
    }
}
