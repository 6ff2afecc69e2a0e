//! The hostile customer's three reproductions, over real HTTP against the local
//! server: taking over someone's SMS thread, replaying another sender's
//! `client_message_id`, flooding the queue and the agents' phones. Each failed
//! before the fix (the thread joined, the conversation leaked, 100 alerts went out).

use reqwest::StatusCode;
use serde_json::{json, Value};

mod common;

use common::*;

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text:?}"))
        .to_string()
}

#[tokio::test]
async fn another_persons_phone_cannot_be_linked_without_its_code() {
    let app = spawn_app().await;
    let (s, r, _) = app
        .post(
            "/v1/chat/messages",
            json!({"text": "상담원 연결해 주세요", "device_id": "attacker-1"}),
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let id = r["conversation_id"].as_str().unwrap().to_string();
    let token = r["token"].as_str().unwrap().to_string();
    let contact = format!("/v1/chat/conversations/{id}/contact");
    let (s, r, _) = app
        .post(&contact, json!({"phone": "010-5550-9999"}), Some(&token))
        .await;
    assert_eq!(
        (s, &r),
        (StatusCode::ACCEPTED, &json!({"verification": "sent"}))
    );

    // Wrong guesses are refused with a JSON error, and the code dies after five.
    let verify = format!("{contact}/verify");
    let delivered = app.deliveries(1).await;
    let texts = texts_to(&delivered, "+821055509999");
    assert_eq!(texts.len(), 1, "only the code went to the phone: {texts:?}");
    let real = code_in(&texts[0]);
    let wrong = if real == "000000" { "000001" } else { "000000" };
    for _ in 0..4 {
        let (s, e, _) = app
            .post(&verify, json!({"code": wrong}), Some(&token))
            .await;
        assert_eq!(s, 400, "{e}");
        assert_eq!(e["error"]["code"], "code_invalid");
    }
    let (s, e, _) = app
        .post(&verify, json!({"code": wrong}), Some(&token))
        .await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (400, Some("code_dead"))
    );
    let (s, e, _) = app.post(&verify, json!({"code": real}), Some(&token)).await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (400, Some("code_dead")),
        "a dead code stays dead"
    );

    // The owner of the phone proves it with a fresh code: then, and only then, it joins.
    let (s, _, _) = app
        .post(&contact, json!({"phone": "010-5550-9999"}), Some(&token))
        .await;
    assert_eq!(s, 202);
    let delivered = app.deliveries(2).await;
    let texts = texts_to(&delivered, "+821055509999");
    assert_eq!(texts.len(), 2, "{texts:?}");
    let (s, r, _) = app
        .post(&verify, json!({"code": code_in(&texts[1])}), Some(&token))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["phone_verified"], true);
}

#[tokio::test]
async fn an_opted_out_number_looks_like_any_other() {
    let app = spawn_app().await;
    let (_, r, _) = app
        .post(
            "/v1/chat/messages",
            json!({"text": "hello", "device_id": "d-1"}),
            None,
        )
        .await;
    let id = r["conversation_id"].as_str().unwrap();
    let token = r["token"].as_str().unwrap();
    let (s, body, _) = app
        .post(
            &format!("/v1/chat/conversations/{id}/contact"),
            json!({"phone": "01099998888"}),
            Some(token),
        )
        .await;
    // The same 202 body for every well-formed number: no opt-out oracle.
    assert_eq!(
        (s, body),
        (StatusCode::ACCEPTED, json!({"verification": "sent"}))
    );
    let (s, e, _) = app
        .post(
            &format!("/v1/chat/conversations/{id}/contact"),
            json!({"phone": "not a phone"}),
            Some(token),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (400, Some("invalid_phone"))
    );
}

#[tokio::test]
async fn a_reused_client_message_id_returns_nobody_elses_conversation() {
    let app = spawn_app().await;
    let secret = "제 주소는 서울시 강남구 …";
    let (s, first, _) = app
        .post(
            "/v1/chat/messages",
            json!({"text": secret, "client_message_id": "m-1", "device_id": "victim"}),
            None,
        )
        .await;
    assert_eq!(s, 200);
    // The README's own example key, from another browser and from no browser at all.
    for body in [
        json!({"text": "anything", "client_message_id": "m-1", "device_id": "attacker"}),
        json!({"text": "anything", "client_message_id": "m-1"}),
    ] {
        let (s, r, _) = app.post("/v1/chat/messages", body, None).await;
        assert_eq!(s, 200, "{r}");
        assert_ne!(r["conversation_id"], first["conversation_id"]);
        assert!(
            !r.to_string().contains("서울시"),
            "the victim's text never leaks"
        );
    }
    // The same browser retrying is answered from the store; a new text under the old key is refused.
    let (s, again, _) = app
        .post(
            "/v1/chat/messages",
            json!({"text": secret, "client_message_id": "m-1", "device_id": "victim"}),
            None,
        )
        .await;
    assert_eq!(
        (s, &again["conversation_id"]),
        (StatusCode::OK, &first["conversation_id"])
    );
    let (s, e, _) = app
        .post(
            "/v1/chat/messages",
            json!({"text": "other", "client_message_id": "m-1", "device_id": "victim"}),
            None,
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (409, Some("idempotency_key_reused"))
    );
}

#[tokio::test]
async fn a_flood_of_handoffs_is_refused_and_agents_get_one_alert() {
    let app = spawn_app().await;
    let (mut ok, mut limited) = (0, 0);
    for i in 0..100 {
        let (s, r, retry) = app
            .post(
                "/v1/chat/messages",
                json!({"text": "상담원", "device_id": format!("bot-{i}")}),
                None,
            )
            .await;
        match s.as_u16() {
            200 => ok += 1,
            429 => {
                assert_eq!(r["error"]["code"], "rate_limited", "{r}");
                let secs: u64 = retry.expect("Retry-After").parse().unwrap();
                assert!((1..=600).contains(&secs));
                limited += 1;
            }
            other => panic!("unexpected {other}: {r}"),
        }
    }
    // Only what one address may start in ten minutes got through.
    assert_eq!((ok, limited), (10, 90), "per-IP handoff limit");
    let alerts: Vec<Value> = app
        .deliveries(1)
        .await
        .into_iter()
        .filter(|d| d["item"]["kind"] == "agent_alert")
        .collect();
    assert_eq!(
        alerts.len(),
        1,
        "one alert for the burst, the rest counted: {alerts:?}"
    );
}

#[tokio::test]
async fn only_a_supervisor_dismisses_junk_and_the_queue_pages_past_it() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (s, r, _) = app
            .post(
                "/v1/chat/messages",
                json!({"text": "상담원", "device_id": format!("junk-{i}")}),
                None,
            )
            .await;
        assert_eq!(s, 200, "{r}");
        ids.push(r["conversation_id"].as_str().unwrap().to_string());
    }
    let agent = app.token_of("agent-a", false);
    let supervisor = app.token_of("sup-a", true);
    // Two at a time: every queued conversation is reachable through the cursor.
    let mut seen = Vec::new();
    let mut path = "/v1/agent/queue?limit=2".to_string();
    loop {
        let (s, page) = app.get(&path, &agent).await;
        assert_eq!(s, 200, "{page}");
        seen.extend(
            page["queued"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["conversation_id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/agent/queue?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let (s, e) = app.get("/v1/agent/queue?cursor=not-a-cursor", &agent).await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    // An agent may not dismiss; a supervisor may, from the queue, with no alert.
    let dismiss = format!("/v1/agent/conversations/{}/dismiss", ids[0]);
    let (s, e, _) = app.post(&dismiss, json!({}), Some(&agent)).await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (s, r, _) = app.post(&dismiss, json!({}), Some(&supervisor)).await;
    assert_eq!(
        (s.as_u16(), r["status"].as_str()),
        (200, Some("resolved")),
        "{r}"
    );
    let (_, page) = app.get("/v1/agent/queue", &agent).await;
    let queued: Vec<_> = page["queued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["conversation_id"].as_str().unwrap().to_string())
        .collect();
    assert!(!queued.contains(&ids[0]) && queued.len() == 4, "{queued:?}");
}

#[tokio::test]
async fn the_new_routes_refuse_strangers_and_other_customers() {
    let app = spawn_app().await;
    let (_, mine, _) = app
        .post(
            "/v1/chat/messages",
            json!({"text": "상담원", "device_id": "mine"}),
            None,
        )
        .await;
    let (_, theirs, _) = app
        .post(
            "/v1/chat/messages",
            json!({"text": "상담원", "device_id": "theirs"}),
            None,
        )
        .await;
    let id = mine["conversation_id"].as_str().unwrap();
    let other_token = theirs["token"].as_str().unwrap();
    for (path, body) in [
        (
            format!("/v1/chat/conversations/{id}/contact"),
            json!({"phone": "010-5550-1111"}),
        ),
        (
            format!("/v1/chat/conversations/{id}/contact/verify"),
            json!({"code": "123456"}),
        ),
    ] {
        for token in [None, Some(other_token)] {
            let (s, e, _) = app.post(&path, body.clone(), token).await;
            assert_eq!(
                (s.as_u16(), e["error"]["code"].as_str()),
                (401, Some("unauthorized")),
                "{path}"
            );
        }
    }
    let (s, _, _) = app
        .post(
            &format!("/v1/agent/conversations/{id}/dismiss"),
            json!({}),
            None,
        )
        .await;
    assert_eq!(s, 401, "dismiss without a token");
    // Nothing was texted to the phone named by strangers.
    assert!(texts_to(&app.deliveries(0).await, "+821055501111").is_empty());
}
