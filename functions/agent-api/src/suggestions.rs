//! The learning loop's routes: agents tag a customer message with the FAQ that
//! answers it; supervisors list the suggested example questions and accept or reject
//! them (an agent gets 403 before anything is read).

use serde::Deserialize;
use serde_json::json;

use handoff_core::auth::Agent;
use handoff_core::ids::ConversationId;
use handoff_core::suggestion::parse_suggestion_id;
use handoff_core::HandoffService;
use handoff_http::{json_body, respond, ApiError, Request, Response};

/// The operations this module answers.
pub const OPERATIONS: &[&str] = &[
    "listSuggestions",
    "acceptSuggestion",
    "rejectSuggestion",
    "tagMessage",
];

/// The suggestions page: the same CSP rules as the other console pages.
pub const SUGGESTIONS_HTML: &str = include_str!("../assets/suggestions.html");

pub fn page_csp() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        handoff_http::html_csp(
            &handoff_http::inline_script_hashes(SUGGESTIONS_HTML),
            handoff_http::Framing::Deny,
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagBody {
    faq_id: String,
}

fn forbidden_unless_supervisor(agent: &Agent) -> Result<(), ApiError> {
    match agent.supervisor {
        true => Ok(()),
        false => Err(ApiError::new(
            403,
            "forbidden",
            "only supervisors can see and decide suggestions",
        )),
    }
}

pub async fn handle(
    svc: &HandoffService,
    agent: &Agent,
    operation: &str,
    params: &[&str],
    req: &Request,
) -> Response {
    let first = params.first().copied().unwrap_or("");
    respond(
        200,
        async {
            match operation {
                "listSuggestions" => {
                    forbidden_unless_supervisor(agent)?;
                    let list = svc.suggestions(agent).await?;
                    Ok::<_, ApiError>(json!({ "suggestions": list }))
                }
                "tagMessage" => {
                    let id = ConversationId::parse(first)?;
                    let seq = params
                        .get(1)
                        .and_then(|s| s.parse::<u64>().ok())
                        .filter(|s| *s > 0)
                        .ok_or_else(|| {
                            ApiError::bad_request(
                                "invalid_input",
                                "seq: must be a whole number from 1",
                            )
                        })?;
                    let body: TagBody = json_body(req)?;
                    let tag = svc.tag_message(agent, &id, seq, &body.faq_id).await?;
                    Ok(serde_json::to_value(tag).unwrap_or_default())
                }
                op => {
                    forbidden_unless_supervisor(agent)?;
                    let id = parse_suggestion_id(first)?;
                    let decided = svc
                        .decide_suggestion(agent, &id, op == "acceptSuggestion")
                        .await?;
                    Ok(serde_json::to_value(decided).unwrap_or_default())
                }
            }
        }
        .await,
    )
}
