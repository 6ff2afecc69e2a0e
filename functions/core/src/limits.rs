//! Abuse limits on what a stranger can make the business pay for: new
//! conversations, handoffs (agent alerts) and verification texts. Counted per source
//! IP and per browser in fixed windows by the store's atomic counters, so the limits
//! hold across Lambda instances.
//!
//! `HANDOFF_RATE_LIMITS` is `off`, or a comma list overriding some defaults, e.g.
//! `new_per_ip=60/10m,handoff_per_device=5/1h`.

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};

use crate::error::InputError;
use crate::records::RecordKey;

/// What is limited, and per what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    NewConversationPerIp,
    NewConversationPerDevice,
    HandoffPerIp,
    HandoffPerDevice,
    CodePerIp,
}

impl LimitKind {
    pub const ALL: [LimitKind; 5] = [
        LimitKind::NewConversationPerIp,
        LimitKind::NewConversationPerDevice,
        LimitKind::HandoffPerIp,
        LimitKind::HandoffPerDevice,
        LimitKind::CodePerIp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LimitKind::NewConversationPerIp => "new_per_ip",
            LimitKind::NewConversationPerDevice => "new_per_device",
            LimitKind::HandoffPerIp => "handoff_per_ip",
            LimitKind::HandoffPerDevice => "handoff_per_device",
            LimitKind::CodePerIp => "code_per_ip",
        }
    }

    /// The defaults. Per IP they are generous because mobile carriers put many
    /// customers behind one address (CGNAT); per browser they are what one person
    /// plausibly needs, so a flood has to rotate both.
    pub fn default_limit(self) -> Limit {
        let (max, mins) = match self {
            LimitKind::NewConversationPerIp => (30, 10),
            LimitKind::NewConversationPerDevice => (5, 10),
            LimitKind::HandoffPerIp => (10, 10),
            LimitKind::HandoffPerDevice => (3, 10),
            LimitKind::CodePerIp => (10, 60),
        };
        Limit {
            max,
            window: SignedDuration::from_mins(mins),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: SignedDuration,
}

/// The limits in force; `None` everywhere when switched off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    limits: Option<Vec<(LimitKind, Limit)>>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            limits: Some(
                LimitKind::ALL
                    .iter()
                    .map(|k| (*k, k.default_limit()))
                    .collect(),
            ),
        }
    }
}

impl RateLimits {
    pub fn off() -> Self {
        Self { limits: None }
    }

    pub fn parse(spec: &str) -> Result<Self, InputError> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("off") {
            return Ok(Self::off());
        }
        let mut out = Self::default();
        let invalid = |why: String| InputError::new("HANDOFF_RATE_LIMITS", why);
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| invalid(format!("{part:?} is not name=N/WINDOW")))?;
            let kind = LimitKind::ALL
                .into_iter()
                .find(|k| k.name() == name.trim())
                .ok_or_else(|| {
                    let names: Vec<&str> = LimitKind::ALL.iter().map(|k| k.name()).collect();
                    invalid(format!(
                        "unknown limit {name:?}; known: {}",
                        names.join(", ")
                    ))
                })?;
            let (max, window) = value
                .split_once('/')
                .ok_or_else(|| invalid(format!("{value:?} is not N/WINDOW, e.g. 10/5m")))?;
            let max: u32 = max
                .trim()
                .parse()
                .ok()
                .filter(|m| *m > 0)
                .ok_or_else(|| invalid(format!("{max:?} is not a positive count")))?;
            let window = parse_window(window.trim())
                .ok_or_else(|| invalid(format!("{window:?} is not a window like 30s, 10m, 1h")))?;
            if let Some(limits) = out.limits.as_mut() {
                for (k, l) in limits.iter_mut() {
                    if *k == kind {
                        *l = Limit { max, window };
                    }
                }
            }
        }
        Ok(out)
    }

    pub fn is_on(&self) -> bool {
        self.limits.is_some()
    }

    pub fn get(&self, kind: LimitKind) -> Option<Limit> {
        self.limits
            .as_ref()?
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, l)| *l)
    }
}

/// `30s`, `10m`, `1h`: whole seconds, minutes or hours, 1 second to 1 day.
pub fn parse_window(s: &str) -> Option<SignedDuration> {
    let (n, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    (secs <= 86_400).then(|| SignedDuration::from_secs(secs))
}

/// Who is counted: an address (IPv6 by its /64, which one subscriber usually holds
/// whole) or a browser's device id.
pub fn ip_subject(ip: &str) -> Option<String> {
    match ip.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_string()),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
    }
}

/// The counter for `subject` in the window holding `now`: its key, when it expires,
/// and how long until the window ends (a client's `Retry-After`).
pub fn window_counter(
    name: &str,
    window: SignedDuration,
    subject: &str,
    now: Timestamp,
) -> Result<(RecordKey, Timestamp, u64), InputError> {
    let len = window.as_secs().max(1);
    let start = now.as_second().div_euclid(len) * len;
    let end = start + len;
    let key = RecordKey::new("rate", &format!("{name}:{subject}:{start}"))?;
    let expires = Timestamp::from_second(end).unwrap_or(now);
    Ok((key, expires, (end - now.as_second()).max(1) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let d = RateLimits::default();
        assert_eq!(d.get(LimitKind::HandoffPerDevice).unwrap().max, 3);
        let p = RateLimits::parse("new_per_ip=60/1h, handoff_per_device=5/30s").unwrap();
        assert_eq!(
            p.get(LimitKind::NewConversationPerIp),
            Some(Limit {
                max: 60,
                window: SignedDuration::from_hours(1)
            })
        );
        assert_eq!(
            p.get(LimitKind::HandoffPerDevice).unwrap().window.as_secs(),
            30
        );
        assert_eq!(p.get(LimitKind::CodePerIp), d.get(LimitKind::CodePerIp));
        assert_eq!(
            RateLimits::parse("OFF")
                .unwrap()
                .get(LimitKind::HandoffPerIp),
            None
        );
    }

    #[test]
    fn bad_specs_name_the_problem() {
        for bad in [
            "nope=1/1m",
            "new_per_ip=0/1m",
            "new_per_ip=5",
            "new_per_ip=5/2d",
            "new_per_ip",
        ] {
            let e = RateLimits::parse(bad).unwrap_err();
            assert_eq!(e.field, "HANDOFF_RATE_LIMITS", "{bad}");
        }
    }

    #[test]
    fn ipv6_counts_by_prefix() {
        assert_eq!(ip_subject("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(
            ip_subject("2001:db8:1:2:aaaa::1"),
            ip_subject("2001:db8:1:2:bbbb::9")
        );
        assert_eq!(ip_subject("not an ip"), None);
    }

    #[test]
    fn windows_are_fixed_and_tell_the_wait() {
        let w = SignedDuration::from_mins(10);
        let t = Timestamp::from_second(1_800_000_030).unwrap();
        let (k1, exp, wait) = window_counter("handoff_per_ip", w, "1.2.3.4", t).unwrap();
        assert_eq!(exp.as_second() % 600, 0);
        assert_eq!(wait as i64, exp.as_second() - t.as_second());
        let later = Timestamp::from_second(exp.as_second()).unwrap();
        let (k2, _, _) = window_counter("handoff_per_ip", w, "1.2.3.4", later).unwrap();
        assert_ne!(k1, k2);
    }
}
