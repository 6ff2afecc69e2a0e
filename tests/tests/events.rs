//! Every file in `events/` runs through its function (as `handoff invoke` does) and
//! its response is checked, so no event rots. A new event file needs a line here.

use std::path::Path;

use handoff_local::invoke::{demo_app, invoke};

/// (file under events/, expected HTTP status; 0 for non-HTTP functions that must succeed)
const EXPECTED: &[(&str, u16)] = &[
    ("chat-api/send-faq-ko.json", 200),
    ("chat-api/send-faq-en.json", 200),
    ("chat-api/send-agent-request.json", 200),
    ("chat-api/send-existing-conversation.json", 200),
    ("chat-api/send-base64-body.json", 200),
    ("chat-api/send-empty-text.json", 400),
    ("chat-api/send-too-long.json", 400),
    ("chat-api/send-invalid-json.json", 400),
    ("chat-api/send-wrong-token.json", 401),
    ("chat-api/send-unknown-conversation.json", 404),
    ("chat-api/messages-after-cursor.json", 200),
    ("chat-api/messages-bad-cursor.json", 400),
    ("chat-api/messages-no-token.json", 401),
    ("chat-api/contact-phone.json", 202),
    ("chat-api/contact-verify-no-code.json", 400),
    ("chat-api/contact-bad-phone.json", 400),
    ("chat-api/withdraw.json", 200),
    ("chat-api/attachment-create.json", 201),
    ("chat-api/attachment-create-pdf.json", 415),
    ("agent-api/attachment-unknown.json", 404),
    ("chat-api/widget-js.json", 200),
    ("chat-api/demo-page.json", 200),
    ("chat-api/healthz.json", 200),
    ("chat-api/unknown-route.json", 404),
    ("agent-api/me.json", 200),
    ("agent-api/queue.json", 200),
    ("agent-api/packet.json", 200),
    ("agent-api/claim.json", 200),
    ("agent-api/claim-conflict.json", 409),
    ("agent-api/reply.json", 201),
    ("agent-api/reply-not-owner.json", 409),
    ("agent-api/resolve.json", 200),
    ("agent-api/release-by-supervisor.json", 200),
    ("agent-api/claim-bot-conversation.json", 409),
    ("agent-api/no-claims.json", 401),
    ("agent-api/console.json", 200),
    ("agent-api/grant-credit.json", 201),
    ("agent-api/grant-credit-pending.json", 201),
    ("agent-api/pending-credits.json", 200),
    ("agent-api/pending-credits-agent.json", 403),
    ("agent-api/approve-unknown-credit.json", 404),
    ("agent-api/note.json", 201),
    ("agent-api/transfer.json", 200),
    ("agent-api/canned-answer.json", 201),
    ("agent-api/faqs.json", 200),
    ("agent-api/presence.json", 200),
    ("agent-api/faq-export.json", 200),
    ("agent-api/faq-add.json", 201),
    ("agent-api/faq-replace.json", 200),
    ("agent-api/faq-delete-by-agent.json", 403),
    ("agent-api/faq-delete-unknown.json", 404),
    ("agent-api/notice.json", 202),
    ("agent-api/notice-by-agent.json", 403),
    ("agent-api/faq-import-invalid.json", 400),
    ("agent-api/faq-editor.json", 200),
    ("chat-api/twilio-webhook.json", 200),
    ("alert-dispatcher/dynamodb-insert-alert.json", 0),
    ("alert-dispatcher/dynamodb-modify.json", 0),
    ("alert-dispatcher/scheduled-sweep.json", 0),
    ("sms-inbound/faq-ko.json", 0),
    ("sms-inbound/faq-en.json", 0),
    ("sms-inbound/stop.json", 0),
    ("sms-inbound/help.json", 0),
    ("sms-inbound/start.json", 0),
    ("sms-inbound/duplicate.json", 0),
    ("sms-inbound/agent.json", 0),
    ("chat-api/rating-no-survey.json", 409),
    ("chat-api/rating-bad-score.json", 400),
    ("agent-api/insights.json", 200),
    ("agent-api/insights-agent.json", 403),
    ("agent-api/insights-page.json", 200),
];

/// sms-inbound events: each record's outcome and the conversation's status after it.
/// A stored text with replies must have queued a text back to the customer.
const SMS_OUTCOMES: &[(&str, &[(&str, &str)])] = &[
    ("sms-inbound/faq-ko.json", &[("stored", "bot")]),
    ("sms-inbound/faq-en.json", &[("stored", "bot")]),
    ("sms-inbound/stop.json", &[("stored", "bot")]),
    ("sms-inbound/help.json", &[("stored", "bot")]),
    ("sms-inbound/start.json", &[("stored", "bot")]),
    (
        "sms-inbound/duplicate.json",
        &[("stored", "bot"), ("repeat", "bot")],
    ),
    ("sms-inbound/agent.json", &[("stored", "queued")]),
];

/// What is wrong with an sms-inbound response, given the expected records.
fn sms_problems(name: &str, out: &serde_json::Value, expected: &[(&str, &str)]) -> Vec<String> {
    let records = out["report"]["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let got: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
            (s("outcome"), s("status"))
        })
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(o, s)| (o.to_string(), s.to_string()))
        .collect();
    let mut problems = Vec::new();
    if got != want {
        problems.push(format!("{name}: records {got:?}, expected {want:?}: {out}"));
    }
    let outbox = out["outbox"].as_array().cloned().unwrap_or_default();
    for r in records.iter().filter(|r| r["outcome"] == "stored") {
        let texted = outbox.iter().any(|o| {
            o["item"]["kind"] == "customer_sms"
                && o["item"]["conversation_id"] == r["conversation_id"]
        });
        if r["replies"].as_u64().unwrap_or(0) > 0 && !texted {
            problems.push(format!("{name}: replies were not texted back: {out}"));
        }
    }
    problems
}

fn events_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

#[tokio::test]
async fn every_event_runs_through_its_function() {
    let mut files = Vec::new();
    for function in std::fs::read_dir(events_dir()).unwrap() {
        let function = function.unwrap();
        if !function.file_type().unwrap().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(function.path()).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "json") {
                files.push(format!(
                    "{}/{}",
                    function.file_name().to_string_lossy(),
                    file.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    files.sort();
    let mut failures = Vec::new();
    for name in &files {
        let Some(&(_, expected)) = EXPECTED.iter().find(|(f, _)| f == name) else {
            failures.push(format!("{name}: no expectation; add it to EXPECTED"));
            continue;
        };
        let function = name.split('/').next().unwrap();
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(events_dir().join(name)).unwrap())
                .unwrap();
        // Each event runs on a fresh demo store, like a fresh `handoff invoke`.
        let app = demo_app(None).await.unwrap();
        match invoke(&app, function, event).await {
            Ok(out) => {
                let batch_failures = out["batchItemFailures"].as_array().map_or(0, Vec::len);
                let failed = out["failed"].as_u64().unwrap_or(0) as usize + batch_failures;
                if failed > 0 {
                    failures.push(format!("{name}: {failed} record(s) failed: {out}"));
                }
                if function == "sms-inbound" {
                    match SMS_OUTCOMES.iter().find(|(f, _)| f == name) {
                        Some((_, want)) => failures.extend(sms_problems(name, &out, want)),
                        None => failures.push(format!("{name}: add its outcomes to SMS_OUTCOMES")),
                    }
                }
                if expected != 0 {
                    let status = out["statusCode"].as_u64().unwrap_or(0) as u16;
                    if status != expected {
                        failures.push(format!(
                            "{name}: status {status}, expected {expected}: {}",
                            out["body"]
                        ));
                    } else if status >= 400 {
                        let body: serde_json::Value =
                            serde_json::from_str(out["body"].as_str().unwrap_or(""))
                                .unwrap_or_default();
                        if body["error"]["code"].as_str().is_none_or(str::is_empty) {
                            failures.push(format!("{name}: error without a JSON error code"));
                        }
                    }
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    for (f, _) in EXPECTED {
        if !files.iter().any(|x| x == f) {
            failures.push(format!("{f}: expected but missing from events/"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
