//! Configuration from environment variables (the names the SAM template sets), read
//! once at cold start; a missing or bad value stops the function with a clear message.
//!
//! One path for every function: its `main` reads the function's [`Secrets`] (once, at
//! cold start), then [`Config::for_function`] (or, for the dispatcher, its own settings
//! through the same [`Vars`], [`Secrets`] and helpers). Each [`Function`] names the
//! variables and secrets it cannot start without: chat-api alone issues customers'
//! conversation tokens, so only it needs `HANDOFF_TOKEN_SECRET`.
//!
//! Secrets never pass through the process environment in AWS: the template sets
//! `<NAME>_ARN`, `main` fetches the value (crate `handoff-secrets`) into [`Secrets`], and
//! the configuration reads it from there. Local runs may set the plain `<NAME>` instead.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use handoff_core::auth::{AgentTokens, ConversationTokens, Secret};
use handoff_core::faq::{FaqCatalog, FaqIndex, Lang};
use handoff_core::hours::AgentHours;
use handoff_core::limits::{parse_window, RateLimits};
use handoff_core::ports::{ConversationStore, SystemClock};
use handoff_core::{HandoffService, Settings};
use jiff::SignedDuration;

/// The sample catalog of the demo business, used when no catalog is configured.
pub const SAMPLE_CATALOG: &str = include_str!("../sample-faq.json");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("secret {0} is required: set {0}_ARN to its Secrets Manager secret (AWS), or {0} to the value (local runs)")]
    MissingSecret(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
    #[error("FAQ catalog {path}: {why}")]
    Catalog { path: String, why: String },
}

/// The deployed functions, and what each must be configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    ChatApi,
    AgentApi,
    SmsInbound,
    AlertDispatcher,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::ChatApi => "chat-api",
            Function::AgentApi => "agent-api",
            Function::SmsInbound => "sms-inbound",
            Function::AlertDispatcher => "alert-dispatcher",
        }
    }

    /// The variables this function cannot start without (the SAM template sets exactly
    /// these, and the optional ones it uses).
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Function::ChatApi | Function::AgentApi | Function::SmsInbound => &["HANDOFF_TABLE"],
            Function::AlertDispatcher => &["HANDOFF_TABLE", "HANDOFF_ALERTS_TOPIC_ARN"],
        }
    }

    /// The secrets this function reads at cold start, if configured: in AWS the template
    /// sets `<NAME>_ARN` for each (empty when unused), and only these functions may read
    /// them. Twilio's token is used only with `HANDOFF_SMS_PROVIDER=twilio`.
    pub fn secrets(self) -> &'static [&'static str] {
        match self {
            Function::ChatApi => &["HANDOFF_TOKEN_SECRET", "TWILIO_AUTH_TOKEN"],
            Function::AgentApi | Function::SmsInbound => &[],
            Function::AlertDispatcher => &["TWILIO_AUTH_TOKEN"],
        }
    }

    /// The secrets this function cannot start without.
    pub fn required_secrets(self) -> &'static [&'static str] {
        match self {
            Function::ChatApi => &["HANDOFF_TOKEN_SECRET"],
            _ => &[],
        }
    }

    /// Stops with the first required variable or secret that is missing.
    pub fn check(self, vars: &dyn Vars) -> Result<(), ConfigError> {
        for name in self.required() {
            required(vars, name)?;
        }
        for name in self.required_secrets() {
            optional(vars, name).ok_or(ConfigError::MissingSecret(name))?;
        }
        Ok(())
    }
}

/// The secret values a function read at cold start, by variable name: from Secrets
/// Manager in AWS (`<NAME>_ARN`), or the plain `<NAME>` locally. Kept in memory only,
/// never written back into the process environment. `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct Secrets(HashMap<&'static str, String>);

impl Secrets {
    /// No secrets (agent-api, sms-inbound; tests that set the plain variables).
    pub fn none() -> Self {
        Self::default()
    }

    /// With `name` set to `value`.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.insert(name, value.into());
        self
    }

    /// `function`'s secrets ([`Function::secrets`]), each through `read`, which answers
    /// `Ok(None)` for a secret that is not configured. The first failed read stops it.
    /// In a `main`: `Secrets::read(f, |n| async move { handoff_secrets::read(n).await })`
    /// with the value exposed as a `String`.
    pub async fn read<F, Fut, E>(function: Function, read: F) -> Result<Secrets, E>
    where
        F: Fn(&'static str) -> Fut,
        Fut: Future<Output = Result<Option<String>, E>>,
    {
        let mut secrets = Secrets::none();
        for &name in function.secrets() {
            if let Some(value) = read(name).await? {
                secrets = secrets.with(name, value);
            }
        }
        Ok(secrets)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// These secrets over `vars`: a secret's name answers with its value, any other
    /// name (and a secret not read here) from `vars`.
    pub fn over<'a>(&'a self, vars: &'a dyn Vars) -> impl Vars + 'a {
        move |name: &str| {
            self.get(name)
                .map(str::to_string)
                .or_else(|| vars.get(name))
        }
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.0.keys().collect();
        names.sort();
        f.debug_tuple("Secrets").field(&names).finish()
    }
}

/// Everything the functions need to know about the business and its secrets.
#[derive(Clone)]
pub struct Config {
    pub catalog: Arc<FaqCatalog>,
    pub index: Arc<FaqIndex>,
    pub settings: Settings,
    /// Only where customers' tokens are issued and checked (chat-api, the local server).
    pub conversation_tokens: Option<ConversationTokens>,
    /// The DynamoDB table (`HANDOFF_TABLE`); `None` locally.
    pub table: Option<String>,
    /// Item expiry in days (`HANDOFF_RETENTION_DAYS`; 0: never).
    pub retention_days: u32,
    /// Only where agents' JWTs are checked by the function itself (locally).
    pub agent_tokens: Option<AgentTokens>,
    /// Twilio's auth token, to check the webhook's signatures (chat-api, locally).
    pub twilio_auth_token: Option<String>,
    pub public_base_url: Option<String>,
    /// The issuer agents' tokens must come from (`HANDOFF_JWT_ISSUER`; agent-api checks
    /// it as well as API Gateway's authorizer).
    pub jwt_issuer: Option<String>,
    /// Origins of the pages that embed the widget (`HANDOFF_ALLOWED_ORIGINS`).
    pub allowed_origins: crate::cors::AllowedOrigins,
    /// How often an instance checks the stored catalog's version
    /// (`HANDOFF_CATALOG_REFRESH`, e.g. `60s`; default one minute).
    pub catalog_refresh: SignedDuration,
    /// No notice is texted in these hours (`HANDOFF_QUIET_HOURS`, default `21:00-08:00`
    /// in `HANDOFF_TIMEZONE`).
    pub quiet_hours: handoff_core::notices::QuietHours,
}

/// A source of variables: the process environment, or a map in tests.
pub trait Vars {
    fn get(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Vars for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name)
            .cloned()
            .filter(|v| !v.trim().is_empty())
    }
}

/// A lookup function is a source too (tests, and adapters' `from_vars`).
impl<F: Fn(&str) -> Option<String>> Vars for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name).filter(|v| !v.trim().is_empty())
    }
}

/// A variable that must be set, trimmed.
pub fn required(vars: &dyn Vars, name: &'static str) -> Result<String, ConfigError> {
    optional(vars, name).ok_or(ConfigError::Missing(name))
}

/// A variable that may be set, trimmed; blank is unset.
pub fn optional(vars: &dyn Vars, name: &str) -> Option<String> {
    vars.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A number, or `default` when unset.
pub fn parse_num<T: std::str::FromStr>(
    vars: &dyn Vars,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match vars.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            why: format!("{v:?} is not a number"),
        }),
    }
}

pub fn load_catalog(path: Option<&str>) -> Result<FaqCatalog, ConfigError> {
    let (text, label) = match path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| ConfigError::Catalog {
                path: p.into(),
                why: e.to_string(),
            })?,
            p.to_string(),
        ),
        None => (SAMPLE_CATALOG.to_string(), "sample catalog".to_string()),
    };
    FaqCatalog::from_json(&text).map_err(|e| ConfigError::Catalog {
        path: label,
        why: e.to_string(),
    })
}

/// `HANDOFF_TOKEN_SECRET`, at least 16 bytes.
fn token_secret(vars: &dyn Vars) -> Result<Secret, ConfigError> {
    let secret = optional(vars, "HANDOFF_TOKEN_SECRET")
        .ok_or(ConfigError::MissingSecret("HANDOFF_TOKEN_SECRET"))?;
    Secret::new(secret.into_bytes()).map_err(|why| ConfigError::Invalid {
        name: "HANDOFF_TOKEN_SECRET",
        why: why.into(),
    })
}

impl Config {
    /// The table the Lambda functions keep everything in (`HANDOFF_TABLE`).
    pub fn table(&self) -> Result<&str, ConfigError> {
        self.table
            .as_deref()
            .ok_or(ConfigError::Missing("HANDOFF_TABLE"))
    }

    /// The use cases over `store`, with this configuration and the system clock.
    pub fn service(&self, store: Arc<dyn ConversationStore>) -> HandoffService {
        self.service_on(store, Arc::new(SystemClock))
    }

    /// [`Self::service`] on another clock (tests and the local server drive time).
    pub fn service_on(
        &self,
        store: Arc<dyn ConversationStore>,
        clock: Arc<dyn handoff_core::ports::Clock>,
    ) -> HandoffService {
        HandoffService::new(
            store,
            clock,
            self.catalog.clone(),
            self.index.clone(),
            self.settings.clone(),
        )
        .with_retention_days(self.retention_days)
        .with_catalog_refresh(self.catalog_refresh)
        .with_quiet_hours(self.quiet_hours.clone())
    }

    /// What `function` needs, from `HANDOFF_*` variables and the `secrets` its `main`
    /// read; fails naming the first variable or secret that is missing or invalid.
    pub fn for_function(
        function: Function,
        vars: &dyn Vars,
        secrets: &Secrets,
    ) -> Result<Config, ConfigError> {
        let vars = secrets.over(vars);
        let vars: &dyn Vars = &vars;
        function.check(vars)?;
        let catalog = load_catalog(vars.get("HANDOFF_FAQ_FILE").as_deref())?;
        let secret = match function {
            Function::ChatApi => Some(token_secret(vars)?),
            _ => None,
        };
        Self::with_catalog(vars, catalog, secret)
    }

    /// The business settings and the customer-token secret (required), without the
    /// table: what the chat function's handlers need.
    pub fn from_vars(vars: &dyn Vars) -> Result<Config, ConfigError> {
        let catalog = load_catalog(vars.get("HANDOFF_FAQ_FILE").as_deref())?;
        let secret = token_secret(vars)?;
        Self::with_catalog(vars, catalog, secret)
    }

    /// From variables, with this catalog and (where tokens are issued) this secret.
    pub fn with_catalog(
        vars: &dyn Vars,
        catalog: FaqCatalog,
        token_secret: impl Into<Option<Secret>>,
    ) -> Result<Config, ConfigError> {
        let business = &catalog.business;
        let hours_spec = vars
            .get("HANDOFF_AGENT_HOURS")
            .or_else(|| business.agent_hours.clone())
            .unwrap_or_else(|| "Mon-Fri 09:00-18:00".into());
        let tz = vars
            .get("HANDOFF_TIMEZONE")
            .or_else(|| business.timezone.clone())
            .unwrap_or_else(|| "UTC".into());
        let hours = AgentHours::parse(&hours_spec, &tz).map_err(|e| ConfigError::Invalid {
            name: if e.field == "timezone" {
                "HANDOFF_TIMEZONE"
            } else {
                "HANDOFF_AGENT_HOURS"
            },
            why: e.message,
        })?;
        let agent_language = match business.languages.first().map(String::as_str) {
            Some("en") => Lang::En,
            Some("ko") => Lang::Ko,
            _ => Lang::En,
        };
        let public_base_url = vars
            .get("PUBLIC_BASE_URL")
            .map(|u| u.trim_end_matches('/').to_string());
        let console_url = vars
            .get("HANDOFF_CONSOLE_URL")
            .or_else(|| public_base_url.as_ref().map(|b| format!("{b}/console")));
        let settings = Settings {
            business_name: vars
                .get("HANDOFF_BUSINESS_NAME")
                .unwrap_or_else(|| business.name.clone()),
            business_name_ko: vars
                .get("HANDOFF_BUSINESS_NAME_KO")
                .or_else(|| business.name_ko.clone()),
            hours,
            escalate_after: escalate_after(vars)?,
            queue_name: vars
                .get("HANDOFF_QUEUE")
                .unwrap_or_else(|| "support".into()),
            console_url,
            answers_url: public_base_url.clone(),
            sms_max_segments: parse_num(vars, "HANDOFF_SMS_MAX_SEGMENTS", 3)?,
            agent_language,
            earlier_conversations: parse_num(vars, "HANDOFF_EARLIER_CONVERSATIONS", 5)?,
            rate_limits: match vars.get("HANDOFF_RATE_LIMITS") {
                Some(spec) => RateLimits::parse(&spec).map_err(|e| ConfigError::Invalid {
                    name: "HANDOFF_RATE_LIMITS",
                    why: e.message,
                })?,
                None => RateLimits::default(),
            },
            alert_coalesce: match vars.get("HANDOFF_ALERT_COALESCE") {
                Some(w) => parse_window(w.trim()).ok_or_else(|| ConfigError::Invalid {
                    name: "HANDOFF_ALERT_COALESCE",
                    why: format!("{w:?} is not a window like 30s or 2m"),
                })?,
                None => SignedDuration::from_secs(30),
            },
            credits: credit_policy(vars)?,
        };
        let index = FaqIndex::build_auto(&catalog);
        let agent_tokens = vars
            .get("HANDOFF_JWT_SECRET")
            .map(|s| Secret::new(s.into_bytes()).map(AgentTokens::new))
            .transpose()
            .map_err(|why| ConfigError::Invalid {
                name: "HANDOFF_JWT_SECRET",
                why: why.into(),
            })?;
        Ok(Config {
            catalog: Arc::new(catalog),
            index: Arc::new(index),
            settings,
            conversation_tokens: token_secret.into().map(ConversationTokens::new),
            table: optional(vars, "HANDOFF_TABLE"),
            retention_days: parse_num(vars, "HANDOFF_RETENTION_DAYS", 0)?,
            agent_tokens,
            twilio_auth_token: vars.get("TWILIO_AUTH_TOKEN"),
            public_base_url,
            jwt_issuer: optional(vars, "HANDOFF_JWT_ISSUER"),
            allowed_origins: crate::cors::AllowedOrigins::parse(
                optional(vars, crate::cors::AllowedOrigins::VAR).as_deref(),
            ),
            catalog_refresh: match vars.get("HANDOFF_CATALOG_REFRESH") {
                Some(w) => parse_window(w.trim()).ok_or_else(|| ConfigError::Invalid {
                    name: "HANDOFF_CATALOG_REFRESH",
                    why: format!("{w:?} is not a window like 30s or 1m"),
                })?,
                None => handoff_core::service::CATALOG_REFRESH,
            },
            quiet_hours: quiet_hours(vars, &tz)?,
        })
    }
}

/// `HANDOFF_QUIET_HOURS` (`HH:MM-HH:MM` or `off`; default `21:00-08:00`) in `timezone`.
pub fn quiet_hours(
    vars: &dyn Vars,
    timezone: &str,
) -> Result<handoff_core::notices::QuietHours, ConfigError> {
    let spec = optional(vars, "HANDOFF_QUIET_HOURS")
        .unwrap_or_else(|| handoff_core::notices::DEFAULT_QUIET_HOURS.into());
    handoff_core::notices::QuietHours::parse(&spec, timezone).map_err(|e| ConfigError::Invalid {
        name: if e.field == "timezone" {
            "HANDOFF_TIMEZONE"
        } else {
            "HANDOFF_QUIET_HOURS"
        },
        why: e.message,
    })
}

/// `HANDOFF_AGENT_CREDIT_LIMIT`, `HANDOFF_AGENT_CREDIT_DAILY_LIMIT` (minor units)
/// and `HANDOFF_CREDIT_CURRENCY`, each with its default.
fn credit_policy(vars: &dyn Vars) -> Result<handoff_core::credit::CreditPolicy, ConfigError> {
    let d = handoff_core::credit::CreditPolicy::default();
    let currency = match optional(vars, "HANDOFF_CREDIT_CURRENCY") {
        None => d.currency,
        Some(c) => {
            handoff_core::credit::Currency::parse(c.trim()).map_err(|e| ConfigError::Invalid {
                name: "HANDOFF_CREDIT_CURRENCY",
                why: e.message,
            })?
        }
    };
    Ok(handoff_core::credit::CreditPolicy {
        per_credit: parse_num(vars, "HANDOFF_AGENT_CREDIT_LIMIT", d.per_credit)?,
        daily: parse_num(vars, "HANDOFF_AGENT_CREDIT_DAILY_LIMIT", d.daily)?,
        currency,
    })
}

#[cfg(test)]
mod credit_settings {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<handoff_core::credit::CreditPolicy, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        credit_policy(&move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn credit_limits_from_the_environment_with_defaults() {
        let d = from(&[]).unwrap();
        assert_eq!(
            (d.per_credit, d.daily, d.currency.as_str()),
            (30_000, 100_000, "KRW")
        );
        let p = from(&[
            ("HANDOFF_AGENT_CREDIT_LIMIT", "5000"),
            ("HANDOFF_AGENT_CREDIT_DAILY_LIMIT", "20000"),
            ("HANDOFF_CREDIT_CURRENCY", "USD"),
        ])
        .unwrap();
        assert_eq!(
            (p.per_credit, p.daily, p.currency.as_str()),
            (5_000, 20_000, "USD")
        );
        for (name, value) in [
            ("HANDOFF_AGENT_CREDIT_LIMIT", "lots"),
            ("HANDOFF_AGENT_CREDIT_DAILY_LIMIT", "-1"),
            ("HANDOFF_CREDIT_CURRENCY", "won"),
        ] {
            let err = from(&[(name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}

/// `HANDOFF_ESCALATE_AFTER`: a duration like `90s` or `5m` (at most 24h; default 5m).
pub fn escalate_after(vars: &dyn Vars) -> Result<SignedDuration, ConfigError> {
    match vars.get("HANDOFF_ESCALATE_AFTER") {
        None => Ok(SignedDuration::from_mins(5)),
        Some(d) => parse_window(d.trim()).ok_or_else(|| ConfigError::Invalid {
            name: "HANDOFF_ESCALATE_AFTER",
            why: format!("{d:?} is not a duration like 90s or 5m (1s to 24h)"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sample_catalog_is_valid() {
        let c = load_catalog(None).unwrap();
        assert!(c.faqs.len() >= 10);
    }

    #[test]
    fn missing_or_bad_settings_fail_fast_naming_the_variable() {
        let err = Config::from_vars(&vars(&[])).err().unwrap();
        assert!(err.to_string().contains("HANDOFF_TOKEN_SECRET"), "{err}");
        let err = Config::from_vars(&vars(&[("HANDOFF_TOKEN_SECRET", "short")]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("HANDOFF_TOKEN_SECRET"), "{err}");
        let base = [("HANDOFF_TOKEN_SECRET", "0123456789abcdef0123")];
        let err = Config::from_vars(&vars(&[base[0], ("HANDOFF_TIMEZONE", "Mars/Base")]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("HANDOFF_TIMEZONE"), "{err}");
        let err = Config::from_vars(&vars(&[base[0], ("HANDOFF_QUIET_HOURS", "late")]))
            .err()
            .expect("a bad HANDOFF_QUIET_HOURS stops the cold start");
        assert!(err.to_string().contains("HANDOFF_QUIET_HOURS"), "{err}");
        for bad in ["soon", "0s", "5", "-5m", "2d", "25h"] {
            let err = Config::from_vars(&vars(&[base[0], ("HANDOFF_ESCALATE_AFTER", bad)]))
                .err()
                .unwrap();
            assert!(
                err.to_string().contains("HANDOFF_ESCALATE_AFTER"),
                "{bad}: {err}"
            );
        }
        for (good, secs) in [("90s", 90), ("5m", 300), ("1h", 3600)] {
            let ok =
                Config::from_vars(&vars(&[base[0], ("HANDOFF_ESCALATE_AFTER", good)])).unwrap();
            assert_eq!(ok.settings.escalate_after.as_secs(), secs);
        }
        let ok = Config::from_vars(&vars(&[base[0]])).unwrap();
        assert_eq!(ok.settings.escalate_after.as_secs(), 300);
        let err = Config::from_vars(&vars(&[base[0], ("HANDOFF_FAQ_FILE", "/nonexistent.json")]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("/nonexistent.json"), "{err}");
        let ok = Config::from_vars(&vars(&[base[0], ("PUBLIC_BASE_URL", "https://x.example/")]))
            .unwrap();
        assert_eq!(
            ok.settings.console_url.as_deref(),
            Some("https://x.example/console")
        );
    }

    #[test]
    fn each_function_needs_only_its_own_variables() {
        let table = ("HANDOFF_TABLE", "handoff");
        let none = Secrets::none();
        for f in [Function::AgentApi, Function::SmsInbound] {
            let c = Config::for_function(f, &vars(&[table]), &none)
                .unwrap_or_else(|e| panic!("{}: {e}", f.name()));
            assert!(
                c.conversation_tokens.is_none(),
                "{} issues no tokens",
                f.name()
            );
            assert_eq!(c.table().unwrap(), "handoff");
        }
        let err = Config::for_function(Function::ChatApi, &vars(&[table]), &none)
            .err()
            .unwrap();
        assert!(
            matches!(err, ConfigError::MissingSecret("HANDOFF_TOKEN_SECRET")),
            "{err}"
        );
        let err = Config::for_function(Function::AgentApi, &vars(&[]), &none)
            .err()
            .unwrap();
        assert!(err.to_string().contains("HANDOFF_TABLE"), "{err}");
        // Locally the plain variable is the secret.
        let secret = ("HANDOFF_TOKEN_SECRET", "0123456789abcdef0123");
        let c = Config::for_function(Function::ChatApi, &vars(&[table, secret]), &none).unwrap();
        assert!(c.conversation_tokens.is_some());
        let err = Config::for_function(
            Function::ChatApi,
            &vars(&[table, secret, ("HANDOFF_RETENTION_DAYS", "x")]),
            &none,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("HANDOFF_RETENTION_DAYS"), "{err}");
    }

    #[test]
    fn secrets_read_at_cold_start_configure_the_function() {
        // In AWS only the ARNs are in the environment; main passes the values in.
        let env = vars(&[
            ("HANDOFF_TABLE", "handoff"),
            (
                "HANDOFF_TOKEN_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:t",
            ),
            (
                "TWILIO_AUTH_TOKEN_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:w",
            ),
        ]);
        let secrets = Secrets::none()
            .with("HANDOFF_TOKEN_SECRET", "0123456789abcdef0123")
            .with("TWILIO_AUTH_TOKEN", "twilio-token-value");
        let c = Config::for_function(Function::ChatApi, &env, &secrets).unwrap();
        assert!(c.conversation_tokens.is_some());
        assert_eq!(c.twilio_auth_token.as_deref(), Some("twilio-token-value"));
        // A short key is refused, naming the secret.
        let short = Secrets::none().with("HANDOFF_TOKEN_SECRET", "short");
        let err = Config::for_function(Function::ChatApi, &env, &short)
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: "HANDOFF_TOKEN_SECRET",
                    ..
                }
            ),
            "{err}"
        );
        // A missing secret says how to configure it.
        let err = Config::for_function(Function::ChatApi, &env, &Secrets::none())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("HANDOFF_TOKEN_SECRET_ARN") && err.contains("local runs"),
            "{err}"
        );
        // Names only, never values, in Debug.
        let shown = format!("{secrets:?}");
        assert!(shown.contains("TWILIO_AUTH_TOKEN"), "{shown}");
        assert!(
            !shown.contains("twilio-token-value") && !shown.contains("0123456789"),
            "{shown}"
        );
    }

    #[test]
    fn agent_api_reads_the_issuer() {
        let env = vars(&[
            ("HANDOFF_TABLE", "handoff"),
            (
                "HANDOFF_JWT_ISSUER",
                " https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc ",
            ),
        ]);
        let c = Config::for_function(Function::AgentApi, &env, &Secrets::none()).unwrap();
        assert_eq!(
            c.jwt_issuer.as_deref(),
            Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc")
        );
        let c = Config::for_function(
            Function::AgentApi,
            &vars(&[("HANDOFF_TABLE", "t")]),
            &Secrets::none(),
        )
        .unwrap();
        assert_eq!(c.jwt_issuer, None);
    }

    /// Runs a future that never waits (the readers below answer at once).
    fn ready<T>(f: impl Future<Output = T>) -> T {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the reader waited"),
        }
    }

    #[test]
    fn each_function_reads_only_its_own_secrets() {
        let asked = std::sync::Mutex::new(Vec::new());
        let reader = |name: &'static str| {
            asked.lock().unwrap().push(name);
            async move {
                Ok::<_, String>(match name {
                    "HANDOFF_TOKEN_SECRET" => Some("token-key-0123456789".to_string()),
                    _ => None,
                })
            }
        };
        let chat = ready(Secrets::read(Function::ChatApi, reader)).unwrap();
        assert_eq!(
            chat.get("HANDOFF_TOKEN_SECRET"),
            Some("token-key-0123456789")
        );
        assert_eq!(
            chat.get("TWILIO_AUTH_TOKEN"),
            None,
            "not configured: absent"
        );
        assert_eq!(
            *asked.lock().unwrap(),
            ["HANDOFF_TOKEN_SECRET", "TWILIO_AUTH_TOKEN"]
        );
        for f in [Function::AgentApi, Function::SmsInbound] {
            asked.lock().unwrap().clear();
            let s = ready(Secrets::read(f, reader)).unwrap();
            assert!(
                asked.lock().unwrap().is_empty(),
                "{} reads no secret: {s:?}",
                f.name()
            );
        }
        asked.lock().unwrap().clear();
        ready(Secrets::read(Function::AlertDispatcher, reader)).unwrap();
        assert_eq!(*asked.lock().unwrap(), ["TWILIO_AUTH_TOKEN"]);
        // A failed read stops the cold start with the reader's error.
        let failing = |name: &'static str| async move {
            Err::<Option<String>, _>(format!("{name}: access denied"))
        };
        let err = ready(Secrets::read(Function::ChatApi, failing)).unwrap_err();
        assert_eq!(err, "HANDOFF_TOKEN_SECRET: access denied");
    }
}

/// The SAM template against this configuration and the route table: every variable a
/// function requires is set for it, secrets only by ARN and only where read, and every
/// route reaches its function through an API Gateway route.
#[cfg(test)]
mod template {
    use super::Function;
    use crate::routes::{self, ROUTES};

    const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

    /// The lines of a top-level section (`Globals:`) or of a resource (`  Name:`).
    fn block(header: &str) -> Vec<&'static str> {
        let indent = header.len() - header.trim_start().len();
        let mut lines = TEMPLATE.lines().skip_while(|l| *l != header);
        assert!(lines.next().is_some(), "{header:?} is not in the template");
        lines
            .take_while(|l| {
                let own = l.len() - l.trim_start().len();
                l.trim().is_empty() || l.trim_start().starts_with('#') || own > indent
            })
            .collect()
    }

    fn resource(f: Function) -> Vec<&'static str> {
        block(match f {
            Function::ChatApi => "  ChatApiFunction:",
            Function::AgentApi => "  AgentApiFunction:",
            Function::SmsInbound => "  SmsInboundFunction:",
            Function::AlertDispatcher => "  AlertDispatcherFunction:",
        })
    }

    /// Whether `lines` set the variable `name` (a `NAME: value` line).
    fn sets(lines: &[&str], name: &str) -> bool {
        lines
            .iter()
            .any(|l| l.trim_start().starts_with(&format!("{name}:")))
    }

    /// The `(method, path)` of each API Gateway event in `lines`, in flow style
    /// (`{ ApiId: …, Method: GET, Path: / }`) or one key a line.
    fn http_events(lines: &[&str]) -> Vec<(String, String)> {
        // A quoted value up to its closing quote (paths with `{id}` are quoted), else
        // up to the end of the flow item.
        let value = |l: &str, key: &str| {
            l.split_once(key).map(|(_, rest)| {
                let rest = rest.trim_start();
                match rest.strip_prefix('"') {
                    Some(quoted) => quoted.split('"').next(),
                    None => rest.split([',', ' ', '}']).next(),
                }
                .unwrap_or("")
                .to_string()
            })
        };
        let mut events = Vec::new();
        let mut method = None;
        for l in lines {
            if let Some(m) = value(l, "Method:") {
                method = Some(m);
            }
            if let (Some(p), Some(m)) = (value(l, "Path:"), method.as_ref()) {
                events.push((m.clone(), p));
                method = None;
            }
        }
        events
    }

    /// A template path serves `path` when each segment is equal or a `{parameter}`.
    fn serves(template: &str, path: &str) -> bool {
        let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len()
            && t.iter()
                .zip(&p)
                .all(|(t, p)| t == p || (t.starts_with('{') && !t.ends_with("+}")))
    }

    const ALL: [Function; 4] = [
        Function::ChatApi,
        Function::AgentApi,
        Function::SmsInbound,
        Function::AlertDispatcher,
    ];

    #[test]
    fn every_required_variable_is_set_and_secrets_only_by_arn() {
        let globals = block("Globals:");
        for f in ALL {
            let own = resource(f);
            for name in f.required() {
                assert!(
                    sets(&globals, name) || sets(&own, name),
                    "{}: {name} is required but the template does not set it",
                    f.name()
                );
            }
            for name in f.secrets() {
                assert!(
                    sets(&own, &format!("{name}_ARN")),
                    "{}: {name}_ARN",
                    f.name()
                );
            }
            for name in ["HANDOFF_TOKEN_SECRET", "TWILIO_AUTH_TOKEN"] {
                assert!(
                    !sets(&globals, name) && !sets(&own, name),
                    "{}: the secret {name} is in the environment as a value",
                    f.name()
                );
                assert_eq!(
                    sets(&own, &format!("{name}_ARN")),
                    f.secrets().contains(&name),
                    "{}: {name}_ARN only where the secret is read",
                    f.name()
                );
            }
        }
    }

    #[test]
    fn the_variables_the_code_reads_are_the_ones_the_template_sets() {
        let chat = resource(Function::ChatApi);
        for name in [
            crate::cors::AllowedOrigins::VAR,
            "HANDOFF_RATE_LIMITS",
            "HANDOFF_MODEL_DIR",
        ] {
            assert!(sets(&chat, name), "chat-api: {name}");
        }
        assert!(!TEMPLATE.contains("HANDOFF_WIDGET_ORIGINS"), "renamed");
        assert!(sets(&resource(Function::AgentApi), "HANDOFF_JWT_ISSUER"));
        assert!(sets(&resource(Function::SmsInbound), "HANDOFF_MODEL_DIR"));
        let dispatcher = resource(Function::AlertDispatcher);
        assert!(sets(&dispatcher, "HANDOFF_ALERT_COALESCE"));
        // One queue name for the functions that queue and the one that alerts.
        assert!(sets(&block("Globals:"), "HANDOFF_QUEUE"));
    }

    #[test]
    fn every_route_reaches_its_function() {
        let chat = http_events(&resource(Function::ChatApi));
        let agent = http_events(&resource(Function::AgentApi));
        assert!(chat.len() >= 10 && agent.len() >= 5, "{chat:?} {agent:?}");
        for r in ROUTES {
            let (mine, theirs) = match r.function {
                routes::Function::Chat => (&chat, &agent),
                routes::Function::Agent => (&agent, &chat),
            };
            let reaches = |events: &[(String, String)]| {
                events
                    .iter()
                    .any(|(m, p)| m == r.method && serves(p, r.path))
            };
            assert!(
                reaches(mine),
                "{} {} has no API Gateway route to its function",
                r.method,
                r.path
            );
            assert!(
                !reaches(theirs),
                "{} {} also goes to the other function",
                r.method,
                r.path
            );
        }
        // And no API Gateway route leads nowhere (the preflight is chat-api's own).
        for (m, p) in chat.iter().chain(&agent) {
            assert!(
                m == "OPTIONS" || ROUTES.iter().any(|r| r.method == m && serves(p, r.path)),
                "{m} {p} is routed but no handler answers it"
            );
        }
    }
}
