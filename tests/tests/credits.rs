//! Goodwill credits, notes, transfer and canned answers (issue 11 §1 and §4), end to
//! end over HTTP on `handoff serve` with its default limits (30,000 KRW per credit,
//! 100,000 KRW per agent per business day).

use reqwest::StatusCode;
use serde_json::{json, Value};

mod common;

use common::*;

/// A conversation claimed by agent `agent`: (id, customer token).
async fn claimed(app: &TestApp, agent: &str) -> (String, String) {
    let (id, tok) = app.queued_conversation().await;
    let (s, b, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/claim"),
            json!({}),
            Some(&app.token_of(agent, false)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    (id, tok)
}

async fn grant(
    app: &TestApp,
    token: &str,
    id: &str,
    amount: i64,
    request_id: &str,
) -> (StatusCode, Value) {
    let (s, b, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/credits"),
            json!({"amount": amount, "currency": "KRW", "reason": "parcel arrived damaged", "request_id": request_id}),
            Some(token),
        )
        .await;
    (s, b)
}

/// The texts the customer sees in their conversation.
async fn customer_texts(app: &TestApp, id: &str, tok: &str) -> Vec<String> {
    let (s, b) = app
        .get(&format!("/v1/chat/conversations/{id}/messages"), tok)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

fn kinds(deliveries: &[Value], kind: &str) -> Vec<Value> {
    deliveries
        .iter()
        .filter(|d| d["item"]["kind"] == kind)
        .cloned()
        .collect()
}

#[tokio::test]
async fn within_the_limit_a_credit_is_granted_at_once_and_published() {
    let app = spawn_app().await;
    let agent = app.token_of("agent-a", false);
    let (id, tok) = claimed(&app, "agent-a").await;
    let (s, b) = grant(&app, &agent, &id, 20_000, "r-1").await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let credit = &b["credit"];
    assert_eq!(credit["status"], "granted");
    assert_eq!(credit["amount"], 20_000);
    assert_eq!(credit["currency"], "KRW");
    assert_eq!(credit["agent_id"], "agent-a");
    assert_eq!(credit["decided_by"], "agent-a");
    assert!(credit["id"].as_str().unwrap().starts_with("cr_"));
    assert!(credit["created_at"].is_string());

    // The same request_id: the same credit, and no second message.
    let before = customer_texts(&app, &id, &tok).await;
    let (s, again) = grant(&app, &agent, &id, 20_000, "r-1").await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(again["credit"], b["credit"]);
    let after = customer_texts(&app, &id, &tok).await;
    assert_eq!(before, after, "a repeat writes nothing");
    let told: Vec<_> = after.iter().filter(|t| t.contains("20,000 KRW")).collect();
    assert_eq!(told.len(), 1, "{after:?}");
    assert!(told[0].contains("지급"), "told in Korean: {}", told[0]);

    // The same request_id for another amount is refused.
    let (s, b) = grant(&app, &agent, &id, 10_000, "r-1").await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(b["error"]["code"], "idempotency_key_reused");

    let (_, packet) = app
        .get(&format!("/v1/agent/conversations/{id}"), &agent)
        .await;
    assert_eq!(packet["credits"].as_array().unwrap().len(), 1);
    assert_eq!(packet["credits"][0]["reason"], "parcel arrived damaged");

    let d = app.deliveries(2).await;
    let events = kinds(&d, "credit_decided");
    assert_eq!(events.len(), 1, "{d:?}");
    assert_eq!(events[0]["item"]["status"], "granted");
    assert_eq!(events[0]["item"]["conversation_id"], id.as_str());
}

#[tokio::test]
async fn above_the_limit_a_supervisor_approves_once_and_the_customer_hears_each_step() {
    let app = spawn_app().await;
    let agent = app.token_of("agent-a", false);
    let sup = app.token_of("sup-1", true);
    let sup2 = app.token_of("sup-2", true);
    let (id, tok) = claimed(&app, "agent-a").await;
    let (s, b) = grant(&app, &agent, &id, 50_000, "big").await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["credit"]["status"], "pending_approval");
    assert!(b["credit"]["decided_by"].is_null());
    let cr = b["credit"]["id"].as_str().unwrap().to_string();

    // Agents may neither list nor decide.
    let (s, e) = app
        .get("/v1/agent/credits?status=pending_approval", &agent)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, _, _) = app
        .post(
            &format!("/v1/agent/credits/{cr}/approve"),
            json!({}),
            Some(&agent),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, list) = app
        .get("/v1/agent/credits?status=pending_approval", &sup)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(list["credits"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == cr.as_str()));
    let (s, _) = app.get("/v1/agent/credits?status=granted", &sup).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Two supervisors at once: exactly one decides.
    let (approve_path, decline_path) = (
        format!("/v1/agent/credits/{cr}/approve"),
        format!("/v1/agent/credits/{cr}/decline"),
    );
    let approve = app.post(
        &approve_path,
        json!({"note": "ok, loyal customer"}),
        Some(&sup),
    );
    let decline = app.post(&decline_path, json!({}), Some(&sup2));
    let ((s1, b1, _), (s2, b2, _)) = tokio::join!(approve, decline);
    let mut statuses = [s1, s2];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{b1} {b2}"
    );
    let (winner, loser) = if s1 == StatusCode::OK {
        (b1, b2)
    } else {
        (b2, b1)
    };
    assert_eq!(loser["error"]["code"], "already_decided");
    let decided = winner["credit"]["status"].as_str().unwrap().to_string();
    assert!(decided == "approved" || decided == "declined");
    assert!(winner["credit"]["decided_at"].is_string());

    // And once decided, never again.
    let (s, b, _) = app
        .post(
            &format!("/v1/agent/credits/{cr}/approve"),
            json!({}),
            Some(&sup),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(b["error"]["status"], decided.as_str());
    let (_, list) = app.get("/v1/agent/credits", &sup).await;
    assert!(!list["credits"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == cr.as_str()));

    let texts = customer_texts(&app, &id, &tok).await;
    assert!(
        texts
            .iter()
            .any(|t| t.contains("50,000 KRW") && t.contains("승인")),
        "{texts:?}"
    );
    let last = texts.last().unwrap();
    match decided.as_str() {
        "approved" => assert!(last.contains("지급"), "{last}"),
        _ => assert!(last.contains("승인되지"), "{last}"),
    }

    let (_, packet) = app
        .get(&format!("/v1/agent/conversations/{id}"), &agent)
        .await;
    let c = &packet["credits"][0];
    assert_eq!(c["status"], decided.as_str());
    assert_eq!(c["agent_id"], "agent-a");
    assert!(c["decided_by"] == "sup-1" || c["decided_by"] == "sup-2");

    let d = app.deliveries(3).await;
    let alerts = kinds(&d, "credit_approval");
    assert_eq!(alerts.len(), 1, "{d:?}");
    assert_eq!(alerts[0]["item"]["conversation_id"], id.as_str());
    assert_eq!(alerts[0]["item"]["credit_id"], cr.as_str());
    let events = kinds(&d, "credit_decided");
    assert_eq!(events.len(), 1, "one event per decided credit: {d:?}");
    assert_eq!(events[0]["item"]["status"], decided.as_str());
}

#[tokio::test]
async fn the_daily_limit_holds_even_for_concurrent_grants() {
    let app = spawn_app().await;
    let agent = app.token_of("agent-d", false);
    let (a, _) = claimed(&app, "agent-d").await;
    let (b, _) = claimed(&app, "agent-d").await;
    for (i, conv) in [&a, &a, &b].iter().enumerate() {
        let (s, r) = grant(&app, &agent, conv, 25_000, &format!("d-{i}")).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(r["credit"]["status"], "granted", "{r}");
    }
    // 75,000 granted today; room for one more 20,000, not two.
    let (r1, r2) = tokio::join!(
        grant(&app, &agent, &a, 20_000, "race-a"),
        grant(&app, &agent, &b, 20_000, "race-b")
    );
    let mut got = [
        r1.1["credit"]["status"].as_str().unwrap().to_string(),
        r2.1["credit"]["status"].as_str().unwrap().to_string(),
    ];
    got.sort();
    assert_eq!(got, ["granted", "pending_approval"], "{r1:?} {r2:?}");
    // A supervisor has no limit.
    let sup = app.token_of("sup-1", true);
    let (s, r) = grant(&app, &sup, &a, 500_000, "sup-big").await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(r["credit"]["status"], "granted");
}

#[tokio::test]
async fn credits_validate_their_input_and_their_caller() {
    let app = spawn_app().await;
    let agent = app.token_of("agent-a", false);
    let other = app.token_of("agent-b", false);
    let (id, tok) = claimed(&app, "agent-a").await;
    let path = format!("/v1/agent/conversations/{id}/credits");
    for (body, field) in [
        (
            json!({"amount": 0, "currency": "KRW", "reason": "x", "request_id": "v"}),
            "amount",
        ),
        (
            json!({"amount": 1.5, "currency": "KRW", "reason": "x", "request_id": "v"}),
            "amount",
        ),
        (
            json!({"amount": "100", "currency": "KRW", "reason": "x", "request_id": "v"}),
            "amount",
        ),
        (
            json!({"amount": 100, "currency": "USD", "reason": "x", "request_id": "v"}),
            "currency",
        ),
        (
            json!({"amount": 100, "currency": "KRW", "reason": " ", "request_id": "v"}),
            "reason",
        ),
        (
            json!({"amount": 100, "currency": "KRW", "reason": "x", "request_id": "a b"}),
            "request_id",
        ),
        (
            json!({"amount": 100, "currency": "KRW", "reason": "x"}),
            "request_id",
        ),
    ] {
        let (s, b, _) = app.post(&path, body.clone(), Some(&agent)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {b}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains(field),
            "{body}: {b}"
        );
    }
    // No token, a customer's token, another agent's conversation.
    let ok = json!({"amount": 100, "currency": "KRW", "reason": "x", "request_id": "w"});
    let (s, _, _) = app.post(&path, ok.clone(), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = app.post(&path, ok.clone(), Some(&tok)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b, _) = app.post(&path, ok.clone(), Some(&other)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(b["error"]["code"], "not_owner");
    let (s, b, _) = app
        .post(
            "/v1/agent/conversations/c_nope/credits",
            ok.clone(),
            Some(&agent),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let sup = app.token_of("sup-1", true);
    let (s, b, _) = app
        .post(
            "/v1/agent/credits/cr_missing/approve",
            json!({}),
            Some(&sup),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("credit_not_found"))
    );
    let (s, _, _) = app
        .post("/v1/agent/credits/cr_missing/approve", json!({}), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = app
        .post(
            "/v1/agent/credits/cr_missing/approve",
            json!({}),
            Some(&tok),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app.get("/v1/agent/credits", &tok).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Nothing of the refused attempts reached the customer.
    let texts = customer_texts(&app, &id, &tok).await;
    assert!(!texts.iter().any(|t| t.contains("KRW")), "{texts:?}");
}

#[tokio::test]
async fn notes_are_for_agents_only() {
    let app = spawn_app().await;
    let agent = app.token_of("agent-a", false);
    let colleague = app.token_of("agent-b", false);
    let (id, tok) = claimed(&app, "agent-a").await;
    let path = format!("/v1/agent/conversations/{id}/notes");
    let (s, b, _) = app
        .post(
            &path,
            json!({"text": "VIP: refund already promised by phone"}),
            Some(&colleague),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["note"]["agent_id"], "agent-b");
    let (_, packet) = app
        .get(&format!("/v1/agent/conversations/{id}"), &agent)
        .await;
    assert_eq!(
        packet["notes"][0]["text"],
        "VIP: refund already promised by phone"
    );
    let texts = customer_texts(&app, &id, &tok).await;
    assert!(!texts.iter().any(|t| t.contains("VIP")), "{texts:?}");
    let (s, _, _) = app.post(&path, json!({"text": "x"}), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = app.post(&path, json!({"text": "x"}), Some(&tok)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = app.post(&path, json!({"text": "  "}), Some(&agent)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = app
        .post(&path, json!({"text": "x".repeat(1001)}), Some(&agent))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = app
        .post(
            "/v1/agent/conversations/c_nope/notes",
            json!({"text": "x"}),
            Some(&agent),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn transfer_passes_ownership_and_back_to_the_queue() {
    let app = spawn_app().await;
    let a = app.token_of("agent-a", false);
    let b = app.token_of("agent-b", false);
    let c = app.token_of("agent-c", false);
    let sup = app.token_of("sup-1", true);
    let (id, tok) = claimed(&app, "agent-a").await;
    let path = format!("/v1/agent/conversations/{id}/transfer");
    // Not the owner: refused.
    let (s, e, _) = app.post(&path, json!({"to": "agent-c"}), Some(&b)).await;
    assert_eq!(
        (s, e["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("not_owner"))
    );
    let (s, _, _) = app.post(&path, json!({"to": "agent-b"}), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = app.post(&path, json!({"to": "agent-b"}), Some(&tok)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = app.post(&path, json!({}), Some(&a)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = app.post(&path, json!({"to": 7}), Some(&a)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, r, _) = app.post(&path, json!({"to": "agent-b"}), Some(&a)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["status"].clone(), r["assigned_to"].clone()),
        (json!("assigned"), json!("agent-b"))
    );
    // The previous owner can no longer act on it.
    let (s, e, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/messages"),
            json!({"text": "hi"}),
            Some(&a),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("not_owner"))
    );
    let (s, _, _) = app.post(&path, json!({"to": "agent-a"}), Some(&a)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/messages"),
            json!({"text": "Hello, I'm taking over"}),
            Some(&b),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // A supervisor may move anyone's conversation; back to the queue with null.
    let (s, r, _) = app.post(&path, json!({"to": null}), Some(&sup)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["status"].clone(), r["assigned_to"].clone()),
        (json!("queued"), Value::Null)
    );
    let (_, q) = app.get("/v1/agent/queue", &c).await;
    assert!(q["queued"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["conversation_id"] == id.as_str()));
    let (s, _, _) = app.post(&path, json!({"to": "agent-c"}), Some(&sup)).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "only assigned conversations are transferred"
    );
}

#[tokio::test]
async fn canned_answers_come_from_the_catalog_in_the_customers_language() {
    let app = spawn_app().await;
    let agent = app.token_of("agent-a", false);
    let (s, faqs) = app.get("/v1/agent/faqs", &agent).await;
    assert_eq!(s, StatusCode::OK);
    let first = &faqs["faqs"][0];
    let faq_id = first["faq_id"].as_str().unwrap().to_string();
    assert!(!first["answer"].as_str().unwrap().is_empty());
    let (s, _) = app.get("/v1/agent/faqs", "nope").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // An English-speaking customer gets the English answer.
    let r: Value = app
        .client
        .post(format!("{}/v1/chat/messages", app.base))
        .json(&json!({"text": "I want to talk to an agent please"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "queued", "{r}");
    let id = r["conversation_id"].as_str().unwrap();
    let tok = r["token"].as_str().unwrap();
    app.post(
        &format!("/v1/agent/conversations/{id}/claim"),
        json!({}),
        Some(&agent),
    )
    .await;
    let path = format!("/v1/agent/conversations/{id}/messages");
    let (s, m, _) = app
        .post(&path, json!({"faq_id": faq_id}), Some(&agent))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["faq_id"], faq_id.as_str());
    assert_eq!(m["from"], "agent");
    let sent = m["text"].as_str().unwrap();
    assert!(sent.is_ascii(), "in English: {sent}");
    assert!(customer_texts(&app, id, tok)
        .await
        .iter()
        .any(|t| t == sent));

    let (s, e, _) = app
        .post(&path, json!({"faq_id": "no-such-faq"}), Some(&agent))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("faq_id"),
        "{e}"
    );
    let (s, _, _) = app
        .post(
            &path,
            json!({"faq_id": faq_id, "text": "both"}),
            Some(&agent),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = app.post(&path, json!({}), Some(&agent)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}
