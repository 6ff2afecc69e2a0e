//! `handoff insights --data DIR [--from --to]`: the supervisors' report from the
//! local store, as a table in the terminal.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use handoff_core::insights::day_of;
use handoff_core::insights::report::{Durations, Insights};
use handoff_core::service::DateRange;
use handoff_sqlite::SqliteStore;

use crate::server::{build_app, ServeOptions};

/// The report over the store in `data` (what `handoff serve --data` wrote).
pub async fn report(data: &Path, from: Option<&str>, to: Option<&str>) -> Result<Insights, String> {
    let db = data.join("handoff.db");
    if !db.exists() {
        return Err(format!(
            "{}: no store here (run `handoff serve --data {}` first)",
            db.display(),
            data.display()
        ));
    }
    let store = SqliteStore::open(&db).map_err(|e| format!("store: {e}"))?;
    let opts = ServeOptions {
        data: data.to_path_buf(),
        faqs: None,
    };
    let app = build_app(&opts, Arc::new(store))?;
    let today = day_of(app.service.now());
    let range = DateRange::parse(from, to, today).map_err(|e| e.to_string())?;
    app.service
        .insights_report(range)
        .await
        .map_err(|e| e.to_string())
}

fn secs(d: &Durations) -> String {
    let f = |s: Option<u64>| s.map_or("–".to_string(), |s| format!("≤{s}s"));
    format!("p50 {} · p90 {} · n={}", f(d.p50), f(d.p90), d.count)
}

fn opt(x: Option<f64>, pct: bool) -> String {
    match (x, pct) {
        (None, _) => "–".into(),
        (Some(v), true) => format!("{:.1}%", v * 100.0),
        (Some(v), false) => format!("{v:.2}"),
    }
}

/// The report as a two-column table.
pub fn table(r: &Insights) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("range".into(), format!("{} .. {} (UTC)", r.from, r.to)),
        ("conversations".into(), r.conversations.to_string()),
        ("containment rate".into(), opt(r.containment_rate, true)),
        ("bot answers".into(), r.bot_answers.to_string()),
        ("clarifications".into(), r.clarifications.to_string()),
        ("handoffs".into(), r.handoffs.to_string()),
        ("abandoned".into(), r.abandoned.to_string()),
        ("resolved".into(), r.resolved.to_string()),
        ("time to claim".into(), secs(&r.time_to_claim)),
        (
            "time to first human reply".into(),
            secs(&r.time_to_first_human_reply),
        ),
        ("resolution time".into(), secs(&r.resolution_time)),
        ("surveys sent".into(), r.csat.surveys_sent.to_string()),
        (
            "ratings".into(),
            format!("{} · average {}", r.csat.count, opt(r.csat.average, false)),
        ),
        ("unanswered messages".into(), r.unanswered.to_string()),
        (
            "repeat contacts (7 days)".into(),
            r.repeat_contacts.total.to_string(),
        ),
    ];
    for (k, v) in &r.messages_in {
        rows.push((format!("messages in · {k}"), v.to_string()));
    }
    for (k, v) in &r.handoffs_by_reason {
        rows.push((format!("handoffs · {k}"), v.to_string()));
    }
    for (k, v) in &r.csat.distribution {
        rows.push((format!("rating {k}"), v.to_string()));
    }
    for (k, a) in &r.csat.by_agent {
        rows.push((
            format!("rating · agent {k}"),
            format!("{} (n={})", opt(a.average, false), a.count),
        ));
    }
    for (k, a) in &r.csat.by_faq {
        rows.push((
            format!("rating · faq {k}"),
            format!("{} (n={})", opt(a.average, false), a.count),
        ));
    }
    for f in &r.top_faqs {
        rows.push((format!("top faq · {}", f.faq_id), f.count.to_string()));
    }
    for g in &r.top_unanswered {
        rows.push((
            "unanswered".into(),
            format!("{} × {}", g.count, g.examples.join(" | ")),
        ));
    }
    for c in &r.repeat_contacts.by {
        rows.push((format!("came back · {}", c.key), c.count.to_string()));
    }
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let pad = width - k.chars().count();
        let _ = writeln!(out, "{k}{}  {v}", " ".repeat(pad));
    }
    out
}
