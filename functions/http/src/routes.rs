//! The route table: every route the chat and agent functions answer, in one place.
//! The handlers dispatch only through [`route`], and a test checks that every row is
//! an operation of `openapi.json`, so a route cannot be added without documenting it.

use http::header::{HeaderValue, ALLOW};

use crate::{ApiError, Response};

/// Which function answers a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Chat,
    Agent,
}

/// One route: its OpenAPI `operationId`, method and path template (`{name}` matches
/// one path segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub operation: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
}

const fn r(
    operation: &'static str,
    method: &'static str,
    path: &'static str,
    function: Function,
) -> Route {
    Route {
        operation,
        method,
        path,
        function,
    }
}

use Function::{Agent, Chat};

pub const ROUTES: &[Route] = &[
    r("demoPage", "GET", "/", Chat),
    r("widgetScript", "GET", "/widget.js", Chat),
    r("health", "GET", "/healthz", Chat),
    r("openapi", "GET", "/openapi.json", Chat),
    r("sendMessage", "POST", "/v1/chat/messages", Chat),
    r(
        "customerMessages",
        "GET",
        "/v1/chat/conversations/{id}/messages",
        Chat,
    ),
    r(
        "leaveContact",
        "POST",
        "/v1/chat/conversations/{id}/contact",
        Chat,
    ),
    r(
        "verifyContact",
        "POST",
        "/v1/chat/conversations/{id}/contact/verify",
        Chat,
    ),
    r(
        "withdraw",
        "POST",
        "/v1/chat/conversations/{id}/withdraw",
        Chat,
    ),
    r("twilioWebhook", "POST", "/v1/sms/twilio", Chat),
    r("console", "GET", "/console", Agent),
    r("me", "GET", "/v1/agent/me", Agent),
    r("queue", "GET", "/v1/agent/queue", Agent),
    r("packet", "GET", "/v1/agent/conversations/{id}", Agent),
    r("claim", "POST", "/v1/agent/conversations/{id}/claim", Agent),
    r(
        "agentReply",
        "POST",
        "/v1/agent/conversations/{id}/messages",
        Agent,
    ),
    r(
        "resolve",
        "POST",
        "/v1/agent/conversations/{id}/resolve",
        Agent,
    ),
    r(
        "release",
        "POST",
        "/v1/agent/conversations/{id}/release",
        Agent,
    ),
    r(
        "dismiss",
        "POST",
        "/v1/agent/conversations/{id}/dismiss",
        Agent,
    ),
    r(
        "grantCredit",
        "POST",
        "/v1/agent/conversations/{id}/credits",
        Agent,
    ),
    r("pendingCredits", "GET", "/v1/agent/credits", Agent),
    r(
        "approveCredit",
        "POST",
        "/v1/agent/credits/{credit_id}/approve",
        Agent,
    ),
    r(
        "declineCredit",
        "POST",
        "/v1/agent/credits/{credit_id}/decline",
        Agent,
    ),
    r(
        "addNote",
        "POST",
        "/v1/agent/conversations/{id}/notes",
        Agent,
    ),
    r(
        "transfer",
        "POST",
        "/v1/agent/conversations/{id}/transfer",
        Agent,
    ),
    r("cannedAnswers", "GET", "/v1/agent/faqs", Agent),
    r(
        "createAttachment",
        "POST",
        "/v1/chat/conversations/{id}/attachments",
        Chat,
    ),
    r(
        "uploadAttachment",
        "PUT",
        "/v1/chat/uploads/{attachment_id}",
        Chat,
    ),
    r(
        "customerAttachment",
        "GET",
        "/v1/chat/conversations/{id}/attachments/{attachment_id}",
        Chat,
    ),
    r(
        "agentAttachment",
        "GET",
        "/v1/agent/conversations/{id}/attachments/{attachment_id}",
        Agent,
    ),
    r(
        "rateConversation",
        "POST",
        "/v1/chat/conversations/{id}/rating",
        Chat,
    ),
    r("insights", "GET", "/v1/agent/insights", Agent),
    r("insightsPage", "GET", "/console/insights", Agent),
    r("setPresence", "PUT", "/v1/agent/me/presence", Agent),
    r("importFaqs", "PUT", "/v1/agent/faqs", Agent),
    r("addFaq", "POST", "/v1/agent/faqs", Agent),
    r("replaceFaq", "PUT", "/v1/agent/faqs/{id}", Agent),
    r("deleteFaq", "DELETE", "/v1/agent/faqs/{id}", Agent),
    r("faqEditor", "GET", "/console/faqs", Agent),
    r("listIncidents", "GET", "/v1/agent/incidents", Agent),
    r("createIncident", "POST", "/v1/agent/incidents", Agent),
    r("endIncident", "DELETE", "/v1/agent/incidents/{id}", Agent),
    r("sendNotice", "POST", "/v1/agent/notices", Agent),
    r("listSuggestions", "GET", "/v1/agent/suggestions", Agent),
    r(
        "acceptSuggestion",
        "POST",
        "/v1/agent/suggestions/{id}/accept",
        Agent,
    ),
    r(
        "rejectSuggestion",
        "POST",
        "/v1/agent/suggestions/{id}/reject",
        Agent,
    ),
    r(
        "tagMessage",
        "POST",
        "/v1/agent/conversations/{id}/messages/{seq}/faq",
        Agent,
    ),
    r("suggestionsPage", "GET", "/console/suggestions", Agent),
];

/// The outcome of routing a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Routed<'a> {
    /// The route, and the values of its `{...}` segments in order.
    Found(&'static Route, Vec<&'a str>),
    /// The path exists with these methods only.
    MethodNotAllowed(Vec<&'static str>),
    NotFound,
}

fn params<'a>(template: &str, path: &'a str) -> Option<Vec<&'a str>> {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let mut t = template.split('/');
    let mut p = path.split('/');
    let mut values = Vec::new();
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(values),
            (Some(ts), Some(ps)) if ts.starts_with('{') && ts.ends_with('}') => {
                if ps.is_empty() {
                    return None;
                }
                values.push(ps);
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

/// Routes `method path` among `function`'s routes.
pub fn route<'a>(function: Function, method: &str, path: &'a str) -> Routed<'a> {
    let mut allowed = Vec::new();
    for r in ROUTES.iter().filter(|r| r.function == function) {
        if let Some(values) = params(r.path, path) {
            if r.method == method {
                return Routed::Found(r, values);
            }
            allowed.push(r.method);
        }
    }
    if allowed.is_empty() {
        Routed::NotFound
    } else {
        Routed::MethodNotAllowed(allowed)
    }
}

/// The function whose routes hold `path` (any method).
pub fn function_of(path: &str) -> Option<Function> {
    ROUTES
        .iter()
        .find(|r| params(r.path, path).is_some())
        .map(|r| r.function)
}

/// 405 with the `Allow` header naming the methods the path has.
pub fn method_not_allowed(allowed: &[&str]) -> Response {
    let mut r = ApiError::method_not_allowed().into_response();
    if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
        r.headers.insert(ALLOW, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_templates_and_name_allowed_methods() {
        match route(Chat, "GET", "/v1/chat/conversations/c_1/messages") {
            Routed::Found(r, v) => {
                assert_eq!(r.operation, "customerMessages");
                assert_eq!(v, vec!["c_1"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(route(Chat, "GET", "/"), Routed::Found(r, _) if r.operation == "demoPage")
        );
        assert!(matches!(
            route(Chat, "POST", "/v1/chat/messages/"),
            Routed::Found(..)
        ));
        assert_eq!(
            route(Chat, "DELETE", "/v1/chat/messages"),
            Routed::MethodNotAllowed(vec!["POST"])
        );
        assert_eq!(
            route(Chat, "GET", "/v1/chat/conversations//messages"),
            Routed::NotFound
        );
        assert_eq!(route(Chat, "GET", "/v1/agent/me"), Routed::NotFound);
        assert_eq!(
            route(Agent, "POST", "/v1/agent/conversations/c_1/explode"),
            Routed::NotFound
        );
        assert_eq!(function_of("/v1/agent/queue"), Some(Agent));
        assert_eq!(function_of("/openapi.json"), Some(Chat));
    }
}
