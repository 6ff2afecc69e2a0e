//! What a customer's message teaches the business, read and written with it: the
//! text the bot could not answer (into the day's bounded list) and whether the
//! customer came back within a week.

use jiff::{SignedDuration, Timestamp};

use crate::error::ServiceError;
use crate::ids::CustomerId;
use crate::insights::tally::add;
use crate::insights::{day_of, unanswered_key, Unanswered, REPEAT_WITHIN_DAYS, UNANSWERED_PER_DAY};
use crate::model::HandoffReason;
use crate::records::RecordWrite;
use crate::triage::Triage;

use super::super::change::Change;
use super::super::HandoffService;

impl HandoffService {
    /// Triage of the message, noted when the bot could not answer it.
    pub(super) async fn triage_noted(
        &self,
        change: &mut Change,
        text: &str,
        index: &handoff_faq::FaqIndex,
    ) -> Result<Triage, ServiceError> {
        let decision = super::decide::decide_triage(change, text, index);
        self.note_if_unanswered(change, decision, text).await
    }

    /// A clarifying question or a handoff because the bot could not help: the text
    /// goes into the day's list (while it has room) and is counted. The decision is
    /// passed through.
    pub(super) async fn note_if_unanswered(
        &self,
        change: &mut Change,
        decision: Triage,
        text: &str,
    ) -> Result<Triage, ServiceError> {
        let unanswered = matches!(
            decision,
            Triage::Clarify { .. }
                | Triage::Handoff {
                    reason: HandoffReason::BotCouldNotHelp
                }
        );
        if !unanswered {
            return Ok(decision);
        }
        add(&mut change.counts, "unanswered", 1);
        let key = unanswered_key(day_of(change.now));
        let previous = self.store.record(&key).await?;
        let mut list: Vec<Unanswered> = match &previous {
            Some(r) if r.is_live(change.now) => r.decode()?,
            _ => Vec::new(),
        };
        if list.len() < UNANSWERED_PER_DAY {
            list.push(Unanswered {
                text: text.to_string(),
                at: change.now,
            });
            let expires = self.unanswered_expiry(change.now);
            change
                .records
                .push(RecordWrite::next(key, previous.as_ref(), &list, expires)?);
        }
        Ok(decision)
    }

    /// The end of the retention period, counted from the end of the day.
    fn unanswered_expiry(&self, now: Timestamp) -> Option<Timestamp> {
        (self.retention_days > 0).then(|| {
            now.checked_add(SignedDuration::from_hours(
                24 * (i64::from(self.retention_days) + 1),
            ))
            .unwrap_or(now)
        })
    }

    /// A known customer starting a new conversation within a week of the last one:
    /// a repeat contact, counted by what the last one was about.
    pub(super) async fn note_repeat(
        &self,
        change: &mut Change,
        customer: &CustomerId,
    ) -> Result<(), ServiceError> {
        let last = self.store.customer_conversations(customer, 1).await?;
        let Some(prev) = last.into_iter().next() else {
            return Ok(());
        };
        let within = SignedDuration::from_hours(24 * REPEAT_WITHIN_DAYS);
        if change.now.duration_since(prev.updated_at) > within {
            return Ok(());
        }
        let about = match (prev.faq_answers.first(), &prev.handoff) {
            (Some(a), _) => format!("faq:{}", a.faq_id),
            (None, Some(h)) => format!("handoff:{}", h.reason.as_str()),
            (None, None) => "other".to_string(),
        };
        add(&mut change.counts, format!("repeat:{about}"), 1);
        Ok(())
    }
}
