//! `POST /v1/agent/notices`: a supervisor's notice to a list of customers. The request
//! only records it; the dispatcher sends it (see `handoff_core::service::NoticeFanout`).

use serde_json::json;

use handoff_core::auth::Agent;
use handoff_core::notices::{NoticeBody, NoticeRequest};
use handoff_core::HandoffService;
use handoff_http::{json_body, respond, ApiError, Request, Response};

/// The operations this module answers.
pub const OPERATIONS: &[&str] = &["sendNotice"];

pub async fn handle(svc: &HandoffService, agent: &Agent, req: &Request) -> Response {
    respond(
        202,
        async {
            // Forbidden before the body is looked at: an agent learns nothing.
            if !agent.supervisor {
                return Err(ApiError::new(
                    403,
                    "forbidden",
                    "only supervisors send notices",
                ));
            }
            let request = NoticeRequest::parse(json_body::<NoticeBody>(req)?)?;
            let answer = svc.send_notice(agent, request).await?;
            Ok::<_, ApiError>(json!(answer))
        }
        .await,
    )
}
