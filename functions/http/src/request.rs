//! Reading requests: method, path, headers, bearer tokens, JSON bodies.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;

use crate::response::ApiError;
use crate::Request;

/// Largest body accepted, in bytes (a 2,000-character Korean message is about 6 KB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn method(req: &Request) -> &str {
    req.request_context.http.method.as_str()
}

/// The request path without the API Gateway stage prefix.
pub fn path(req: &Request) -> &str {
    let raw = req
        .raw_path
        .as_deref()
        .or(req.request_context.http.path.as_deref())
        .unwrap_or("/");
    match req.request_context.stage.as_deref() {
        Some(stage) if stage != "$default" && !stage.is_empty() => raw
            .strip_prefix('/')
            .and_then(|r| r.strip_prefix(stage))
            .filter(|r| r.is_empty() || r.starts_with('/'))
            .map(|r| if r.is_empty() { "/" } else { r })
            .unwrap_or(raw),
        _ => raw,
    }
}

/// Path segments after a prefix: `segments(req, "/v1/chat/")`.
pub fn segments<'a>(req: &'a Request, prefix: &str) -> Option<Vec<&'a str>> {
    let rest = path(req).strip_prefix(prefix)?;
    Some(
        rest.trim_end_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn query<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters.first(name)
}

pub fn bearer(req: &Request) -> Option<&str> {
    let value = header(req, "authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The raw body bytes (API Gateway base64-encodes some bodies).
pub fn body_bytes(req: &Request) -> Result<Vec<u8>, ApiError> {
    let Some(body) = req.body.as_deref() else {
        return Ok(Vec::new());
    };
    let bytes = if req.is_base64_encoded {
        STANDARD
            .decode(body.trim())
            .map_err(|_| ApiError::bad_request("invalid_body", "body is not valid base64"))?
    } else {
        body.as_bytes().to_vec()
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            413,
            "body_too_large",
            format!("body is over {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

pub fn body_text(req: &Request) -> Result<String, ApiError> {
    String::from_utf8(body_bytes(req)?)
        .map_err(|_| ApiError::bad_request("invalid_utf8", "body is not valid UTF-8"))
}

/// Whether the request says its body is JSON (`application/json`, any parameters).
pub fn is_json(req: &Request) -> bool {
    header(req, "content-type")
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// A JSON object body as `T`; the error names what is wrong (content type, syntax,
/// not an object, missing or mistyped field).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    if !is_json(req) {
        return Err(ApiError::new(
            415,
            "unsupported_media_type",
            "send the body as content-type application/json",
        ));
    }
    let text = body_text(req)?;
    let not_object = || ApiError::bad_request("invalid_json", "request body must be a JSON object");
    if text.trim().is_empty() {
        return Err(not_object());
    }
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!(
                "body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    if !value.is_object() {
        return Err(not_object());
    }
    serde_json::from_value(value).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => {
                // Data errors name a field or a type, never the submitted text.
                let msg = e.to_string();
                let msg = msg
                    .split(" at line")
                    .next()
                    .unwrap_or("invalid field")
                    .to_string();
                format!("invalid request: {msg}")
            }
            _ => "body is not valid JSON".to_string(),
        };
        ApiError::bad_request("invalid_json", what)
    })
}

/// Characters that show nothing: zero-width and joiner characters, bidirectional
/// controls, variation selectors, fillers, tags, the BOM; and controls. A text made
/// only of these (and spaces) would be an empty message that looks like one.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Rejects a message text with nothing visible in it (400 `empty_text`).
pub fn require_visible(text: &str) -> Result<(), ApiError> {
    if text.chars().all(is_invisible) {
        return Err(ApiError::bad_request(
            "empty_text",
            "the text has no visible characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_only_texts_are_empty() {
        for t in [
            "",
            " ",
            "\u{200B}",
            "\u{200B}\u{FEFF} \u{2060}\n",
            "\u{E0041}\u{3164}",
        ] {
            assert!(require_visible(t).is_err(), "{t:?}");
        }
        for t in ["a", "\u{200B}안녕", "0", "🙂"] {
            assert!(require_visible(t).is_ok(), "{t:?}");
        }
    }
}
