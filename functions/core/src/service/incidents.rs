//! Known-problem notices: supervisors post and end them; a customer message that
//! matches an active one is told its text first, once per conversation.
//!
//! The incidents in effect are cached like the catalog (`catalog.rs`): the one small
//! incidents record is read at most once per refresh interval (at every message
//! locally), and the matcher is rebuilt only when its version changed or one of its
//! incidents ran out. The instance that made a change installs it at once.

use std::sync::{Arc, Mutex, RwLock};

use jiff::{SignedDuration, Timestamp};

use crate::auth::Agent;
use crate::error::ServiceError;
use crate::incident::MAX_INCIDENTS;
use crate::incident::{incidents_key, Incident, IncidentId, IncidentInput, IncidentList};
use crate::incident_match::IncidentMatcher;
use crate::model::Role;
use crate::ports::{Commit, ConversationStore};
use crate::records::{Record, RecordWrite};

use super::catalog::CATALOG_REFRESH;
use super::change::Change;
use super::{retry_on_conflict, HandoffService};

/// Most incident ids remembered on one conversation.
const MAX_TOLD: usize = 20;

/// The incidents an instance tells customers about, and their matcher.
#[derive(Debug)]
pub struct LiveIncidents {
    /// Version of the incidents record (0: none written yet).
    pub version: u64,
    /// Active when the matcher was built; checked again at use.
    pub active: Vec<Incident>,
    pub matcher: IncidentMatcher,
    /// The soonest `until` among `active`: the matcher is rebuilt after it.
    next_expiry: Option<Timestamp>,
}

impl LiveIncidents {
    fn build(version: u64, list: &IncidentList, now: Timestamp) -> Self {
        let active: Vec<Incident> = list.active(now).cloned().collect();
        let encoder = match active.is_empty() {
            true => None,
            false => handoff_faq::shared_encoder(),
        };
        let matcher = IncidentMatcher::build(&active, encoder);
        let next_expiry = active.iter().map(|i| i.until).min();
        Self {
            version,
            active,
            matcher,
            next_expiry,
        }
    }

    /// The active incident `text` is about, unless this conversation was told already.
    pub fn matching(&self, text: &str, told: &[IncidentId], now: Timestamp) -> Option<&Incident> {
        if self.active.is_empty() {
            return None;
        }
        let hit = self.matcher.best(text)?;
        let incident = self.active.get(hit.incident)?;
        (incident.is_active(now) && !told.contains(&incident.id)).then_some(incident)
    }
}

/// Swapped whole, never edited in place.
pub(crate) struct IncidentCache {
    live: RwLock<Arc<LiveIncidents>>,
    checked: Mutex<Option<Timestamp>>,
    refresh: Mutex<SignedDuration>,
}

impl IncidentCache {
    pub(crate) fn new() -> Self {
        Self {
            live: RwLock::new(Arc::new(LiveIncidents::build(
                0,
                &IncidentList::default(),
                Timestamp::UNIX_EPOCH,
            ))),
            checked: Mutex::new(None),
            refresh: Mutex::new(CATALOG_REFRESH),
        }
    }

    pub(crate) fn set_refresh(&self, every: SignedDuration) {
        *self.refresh.lock().unwrap_or_else(|e| e.into_inner()) = every;
    }

    fn current(&self) -> Arc<LiveIncidents> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn due(&self, now: Timestamp) -> bool {
        let refresh = *self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        let due = checked.is_none_or(|t| now.duration_since(t) >= refresh);
        if due {
            *checked = Some(now);
        }
        due
    }

    /// Installs the list at `version` unless the cache has a later one; the same
    /// version is rebuilt only when one of its incidents ran out.
    fn install(&self, version: u64, list: &IncidentList, now: Timestamp) -> Arc<LiveIncidents> {
        let current = self.current();
        let ran_out = current.next_expiry.is_some_and(|t| t <= now);
        if version < current.version || (version == current.version && !ran_out) {
            return current;
        }
        let live = Arc::new(LiveIncidents::build(version, list, now));
        tracing::info!(
            version,
            active = live.active.len(),
            "incident matcher rebuilt"
        );
        let mut slot = self.live.write().unwrap_or_else(|e| e.into_inner());
        if slot.version <= live.version {
            *slot = live;
        }
        slot.clone()
    }

    /// The incidents to match with: the cached ones, after checking the store when
    /// due. A failed check keeps the cached ones (answering beats failing).
    pub(crate) async fn refreshed(
        &self,
        store: &dyn ConversationStore,
        now: Timestamp,
    ) -> Arc<LiveIncidents> {
        let current = self.current();
        if !self.due(now) {
            if current.next_expiry.is_some_and(|t| t <= now) {
                let list = IncidentList {
                    incidents: current.active.clone(),
                };
                return self.install(current.version, &list, now);
            }
            return current;
        }
        match read_list(store).await {
            Ok((record, list)) => self.install(record.map_or(0, |r| r.version), &list, now),
            Err(e) => {
                tracing::warn!(error = %e, "incident check failed; using the cached ones");
                current
            }
        }
    }
}

/// The incidents record and what it holds (empty when none was written).
async fn read_list(
    store: &dyn ConversationStore,
) -> Result<(Option<Record>, IncidentList), ServiceError> {
    let record = store.record(&incidents_key()).await?;
    let list = match &record {
        Some(r) => r.decode()?,
        None => IncidentList::default(),
    };
    Ok((record, list))
}

/// Tells the customer about the incident their message is about, first and once:
/// called after triage and before the bot's answer or the handoff notice.
pub(super) fn tell_incident(
    change: &mut Change,
    text: &str,
    live: &LiveIncidents,
    fallback_lang: &str,
) {
    // A person has the conversation: they see the incident in the packet and talk.
    if change.conv.assigned_to.is_some() {
        return;
    }
    let Some(incident) = live.matching(text, &change.conv.incidents_told, change.now) else {
        return;
    };
    let code = change.conv.customer_language().code();
    let notice = incident.text.in_language(code, fallback_lang).to_string();
    let id = incident.id.clone();
    let channel = change.conv.channel;
    change.push(Role::Bot, notice, channel);
    let told = &mut change.conv.incidents_told;
    told.push(id.clone());
    let excess = told.len().saturating_sub(MAX_TOLD);
    told.drain(..excess);
    tracing::info!(conversation_id = %change.conv.id, incident = %id, "incident told");
}

impl HandoffService {
    /// The incidents this instance matches with, checked against the store when due.
    pub async fn live_incidents(&self) -> Arc<LiveIncidents> {
        self.incidents
            .refreshed(&*self.store, self.clock.now())
            .await
    }

    /// The active incidents, read from the store (the console's list).
    pub async fn active_incidents(&self) -> Result<Vec<Incident>, ServiceError> {
        let now = self.clock.now();
        let (record, list) = read_list(&*self.store).await?;
        self.incidents
            .install(record.map_or(0, |r| r.version), &list, now);
        Ok(list.active(now).cloned().collect())
    }

    /// The active incidents this conversation was told (for its packet).
    pub(crate) async fn incidents_of(&self, conv: &crate::model::Conversation) -> Vec<Incident> {
        if conv.incidents_told.is_empty() {
            return Vec::new();
        }
        let now = self.clock.now();
        let live = self.live_incidents().await;
        live.active
            .iter()
            .filter(|i| i.is_active(now) && conv.incidents_told.contains(&i.id))
            .cloned()
            .collect()
    }

    /// A supervisor posts a known problem; it is told from the next message on.
    pub async fn create_incident(
        &self,
        agent: &Agent,
        input: IncidentInput,
    ) -> Result<Incident, ServiceError> {
        if !agent.supervisor {
            return Err(ServiceError::Forbidden(
                "only supervisors can post incidents",
            ));
        }
        let incident = input.into_incident(&agent.id, self.clock.now())?;
        let incident = &incident;
        self.change_incidents(|list| {
            if list.incidents.len() >= MAX_INCIDENTS {
                return Err(ServiceError::TooMany(
                    "at most 20 incidents at once; end one first",
                ));
            }
            list.incidents.push(incident.clone());
            Ok(Some(incident.clone()))
        })
        .await
    }

    /// A supervisor ends an incident early. Ending an ended one changes nothing and
    /// answers the same (idempotent); an unknown id (or one past its `until`) is 404.
    pub async fn end_incident(
        &self,
        agent: &Agent,
        id: &IncidentId,
    ) -> Result<Incident, ServiceError> {
        if !agent.supervisor {
            return Err(ServiceError::Forbidden(
                "only supervisors can end incidents",
            ));
        }
        let now = self.clock.now();
        self.change_incidents(|list| {
            let found = list
                .incidents
                .iter_mut()
                .find(|i| i.id == *id)
                .ok_or_else(|| ServiceError::IncidentNotFound(id.to_string()))?;
            if found.ended_at.is_none() {
                found.ended_at = Some(now);
            }
            Ok(Some(found.clone()))
        })
        .await
    }

    /// Read → prune → `apply` → write guarded by the version read (a lost race
    /// re-reads); `apply` returns what to answer.
    async fn change_incidents<F>(&self, apply: F) -> Result<Incident, ServiceError>
    where
        F: Fn(&mut IncidentList) -> Result<Option<Incident>, ServiceError>,
    {
        let apply = &apply;
        let (version, list, incident) = retry_on_conflict(|| async move {
            let now = self.clock.now();
            let (record, mut list) = read_list(&*self.store).await?;
            list.prune(now);
            let before = list.clone();
            let incident = apply(&mut list)?
                .ok_or_else(|| ServiceError::Internal("no incident to answer".into()))?;
            if list == before {
                // Nothing changed (ending an ended incident): no write.
                return Ok((record.map_or(0, |r| r.version), list, incident));
            }
            let write = RecordWrite::next(incidents_key(), record.as_ref(), &list, None)?;
            let version = write.record.version;
            self.write(Commit {
                records: vec![write],
                ..Commit::default()
            })
            .await?;
            Ok((version, list, incident))
        })
        .await?;
        tracing::info!(version, incident = %incident.id, "incidents changed");
        self.incidents.install(version, &list, self.clock.now());
        Ok(incident)
    }
}
