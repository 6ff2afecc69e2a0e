//! `handoff eval`: every query as the first message of a fresh conversation through
//! the real triage code; the metrics of shared/eval/README.md.

use std::time::Instant;

use serde::Deserialize;
use serde_json::json;

use handoff_core::faq::{FaqCatalog, FaqIndex};
use handoff_core::triage::{triage, Triage};

#[derive(Debug, Deserialize)]
struct Query {
    text: String,
    expect: String,
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

pub fn evaluate(catalog_json: &str, queries_jsonl: &str) -> Result<Metrics, String> {
    let catalog = FaqCatalog::from_json(catalog_json).map_err(|e| format!("catalog: {e}"))?;
    let started = Instant::now();
    let index = FaqIndex::build(&catalog);
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut queries = Vec::new();
    for (i, line) in queries_jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let q: Query =
            serde_json::from_str(line).map_err(|e| format!("queries line {}: {e}", i + 1))?;
        queries.push(q);
    }
    let (
        mut faq_n,
        mut faq_ok,
        mut faq_forced,
        mut wrong,
        mut ho_n,
        mut ho_ok,
        mut false_ho,
        mut none_n,
        mut none_ok,
    ) = (0, 0, 0, 0, 0, 0, 0, 0, 0);
    let mut times = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        let decision = triage(&q.text, None, &index);
        times.push(t.elapsed().as_secs_f64() * 1e6);
        let answered = match &decision {
            Triage::Answer { faq_id } => Some(faq_id.as_str()),
            _ => None,
        };
        let handed_off = matches!(decision, Triage::Handoff { .. });
        if let Some(expected) = q.expect.strip_prefix("faq:") {
            faq_n += 1;
            faq_ok += usize::from(answered == Some(expected));
            let best = index.rank(&q.text, 1);
            faq_forced += usize::from(best.first().is_some_and(|r| r.faq_id == expected));
            wrong += usize::from(answered.is_some_and(|a| a != expected));
            false_ho += usize::from(handed_off);
        } else if q.expect == "handoff" {
            ho_n += 1;
            ho_ok += usize::from(handed_off);
            wrong += usize::from(answered.is_some());
        } else {
            none_n += 1;
            none_ok += usize::from(answered.is_none());
            wrong += usize::from(answered.is_some());
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

fn round4(v: Option<f64>) -> serde_json::Value {
    v.map_or(serde_json::Value::Null, |x| {
        json!((x * 10_000.0).round() / 10_000.0)
    })
}

impl Metrics {
    /// The last line `handoff eval` prints: exactly the README's metric names plus n, p50_us, p99_us.
    pub fn json_line(&self) -> String {
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
        .to_string()
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
    }
}
