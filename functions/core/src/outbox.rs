//! The outbox: what to send after a commit, recorded in the commit itself, and the
//! dispatcher that delivers it. Outbox items are built here and nowhere else, so their
//! deterministic ids (what makes recording the same send twice impossible) have one form.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::error::{DeliveryError, ServiceError};
use crate::ids::ConversationId;
use crate::model::{AgentAlert, Outbound, OutboxItem, PhoneNumber};
use crate::ports::{Clock, Delivery, OutboxStore};

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

/// The agents' alert for the conversation's handoff number `number`.
pub fn agent_alert(alert: AgentAlert, number: u32, now: Timestamp) -> OutboxItem {
    OutboxItem {
        id: format!("alert:{}:{number}", alert.conversation_id),
        created_at: now,
        item: Outbound::AgentAlert(alert),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatched {
    Delivered,
    /// Delivered before, or another worker holds it now.
    Skipped,
}

/// Delivers outbox items; needs only the outbox and a clock (no catalog), so the
/// dispatcher function builds just this.
pub struct OutboxDispatcher {
    store: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
}

impl OutboxDispatcher {
    pub fn new(store: Arc<dyn OutboxStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
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
        let now = self.clock.now();
        let until = now
            .checked_add(SignedDuration::from_secs(OUTBOX_LEASE_SECS))
            .unwrap_or(now);
        if !self.store.lease_outbox(&item.id, now, until).await? {
            return Ok(Dispatched::Skipped);
        }
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
        for item in &pending {
            match self.dispatch(delivery, item).await {
                Ok(Dispatched::Delivered) => delivered += 1,
                Ok(Dispatched::Skipped) => {}
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
