//! The insights report: the day counters of a date range added up, and the texts
//! the bot could not answer grouped. Pure: the service reads, this computes.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use super::group::{Group, GroupedBy};
use super::{Counts, BUCKETS};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Durations {
    pub count: i64,
    /// Upper bounds of the histogram buckets (seconds) holding the median and the
    /// 90th percentile; `None` without data or above the last bucket (a week).
    pub p50: Option<u64>,
    pub p90: Option<u64>,
    pub mean: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Avg {
    pub count: i64,
    pub average: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Csat {
    pub surveys_sent: i64,
    pub count: i64,
    pub average: Option<f64>,
    /// Ratings by score, "1" to "5".
    pub distribution: BTreeMap<String, i64>,
    pub by_agent: BTreeMap<String, Avg>,
    pub by_faq: BTreeMap<String, Avg>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counted {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insights {
    pub from: Date,
    pub to: Date,
    pub conversations: i64,
    pub messages_in: BTreeMap<String, i64>,
    pub bot_answers: i64,
    pub clarifications: i64,
    pub handoffs: i64,
    pub handoffs_by_reason: BTreeMap<String, i64>,
    /// Share of the conversations started that never went to a person.
    pub containment_rate: Option<f64>,
    pub resolved: i64,
    pub abandoned: i64,
    pub time_to_claim: Durations,
    pub time_to_first_human_reply: Durations,
    pub resolution_time: Durations,
    pub csat: Csat,
    pub top_faqs: Vec<TopFaq>,
    pub unanswered: i64,
    pub top_unanswered: Vec<Group>,
    pub unanswered_grouped_by: GroupedBy,
    pub repeat_contacts: RepeatContacts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopFaq {
    pub faq_id: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepeatContacts {
    pub total: i64,
    /// By the earlier conversation's first FAQ (`faq:<id>`) or handoff reason
    /// (`handoff:<reason>`), or `other`.
    pub by: Vec<Counted>,
}

/// Adds up days of counters.
pub fn sum(days: &[Counts]) -> Counts {
    let mut all = Counts::new();
    for d in days {
        for (k, v) in d {
            *all.entry(k.clone()).or_insert(0) += v;
        }
    }
    all
}

fn with_prefix(c: &Counts, prefix: &str) -> BTreeMap<String, i64> {
    c.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), *v)))
        .filter(|(_, v)| *v != 0)
        .collect()
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| round(a as f64 / b as f64))
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn durations(c: &Counts, name: &str) -> Durations {
    let get = |k: &str| c.get(k).copied().unwrap_or(0);
    let n = get(&format!("{name}_n"));
    let pct = |p: f64| -> Option<u64> {
        if n == 0 {
            return None;
        }
        // The smallest bucket holding at least p of the events.
        let need = (p * n as f64).ceil().max(1.0) as i64;
        let mut seen = 0;
        for b in BUCKETS {
            seen += get(&format!("{name}_le:{b}"));
            if seen >= need {
                return Some(*b);
            }
        }
        None
    };
    Durations {
        count: n,
        p50: pct(0.5),
        p90: pct(0.9),
        mean: ratio(get(&format!("{name}_sum")), n),
    }
}

fn averages(c: &Counts, n_prefix: &str, sum_prefix: &str) -> BTreeMap<String, Avg> {
    let sums = with_prefix(c, sum_prefix);
    with_prefix(c, n_prefix)
        .into_iter()
        .map(|(k, n)| {
            let s = sums.get(&k).copied().unwrap_or(0);
            (
                k,
                Avg {
                    count: n,
                    average: ratio(s, n),
                },
            )
        })
        .collect()
}

fn top(map: BTreeMap<String, i64>, limit: usize) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(limit);
    v
}

/// The report over `c` (the range's counters added up).
pub fn build(
    from: Date,
    to: Date,
    c: &Counts,
    top_unanswered: Vec<Group>,
    grouped_by: GroupedBy,
) -> Insights {
    let get = |k: &str| c.get(k).copied().unwrap_or(0);
    let conversations = get("conversations");
    let distribution = (1..=5)
        .map(|s| (s.to_string(), get(&format!("csat:{s}"))))
        .collect();
    let repeats = with_prefix(c, "repeat:");
    Insights {
        from,
        to,
        conversations,
        messages_in: with_prefix(c, "in:"),
        bot_answers: get("bot_answers"),
        clarifications: get("clarifications"),
        handoffs: get("handoffs"),
        handoffs_by_reason: with_prefix(c, "handoff:"),
        containment_rate: ratio((conversations - get("handed_off")).max(0), conversations),
        resolved: get("resolved"),
        abandoned: get("abandoned"),
        time_to_claim: durations(c, "claim"),
        time_to_first_human_reply: durations(c, "first_reply"),
        resolution_time: durations(c, "resolution"),
        csat: Csat {
            surveys_sent: get("surveys"),
            count: get("csat_n"),
            average: ratio(get("csat_sum"), get("csat_n")),
            distribution,
            by_agent: averages(c, "csat_agent_n:", "csat_agent_sum:"),
            by_faq: averages(c, "csat_faq_n:", "csat_faq_sum:"),
        },
        top_faqs: top(with_prefix(c, "faq:"), 10)
            .into_iter()
            .map(|(faq_id, count)| TopFaq { faq_id, count })
            .collect(),
        unanswered: get("unanswered"),
        top_unanswered,
        unanswered_grouped_by: grouped_by,
        repeat_contacts: RepeatContacts {
            total: repeats.values().sum(),
            by: top(repeats, 20)
                .into_iter()
                .map(|(key, count)| Counted { key, count })
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_buckets() {
        let mut c = Counts::new();
        for (k, v) in [
            ("claim_n", 10),
            ("claim_sum", 500),
            ("claim_le:5", 4),
            ("claim_le:60", 5),
            ("claim_le:300", 1),
            ("conversations", 4),
            ("handed_off", 1),
        ] {
            c.insert(k.into(), v);
        }
        let r = build(
            Date::constant(2026, 1, 1),
            Date::constant(2026, 1, 1),
            &c,
            vec![],
            GroupedBy::Words,
        );
        assert_eq!(r.time_to_claim.p50, Some(60));
        assert_eq!(r.time_to_claim.p90, Some(60));
        assert_eq!(r.time_to_claim.mean, Some(50.0));
        assert_eq!(r.containment_rate, Some(0.75));
        assert_eq!(r.time_to_first_human_reply.p50, None);
    }
}
