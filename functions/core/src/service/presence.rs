//! Presence and the facts of honest waits: agents say they are working (a heartbeat
//! keeps it), each claim adds its wait to a bounded sample written in the claim's own
//! commit, and the customer's estimate is read from those two records.

use jiff::Timestamp;
use serde::Serialize;

use crate::auth::Agent;
use crate::error::ServiceError;
use crate::ids::ConversationId;
use crate::model::Conversation;
use crate::waits::{
    wait_started, Presence, PresenceStatus, RecentClaims, WaitFacts, PRESENCE_HEARTBEAT_SECS,
};

use super::agent::decide_claim;
use super::change::Change;
use super::{retry_on_conflict, HandoffService};

/// What `PUT /v1/agent/me/presence` answers.
#[derive(Debug, Clone, Serialize)]
pub struct PresenceView {
    pub agent_id: String,
    pub status: PresenceStatus,
    /// When the presence lapses without another heartbeat (`None`: away).
    pub expires_at: Option<Timestamp>,
    pub heartbeat_seconds: i64,
    pub agents_online: usize,
}

fn key_error(e: crate::error::InputError) -> ServiceError {
    ServiceError::Internal(format!("record key: {e}"))
}

impl HandoffService {
    /// The agent is working (`online`, until the TTL unless renewed) or not (`away`).
    pub async fn set_presence(
        &self,
        agent: &Agent,
        status: PresenceStatus,
    ) -> Result<PresenceView, ServiceError> {
        let key = Presence::key(&self.settings.queue_name).map_err(key_error)?;
        let key = &key;
        retry_on_conflict(|| async move {
            let now = self.clock.now();
            let previous = self.store.record(key).await?;
            let mut presence = Presence::of(previous.as_ref())?;
            let expires_at = presence.set(agent.id.as_str(), status, now);
            let write = presence.write(key.clone(), previous.as_ref())?;
            self.store.put_record(write).await?;
            tracing::info!(agent = %agent.id, status = ?status, "presence");
            Ok(PresenceView {
                agent_id: agent.id.to_string(),
                status,
                expires_at,
                heartbeat_seconds: PRESENCE_HEARTBEAT_SECS,
                agents_online: presence.online(now),
            })
        })
        .await
    }

    /// Agents online and the median recent wait: two record reads.
    pub async fn wait_facts(&self) -> Result<WaitFacts, ServiceError> {
        let queue = &self.settings.queue_name;
        let now = self.clock.now();
        let presence = self
            .store
            .record(&Presence::key(queue).map_err(key_error)?)
            .await?;
        let claims = self
            .store
            .record(&RecentClaims::key(queue).map_err(key_error)?)
            .await?;
        Ok(WaitFacts {
            agents_online: Presence::of(presence.as_ref())?.online(now),
            median_claim_secs: RecentClaims::of(claims.as_ref())?.median_secs(now),
        })
    }

    /// Take a queued conversation; its wait joins the recent-claims sample in the same
    /// commit. Exactly one of several agents claiming at once wins.
    #[tracing::instrument(skip_all, fields(conversation_id = %id, agent = %agent.id))]
    pub async fn claim(
        &self,
        agent: &Agent,
        id: &ConversationId,
    ) -> Result<Conversation, ServiceError> {
        let key = RecentClaims::key(&self.settings.queue_name).map_err(key_error)?;
        let key = &key;
        retry_on_conflict(|| async move {
            let conv = self.existing(id).await?;
            let now = self.clock.now();
            let mut change = Change::of(conv.clone(), now);
            let started = conv
                .handoff
                .as_ref()
                .map(|h| wait_started(&self.settings.hours, h.requested_at));
            if !decide_claim(&mut change, agent)? {
                return Ok(conv);
            }
            if let Some(started) = started {
                let previous = self.store.record(key).await?;
                let mut claims = RecentClaims::of(previous.as_ref())?;
                claims.add(now.duration_since(started), now);
                change
                    .records
                    .push(claims.write(key.clone(), previous.as_ref(), now)?);
            }
            let (commit, conv, _) = change.into_commit(None);
            self.write(commit).await?;
            Ok(conv)
        })
        .await
    }
}
