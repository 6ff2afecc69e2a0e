//! Turns a plain HTTP request into the API Gateway HTTP API (payload 2.0) event the
//! functions take in AWS, and their response back, so localhost runs the same code.
//! Like API Gateway's JWT authorizer, agent routes need a valid JWT from the local
//! issuer, whose claims are put in `requestContext.authorizer.jwt.claims`; the group
//! is checked by agent-api, as in AWS.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use handoff_core::auth::AgentTokens;
use handoff_http::{body_of, Request};

/// Whether API Gateway would put the JWT authorizer in front of this path.
pub fn needs_agent_jwt(path: &str) -> bool {
    path.starts_with("/v1/agent/")
}

pub enum Auth {
    Claims(HashMap<String, String>),
    None,
    Rejected,
}

pub fn authorize(headers: &HeaderMap, tokens: &AgentTokens, now: i64) -> Auth {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Auth::Rejected;
    };
    let token = value
        .trim()
        .strip_prefix("Bearer ")
        .or_else(|| value.trim().strip_prefix("bearer "));
    match token.map(|t| tokens.verify(t, now)) {
        Some(Ok(claims)) => {
            let mut map = HashMap::new();
            map.insert("sub".to_string(), claims.sub);
            // API Gateway flattens list claims to "[a b]"; do the same.
            map.insert(
                "cognito:groups".to_string(),
                format!("[{}]", claims.groups.join(" ")),
            );
            map.insert("iss".to_string(), claims.iss);
            map.insert("token_use".to_string(), claims.token_use);
            map.insert("exp".to_string(), claims.exp.to_string());
            Auth::Claims(map)
        }
        _ => Auth::Rejected,
    }
}

pub fn to_event(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    claims: Option<HashMap<String, String>>,
    request_id: &str,
) -> Result<Request, serde_json::Error> {
    let mut hdrs = serde_json::Map::new();
    for (k, v) in headers {
        if let Ok(v) = v.to_str() {
            let key = k.as_str().to_string();
            match hdrs.get_mut(&key) {
                Some(Value::String(existing)) => {
                    existing.push(',');
                    existing.push_str(v);
                }
                _ => {
                    hdrs.insert(key, Value::String(v.to_string()));
                }
            }
        }
    }
    let (body, b64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_string()), false),
        Err(_) => (Value::String(B64.encode(body)), true),
    };
    let query = uri.query().unwrap_or("");
    let mut query_params = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query_params.insert(percent_decode(k), Value::String(percent_decode(v)));
    }
    let mut context = json!({
        "accountId": "local",
        "apiId": "local",
        "domainName": headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost"),
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": "",
        "timeEpoch": jiff::Timestamp::now().as_millisecond(),
        "http": { "method": method.as_str(), "path": uri.path(), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or("") },
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": uri.path(),
        "rawQueryString": query,
        "headers": hdrs,
        "queryStringParameters": query_params,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": b64,
    });
    serde_json::from_value(event)
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn from_response(r: handoff_http::Response) -> Response {
    let status = StatusCode::from_u16(u16::try_from(r.status_code).unwrap_or(500))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Photos are binary: passed through as bytes, not as text.
    let body = match &r.body {
        Some(aws_lambda_events::encodings::Body::Binary(b)) => b.clone(),
        _ => body_of(&r).into_bytes(),
    };
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = status;
    for (k, v) in &r.headers {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    if !out.headers().contains_key("content-type") {
        out.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    out
}
