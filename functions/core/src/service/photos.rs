//! Photos from customers: create an attachment, take its bytes (stores that upload
//! through the API), send it in a message, read it. The attachment's state lives in
//! the records port (`photo:<id>`); sending writes the message and the spent
//! attachments in one commit, so a photo is in exactly one message.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use subtle::ConstantTimeEq;

use crate::attachments::{
    Attachment, AttachmentId, AttachmentRejected, AttachmentState, AttachmentStore,
    AttachmentStoreError, Content, ImageType, MAX_ATTACHMENT_BYTES, MAX_PER_MESSAGE, SNIFF_BYTES,
};
use crate::error::{ServiceError, StoreError};
use crate::ids::ConversationId;
use crate::model::{Channel, Conversation, Message, MessageText, Role, Status};
use crate::records::{Count, Record, RecordKey, RecordWrite};

use super::change::Change;
use super::queue::QueueInfo;
use super::{retry_on_conflict, HandoffService};

/// The attachment store and how long what it holds lives.
#[derive(Clone)]
pub struct Photos {
    pub store: Arc<dyn AttachmentStore>,
    /// Days a sent photo's record is kept (0: as long as the conversation store keeps
    /// records); the S3 bucket's lifecycle rule expires the bytes after the same days.
    pub retention_days: u32,
    /// How long an upload URL works.
    pub upload_ttl: SignedDuration,
    /// Attachments a conversation may create per hour.
    pub per_conversation_per_hour: u32,
}

impl Photos {
    pub fn new(store: Arc<dyn AttachmentStore>, retention_days: u32) -> Self {
        Self {
            store,
            retention_days,
            upload_ttl: SignedDuration::from_mins(5),
            per_conversation_per_hour: 30,
        }
    }
}

fn key(id: &AttachmentId) -> Result<RecordKey, ServiceError> {
    Ok(RecordKey::new("photo", id.as_str())?)
}

fn unavailable(e: AttachmentStoreError) -> ServiceError {
    match e {
        AttachmentStoreError::Unsupported => AttachmentRejected::Unavailable.into(),
        AttachmentStoreError::Exists => StoreError::Conflict("attachment exists".into()).into(),
        AttachmentStoreError::Unavailable(m) => StoreError::Unavailable(m).into(),
    }
}

impl HandoffService {
    async fn attachment(
        &self,
        id: &AttachmentId,
    ) -> Result<Option<(Record, Attachment)>, ServiceError> {
        match self.store.record(&key(id)?).await? {
            Some(r) => {
                let a = r.decode::<Attachment>()?;
                Ok(Some((r, a)))
            }
            None => Ok(None),
        }
    }

    /// The attachment if it belongs to `conversation`; any other (unknown, another
    /// conversation's) is the same "not found", so ids cannot be probed.
    async fn attachment_of(
        &self,
        conversation: &ConversationId,
        id: &AttachmentId,
    ) -> Result<(Record, Attachment), ServiceError> {
        match self.attachment(id).await? {
            Some((r, a)) if &a.conversation_id == conversation => Ok((r, a)),
            _ => Err(AttachmentRejected::NotFound(id.clone()).into()),
        }
    }

    fn record_expiry(&self, photos: &Photos, now: Timestamp) -> Option<Timestamp> {
        (photos.retention_days > 0)
            .then(|| {
                now.checked_add(SignedDuration::from_hours(
                    24 * photos.retention_days as i64,
                ))
            })
            .and_then(Result::ok)
    }

    /// A new attachment of an open conversation, and the URL to PUT its bytes to.
    pub async fn create_attachment(
        &self,
        photos: &Photos,
        conversation: &ConversationId,
        content_type: &str,
        size: u64,
    ) -> Result<(Attachment, String), ServiceError> {
        let declared =
            ImageType::from_declared(content_type).ok_or(AttachmentRejected::NotAnImage(None))?;
        if size == 0 {
            return Err(AttachmentRejected::BadSize.into());
        }
        if size > MAX_ATTACHMENT_BYTES {
            return Err(AttachmentRejected::TooLarge(None).into());
        }
        let conv = self.existing(conversation).await?;
        if conv.status == Status::Resolved {
            return Err(AttachmentRejected::ConversationClosed.into());
        }
        let now = self.clock.now();
        let (counter, until, retry_after_secs) = crate::limits::window_counter(
            "photo",
            SignedDuration::from_hours(1),
            conversation.as_str(),
            now,
        )?;
        // `HANDOFF_RATE_LIMITS=off` switches this limit off with the others.
        if self.settings.rate_limits.is_on()
            && self
                .store
                .count(&counter, photos.per_conversation_per_hour, until)
                .await?
                == Count::OverLimit
        {
            return Err(ServiceError::RateLimited { retry_after_secs });
        }
        let expires = now
            .checked_add(photos.upload_ttl)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let attachment = Attachment {
            id: AttachmentId::generate(),
            conversation_id: conversation.clone(),
            declared_type: declared,
            size,
            state: AttachmentState::Pending,
            upload_key: uuid::Uuid::new_v4().simple().to_string(),
            created_at: now,
            upload_expires_at: expires,
            image: None,
            message_seq: None,
        };
        // An attachment never sent is forgotten a day after its URL expired.
        let forget = expires.checked_add(SignedDuration::from_hours(24)).ok();
        let write = RecordWrite::next(key(&attachment.id)?, None, &attachment, forget)?;
        self.store.put_record(write).await?;
        let url = photos
            .store
            .upload_url(&attachment)
            .await
            .map_err(unavailable)?;
        tracing::info!(conversation_id = %conversation, attachment_id = %attachment.id, "attachment created");
        Ok((attachment, url))
    }

    /// The bytes PUT to a local upload URL: checked (key, expiry, once, size, image)
    /// before anything is kept.
    pub async fn upload_attachment(
        &self,
        photos: &Photos,
        id: &AttachmentId,
        upload_key: &str,
        bytes: &[u8],
    ) -> Result<Attachment, ServiceError> {
        let Some((record, mut a)) = self.attachment(id).await? else {
            return Err(AttachmentRejected::UploadForbidden.into());
        };
        if !bool::from(a.upload_key.as_bytes().ct_eq(upload_key.as_bytes())) {
            return Err(AttachmentRejected::UploadForbidden.into());
        }
        if a.state != AttachmentState::Pending {
            return Err(AttachmentRejected::AlreadyUploaded(id.clone()).into());
        }
        if self.clock.now() >= a.upload_expires_at {
            return Err(AttachmentRejected::UploadExpired.into());
        }
        check_bytes(&a, bytes.len() as u64)?;
        let image =
            ImageType::sniff(bytes).ok_or(AttachmentRejected::NotAnImage(Some(id.clone())))?;
        photos.store.put(id, bytes).await.map_err(|e| match e {
            AttachmentStoreError::Exists => AttachmentRejected::AlreadyUploaded(id.clone()).into(),
            e => unavailable(e),
        })?;
        a.state = AttachmentState::Uploaded;
        a.image = Some(image);
        let write = RecordWrite::next(record.key.clone(), Some(&record), &a, record.expires_at)?;
        match self.store.put_record(write).await {
            Ok(()) => Ok(a),
            Err(StoreError::Conflict(_)) => {
                Err(AttachmentRejected::AlreadyUploaded(id.clone()).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A customer message carrying these photos (and a caption, if any). Each is
    /// checked by its bytes first: one that is not an image is deleted and refused.
    /// The bot does not read photos; the agent sees them in the packet.
    pub async fn send_photos(
        &self,
        photos: &Photos,
        conversation: &ConversationId,
        ids: &[AttachmentId],
        caption: Option<MessageText>,
    ) -> Result<(Conversation, Message, Option<QueueInfo>), ServiceError> {
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        if ids.is_empty() || unique.len() != ids.len() || ids.len() > MAX_PER_MESSAGE {
            return Err(AttachmentRejected::TooMany.into());
        }
        // First the bytes: every photo must be there and be an image.
        let mut images = Vec::with_capacity(ids.len());
        for id in ids {
            let (_, a) = self.attachment_of(conversation, id).await?;
            if a.state == AttachmentState::Sent {
                return Err(AttachmentRejected::AlreadyUsed(id.clone()).into());
            }
            let probe = photos
                .store
                .probe(id, SNIFF_BYTES)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| AttachmentRejected::NotUploaded(id.clone()))?;
            let checked = check_bytes(&a, probe.size).and_then(|()| {
                ImageType::sniff(&probe.head)
                    .ok_or_else(|| AttachmentRejected::NotAnImage(Some(id.clone())).into())
            });
            match checked {
                Ok(image) => images.push(image),
                Err(e) => {
                    tracing::warn!(attachment_id = %id, "upload refused and deleted");
                    photos.store.delete(id).await.map_err(unavailable)?;
                    return Err(e);
                }
            }
            photos.store.seal(id).await.map_err(unavailable)?;
        }
        let caption = caption
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default();
        let (conv, message) = retry_on_conflict(|| async {
            let conv = self.existing(conversation).await?;
            if conv.status == Status::Resolved {
                return Err(AttachmentRejected::ConversationClosed.into());
            }
            let now = self.clock.now();
            let mut change = Change::of(conv, now);
            let mut writes = Vec::new();
            let mut refs = Vec::new();
            let seq = change.conv.last_seq + 1;
            for (id, image) in ids.iter().zip(&images) {
                let (record, mut a) = self.attachment_of(conversation, id).await?;
                if a.state == AttachmentState::Sent {
                    return Err(AttachmentRejected::AlreadyUsed(id.clone()).into());
                }
                a.image = Some(*image);
                a.state = AttachmentState::Sent;
                a.message_seq = Some(seq);
                refs.push(a.as_ref());
                let expires = self.record_expiry(photos, now);
                writes.push(RecordWrite::next(
                    record.key.clone(),
                    Some(&record),
                    &a,
                    expires,
                )?);
            }
            let channel = Channel::Web;
            change.conv.note_channel(channel);
            change
                .push(Role::Customer, caption.clone(), channel)
                .attachments = refs;
            change.records.extend(writes);
            let (commit, conv, mut messages) = change.into_commit(None);
            self.write(commit).await?;
            let message = messages
                .pop()
                .ok_or_else(|| ServiceError::Internal("a photo message was not made".into()))?;
            Ok((conv, message))
        })
        .await?;
        tracing::info!(conversation_id = %conv.id, photos = ids.len(), "photos sent");
        let queue = self.queue_if_waiting(&conv).await?;
        Ok((conv, message, queue))
    }

    /// A sent photo of `conversation`, for its customer or an agent (the caller has
    /// checked which).
    pub async fn read_attachment(
        &self,
        photos: &Photos,
        conversation: &ConversationId,
        id: &AttachmentId,
    ) -> Result<(Attachment, Content), ServiceError> {
        let (_, a) = self.attachment_of(conversation, id).await?;
        if a.state != AttachmentState::Sent {
            return Err(AttachmentRejected::NotFound(id.clone()).into());
        }
        let until = self
            .clock
            .now()
            .checked_add(SignedDuration::from_mins(5))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mime = a.as_ref().content_type;
        let content = photos
            .store
            .read(id, &mime, until)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| AttachmentRejected::NotFound(id.clone()))?;
        Ok((a, content))
    }
}

/// The actual size against the limit and the declared size.
fn check_bytes(a: &Attachment, actual: u64) -> Result<(), ServiceError> {
    if actual > MAX_ATTACHMENT_BYTES {
        return Err(AttachmentRejected::TooLarge(Some(a.id.clone())).into());
    }
    if actual != a.size {
        return Err(AttachmentRejected::SizeMismatch {
            id: a.id.clone(),
            declared: a.size,
            actual,
        }
        .into());
    }
    Ok(())
}
