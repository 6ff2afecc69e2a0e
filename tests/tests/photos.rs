//! Photos from customers over HTTP on the local server: create → PUT → send → the
//! agent (packet, read route) and the customer (transcript, read route) see it; and
//! what an attacker tries: other conversations' tokens and ids, replays, wrong types,
//! huge bodies, unsent or spent attachments.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};

use common::{spawn_app, TestApp};

const MAX: u64 = 10 * 1024 * 1024;

fn png(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    v.resize(len, 0x42);
    v
}

impl TestApp {
    async fn create(
        &self,
        conv: &str,
        token: Option<&str>,
        ct: &str,
        size: u64,
    ) -> (StatusCode, Value) {
        let (s, v, _) = self
            .post(
                &format!("/v1/chat/conversations/{conv}/attachments"),
                json!({"content_type": ct, "size": size}),
                token,
            )
            .await;
        (s, v)
    }
    async fn put(&self, url: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let r = self
            .client
            .put(format!("{}{url}", self.base))
            .header("content-type", "image/png")
            .body(bytes)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
    async fn send_photos(&self, conv: &str, token: &str, ids: &[&str]) -> (StatusCode, Value) {
        let (s, v, _) = self
            .post(
                "/v1/chat/messages",
                json!({"conversation_id": conv, "attachment_ids": ids, "text": "박스가 찌그러져 왔어요"}),
                Some(token),
            )
            .await;
        (s, v)
    }
    async fn read(&self, path: &str, token: Option<&str>) -> (StatusCode, Option<String>, Vec<u8>) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (r.status(), ct, r.bytes().await.unwrap().to_vec())
    }
    /// An uploaded photo of this conversation: (attachment id, its bytes).
    async fn uploaded(&self, conv: &str, token: &str, len: usize) -> (String, Vec<u8>) {
        let (s, v) = self
            .create(conv, Some(token), "image/png", len as u64)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let bytes = png(len);
        let (s, up) = self
            .put(v["upload_url"].as_str().unwrap(), bytes.clone())
            .await;
        assert_eq!(s, StatusCode::OK, "{up}");
        (v["attachment_id"].as_str().unwrap().to_string(), bytes)
    }
}

#[tokio::test]
async fn a_photo_reaches_the_agent_and_the_customer() {
    let app = spawn_app().await;
    let (conv, token) = app.queued_conversation().await;
    let (id, bytes) = app.uploaded(&conv, &token, 5000).await;
    let (s, sent) = app.send_photos(&conv, &token, &[&id]).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    assert_eq!(sent["message"]["attachments"][0]["id"], id.as_str());
    assert_eq!(
        sent["message"]["attachments"][0]["content_type"],
        "image/png"
    );
    assert_eq!(sent["status"], "queued");

    // The agent: in the packet's transcript, and readable with an agent token.
    let agent = app.agent_token();
    let (s, packet) = app
        .get(&format!("/v1/agent/conversations/{conv}"), &agent)
        .await;
    assert_eq!(s, StatusCode::OK);
    let packet_text = packet.to_string();
    assert!(
        packet_text.contains(&id),
        "the packet shows the photo: {packet}"
    );
    let (s, ct, body) = app
        .read(
            &format!("/v1/agent/conversations/{conv}/attachments/{id}"),
            Some(&agent),
        )
        .await;
    assert_eq!((s, ct.as_deref()), (StatusCode::OK, Some("image/png")));
    assert_eq!(body, bytes);

    // The customer: in their transcript, and readable with their token.
    let (s, msgs) = app
        .get(&format!("/v1/chat/conversations/{conv}/messages"), &token)
        .await;
    assert_eq!(s, StatusCode::OK);
    let mine = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| !m["attachments"].is_null());
    assert_eq!(mine.unwrap()["attachments"][0]["id"], id.as_str(), "{msgs}");
    let (s, _, body) = app
        .read(
            &format!("/v1/chat/conversations/{conv}/attachments/{id}"),
            Some(&token),
        )
        .await;
    assert_eq!((s, body == bytes), (StatusCode::OK, true));
}

#[tokio::test]
async fn only_images_by_content_and_at_most_10_mb() {
    let app = spawn_app().await;
    let (conv, token) = app.queued_conversation().await;
    // Declared types that are not photos: 415; sizes over 10 MB or zero.
    for ct in ["application/pdf", "image/svg+xml", "text/html", "image/gif"] {
        let (s, v) = app.create(&conv, Some(&token), ct, 100).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}: {v}");
        assert_eq!(v["error"]["code"], "unsupported_media_type");
    }
    let (s, v) = app.create(&conv, Some(&token), "image/jpeg", MAX + 1).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );
    let (s, _) = app.create(&conv, Some(&token), "image/jpeg", 0).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.create(&conv, Some(&token), "image/jpeg", MAX).await.0,
        StatusCode::CREATED
    );

    // Declared a PNG, sent a PDF: refused by content, nothing kept.
    let (_, v) = app.create(&conv, Some(&token), "image/png", 9).await;
    let (s, e) = app
        .put(v["upload_url"].as_str().unwrap(), b"%PDF-1.7\n".to_vec())
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let id = v["attachment_id"].as_str().unwrap();
    let (s, e) = app.send_photos(&conv, &token, &[id]).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("attachment_not_uploaded"))
    );
    assert_eq!(e["error"]["attachment_id"], id);

    // More bytes than declared, or than 10 MB: refused.
    let (_, v) = app.create(&conv, Some(&token), "image/png", 100).await;
    let (s, e) = app.put(v["upload_url"].as_str().unwrap(), png(200)).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("size_mismatch"))
    );
    let (_, v) = app.create(&conv, Some(&token), "image/png", MAX).await;
    let (s, _) = app
        .put(v["upload_url"].as_str().unwrap(), png(MAX as usize + 1))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn tokens_ids_and_upload_urls_cannot_be_borrowed_or_replayed() {
    let app = spawn_app().await;
    let (conv, token) = app.queued_conversation().await;
    let (other, other_token) = app.queued_conversation().await;
    let (id, _) = app.uploaded(&conv, &token, 300).await;

    // Creating: no token 401, another customer's token 403.
    assert_eq!(
        app.create(&conv, None, "image/png", 10).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.create(&conv, Some(&other_token), "image/png", 10)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // Sending another conversation's attachment: 404 naming it, and it stays unsent.
    let (s, e) = app.send_photos(&other, &other_token, &[&id]).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("attachment_not_found"))
    );
    assert_eq!(e["error"]["attachment_id"], id.as_str());
    let guessed = format!("a_{}", "0".repeat(32));
    assert_eq!(
        app.send_photos(&conv, &token, &[&guessed]).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, _) = app
        .send_photos(&conv, &token, &["../../secrets.json"])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Sent once; a second send is refused and stores nothing.
    assert_eq!(
        app.send_photos(&conv, &token, &[&id]).await.0,
        StatusCode::OK
    );
    let (s, e) = app.send_photos(&conv, &token, &[&id]).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("attachment_already_used"))
    );

    // Reading: no token 401, another customer's token 403, unknown ids 404.
    let path = format!("/v1/chat/conversations/{conv}/attachments/{id}");
    assert_eq!(app.read(&path, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.read(&path, Some(&other_token)).await.0,
        StatusCode::FORBIDDEN
    );
    let cross = format!("/v1/chat/conversations/{other}/attachments/{id}");
    assert_eq!(
        app.read(&cross, Some(&other_token)).await.0,
        StatusCode::NOT_FOUND
    );
    let agent_path = format!("/v1/agent/conversations/{conv}/attachments/{id}");
    assert_eq!(
        app.read(&agent_path, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.read(&agent_path, Some(&token)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let no_group = app.jwt(
        &[],
        handoff_core::auth::LOCAL_ISSUER,
        handoff_core::auth::ACCESS_TOKEN_USE,
    );
    assert_eq!(
        app.read(&agent_path, Some(&no_group)).await.0,
        StatusCode::FORBIDDEN
    );
    let supervisor = app.token_of("sup-1", true);
    assert_eq!(
        app.read(&agent_path, Some(&supervisor)).await.0,
        StatusCode::OK
    );

    // Upload URLs: the key is the credential, used once; another attachment's key fails.
    let (_, a) = app.create(&conv, Some(&token), "image/png", 50).await;
    let (_, b) = app.create(&conv, Some(&token), "image/png", 50).await;
    let url_a = a["upload_url"].as_str().unwrap().to_string();
    let key_a = url_a.split("key=").nth(1).unwrap();
    let forged = format!(
        "/v1/chat/uploads/{}?key={key_a}",
        b["attachment_id"].as_str().unwrap()
    );
    let (s, e) = app.put(&forged, png(50)).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("upload_forbidden"))
    );
    let no_key = format!("/v1/chat/uploads/{}", a["attachment_id"].as_str().unwrap());
    assert_eq!(app.put(&no_key, png(50)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&url_a, png(50)).await.0, StatusCode::OK);
    let (s, e) = app.put(&url_a, png(50)).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_uploaded"))
    );
    // A file name is not an id.
    assert_eq!(
        app.put("/v1/chat/uploads/..%2F..%2Fsecrets.json?key=x", png(5))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn photo_files_are_private_and_limits_hold() {
    let app = spawn_app().await;
    let (conv, token) = app.queued_conversation().await;
    let (id, _) = app.uploaded(&conv, &token, 64).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.data.join("attachments").join(&id))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // At most 5 distinct photos per message, and not an empty list.
    let (s, e) = app.send_photos(&conv, &token, &[&id, &id]).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("too_many_attachments"))
    );
    assert_eq!(
        app.send_photos(&conv, &token, &[]).await.0,
        StatusCode::BAD_REQUEST
    );
    // A conversation creates at most 30 attachments an hour.
    let mut last = StatusCode::CREATED;
    for _ in 0..31 {
        last = app.create(&conv, Some(&token), "image/webp", 10).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}
