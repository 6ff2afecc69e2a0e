//! Building responses, and mapping domain errors to HTTP without leaking internals.

use aws_lambda_events::encodings::Body;
use base64::Engine;
use http::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use serde::Serialize;
use serde_json::json;

use handoff_core::verification::CodeRejected;
use handoff_core::{InputError, ServiceError, StoreError};

use crate::Response;

/// An error as a client sees it: status, a stable code and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub extra: Option<(&'static str, String)>,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: None,
            retry_after: None,
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(401, "unauthorized", "missing or invalid bearer token")
    }
    pub fn not_found() -> Self {
        Self::new(404, "not_found", "no such route")
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "method_not_allowed",
            "method not allowed on this route",
        )
    }
    pub fn into_response(self) -> Response {
        let mut body = json!({ "error": { "code": self.code, "message": self.message } });
        if let Some((k, v)) = self.extra {
            body["error"][k] = json!(v);
        }
        let mut r = json_response(self.status, &body);
        if let Some(secs) = self.retry_after {
            r.headers
                .insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

/// Input that failed validation: 400 naming the field.
impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        ApiError::bad_request("invalid_input", e.to_string())
    }
}

impl ApiError {
    /// A bug or an impossible state: 500, details only in the log.
    fn internal(what: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error");
        ApiError::new(500, "internal", "internal error")
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Input(i) => i.into(),
            ServiceError::NotFound => {
                ApiError::new(404, "conversation_not_found", "conversation not found")
            }
            ServiceError::Unauthorized => ApiError::unauthorized(),
            ServiceError::IllegalTransition { .. } => {
                ApiError::new(409, "illegal_transition", e.to_string())
            }
            ServiceError::AlreadyClaimed { ref by } => ApiError {
                extra: Some(("assigned_to", by.to_string())),
                ..ApiError::new(409, "already_claimed", e.to_string())
            },
            ServiceError::NotOwner { ref owner } => ApiError {
                extra: Some(("assigned_to", owner.to_string())),
                ..ApiError::new(409, "not_owner", e.to_string())
            },
            ServiceError::OptedOut => ApiError::new(409, "customer_opted_out", e.to_string()),
            ServiceError::Forbidden(why) => ApiError::new(403, "forbidden", why),
            ServiceError::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(429, "rate_limited", e.to_string())
            },
            ServiceError::IdempotencyKeyReused => {
                ApiError::new(409, "idempotency_key_reused", e.to_string())
            }
            ServiceError::NoVerification => ApiError::new(400, "no_code_sent", e.to_string()),
            ServiceError::Rating(r) => ApiError::new(409, r.code(), r.to_string()),
            ServiceError::CodeRejected(r) => match r {
                CodeRejected::Wrong { attempts_left } => ApiError {
                    extra: Some(("attempts_left", attempts_left.to_string())),
                    ..ApiError::new(400, "code_invalid", r.to_string())
                },
                CodeRejected::Expired => ApiError::new(400, "code_expired", r.to_string()),
                CodeRejected::TooManyAttempts => ApiError::new(400, "code_dead", r.to_string()),
            },
            ServiceError::CreditNotFound => ApiError::new(404, "credit_not_found", e.to_string()),
            ServiceError::CreditDecided(status) => ApiError {
                extra: Some(("status", status.to_string())),
                ..ApiError::new(409, "already_decided", e.to_string())
            },
            ServiceError::TooMany(why) => ApiError::new(409, "limit_reached", why),
            ServiceError::Attachment(ref r) => ApiError {
                extra: r
                    .attachment_id()
                    .map(|id| ("attachment_id", id.to_string())),
                ..ApiError::new(r.status(), r.code(), r.to_string())
            },
            ServiceError::FaqNotFound(_) => ApiError::new(404, "faq_not_found", e.to_string()),
            ServiceError::IncidentNotFound(_) => {
                ApiError::new(404, "incident_not_found", e.to_string())
            }
            ServiceError::FaqExists(_) => ApiError::new(409, "faq_exists", e.to_string()),
            ServiceError::CatalogStale { .. } => {
                ApiError::new(409, "catalog_changed", e.to_string())
            }
            ServiceError::SuggestionNotFound => {
                ApiError::new(404, "suggestion_not_found", e.to_string())
            }
            ServiceError::SuggestionDecided(status) => ApiError {
                extra: Some(("status", status.to_string())),
                ..ApiError::new(409, "already_decided", e.to_string())
            },
            ServiceError::SuggestionFaqGone(ref id) => ApiError {
                extra: Some(("faq_id", id.clone())),
                ..ApiError::new(409, "faq_deleted", e.to_string())
            },
            ServiceError::Contended => {
                ApiError::new(409, "busy", "the conversation is changing; try again")
            }
            ServiceError::Internal(_) => ApiError::internal(&e),
            ServiceError::Store(ref err @ (StoreError::Corrupt(_) | StoreError::Invalid(_))) => {
                ApiError::internal(err)
            }
            ServiceError::Delivery(err) => {
                tracing::error!(error = %err, "delivery failure");
                ApiError::new(503, "unavailable", "temporarily unavailable; try again")
            }
            ServiceError::Store(err) => {
                // Details go to the log, never to the client.
                tracing::error!(error = %err, "store failure");
                ApiError::new(503, "unavailable", "temporarily unavailable; try again")
            }
        }
    }
}

/// Every response: browsers must not guess a content type other than the declared one.
fn base_response() -> Response {
    let mut r = Response::default();
    r.headers
        .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// Adds `nosniff` to a response built elsewhere.
pub fn nosniff(mut r: Response) -> Response {
    r.headers
        .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

pub fn json_response<T: Serialize>(status: u16, body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    let mut r = base_response();
    r.status_code = i64::from(status);
    r.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.body = Some(Body::Text(text));
    r
}

pub fn static_response(content_type: &'static str, body: &'static str) -> Response {
    let mut r = base_response();
    r.status_code = 200;
    r.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r.body = Some(Body::Text(body.to_string()));
    r
}

pub fn text_response(status: u16, content_type: &'static str, body: String) -> Response {
    let mut r = base_response();
    r.status_code = i64::from(status);
    r.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.body = Some(Body::Text(body));
    r
}

/// Who may frame an HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Nobody (`frame-ancestors 'none'`, `X-Frame-Options: DENY`): the console.
    Deny,
    /// Pages of the same origin only.
    SameOrigin,
}

/// `sha256-…` CSP sources of every inline `<script>` of a page, so the page can run
/// its own scripts and nothing injected.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script>") {
        let after = &rest[start + "<script>".len()..];
        let Some(end) = after.find("</script>") else {
            break;
        };
        let digest = Sha256::digest(&after.as_bytes()[..end]);
        out.push(format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = &after[end..];
    }
    out
}

/// The Content-Security-Policy of an HTML page: scripts only from this origin or
/// with the given hashes, calls only to this origin, no plugins, no `<base>`.
pub fn html_csp(script_hashes: &[String], framing: Framing) -> String {
    let mut scripts = String::from("'self'");
    for h in script_hashes {
        scripts.push(' ');
        scripts.push_str(h);
    }
    let ancestors = match framing {
        Framing::Deny => "'none'",
        Framing::SameOrigin => "'self'",
    };
    // Styles may be inline: the widget styles its shadow root, and no script can
    // come through a style.
    let photos = photo_bucket_origin_from_env();
    format!(
        "default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:{photos}; connect-src 'self'{photos}; base-uri 'none'; \
         form-action 'self'; object-src 'none'; frame-ancestors {ancestors}"
    )
}

/// In AWS the widget uploads photos to, and pages read them from, presigned URLs of
/// the photo bucket: that one origin (with a leading space), and nothing wider (a
/// wildcard over S3 would let an injected script post data to any bucket). Empty
/// locally, where photos go through this origin.
fn photo_bucket_origin_from_env() -> &'static str {
    static ORIGIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(|| {
        let var = |k: &str| std::env::var(k).ok();
        photo_bucket_origin(
            var("HANDOFF_PHOTOS_BUCKET").as_deref(),
            var("AWS_REGION").as_deref(),
        )
        .map(|o| format!(" {o}"))
        .unwrap_or_default()
    })
}

/// The virtual-hosted origin of an S3 bucket, as presigned URLs name it; None unless
/// both names are valid DNS labels (nothing else can reach the CSP header).
pub fn photo_bucket_origin(bucket: Option<&str>, region: Option<&str>) -> Option<String> {
    let ok = |s: &str, dots: bool| {
        !s.is_empty()
            && s.len() <= 63
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (dots && b == b'.')
            })
    };
    let (bucket, region) = (bucket?.trim(), region?.trim());
    (ok(bucket, true) && ok(region, false))
        .then(|| format!("https://{bucket}.s3.{region}.amazonaws.com"))
}

#[cfg(test)]
mod photo_origin_tests {
    use super::photo_bucket_origin;

    #[test]
    fn the_photo_bucket_origin_is_exact_or_absent() {
        assert_eq!(
            photo_bucket_origin(Some("handoff-photos-123"), Some("ap-northeast-2")).as_deref(),
            Some("https://handoff-photos-123.s3.ap-northeast-2.amazonaws.com")
        );
        assert_eq!(photo_bucket_origin(None, Some("ap-northeast-2")), None);
        assert_eq!(photo_bucket_origin(Some("b"), None), None);
        for bad in ["Bucket", "a b", "x;script-src *", "", "a/b"] {
            assert_eq!(
                photo_bucket_origin(Some(bad), Some("us-east-1")),
                None,
                "{bad}"
            );
        }
        assert_eq!(photo_bucket_origin(Some("b"), Some("us-east-1;")), None);
    }
}

/// An HTML page with its CSP, `Referrer-Policy` and framing rules.
pub fn html_response(body: &'static str, csp: &str, framing: Framing) -> Response {
    let mut r = static_response("text/html; charset=utf-8", body);
    r.headers.insert(CONTENT_SECURITY_POLICY, header_value(csp));
    r.headers
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if framing == Framing::Deny {
        r.headers
            .insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    r
}

/// The response body as text (for tests and the local runner).
pub fn body_of(r: &Response) -> String {
    match &r.body {
        Some(Body::Text(t)) => t.clone(),
        Some(Body::Binary(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// Result of a handler: the response either way.
pub fn respond<T: Serialize>(status: u16, result: Result<T, ApiError>) -> Response {
    match result {
        Ok(v) => json_response(status, &v),
        Err(e) => e.into_response(),
    }
}

/// A header value from a string known to be valid; invalid text becomes empty.
pub fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_and_body(e: ServiceError) -> (u16, String) {
        let api = ApiError::from(e);
        (api.status, format!("{} {}", api.code, api.message))
    }

    #[test]
    fn errors_say_what_they_mean_and_never_show_internals() {
        let (status, body) = status_and_body(ServiceError::Internal("secret detail".into()));
        assert_eq!((status, body.as_str()), (500, "internal internal error"));
        let (status, body) =
            status_and_body(StoreError::Invalid("over the 100-item limit".into()).into());
        assert_eq!(status, 500);
        assert!(!body.contains("100"), "{body}");
        let (status, body) = status_and_body(StoreError::Unavailable("timeout".into()).into());
        assert_eq!((status, body.contains("timeout")), (503, false));
        assert_eq!(status_and_body(ServiceError::Contended).0, 409);
        let input = ApiError::from(InputError::new("text", "text must not be empty"));
        assert_eq!((input.status, input.code), (400, "invalid_input"));
        assert!(input.message.contains("text"));
    }
}
