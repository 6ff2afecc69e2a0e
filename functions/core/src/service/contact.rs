//! A web customer continues by SMS: first a code to the phone, then the proof.
//! Nothing joins the conversation to the phone (texts either way, history, the
//! customer record) until the code comes back.

use crate::error::{ServiceError, StoreError};
use crate::ids::ConversationId;
use crate::limits::{self, LimitKind};
use crate::model::{
    Channel, Conversation, Customer, Outbound, OutboxItem, PhoneNumber, Role, Status,
};
use crate::records::{Count, RecordKey, RecordWrite};
use crate::replies;
use crate::verification::{PhoneCode, PhoneCodes, PhoneVerification, CODES_PER_PHONE_PER_HOUR};

use super::{customer_write, Change, HandoffService, ATTEMPTS};

/// Where the pending code of a conversation is kept.
fn verification_key(id: &ConversationId) -> Result<RecordKey, ServiceError> {
    Ok(RecordKey::new("verify", id.as_str())?)
}

impl HandoffService {
    /// Sends a 6-digit code to `phone` for this conversation. Answers the same for
    /// every well-formed number: an opted-out number gets no text, but the caller
    /// cannot tell (no oracle). At most 3 codes per phone per hour, and a per-IP
    /// limit, so nobody can make the business text strangers at will.
    #[tracing::instrument(skip_all, fields(conversation_id = %id))]
    pub async fn request_phone_code(
        &self,
        id: &ConversationId,
        phone: PhoneNumber,
        codes: &PhoneCodes,
        source_ip: Option<&str>,
    ) -> Result<(), ServiceError> {
        let conv = self
            .store
            .conversation(id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if matches!(conv.status, Status::Resolved) {
            return Err(ServiceError::IllegalTransition {
                from: conv.status,
                action: "continue by SMS",
            });
        }
        let now = self.clock.now();
        if let Some(ip) = source_ip.and_then(limits::ip_subject) {
            self.take_limit(LimitKind::CodePerIp, &ip).await?;
        }
        // The per-phone cap is part of verification itself, not a tunable abuse limit.
        let (key, expires, retry) = limits::window_counter(
            "code_per_phone",
            jiff::SignedDuration::from_hours(1),
            phone.as_str(),
            now,
        )?;
        if self
            .store
            .count(&key, CODES_PER_PHONE_PER_HOUR, expires)
            .await?
            == Count::OverLimit
        {
            return Err(ServiceError::RateLimited {
                retry_after_secs: retry,
            });
        }
        let opted_out = self
            .store
            .customer_by_phone(&phone)
            .await?
            .is_some_and(|c| c.sms_opted_out);
        let record_key = verification_key(id)?;
        for _ in 0..ATTEMPTS {
            let previous = self.store.record(&record_key).await?;
            let code = PhoneCode::generate();
            let verification =
                PhoneVerification::issue(codes, id.clone(), phone.clone(), &code, now);
            let write = RecordWrite::next(
                record_key.clone(),
                previous.as_ref(),
                &verification,
                Some(verification.keep_until()),
            )?;
            let version = write.record.version;
            let mut commit = crate::ports::Commit {
                records: vec![write],
                ..Default::default()
            };
            if !opted_out {
                let name = self.settings.business_name(conv.language);
                commit.outbox.push(OutboxItem {
                    id: format!("verify:{id}:{version}"),
                    created_at: now,
                    item: Outbound::CustomerSms {
                        conversation_id: id.clone(),
                        to: phone.clone(),
                        text: replies::phone_code(name, code.as_str(), conv.language),
                    },
                });
            }
            match self.store.commit(commit).await {
                Ok(()) => {
                    tracing::info!(sent = !opted_out, "phone code issued");
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended)
    }

    /// Checks the code; on success the conversation continues by SMS on that phone
    /// and joins the history of whoever proved they hold it.
    #[tracing::instrument(skip_all, fields(conversation_id = %id))]
    pub async fn verify_phone(
        &self,
        id: &ConversationId,
        code: &PhoneCode,
        codes: &PhoneCodes,
    ) -> Result<Conversation, ServiceError> {
        let record_key = verification_key(id)?;
        for _ in 0..ATTEMPTS {
            let now = self.clock.now();
            let record = self
                .store
                .record(&record_key)
                .await?
                .ok_or(ServiceError::NoVerification)?;
            let stored: PhoneVerification = record.decode()?;
            let mut verification = stored.clone();
            if let Err(rejected) = verification.check(codes, code, now) {
                if verification.wrong_attempts != stored.wrong_attempts {
                    // Count the wrong try; a lost race re-reads and counts again.
                    let write = RecordWrite::next(
                        record_key.clone(),
                        Some(&record),
                        &verification,
                        record.expires_at,
                    )?;
                    match self.store.put_record(write).await {
                        Ok(()) => {}
                        Err(StoreError::Conflict(_)) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                return Err(ServiceError::CodeRejected(rejected));
            }
            let conv = self
                .store
                .conversation(id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            if conv.status == Status::Resolved {
                return Err(ServiceError::IllegalTransition {
                    from: conv.status,
                    action: "continue by SMS",
                });
            }
            let own = self.store.customer(&conv.customer_id).await?;
            let holder = self.store.customer_by_phone(&verification.phone).await?;
            let mut change = Change::new(conv.clone(), Some(conv.version), now);
            let customer = link_customer(&mut change, own, holder, &verification.phone);
            if customer.sms_opted_out {
                // Proven, but the holder said STOP: nothing may be texted until START.
                return Err(ServiceError::OptedOut);
            }
            change.customer = Some(customer_write(customer));
            change.conv.sms_follow_up = true;
            let lang = change.conv.language;
            change.push(
                Role::System,
                replies::sms_follow_up(&verification.phone.masked(), lang),
                Channel::Web,
            );
            // The code is used up: the record goes with the link, in one commit.
            let mut spent = verification.clone();
            spent.wrong_attempts = crate::verification::MAX_ATTEMPTS;
            change.records.push(RecordWrite::next(
                record_key.clone(),
                Some(&record),
                &spent,
                record.expires_at,
            )?);
            let (commit, conv, _) = change.into_commit(None);
            match self.store.commit(commit).await {
                Ok(()) => {
                    tracing::info!("phone verified; conversation continues by SMS");
                    return Ok(conv);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended)
    }
}

/// The customer the conversation belongs to once the phone is proven: the one who
/// already holds the number (their history joins), else this conversation's own.
fn link_customer(
    change: &mut Change,
    own: Option<Customer>,
    holder: Option<Customer>,
    phone: &PhoneNumber,
) -> Customer {
    let mut customer = match holder {
        Some(h) => {
            change.conv.customer_id = h.id.clone();
            h
        }
        None => {
            let mut c =
                own.unwrap_or_else(|| Customer::new(change.conv.customer_id.clone(), change.now));
            c.phone = Some(phone.clone());
            c
        }
    };
    customer.open_conversation = Some(change.conv.id.clone());
    customer
}
