//! The agents' function. Identity comes from the JWT claims API Gateway's authorizer
//! puts in the request context (locally, the `handoff` server checks the JWT and puts
//! the same claims there), so this code reads identity one way everywhere.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use handoff_core::auth::Agent;
use handoff_core::ids::ConversationId;
use handoff_core::model::MessageText;
use handoff_core::queue_position::QueuePosition;
use handoff_core::service::QUEUE_PAGE_MAX;
use handoff_core::HandoffService;
use handoff_http::{
    json_body, json_response, method, path, query, respond, segments, static_response, ApiError,
    Request, Response,
};

pub const CONSOLE_HTML: &str = include_str!("../assets/console.html");

pub struct AgentApi {
    pub service: Arc<HandoffService>,
}

#[derive(Debug, Deserialize)]
struct ReplyBody {
    text: String,
}

/// The signed-in agent, from the authorizer's JWT claims.
pub fn agent_of(req: &Request) -> Result<Agent, ApiError> {
    let claims = req
        .request_context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map(|j| &j.claims)
        .ok_or_else(ApiError::unauthorized)?;
    let sub = claims.get("sub").ok_or_else(ApiError::unauthorized)?;
    let groups = claims
        .get("cognito:groups")
        .map(String::as_str)
        .unwrap_or("");
    Agent::from_claims(sub, groups).ok_or_else(ApiError::unauthorized)
}

impl AgentApi {
    pub fn new(service: Arc<HandoffService>) -> Self {
        Self { service }
    }

    #[tracing::instrument(skip_all, fields(method = method(&req), path = path(&req), request_id = req.request_context.request_id.as_deref().unwrap_or("")))]
    pub async fn handle(&self, req: Request) -> Response {
        let m = method(&req).to_string();
        if m == "GET" && path(&req) == "/console" {
            return static_response("text/html; charset=utf-8", CONSOLE_HTML);
        }
        let agent = match agent_of(&req) {
            Ok(a) => a,
            Err(e) => return e.into_response(),
        };
        let svc = &self.service;
        match (m.as_str(), segments(&req, "/v1/agent/").as_deref()) {
            ("GET", Some(["me"])) => json_response(
                200,
                &json!({"agent_id": agent.id, "supervisor": agent.supervisor}),
            ),
            ("GET", Some(["queue"])) => respond(
                200,
                async {
                    let after = query(&req, "cursor")
                        .filter(|c| !c.is_empty())
                        .map(QueuePosition::from_cursor)
                        .transpose()
                        .map_err(|e| ApiError::bad_request("invalid_cursor", e.to_string()))?;
                    let limit = match query(&req, "limit") {
                        None | Some("") => QUEUE_PAGE_MAX,
                        Some(l) => l
                            .parse::<usize>()
                            .ok()
                            .filter(|l| (1..=QUEUE_PAGE_MAX).contains(l))
                            .ok_or_else(|| {
                                ApiError::bad_request("invalid_input", "limit: must be 1-200")
                            })?,
                    };
                    Ok::<_, ApiError>(svc.agent_queue(&agent, after.as_ref(), limit).await?)
                }
                .await,
            ),
            ("GET", Some(["conversations", id])) => respond(
                200,
                async {
                    let id = ConversationId::parse(id)?;
                    Ok::<_, ApiError>(svc.packet(&id).await?)
                }
                .await,
            ),
            ("POST", Some(["conversations", id, action])) => {
                let result = async {
                    let id = ConversationId::parse(id)?;
                    let conv = match *action {
                        "claim" => svc.claim(&agent, &id).await?,
                        "resolve" => svc.resolve(&agent, &id).await?,
                        "release" => svc.release(&agent, &id).await?,
                        "messages" => {
                            let body: ReplyBody = json_body(&req)?;
                            let text = MessageText::parse(&body.text)?;
                            let message = svc.agent_reply(&agent, &id, text).await?;
                            return Ok((201, serde_json::to_value(message).unwrap_or_default()));
                        }
                        _ => return Err(ApiError::not_found()),
                    };
                    tracing::info!(conversation_id = %conv.id, agent = %agent.id, action = *action, "agent action");
                    Ok((200, json!({"conversation_id": conv.id, "status": conv.status, "assigned_to": conv.assigned_to})))
                }
                .await;
                match result {
                    Ok((status, body)) => json_response(status, &body),
                    Err(e) => e.into_response(),
                }
            }
            (_, Some(["me" | "queue"]))
            | (_, Some(["conversations", _]))
            | (_, Some(["conversations", _, _])) => ApiError::method_not_allowed().into_response(),
            _ => ApiError::not_found().into_response(),
        }
    }
}
