//! Known-problem notices: every agent lists the active ones (the console's banner);
//! supervisors post one and end one early.

use serde_json::json;

use handoff_core::auth::Agent;
use handoff_core::incident::{IncidentId, IncidentInput};
use handoff_core::HandoffService;
use handoff_http::{json_body, respond, ApiError, Request, Response};

/// The operations this module answers.
pub const OPERATIONS: &[&str] = &["listIncidents", "createIncident", "endIncident"];

pub async fn handle(
    svc: &HandoffService,
    agent: &Agent,
    operation: &str,
    param: &str,
    req: &Request,
) -> Response {
    match operation {
        "listIncidents" => respond(
            200,
            async {
                let incidents = svc.active_incidents().await?;
                Ok::<_, ApiError>(json!({ "incidents": incidents }))
            }
            .await,
        ),
        "createIncident" => respond(
            201,
            async {
                forbid_agents(agent)?;
                let input: IncidentInput = json_body(req)?;
                let incident = svc.create_incident(agent, input).await?;
                tracing::info!(agent = %agent.id, incident = %incident.id, "incident posted");
                Ok::<_, ApiError>(json!({ "incident": incident }))
            }
            .await,
        ),
        _ => respond(
            200,
            async {
                forbid_agents(agent)?;
                let id = IncidentId::parse(param)?;
                let incident = svc.end_incident(agent, &id).await?;
                tracing::info!(agent = %agent.id, incident = %incident.id, "incident ended");
                Ok::<_, ApiError>(json!({ "incident": incident }))
            }
            .await,
        ),
    }
}

/// Forbidden before the body is looked at: an agent learns nothing.
fn forbid_agents(agent: &Agent) -> Result<(), ApiError> {
    match agent.supervisor {
        true => Ok(()),
        false => Err(ApiError::new(
            403,
            "forbidden",
            "only supervisors can post or end incidents",
        )),
    }
}
