//! The supervisors' insights: the day counters of a range (one read per day, no
//! Scan) and the days' unanswered texts, grouped by meaning when the index has the
//! encoder, else by words.

use jiff::civil::Date;

use crate::auth::Agent;
use crate::error::{InputError, ServiceError};
use crate::insights::group::{group, Embed};
use crate::insights::report::{self, Insights};
use crate::insights::{day_keys, unanswered_key, Unanswered, MAX_RANGE_DAYS};

use super::HandoffService;

/// Groups `top_unanswered` lists.
const TOP_UNANSWERED: usize = 10;

/// A report range, checked: `from` ≤ `to`, at most [`MAX_RANGE_DAYS`] days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: Date,
    pub to: Date,
}

impl DateRange {
    /// From `YYYY-MM-DD` texts; a missing `to` is `from`, a missing `from` is `to`
    /// (or `today` when both are missing).
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Date) -> Result<Self, InputError> {
        let date = |field: &'static str, s: &str| {
            s.trim()
                .parse::<Date>()
                .ok()
                .filter(|_| s.trim().len() == 10)
                .ok_or_else(|| InputError::new(field, format!("{field} must be a date YYYY-MM-DD")))
        };
        let from = from.map(|s| date("from", s)).transpose()?;
        let to = to.map(|s| date("to", s)).transpose()?;
        let (from, to) = match (from, to) {
            (Some(f), Some(t)) => (f, t),
            (Some(f), None) => (f, f),
            (None, Some(t)) => (t, t),
            (None, None) => (today, today),
        };
        if to < from {
            return Err(InputError::new("to", "to must not be before from"));
        }
        let days = (to - from).get_days() as i64 + 1;
        if days > MAX_RANGE_DAYS {
            return Err(InputError::new(
                "from",
                format!("the range is {days} days; at most {MAX_RANGE_DAYS}"),
            ));
        }
        Ok(Self { from, to })
    }

    pub fn days(&self) -> Vec<Date> {
        let mut out = Vec::new();
        let mut d = self.from;
        while d <= self.to {
            out.push(d);
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        out
    }
}

impl HandoffService {
    /// The report for supervisors (agents: 403).
    pub async fn insights(
        &self,
        agent: &Agent,
        range: DateRange,
    ) -> Result<Insights, ServiceError> {
        if !agent.supervisor {
            return Err(ServiceError::Forbidden("only supervisors can see insights"));
        }
        self.insights_report(range).await
    }

    /// The report, for whoever may see it (the `handoff insights` command).
    pub async fn insights_report(&self, range: DateRange) -> Result<Insights, ServiceError> {
        let days = range.days();
        let keys: Vec<_> = days.iter().flat_map(|d| day_keys(*d)).collect();
        let counts = report::sum(&self.store.counters(&keys).await?);
        let now = self.clock.now();
        let mut texts: Vec<Unanswered> = Vec::new();
        for d in &days {
            if let Some(r) = self.store.record(&unanswered_key(*d)).await? {
                if r.is_live(now) {
                    texts.extend(r.decode::<Vec<Unanswered>>()?);
                }
            }
        }
        let index = self.live_catalog().await.index.clone();
        let has_encoder = index.has_encoder();
        let embed = move |t: &str| index.embed(t);
        let embed: Option<Embed<'_>> = match has_encoder {
            true => Some(&embed),
            false => None,
        };
        let (groups, by) = group(&texts, embed, TOP_UNANSWERED);
        Ok(report::build(range.from, range.to, &counts, groups, by))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_the_bad_field() {
        let today = Date::constant(2026, 12, 1);
        assert_eq!(
            DateRange::parse(Some("2026-13-01"), None, today)
                .unwrap_err()
                .field,
            "from"
        );
        assert_eq!(
            DateRange::parse(None, Some("yesterday"), today)
                .unwrap_err()
                .field,
            "to"
        );
        assert_eq!(
            DateRange::parse(Some("2026-12-02"), Some("2026-12-01"), today)
                .unwrap_err()
                .field,
            "to"
        );
        assert!(DateRange::parse(Some("2026-01-01"), Some("2026-12-01"), today).is_err());
        let r = DateRange::parse(Some("2026-11-30"), Some("2026-12-01"), today).unwrap();
        assert_eq!(r.days().len(), 2);
        assert_eq!(
            DateRange::parse(None, None, today).unwrap().days(),
            vec![today]
        );
    }
}
