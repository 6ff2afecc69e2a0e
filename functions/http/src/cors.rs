//! Cross-origin access for the widget's routes. The widget runs on the business's own
//! site, another origin; agent routes answer no cross-origin caller at all.
//! `HANDOFF_ALLOWED_ORIGINS`: comma-separated origins (`https://shop.example`), or
//! `*` (the default: customer credentials are bearer tokens, never cookies).

use http::header::{HeaderValue, VARY};

use crate::{header_value, Response};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    pub const VAR: &'static str = "HANDOFF_ALLOWED_ORIGINS";

    /// From the variable's value; unset or blank is `*`.
    pub fn parse(value: Option<&str>) -> Self {
        let list: Vec<String> = value
            .unwrap_or("")
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if list.is_empty() || list.iter().any(|o| o == "*") {
            Self::Any
        } else {
            Self::List(list)
        }
    }

    /// The CORS headers for a request from `origin`: none for an origin not listed.
    pub fn apply(&self, origin: Option<&str>, mut r: Response) -> Response {
        let allow = match self {
            Self::Any => Some("*".to_string()),
            Self::List(list) => {
                r.headers.append(VARY, HeaderValue::from_static("origin"));
                origin
                    .filter(|o| list.iter().any(|l| l == o))
                    .map(str::to_string)
            }
        };
        if let Some(allow) = allow {
            r.headers
                .insert("access-control-allow-origin", header_value(&allow));
            r.headers.insert(
                "access-control-allow-headers",
                header_value("authorization, content-type"),
            );
            r.headers.insert(
                "access-control-allow-methods",
                header_value("GET, POST, PUT, OPTIONS"),
            );
            r.headers
                .insert("access-control-max-age", header_value("600"));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_origins_only() {
        let o = AllowedOrigins::parse(Some(" https://a.example/, https://b.example"));
        let r = o.apply(Some("https://a.example"), Response::default());
        assert_eq!(
            r.headers["access-control-allow-origin"],
            "https://a.example"
        );
        let r = o.apply(Some("https://evil.example"), Response::default());
        assert!(r.headers.get("access-control-allow-origin").is_none());
        assert_eq!(AllowedOrigins::parse(None), AllowedOrigins::Any);
        assert_eq!(AllowedOrigins::parse(Some("*")), AllowedOrigins::Any);
    }
}
