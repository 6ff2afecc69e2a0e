//! The customer's place in line: a count read from the queue, and an honest estimate
//! from it (pure) that knows the agents' hours.

use jiff::Timestamp;
use serde::Serialize;

use crate::error::ServiceError;
use crate::ids::ConversationId;
use crate::model::{Conversation, Priority};
use crate::replies::waits::WaitNotice;
use crate::waits::{WaitBasis, WaitFacts};

use super::{HandoffService, Settings};

/// Queued conversations read to find a place in line.
const QUEUE_SCAN: usize = 500;

/// What the customer is told about waiting: their place, and a wait made only from
/// facts (see [`crate::waits::estimate`]); `None` when there is nothing to base one on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueInfo {
    pub position: Option<usize>,
    pub estimated_wait_seconds: Option<u64>,
    pub open_now: bool,
    pub opens_at: Option<Timestamp>,
    /// Agents whose console is open now.
    pub agents_online: usize,
    pub basis: WaitBasis,
}

/// Position `position` in line at `now`, from `facts`.
pub(crate) fn estimate(
    settings: &Settings,
    facts: WaitFacts,
    position: usize,
    now: Timestamp,
) -> QueueInfo {
    let hours = &settings.hours;
    let open_now = hours.is_open(now);
    let (basis, wait) = crate::waits::estimate(hours, facts, position, now);
    QueueInfo {
        position: Some(position),
        estimated_wait_seconds: wait,
        open_now,
        opens_at: (!open_now).then(|| hours.next_open(now)),
        agents_online: facts.agents_online,
        basis,
    }
}

/// The facts a notice states, from the customer's `queue` object.
pub(crate) fn wait_notice(info: &QueueInfo, settings: &Settings) -> WaitNotice {
    WaitNotice {
        position: info.position.unwrap_or(1),
        agents_online: info.agents_online,
        wait_seconds: info.estimated_wait_seconds,
        escalate_minutes: (settings.escalate_after.as_secs().max(60) as u64).div_ceil(60),
    }
}

impl HandoffService {
    /// How many queued conversations are ahead: of `own`, or of a new one of this priority.
    pub(crate) async fn waiting_ahead(
        &self,
        priority: Priority,
        own: Option<&ConversationId>,
    ) -> Result<usize, ServiceError> {
        let queue = self.store.queue(QUEUE_SCAN).await?;
        Ok(match own {
            Some(id) => queue
                .iter()
                .position(|c| &c.id == id)
                .unwrap_or(queue.len()),
            None => queue
                .iter()
                .filter(|c| {
                    c.handoff
                        .as_ref()
                        .is_some_and(|h| h.priority.rank() <= priority.rank())
                })
                .count(),
        })
    }

    /// Where a queued conversation stands now.
    pub async fn queue_info(&self, conv: &Conversation) -> Result<QueueInfo, ServiceError> {
        let ahead = self.waiting_ahead(Priority::Normal, Some(&conv.id)).await?;
        let facts = self.wait_facts().await?;
        Ok(estimate(&self.settings, facts, ahead + 1, self.clock.now()))
    }

    /// The place in line when the conversation is queued; `None` otherwise.
    pub(crate) async fn queue_if_waiting(
        &self,
        conv: &Conversation,
    ) -> Result<Option<QueueInfo>, ServiceError> {
        match conv.status {
            crate::model::Status::Queued => Ok(Some(self.queue_info(conv).await?)),
            _ => Ok(None),
        }
    }
}
