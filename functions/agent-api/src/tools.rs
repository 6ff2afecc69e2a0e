//! The console's tools: goodwill credits, notes, transfer, canned answers.

use serde::Deserialize;
use serde_json::{json, Value};

use handoff_core::auth::Agent;
use handoff_core::credit::{decision_note, CreditId, CreditRequest, Decision};
use handoff_core::ids::{AgentId, ConversationId};
use handoff_core::{HandoffService, InputError};
use handoff_http::{json_body, query, respond, ApiError, Request, Response};

/// The operations this module answers.
pub const OPERATIONS: &[&str] = &[
    "grantCredit",
    "pendingCredits",
    "approveCredit",
    "declineCredit",
    "addNote",
    "transfer",
];

#[derive(Debug, Deserialize)]
struct CreditBody {
    amount: Value,
    currency: String,
    reason: String,
    request_id: String,
}

#[derive(Debug, Deserialize)]
struct DecisionBody {
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NoteBody {
    text: String,
}

/// A JSON body, or `{}` when the request has none (decisions need no body).
fn optional_body<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let empty = req.body.as_deref().is_none_or(|b| b.trim().is_empty());
    match empty {
        true => serde_json::from_value(json!({}))
            .map_err(|_| ApiError::bad_request("invalid_json", "a JSON object is required")),
        false => json_body(req),
    }
}

pub async fn handle(
    svc: &HandoffService,
    agent: &Agent,
    operation: &str,
    param: &str,
    req: &Request,
) -> Response {
    match operation {
        "grantCredit" => respond(
            201,
            async {
                let id = ConversationId::parse(param)?;
                let body: CreditBody = json_body(req)?;
                let amount = body.amount.as_i64().ok_or_else(|| {
                    InputError::new("amount", "amount must be a whole number of minor units")
                })?;
                let request = CreditRequest::parse(
                    amount,
                    &body.currency,
                    &body.reason,
                    &body.request_id,
                    &svc.settings().credits,
                )?;
                let credit = svc.grant_credit(agent, &id, &request).await?;
                Ok::<_, ApiError>(json!({ "credit": credit }))
            }
            .await,
        ),
        "pendingCredits" => respond(
            200,
            async {
                match query(req, "status") {
                    None | Some("") | Some("pending_approval") => {}
                    Some(_) => {
                        return Err(ApiError::bad_request(
                            "invalid_input",
                            "status: only pending_approval can be listed",
                        ))
                    }
                }
                let credits = svc.pending_credits(agent).await?;
                Ok::<_, ApiError>(json!({ "credits": credits }))
            }
            .await,
        ),
        "approveCredit" | "declineCredit" => respond(
            200,
            async {
                let decision = match operation {
                    "approveCredit" => Decision::Approve,
                    _ => Decision::Decline,
                };
                // Forbidden before anything else: an agent learns nothing about the id.
                if !agent.supervisor {
                    return Err(ApiError::new(
                        403,
                        "forbidden",
                        "only supervisors can approve or decline credits",
                    ));
                }
                let id = CreditId::parse(param)?;
                let body: DecisionBody = optional_body(req)?;
                let note = decision_note(body.note.as_deref())?;
                let credit = svc.decide_credit(agent, &id, decision, note).await?;
                Ok::<_, ApiError>(json!({ "credit": credit }))
            }
            .await,
        ),
        "addNote" => respond(
            201,
            async {
                let id = ConversationId::parse(param)?;
                let body: NoteBody = json_body(req)?;
                handoff_http::require_visible(&body.text)?;
                let note = svc.add_note(agent, &id, &body.text).await?;
                Ok::<_, ApiError>(json!({ "note": note }))
            }
            .await,
        ),
        "transfer" => respond(
            200,
            async {
                let id = ConversationId::parse(param)?;
                let body: Value = json_body(req)?;
                let to = match body.get("to") {
                    Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(AgentId::parse(s).map_err(|_| {
                        InputError::new("to", "to must be an agent id or null (the queue)")
                    })?),
                    _ => {
                        return Err(ApiError::from(InputError::new(
                            "to",
                            "to must be an agent id or null (the queue)",
                        )))
                    }
                };
                let conv = svc.transfer(agent, &id, to).await?;
                Ok::<_, ApiError>(json!({
                    "conversation_id": conv.id,
                    "status": conv.status,
                    "assigned_to": conv.assigned_to,
                }))
            }
            .await,
        ),
        _ => ApiError::not_found().into_response(),
    }
}
