//! `handoff eval`: every query as the first message of a fresh conversation through
//! the real triage code; the metrics of shared/eval/README.md. Several catalog/query
//! pairs in one run give one line per set and a macro average; `--explain` adds one
//! line per query with the decision and the evidence behind it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use serde_json::json;

use handoff_core::faq::{Encoder, FaqCatalog, FaqIndex, Params};
use handoff_core::triage::{triage, triage_traced, Triage, TriageTrace};

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Query {
    pub text: String,
    pub expect: String,
}

/// What a query expects, parsed from its `expect` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Faq(String),
    Handoff,
    None,
}

impl Expect {
    pub fn parse(s: &str) -> Result<Expect, String> {
        match s {
            "handoff" => Ok(Expect::Handoff),
            "none" => Ok(Expect::None),
            _ => match s.strip_prefix("faq:") {
                Some(id) if !id.trim().is_empty() => Ok(Expect::Faq(id.to_string())),
                _ => Err(format!(
                    "expect must be faq:<id>, handoff or none, not {s:?}"
                )),
            },
        }
    }
}

/// Parses a query file (JSON lines; blank lines skipped), naming the bad line.
pub fn parse_queries(jsonl: &str) -> Result<Vec<(Query, Expect)>, String> {
    let mut out = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let q: Query =
            serde_json::from_str(line).map_err(|e| format!("queries line {}: {e}", i + 1))?;
        let e = Expect::parse(&q.expect).map_err(|e| format!("queries line {}: {e}", i + 1))?;
        out.push((q, e));
    }
    Ok(out)
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Metrics {
    pub n: usize,
    pub faq_top1: Option<f64>,
    pub faq_top1_forced: Option<f64>,
    pub wrong_answer_rate: Option<f64>,
    pub handoff_recall: Option<f64>,
    pub false_handoff_rate: Option<f64>,
    pub none_ok: Option<f64>,
    pub p50_us: f64,
    pub p99_us: f64,
    pub build_ms: f64,
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Evaluates one set by words alone, without explanations.
pub fn evaluate(catalog_json: &str, queries_jsonl: &str) -> Result<Metrics, String> {
    evaluate_with(catalog_json, queries_jsonl, None, None)
}

/// Evaluates one set (ranking by meaning too when given an encoder); with
/// `explain`, writes one JSON line per query to it.
pub fn evaluate_with(
    catalog_json: &str,
    queries_jsonl: &str,
    encoder: Option<&Arc<Encoder>>,
    mut explain: Option<&mut dyn Write>,
) -> Result<Metrics, String> {
    let catalog = FaqCatalog::from_json(catalog_json).map_err(|e| format!("catalog: {e}"))?;
    let queries = parse_queries(queries_jsonl)?;
    let started = Instant::now();
    let index = match encoder {
        Some(e) => FaqIndex::build_with_encoder(&catalog, Params::default(), e.clone()),
        None => FaqIndex::build(&catalog),
    };
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (mut faq_n, mut faq_ok, mut faq_forced, mut wrong) = (0, 0, 0, 0);
    let (mut ho_n, mut ho_ok, mut false_ho, mut none_n, mut none_ok) = (0, 0, 0, 0, 0);
    let mut times = Vec::with_capacity(queries.len());
    for (q, expect) in &queries {
        let t = Instant::now();
        let decision = triage(&q.text, None, &index);
        times.push(t.elapsed().as_secs_f64() * 1e6);
        let trace = if explain.is_some() {
            let (traced, trace) = triage_traced(&q.text, None, &index);
            debug_assert_eq!(traced, decision);
            trace
        } else {
            TriageTrace {
                ranked: index.rank(&q.text, 1),
                ..TriageTrace::default()
            }
        };
        let answered = match &decision {
            Triage::Answer { faq_id } => Some(faq_id.as_str()),
            _ => None,
        };
        let handed_off = matches!(decision, Triage::Handoff { .. });
        let best = trace.ranked.first().map(|r| r.faq_id.as_str());
        let ok = match expect {
            Expect::Faq(expected) => {
                faq_n += 1;
                faq_ok += usize::from(answered == Some(expected.as_str()));
                faq_forced += usize::from(best == Some(expected.as_str()));
                wrong += usize::from(answered.is_some_and(|a| a != expected));
                false_ho += usize::from(handed_off);
                answered == Some(expected.as_str())
            }
            Expect::Handoff => {
                ho_n += 1;
                ho_ok += usize::from(handed_off);
                wrong += usize::from(answered.is_some());
                handed_off
            }
            Expect::None => {
                none_n += 1;
                none_ok += usize::from(answered.is_none());
                wrong += usize::from(answered.is_some());
                answered.is_none()
            }
        };
        if let Some(w) = explain.as_mut() {
            let line = json!({
                "text": q.text,
                "expect": q.expect,
                "ok": ok,
                "decision": decision_str(&decision),
                "top": trace.ranked.first(),
                "runner_up": trace.ranked.get(1),
                "evidence": trace,
            });
            writeln!(w, "{line}").map_err(|e| format!("writing explanations: {e}"))?;
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(Metrics {
        n: queries.len(),
        faq_top1: ratio(faq_ok, faq_n),
        faq_top1_forced: ratio(faq_forced, faq_n),
        wrong_answer_rate: ratio(wrong, queries.len()),
        handoff_recall: ratio(ho_ok, ho_n),
        false_handoff_rate: ratio(false_ho, faq_n),
        none_ok: ratio(none_ok, none_n),
        p50_us: percentile(&times, 50.0),
        p99_us: percentile(&times, 99.0),
        build_ms,
    })
}

/// `handoff eval`: each catalog with its query file; one line per set, then a
/// macro average when there are several.
pub fn run_sets(
    faqs: &[PathBuf],
    queries: &[PathBuf],
    learning: &crate::learn::LoopOptions,
    model: Option<&Path>,
    explain: bool,
    out: &mut dyn Write,
) -> Result<(), String> {
    if faqs.len() != queries.len() {
        return Err(format!(
            "give one --queries per --faqs ({} catalogs, {} query files)",
            faqs.len(),
            queries.len()
        ));
    }
    learning.check(faqs.len())?;
    let encoder = open_encoder(model)?;
    writeln!(
        out,
        "# ranking by {}",
        if encoder.is_some() {
            "words and meaning (sentence encoder)"
        } else {
            "words only (no model files; see functions/encoder/README.md)"
        }
    )
    .map_err(|e| format!("writing: {e}"))?;
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut all = Vec::new();
    for (i, (f, q)) in faqs.iter().zip(queries).enumerate() {
        let name = set_name(f, q);
        let (catalog, qs, learnt) = learning
            .prepare(i, read(f)?, read(q)?)
            .map_err(|e| format!("{name}: {e}"))?;
        if let Some(note) = learnt {
            writeln!(out, "{note}").map_err(|e| format!("writing: {e}"))?;
        }
        let mut buf = Vec::new();
        let m = evaluate_with(
            &catalog,
            &qs,
            encoder.as_ref(),
            explain.then_some(&mut buf as &mut dyn Write),
        )
        .map_err(|e| format!("{name}: {e}"))?;
        let w = |r: std::io::Result<()>| r.map_err(|e| format!("writing: {e}"));
        w(out.write_all(&buf))?;
        w(writeln!(
            out,
            "# {name}: {} queries, index built in {:.0} ms",
            m.n, m.build_ms
        ))?;
        w(writeln!(out, "{}", m.json_line_named(&name)))?;
        all.push(m);
    }
    if all.len() > 1 {
        writeln!(out, "{}", macro_average(&all).json_line_named("macro"))
            .map_err(|e| format!("writing: {e}"))?;
    }
    Ok(())
}

/// The encoder: from `model` when given (an error when it cannot be opened),
/// else from the default model directory when its files are there.
fn open_encoder(model: Option<&Path>) -> Result<Option<Arc<Encoder>>, String> {
    match model {
        Some(dir) => Encoder::open(dir)
            .map(|e| Some(Arc::new(e)))
            .map_err(|e| format!("model {}: {e}", dir.display())),
        None => Ok(handoff_core::faq::shared_encoder()),
    }
}

/// A short name for a set: the query file's stem, with its folder when the
/// stem alone says little ("banking77/test").
fn set_name(faqs: &Path, queries: &Path) -> String {
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let dir = queries
        .parent()
        .and_then(|d| d.file_name())
        .map(|d| d.to_string_lossy().into_owned());
    let q = stem(queries);
    match dir {
        Some(d) if !q.contains('-') => format!("{d}/{}+{q}", stem(faqs)),
        _ => q,
    }
}

fn decision_str(t: &Triage) -> String {
    match t {
        Triage::ForPerson => "for_person".into(),
        Triage::Answer { faq_id } => format!("answer:{faq_id}"),
        Triage::Clarify { candidates } => format!("clarify:{}", candidates.join(",")),
        Triage::Handoff { reason } => format!("handoff:{}", reason.as_str()),
    }
}

/// Mean of each metric over the sets where it is defined (null where none is).
pub fn macro_average(sets: &[Metrics]) -> Metrics {
    let mean = |f: fn(&Metrics) -> Option<f64>| {
        let v: Vec<f64> = sets.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let avg = |f: fn(&Metrics) -> f64| {
        if sets.is_empty() {
            0.0
        } else {
            sets.iter().map(f).sum::<f64>() / sets.len() as f64
        }
    };
    Metrics {
        n: sets.iter().map(|m| m.n).sum(),
        faq_top1: mean(|m| m.faq_top1),
        faq_top1_forced: mean(|m| m.faq_top1_forced),
        wrong_answer_rate: mean(|m| m.wrong_answer_rate),
        handoff_recall: mean(|m| m.handoff_recall),
        false_handoff_rate: mean(|m| m.false_handoff_rate),
        none_ok: mean(|m| m.none_ok),
        p50_us: avg(|m| m.p50_us),
        p99_us: avg(|m| m.p99_us),
        build_ms: avg(|m| m.build_ms),
    }
}

fn round4(v: Option<f64>) -> serde_json::Value {
    v.map_or(serde_json::Value::Null, |x| {
        json!((x * 10_000.0).round() / 10_000.0)
    })
}

impl Metrics {
    fn json_value(&self) -> serde_json::Value {
        json!({
            "faq_top1": round4(self.faq_top1),
            "faq_top1_forced": round4(self.faq_top1_forced),
            "wrong_answer_rate": round4(self.wrong_answer_rate),
            "handoff_recall": round4(self.handoff_recall),
            "false_handoff_rate": round4(self.false_handoff_rate),
            "none_ok": round4(self.none_ok),
            "n": self.n,
            "p50_us": (self.p50_us * 10.0).round() / 10.0,
            "p99_us": (self.p99_us * 10.0).round() / 10.0,
        })
    }

    /// The line `handoff eval` prints for a single set: exactly the README's
    /// metric names plus n, p50_us, p99_us.
    pub fn json_line(&self) -> String {
        self.json_value().to_string()
    }

    /// The same with a leading `"set"` naming the set (or `"macro"`).
    pub fn json_line_named(&self, set: &str) -> String {
        let mut v = serde_json::Map::new();
        v.insert("set".into(), json!(set));
        if let serde_json::Value::Object(m) = self.json_value() {
            v.extend(m);
        }
        serde_json::Value::Object(v).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"{"business":{"name":"T","languages":["ko","en"]},"faqs":[
      {"id":"shipping-fee","questions":{"ko":["배송비 얼마예요?","택배비 있나요?"],"en":["How much is shipping?","Is delivery free?"]},"answer":{"ko":"3,000원","en":"3,000 KRW"}},
      {"id":"refund","questions":{"ko":["환불 되나요?","반품하고 싶어요"],"en":["Can I get a refund?","How do I return it?"]},"answer":{"ko":"7일","en":"7 days"}}]}"#;

    #[test]
    fn metrics_follow_the_definitions() {
        let queries = [
            r#"{"text":"배송비 얼마예요?","expect":"faq:shipping-fee"}"#,
            r#"{"text":"How much is shipping?","expect":"faq:refund"}"#,
            r#"{"text":"상담원 연결해 주세요","expect":"handoff"}"#,
            r#"{"text":"How do I return it?","expect":"none"}"#,
        ]
        .join("\n");
        let m = evaluate(CATALOG, &queries).unwrap();
        assert_eq!(m.n, 4);
        assert_eq!(m.faq_top1, Some(0.5));
        assert_eq!(m.faq_top1_forced, Some(0.5));
        assert_eq!(m.handoff_recall, Some(1.0));
        assert_eq!(m.false_handoff_rate, Some(0.0));
        // Wrong: the refund-expected shipping answer, and the answer to a `none` query.
        assert_eq!(m.wrong_answer_rate, Some(0.5));
        assert_eq!(m.none_ok, Some(0.0));
        let line: serde_json::Value = serde_json::from_str(&m.json_line()).unwrap();
        let mut keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "false_handoff_rate",
                "faq_top1",
                "faq_top1_forced",
                "handoff_recall",
                "n",
                "none_ok",
                "p50_us",
                "p99_us",
                "wrong_answer_rate"
            ]
        );
    }

    #[test]
    fn bad_query_lines_are_reported_with_their_line() {
        let err = evaluate(CATALOG, "{\"text\":\"a\",\"expect\":\"none\"}\nnot json").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = evaluate(CATALOG, "\n{\"text\":\"a\",\"expect\":\"faq:\"}").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = evaluate(CATALOG, "{\"text\":\"a\",\"expect\":\"maybe\"}").unwrap_err();
        assert!(err.contains("maybe"), "{err}");
    }

    #[test]
    fn expectations_parse() {
        assert_eq!(Expect::parse("faq:a-b"), Ok(Expect::Faq("a-b".into())));
        assert_eq!(Expect::parse("handoff"), Ok(Expect::Handoff));
        assert_eq!(Expect::parse("none"), Ok(Expect::None));
        assert!(Expect::parse("faq: ").is_err());
        assert!(Expect::parse("Handoff").is_err());
    }

    #[test]
    fn explain_writes_one_line_per_query_with_its_evidence() {
        let queries = [
            r#"{"text":"배송비 얼마예요?","expect":"faq:shipping-fee"}"#,
            r#"{"text":"상담원 연결해 주세요","expect":"handoff"}"#,
        ]
        .join("\n");
        let mut out = Vec::new();
        evaluate_with(CATALOG, &queries, None, Some(&mut out)).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["decision"], "answer:shipping-fee");
        assert_eq!(lines[0]["top"]["faq_id"], "shipping-fee");
        assert_eq!(lines[0]["runner_up"]["faq_id"], "refund");
        assert!(lines[0]["evidence"]["faq"]["nearest_example"].is_string());
        assert_eq!(lines[1]["decision"], "handoff:customer_asked");
        assert!(lines[1]["evidence"]["signal"]["evidence"].is_string());
    }

    #[test]
    fn macro_average_skips_undefined_metrics() {
        let a = Metrics {
            n: 10,
            faq_top1: Some(0.5),
            none_ok: None,
            ..Metrics::default()
        };
        let b = Metrics {
            n: 30,
            faq_top1: Some(1.0),
            none_ok: Some(0.25),
            ..Metrics::default()
        };
        let m = macro_average(&[a, b]);
        assert_eq!(m.n, 40);
        assert_eq!(m.faq_top1, Some(0.75));
        assert_eq!(m.none_ok, Some(0.25));
        assert_eq!(m.handoff_recall, None);
        let line: serde_json::Value = serde_json::from_str(&m.json_line_named("macro")).unwrap();
        assert_eq!(line["set"], "macro");
    }
}
