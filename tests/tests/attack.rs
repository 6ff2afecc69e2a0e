//! The attack suite: what a hostile caller tried against `handoff serve` (issue 10),
//! each as a test over real HTTP on a random port that failed before the fix.
//! Headers and CORS, agent identity, strict input, slow and too many connections,
//! private data files.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use handoff_core::auth::{ACCESS_TOKEN_USE, LOCAL_ISSUER};
use handoff_local::Limits;

mod common;

use common::*;

// ---------------------------------------------------------------- headers and CORS

#[tokio::test]
async fn every_response_carries_nosniff() {
    let app = spawn_app().await;
    let c = &app.client;
    let b = &app.base;
    let responses = vec![
        c.get(format!("{b}/")).send().await.unwrap(),
        c.get(format!("{b}/widget.js")).send().await.unwrap(),
        c.get(format!("{b}/console")).send().await.unwrap(),
        c.get(format!("{b}/healthz")).send().await.unwrap(),
        c.get(format!("{b}/openapi.json")).send().await.unwrap(),
        c.get(format!("{b}/nope")).send().await.unwrap(),
        c.get(format!("{b}/v1/agent/queue")).send().await.unwrap(),
        c.delete(format!("{b}/v1/chat/messages"))
            .send()
            .await
            .unwrap(),
        c.post(format!("{b}/v1/chat/messages"))
            .body(vec![b'x'; 70 * 1024])
            .send()
            .await
            .unwrap(),
        c.request(reqwest::Method::OPTIONS, format!("{b}/v1/chat/messages"))
            .send()
            .await
            .unwrap(),
    ];
    for r in responses {
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{} {}",
            r.url(),
            r.status()
        );
    }
}

fn inline_scripts(html: &str) -> Vec<&str> {
    html.split("<script>")
        .skip(1)
        .filter_map(|s| s.split("</script>").next())
        .collect()
}

#[tokio::test]
async fn html_pages_allow_no_unhashed_inline_script_and_the_console_no_framing() {
    use base64::Engine;
    use sha2::Digest;
    let app = spawn_app().await;
    for (path, console) in [("/", false), ("/console", true)] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let h = r.headers().clone();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            h.get("referrer-policy").is_some(),
            "{path}: no Referrer-Policy"
        );
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in {csp}"));
        assert!(!script_src.contains("unsafe-inline"), "{csp}");
        assert!(!script_src.contains("unsafe-eval"), "{csp}");
        let body = r.text().await.unwrap();
        for script in inline_scripts(&body) {
            let hash = base64::engine::general_purpose::STANDARD
                .encode(sha2::Sha256::digest(script.as_bytes()));
            assert!(
                script_src.contains(&format!("'sha256-{hash}'")),
                "{path}: an inline script is not hashed in {script_src}"
            );
        }
        if console {
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert_eq!(h["x-frame-options"], "DENY");
        }
    }
}

#[tokio::test]
async fn agent_routes_answer_no_cross_origin_caller() {
    let app = spawn_app().await;
    let evil = "https://evil.example";
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/agent/queue", app.base),
        )
        .header("origin", evil)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let get = app
        .client
        .get(format!("{}/v1/agent/queue", app.base))
        .header("origin", evil)
        .bearer_auth(app.agent_token())
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert!(get.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_widget_routes_allow_only_the_configured_origins() {
    let app = spawn(Limits::default(), Some("https://shop.example")).await;
    let ask = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/chat/messages", app.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = ask("https://shop.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let other = ask("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

// ---------------------------------------------------------------- agent identity

#[tokio::test]
async fn a_signed_token_without_the_agents_group_is_forbidden() {
    let app = spawn_app().await;
    let (id, _) = app.queued_conversation().await;
    for groups in [&[][..], &["customers"][..]] {
        let token = app.jwt(groups, LOCAL_ISSUER, ACCESS_TOKEN_USE);
        for (method, path) in [
            ("GET", "/v1/agent/me".to_string()),
            ("GET", "/v1/agent/queue".to_string()),
            ("GET", format!("/v1/agent/conversations/{id}")),
            ("POST", format!("/v1/agent/conversations/{id}/claim")),
        ] {
            let url = format!("{}{path}", app.base);
            let req = if method == "GET" {
                app.client.get(url)
            } else {
                app.client.post(url)
            };
            let r = req.bearer_auth(&token).send().await.unwrap();
            assert_eq!(r.status(), 403, "{method} {path} with groups {groups:?}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "forbidden");
        }
    }
    // Nothing was claimed.
    assert_eq!(app.queue_len().await, 1);
    // Supervisors alone are agents too.
    let sup = app.jwt(&["supervisors"], LOCAL_ISSUER, ACCESS_TOKEN_USE);
    let r = app
        .client
        .get(format!("{}/v1/agent/me", app.base))
        .bearer_auth(sup)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn tokens_from_another_issuer_or_not_for_access_are_refused() {
    let app = spawn_app().await;
    for token in [
        app.jwt(&["agents"], "https://evil.example", ACCESS_TOKEN_USE),
        app.jwt(&["agents"], "", ACCESS_TOKEN_USE),
        app.jwt(&["agents"], LOCAL_ISSUER, "id"),
        app.jwt(&["agents"], LOCAL_ISSUER, ""),
    ] {
        let r = app
            .client
            .get(format!("{}/v1/agent/me", app.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
}

// ---------------------------------------------------------------- strict input

#[tokio::test]
async fn json_routes_need_the_json_content_type() {
    let app = spawn_app().await;
    let body = r#"{"text":"상담원 연결해 주세요"}"#;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let (status, r) = app.post_raw("/v1/chat/messages", ct, body, None).await;
        assert_eq!(status, 415, "{ct:?}: {r}");
        assert_eq!(r["error"]["code"], "unsupported_media_type");
    }
    // Nothing was stored: no conversation is waiting.
    assert_eq!(app.queue_len().await, 0);
    let (id, _) = app.queued_conversation().await;
    let agent = app.agent_token();
    let claim = app
        .post_raw(
            &format!("/v1/agent/conversations/{id}/claim"),
            None,
            "",
            Some(&agent),
        )
        .await;
    assert_eq!(claim.0, 200, "{}", claim.1);
    let (status, _) = app
        .post_raw(
            &format!("/v1/agent/conversations/{id}/messages"),
            Some("text/plain"),
            r#"{"text":"hi"}"#,
            Some(&agent),
        )
        .await;
    assert_eq!(status, 415);
    let (status, _) = app
        .post_raw(
            "/v1/chat/messages",
            Some("application/json; charset=utf-8"),
            r#"{"text":"hello"}"#,
            None,
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn json_bodies_must_be_objects() {
    let app = spawn_app().await;
    // Serde reads a struct from an array too: `["상담원"]` was a message.
    for body in [
        r#"["상담원 연결해 주세요"]"#,
        r#"["상담원 연결해 주세요", null, null]"#,
        r#""상담원""#,
        "42",
        "null",
        "true",
    ] {
        let (status, r) = app
            .post_raw("/v1/chat/messages", Some("application/json"), body, None)
            .await;
        assert_eq!(status, 400, "{body}: {r}");
        assert_eq!(r["error"]["code"], "invalid_json");
    }
    assert_eq!(app.queue_len().await, 0);
}

#[tokio::test]
async fn texts_of_only_invisible_characters_are_empty() {
    let app = spawn_app().await;
    for text in [
        "\u{200B}",
        "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
        " \u{3164}\u{115F} \n",
        "\u{E0041}\u{E0042}",
    ] {
        let (status, r) = app
            .post_raw(
                "/v1/chat/messages",
                Some("application/json"),
                &json!({ "text": text }).to_string(),
                None,
            )
            .await;
        assert_eq!(status, 400, "{text:?}: {r}");
        assert_eq!(r["error"]["code"], "empty_text");
    }
    let (id, _) = app.queued_conversation().await;
    let agent = app.agent_token();
    app.post_raw(
        &format!("/v1/agent/conversations/{id}/claim"),
        None,
        "",
        Some(&agent),
    )
    .await;
    let (status, r) = app
        .post_raw(
            &format!("/v1/agent/conversations/{id}/messages"),
            Some("application/json"),
            &json!({"text": "\u{200B}\u{FEFF}"}).to_string(),
            Some(&agent),
        )
        .await;
    assert_eq!(status, 400, "{r}");
}

// ---------------------------------------------------------------- slow and many clients

/// Whether the server closes this connection (EOF or reset) within `within`; any
/// bytes it sends first are returned.
async fn closed_within(mut stream: TcpStream, within: Duration) -> Option<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        stream.set_read_timeout(Some(within)).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return Some(got),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return None
                }
                Err(_) => return Some(got),
            }
        }
    })
    .await
    .unwrap()
}

fn short_limits() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        max_connections: 4,
    }
}

#[tokio::test]
async fn a_half_sent_request_is_cut_off() {
    let app = spawn(short_limits(), None).await;
    let mut s = TcpStream::connect(app.addr).unwrap();
    s.write_all(b"POST /v1/chat/messages HTTP/1.1\r\nHost: x\r\ncontent-type: app")
        .unwrap();
    assert!(
        closed_within(s, Duration::from_secs(15)).await.is_some(),
        "a client that never finishes its headers keeps the connection"
    );
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_408() {
    let app = spawn(short_limits(), None).await;
    let mut s = TcpStream::connect(app.addr).unwrap();
    s.write_all(
        b"POST /v1/chat/messages HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"te",
    )
    .unwrap();
    let got = closed_within(s, Duration::from_secs(15))
        .await
        .expect("a client that never finishes its body keeps the connection");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert_eq!(app.queue_len().await, 0);
}

#[tokio::test]
async fn connections_over_the_cap_are_closed() {
    let app = spawn(
        Limits {
            header_timeout: Duration::from_secs(30),
            max_connections: 2,
            ..short_limits()
        },
        None,
    )
    .await;
    // Two idle connections hold the two places.
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(app.addr).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let third = TcpStream::connect(app.addr).unwrap();
    assert!(
        closed_within(third, Duration::from_secs(10))
            .await
            .is_some(),
        "a connection over the cap was kept"
    );
    drop(held);
    // Once they are gone, new clients are served again.
    let mut ok = false;
    for _ in 0..50 {
        if let Ok(r) = app.client.get(format!("{}/healthz", app.base)).send().await {
            ok = r.status() == 200;
            if ok {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok);
}

// ---------------------------------------------------------------- data files

#[cfg(unix)]
#[tokio::test]
async fn local_data_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    // A verification code is texted through deliveries.jsonl at any hour (agent
    // alerts wait for agent hours).
    let (id, token) = app.queued_conversation().await;
    let (status, body, _) = app
        .post(
            &format!("/v1/chat/conversations/{id}/contact"),
            serde_json::json!({"phone": "+821055501234"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{body}");
    let deliveries = app.data.join("deliveries.jsonl");
    for _ in 0..100 {
        if deliveries.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for name in ["handoff.db", "secrets.json", "deliveries.jsonl"] {
        let mode = std::fs::metadata(app.data.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{name} has mode {:o}", mode & 0o777);
    }
}

// ---------------------------------------------------------------- the contract

#[tokio::test]
async fn the_contract_is_served_and_names_every_route() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for route in handoff_http::routes::ROUTES {
        assert!(
            doc["paths"][route.path][route.method.to_ascii_lowercase()].is_object(),
            "{} {}",
            route.method,
            route.path
        );
    }
}
