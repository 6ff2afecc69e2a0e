//! A Lambda Runtime API stub for `init-bench`: it hands one event to the process it
//! was armed for, notes when the process first asked for an event and when it
//! answered, and counts every other request (the bench points `AWS_ENDPOINT_URL` at
//! it, so an AWS call made during init shows up here).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::oneshot;

pub const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";

/// How an invocation ended: `POST .../response` or `POST .../error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Response,
    Error,
}

/// A request the stub does not serve as the Runtime API: an AWS call.
#[derive(Debug, Clone)]
pub struct OtherRequest {
    pub at: Instant,
    pub method: String,
    pub path: String,
}

/// One armed invocation: resolves when the process asks for it, then when it answers.
pub struct Armed {
    pub ready: oneshot::Receiver<Instant>,
    pub done: oneshot::Receiver<(Instant, Outcome)>,
}

struct Pending {
    request_id: String,
    body: Bytes,
    ready: oneshot::Sender<Instant>,
}

#[derive(Default)]
struct Inner {
    next: Option<Pending>,
    done: HashMap<String, oneshot::Sender<(Instant, Outcome)>>,
    other: Vec<OtherRequest>,
}

#[derive(Clone, Default)]
pub struct Stub {
    inner: Arc<Mutex<Inner>>,
}

impl Stub {
    /// Serve on `addr` (e.g. 127.0.0.1:0); returns the bound address.
    pub async fn start(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let app = self.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(local)
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route(NEXT_PATH, get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .fallback(other)
            .with_state(self.clone())
    }

    /// The next `GET .../invocation/next` gets `event` under `request_id`; later ones
    /// wait forever (the bench kills the process after its first answer).
    pub fn arm(&self, request_id: &str, event: Bytes) -> Armed {
        let (ready_tx, ready) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let mut inner = self.inner.lock().unwrap();
        inner.next = Some(Pending {
            request_id: request_id.to_string(),
            body: event,
            ready: ready_tx,
        });
        inner.done.insert(request_id.to_string(), done_tx);
        Armed { ready, done }
    }

    /// Requests outside the Runtime API, since `since`.
    pub fn other_requests_since(&self, since: Instant) -> Vec<OtherRequest> {
        let inner = self.inner.lock().unwrap();
        inner
            .other
            .iter()
            .filter(|r| r.at >= since)
            .cloned()
            .collect()
    }
}

async fn next(State(stub): State<Stub>) -> Response {
    let at = Instant::now();
    let pending = stub.inner.lock().unwrap().next.take();
    let Some(p) = pending else {
        // The runtime's second poll: never answered.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let _ = p.ready.send(at);
    let deadline = SystemTime::now() + Duration::from_secs(60);
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    (
        [
            ("content-type", "application/json".to_string()),
            ("lambda-runtime-aws-request-id", p.request_id),
            ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench".to_string(),
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
            ),
        ],
        p.body,
    )
        .into_response()
}

/// `kind` of `POST /2018-06-01/runtime/invocation/{id}/{kind}`.
pub fn parse_kind(kind: &str) -> Option<Outcome> {
    match kind {
        "response" => Some(Outcome::Response),
        "error" => Some(Outcome::Error),
        _ => None,
    }
}

async fn answer(
    State(stub): State<Stub>,
    Path((id, kind)): Path<(String, String)>,
    _body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    let Some(outcome) = parse_kind(&kind) else {
        return StatusCode::NOT_FOUND;
    };
    match stub.inner.lock().unwrap().done.remove(&id) {
        Some(tx) => {
            let _ = tx.send((at, outcome));
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

/// Anything else, e.g. a DynamoDB call through `AWS_ENDPOINT_URL`: noted, and refused
/// with a client error the SDK does not retry.
async fn other(State(stub): State<Stub>, method: Method, uri: Uri) -> Response {
    stub.inner.lock().unwrap().other.push(OtherRequest {
        at: Instant::now(),
        method: method.to_string(),
        path: uri.path().to_string(),
    });
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/x-amz-json-1.0")],
        r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"init-bench stub: no AWS here"}"#,
    )
        .into_response()
}

/// The `q`-quantile (0..=1) by nearest rank of sorted `xs`.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Median: the mean of the two middle values for an even count.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn http(addr: SocketAddr, request: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).to_lowercase()
    }

    #[tokio::test]
    async fn hands_out_the_armed_event_and_takes_its_answer() {
        let stub = Stub::default();
        let addr = stub.start(([127, 0, 0, 1], 0).into()).await.unwrap();
        let mut armed = stub.arm("req-1", Bytes::from_static(b"{\"a\":1}"));

        let got = http(
            addr,
            &format!("GET {NEXT_PATH} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        )
        .await;
        assert!(got.starts_with("http/1.1 200"), "{got}");
        assert!(
            got.contains("lambda-runtime-aws-request-id: req-1"),
            "{got}"
        );
        assert!(got.contains("lambda-runtime-deadline-ms: "), "{got}");
        assert!(got.ends_with("{\"a\":1}"), "{got}");
        assert!(armed.ready.try_recv().is_ok());

        let post = |path: &str| {
            format!("POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}")
        };
        let unknown = http(addr, &post("/2018-06-01/runtime/invocation/req-2/response")).await;
        assert!(unknown.starts_with("http/1.1 404"), "{unknown}");
        let ok = http(addr, &post("/2018-06-01/runtime/invocation/req-1/error")).await;
        assert!(ok.starts_with("http/1.1 202"), "{ok}");
        assert_eq!(armed.done.try_recv().unwrap().1, Outcome::Error);

        let since = Instant::now();
        let aws = http(addr, &post("/")).await;
        assert!(aws.starts_with("http/1.1 400"), "{aws}");
        let seen = stub.other_requests_since(since);
        assert_eq!((seen.len(), seen[0].method.as_str()), (1, "POST"));
    }

    #[test]
    fn kinds_and_quantiles() {
        assert_eq!(parse_kind("response"), Some(Outcome::Response));
        assert_eq!(parse_kind("error"), Some(Outcome::Error));
        assert_eq!(parse_kind("next"), None);
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median(&xs), Some(5.5));
        assert_eq!(quantile(&xs, 0.9), Some(9.0));
        assert_eq!(median(&xs[..3]), Some(2.0));
        assert_eq!(quantile(&[], 0.9), None);
    }
}
