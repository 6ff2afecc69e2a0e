//! `PUT /v1/agent/me/presence`: the agent says whether they are working. The console
//! sends it when it opens, every `heartbeat_seconds` while open, and `away` on close.

use serde::Deserialize;

use handoff_core::auth::Agent;
use handoff_core::service::PresenceView;
use handoff_core::waits::PresenceStatus;
use handoff_core::HandoffService;
use handoff_http::{json_body, ApiError, Request};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresenceBody {
    status: String,
}

pub async fn set(
    service: &HandoffService,
    agent: &Agent,
    req: &Request,
) -> Result<PresenceView, ApiError> {
    let body: PresenceBody = json_body(req)?;
    let status = PresenceStatus::parse(&body.status)?;
    Ok(service.set_presence(agent, status).await?)
}
