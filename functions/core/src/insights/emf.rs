//! CloudWatch Embedded Metric Format: one JSON line per metric group on stdout, which
//! CloudWatch Logs turns into metrics. Dimensions stay small (a channel, a reason):
//! never a customer, conversation or agent id.

use std::io::Write;
use std::sync::Mutex;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::Counts;

pub const NAMESPACE: &str = "Handoff";

/// Where metric lines go.
pub trait MetricsSink: Send + Sync {
    fn emit(&self, line: &str);
}

/// Lines on stdout, where Lambda's log agent finds them.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdoutSink;

impl MetricsSink for StdoutSink {
    fn emit(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        // A lost metric line must never fail a request.
        let _ = writeln!(out, "{line}");
    }
}

/// Lines kept in memory (tests, and `handoff` commands that print them).
#[derive(Debug, Default)]
pub struct MemorySink(Mutex<Vec<String>>);

impl MemorySink {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl MetricsSink for MemorySink {
    fn emit(&self, line: &str) {
        if let Ok(mut l) = self.0.lock() {
            l.push(line.to_string());
        }
    }
}

/// One EMF document: metrics sharing one set of dimensions.
pub fn line(
    at: Timestamp,
    service: &str,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, f64)],
) -> String {
    let mut doc = Map::new();
    let mut dims: Vec<&str> = vec!["Service"];
    doc.insert("Service".into(), Value::from(service));
    for (k, v) in dimensions {
        dims.push(k);
        doc.insert((*k).into(), Value::from(*v));
    }
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    for (name, _, value) in metrics {
        doc.insert((*name).into(), Value::from(*value));
    }
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.as_millisecond(),
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [dims], "Metrics": defs}],
        }),
    );
    Value::Object(doc).to_string()
}

/// The metric lines of what one commit counted (see [`super::tally`]).
pub fn lines_for(counts: &Counts, at: Timestamp, service: &str) -> Vec<String> {
    let mut out = Vec::new();
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let mut plain: Vec<(&str, &str, f64)> = Vec::new();
    for (key, name) in [
        ("conversations", "Conversations"),
        ("bot_answers", "BotAnswers"),
        ("clarifications", "Clarifications"),
        ("handed_off", "ConversationsHandedOff"),
        ("abandoned", "Abandoned"),
        ("resolved", "Resolved"),
        ("surveys", "SurveysSent"),
        ("unanswered", "Unanswered"),
    ] {
        if get(key) > 0 {
            plain.push((name, "Count", get(key) as f64));
        }
    }
    // Durations: one value per event (a commit has at most one of each).
    for (key, name) in [
        ("claim", "TimeToClaim"),
        ("first_reply", "TimeToFirstHumanReply"),
        ("resolution", "ResolutionTime"),
    ] {
        if get(&format!("{key}_n")) == 1 {
            plain.push((name, "Seconds", get(&format!("{key}_sum")) as f64));
        }
    }
    if get("csat_n") == 1 {
        plain.push(("Rating", "None", get("csat_sum") as f64));
        plain.push(("Ratings", "Count", 1.0));
    }
    if !plain.is_empty() {
        out.push(line(at, service, &[], &plain));
    }
    for (key, n) in counts {
        if let Some(channel) = key.strip_prefix("in:") {
            let v = [("MessagesIn", "Count", *n as f64)];
            out.push(line(at, service, &[("Channel", channel)], &v));
        }
        if let Some(reason) = key.strip_prefix("handoff:") {
            let v = [("Handoffs", "Count", *n as f64)];
            out.push(line(at, service, &[("Reason", reason)], &v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_an_emf_document() {
        let mut c = Counts::new();
        c.insert("in:sms".into(), 1);
        c.insert("claim_n".into(), 1);
        c.insert("claim_sum".into(), 42);
        let lines = lines_for(&c, Timestamp::UNIX_EPOCH, "chat-api");
        assert_eq!(lines.len(), 2);
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["TimeToClaim"], 42.0);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        let v: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(v["Channel"], "sms");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][1],
            "Channel"
        );
    }
}
