//! The use cases, by who starts them: `inbound` (a customer's message, web or SMS),
//! `customer` (what the web customer does besides writing), `agent` (the queue,
//! the packet, claim, reply, resolve, release). Each loads what it needs, decides
//! with pure functions over what it loaded, and writes one atomic [`Commit`](crate::ports::Commit) guarded
//! by the versions it read; a lost race is retried from a fresh read by
//! `retry_on_conflict`. Delivery of what the commits put in the outbox is
//! [`crate::outbox`].

mod abuse;
mod agent;
mod catalog;
mod change;
mod console;
mod contact;
mod credits;
mod customer;
mod inbound;
mod incidents;
mod insights;
mod notices;
mod photos;
mod presence;
mod queue;
mod suggestions;
mod survey;

use std::future::Future;
use std::sync::Arc;

use jiff::Timestamp;

use handoff_faq::{FaqCatalog, FaqIndex};
use handoff_sms::fit_to_segments;

use crate::error::{ServiceError, StoreError};
use crate::hours::AgentHours;
use crate::ids::ConversationId;
use crate::insights::emf::{self, MetricsSink};
use crate::model::{Conversation, Customer, Lang, Message, OutboxItem};
use crate::ports::{Clock, Commit, ConversationStore, Delivery};

pub use crate::outbox::{Dispatched, OutboxDispatcher};
pub use agent::{AgentQueue, QueueItem, QUEUE_PAGE_MAX};
pub use catalog::{CatalogExport, LiveCatalog, CATALOG_REFRESH};
pub use console::CannedAnswer;
pub use inbound::{Inbound, Origin, Received, ReplyVia, Sender};
pub use incidents::LiveIncidents;
pub use insights::DateRange;
pub(crate) use notices::run_step as notice_step;
pub use notices::{NoticeFanout, NoticePolicy};
pub use photos::Photos;
pub use presence::PresenceView;
pub use queue::QueueInfo;
pub use suggestions::{Decided, SuggestionView};

pub(crate) use change::Change;

/// How often a use case re-reads and retries after losing a conditional write.
const ATTEMPTS: usize = 40;
/// Largest conversation read for a packet or summary.
const TRANSCRIPT_LIMIT: usize = 1000;

/// Business settings, from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub business_name: String,
    pub business_name_ko: Option<String>,
    pub hours: AgentHours,
    /// A handoff unclaimed this long after its wait began alerts supervisors once.
    pub escalate_after: jiff::SignedDuration,
    /// The queue name put on agent alerts (SNS filter policies select on it).
    pub queue_name: String,
    /// Base URL of the agent console, for links in alerts.
    pub console_url: Option<String>,
    /// Base URL where full FAQ answers can be read, for links in long SMS answers.
    pub answers_url: Option<String>,
    pub sms_max_segments: usize,
    /// Language of summaries and alerts for agents.
    pub agent_language: Lang,
    /// How many earlier conversations the packet lists.
    pub earlier_conversations: usize,
    /// Abuse limits on new conversations, handoffs and verification texts.
    pub rate_limits: crate::limits::RateLimits,
    /// Agents get at most one alert per queue in this window; the rest are counted.
    pub alert_coalesce: jiff::SignedDuration,
    /// Goodwill credit limits and currency.
    pub credits: crate::credit::CreditPolicy,
}

impl Settings {
    pub fn business_name(&self, lang: Lang) -> &str {
        match (lang, &self.business_name_ko) {
            (Lang::Ko, Some(ko)) => ko,
            _ => &self.business_name,
        }
    }

    /// A text cut for SMS at a sentence boundary within the configured segments.
    pub fn sms_text(&self, text: &str) -> String {
        fit_to_segments(text, self.sms_max_segments, self.answers_url.as_deref())
    }
}

/// Runs `attempt` until it does not lose a conditional write (`StoreError::Conflict`),
/// at most [`ATTEMPTS`] times; then the caller is told to try again later.
pub(crate) async fn retry_on_conflict<T, F, Fut>(mut attempt: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ServiceError>>,
{
    for _ in 0..ATTEMPTS {
        match attempt().await {
            Err(ServiceError::Store(StoreError::Conflict(_))) => continue,
            other => return other,
        }
    }
    Err(ServiceError::Contended)
}

/// The business's first catalog language that the matcher knows, else English.
fn catalog_language(catalog: &FaqCatalog) -> handoff_faq::LangTag {
    catalog
        .business
        .languages
        .iter()
        .find_map(|code| handoff_faq::LangTag::from_code(code))
        .unwrap_or(handoff_faq::LangTag::En)
}

/// The product's use cases over its ports.
pub struct HandoffService {
    store: Arc<dyn ConversationStore>,
    clock: Arc<dyn Clock>,
    /// The catalog and index in effect (see `catalog.rs`).
    faqs: catalog::CatalogCache,
    /// The active incidents and their matcher (see `incidents.rs`).
    incidents: incidents::IncidentCache,
    settings: Settings,
    /// Where each commit's counts go as CloudWatch metrics, and the service named on them.
    metrics: Option<(Arc<dyn MetricsSink>, String)>,
    /// Days the unanswered texts are kept (0: as long as everything else).
    retention_days: u32,
    /// No notice is texted in these hours (`HANDOFF_QUIET_HOURS`).
    quiet_hours: crate::notices::QuietHours,
}

impl HandoffService {
    pub fn new(
        store: Arc<dyn ConversationStore>,
        clock: Arc<dyn Clock>,
        catalog: Arc<FaqCatalog>,
        index: Arc<FaqIndex>,
        settings: Settings,
    ) -> Self {
        Self {
            store,
            clock,
            faqs: catalog::CatalogCache::new(catalog, index),
            incidents: incidents::IncidentCache::new(),
            quiet_hours: crate::notices::QuietHours::default_in(settings.hours.timezone()),
            settings,
            metrics: None,
            retention_days: 0,
        }
    }

    /// Notices are not texted in `quiet` (default: 21:00-08:00 in the business's zone).
    pub fn with_quiet_hours(mut self, quiet: crate::notices::QuietHours) -> Self {
        self.quiet_hours = quiet;
        self
    }

    /// The notice fan-out over this service's store, clock and settings.
    pub fn notice_fanout(&self) -> Arc<NoticeFanout> {
        Arc::new(NoticeFanout::new(
            self.store.clone(),
            self.clock.clone(),
            NoticePolicy {
                quiet_hours: self.quiet_hours.clone(),
                sms_max_segments: self.settings.sms_max_segments,
                answers_url: self.settings.answers_url.clone(),
            },
        ))
    }

    /// Emits each commit's counts as EMF lines to `sink`, naming `service`.
    pub fn with_metrics(mut self, sink: Arc<dyn MetricsSink>, service: &str) -> Self {
        self.metrics = Some((sink, service.to_string()));
        self
    }

    /// Unanswered texts (personal data) expire after this many days (0: never).
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }

    /// Writes `commit`, then emits what it counted.
    pub(crate) async fn write(&self, commit: Commit) -> Result<(), StoreError> {
        let counters = match &self.metrics {
            Some(_) => commit.counters.clone(),
            None => Vec::new(),
        };
        self.store.commit(commit).await?;
        if let Some((sink, service)) = &self.metrics {
            let now = self.clock.now();
            for c in &counters {
                for line in emf::lines_for(&c.adds, now, service) {
                    sink.emit(&line);
                }
            }
        }
        Ok(())
    }

    /// The stored conversation, or `NotFound`: what every use case on one starts with.
    pub(crate) async fn existing(&self, id: &ConversationId) -> Result<Conversation, ServiceError> {
        self.store
            .conversation(id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    /// The catalog this instance answers with now (see [`Self::live_catalog`]).
    pub fn catalog(&self) -> Arc<FaqCatalog> {
        self.faqs.current().catalog.clone()
    }
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The business's first catalog language: what a message without words ("0",
    /// an emoji) is answered in.
    pub fn catalog_language(&self) -> handoff_faq::LangTag {
        catalog_language(&self.catalog())
    }

    /// Cut a text for SMS at a sentence boundary within the configured segments.
    pub fn sms_text(&self, text: &str) -> String {
        self.settings.sms_text(text)
    }

    /// The outbox use cases over this service's store and clock.
    pub fn outbox(&self) -> OutboxDispatcher {
        OutboxDispatcher::new(self.store.clone(), self.clock.clone())
            .with_alert_coalescing(
                self.store.clone(),
                &self.settings.queue_name,
                self.settings.alert_coalesce,
            )
            .with_notices(self.notice_fanout())
    }

    /// The escalation sweep over this service's store and clock.
    pub fn escalator(&self) -> crate::escalation::Escalator {
        crate::escalation::Escalator::new(
            self.store.clone(),
            self.clock.clone(),
            self.escalation_policy(),
        )
    }

    pub fn escalation_policy(&self) -> crate::escalation::EscalationPolicy {
        crate::escalation::EscalationPolicy {
            hours: self.settings.hours.clone(),
            escalate_after: self.settings.escalate_after,
            queue_name: self.settings.queue_name.clone(),
            console_url: self.settings.console_url.clone(),
            sms_max_segments: self.settings.sms_max_segments,
            answers_url: self.settings.answers_url.clone(),
        }
    }

    pub async fn dispatch(
        &self,
        delivery: &dyn Delivery,
        item: &OutboxItem,
    ) -> Result<Dispatched, ServiceError> {
        self.outbox().dispatch(delivery, item).await
    }

    pub async fn dispatch_pending(
        &self,
        delivery: &dyn Delivery,
        limit: usize,
    ) -> Result<(usize, usize), ServiceError> {
        self.outbox().dispatch_pending(delivery, limit).await
    }
}

impl HandoffService {
    /// Load → decide → commit on one conversation (and, with `needs_customer`, its
    /// customer), retried from a fresh read when another writer won. `decide` is pure;
    /// it returns false when there is nothing to write.
    pub(crate) async fn act<D>(
        &self,
        id: &ConversationId,
        needs_customer: bool,
        decide: D,
    ) -> Result<(Conversation, Vec<Message>), ServiceError>
    where
        D: Fn(&mut Change, Option<&Customer>) -> Result<bool, ServiceError>,
    {
        let decide = &decide;
        retry_on_conflict(|| async move {
            let conv = self.existing(id).await?;
            let customer = match needs_customer {
                true => self.store.customer(&conv.customer_id).await?,
                false => None,
            };
            let mut change = Change::of(conv.clone(), self.clock.now());
            if !decide(&mut change, customer.as_ref())? {
                return Ok((conv, Vec::new()));
            }
            let (commit, conv, messages) = change.into_commit(None);
            self.write(commit).await?;
            Ok((conv, messages))
        })
        .await
    }
}
