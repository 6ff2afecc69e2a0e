//! The FAQ catalog routes: export for everyone signed in (the console's picker of
//! canned answers reads the same response); import, add, replace and delete for
//! supervisors only.

use serde_json::json;

use handoff_core::auth::Agent;
use handoff_core::catalog::{check_catalog, parse_faq_id, CatalogChange, FaqInput};
use handoff_core::faq::FaqCatalog;
use handoff_core::HandoffService;
use handoff_http::{json_body, query, respond, ApiError, Request, Response};

/// The operations this module answers.
pub const OPERATIONS: &[&str] = &[
    "cannedAnswers",
    "importFaqs",
    "addFaq",
    "replaceFaq",
    "deleteFaq",
];

/// The FAQ editor's CSP: its one inline script by hash, and no framing at all.
pub fn page_csp() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        handoff_http::html_csp(
            &handoff_http::inline_script_hashes(crate::FAQS_HTML),
            handoff_http::Framing::Deny,
        )
    })
}

/// `?version=N`: the change applies only to that catalog version (else 409).
fn expected_version(req: &Request) -> Result<Option<u64>, ApiError> {
    match query(req, "version") {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request("invalid_input", "version: must be a whole number")),
    }
}

pub async fn handle(
    svc: &HandoffService,
    agent: &Agent,
    operation: &str,
    param: &str,
    req: &Request,
) -> Response {
    if operation == "cannedAnswers" {
        return respond(
            200,
            async {
                let export = svc.export_catalog().await?;
                Ok::<_, ApiError>(match query(req, "format") {
                    // Exactly the catalog file: what `PUT /v1/agent/faqs` takes back.
                    Some("catalog") => serde_json::to_value(&export.catalog).unwrap_or_default(),
                    None | Some("") => json!({
                        "faqs": svc.canned_answers(),
                        "version": export.version,
                        "catalog": export.catalog,
                    }),
                    Some(_) => {
                        return Err(ApiError::bad_request(
                            "invalid_input",
                            "format: only \"catalog\" is known",
                        ))
                    }
                })
            }
            .await,
        );
    }
    let status = if operation == "addFaq" { 201 } else { 200 };
    respond(
        status,
        async {
            // Forbidden before the body is looked at: an agent learns nothing.
            if !agent.supervisor {
                return Err(ApiError::new(
                    403,
                    "forbidden",
                    "only supervisors can change the FAQs",
                ));
            }
            let version = expected_version(req)?;
            let change = match operation {
                "importFaqs" => {
                    let catalog: FaqCatalog = json_body(req)?;
                    check_catalog(&catalog)?;
                    CatalogChange::Import(catalog)
                }
                "addFaq" => CatalogChange::Add(json_body::<FaqInput>(req)?.into_faq(None)?),
                "replaceFaq" => {
                    let id = parse_faq_id(param)?;
                    CatalogChange::Replace(json_body::<FaqInput>(req)?.into_faq(Some(&id))?)
                }
                _ => CatalogChange::Delete(parse_faq_id(param)?),
            };
            let export = svc.change_catalog(agent, change, version).await?;
            let faq = match operation {
                "addFaq" | "replaceFaq" => param_or_last(&export.catalog, param, operation),
                _ => None,
            };
            Ok::<_, ApiError>(json!({
                "version": export.version,
                "faqs": export.catalog.faqs.len(),
                "faq": faq,
            }))
        }
        .await,
    )
}

/// The FAQ just written: by the path's id, or the one added last.
fn param_or_last(catalog: &FaqCatalog, param: &str, operation: &str) -> Option<serde_json::Value> {
    let faq = match operation {
        "replaceFaq" => catalog.faq(param),
        _ => catalog.faqs.last(),
    };
    faq.and_then(|f| serde_json::to_value(f).ok())
}
