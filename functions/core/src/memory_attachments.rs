//! Photos in memory: the attachment store of `handoff invoke` runs and of the domain's
//! tests, with the rules of the real ones (written once, sealed copy for readers).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::attachments::{
    Attachment, AttachmentId, AttachmentStore, AttachmentStoreError, Content, Probe,
};

#[derive(Default)]
pub struct MemoryAttachments {
    uploads: Mutex<HashMap<AttachmentId, Vec<u8>>>,
    photos: Mutex<HashMap<AttachmentId, Vec<u8>>>,
}

impl MemoryAttachments {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes as they would arrive at a presigned URL, with no check at all: what a
    /// client that bypasses the API's upload route can store.
    pub fn upload_unchecked(&self, id: &AttachmentId, bytes: &[u8]) {
        lock(&self.uploads).insert(id.clone(), bytes.to_vec());
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl AttachmentStore for MemoryAttachments {
    async fn upload_url(&self, a: &Attachment) -> Result<String, AttachmentStoreError> {
        Ok(format!("/v1/chat/uploads/{}?key={}", a.id, a.upload_key))
    }

    async fn put(&self, id: &AttachmentId, bytes: &[u8]) -> Result<(), AttachmentStoreError> {
        let mut uploads = lock(&self.uploads);
        if uploads.contains_key(id) {
            return Err(AttachmentStoreError::Exists);
        }
        uploads.insert(id.clone(), bytes.to_vec());
        Ok(())
    }

    async fn probe(
        &self,
        id: &AttachmentId,
        n: usize,
    ) -> Result<Option<Probe>, AttachmentStoreError> {
        Ok(lock(&self.uploads).get(id).map(|b| Probe {
            size: b.len() as u64,
            head: b[..b.len().min(n)].to_vec(),
        }))
    }

    async fn seal(&self, id: &AttachmentId) -> Result<(), AttachmentStoreError> {
        let bytes = lock(&self.uploads)
            .get(id)
            .cloned()
            .ok_or_else(|| AttachmentStoreError::Unavailable(format!("{id} is not stored")))?;
        lock(&self.photos).insert(id.clone(), bytes);
        Ok(())
    }

    async fn read(
        &self,
        id: &AttachmentId,
        _content_type: &str,
        _until: Timestamp,
    ) -> Result<Option<Content>, AttachmentStoreError> {
        Ok(lock(&self.photos).get(id).cloned().map(Content::Bytes))
    }

    async fn delete(&self, id: &AttachmentId) -> Result<(), AttachmentStoreError> {
        lock(&self.uploads).remove(id);
        lock(&self.photos).remove(id);
        Ok(())
    }
}
