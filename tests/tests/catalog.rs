//! The catalog as data (issue 13 §1), end to end over HTTP on `handoff serve`: every
//! FAQ route, that a change answers the next customer message, validation that names
//! the field with nothing half-applied, and the attacks (no token, a customer's token,
//! an agent changing the catalog).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

mod common;

use common::*;

/// The FAQ the bot answered a new customer's `text` with, and its text.
async fn bot_answer(app: &TestApp, text: &str) -> (Option<String>, String) {
    let (s, b, _) = app
        .post("/v1/chat/messages", json!({"text": text}), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let reply = b["replies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["faq_id"].is_string());
    (
        reply.map(|r| r["faq_id"].as_str().unwrap().to_string()),
        reply.map_or(String::new(), |r| r["text"].as_str().unwrap().to_string()),
    )
}

fn pets() -> Value {
    json!({
        "id": "pets",
        "questions": {"ko": ["반려견 데리고 매장에 가도 되나요?", "강아지 동반 가능해요?"],
                      "en": ["Can I bring my dog to the store?"]},
        "answer": {"ko": "네, 목줄을 한 반려견은 매장에 함께 오실 수 있어요.",
                   "en": "Yes, dogs on a leash are welcome in the store."}
    })
}

async fn version(app: &TestApp) -> u64 {
    let (s, b) = app
        .get("/v1/agent/faqs", &app.token_of("agent-a", false))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["version"].as_u64().unwrap()
}

#[tokio::test]
async fn export_keeps_the_pickers_shape_and_gives_the_catalog_file() {
    let app = spawn_app().await;
    let agent = app.token_of("agent-a", false);
    let (s, b) = app.get("/v1/agent/faqs", &agent).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["version"], 0, "the seed file, not changed yet");
    let picker = b["faqs"].as_array().unwrap();
    assert!(picker
        .iter()
        .all(|f| f["faq_id"].is_string() && f["question"].is_string() && f["answer"].is_string()));
    assert_eq!(b["catalog"]["faqs"].as_array().unwrap().len(), picker.len());
    let (s, file) = app.get("/v1/agent/faqs?format=catalog", &agent).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        file, b["catalog"],
        "?format=catalog is the catalog file itself"
    );
    assert!(file["business"]["name"].is_string());
    let (s, e) = app.get("/v1/agent/faqs?format=csv", &agent).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("format"));
}

#[tokio::test]
async fn every_change_answers_the_next_customer_message() {
    let app = spawn_app().await;
    let boss = app.token_of("boss", true);

    // Replace: the next message gets the new answer.
    let (faq, text) = bot_answer(&app, "배송비 얼마예요?").await;
    assert_eq!(faq.as_deref(), Some("shipping-fee"));
    assert!(!text.contains("4,000원"), "{text}");
    let (s, b) = call(
        &app,
        Method::PUT,
        "/v1/agent/faqs/shipping-fee",
        Some(json!({
            "questions": {"ko": ["배송비 얼마예요?", "택배비 얼마인가요?"], "en": ["How much is shipping?"]},
            "answer": {"ko": "배송비는 이제 4,000원이에요.", "en": "Shipping is now 4,000 KRW."}
        })),
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["version"], 1);
    assert_eq!(b["faq"]["id"], "shipping-fee");
    let (faq, text) = bot_answer(&app, "배송비 얼마예요?").await;
    assert_eq!(faq.as_deref(), Some("shipping-fee"));
    assert!(text.contains("4,000원"), "{text}");

    // Add: a question nobody could answer now is.
    let (faq, _) = bot_answer(&app, "반려견 데리고 매장에 가도 되나요?").await;
    assert_ne!(faq.as_deref(), Some("pets"));
    let (s, b) = call(
        &app,
        Method::POST,
        "/v1/agent/faqs",
        Some(pets()),
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["version"], 2);
    let (faq, text) = bot_answer(&app, "반려견 데리고 매장에 가도 되나요?").await;
    assert_eq!(faq.as_deref(), Some("pets"));
    assert!(text.contains("목줄"), "{text}");
    let (s, e) = call(
        &app,
        Method::POST,
        "/v1/agent/faqs",
        Some(pets()),
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "faq_exists");

    // The canned-answer picker lists it too.
    let (_, b) = app.get("/v1/agent/faqs", &boss).await;
    assert!(b["faqs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["faq_id"] == "pets"));

    // Delete: the bot no longer answers with it.
    let (s, b) = call(
        &app,
        Method::DELETE,
        "/v1/agent/faqs/pets",
        None,
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["version"], 3);
    let (faq, _) = bot_answer(&app, "반려견 데리고 매장에 가도 되나요?").await;
    assert_ne!(faq.as_deref(), Some("pets"));
    let (s, e) = call(
        &app,
        Method::DELETE,
        "/v1/agent/faqs/pets",
        None,
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(e["error"]["code"], "faq_not_found");
    let (s, e) = call(
        &app,
        Method::PUT,
        "/v1/agent/faqs/pets",
        Some(json!({"questions": {"ko": ["q"]}, "answer": {"ko": "a"}})),
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");

    // Import: the exported file, edited, goes back whole.
    let (_, mut file) = app.get("/v1/agent/faqs?format=catalog", &boss).await;
    for f in file["faqs"].as_array_mut().unwrap() {
        if f["id"] == "shipping-fee" {
            f["answer"]["ko"] = json!("배송비는 5,000원이에요.");
        }
    }
    let (s, e) = call(
        &app,
        Method::PUT,
        "/v1/agent/faqs?version=1",
        Some(file.clone()),
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "a stale version is refused: {e}");
    assert_eq!(e["error"]["code"], "catalog_changed");
    let (s, b) = call(
        &app,
        Method::PUT,
        "/v1/agent/faqs?version=3",
        Some(file),
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["version"], 4);
    let (_, text) = bot_answer(&app, "배송비 얼마예요?").await;
    assert!(text.contains("5,000원"), "{text}");
    // The agent's canned answer uses the catalog in effect too.
    let (id, _) = app.queued_conversation().await;
    let agent = app.token_of("agent-a", false);
    let (s, _, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/claim"),
            json!({}),
            Some(&agent),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, m, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/messages"),
            json!({"faq_id": "shipping-fee"}),
            Some(&agent),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert!(m["text"].as_str().unwrap().contains("5,000원"), "{m}");
}

#[tokio::test]
async fn invalid_changes_name_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let boss = app.token_of("boss", true);
    let cases = [
        (
            Method::POST,
            "/v1/agent/faqs",
            json!({"id": "x", "questions": {"ko": ["q"]}, "answer": {"ko": "  "}}),
            "answer.ko",
        ),
        (
            Method::POST,
            "/v1/agent/faqs",
            json!({"id": "x", "questions": {"ko": []}, "answer": {"ko": "a"}}),
            "questions",
        ),
        (
            Method::POST,
            "/v1/agent/faqs",
            json!({"id": "x", "answer": {"ko": "a"}}),
            "questions",
        ),
        (
            Method::POST,
            "/v1/agent/faqs",
            json!({"id": "has space", "questions": {"ko": ["q"]}, "answer": {"ko": "a"}}),
            "id",
        ),
        (
            Method::POST,
            "/v1/agent/faqs",
            json!({"questions": {"ko": ["q"]}, "answer": {"ko": "a"}}),
            "id",
        ),
        (
            Method::POST,
            "/v1/agent/faqs",
            json!({"id": "x", "questions": {"KOREAN": ["q"]}, "answer": {"ko": "a"}}),
            "questions",
        ),
        (
            Method::POST,
            "/v1/agent/faqs",
            json!({"id": "x", "questions": {"ko": ["q"]}, "answer": {"ko": "a".repeat(2001)}}),
            "answer.ko",
        ),
        (
            Method::PUT,
            "/v1/agent/faqs/shipping-fee",
            json!({"id": "other", "questions": {"ko": ["q"]}, "answer": {"ko": "a"}}),
            "id",
        ),
        (
            Method::PUT,
            "/v1/agent/faqs",
            json!({"business": {"name": "B"}, "faqs": []}),
            "faqs",
        ),
        (
            Method::PUT,
            "/v1/agent/faqs",
            json!({"business": {"name": "B"}, "faqs": [
            {"id": "a", "questions": {"ko": ["q"]}, "answer": {"ko": "a"}},
            {"id": "a", "questions": {"ko": ["q"]}, "answer": {"ko": "a"}}]}),
            "id",
        ),
        (
            Method::PUT,
            "/v1/agent/faqs",
            json!({"business": {"name": "B"}, "faqs": [
            {"id": "a", "questions": {"ko": ["q"]}, "answer": {"ko": "a"}},
            {"id": "b", "questions": {"ko": ["q"]}, "answer": {}}]}),
            "answer",
        ),
        (
            Method::PUT,
            "/v1/agent/faqs",
            json!({"faqs": []}),
            "business",
        ),
    ];
    for (method, path, body, field) in cases {
        let (s, e) = call(&app, method.clone(), path, Some(body.clone()), Some(&boss)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{method} {path} {body}: {e}");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(field),
            "{body}: {message:?} should name {field}"
        );
    }
    let (s, e) = call(
        &app,
        Method::DELETE,
        "/v1/agent/faqs/bad%20id",
        None,
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, e) = call(
        &app,
        Method::DELETE,
        "/v1/agent/faqs/x?version=soon",
        None,
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(version(&app).await, 0, "nothing was written");
    let (faq, _) = bot_answer(&app, "배송비 얼마예요?").await;
    assert_eq!(
        faq.as_deref(),
        Some("shipping-fee"),
        "the catalog still answers"
    );
}

#[tokio::test]
async fn only_supervisors_change_the_catalog() {
    let app = spawn_app().await;
    let agent = app.token_of("agent-a", false);
    let (_, customer) = app.queued_conversation().await;
    let (_, file) = app.get("/v1/agent/faqs?format=catalog", &agent).await;
    let changes = [
        (Method::PUT, "/v1/agent/faqs", Some(file)),
        (Method::POST, "/v1/agent/faqs", Some(pets())),
        (
            Method::PUT,
            "/v1/agent/faqs/shipping-fee",
            Some(json!({"questions": {"ko": ["q"]}, "answer": {"ko": "a"}})),
        ),
        (Method::DELETE, "/v1/agent/faqs/shipping-fee", None),
    ];
    for (method, path, body) in &changes {
        let (s, e) = call(&app, method.clone(), path, body.clone(), None).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token: {e}"
        );
        let (s, e) = call(&app, method.clone(), path, body.clone(), Some(&customer)).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{method} {path} with a customer's token: {e}"
        );
        let (s, e) = call(&app, method.clone(), path, body.clone(), Some(&agent)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path} as an agent: {e}");
        assert_eq!(e["error"]["code"], "forbidden");
    }
    // Even a bad body from an agent is a 403, not a 400: agents learn nothing.
    let (s, _) = call(
        &app,
        Method::POST,
        "/v1/agent/faqs",
        Some(json!({})),
        Some(&agent),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for token in [None, Some(customer.as_str())] {
        let (s, _) = call(&app, Method::GET, "/v1/agent/faqs", None, token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(version(&app).await, 0, "nothing changed");
    let (s, _) = call(
        &app,
        Method::PATCH,
        "/v1/agent/faqs/shipping-fee",
        None,
        Some(&agent),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}
