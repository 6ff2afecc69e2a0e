//! Local delivery: instead of SNS, outbox items are appended to
//! `<data>/deliveries.jsonl`, one JSON object a line, where developers (and tests)
//! can see every alert and text that would have gone out.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;

use handoff_core::model::{Outbound, OutboxItem};
use handoff_core::ports::Delivery;
use handoff_core::DeliveryError;

pub struct FileDelivery {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileDelivery {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }
}

#[async_trait]
impl Delivery for FileDelivery {
    async fn deliver(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        let line =
            serde_json::to_string(item).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        // Texts and phone numbers: readable by this user only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options
            .open(&self.path)
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        writeln!(f, "{line}").map_err(|e| DeliveryError::Transient(e.to_string()))?;
        match &item.item {
            Outbound::AgentAlert(a) => {
                tracing::info!(conversation_id = %a.conversation_id, priority = a.priority.as_str(), "agent alert (local)")
            }
            Outbound::CustomerSms {
                conversation_id,
                to,
                ..
            } => {
                tracing::info!(conversation_id = %conversation_id, to = %to.masked(), "text to customer (local)")
            }
            Outbound::CreditApproval(a) => {
                tracing::info!(conversation_id = %a.conversation_id, credit_id = %a.credit_id, "credit approval alert (local)")
            }
            Outbound::CreditDecided(c) => {
                tracing::info!(conversation_id = %c.conversation_id, credit_id = %c.id, status = c.status.as_str(), "credit decided event (local)")
            }
        }
        Ok(())
    }
}
