//! Agent hours: when a person answers, in the business's time zone.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::error::InputError;

#[derive(Debug, Clone, PartialEq)]
struct Window {
    days: [bool; 7], // Monday first
    open: Time,
    close: Time,
}

/// Weekly opening windows such as `Mon-Fri 09:00-18:00, Sat 10:00-14:00`, or `24/7`.
#[derive(Debug, Clone)]
pub struct AgentHours {
    windows: Vec<Window>,
    always: bool,
    tz: TimeZone,
    tz_name: String,
    spec: String,
}

fn day_index(s: &str) -> Option<usize> {
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let lower = s.trim().to_ascii_lowercase();
    names.iter().position(|n| lower.starts_with(n))
}

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    if h == 24 && m == 0 {
        return Some(Time::constant(23, 59, 59, 999_999_999));
    }
    Time::new(h, m, 0, 0).ok()
}

impl AgentHours {
    pub fn parse(spec: &str, timezone: &str) -> Result<Self, InputError> {
        let tz = TimeZone::get(timezone)
            .map_err(|_| InputError::new("timezone", format!("unknown time zone {timezone:?}")))?;
        let bad = |why: &str| {
            InputError::new("agent_hours", format!("{why} in {spec:?} (expected e.g. \"Mon-Fri 09:00-18:00, Sat 10:00-14:00\" or \"24/7\")"))
        };
        let trimmed = spec.trim();
        let mut hours = Self {
            windows: Vec::new(),
            always: false,
            tz,
            tz_name: timezone.to_string(),
            spec: trimmed.to_string(),
        };
        if trimmed == "24/7" {
            hours.always = true;
            return Ok(hours);
        }
        for part in trimmed
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (days, times) = part.split_once(' ').ok_or_else(|| bad("missing times"))?;
            let mut day_set = [false; 7];
            for d in days.split('/') {
                match d.split_once('-') {
                    Some((a, b)) => {
                        let a = day_index(a).ok_or_else(|| bad("unknown day"))?;
                        let b = day_index(b).ok_or_else(|| bad("unknown day"))?;
                        let mut i = a;
                        loop {
                            day_set[i] = true;
                            if i == b {
                                break;
                            }
                            i = (i + 1) % 7;
                        }
                    }
                    None => day_set[day_index(d).ok_or_else(|| bad("unknown day"))?] = true,
                }
            }
            let (open, close) = times
                .trim()
                .split_once('-')
                .ok_or_else(|| bad("missing time range"))?;
            let open = parse_time(open).ok_or_else(|| bad("bad opening time"))?;
            let close = parse_time(close).ok_or_else(|| bad("bad closing time"))?;
            if close <= open {
                return Err(bad("closing time must be after opening time"));
            }
            hours.windows.push(Window {
                days: day_set,
                open,
                close,
            });
        }
        if hours.windows.is_empty() {
            return Err(bad("no opening windows"));
        }
        Ok(hours)
    }

    pub fn spec(&self) -> &str {
        &self.spec
    }
    pub fn timezone(&self) -> &str {
        &self.tz_name
    }

    fn weekday_index(w: Weekday) -> usize {
        w.to_monday_zero_offset() as usize
    }

    pub fn is_open(&self, at: Timestamp) -> bool {
        if self.always {
            return true;
        }
        let z = at.to_zoned(self.tz.clone());
        let day = Self::weekday_index(z.weekday());
        let t = z.time();
        self.windows
            .iter()
            .any(|w| w.days[day] && t >= w.open && t < w.close)
    }

    /// When a person will next be there: `at` itself when open now.
    pub fn next_open(&self, at: Timestamp) -> Timestamp {
        if self.is_open(at) {
            return at;
        }
        let z = at.to_zoned(self.tz.clone());
        let mut best: Option<Timestamp> = None;
        for offset in 0..8i64 {
            let Ok(day) = z.date().checked_add(offset.days()) else {
                continue;
            };
            let idx = Self::weekday_index(day.weekday());
            for w in &self.windows {
                if !w.days[idx] {
                    continue;
                }
                let Ok(start) = day.to_datetime(w.open).to_zoned(self.tz.clone()) else {
                    continue;
                };
                let ts = start.timestamp();
                if ts > at && best.is_none_or(|b| ts < b) {
                    best = Some(ts);
                }
            }
            if best.is_some() {
                break;
            }
        }
        best.unwrap_or(at)
    }

    /// When the opening window holding `at` began; `None` when closed (or always open).
    pub fn opened_at(&self, at: Timestamp) -> Option<Timestamp> {
        if self.always || !self.is_open(at) {
            return None;
        }
        let z = at.to_zoned(self.tz.clone());
        let day = z.date();
        let idx = Self::weekday_index(day.weekday());
        self.windows
            .iter()
            .filter(|w| w.days[idx] && z.time() >= w.open && z.time() < w.close)
            .filter_map(|w| day.to_datetime(w.open).to_zoned(self.tz.clone()).ok())
            .map(|s| s.timestamp())
            .min()
    }

    /// Local wall-clock rendering of a time, for customer-facing texts.
    pub fn local(&self, at: Timestamp) -> jiff::Zoned {
        at.to_zoned(self.tz.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn weekday_hours_in_seoul() {
        let h = AgentHours::parse("Mon-Fri 09:00-18:00", "Asia/Seoul").unwrap();
        // 2026-11-23 is a Monday. 10:00 KST = 01:00 UTC.
        assert!(h.is_open(ts("2026-11-23T01:00:00Z")));
        // 18:00 KST is closed (end exclusive).
        assert!(!h.is_open(ts("2026-11-23T09:00:00Z")));
        // Saturday 10:00 KST closed; next open is Monday 09:00 KST.
        let sat = ts("2026-11-28T01:00:00Z");
        assert!(!h.is_open(sat));
        assert_eq!(h.next_open(sat), ts("2026-11-30T00:00:00Z"));
        // Friday 20:00 KST → Monday 09:00 KST.
        assert_eq!(
            h.next_open(ts("2026-11-27T11:00:00Z")),
            ts("2026-11-30T00:00:00Z")
        );
        // Tuesday 07:00 KST → same day 09:00.
        assert_eq!(
            h.next_open(ts("2026-11-23T22:00:00Z")),
            ts("2026-11-24T00:00:00Z")
        );
    }

    #[test]
    fn the_window_open_now_began_at_its_opening() {
        let h = AgentHours::parse("Mon-Fri 09:00-18:00", "Asia/Seoul").unwrap();
        assert_eq!(
            h.opened_at(ts("2026-11-23T01:00:00Z")),
            Some(ts("2026-11-23T00:00:00Z"))
        );
        assert_eq!(h.opened_at(ts("2026-11-23T10:00:00Z")), None);
        assert_eq!(
            AgentHours::parse("24/7", "UTC")
                .unwrap()
                .opened_at(ts("2026-11-23T10:00:00Z")),
            None
        );
    }

    #[test]
    fn several_windows_and_always() {
        let h = AgentHours::parse("Mon-Fri 09:00-18:00, Sat 10:00-14:00", "Asia/Seoul").unwrap();
        assert!(h.is_open(ts("2026-11-28T02:00:00Z"))); // Sat 11:00 KST
        let always = AgentHours::parse("24/7", "UTC").unwrap();
        assert!(always.is_open(ts("2026-11-28T02:00:00Z")));
    }

    #[test]
    fn bad_specs_are_rejected_clearly() {
        for (spec, tz, field) in [
            ("Mon-Fri 18:00-09:00", "Asia/Seoul", "agent_hours"),
            ("Funday 09:00-10:00", "Asia/Seoul", "agent_hours"),
            ("Mon-Fri", "Asia/Seoul", "agent_hours"),
            ("Mon-Fri 09:00-18:00", "Mars/Olympus", "timezone"),
        ] {
            assert_eq!(
                AgentHours::parse(spec, tz).unwrap_err().field,
                field,
                "{spec}"
            );
        }
    }
}
