//! The bot learns from agents (issue 13 §2), end to end over HTTP on `handoff serve`:
//! a question an agent answered with a canned answer (or tagged with an FAQ) becomes
//! a suggestion when they resolve; a supervisor's accept changes the bot's answer to
//! that question at once, a reject changes nothing; second decisions, a deleted FAQ,
//! and the attacks (no token, a customer's token, an agent on supervisors' routes, an
//! agent tagging a conversation they do not own).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

mod common;

use common::*;

/// Asked in words the seed catalog does not have: before learning, no FAQ answers it.
const OFFICE: &str = "사무실 탕비실에 매달 20kg씩 넣어주실 수 있나요?";
const OFFICE_FAQ: &str = "wholesale";

/// The FAQ the bot answers a new customer's `text` with, if any.
async fn bot_faq(app: &TestApp, text: &str) -> Option<String> {
    let (s, b, _) = app
        .post("/v1/chat/messages", json!({"text": text}), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["replies"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| r["faq_id"].as_str().map(str::to_string))
}

/// A conversation claimed by `agent` in which the customer then asks `question`:
/// (conversation id, the question's seq).
async fn claimed_with_question(app: &TestApp, agent: &str, question: &str) -> (String, u64) {
    let (id, tok) = app.queued_conversation().await;
    let (s, b, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/claim"),
            json!({}),
            Some(&app.token_of(agent, false)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b, _) = app
        .post(
            "/v1/chat/messages",
            json!({"conversation_id": id, "text": question}),
            Some(&tok),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, p) = app
        .get(
            &format!("/v1/agent/conversations/{id}"),
            &app.token_of(agent, false),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let seq = p["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["from"] == "customer" && m["text"] == question)
        .and_then(|m| m["seq"].as_u64())
        .unwrap();
    (id, seq)
}

async fn act(
    app: &TestApp,
    agent: &str,
    id: &str,
    action: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (s, b, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/{action}"),
            body,
            Some(&app.token_of(agent, false)),
        )
        .await;
    (s, b)
}

async fn pending(app: &TestApp) -> Vec<Value> {
    let (s, b) = app
        .get("/v1/agent/suggestions", &app.token_of("boss", true))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["suggestions"].as_array().unwrap().clone()
}

async fn decide(app: &TestApp, id: &str, what: &str, token: &str) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        &format!("/v1/agent/suggestions/{id}/{what}"),
        None,
        Some(token),
    )
    .await
}

async fn catalog_version(app: &TestApp) -> u64 {
    let (_, b) = app
        .get("/v1/agent/faqs", &app.token_of("agent-a", false))
        .await;
    b["version"].as_u64().unwrap()
}

#[tokio::test]
async fn a_canned_answer_becomes_a_suggestion_and_accepting_it_teaches_the_bot() {
    let app = spawn_app().await;
    let boss = app.token_of("boss", true);
    assert_ne!(
        bot_faq(&app, OFFICE).await.as_deref(),
        Some(OFFICE_FAQ),
        "before learning the bot does not answer it with {OFFICE_FAQ}"
    );
    assert!(pending(&app).await.is_empty());

    let (id, seq) = claimed_with_question(&app, "agent-a", OFFICE).await;
    let (s, b) = act(
        &app,
        "agent-a",
        &id,
        "messages",
        json!({"faq_id": OFFICE_FAQ}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert!(pending(&app).await.is_empty(), "nothing until the resolve");
    let (s, b) = act(&app, "agent-a", &id, "resolve", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let list = pending(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let sug = &list[0];
    assert_eq!(sug["faq_id"], OFFICE_FAQ);
    assert_eq!(sug["text"], OFFICE);
    assert_eq!(
        (sug["lang"].as_str(), sug["source"].as_str()),
        (Some("ko"), Some("canned"))
    );
    assert_eq!(
        (sug["conversation_id"].as_str(), sug["seq"].as_u64()),
        (Some(id.as_str()), Some(seq))
    );
    assert_eq!(sug["status"], "pending");
    assert!(sug["faq_question"].is_string());
    let sid = sug["id"].as_str().unwrap().to_string();

    // Agents see nothing and decide nothing.
    let agent = app.token_of("agent-a", false);
    let (s, e) = app.get("/v1/agent/suggestions", &agent).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, _) = decide(&app, &sid, "accept", &agent).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        pending(&app).await.len(),
        1,
        "the agent's attempt changed nothing"
    );

    let before = catalog_version(&app).await;
    let (s, b) = decide(&app, &sid, "accept", &boss).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["faq_id"].as_str()),
        (Some("accepted"), Some(OFFICE_FAQ))
    );
    assert_eq!(
        b["catalog_version"].as_u64(),
        Some(before + 1),
        "a catalog change: the version moves on"
    );
    assert_eq!(
        bot_faq(&app, OFFICE).await.as_deref(),
        Some(OFFICE_FAQ),
        "the next message uses it"
    );
    let (_, cat) = app.get("/v1/agent/faqs?format=catalog", &boss).await;
    let faq = cat["faqs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == OFFICE_FAQ)
        .unwrap();
    assert!(
        faq["questions"]["ko"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q == OFFICE),
        "{faq}"
    );

    // Decided once; the text is gone from the list.
    assert!(pending(&app).await.is_empty());
    let (s, e) = decide(&app, &sid, "reject", &boss).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_decided")),
        "{e}"
    );
    assert_eq!(e["error"]["status"], "accepted");

    // The same question answered the same way again is an example already: no suggestion.
    let (id2, _) = claimed_with_question(&app, "agent-a", OFFICE).await;
    act(
        &app,
        "agent-a",
        &id2,
        "messages",
        json!({"faq_id": OFFICE_FAQ}),
    )
    .await;
    let (s, _) = act(&app, "agent-a", &id2, "resolve", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(pending(&app).await.is_empty());
}

#[tokio::test]
async fn a_tagged_message_becomes_a_suggestion_and_rejecting_changes_nothing() {
    let app = spawn_app().await;
    let boss = app.token_of("boss", true);
    let (id, seq) = claimed_with_question(&app, "agent-a", OFFICE).await;
    let tag = |who: &'static str, seq: u64, body: Value| {
        let app = &app;
        let id = id.clone();
        async move {
            call(
                app,
                Method::POST,
                &format!("/v1/agent/conversations/{id}/messages/{seq}/faq"),
                Some(body),
                Some(&app.token_of(who, false)),
            )
            .await
        }
    };
    // Attacks and bad input first: none of them leaves a tag.
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/v1/agent/conversations/{id}/messages/{seq}/faq"),
        Some(json!({"faq_id": OFFICE_FAQ})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, e) = tag("agent-b", seq, json!({"faq_id": OFFICE_FAQ})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_owner")),
        "{e}"
    );
    let (s, e) = tag("agent-a", seq, json!({"faq_id": "no-such-faq"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("faq_id"));
    let (s, e) = tag("agent-a", seq - 1, json!({"faq_id": OFFICE_FAQ})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "only a customer's message: {e}");
    let (s, e) = tag("agent-a", 999, json!({"faq_id": OFFICE_FAQ})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("seq"));
    let (s, _) = tag("agent-a", seq, json!({"faq_id": OFFICE_FAQ, "x": 1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, b) = tag("agent-a", seq, json!({"faq_id": OFFICE_FAQ})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["seq"].as_u64(), b["faq_id"].as_str()),
        (Some(seq), Some(OFFICE_FAQ))
    );
    let (s, b) = act(&app, "agent-a", &id, "resolve", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let list = pending(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        (list[0]["source"].as_str(), list[0]["text"].as_str()),
        (Some("tag"), Some(OFFICE))
    );
    let sid = list[0]["id"].as_str().unwrap().to_string();

    let before = catalog_version(&app).await;
    let (s, b) = decide(&app, &sid, "reject", &boss).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["catalog_version"].as_u64()),
        (Some("rejected"), None)
    );
    assert_eq!(
        catalog_version(&app).await,
        before,
        "a reject changes no catalog"
    );
    assert_ne!(bot_faq(&app, OFFICE).await.as_deref(), Some(OFFICE_FAQ));
    assert!(pending(&app).await.is_empty());
    let (s, e) = decide(&app, &sid, "accept", &boss).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_decided"))
    );
}

#[tokio::test]
async fn unknown_ids_a_deleted_faq_and_the_attacks() {
    let app = spawn_app().await;
    let boss = app.token_of("boss", true);
    let unknown = format!("s_{}", "0".repeat(32));
    let (s, e) = decide(&app, &unknown, "accept", &boss).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("suggestion_not_found"))
    );
    let (s, e) = decide(&app, "s_nothex", "reject", &boss).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");

    // No token, a customer's token, a forged one.
    let (_, customer) = app.queued_conversation().await;
    for token in [None, Some(customer.as_str()), Some("not-a-jwt")] {
        let (s, _) = call(&app, Method::GET, "/v1/agent/suggestions", None, token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{token:?}");
        let (s, _) = call(
            &app,
            Method::POST,
            &format!("/v1/agent/suggestions/{unknown}/accept"),
            None,
            token,
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{token:?}");
    }

    // The FAQ is deleted while its suggestion waits: accept names it, reject still works.
    let (id, _) = claimed_with_question(&app, "agent-a", OFFICE).await;
    act(
        &app,
        "agent-a",
        &id,
        "messages",
        json!({"faq_id": OFFICE_FAQ}),
    )
    .await;
    act(&app, "agent-a", &id, "resolve", json!({})).await;
    let sid = pending(&app).await[0]["id"].as_str().unwrap().to_string();
    let (s, b) = call(
        &app,
        Method::DELETE,
        &format!("/v1/agent/faqs/{OFFICE_FAQ}"),
        None,
        Some(&boss),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let list = pending(&app).await;
    assert_eq!(
        list[0]["faq_question"],
        Value::Null,
        "the list says the FAQ is gone"
    );
    let before = catalog_version(&app).await;
    let (s, e) = decide(&app, &sid, "accept", &boss).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("faq_deleted")),
        "{e}"
    );
    assert!(e["error"]["message"].as_str().unwrap().contains(OFFICE_FAQ));
    assert_eq!(catalog_version(&app).await, before, "nothing half-applied");
    assert_eq!(pending(&app).await.len(), 1, "still undecided");
    let (s, _) = decide(&app, &sid, "reject", &boss).await;
    assert_eq!(s, StatusCode::OK);

    // The page is served like the other console pages.
    let r = app
        .client
        .get(format!("{}/console/suggestions", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}
