//! The API contract, `openapi.json` (OpenAPI 3.1), kept beside the route table it
//! describes and served at `GET /openapi.json`.

pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ROUTES;

    /// Operations the document describes that no handler routes to yet; a route the
    /// handlers answer must never be missing from the document.
    const DOCUMENTED_AHEAD: &[&str] = &[];

    fn doc() -> serde_json::Value {
        serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON")
    }

    #[test]
    fn every_routed_route_is_documented_with_its_operation_id() {
        let doc = doc();
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
        for r in ROUTES {
            let op = &doc["paths"][r.path][r.method.to_ascii_lowercase()];
            assert!(
                op.is_object(),
                "{} {} ({}) is routed but missing from openapi.json",
                r.method,
                r.path,
                r.operation
            );
            assert_eq!(
                op["operationId"].as_str(),
                Some(r.operation),
                "{} {}",
                r.method,
                r.path
            );
            assert!(op["responses"].as_object().is_some_and(|m| !m.is_empty()));
        }
    }

    #[test]
    fn every_documented_operation_is_routed() {
        let doc = doc();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let Some(id) = op["operationId"].as_str() else {
                    continue;
                };
                let routed = ROUTES.iter().any(|r| {
                    r.path == path && r.method.eq_ignore_ascii_case(method) && r.operation == id
                });
                assert!(
                    routed || DOCUMENTED_AHEAD.contains(&id),
                    "{method} {path} ({id}) is documented but not routed"
                );
            }
        }
    }

    #[test]
    fn every_error_response_uses_the_error_schema() {
        let doc = doc();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                for (status, resp) in op["responses"].as_object().expect("responses") {
                    if status.starts_with('4') || status.starts_with('5') {
                        let r = resp["$ref"].as_str().unwrap_or("");
                        assert!(
                            r.starts_with("#/components/responses/"),
                            "{method} {path} {status} is not a shared error response"
                        );
                    }
                }
            }
        }
    }
}
