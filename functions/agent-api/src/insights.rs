//! `GET /v1/agent/insights?from=YYYY-MM-DD&to=YYYY-MM-DD` (supervisors; agents 403)
//! and its console page, `/console/insights`.

use std::sync::OnceLock;

use handoff_core::auth::Agent;
use handoff_core::insights::day_of;
use handoff_core::insights::report::Insights;
use handoff_core::service::DateRange;
use handoff_core::HandoffService;
use handoff_http::{
    html_csp, html_response, inline_script_hashes, query, ApiError, Framing, Request, Response,
};

pub const INSIGHTS_HTML: &str = include_str!("../assets/insights.html");

fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| html_csp(&inline_script_hashes(INSIGHTS_HTML), Framing::Deny))
}

pub(crate) fn page() -> Response {
    html_response(INSIGHTS_HTML, csp(), Framing::Deny)
}

pub(crate) async fn report(
    svc: &HandoffService,
    agent: &Agent,
    req: &Request,
) -> Result<Insights, ApiError> {
    if !agent.supervisor {
        // Before reading the dates: an agent learns nothing from this route.
        return Err(ApiError::new(
            403,
            "forbidden",
            "only supervisors can see insights",
        ));
    }
    let today = day_of(svc.now());
    let range = DateRange::parse(query(req, "from"), query(req, "to"), today)?;
    Ok(svc.insights(agent, range).await?)
}
