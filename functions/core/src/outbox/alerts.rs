//! Alert coalescing: a burst of handoffs sends agents at most one alert per queue
//! per window; the others are counted and announced as "+N more waiting" with the
//! next alert, or by the sweep once the window has passed. Nothing is lost: a
//! held-back handoff is still in the queue, and the count always reaches the agents.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;
use crate::ids::ConversationId;
use crate::model::{AgentAlert, Outbound, OutboxItem, Priority};
use crate::ports::Delivery;
use crate::records::{Record, RecordKey, RecordStore, RecordWrite};
use crate::service::retry_on_conflict;

use super::{alert_summary, Dispatched, OutboxDispatcher};

/// What the gate of one queue remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGate {
    pub last_sent_at: Option<Timestamp>,
    /// Alerts held back since the last one sent.
    pub folded: u32,
    /// The first held-back conversation: the summary alert links to it.
    pub first_folded: Option<ConversationId>,
    pub folded_high: bool,
}

/// What to do with an alert at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateDecision {
    /// Send it, mentioning this many held back before it.
    Send { more_waiting: u32 },
    /// Hold it back: another alert went out within the window.
    Fold,
}

impl AlertGate {
    pub fn decide(&self, window: SignedDuration, now: Timestamp) -> GateDecision {
        match self.last_sent_at {
            Some(at) if now.duration_since(at) < window => GateDecision::Fold,
            _ => GateDecision::Send {
                more_waiting: self.folded,
            },
        }
    }

    pub fn sent(now: Timestamp) -> Self {
        Self {
            last_sent_at: Some(now),
            ..Self::default()
        }
    }

    pub fn fold(&mut self, alert: &AgentAlert) {
        self.folded += 1;
        self.first_folded
            .get_or_insert_with(|| alert.conversation_id.clone());
        self.folded_high |= alert.priority == Priority::High;
    }

    /// A summary is due: alerts were held back and the window has passed.
    pub fn summary_due(&self, window: SignedDuration, now: Timestamp) -> bool {
        self.folded > 0 && matches!(self.decide(window, now), GateDecision::Send { .. })
    }
}

/// The gate's settings: where it is kept, which queue, how long a window is.
pub(super) struct Coalescing {
    pub records: Arc<dyn RecordStore>,
    pub queue: String,
    pub window: SignedDuration,
}

fn gate_key(queue: &str) -> Result<RecordKey, ServiceError> {
    let safe: String = queue
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    Ok(RecordKey::new("alertgate", &safe)?)
}

async fn read_gate(
    records: &dyn RecordStore,
    key: &RecordKey,
) -> Result<(Option<Record>, AlertGate), ServiceError> {
    let record = records.record(key).await?;
    let gate = match &record {
        Some(r) => r.decode()?,
        None => AlertGate::default(),
    };
    Ok((record, gate))
}

impl OutboxDispatcher {
    /// Passes an alert through its queue's gate: `None` when it was held back (the
    /// item is then done), else the alert to send, carrying the count held back before it.
    pub(super) async fn gate_alert(
        &self,
        item: &OutboxItem,
        alert: &AgentAlert,
    ) -> Result<Option<OutboxItem>, ServiceError> {
        let Some(c) = &self.coalescing else {
            return Ok(Some(item.clone()));
        };
        let key = &gate_key(&alert.queue)?;
        retry_on_conflict(|| async move {
            let now = self.clock.now();
            let (record, mut gate) = read_gate(c.records.as_ref(), key).await?;
            let (next, send) = match gate.decide(c.window, now) {
                GateDecision::Fold => {
                    gate.fold(alert);
                    (gate, None)
                }
                GateDecision::Send { more_waiting } => {
                    let mut alert = alert.clone();
                    if more_waiting > 0 {
                        alert.text = format!("{} (+{more_waiting} more waiting)", alert.text);
                    }
                    let mut out = item.clone();
                    out.item = Outbound::AgentAlert(alert);
                    (AlertGate::sent(now), Some(out))
                }
            };
            let write = RecordWrite::next(key.clone(), record.as_ref(), &next, None)?;
            c.records.put_record(write).await?;
            Ok(send)
        })
        .await
    }

    /// Announces alerts held back once the window has passed (the sweep, and after
    /// each stream batch in AWS).
    pub async fn flush_held_alerts(
        &self,
        delivery: &dyn Delivery,
    ) -> Result<Dispatched, ServiceError> {
        let Some(c) = &self.coalescing else {
            return Ok(Dispatched::Skipped);
        };
        let key = gate_key(&c.queue)?;
        let now = self.clock.now();
        let (record, gate) = read_gate(c.records.as_ref(), &key).await?;
        let Some(first) = gate.first_folded.clone() else {
            return Ok(Dispatched::Skipped);
        };
        if !gate.summary_due(c.window, now) {
            return Ok(Dispatched::Skipped);
        }
        let write = RecordWrite::next(key, record.as_ref(), &AlertGate::sent(now), None)?;
        match c.records.put_record(write).await {
            Ok(()) => {}
            // Someone else sent or held one back meanwhile: they carry the count on.
            Err(crate::StoreError::Conflict(_)) => return Ok(Dispatched::Skipped),
            Err(e) => return Err(e.into()),
        }
        let summary = alert_summary(&c.queue, first, gate.folded, gate.folded_high, now);
        delivery.deliver(&summary).await?;
        tracing::info!(held_back = gate.folded, "held-back alerts announced");
        Ok(Dispatched::Delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap()
    }

    #[test]
    fn one_alert_per_window_and_the_rest_counted() {
        let w = SignedDuration::from_secs(30);
        let mut gate = AlertGate::default();
        assert_eq!(
            gate.decide(w, at(0)),
            GateDecision::Send { more_waiting: 0 }
        );
        gate = AlertGate::sent(at(0));
        assert_eq!(gate.decide(w, at(29)), GateDecision::Fold);
        let alert = AgentAlert {
            conversation_id: ConversationId::parse("c_1").unwrap(),
            text: "t".into(),
            link: None,
            queue: "q".into(),
            priority: Priority::High,
            language: crate::model::Lang::Ko,
            channel: crate::model::Channel::Web,
        };
        gate.fold(&alert);
        gate.fold(&alert);
        assert!(!gate.summary_due(w, at(29)));
        assert!(gate.summary_due(w, at(30)));
        assert_eq!(
            gate.decide(w, at(31)),
            GateDecision::Send { more_waiting: 2 }
        );
        assert!(gate.folded_high);
    }
}
