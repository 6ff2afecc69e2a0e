//! Secrets for the functions, kept out of the environment.
//!
//! In AWS the SAM template sets only `<NAME>_ARN`, the ARN of a Secrets Manager secret,
//! never the value: Lambda environment variables are readable by anyone who may call
//! `lambda:GetFunctionConfiguration`, and they end up in deployment tooling. The value is
//! fetched once per instance, at cold start, and kept in memory ([`SecretsClient`] caches
//! it by secret id). Rotating a secret therefore takes effect on new instances.
//!
//! Local runs (`handoff serve`, tests, the bench) set the plain variable `<NAME>` instead.
//! Setting both is an error, so a deployment cannot silently fall back to a plain value.
//!
//! ```no_run
//! # async fn cold_start() -> Result<(), handoff_secrets::SecretError> {
//! use handoff_secrets::SecretSource;
//! if let Some(source) = SecretSource::from_env_name("HANDOFF_TOKEN_SECRET")? {
//!     let key = source.value().await?; // Secrets Manager when HANDOFF_TOKEN_SECRET_ARN is set
//!     let _bytes = key.expose().as_bytes();
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::Client;
use tokio::sync::OnceCell;

/// Suffix of the variable that names a Secrets Manager secret (its ARN or name).
pub const ARN_SUFFIX: &str = "_ARN";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("set either {name} (a plain value, for local runs) or {name}_ARN (a Secrets Manager secret), not both")]
    Ambiguous { name: String },
    #[error("secret {name} ({secret_id}) could not be read from Secrets Manager: {reason}")]
    Fetch {
        name: String,
        secret_id: String,
        reason: String,
    },
    #[error(
        "secret {name} ({secret_id}) has no text value (SecretString); store the value as text"
    )]
    NotText { name: String, secret_id: String },
    #[error("secret {name} is empty")]
    Empty { name: String },
}

/// A secret's value. Its `Debug` never shows it, and it has no `Display`, so it cannot
/// end up in a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Arc<str>);

impl SecretValue {
    fn new(name: &str, value: String) -> Result<Self, SecretError> {
        if value.trim().is_empty() {
            return Err(SecretError::Empty { name: name.into() });
        }
        Ok(Self(value.into()))
    }

    /// The value, exactly as stored (no trimming: it is key material).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

#[derive(Clone, Debug)]
enum Origin {
    /// `<NAME>_ARN`: a Secrets Manager secret id (ARN or name).
    SecretsManager { secret_id: String },
    /// `<NAME>`: the value itself (local runs).
    Plain(SecretValue),
}

/// Where one named secret comes from: `<NAME>_ARN` or the plain `<NAME>`.
#[derive(Clone, Debug)]
pub struct SecretSource {
    name: String,
    origin: Origin,
}

impl SecretSource {
    /// From the process environment; `Ok(None)` when neither `<NAME>` nor `<NAME>_ARN` is
    /// set (the caller decides whether that secret is required).
    pub fn from_env_name(name: &str) -> Result<Option<Self>, SecretError> {
        Self::from_vars(name, |v| std::env::var(v).ok())
    }

    /// As [`from_env_name`](Self::from_env_name), reading variables through `var`.
    /// Empty or blank values count as unset (the template sets `""` for an unused secret).
    pub fn from_vars(
        name: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, SecretError> {
        let get = |n: &str| var(n).filter(|v| !v.trim().is_empty());
        let arn = get(&format!("{name}{ARN_SUFFIX}"));
        let plain = get(name);
        let origin = match (arn, plain) {
            (Some(_), Some(_)) => return Err(SecretError::Ambiguous { name: name.into() }),
            (Some(id), None) => Origin::SecretsManager {
                secret_id: id.trim().to_string(),
            },
            (None, Some(value)) => Origin::Plain(SecretValue::new(name, value)?),
            (None, None) => return Ok(None),
        };
        Ok(Some(Self {
            name: name.into(),
            origin,
        }))
    }

    /// The variable name this source was read for (e.g. `HANDOFF_TOKEN_SECRET`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Secrets Manager secret id, when the value is fetched from there.
    pub fn secret_id(&self) -> Option<&str> {
        match &self.origin {
            Origin::SecretsManager { secret_id } => Some(secret_id),
            Origin::Plain(_) => None,
        }
    }

    /// The value, through the process-wide [`SecretsClient::shared`] (AWS configuration
    /// from the environment, loaded only if a secret is actually fetched).
    pub async fn value(&self) -> Result<SecretValue, SecretError> {
        self.value_with(SecretsClient::shared()).await
    }

    /// The value: the plain variable's, or the secret's, fetched through `client` on the
    /// first call and cached there.
    pub async fn value_with(&self, client: &SecretsClient) -> Result<SecretValue, SecretError> {
        match &self.origin {
            Origin::Plain(value) => Ok(value.clone()),
            Origin::SecretsManager { secret_id } => client.get(&self.name, secret_id).await,
        }
    }
}

/// The secret `name` from the process environment (`<NAME>_ARN` or `<NAME>`), through
/// [`SecretsClient::shared`]; `Ok(None)` when neither is set. The one call a cold start
/// needs: `handoff_secrets::read("HANDOFF_TOKEN_SECRET").await?`.
pub async fn read(name: &str) -> Result<Option<SecretValue>, SecretError> {
    match SecretSource::from_env_name(name)? {
        Some(source) => source.value().await.map(Some),
        None => Ok(None),
    }
}

/// Fetches secrets from Secrets Manager, each at most once: the value is cached by
/// secret id for the life of the client (the life of a Lambda instance for
/// [`shared`](Self::shared)).
pub struct SecretsClient {
    client: OnceCell<Client>,
    cache: Mutex<HashMap<String, Arc<OnceCell<SecretValue>>>>,
}

impl SecretsClient {
    /// A client with this AWS configuration (endpoint, region, credentials).
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self::with_client(Client::new(sdk))
    }

    /// A client over an already built Secrets Manager client (e.g. with interceptors).
    pub fn with_client(client: Client) -> Self {
        Self {
            client: OnceCell::new_with(Some(client)),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The process-wide client: AWS configuration from the environment, loaded on the
    /// first fetch (never for plain local values).
    pub fn shared() -> &'static SecretsClient {
        static SHARED: OnceLock<SecretsClient> = OnceLock::new();
        SHARED.get_or_init(|| SecretsClient {
            client: OnceCell::new(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async { Client::new(&aws_config::load_from_env().await) })
            .await
    }

    /// The cell of `secret_id`; a poisoned lock only means another fetch panicked, and
    /// the map itself is still consistent.
    fn cell(&self, secret_id: &str) -> Arc<OnceCell<SecretValue>> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.entry(secret_id.to_string()).or_default().clone()
    }

    /// The text value of `secret_id` (its current version), fetched once. A failed fetch
    /// is not cached: the next call tries again.
    pub async fn get(&self, name: &str, secret_id: &str) -> Result<SecretValue, SecretError> {
        let cell = self.cell(secret_id);
        let value = cell
            .get_or_try_init(|| async {
                let out = self
                    .client()
                    .await
                    .get_secret_value()
                    .secret_id(secret_id)
                    .send()
                    .await
                    .map_err(|e| SecretError::Fetch {
                        name: name.into(),
                        secret_id: secret_id.into(),
                        reason: DisplayErrorContext(&e).to_string(),
                    })?;
                let text = out.secret_string.ok_or_else(|| SecretError::NotText {
                    name: name.into(),
                    secret_id: secret_id.into(),
                })?;
                tracing::info!(name, secret_id, "secret read from Secrets Manager");
                SecretValue::new(name, text)
            })
            .await?;
        Ok(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn neither_variable_is_none() {
        let source = SecretSource::from_vars("X_SECRET", vars(&[("OTHER", "v")]));
        assert!(matches!(source, Ok(None)), "{source:?}");
        let blank = SecretSource::from_vars(
            "X_SECRET",
            vars(&[("X_SECRET", "  "), ("X_SECRET_ARN", "")]),
        );
        assert!(matches!(blank, Ok(None)), "{blank:?}");
    }

    #[test]
    fn both_variables_are_refused() {
        let err = SecretSource::from_vars(
            "X_SECRET",
            vars(&[
                ("X_SECRET", "s3cr3t-v4lue"),
                ("X_SECRET_ARN", "arn:aws:secretsmanager:x"),
            ]),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.contains("X_SECRET_ARN") && err.contains("not both"),
            "{err}"
        );
        assert!(
            !err.contains("s3cr3t"),
            "the value must not be in the message: {err}"
        );
    }

    #[test]
    fn arn_variable_names_the_secret() {
        let source = SecretSource::from_vars("X_SECRET", vars(&[("X_SECRET_ARN", " arn:aws:x ")]))
            .ok()
            .flatten();
        assert_eq!(
            source.as_ref().and_then(|s| s.secret_id()),
            Some("arn:aws:x")
        );
        assert_eq!(source.as_ref().map(|s| s.name()), Some("X_SECRET"));
    }

    #[tokio::test]
    async fn read_takes_the_process_environment() {
        // A name no other test or tool sets.
        std::env::set_var("HANDOFF_SECRETS_TEST_READ", "plain-value-0123456789");
        let value = read("HANDOFF_SECRETS_TEST_READ")
            .await
            .unwrap_or_else(|e| panic!("read: {e}"));
        assert_eq!(
            value.as_ref().map(SecretValue::expose),
            Some("plain-value-0123456789")
        );
        let absent = read("HANDOFF_SECRETS_TEST_ABSENT").await;
        assert!(matches!(absent, Ok(None)), "{absent:?}");
    }

    #[tokio::test]
    async fn plain_variable_is_the_value_and_never_shown() {
        let source = SecretSource::from_vars("X_SECRET", vars(&[("X_SECRET", "0123456789abcdef")]))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("a plain source"));
        assert_eq!(source.secret_id(), None);
        // No AWS configuration is loaded for a plain value.
        let value = source
            .value()
            .await
            .unwrap_or_else(|e| panic!("plain value: {e}"));
        assert_eq!(value.expose(), "0123456789abcdef");
        let shown = format!("{source:?} {value:?}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }
}
