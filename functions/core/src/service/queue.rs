//! The customer's place in line: a count read from the queue, and an honest estimate
//! from it (pure) that knows the agents' hours.

use jiff::Timestamp;
use serde::Serialize;

use crate::error::ServiceError;
use crate::ids::ConversationId;
use crate::model::{Conversation, Priority};

use super::{HandoffService, Settings};

/// Queued conversations read to find a place in line.
const QUEUE_SCAN: usize = 500;

/// What the customer is told about waiting: honest position and time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueInfo {
    pub position: Option<usize>,
    pub estimated_wait_seconds: Option<u64>,
    pub open_now: bool,
    pub opens_at: Option<Timestamp>,
}

/// Position `position` in line at `now`: the wait, counting from opening time when closed.
pub(crate) fn estimate(settings: &Settings, position: usize, now: Timestamp) -> QueueInfo {
    let hours = &settings.hours;
    let per = u64::from(settings.minutes_per_customer) * 60;
    let open_now = hours.is_open(now);
    if open_now {
        QueueInfo {
            position: Some(position),
            estimated_wait_seconds: Some(position as u64 * per),
            open_now,
            opens_at: None,
        }
    } else {
        let opens = hours.next_open(now);
        let until = opens.duration_since(now).as_secs().max(0) as u64;
        QueueInfo {
            position: Some(position),
            estimated_wait_seconds: Some(until + (position.saturating_sub(1)) as u64 * per),
            open_now,
            opens_at: Some(opens),
        }
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
        Ok(estimate(&self.settings, ahead + 1, self.clock.now()))
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
