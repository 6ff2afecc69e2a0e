//! Proactive notices. The request (`HandoffService::send_notice`) only reads who the
//! recipients are and writes the notice record with the first fan-out outbox item, in
//! one commit. The dispatcher then works through the recipients a batch at a time
//! (`NoticeFanout::run`): one commit per recipient (the notice as a message in their
//! conversation, plus its text through the outbox), then the next batch's item. Texts
//! wait while the business's quiet hours last: the fan-out item is leased until they end.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::auth::Agent;
use crate::conversation::{Conversation, Status};
use crate::error::{ServiceError, StoreError};
use crate::ids::{ConversationId, CustomerId};
use crate::model::{Channel, Customer, Lang, Outbound, OutboxItem, Role};
use crate::notices::{
    new_notice_id, sent_key, Audience, NoticeRecord, NoticeRequest, NoticeResponse, QuietHours,
    Recipient, FANOUT_BATCH, NOTICE_KEEP_DAYS,
};
use crate::outbox::{fanout_item, Dispatched};
use crate::ports::{Clock, Commit, ConversationStore, OutboxStore};
use crate::records::{RecordKey, RecordWrite};

use super::{retry_on_conflict, Change, HandoffService};

/// How long one fan-out step may hold its item.
const STEP_LEASE_SECS: i64 = 120;

fn keep_until(now: Timestamp) -> Option<Timestamp> {
    now.checked_add(SignedDuration::from_hours(24 * NOTICE_KEEP_DAYS))
        .ok()
}

fn lang_of(tag: handoff_faq::LangTag) -> Option<Lang> {
    match tag {
        handoff_faq::LangTag::Ko => Some(Lang::Ko),
        handoff_faq::LangTag::En => Some(Lang::En),
        _ => None,
    }
}

impl HandoffService {
    /// Accepts a notice (supervisors): 202's answer. A repeated `request_id` gets the
    /// first answer and sends nothing more.
    pub async fn send_notice(
        &self,
        by: &Agent,
        request: NoticeRequest,
    ) -> Result<NoticeResponse, ServiceError> {
        if !by.supervisor {
            return Err(ServiceError::Forbidden("only supervisors send notices"));
        }
        let key = request.record_key()?;
        if let Some(found) = self.store.record(&key).await? {
            return Ok(found.decode::<NoticeRecord>()?.response);
        }
        let now = self.clock.now();
        let (recipients, skipped) = self.notice_recipients(&request.audience).await?;
        let texted = recipients.iter().filter(|r| r.texts()).count();
        let deferred = match self.quiet_hours.ends_after(now) {
            Some(_) => texted,
            None => 0,
        };
        let notice_id = new_notice_id();
        let record = NoticeRecord {
            notice_id: notice_id.clone(),
            text: request.text,
            fallback: self.settings.agent_language,
            response: NoticeResponse {
                notice_id: notice_id.clone(),
                sent: recipients.len() - deferred,
                skipped_opted_out: skipped,
                deferred_quiet_hours: deferred,
            },
            recipients,
            by: by.id.to_string(),
            at: now,
        };
        let commit = Commit {
            records: vec![RecordWrite::next(
                key.clone(),
                None,
                &record,
                keep_until(now),
            )?],
            outbox: vec![fanout_item(&notice_id, &key, 0, now)],
            ..Commit::default()
        };
        match self.store.commit(commit).await {
            Ok(()) => {
                tracing::info!(notice_id = %notice_id, recipients = record.recipients.len(), "notice accepted");
                Ok(record.response)
            }
            // The same request_id accepted at the same moment: answer as it was.
            Err(StoreError::Conflict(_) | StoreError::Duplicate) => {
                match self.store.record(&key).await? {
                    Some(found) => Ok(found.decode::<NoticeRecord>()?.response),
                    None => Err(ServiceError::Contended),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The recipients (web-only first, then texted) and how many opted out.
    async fn notice_recipients(
        &self,
        audience: &Audience,
    ) -> Result<(Vec<Recipient>, usize), ServiceError> {
        let (mut web, mut texted, mut skipped) = (Vec::new(), Vec::new(), 0);
        match audience {
            Audience::Phones(phones) => {
                for phone in phones {
                    match self.store.customer_by_phone(phone).await? {
                        Some(c) if c.sms_opted_out => skipped += 1,
                        found => texted.push(Recipient {
                            phone: Some(phone.clone()),
                            customer_id: found.map(|c| c.id),
                        }),
                    }
                }
            }
            Audience::Customers(ids) => {
                for id in ids {
                    let customer = self.store.customer(id).await?.ok_or_else(|| {
                        crate::InputError::new("customer_ids", format!("no customer {id}"))
                    })?;
                    match customer.phone {
                        Some(_) if customer.sms_opted_out => skipped += 1,
                        Some(phone) => texted.push(Recipient {
                            phone: Some(phone),
                            customer_id: Some(customer.id),
                        }),
                        None => web.push(Recipient {
                            phone: None,
                            customer_id: Some(customer.id),
                        }),
                    }
                }
            }
        }
        web.extend(texted);
        Ok((web, skipped))
    }
}

/// What the fan-out needs besides the store: the quiet hours and how texts are cut.
#[derive(Debug, Clone)]
pub struct NoticePolicy {
    pub quiet_hours: QuietHours,
    pub sms_max_segments: usize,
    pub answers_url: Option<String>,
}

/// Works through a notice's recipients, from the dispatcher.
pub struct NoticeFanout {
    store: Arc<dyn ConversationStore>,
    clock: Arc<dyn Clock>,
    policy: NoticePolicy,
}

impl NoticeFanout {
    pub fn new(
        store: Arc<dyn ConversationStore>,
        clock: Arc<dyn Clock>,
        policy: NoticePolicy,
    ) -> Self {
        Self {
            store,
            clock,
            policy,
        }
    }

    /// One step: up to [`FANOUT_BATCH`] recipients, then the next step's item. During
    /// quiet hours a step that reaches a texted recipient stops there; its item is
    /// leased until the quiet hours end, so the sweep picks it up then.
    pub async fn run(
        &self,
        item: &OutboxItem,
        record: &RecordKey,
        start: usize,
    ) -> Result<Dispatched, ServiceError> {
        let outbox: &dyn OutboxStore = self.store.as_ref();
        let now = self.clock.now();
        let Some(found) = self.store.record(record).await? else {
            tracing::warn!("notice record gone; nothing to send");
            if outbox.lease_outbox(&item.id, now, now).await? {
                outbox.complete_outbox(&item.id, now).await?;
            }
            return Ok(Dispatched::Skipped);
        };
        let notice: NoticeRecord = found.decode()?;
        let quiet_until = self.policy.quiet_hours.ends_after(now);
        let first_texts = notice.recipients.get(start).is_some_and(Recipient::texts);
        if let (Some(until), true) = (quiet_until, first_texts) {
            // Held, not failed: the lease is the not-before time.
            outbox.lease_outbox(&item.id, now, until).await?;
            tracing::info!(%until, "notice texts held for the quiet hours");
            return Ok(Dispatched::Skipped);
        }
        let lease = now
            .checked_add(SignedDuration::from_secs(STEP_LEASE_SECS))
            .unwrap_or(now);
        if !outbox.lease_outbox(&item.id, now, lease).await? {
            return Ok(Dispatched::Skipped);
        }
        let end = (start + FANOUT_BATCH).min(notice.recipients.len());
        let mut next = end;
        for index in start..end {
            if quiet_until.is_some() && notice.recipients[index].texts() {
                next = index;
                break;
            }
            self.deliver_one(&notice, index).await?;
        }
        if next < notice.recipients.len() {
            let commit = Commit {
                outbox: vec![fanout_item(&notice.notice_id, record, next, now)],
                ..Commit::default()
            };
            match self.store.commit(commit).await {
                // Written by an earlier attempt of this step.
                Ok(()) | Err(StoreError::Duplicate | StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        outbox.complete_outbox(&item.id, self.clock.now()).await?;
        tracing::info!(
            notice_id = %notice.notice_id,
            from = start,
            to = next,
            "notice step done"
        );
        Ok(Dispatched::Delivered)
    }

    /// Recipient `index`: the notice as a message in their conversation (a new one
    /// for a phone without an open conversation, so a reply joins it) and, to a
    /// phone, its text; once, whatever the retries.
    async fn deliver_one(&self, notice: &NoticeRecord, index: usize) -> Result<(), ServiceError> {
        let to = &notice.recipients[index];
        let mark = sent_key(&notice.notice_id, index)?;
        let mark = &mark;
        retry_on_conflict(|| async move {
            if self.store.record(mark).await?.is_some() {
                return Ok(());
            }
            let now = self.clock.now();
            let customer = match (&to.phone, &to.customer_id) {
                (Some(phone), _) => self.store.customer_by_phone(phone).await?,
                (None, Some(id)) => self.store.customer(id).await?,
                (None, None) => None,
            };
            let Some(mut change) = self.target(to, customer, notice.fallback, now).await? else {
                return Ok(());
            };
            let lang = lang_of(change.conv.customer_language());
            let text = notice.text.pick(lang, notice.fallback).to_string();
            let channel = if to.texts() {
                Channel::Sms
            } else {
                Channel::Web
            };
            let seq = change.push(Role::System, text.clone(), channel).seq;
            if let Some(phone) = &to.phone {
                let sms = handoff_sms::fit_to_segments(
                    &text,
                    self.policy.sms_max_segments,
                    self.policy.answers_url.as_deref(),
                );
                change.text(seq, phone.clone(), sms);
            }
            change.records.push(RecordWrite::next(
                mark.clone(),
                None,
                &serde_json::json!({ "conversation_id": change.conv.id }),
                keep_until(now),
            )?);
            let (commit, _, _) = change.into_commit(None);
            self.store.commit(commit).await?;
            Ok(())
        })
        .await
    }

    /// The conversation the notice joins, as a change; `None` when there is nobody
    /// to reach (opted out since, or a web customer without a conversation).
    async fn target(
        &self,
        to: &Recipient,
        customer: Option<Customer>,
        fallback: Lang,
        now: Timestamp,
    ) -> Result<Option<Change>, ServiceError> {
        if customer.as_ref().is_some_and(|c| c.sms_opted_out) && to.texts() {
            tracing::info!("recipient opted out since the notice was accepted");
            return Ok(None);
        }
        let latest = match &customer {
            Some(c) => match &c.open_conversation {
                Some(id) => self.store.conversation(id).await?,
                None => self
                    .store
                    .customer_conversations(&c.id, 1)
                    .await?
                    .into_iter()
                    .next(),
            },
            None => None,
        };
        // A text's reply continues the customer's open conversation; a resolved one
        // stays closed, so the notice starts a new one the reply joins.
        let open = latest
            .clone()
            .filter(|c| !to.texts() || c.status != Status::Resolved);
        if let Some(conv) = open {
            return Ok(Some(Change::of(conv, now)));
        }
        let Some(phone) = &to.phone else {
            return Ok(None);
        };
        let mut customer = customer.unwrap_or_else(|| {
            let mut c = Customer::new(CustomerId::generate(), now);
            c.phone = Some(phone.clone());
            c
        });
        let lang = latest.as_ref().map(|c| c.language).unwrap_or(fallback);
        let conv = Conversation::new(
            ConversationId::generate(),
            customer.id.clone(),
            lang,
            Channel::Sms,
            now,
        );
        customer.open_conversation = Some(conv.id.clone());
        let mut change = Change::new(conv, None, now);
        change.set_customer(customer);
        Ok(Some(change))
    }
}

/// Where the dispatcher sends notice steps (see [`crate::outbox::OutboxDispatcher::with_notices`]).
pub(crate) async fn run_step(
    fanout: &NoticeFanout,
    item: &OutboxItem,
) -> Result<Dispatched, ServiceError> {
    match &item.item {
        Outbound::NoticeFanout { record, start, .. } => fanout.run(item, record, *start).await,
        _ => Ok(Dispatched::Skipped),
    }
}
