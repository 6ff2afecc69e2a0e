//! Photos on the local disk: one 0600 file per attachment in `<data>/attachments`,
//! uploaded through the API's own route (`PUT /v1/chat/uploads/{id}?key=…`) and read
//! through the authorized read routes. A file is written once and never overwritten,
//! so a replayed upload URL cannot change a photo.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use handoff_core::attachments::{
    Attachment, AttachmentId, AttachmentStore, AttachmentStoreError, Content, Probe,
};

pub struct DirAttachments {
    dir: PathBuf,
}

impl DirAttachments {
    /// The store in `dir` (created 0700 if missing).
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Ids are validated `a_<hex>`, so the path stays inside the directory.
    fn path(&self, id: &AttachmentId) -> PathBuf {
        self.dir.join(id.as_str())
    }
}

fn io(e: std::io::Error) -> AttachmentStoreError {
    AttachmentStoreError::Unavailable(e.to_string())
}

#[async_trait]
impl AttachmentStore for DirAttachments {
    async fn upload_url(&self, a: &Attachment) -> Result<String, AttachmentStoreError> {
        Ok(format!("/v1/chat/uploads/{}?key={}", a.id, a.upload_key))
    }

    async fn put(&self, id: &AttachmentId, bytes: &[u8]) -> Result<(), AttachmentStoreError> {
        let mut open = tokio::fs::OpenOptions::new();
        open.write(true).create_new(true);
        #[cfg(unix)]
        open.mode(0o600);
        let mut file = match open.open(self.path(id)).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(AttachmentStoreError::Exists)
            }
            Err(e) => return Err(io(e)),
        };
        let written = async {
            file.write_all(bytes).await?;
            file.sync_all().await
        }
        .await;
        if let Err(e) = written {
            // Nothing half-written stays behind.
            let _ = tokio::fs::remove_file(self.path(id)).await;
            return Err(io(e));
        }
        Ok(())
    }

    async fn probe(
        &self,
        id: &AttachmentId,
        n: usize,
    ) -> Result<Option<Probe>, AttachmentStoreError> {
        let mut file = match tokio::fs::File::open(self.path(id)).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let size = file.metadata().await.map_err(io)?.len();
        let mut head = Vec::with_capacity(n);
        (&mut file)
            .take(n as u64)
            .read_to_end(&mut head)
            .await
            .map_err(io)?;
        Ok(Some(Probe { size, head }))
    }

    async fn seal(&self, id: &AttachmentId) -> Result<(), AttachmentStoreError> {
        // Files are never overwritten: the upload already is the photo.
        match tokio::fs::try_exists(self.path(id)).await.map_err(io)? {
            true => Ok(()),
            false => Err(AttachmentStoreError::Unavailable(format!(
                "{id} is not stored"
            ))),
        }
    }

    async fn read(
        &self,
        id: &AttachmentId,
        _content_type: &str,
        _until: Timestamp,
    ) -> Result<Option<Content>, AttachmentStoreError> {
        match tokio::fs::read(self.path(id)).await {
            Ok(bytes) => Ok(Some(Content::Bytes(bytes))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete(&self, id: &AttachmentId) -> Result<(), AttachmentStoreError> {
        match tokio::fs::remove_file(self.path(id)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_core::contract::attachments::{run_attachment_contract, Transfer};
    use std::sync::Arc;

    /// Local uploads go through the API's route, which ends in `put`.
    struct Direct(Arc<DirAttachments>);

    #[async_trait]
    impl Transfer for Direct {
        async fn upload(
            &self,
            _url: &str,
            id: &AttachmentId,
            bytes: Vec<u8>,
        ) -> Result<(), String> {
            self.0.put(id, &bytes).await.map_err(|e| e.to_string())
        }
        async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
            Err(format!("a local store hands out no read URLs ({url})"))
        }
    }

    #[tokio::test]
    async fn in_memory_store_passes_the_attachment_contract() {
        use handoff_core::memory_attachments::MemoryAttachments;
        struct Mem(Arc<MemoryAttachments>);
        #[async_trait]
        impl Transfer for Mem {
            async fn upload(
                &self,
                _url: &str,
                id: &AttachmentId,
                bytes: Vec<u8>,
            ) -> Result<(), String> {
                self.0.put(id, &bytes).await.map_err(|e| e.to_string())
            }
            async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
                Err(format!("no read URLs in memory ({url})"))
            }
        }
        let store = Arc::new(MemoryAttachments::new());
        run_attachment_contract(store.clone(), &Mem(store)).await;
    }

    #[tokio::test]
    async fn local_directory_passes_the_attachment_contract() {
        let dir = crate::server::ScratchDir::new("handoff-attachments").expect("dir");
        let store = Arc::new(DirAttachments::open(&dir.0.join("attachments")).expect("open"));
        run_attachment_contract(store.clone(), &Direct(store.clone())).await;
        // Files are private to the server's user.
        let id = AttachmentId::generate();
        store.put(&id, b"x").await.expect("put");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.0.join("attachments").join(id.as_str()))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
