//! Test support for the AWS crates (feature `testing`): a real DynamoDB/SNS API from
//! moto's standalone server, never mocks.
//!
//! [`moto`] uses `HANDOFF_MOTO_URL` when set, else starts `moto_server` on a free port
//! (`pip install "moto[server]"`) once per test binary; the server exits with the tests.
//! Tests isolate themselves with a fresh AWS account each ([`Moto::account`]): moto
//! keeps one set of tables and topics per account, chosen by the `x-moto-account-id`
//! header that [`AccountHeader`] adds to every request.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_dynamodb::config::{ConfigBag, Credentials, Intercept, Region, RuntimeComponents};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const REGION: &str = "us-east-1";

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    _server: Option<std::sync::Mutex<Child>>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

/// The moto server of this test binary: `HANDOFF_MOTO_URL`, or one started now.
/// Panics (never skips) when neither works.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| match std::env::var("HANDOFF_MOTO_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let url = url.trim().trim_end_matches('/').to_string();
            wait_until_up(&url, Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("HANDOFF_MOTO_URL={url} does not answer: {e}"));
            Moto { url, _server: None }
        }
        _ => start_moto(),
    })
}

fn start_moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free local port for moto_server: {e}"));
    // moto's own `moto_server` serves requests on threads with no lock around the
    // DynamoDB backend, so two conditional writes racing on one item can both pass
    // their condition: real DynamoDB never allows that. The same app is served here
    // with one request at a time (SERIAL_MOTO). The shell waits on its stdin, a pipe from this
    // process: when the tests exit the pipe closes and the shell stops the server.
    let child = Command::new("sh")
        .arg("-c")
        .arg("python3 -c \"$1\" \"$2\" >/dev/null 2>&1 & pid=$!; read _ignored; kill $pid 2>/dev/null")
        .arg("sh")
        .arg(SERIAL_MOTO)
        .arg(port.to_string())
        .env("MOTO_PORT", port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sh for moto_server: {e}"));
    let url = format!("http://127.0.0.1:{port}");
    if let Err(e) = wait_until_up(&url, Duration::from_secs(30)) {
        panic!(
            "moto (python3 with moto[server]) did not answer on {url}: {e}. Install it with \
             `pip install \"moto[server]\"` for the python3 on PATH, or set HANDOFF_MOTO_URL to a running \
             moto server started with `python3 functions/store-dynamodb/moto_serial.py PORT` (plain \
             `moto_server` lets racing conditional writes both succeed)"
        );
    }
    Moto {
        url,
        _server: Some(std::sync::Mutex::new(child)),
    }
}

/// moto's server app behind a lock: requests are handled one at a time
/// (`moto_serial.py` beside `src/`; the test runner can start the same file).
pub const SERIAL_MOTO: &str = include_str!("../moto_serial.py");

fn wait_until_up(url: &str, within: Duration) -> Result<(), String> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < within {
        match http(url, "GET", "/moto-api/", &[], "") {
            Ok((status, _)) if status < 500 => return Ok(()),
            Ok((status, _)) => last = format!("status {status}"),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing after {:?} ({last})", within))
}

/// A minimal HTTP/1.1 client for moto's own API (plain HTTP on loopback).
/// Returns the status and the body.
pub fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    let host = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let mut stream = TcpStream::connect(host).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or("no HTTP header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Moto {
    /// A fresh 12-digit account: its own tables and topics.
    pub fn account(&self) -> String {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(
            &(
                std::process::id(),
                nanos,
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ),
            &mut hasher,
        );
        let r = std::hash::Hasher::finish(&hasher);
        format!("{:012}", r % 900_000_000_000 + 100_000_000_000)
    }

    /// Shared configuration pointing at this server with dummy credentials.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// A DynamoDB client for `account`.
    pub async fn dynamodb(&self, account: &str) -> aws_sdk_dynamodb::Client {
        let sdk = self.sdk_config().await;
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .interceptor(AccountHeader(account.to_string()))
                .build(),
        )
    }

    /// `GET /moto-api/data.json`: everything moto holds, all accounts.
    pub fn data(&self) -> serde_json::Value {
        let (status, body) = http(&self.url, "GET", "/moto-api/data.json", &[], "")
            .unwrap_or_else(|e| panic!("GET /moto-api/data.json: {e}"));
        assert_eq!(status, 200, "GET /moto-api/data.json: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("data.json is not JSON: {e}"))
    }

    /// Calls a JSON-protocol API (e.g. `DynamoDBStreams_20120810.GetRecords`) in `account`.
    pub fn call(&self, account: &str, target: &str, body: &serde_json::Value) -> serde_json::Value {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20250101/{REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
        );
        let (status, text) = http(
            &self.url,
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", target),
                ("Authorization", &auth),
                ("x-moto-account-id", account),
            ],
            &body.to_string(),
        )
        .unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(status, 200, "{target}: {text}");
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{target} answered non-JSON {text:?}: {e}"))
    }

    /// Every record of the table's stream so far, in the shape Lambda hands them over
    /// (DynamoDB Streams' `Records` plus `eventSourceARN`).
    pub fn stream_records(&self, account: &str, stream_arn: &str) -> Vec<serde_json::Value> {
        let desc = self.call(
            account,
            "DynamoDBStreams_20120810.DescribeStream",
            &serde_json::json!({ "StreamArn": stream_arn }),
        );
        let mut records = Vec::new();
        let shards = desc["StreamDescription"]["Shards"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for shard in shards {
            let it = self.call(
                account,
                "DynamoDBStreams_20120810.GetShardIterator",
                &serde_json::json!({
                    "StreamArn": stream_arn,
                    "ShardId": shard["ShardId"],
                    "ShardIteratorType": "TRIM_HORIZON",
                }),
            );
            let mut iterator = it["ShardIterator"].clone();
            for _ in 0..100 {
                if iterator.is_null() {
                    break;
                }
                let page = self.call(
                    account,
                    "DynamoDBStreams_20120810.GetRecords",
                    &serde_json::json!({ "ShardIterator": iterator }),
                );
                let batch = page["Records"].as_array().cloned().unwrap_or_default();
                if batch.is_empty() {
                    break;
                }
                for mut r in batch {
                    r["eventSourceARN"] = serde_json::Value::String(stream_arn.to_string());
                    records.push(r);
                }
                iterator = page["NextShardIterator"].clone();
            }
        }
        records
    }
}

/// Adds `x-moto-account-id` to every request: moto's per-account isolation.
/// Works with any SDK client (`.interceptor(AccountHeader(..))` on its config builder).
#[derive(Debug, Clone)]
pub struct AccountHeader(pub String);

impl Intercept for AccountHeader {
    fn name(&self) -> &'static str {
        "MotoAccountHeader"
    }
    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("x-moto-account-id", self.0.clone());
        Ok(())
    }
}

/// A store on a fresh table in a fresh account, provisioned.
pub async fn store() -> (crate::DynamoStore, String) {
    let moto = moto();
    let account = moto.account();
    let client = moto.dynamodb(&account).await;
    let table = format!("handoff-test-{account}");
    let store = crate::DynamoStore::new(client, table).with_retention_days(30);
    store
        .provision()
        .await
        .unwrap_or_else(|e| panic!("provisioning the test table: {e}"));
    (store, account)
}

// ----- the service over a store, for tests of the use cases ------------------------

use std::sync::Arc;

use handoff_core::hours::AgentHours;
use handoff_core::ids::{ClientMessageId, ConversationId, IdempotencyKey};
use handoff_core::model::{Lang, MessageText};
use handoff_core::ports::{Clock, ConversationStore};
use handoff_core::service::{Inbound, Origin, ReplyVia};
use handoff_core::{HandoffService, Settings};
use handoff_faq::{FaqCatalog, FaqIndex};

/// A small catalog, Korean and English.
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
        hours: AgentHours::parse("24/7", "UTC").unwrap_or_else(|e| panic!("hours: {e}")),
        escalate_after: jiff::SignedDuration::from_mins(5),
        queue_name: "support".into(),
        console_url: Some("https://example.test/console".into()),
        answers_url: None,
        sms_max_segments: 3,
        agent_language: Lang::Ko,
        earlier_conversations: 3,
        rate_limits: handoff_core::limits::RateLimits::off(),
        alert_coalesce: jiff::SignedDuration::ZERO,
        credits: Default::default(),
    }
}

pub fn service(store: Arc<dyn ConversationStore>, clock: Arc<dyn Clock>) -> HandoffService {
    let catalog = FaqCatalog::from_json(CATALOG).unwrap_or_else(|e| panic!("catalog: {e}"));
    let index = FaqIndex::build(&catalog);
    HandoffService::new(store, clock, Arc::new(catalog), Arc::new(index), settings())
}

/// A web message with the client's own id, as the widget sends it.
pub fn web(conversation: Option<&ConversationId>, text: &str, client_id: &str) -> Inbound {
    let client = ClientMessageId::parse(client_id).unwrap_or_else(|e| panic!("client id: {e}"));
    Inbound {
        origin: Origin::Web {
            conversation: conversation.cloned(),
        },
        text: MessageText::parse(text).unwrap_or_else(|e| panic!("text: {e}")),
        idempotency: Some(match conversation {
            Some(c) => IdempotencyKey::web(c, &client),
            None => IdempotencyKey::web_first(None, &client, text),
        }),
        reply_via: ReplyVia::Response,
        sender: Default::default(),
    }
}
