//! Kept promises: a handoff nobody claimed within `escalate_after` of its wait starting
//! (when it was queued, or, queued after hours, at opening) alerts supervisors once and
//! tells the customer honestly; at opening, one digest lists who waited through the
//! night. Needs no FAQ catalog, so the dispatcher function runs the same sweep on its
//! schedule that `handoff serve` runs on a timer.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{ServiceError, StoreError};
use crate::hours::AgentHours;
use crate::ids::ConversationId;
use crate::model::{AgentAlert, Conversation, Outbound, OutboxItem, Priority, Status};
use crate::ports::{Clock, Commit, ConversationStore};
use crate::records::{RecordKey, RecordWrite};
use crate::replies;
use crate::service::retry_on_conflict;
use crate::waits::wait_started;

/// Queued conversations one sweep looks at.
const SWEEP_SCAN: usize = 500;
/// Conversations a digest names by id (the count is always whole).
const DIGEST_MAX_IDS: usize = 50;

/// Supervisors' alert (delivery kind `escalation`): nobody claimed this handoff in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub conversation_id: ConversationId,
    pub minutes_waited: u64,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub queue: String,
    pub priority: Priority,
}

/// The opening digest (delivery kind `digest`): who waited while the team was away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub conversation_ids: Vec<ConversationId>,
    /// All waiting, even beyond the ids listed.
    pub waiting: usize,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub queue: String,
    pub opened_at: Timestamp,
}

/// What the sweep needs to know about the business.
#[derive(Debug, Clone)]
pub struct EscalationPolicy {
    pub hours: AgentHours,
    pub escalate_after: SignedDuration,
    pub queue_name: String,
    pub console_url: Option<String>,
    pub sms_max_segments: usize,
    pub answers_url: Option<String>,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub escalated: usize,
    pub digests: usize,
}

/// Runs the escalation sweep over a store.
pub struct Escalator {
    store: Arc<dyn ConversationStore>,
    clock: Arc<dyn Clock>,
    policy: EscalationPolicy,
}

/// When the handoff's wait is due for escalation.
pub fn due_at(policy: &EscalationPolicy, requested_at: Timestamp) -> Timestamp {
    let start = wait_started(&policy.hours, requested_at);
    start.checked_add(policy.escalate_after).unwrap_or(start)
}

fn link(policy: &EscalationPolicy, id: Option<&ConversationId>) -> Option<String> {
    policy.console_url.as_deref().map(|u| match id {
        Some(id) => AgentAlert::console_link(u, id),
        None => u.to_string(),
    })
}

impl Escalator {
    pub fn new(
        store: Arc<dyn ConversationStore>,
        clock: Arc<dyn Clock>,
        policy: EscalationPolicy,
    ) -> Self {
        Self {
            store,
            clock,
            policy,
        }
    }

    /// One sweep: nothing outside agent hours; in them, the opening digest (once per
    /// opening) and every overdue escalation (once per handoff).
    pub async fn sweep(&self) -> Result<SweepReport, ServiceError> {
        let now = self.clock.now();
        let mut report = SweepReport::default();
        if !self.policy.hours.is_open(now) {
            return Ok(report);
        }
        let queue = self.store.queue(SWEEP_SCAN).await?;
        if let Some(opened) = self.policy.hours.opened_at(now) {
            if self.digest(&queue, opened, now).await? {
                report.digests += 1;
            }
        }
        for (i, conv) in queue.iter().enumerate() {
            let Some(h) = &conv.handoff else { continue };
            if h.escalated_at.is_some() || now < due_at(&self.policy, h.requested_at) {
                continue;
            }
            if self.escalate(&conv.id, h.number, i + 1).await? {
                report.escalated += 1;
            }
        }
        Ok(report)
    }

    /// One digest of the conversations waiting since before `opened`, written with a
    /// record that exists once per opening, so concurrent sweeps send it once.
    async fn digest(
        &self,
        queue: &[Conversation],
        opened: Timestamp,
        now: Timestamp,
    ) -> Result<bool, ServiceError> {
        let waiting: Vec<&Conversation> = queue
            .iter()
            .filter(|c| c.handoff.as_ref().is_some_and(|h| h.requested_at < opened))
            .collect();
        if waiting.is_empty() {
            return Ok(false);
        }
        let q = &self.policy.queue_name;
        let key = RecordKey::new("digest", &format!("{q}:{}", opened.as_millisecond()))
            .map_err(|e| ServiceError::Internal(format!("record key: {e}")))?;
        if self.store.record(&key).await?.is_some() {
            return Ok(false);
        }
        let n = waiting.len();
        let digest = Digest {
            conversation_ids: waiting
                .iter()
                .take(DIGEST_MAX_IDS)
                .map(|c| c.id.clone())
                .collect(),
            waiting: n,
            text: format!("{n} waiting since before opening · 영업 시작 전부터 {n}명 대기 중"),
            link: link(&self.policy, None),
            queue: q.clone(),
            opened_at: opened,
        };
        let expires = now.checked_add(SignedDuration::from_hours(48)).ok();
        let commit = Commit {
            records: vec![RecordWrite::next(key, None, &n, expires)?],
            outbox: vec![OutboxItem {
                id: format!("digest:{q}:{}", opened.as_millisecond()),
                created_at: now,
                item: Outbound::Digest(digest),
            }],
            ..Commit::default()
        };
        match self.store.commit(commit).await {
            Ok(()) => {
                tracing::info!(waiting = n, "opening digest");
                Ok(true)
            }
            // Another sweep sent it.
            Err(StoreError::Conflict(_) | StoreError::Duplicate) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Escalates handoff `number` of the conversation: the state machine marks it once;
    /// the alert and the customer's update go in the same commit.
    async fn escalate(
        &self,
        id: &ConversationId,
        number: u32,
        position: usize,
    ) -> Result<bool, ServiceError> {
        retry_on_conflict(|| async move {
            let Some(conv) = self.store.conversation(id).await? else {
                return Ok(false);
            };
            let now = self.clock.now();
            let Some(h) = conv.handoff.clone() else {
                return Ok(false);
            };
            if conv.status != Status::Queued || h.number != number {
                return Ok(false);
            }
            let customer = match conv.reach_by_sms(now) {
                true => self.store.customer(&conv.customer_id).await?,
                false => None,
            };
            let mut change = crate::service::Change::of(conv, now);
            if !change.conv.escalate(now)? {
                return Ok(false);
            }
            let waited = now.duration_since(h.requested_at).as_secs().max(0) as u64 / 60;
            let seq = change.notice(|tag| replies::waits::escalated(position, tag));
            if let Some(c) = customer.filter(|c| !c.sms_opted_out) {
                if let Some(to) = c.phone.clone() {
                    let text = replies::waits::escalated(position, change.conv.customer_language());
                    let text = handoff_sms::fit_to_segments(
                        &text,
                        self.policy.sms_max_segments,
                        self.policy.answers_url.as_deref(),
                    );
                    change.text(seq, to, text);
                }
            }
            let alert = Escalation {
                conversation_id: id.clone(),
                minutes_waited: waited,
                text: format!(
                    "Unclaimed for {waited} min · {waited}분째 미배정: {}",
                    h.summary
                ),
                link: link(&self.policy, Some(id)),
                queue: self.policy.queue_name.clone(),
                priority: h.priority,
            };
            change.outbox.push(OutboxItem {
                id: format!("escalation:{id}:{number}"),
                created_at: now,
                item: Outbound::Escalation(alert),
            });
            let (commit, _, _) = change.into_commit(None);
            self.store.commit(commit).await?;
            tracing::info!(conversation_id = %id, minutes_waited = waited, "escalated");
            Ok(true)
        })
        .await
    }
}
