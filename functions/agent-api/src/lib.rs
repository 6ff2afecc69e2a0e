//! The agents' function. Identity comes from the JWT claims API Gateway's authorizer
//! puts in the request context (locally, the `handoff` server checks the JWT and puts
//! the same claims there), so this code reads identity one way everywhere.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use std::sync::OnceLock;

use handoff_core::auth::{Agent, AgentRejected, ClaimView};
use handoff_core::ids::ConversationId;
use handoff_core::model::MessageText;
use handoff_core::queue_position::QueuePosition;
use handoff_core::service::QUEUE_PAGE_MAX;
use handoff_core::HandoffService;
use handoff_http::routes::{self, Function, Routed};
use handoff_http::{
    html_csp, html_response, inline_script_hashes, json_body, json_response, method, path, query,
    require_visible, respond, ApiError, Framing, Request, Response,
};

mod faqs;
mod incidents;
mod insights;
mod notices;
mod tools;
pub use insights::INSIGHTS_HTML;
mod presence;
mod suggestions;

pub const CONSOLE_HTML: &str = include_str!("../assets/console.html");
/// The console's FAQ editor page.
pub const FAQS_HTML: &str = include_str!("../assets/faqs.html");

pub struct AgentApi {
    pub service: Arc<HandoffService>,
    /// The issuer agents' tokens must come from, when the function checks it too
    /// (API Gateway's authorizer always does in AWS; `HANDOFF_JWT_ISSUER`).
    pub issuer: Option<String>,
    /// Where customers' photos are; `None`: the photo route answers 404.
    pub photos: Option<handoff_core::service::Photos>,
}

/// The console's CSP: its one inline script by hash, and no framing at all.
fn console_csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| html_csp(&inline_script_hashes(CONSOLE_HTML), Framing::Deny))
}

/// A reply: the agent's own `text`, or the answer of FAQ `faq_id` (not both).
#[derive(Debug, Deserialize)]
struct ReplyBody {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    faq_id: Option<String>,
}

/// The signed-in agent, from the authorizer's JWT claims: an access token (from
/// `issuer`, when given) of an account in the `agents` or `supervisors` group.
pub fn agent_of(req: &Request, issuer: Option<&str>) -> Result<Agent, ApiError> {
    let claims = req
        .request_context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map(|j| &j.claims)
        .ok_or_else(ApiError::unauthorized)?;
    let get = |k: &str| claims.get(k).map(String::as_str);
    let view = ClaimView {
        sub: get("sub"),
        groups: get("cognito:groups"),
        iss: get("iss"),
        token_use: get("token_use"),
    };
    Agent::authorize(view, issuer).map_err(|e| match e {
        AgentRejected::NotAnAgent => ApiError::new(403, "forbidden", e.to_string()),
        AgentRejected::Unauthenticated(_) => ApiError::unauthorized(),
    })
}

impl AgentApi {
    pub fn new(service: Arc<HandoffService>) -> Self {
        Self {
            service,
            issuer: None,
            photos: None,
        }
    }

    /// Reads customers' photos from this store.
    pub fn with_photos(mut self, photos: impl Into<Option<handoff_core::service::Photos>>) -> Self {
        self.photos = photos.into();
        self
    }

    /// Also checks the tokens' issuer (`None`: left to the authorizer).
    pub fn with_issuer(mut self, issuer: Option<String>) -> Self {
        self.issuer = issuer.filter(|i| !i.trim().is_empty());
        self
    }

    #[tracing::instrument(skip_all, fields(method = method(&req), path = path(&req), request_id = req.request_context.request_id.as_deref().unwrap_or("")))]
    pub async fn handle(&self, req: Request) -> Response {
        let m = method(&req).to_string();
        let p = path(&req).to_string();
        let (route, params) = match routes::route(Function::Agent, &m, &p) {
            Routed::Found(route, params) => (route, params),
            Routed::MethodNotAllowed(allowed) => return routes::method_not_allowed(&allowed),
            Routed::NotFound => return ApiError::not_found().into_response(),
        };
        if route.operation == "console" {
            return html_response(CONSOLE_HTML, console_csp(), Framing::Deny);
        }
        if route.operation == "insightsPage" {
            return insights::page();
        }
        if route.operation == "suggestionsPage" {
            return html_response(
                suggestions::SUGGESTIONS_HTML,
                suggestions::page_csp(),
                Framing::Deny,
            );
        }
        if route.operation == "faqEditor" {
            return html_response(FAQS_HTML, faqs::page_csp(), Framing::Deny);
        }
        let agent = match agent_of(&req, self.issuer.as_deref()) {
            Ok(a) => a,
            Err(e) => return e.into_response(),
        };
        let svc = &self.service;
        let id = params.first().copied().unwrap_or("");
        // One arm per `operationId` of the agent rows of [`routes::ROUTES`].
        match route.operation {
            "me" => json_response(
                200,
                &json!({
                    "agent_id": agent.id,
                    "supervisor": agent.supervisor,
                    "credit_currency": svc.settings().credits.currency,
                    "credit_limit": svc.settings().credits.per_credit,
                    "credit_daily_limit": svc.settings().credits.daily,
                }),
            ),
            "queue" => respond(
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
            "packet" => respond(
                200,
                async {
                    let id = ConversationId::parse(id)?;
                    Ok::<_, ApiError>(svc.packet(&id).await?)
                }
                .await,
            ),
            action @ ("claim" | "resolve" | "release" | "dismiss" | "agentReply") => {
                let result: Result<(u16, serde_json::Value), ApiError> = async {
                    let id = ConversationId::parse(id)?;
                    let conv = match action {
                        "claim" => svc.claim(&agent, &id).await?,
                        "resolve" => svc.resolve(&agent, &id).await?,
                        "release" => svc.release(&agent, &id).await?,
                        "dismiss" => svc.dismiss(&agent, &id).await?,
                        _ => {
                            let body: ReplyBody = json_body(&req)?;
                            let message = match (body.text, body.faq_id) {
                                (Some(_), Some(_)) => {
                                    return Err(ApiError::bad_request(
                                        "invalid_input",
                                        "send either text or faq_id, not both",
                                    ))
                                }
                                (None, None) => {
                                    return Err(ApiError::bad_request(
                                        "invalid_input",
                                        "text: send text, or faq_id for a canned answer",
                                    ))
                                }
                                (None, Some(faq_id)) => {
                                    svc.canned_reply(&agent, &id, &faq_id).await?
                                }
                                (Some(raw), None) => {
                                    let text = MessageText::parse(&raw)?;
                                    require_visible(&raw)?;
                                    svc.agent_reply(&agent, &id, text).await?
                                }
                            };
                            return Ok((201, serde_json::to_value(message).unwrap_or_default()));
                        }
                    };
                    tracing::info!(conversation_id = %conv.id, agent = %agent.id, action, "agent action");
                    Ok((200, json!({"conversation_id": conv.id, "status": conv.status, "assigned_to": conv.assigned_to})))
                }
                .await;
                match result {
                    Ok((status, body)) => json_response(status, &body),
                    Err(e) => e.into_response(),
                }
            }
            op if tools::OPERATIONS.contains(&op) => tools::handle(svc, &agent, op, id, &req).await,
            "agentAttachment" => {
                let result = async {
                    let id = ConversationId::parse(id)?;
                    let attachment = handoff_core::attachments::AttachmentId::parse(
                        params.get(1).copied().unwrap_or(""),
                    )?;
                    let photos = self.photos.as_ref().ok_or_else(ApiError::not_found)?;
                    Ok::<_, ApiError>(svc.read_attachment(photos, &id, &attachment).await?)
                }
                .await;
                match result {
                    Ok((a, content)) => handoff_http::attachment::attachment_response(
                        content,
                        &a.as_ref().content_type,
                    ),
                    Err(e) => e.into_response(),
                }
            }
            "insights" => respond(200, insights::report(svc, &agent, &req).await),
            "setPresence" => respond(200, presence::set(svc, &agent, &req).await),
            op if faqs::OPERATIONS.contains(&op) => faqs::handle(svc, &agent, op, id, &req).await,
            op if incidents::OPERATIONS.contains(&op) => {
                incidents::handle(svc, &agent, op, id, &req).await
            }
            op if notices::OPERATIONS.contains(&op) => notices::handle(svc, &agent, &req).await,
            op if suggestions::OPERATIONS.contains(&op) => {
                suggestions::handle(svc, &agent, op, &params, &req).await
            }
            _ => ApiError::not_found().into_response(),
        }
    }
}
