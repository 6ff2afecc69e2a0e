//! A web customer continues by SMS: first a code to the phone, then the proof.
//! Nothing joins the conversation to the phone (texts either way, history, the
//! customer record) until the code comes back.

use crate::error::{ServiceError, StoreError};
use crate::ids::ConversationId;
use crate::limits::{self, LimitKind};
use crate::model::{Conversation, PhoneNumber, Status};
use crate::outbox;
use crate::ports::Commit;
use crate::records::{Count, RecordKey, RecordWrite};
use crate::replies;
use crate::verification::{
    PhoneCode, PhoneCodes, PhoneVerification, CODES_PER_PHONE_PER_HOUR, MAX_ATTEMPTS,
};

use super::change::Change;
use super::customer::decide_contact;
use super::{retry_on_conflict, HandoffService};

/// Where the pending code of a conversation is kept.
fn verification_key(id: &ConversationId) -> Result<RecordKey, ServiceError> {
    Ok(RecordKey::new("verify", id.as_str())?)
}

fn open_for_sms(conv: &Conversation) -> Result<(), ServiceError> {
    match conv.status {
        Status::Resolved => Err(ServiceError::IllegalTransition {
            from: conv.status,
            action: "continue by SMS",
        }),
        _ => Ok(()),
    }
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
        let conv = self.existing(id).await?;
        open_for_sms(&conv)?;
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
        let (phone, record_key, conv) = (&phone, &record_key, &conv);
        retry_on_conflict(|| async move {
            let previous = self.store.record(record_key).await?;
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
            let mut commit = Commit {
                records: vec![write],
                ..Commit::default()
            };
            if !opted_out {
                let name = self.settings.business_name(conv.language);
                let text = replies::phone_code(name, code.as_str(), conv.language);
                commit.outbox.push(outbox::verification_sms(
                    id,
                    version,
                    phone.clone(),
                    text,
                    now,
                ));
            }
            self.write(commit).await?;
            tracing::info!(sent = !opted_out, "phone code issued");
            Ok(())
        })
        .await
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
        let record_key = &verification_key(id)?;
        retry_on_conflict(|| async move {
            let now = self.clock.now();
            let record = self
                .store
                .record(record_key)
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
                    self.store.put_record(write).await?;
                }
                return Err(ServiceError::CodeRejected(rejected));
            }
            let conv = self.existing(id).await?;
            open_for_sms(&conv)?;
            let own = self.store.customer(&conv.customer_id).await?;
            let holder = self.store.customer_by_phone(&verification.phone).await?;
            let mut change = Change::of(conv, now);
            decide_contact(&mut change, own, holder, &verification.phone)?;
            // The code is used up: the record changes with the link, in one commit.
            let mut spent = verification;
            spent.wrong_attempts = MAX_ATTEMPTS;
            change.records.push(RecordWrite::next(
                record_key.clone(),
                Some(&record),
                &spent,
                record.expires_at,
            )?);
            let (commit, conv, _) = change.into_commit(None);
            match self.write(commit).await {
                Ok(()) => {}
                Err(StoreError::Duplicate) => return Err(ServiceError::Contended),
                Err(e) => return Err(e.into()),
            }
            tracing::info!("phone verified; conversation continues by SMS");
            Ok(conv)
        })
        .await
    }
}
