//! Customers' photos in S3. The customer PUTs the bytes straight to a presigned URL
//! (`uploads/<id>`, its exact size signed); when the message that names the photo is
//! sent, its first bytes are read back and checked, and the checked upload is copied
//! to `photos/<id>`, which is all readers ever get (by a presigned GET). A replayed
//! upload URL can only rewrite `uploads/<id>`, which the bucket's lifecycle rule
//! removes after a day; `photos/` expires with the retention setting.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::Client;
use jiff::Timestamp;

use handoff_core::attachments::{
    Attachment, AttachmentId, AttachmentStore, AttachmentStoreError, Content, Probe,
};

pub use aws_sdk_s3::Config;

/// The variable naming the bucket (set by the SAM template for chat-api and agent-api).
pub const BUCKET_VAR: &str = "HANDOFF_PHOTOS_BUCKET";

pub struct S3Attachments {
    client: Client,
    bucket: String,
}

fn upload_key(id: &AttachmentId) -> String {
    format!("uploads/{id}")
}

fn photo_key(id: &AttachmentId) -> String {
    format!("photos/{id}")
}

fn unavailable<E: ProvideErrorMetadata + std::fmt::Debug>(e: SdkError<E>) -> AttachmentStoreError {
    let detail = match e.as_service_error() {
        Some(s) => format!("{}: {}", s.code().unwrap_or("?"), s.message().unwrap_or("")),
        None => format!("{e:?}"),
    };
    AttachmentStoreError::Unavailable(detail)
}

/// Whether the error says the object is not there.
fn missing<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    let status = e.raw_response().map(|r| r.status().as_u16());
    status == Some(404)
        || e.as_service_error()
            .and_then(|s| s.code())
            .is_some_and(|c| matches!(c, "NoSuchKey" | "NotFound"))
}

/// Seconds from now until `t`, at least one.
fn until(t: Timestamp) -> Duration {
    let secs = (t.as_second() - Timestamp::now().as_second()).max(1);
    Duration::from_secs(secs as u64)
}

impl S3Attachments {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// The store of the bucket named by [`BUCKET_VAR`], if set.
    pub fn from_env(config: impl Into<aws_sdk_s3::Config>) -> Option<Self> {
        let bucket = std::env::var(BUCKET_VAR)
            .ok()
            .filter(|b| !b.trim().is_empty())?;
        Some(Self::new(Client::from_conf(config.into()), bucket))
    }

    fn presigning(t: Timestamp) -> Result<PresigningConfig, AttachmentStoreError> {
        PresigningConfig::expires_in(until(t))
            .map_err(|e| AttachmentStoreError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl AttachmentStore for S3Attachments {
    async fn upload_url(&self, a: &Attachment) -> Result<String, AttachmentStoreError> {
        // The signed Content-Length makes S3 refuse any other size.
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(upload_key(&a.id))
            .content_length(a.size as i64)
            .presigned(Self::presigning(a.upload_expires_at)?)
            .await
            .map_err(unavailable)?;
        Ok(req.uri().to_string())
    }

    async fn put(&self, _id: &AttachmentId, _bytes: &[u8]) -> Result<(), AttachmentStoreError> {
        Err(AttachmentStoreError::Unsupported)
    }

    async fn probe(
        &self,
        id: &AttachmentId,
        n: usize,
    ) -> Result<Option<Probe>, AttachmentStoreError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(upload_key(id))
            .range(format!("bytes=0-{}", n.max(1) - 1))
            .send()
            .await;
        let out = match got {
            Ok(o) => o,
            Err(e) if missing(&e) => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        };
        // "bytes 0-63/12345": the total is the object's size.
        let size = out
            .content_range()
            .and_then(|r| r.rsplit('/').next())
            .and_then(|t| t.parse::<u64>().ok())
            .or_else(|| out.content_length().map(|l| l.max(0) as u64))
            .unwrap_or(0);
        let head = out
            .body
            .collect()
            .await
            .map_err(|e| AttachmentStoreError::Unavailable(e.to_string()))?
            .into_bytes();
        let head = head[..head.len().min(n)].to_vec();
        Ok(Some(Probe { size, head }))
    }

    async fn seal(&self, id: &AttachmentId) -> Result<(), AttachmentStoreError> {
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{}", self.bucket, upload_key(id)))
            .key(photo_key(id))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn read(
        &self,
        id: &AttachmentId,
        content_type: &str,
        until: Timestamp,
    ) -> Result<Option<Content>, AttachmentStoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(photo_key(id))
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if missing(&e) => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        }
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(photo_key(id))
            .response_content_type(content_type)
            .response_content_disposition("inline")
            .presigned(Self::presigning(until)?)
            .await
            .map_err(unavailable)?;
        Ok(Some(Content::Url(req.uri().to_string())))
    }

    async fn delete(&self, id: &AttachmentId) -> Result<(), AttachmentStoreError> {
        for key in [upload_key(id), photo_key(id)] {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }
}
