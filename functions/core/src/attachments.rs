//! Photos from customers: what an attachment is, which bytes count as an image, and
//! the port of the object store that keeps them (a local directory, or S3).
//!
//! An attachment is a record (`photo:<id>` in the records port) that walks
//! `pending → uploaded → sent`: created with the declared type and size, its bytes
//! uploaded to the URL the store hands out, and finally sent in one customer message,
//! once. Its type is decided by the bytes (magic numbers), never by what was declared.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::ids::ConversationId;

/// Largest photo accepted, in bytes (10 MiB).
pub const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;
/// Bytes read from the start of an upload to tell its type.
pub const SNIFF_BYTES: usize = 64;
/// Photos one message may carry.
pub const MAX_PER_MESSAGE: usize = 5;

/// `a_` and 32 hex digits: random, so that ids cannot be guessed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AttachmentId(String);

impl AttachmentId {
    pub fn generate() -> Self {
        Self(format!("a_{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn parse(s: &str) -> Result<Self, InputError> {
        let ok = s.len() == 34
            && s.starts_with("a_")
            && s[2..]
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match ok {
            true => Ok(Self(s.to_string())),
            false => Err(InputError::new(
                "attachment_id",
                format!("attachment_id {s:?} is not an id this API issued"),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AttachmentId {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        Self::parse(&s)
    }
}

impl From<AttachmentId> for String {
    fn from(a: AttachmentId) -> String {
        a.0
    }
}

impl std::fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The image types a photo may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
    Heic,
}

impl ImageType {
    /// A declared `Content-Type` (parameters ignored), if it names an accepted image.
    pub fn from_declared(content_type: &str) -> Option<Self> {
        let t = content_type.split(';').next().unwrap_or("").trim();
        match t.to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/webp" => Some(Self::Webp),
            "image/heic" | "image/heif" => Some(Self::Heic),
            _ => None,
        }
    }

    /// What the bytes are, from their magic numbers; `None`: not an accepted image
    /// (whatever the file name or declared type said).
    pub fn sniff(head: &[u8]) -> Option<Self> {
        match infer::get(head)?.mime_type() {
            "image/jpeg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/webp" => Some(Self::Webp),
            "image/heif" | "image/heic" => Some(Self::Heic),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Heic => "image/heic",
        }
    }
}

/// A photo as a message carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: AttachmentId,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentState {
    /// Created; waiting for its bytes.
    Pending,
    /// Bytes received and checked (stores that take uploads through the API).
    Uploaded,
    /// In a message: readable, and never usable again.
    Sent,
}

/// The attachment's record (`photo:<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub conversation_id: ConversationId,
    /// What the customer declared; only a hint until the bytes are checked.
    pub declared_type: ImageType,
    pub size: u64,
    pub state: AttachmentState,
    /// The secret in a local upload URL (S3's presigned URLs carry their own).
    pub upload_key: String,
    pub created_at: Timestamp,
    pub upload_expires_at: Timestamp,
    /// The type the bytes are, once checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_seq: Option<u64>,
}

impl Attachment {
    pub fn as_ref(&self) -> AttachmentRef {
        AttachmentRef {
            id: self.id.clone(),
            content_type: self.image.unwrap_or(self.declared_type).mime().to_string(),
            size: self.size,
        }
    }
}

/// Why an attachment was refused; each names its status and code for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentRejected {
    #[error("only JPEG, PNG, WebP and HEIC photos are accepted{}", on(.0))]
    NotAnImage(Option<AttachmentId>),
    #[error("photos are limited to 10 MB (10485760 bytes){}", on(.0))]
    TooLarge(Option<AttachmentId>),
    #[error("size must be between 1 and 10485760 bytes")]
    BadSize,
    #[error("attachment {0} is not an attachment of this conversation")]
    NotFound(AttachmentId),
    #[error("attachment {0} was not uploaded yet")]
    NotUploaded(AttachmentId),
    #[error("attachment {0} was already sent")]
    AlreadyUsed(AttachmentId),
    #[error("attachment {0} was already uploaded; its upload URL cannot be used again")]
    AlreadyUploaded(AttachmentId),
    #[error("attachment {id} was declared as {declared} bytes but {actual} were sent")]
    SizeMismatch {
        id: AttachmentId,
        declared: u64,
        actual: u64,
    },
    #[error("this upload URL is not valid")]
    UploadForbidden,
    #[error("this upload URL has expired; create a new attachment")]
    UploadExpired,
    #[error("attachment_ids: 1 to 5 distinct photos per message")]
    TooMany,
    #[error("a photo can only be added to an open conversation")]
    ConversationClosed,
    #[error("photos are not available here")]
    Unavailable,
}

fn on(id: &Option<AttachmentId>) -> String {
    id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default()
}

impl AttachmentRejected {
    pub fn status(&self) -> u16 {
        match self {
            Self::NotAnImage(_) => 415,
            Self::TooLarge(_) => 413,
            Self::NotFound(_) | Self::Unavailable => 404,
            Self::AlreadyUsed(_) | Self::AlreadyUploaded(_) | Self::ConversationClosed => 409,
            Self::UploadForbidden => 403,
            Self::UploadExpired => 410,
            Self::BadSize | Self::NotUploaded(_) | Self::SizeMismatch { .. } | Self::TooMany => 400,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnImage(_) => "unsupported_media_type",
            Self::TooLarge(_) => "too_large",
            Self::BadSize => "invalid_size",
            Self::NotFound(_) => "attachment_not_found",
            Self::NotUploaded(_) => "attachment_not_uploaded",
            Self::AlreadyUsed(_) => "attachment_already_used",
            Self::AlreadyUploaded(_) => "already_uploaded",
            Self::SizeMismatch { .. } => "size_mismatch",
            Self::UploadForbidden => "upload_forbidden",
            Self::UploadExpired => "upload_expired",
            Self::TooMany => "too_many_attachments",
            Self::ConversationClosed => "conversation_closed",
            Self::Unavailable => "not_found",
        }
    }

    /// The attachment the error is about, if one.
    pub fn attachment_id(&self) -> Option<&AttachmentId> {
        match self {
            Self::NotAnImage(id) | Self::TooLarge(id) => id.as_ref(),
            Self::NotFound(id)
            | Self::NotUploaded(id)
            | Self::AlreadyUsed(id)
            | Self::AlreadyUploaded(id)
            | Self::SizeMismatch { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// Failures of an attachment store.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentStoreError {
    /// This store does not do that (uploads through the API to S3).
    #[error("not supported by this attachment store")]
    Unsupported,
    /// `put` of an attachment already stored: uploads never overwrite.
    #[error("already stored")]
    Exists,
    #[error("attachment store unavailable: {0}")]
    Unavailable(String),
}

/// What the store holds for an attachment: its size and first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub size: u64,
    pub head: Vec<u8>,
}

/// How a reader gets a photo: the bytes here, or a short-lived URL to fetch them from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Bytes(Vec<u8>),
    Url(String),
}

/// Where photos are kept. Every implementation passes the same contract
/// (`contract::attachments`): the local directory of `handoff serve` and S3.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// The URL the customer PUTs exactly `attachment.size` bytes to, valid until
    /// `attachment.upload_expires_at`. Relative URLs are under the API's base.
    async fn upload_url(&self, attachment: &Attachment) -> Result<String, AttachmentStoreError>;
    /// Keeps uploaded bytes; only stores whose upload URL is the API's own route
    /// (the local directory) take them, others answer `Unsupported`. Never overwrites.
    async fn put(&self, id: &AttachmentId, bytes: &[u8]) -> Result<(), AttachmentStoreError>;
    /// The upload's size and its first `n` bytes; `None` when nothing was uploaded.
    async fn probe(
        &self,
        id: &AttachmentId,
        n: usize,
    ) -> Result<Option<Probe>, AttachmentStoreError>;
    /// Makes the checked upload the photo readers get; later writes to the upload
    /// URL (a replay) cannot change it.
    async fn seal(&self, id: &AttachmentId) -> Result<(), AttachmentStoreError>;
    /// The sealed photo, as bytes or a URL valid until `until`; `None` if absent.
    async fn read(
        &self,
        id: &AttachmentId,
        content_type: &str,
        until: Timestamp,
    ) -> Result<Option<Content>, AttachmentStoreError>;
    /// Removes the upload and the photo, if any.
    async fn delete(&self, id: &AttachmentId) -> Result<(), AttachmentStoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0";
    const HEIC: &[u8] = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";

    #[test]
    fn the_bytes_decide_the_type_not_the_declaration() {
        assert_eq!(ImageType::sniff(PNG), Some(ImageType::Png));
        assert_eq!(ImageType::sniff(JPEG), Some(ImageType::Jpeg));
        assert_eq!(ImageType::sniff(WEBP), Some(ImageType::Webp));
        assert_eq!(ImageType::sniff(HEIC), Some(ImageType::Heic));
        assert_eq!(ImageType::sniff(b"%PDF-1.7\n"), None);
        assert_eq!(
            ImageType::sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            None
        );
        assert_eq!(ImageType::sniff(b"GIF89a\x01\0\x01\0"), None);
        assert_eq!(ImageType::sniff(b"MZ\x90\0"), None);
        assert_eq!(ImageType::sniff(b""), None);
        assert_eq!(
            ImageType::from_declared("image/PNG; q=1"),
            Some(ImageType::Png)
        );
        assert_eq!(ImageType::from_declared("image/svg+xml"), None);
        assert_eq!(ImageType::from_declared("text/html"), None);
    }

    #[test]
    fn ids_are_only_ours() {
        let id = AttachmentId::generate();
        assert_eq!(AttachmentId::parse(id.as_str()), Ok(id));
        for bad in [
            "",
            "a_",
            "a_../../etc/passwd",
            &format!("a_{}", "G".repeat(32)),
        ] {
            assert!(AttachmentId::parse(bad).is_err(), "{bad}");
        }
        let e = AttachmentId::parse("x").unwrap_err();
        assert!(e.message.contains("\"x\""));
    }

    #[test]
    fn every_rejection_names_a_client_error() {
        let id = AttachmentId::generate();
        for r in [
            AttachmentRejected::NotAnImage(Some(id.clone())),
            AttachmentRejected::TooLarge(None),
            AttachmentRejected::NotFound(id.clone()),
            AttachmentRejected::AlreadyUsed(id.clone()),
            AttachmentRejected::UploadExpired,
        ] {
            assert!((400..500).contains(&r.status()), "{r}");
        }
        let e = AttachmentRejected::NotUploaded(id.clone());
        assert!(e.to_string().contains(id.as_str()));
        assert_eq!(e.attachment_id(), Some(&id));
    }
}
