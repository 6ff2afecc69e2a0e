//! The outbox: what to send after a commit, recorded in the commit itself, and the
//! dispatcher that delivers it. Outbox items are built here and nowhere else, so their
//! deterministic ids (what makes recording the same send twice impossible) have one form.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::error::{DeliveryError, ServiceError};
use crate::ids::ConversationId;
use crate::model::{AgentAlert, Outbound, OutboxItem, PhoneNumber};
use crate::ports::{Clock, Delivery, OutboxStore};
use crate::records::RecordStore;

mod alerts;
pub use alerts::{AlertGate, GateDecision};

/// How long a worker holds an item while sending it.
const OUTBOX_LEASE_SECS: i64 = 60;

/// A text to the customer's phone: the message `seq` of the conversation, as sent by SMS.
pub fn customer_sms(
    conversation: &ConversationId,
    seq: u64,
    to: PhoneNumber,
    text: String,
    now: Timestamp,
) -> OutboxItem {
    OutboxItem {
        id: format!("sms:{conversation}:{seq}"),
        created_at: now,
        item: Outbound::CustomerSms {
            conversation_id: conversation.clone(),
            to,
            text,
        },
    }
}

/// The verification code for a conversation's phone: one per code issued (`version`).
pub fn verification_sms(
    conversation: &ConversationId,
    version: u64,
    to: PhoneNumber,
    text: String,
    now: Timestamp,
) -> OutboxItem {
    OutboxItem {
        id: format!("verify:{conversation}:{version}"),
        created_at: now,
        item: Outbound::CustomerSms {
            conversation_id: conversation.clone(),
            to,
            text,
        },
    }
}

/// The one alert announcing `count` alerts of `queue` held back since the last one
/// (bilingual: the dispatcher does not know the agents' language, and it is one line).
pub fn alert_summary(
    queue: &str,
    first: ConversationId,
    count: u32,
    high: bool,
    now: Timestamp,
) -> OutboxItem {
    OutboxItem {
        id: format!("alert-summary:{queue}:{}", now.as_millisecond()),
        created_at: now,
        item: Outbound::AgentAlert(AgentAlert {
            conversation_id: first,
            text: format!("+{count} more waiting · 대기 {count}건 더"),
            link: None,
            queue: queue.to_string(),
            priority: if high {
                crate::model::Priority::High
            } else {
                crate::model::Priority::Normal
            },
            language: crate::model::Lang::En,
            channel: crate::model::Channel::Web,
        }),
    }
}

/// The agents' alert for the conversation's handoff number `number`.
pub fn agent_alert(alert: AgentAlert, number: u32, now: Timestamp) -> OutboxItem {
    OutboxItem {
        id: format!("alert:{}:{number}", alert.conversation_id),
        created_at: now,
        item: Outbound::AgentAlert(alert),
    }
}

/// Supervisors' alert that credit `alert.credit_id` waits for approval: one per credit.
pub fn credit_approval(alert: crate::credit::CreditAlert, now: Timestamp) -> OutboxItem {
    OutboxItem {
        id: format!("credit-approval:{}", alert.credit_id),
        created_at: now,
        item: Outbound::CreditApproval(alert),
    }
}

/// The event of a decided credit: one per credit (a credit is decided once).
pub fn credit_decided(credit: crate::credit::Credit, now: Timestamp) -> OutboxItem {
    OutboxItem {
        id: format!("credit-decided:{}", credit.id),
        created_at: now,
        item: Outbound::CreditDecided(credit),
    }
}

/// The fan-out step of notice `notice_id` starting at recipient `start`: one per
/// step, so a retried step is the same item.
pub fn fanout_item(
    notice_id: &str,
    record: &crate::records::RecordKey,
    start: usize,
    now: Timestamp,
) -> OutboxItem {
    OutboxItem {
        id: format!("notice:{notice_id}:{start}"),
        created_at: now,
        item: Outbound::NoticeFanout {
            notice_id: notice_id.to_string(),
            record: record.clone(),
            start,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatched {
    Delivered,
    /// An agent alert held back by its queue's gate (counted, announced later).
    Folded,
    /// Delivered before, or another worker holds it now.
    Skipped,
}

/// Delivers outbox items; needs only the outbox and a clock (no catalog), so the
/// dispatcher function builds just this.
pub struct OutboxDispatcher {
    store: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
    /// One agent alert per queue per window, when set.
    coalescing: Option<alerts::Coalescing>,
    /// Works through notices' recipients, when set.
    notices: Option<Arc<crate::service::NoticeFanout>>,
}

impl OutboxDispatcher {
    pub fn new(store: Arc<dyn OutboxStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            coalescing: None,
            notices: None,
        }
    }

    /// Notice fan-out steps are worked through by `fanout` (without it they wait).
    pub fn with_notices(mut self, fanout: Arc<crate::service::NoticeFanout>) -> Self {
        self.notices = Some(fanout);
        self
    }

    /// Agent alerts of `queue` at most one per `window` (zero: every alert), the gate
    /// kept in `records`.
    pub fn with_alert_coalescing(
        mut self,
        records: Arc<dyn RecordStore>,
        queue: &str,
        window: SignedDuration,
    ) -> Self {
        self.coalescing = (!window.is_zero()).then(|| alerts::Coalescing {
            records,
            queue: queue.to_string(),
            window,
        });
        self
    }

    /// Deliver one outbox item at most once at a time: lease it, send, mark it done.
    /// A transient failure gives the lease back so the next attempt can go at once; a
    /// permanent one is marked done (it can never succeed) and reported.
    #[tracing::instrument(skip_all, fields(outbox_id = %item.id))]
    pub async fn dispatch(
        &self,
        delivery: &dyn Delivery,
        item: &OutboxItem,
    ) -> Result<Dispatched, ServiceError> {
        if let Outbound::NoticeFanout { .. } = &item.item {
            return match &self.notices {
                Some(fanout) => crate::service::notice_step(fanout, item).await,
                None => Ok(Dispatched::Skipped),
            };
        }
        let now = self.clock.now();
        let until = now
            .checked_add(SignedDuration::from_secs(OUTBOX_LEASE_SECS))
            .unwrap_or(now);
        if !self.store.lease_outbox(&item.id, now, until).await? {
            return Ok(Dispatched::Skipped);
        }
        let gated;
        let item = match &item.item {
            Outbound::AgentAlert(alert) => match self.gate_alert(item, alert).await? {
                Some(send) => {
                    gated = send;
                    &gated
                }
                None => {
                    self.store
                        .complete_outbox(&item.id, self.clock.now())
                        .await?;
                    tracing::info!("alert held back; counted in the next one");
                    return Ok(Dispatched::Folded);
                }
            },
            _ => item,
        };
        match delivery.deliver(item).await {
            Ok(()) => {
                self.store
                    .complete_outbox(&item.id, self.clock.now())
                    .await?;
                tracing::info!("delivered");
                Ok(Dispatched::Delivered)
            }
            Err(e @ DeliveryError::Transient(_)) => {
                tracing::warn!(error = %e, "delivery failed; will retry");
                self.store.release_outbox(&item.id).await?;
                Err(ServiceError::Delivery(e))
            }
            Err(e @ DeliveryError::Permanent(_)) => {
                tracing::error!(error = %e, "delivery rejected for good; not retrying");
                self.store
                    .complete_outbox(&item.id, self.clock.now())
                    .await?;
                Err(ServiceError::Delivery(e))
            }
        }
    }

    /// Deliver what is pending (the local server's loop, and the sweep in AWS):
    /// (delivered, failed).
    pub async fn dispatch_pending(
        &self,
        delivery: &dyn Delivery,
        limit: usize,
    ) -> Result<(usize, usize), ServiceError> {
        let pending = self.store.pending_outbox(self.clock.now(), limit).await?;
        let (mut delivered, mut failed) = (0, 0);
        match self.flush_held_alerts(delivery).await {
            Ok(Dispatched::Delivered) => delivered += 1,
            Ok(_) => {}
            Err(ServiceError::Delivery(_)) => failed += 1,
            Err(e) => return Err(e),
        }
        for item in &pending {
            match self.dispatch(delivery, item).await {
                Ok(Dispatched::Delivered) => delivered += 1,
                Ok(Dispatched::Skipped | Dispatched::Folded) => {}
                Err(ServiceError::Delivery(_)) => failed += 1,
                Err(e) => return Err(e),
            }
        }
        Ok((delivered, failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic() {
        let id = ConversationId::generate();
        let to = PhoneNumber::from_e164("+821012345678").unwrap();
        let at = Timestamp::UNIX_EPOCH;
        let a = customer_sms(&id, 3, to.clone(), "hi".into(), at);
        assert_eq!(a, customer_sms(&id, 3, to, "hi".into(), at));
        assert_eq!(a.id, format!("sms:{id}:3"));
        let alert = AgentAlert {
            conversation_id: id.clone(),
            text: "t".into(),
            link: None,
            queue: "support".into(),
            priority: crate::model::Priority::Normal,
            language: crate::model::Lang::Ko,
            channel: crate::model::Channel::Web,
        };
        assert_eq!(agent_alert(alert, 2, at).id, format!("alert:{id}:2"));
    }
}
