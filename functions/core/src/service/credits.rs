//! Goodwill credits: an agent grants one within their limits at once, above them it
//! waits for a supervisor. Each use case reads the conversation and the credit records,
//! decides, and writes one commit: the conversation (with the customer's notice), the
//! credit records and the outbox item, all guarded by the versions read. So two
//! supervisors deciding one credit get one winner (the loser re-reads and sees it
//! decided), and two grants racing for one agent's daily total cannot both fit under it.

use jiff::{SignedDuration, Timestamp};

use crate::auth::Agent;
use crate::credit::{
    customer_text, format_amount, keys, within_limits, ConversationCredits, Credit, CreditAlert,
    CreditId, CreditPointer, CreditRequest, CreditStatus, DayTotal, Decision, PendingCredits,
    DAY_TOTAL_KEEP_SECS, MAX_CREDITS_PER_CONVERSATION, MAX_PENDING,
};
use crate::error::ServiceError;
use crate::ids::ConversationId;
use crate::model::{AgentAlert, Conversation, Customer};
use crate::outbox;
use crate::ports::ConversationStore;
use crate::records::{Record, RecordKey, RecordWrite};

use super::agent::notify_sms;
use super::change::Change;
use super::{retry_on_conflict, HandoffService, Settings};

/// A record and its payload (the default when absent or expired).
pub(super) async fn read_record<T: serde::de::DeserializeOwned + Default>(
    store: &dyn ConversationStore,
    key: &RecordKey,
    now: Timestamp,
) -> Result<(Option<Record>, T), ServiceError> {
    let record = store.record(key).await?;
    let value = match &record {
        Some(r) if r.is_live(now) => r.decode()?,
        _ => T::default(),
    };
    Ok((record, value))
}

impl HandoffService {
    /// Grants a credit in conversation `id`, or asks a supervisor for it; a repeated
    /// `request_id` gives the same credit back and writes nothing.
    #[tracing::instrument(skip_all, fields(conversation_id = %id, agent = %agent.id))]
    pub async fn grant_credit(
        &self,
        agent: &Agent,
        id: &ConversationId,
        req: &CreditRequest,
    ) -> Result<Credit, ServiceError> {
        let credits_key = &keys::credits_of(id)?;
        let credit = retry_on_conflict(|| async move {
            let now = self.clock.now();
            let conv = self.existing(id).await?;
            let (credits_record, mut list) =
                read_record::<ConversationCredits>(self.store.as_ref(), credits_key, now).await?;
            if let Some(c) = list.credits.iter().find(|c| c.request_id == req.request_id) {
                return match c.same_request(req) {
                    true => Ok((c.clone(), false)),
                    false => Err(ServiceError::IdempotencyKeyReused),
                };
            }
            if !agent.supervisor {
                conv.ensure_owner(agent, "grant a credit in")?;
            }
            if list.credits.len() >= MAX_CREDITS_PER_CONVERSATION {
                return Err(ServiceError::TooMany(
                    "this conversation has as many credits as it can hold",
                ));
            }
            let mut credit = Credit {
                id: CreditId::generate(),
                conversation_id: id.clone(),
                status: CreditStatus::PendingApproval,
                amount: req.amount,
                currency: req.currency.clone(),
                agent_id: agent.id.clone(),
                reason: req.reason.clone(),
                request_id: req.request_id.clone(),
                created_at: now,
                decided_by: None,
                decided_at: None,
                decision_note: None,
            };
            let customer = self.customer_to_text(&conv, now).await?;
            let mut ch = Change::of(conv, now);
            let granted = agent.supervisor || self.within_day_limit(&mut ch, agent, req).await?;
            if granted {
                credit.grant(&agent.id, now);
                ch.outbox.push(outbox::credit_decided(credit.clone(), now));
            } else {
                let key = keys::pending()?;
                let (record, mut pending) =
                    read_record::<PendingCredits>(self.store.as_ref(), &key, now).await?;
                if pending.credits.len() >= MAX_PENDING {
                    return Err(ServiceError::TooMany(
                        "too many credits are waiting for approval; ask a supervisor",
                    ));
                }
                pending.credits.push(credit.clone());
                ch.records
                    .push(RecordWrite::next(key, record.as_ref(), &pending, None)?);
                let alert = approval_alert(&credit, &self.settings);
                ch.outbox.push(outbox::credit_approval(alert, now));
            }
            list.credits.push(credit.clone());
            ch.records.push(RecordWrite::next(
                credits_key.clone(),
                credits_record.as_ref(),
                &list,
                None,
            )?);
            let pointer = CreditPointer {
                conversation_id: id.clone(),
            };
            ch.records.push(RecordWrite::next(
                keys::credit(&credit.id)?,
                None,
                &pointer,
                None,
            )?);
            tell_customer(&mut ch, customer.as_ref(), &credit, &self.settings);
            let (commit, _, _) = ch.into_commit(None);
            self.write(commit).await?;
            Ok((credit, true))
        })
        .await;
        let (credit, created) = credit?;
        if created {
            tracing::info!(credit_id = %credit.id, status = credit.status.as_str(), "credit");
        }
        Ok(credit)
    }

    /// Whether the agent's day has room for this credit; if so the new day total
    /// joins the change (versioned: a concurrent grant makes one of them re-read).
    async fn within_day_limit(
        &self,
        ch: &mut Change,
        agent: &Agent,
        req: &CreditRequest,
    ) -> Result<bool, ServiceError> {
        let policy = &self.settings.credits;
        if req.amount > policy.per_credit {
            return Ok(false);
        }
        let day = self.settings.hours.local(ch.now).date();
        let key = keys::day_total(&agent.id, day)?;
        let (record, today) = read_record::<DayTotal>(self.store.as_ref(), &key, ch.now).await?;
        if !within_limits(policy, today, req.amount) {
            return Ok(false);
        }
        let next = DayTotal {
            total: today.total + req.amount,
        };
        let keep = ch
            .now
            .checked_add(SignedDuration::from_secs(DAY_TOTAL_KEEP_SECS))
            .ok();
        ch.records
            .push(RecordWrite::next(key, record.as_ref(), &next, keep)?);
        Ok(true)
    }

    /// The customer, when the conversation reaches them by SMS (else no read is needed).
    async fn customer_to_text(
        &self,
        conv: &Conversation,
        now: Timestamp,
    ) -> Result<Option<Customer>, ServiceError> {
        match conv.reach_by_sms(now) {
            true => Ok(self.store.customer(&conv.customer_id).await?),
            false => Ok(None),
        }
    }

    /// Credits waiting for a supervisor, oldest first. Supervisors only.
    pub async fn pending_credits(&self, agent: &Agent) -> Result<Vec<Credit>, ServiceError> {
        if !agent.supervisor {
            return Err(ServiceError::Forbidden(
                "only supervisors can list credits waiting for approval",
            ));
        }
        let (_, pending) =
            read_record::<PendingCredits>(self.store.as_ref(), &keys::pending()?, self.now())
                .await?;
        Ok(pending.credits)
    }

    /// A supervisor approves or declines a pending credit, once.
    #[tracing::instrument(skip_all, fields(credit_id = %credit_id, supervisor = %agent.id))]
    pub async fn decide_credit(
        &self,
        agent: &Agent,
        credit_id: &CreditId,
        decision: Decision,
        note: Option<String>,
    ) -> Result<Credit, ServiceError> {
        if !agent.supervisor {
            return Err(ServiceError::Forbidden(
                "only supervisors can approve or decline credits",
            ));
        }
        let pointer: CreditPointer = self
            .store
            .record(&keys::credit(credit_id)?)
            .await?
            .ok_or(ServiceError::CreditNotFound)?
            .decode()?;
        let id = &pointer.conversation_id;
        let credits_key = &keys::credits_of(id)?;
        let note = &note;
        let credit = retry_on_conflict(|| async move {
            let now = self.clock.now();
            let conv = self
                .store
                .conversation(id)
                .await?
                .ok_or(ServiceError::CreditNotFound)?;
            let (credits_record, mut list) =
                read_record::<ConversationCredits>(self.store.as_ref(), credits_key, now).await?;
            let credit = list
                .credits
                .iter_mut()
                .find(|c| &c.id == credit_id)
                .ok_or(ServiceError::CreditNotFound)?;
            credit
                .decide(decision, &agent.id, note.clone(), now)
                .map_err(|s| ServiceError::CreditDecided(s.as_str()))?;
            let credit = credit.clone();
            let customer = self.customer_to_text(&conv, now).await?;
            let mut ch = Change::of(conv, now);
            let key = keys::pending()?;
            let (record, mut pending) =
                read_record::<PendingCredits>(self.store.as_ref(), &key, now).await?;
            pending.credits.retain(|c| &c.id != credit_id);
            ch.records
                .push(RecordWrite::next(key, record.as_ref(), &pending, None)?);
            ch.records.push(RecordWrite::next(
                credits_key.clone(),
                credits_record.as_ref(),
                &list,
                None,
            )?);
            ch.outbox.push(outbox::credit_decided(credit.clone(), now));
            tell_customer(&mut ch, customer.as_ref(), &credit, &self.settings);
            let (commit, _, _) = ch.into_commit(None);
            self.write(commit).await?;
            Ok(credit)
        })
        .await?;
        tracing::info!(status = credit.status.as_str(), "credit decided");
        Ok(credit)
    }

    /// The conversation's credits, oldest first (for the packet).
    pub async fn conversation_credits(
        &self,
        id: &ConversationId,
    ) -> Result<Vec<Credit>, ServiceError> {
        let key = keys::credits_of(id)?;
        let (_, list) =
            read_record::<ConversationCredits>(self.store.as_ref(), &key, self.now()).await?;
        Ok(list.credits)
    }
}

/// The system notice of the credit's status in the customer's language; by SMS too
/// when that is how they are reached.
fn tell_customer(
    ch: &mut Change,
    customer: Option<&Customer>,
    credit: &Credit,
    settings: &Settings,
) {
    let amount = format_amount(credit.amount, &credit.currency);
    let seq = ch.notice(|tag| customer_text(credit.status, &amount, tag));
    if let Some(c) = customer {
        let text = customer_text(credit.status, &amount, ch.conv.customer_language());
        notify_sms(ch, c, seq, text, settings);
    }
}

/// One line for supervisors (in the agents' language), linking the conversation.
fn approval_alert(credit: &Credit, settings: &Settings) -> CreditAlert {
    let amount = format_amount(credit.amount, &credit.currency);
    let reason = crate::packet::clip(&credit.reason, 80);
    let text = match settings.agent_language {
        crate::model::Lang::Ko => {
            format!("보상 승인 요청: {} · {amount} · {reason}", credit.agent_id)
        }
        crate::model::Lang::En => {
            format!(
                "Credit to approve: {} asks {amount} · {reason}",
                credit.agent_id
            )
        }
    };
    CreditAlert {
        conversation_id: credit.conversation_id.clone(),
        credit_id: credit.id.clone(),
        text,
        link: settings
            .console_url
            .as_deref()
            .map(|u| AgentAlert::console_link(u, &credit.conversation_id)),
        queue: settings.queue_name.clone(),
    }
}
