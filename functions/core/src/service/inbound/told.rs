//! Triage, then the known-problem notice the message is about: told before whatever
//! the triage leads to (triage sees the customer's message alone).

use crate::error::ServiceError;
use crate::triage::Triage;

use super::super::change::Change;
use super::super::incidents::{tell_incident, LiveIncidents};
use super::HandoffService;

impl HandoffService {
    pub(super) async fn triage_and_tell(
        &self,
        change: &mut Change,
        text: &str,
        index: &handoff_faq::FaqIndex,
        incidents: &LiveIncidents,
        fallback_lang: &str,
    ) -> Result<Triage, ServiceError> {
        let decision = self.triage_noted(change, text, index).await?;
        tell_incident(change, text, incidents, fallback_lang);
        Ok(decision)
    }
}
