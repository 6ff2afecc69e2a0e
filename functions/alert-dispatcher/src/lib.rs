//! The alert dispatcher: a Lambda function that delivers outbox items.
//!
//! * **Stream**: the table's DynamoDB stream invokes it with batches of records. It picks
//!   the `INSERT`s of outbox items, and for each calls [`HandoffService::dispatch`]
//!   (lease → publish → complete), so a redelivered record never publishes twice.
//!   Records that failed are returned as `batchItemFailures`
//!   (`ReportBatchItemFailures`): Lambda retries only those, and after its retries the
//!   event source mapping sends them to the dead-letter queue.
//! * **Sweep**: an EventBridge schedule invokes it to deliver what is still pending: items
//!   whose lease ran out because a worker crashed between lease and complete, or whose
//!   send failed (a failed send keeps its lease until it expires, so the stream's retry
//!   skips it and the sweep delivers it).
//!
//! Texts that SNS rejects for good (opted-out or invalid numbers) are logged and
//! completed, since no retry can deliver them; alerts that are rejected fail the record,
//! so a misconfigured topic ends in the dead-letter queue and its alarm.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::{Event as DynamoDbEvent, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde::Serialize;
use serde_json::Value;

use handoff_core::escalation::{EscalationPolicy, Escalator};
use handoff_core::hours::AgentHours;
use handoff_core::insights::emf::{self, MetricsSink};
use handoff_core::model::{Outbound, OutboxItem};
use handoff_core::outbox::{Dispatched, OutboxDispatcher};
use handoff_core::ports::{Delivery, SystemClock};
use handoff_core::service::{NoticeFanout, NoticePolicy};
use handoff_core::DeliveryError;
use handoff_dynamodb::stream::{outbox_insert, StreamError};
use handoff_dynamodb::DynamoStore;
use handoff_sns::{SmsSettings, SnsDelivery};
use handoff_twilio::{RoutedDelivery, TwilioAccount, TwilioDelivery};

/// Most items one sweep delivers.
pub const SWEEP_LIMIT: usize = 100;

use handoff_http::config::{optional, parse_num, required, Secrets, Vars};
/// A configuration problem, naming the environment variable (the functions' one kind).
pub use handoff_http::ConfigError;
use handoff_http::Function;

/// Why the handler refused an event as a whole.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("unrecognised event: neither DynamoDB stream records nor a scheduled sweep")]
    UnknownEvent,
    #[error("malformed stream event: {0}")]
    BadStreamEvent(String),
    #[error("stream record {0} has no sequence number to report its failure with")]
    NoSequenceNumber(String),
    #[error(transparent)]
    Service(#[from] handoff_core::ServiceError),
}

/// Why one stream record failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Service(#[from] handoff_core::ServiceError),
}

/// What the dispatcher needs from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub table: String,
    pub retention_days: u32,
    pub alerts_topic_arn: String,
    /// Where decided credits are published: `HANDOFF_CREDIT_EVENTS_TOPIC_ARN`.
    pub credit_events_topic_arn: Option<String>,
    pub sms: SmsSettings,
    /// Texts to customers go through Twilio (`HANDOFF_SMS_PROVIDER=twilio`), alerts still through SNS.
    pub twilio: Option<TwilioAccount>,
    /// The agent console, for links in alerts: `HANDOFF_CONSOLE_URL`, else `PUBLIC_BASE_URL` + `/console`.
    pub console_url: Option<String>,
    /// The queue whose agent alerts are coalesced: `HANDOFF_QUEUE` (default `support`).
    pub alert_queue: String,
    /// One alert per queue per this window: `HANDOFF_ALERT_COALESCE` (default `30s`).
    pub alert_coalesce: jiff::SignedDuration,
    /// When people answer: `HANDOFF_AGENT_HOURS` and `HANDOFF_TIMEZONE` (the template
    /// sets both; default `Mon-Fri 09:00-18:00` in UTC).
    pub hours: AgentHours,
    /// `HANDOFF_ESCALATE_AFTER` (default `5m`).
    pub escalate_after: jiff::SignedDuration,
    /// `HANDOFF_SMS_MAX_SEGMENTS` (default 3): the customer's update by text fits in it.
    pub sms_max_segments: usize,
    pub public_base_url: Option<String>,
    /// Notices wait out these hours: `HANDOFF_QUIET_HOURS` (default `21:00-08:00`) in
    /// `HANDOFF_TIMEZONE`.
    pub quiet_hours: handoff_core::notices::QuietHours,
}

impl Config {
    /// From the process environment and the `secrets` `main` read at cold start
    /// ([`Function::secrets`]: Twilio's token, by `TWILIO_AUTH_TOKEN_ARN` in AWS).
    pub fn from_env(secrets: &Secrets) -> Result<Self, ConfigError> {
        Self::from_vars(handoff_http::config::ProcessEnv, secrets)
    }

    /// Required: `HANDOFF_TABLE`, `HANDOFF_ALERTS_TOPIC_ARN`; with
    /// `HANDOFF_SMS_PROVIDER=twilio` also `TWILIO_ACCOUNT_SID`, `TWILIO_FROM_NUMBER` and
    /// the secret `TWILIO_AUTH_TOKEN` (from `secrets`, else a plain variable locally).
    /// Optional: `HANDOFF_RETENTION_DAYS`, `HANDOFF_SMS_SENDER_ID`,
    /// `HANDOFF_SMS_ORIGINATION_NUMBER`, `HANDOFF_CONSOLE_URL` or `PUBLIC_BASE_URL`,
    /// `HANDOFF_QUEUE`, `HANDOFF_ALERT_COALESCE`.
    pub fn from_vars(vars: impl Vars, secrets: &Secrets) -> Result<Self, ConfigError> {
        let vars = secrets.over(&vars);
        let vars: &dyn Vars = &vars;
        Function::AlertDispatcher.check(vars)?;
        let var = |name: &str| vars.get(name);
        Ok(Self {
            table: required(vars, "HANDOFF_TABLE")?,
            retention_days: parse_num(vars, "HANDOFF_RETENTION_DAYS", 0)?,
            alerts_topic_arn: required(vars, "HANDOFF_ALERTS_TOPIC_ARN")?,
            credit_events_topic_arn: optional(vars, "HANDOFF_CREDIT_EVENTS_TOPIC_ARN"),
            sms: SmsSettings::from_vars(var),
            console_url: optional(vars, "HANDOFF_CONSOLE_URL").or_else(|| {
                optional(vars, "PUBLIC_BASE_URL")
                    .map(|b| format!("{}/console", b.trim_end_matches('/')))
            }),
            alert_queue: optional(vars, "HANDOFF_QUEUE").unwrap_or_else(|| "support".into()),
            alert_coalesce: match optional(vars, "HANDOFF_ALERT_COALESCE") {
                None => jiff::SignedDuration::from_secs(30),
                Some(w) => {
                    handoff_core::limits::parse_window(&w).ok_or_else(|| ConfigError::Invalid {
                        name: "HANDOFF_ALERT_COALESCE",
                        why: format!("{w:?} is not a window like 30s or 2m"),
                    })?
                }
            },
            hours: {
                let spec = optional(vars, "HANDOFF_AGENT_HOURS")
                    .unwrap_or_else(|| "Mon-Fri 09:00-18:00".into());
                let tz = optional(vars, "HANDOFF_TIMEZONE").unwrap_or_else(|| "UTC".into());
                AgentHours::parse(&spec, &tz).map_err(|e| ConfigError::Invalid {
                    name: if e.field == "timezone" {
                        "HANDOFF_TIMEZONE"
                    } else {
                        "HANDOFF_AGENT_HOURS"
                    },
                    why: e.message,
                })?
            },
            escalate_after: handoff_http::config::escalate_after(vars)?,
            sms_max_segments: parse_num(vars, "HANDOFF_SMS_MAX_SEGMENTS", 3)?,
            public_base_url: optional(vars, "PUBLIC_BASE_URL")
                .map(|u| u.trim_end_matches('/').to_string()),
            quiet_hours: handoff_http::config::quiet_hours(
                vars,
                &optional(vars, "HANDOFF_TIMEZONE").unwrap_or_else(|| "UTC".into()),
            )?,
            twilio: TwilioAccount::from_vars(var).map_err(|e| match e {
                handoff_twilio::ConfigError::Missing(name)
                    if Function::AlertDispatcher.secrets().contains(&name) =>
                {
                    ConfigError::MissingSecret(name)
                }
                handoff_twilio::ConfigError::Missing(name) => ConfigError::Missing(name),
                handoff_twilio::ConfigError::Invalid { name, why } => {
                    ConfigError::Invalid { name, why }
                }
            })?,
        })
    }
}

/// Completes texts that SNS refuses for good (the number opted out or is invalid):
/// logged, not retried forever. Everything else passes through unchanged.
pub struct DropRejectedTexts<D>(pub D);

#[async_trait]
impl<D: Delivery> Delivery for DropRejectedTexts<D> {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        match (self.0.deliver(item).await, &item.item) {
            (
                Err(DeliveryError::Permanent(why)),
                Outbound::CustomerSms {
                    conversation_id,
                    to,
                    ..
                },
            ) => {
                tracing::warn!(
                    outbox_id = %item.id,
                    conversation_id = %conversation_id,
                    to = %to.masked(),
                    error = %why,
                    "text rejected for good; not retrying"
                );
                Ok(())
            }
            (result, _) => result,
        }
    }
}

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub delivered: usize,
    /// Delivered before (a redelivered record) or held by another worker.
    pub skipped: usize,
    /// Not outbox inserts.
    pub ignored: usize,
    pub failed: usize,
    /// Escalations and digests the sweep wrote.
    pub escalated: usize,
}

/// What became of one stream record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Skipped,
    Ignored,
}

/// The handler: one service and one delivery, built once per cold start.
pub struct Dispatcher {
    outbox: OutboxDispatcher,
    delivery: Arc<dyn Delivery>,
    /// Where delivery counts go as EMF lines (CloudWatch metrics).
    metrics: Option<Arc<dyn MetricsSink>>,
    /// The scheduled sweep also escalates unclaimed handoffs and sends the opening digest.
    escalator: Option<Escalator>,
}

impl Dispatcher {
    pub fn new(outbox: OutboxDispatcher, delivery: Arc<dyn Delivery>) -> Self {
        Self {
            outbox,
            delivery,
            metrics: None,
            escalator: None,
        }
    }

    /// Emits each batch's and sweep's delivery counts to `sink`.
    pub fn with_metrics(mut self, sink: Arc<dyn MetricsSink>) -> Self {
        self.metrics = Some(sink);
        self
    }

    /// The sweep runs this escalator first.
    pub fn with_escalator(mut self, escalator: Escalator) -> Self {
        self.escalator = Some(escalator);
        self
    }

    fn emit(&self, delivered: usize, failed: usize) {
        if let Some(sink) = &self.metrics {
            let metrics = [
                ("OutboxDelivered", "Count", delivered as f64),
                ("OutboxFailed", "Count", failed as f64),
            ];
            sink.emit(&emf::line(
                jiff::Timestamp::now(),
                "alert-dispatcher",
                &[],
                &metrics,
            ));
        }
    }

    /// The production wiring: the DynamoDB store, alerts through SNS, and texts
    /// through SNS or Twilio, from `config`.
    pub fn from_config(config: &Config, sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let store = Arc::new(
            DynamoStore::from_conf(sdk, config.table.clone())
                .with_retention_days(config.retention_days),
        );
        let sns = SnsDelivery::new(
            aws_sdk_sns::Client::new(sdk),
            config.alerts_topic_arn.clone(),
            config.sms.clone(),
        )
        .with_console_url(config.console_url.clone())
        .with_credit_events_topic(config.credit_events_topic_arn.clone());
        let delivery: Arc<dyn Delivery> = match &config.twilio {
            None => Arc::new(DropRejectedTexts(sns)),
            Some(account) => {
                let twilio =
                    TwilioDelivery::new(account.clone()).map_err(|e| ConfigError::Invalid {
                        name: "TWILIO_ACCOUNT_SID",
                        why: format!("cannot build the Twilio client: {e}"),
                    })?;
                Arc::new(DropRejectedTexts(RoutedDelivery::new(
                    Arc::new(sns),
                    Arc::new(twilio),
                )))
            }
        };
        let escalator = Escalator::new(
            store.clone(),
            Arc::new(SystemClock),
            EscalationPolicy {
                hours: config.hours.clone(),
                escalate_after: config.escalate_after,
                queue_name: config.alert_queue.clone(),
                console_url: config.console_url.clone(),
                sms_max_segments: config.sms_max_segments,
                answers_url: config.public_base_url.clone(),
            },
        );
        // Notices' recipients are worked through here, a batch per outbox item.
        let notices = Arc::new(NoticeFanout::new(
            store.clone(),
            Arc::new(SystemClock),
            NoticePolicy {
                quiet_hours: config.quiet_hours.clone(),
                sms_max_segments: config.sms_max_segments,
                answers_url: config.public_base_url.clone(),
            },
        ));
        Ok(Self::new(
            OutboxDispatcher::new(store.clone(), Arc::new(SystemClock))
                .with_alert_coalescing(store, &config.alert_queue, config.alert_coalesce)
                .with_notices(notices),
            delivery,
        )
        .with_escalator(escalator))
    }

    pub fn outbox(&self) -> &OutboxDispatcher {
        &self.outbox
    }

    /// Any event: stream records, or a scheduled sweep. The answer is Lambda's
    /// `{"batchItemFailures": [...]}` for streams, the counts for a sweep.
    pub async fn handle(&self, event: Value) -> Result<Value, HandlerError> {
        if event.get("Records").is_some() {
            let event: DynamoDbEvent = serde_json::from_value(event)
                .map_err(|e| HandlerError::BadStreamEvent(e.to_string()))?;
            let response = self.stream(event).await?;
            return serde_json::to_value(response)
                .map_err(|e| HandlerError::BadStreamEvent(e.to_string()));
        }
        let scheduled = matches!(
            event["source"].as_str(),
            Some("aws.events" | "aws.scheduler")
        ) || event["detail-type"].as_str() == Some("Scheduled Event");
        if scheduled {
            let summary = self.sweep().await?;
            return Ok(serde_json::to_value(summary).unwrap_or(Value::Null));
        }
        Err(HandlerError::UnknownEvent)
    }

    /// Delivers a stream batch's outbox inserts; failed records come back by sequence number.
    pub async fn stream(
        &self,
        event: DynamoDbEvent,
    ) -> Result<DynamoDbEventResponse, HandlerError> {
        let mut response = DynamoDbEventResponse::default();
        let mut summary = Summary::default();
        for record in &event.records {
            match self.record(record).await {
                Ok(Outcome::Delivered) => summary.delivered += 1,
                Ok(Outcome::Skipped) => summary.skipped += 1,
                Ok(Outcome::Ignored) => summary.ignored += 1,
                Err(e) => {
                    summary.failed += 1;
                    tracing::error!(event_id = %record.event_id, error = %e, "stream record failed; Lambda will retry it");
                    let id =
                        record.change.sequence_number.clone().ok_or_else(|| {
                            HandlerError::NoSequenceNumber(record.event_id.clone())
                        })?;
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = Some(id);
                    response.batch_item_failures.push(failure);
                }
            }
        }
        // Alerts held back earlier are announced as soon as their window has passed.
        if let Err(e) = self.outbox.flush_held_alerts(self.delivery.as_ref()).await {
            tracing::warn!(error = %e, "held-back alerts not announced yet; the sweep retries");
        }
        self.emit(summary.delivered, summary.failed);
        tracing::info!(
            records = event.records.len(),
            delivered = summary.delivered,
            skipped = summary.skipped,
            ignored = summary.ignored,
            failed = summary.failed,
            "stream batch done"
        );
        Ok(response)
    }

    async fn record(&self, record: &EventRecord) -> Result<Outcome, RecordError> {
        let Some(item) = outbox_insert(record)? else {
            return Ok(Outcome::Ignored);
        };
        match self.outbox.dispatch(self.delivery.as_ref(), &item).await? {
            Dispatched::Delivered => Ok(Outcome::Delivered),
            Dispatched::Skipped | Dispatched::Folded => Ok(Outcome::Skipped),
        }
    }

    /// Escalates what is overdue (the outbox items it writes go out in this same sweep
    /// and through the stream), then delivers pending items (never leased, or whose
    /// lease expired).
    pub async fn sweep(&self) -> Result<Summary, HandlerError> {
        let mut escalated = 0;
        if let Some(escalator) = &self.escalator {
            match escalator.sweep().await {
                Ok(r) => escalated = r.escalated + r.digests,
                // Delivery still runs; the next sweep escalates.
                Err(e) => tracing::warn!(error = %e, "escalation sweep failed"),
            }
        }
        let (delivered, failed) = self
            .outbox
            .dispatch_pending(self.delivery.as_ref(), SWEEP_LIMIT)
            .await?;
        self.emit(delivered, failed);
        if failed > 0 {
            tracing::warn!(
                delivered,
                failed,
                "sweep: some deliveries failed; the next sweep retries them"
            );
        } else {
            tracing::info!(delivered, "sweep done");
        }
        Ok(Summary {
            delivered,
            failed,
            escalated,
            ..Summary::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn config_names_the_missing_variable() {
        let err = Config::from_vars(vars(&[("HANDOFF_TABLE", "t")]), &Secrets::none()).unwrap_err();
        assert!(
            err.to_string().contains("HANDOFF_ALERTS_TOPIC_ARN"),
            "{err}"
        );
        let err = Config::from_vars(vars(&[]), &Secrets::none()).unwrap_err();
        assert!(err.to_string().contains("HANDOFF_TABLE"), "{err}");
        let err = Config::from_vars(
            vars(&[
                ("HANDOFF_TABLE", "t"),
                ("HANDOFF_ALERTS_TOPIC_ARN", "arn"),
                ("HANDOFF_RETENTION_DAYS", "ninety"),
            ]),
            &Secrets::none(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("HANDOFF_RETENTION_DAYS"), "{err}");
        let err = Config::from_vars(
            vars(&[
                ("HANDOFF_TABLE", "t"),
                ("HANDOFF_ALERTS_TOPIC_ARN", "arn"),
                ("HANDOFF_SMS_PROVIDER", "twilio"),
                ("TWILIO_ACCOUNT_SID", "AC123"),
                ("TWILIO_AUTH_TOKEN", "secret"),
            ]),
            &Secrets::none(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("TWILIO_FROM_NUMBER"), "{err}");
    }

    #[test]
    fn config_reads_everything() {
        let c = Config::from_vars(
            vars(&[
                ("HANDOFF_TABLE", "handoff"),
                (
                    "HANDOFF_ALERTS_TOPIC_ARN",
                    "arn:aws:sns:us-east-1:123456789012:alerts",
                ),
                ("HANDOFF_RETENTION_DAYS", "90"),
                ("HANDOFF_AGENT_HOURS", "Mon-Fri 09:00-18:00"),
                ("HANDOFF_TIMEZONE", "Asia/Seoul"),
                ("HANDOFF_SMS_SENDER_ID", ""),
                ("HANDOFF_CONSOLE_URL", "https://example.test/console"),
            ]),
            &Secrets::none(),
        )
        .expect("config");
        assert_eq!(c.table, "handoff");
        assert_eq!(c.retention_days, 90);
        assert_eq!(c.sms.sender_id, None);
        assert!(c.twilio.is_none());
        assert_eq!(c.alert_queue, "support");
        assert_eq!(c.alert_coalesce, jiff::SignedDuration::from_secs(30));
    }

    const TWILIO_ENV: &[(&str, &str)] = &[
        ("HANDOFF_TABLE", "handoff"),
        (
            "HANDOFF_ALERTS_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:alerts",
        ),
        ("HANDOFF_SMS_PROVIDER", "twilio"),
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_FROM_NUMBER", "+15005550006"),
        (
            "TWILIO_AUTH_TOKEN_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:twilio",
        ),
        ("HANDOFF_QUEUE", "vip"),
        ("HANDOFF_ALERT_COALESCE", "2m"),
    ];

    #[test]
    fn twilio_token_comes_from_the_secrets_read_at_cold_start() {
        let secrets = Secrets::none().with("TWILIO_AUTH_TOKEN", "token-from-secrets-manager");
        let c = Config::from_vars(vars(TWILIO_ENV), &secrets).expect("config");
        let account = c.twilio.expect("twilio account");
        assert_eq!(account.auth_token, "token-from-secrets-manager");
        assert_eq!(c.alert_queue, "vip");
        assert_eq!(c.alert_coalesce, jiff::SignedDuration::from_mins(2));
        // Without it (only the ARN in the environment, nothing read) it stops, saying how.
        let err = Config::from_vars(vars(TWILIO_ENV), &Secrets::none()).unwrap_err();
        assert!(
            matches!(err, ConfigError::MissingSecret("TWILIO_AUTH_TOKEN")),
            "{err}"
        );
        assert!(err.to_string().contains("TWILIO_AUTH_TOKEN_ARN"), "{err}");
    }

    #[test]
    fn bad_coalescing_window_is_refused() {
        let err = Config::from_vars(
            vars(&[
                ("HANDOFF_TABLE", "t"),
                ("HANDOFF_ALERTS_TOPIC_ARN", "arn"),
                ("HANDOFF_ALERT_COALESCE", "soon"),
            ]),
            &Secrets::none(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("HANDOFF_ALERT_COALESCE"), "{err}");
    }
}
