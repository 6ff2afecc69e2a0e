//! The attachment-store contract: the local directory and S3 (against moto) pass the
//! same checks. Uploads go through a [`Transfer`], as a browser's would: to the
//! store's own `put` for the local directory, an HTTP PUT to the presigned URL for S3.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::attachments::{
    Attachment, AttachmentId, AttachmentState, AttachmentStore, Content, ImageType,
};
use crate::ids::ConversationId;

/// How the test moves bytes to an upload URL and from a read URL.
#[async_trait]
pub trait Transfer: Send + Sync {
    async fn upload(&self, url: &str, id: &AttachmentId, bytes: Vec<u8>) -> Result<(), String>;
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String>;
}

/// A PNG signature followed by `len - 8` filler bytes.
pub fn png(len: usize, fill: u8) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.resize(len.max(v.len()), fill);
    v
}

pub fn attachment(size: u64) -> Attachment {
    let now = Timestamp::now();
    Attachment {
        id: AttachmentId::generate(),
        conversation_id: ConversationId::parse("c_contract").unwrap_or_else(|_| unreachable!()),
        declared_type: ImageType::Png,
        size,
        state: AttachmentState::Pending,
        upload_key: uuid::Uuid::new_v4().simple().to_string(),
        created_at: now,
        upload_expires_at: now
            .checked_add(jiff::SignedDuration::from_mins(5))
            .unwrap_or(now),
        image: None,
        message_seq: None,
    }
}

async fn read_bytes(
    store: &dyn AttachmentStore,
    transfer: &dyn Transfer,
    id: &AttachmentId,
) -> Option<Vec<u8>> {
    let until = Timestamp::now()
        .checked_add(jiff::SignedDuration::from_mins(5))
        .unwrap_or_else(|_| Timestamp::now());
    match store.read(id, "image/png", until).await.expect("read") {
        None => None,
        Some(Content::Bytes(b)) => Some(b),
        Some(Content::Url(url)) => Some(transfer.fetch(&url).await.expect("fetch the read URL")),
    }
}

/// Every check, in order; panics naming the rule that broke.
pub async fn run_attachment_contract(store: Arc<dyn AttachmentStore>, transfer: &dyn Transfer) {
    let s = store.as_ref();
    // Nothing uploaded: nothing to probe or read, and delete is harmless.
    let a = attachment(300);
    assert_eq!(
        s.probe(&a.id, 64).await.expect("probe"),
        None,
        "probe of nothing"
    );
    assert_eq!(
        read_bytes(s, transfer, &a.id).await,
        None,
        "read of nothing"
    );
    s.delete(&a.id).await.expect("delete of nothing is fine");

    // Uploaded: the probe sees the size and the first bytes.
    let bytes = png(300, 7);
    let url = s.upload_url(&a).await.expect("upload url");
    assert!(
        url.contains(a.id.as_str()),
        "the upload URL names the attachment"
    );
    transfer
        .upload(&url, &a.id, bytes.clone())
        .await
        .expect("upload");
    let probe = s.probe(&a.id, 16).await.expect("probe").expect("uploaded");
    assert_eq!(probe.size, 300, "probe size");
    assert_eq!(probe.head, bytes[..16].to_vec(), "probe head");
    assert_eq!(ImageType::sniff(&probe.head), Some(ImageType::Png));

    // Sealed: readers get exactly the bytes, and a replayed upload changes nothing.
    s.seal(&a.id).await.expect("seal");
    assert_eq!(
        read_bytes(s, transfer, &a.id).await,
        Some(bytes.clone()),
        "read after seal"
    );
    let _ = transfer.upload(&url, &a.id, png(300, 9)).await;
    assert_eq!(
        read_bytes(s, transfer, &a.id).await,
        Some(bytes),
        "a replayed upload changed the photo"
    );

    // Deleted: gone for probe and read.
    s.delete(&a.id).await.expect("delete");
    assert_eq!(
        s.probe(&a.id, 16).await.expect("probe"),
        None,
        "probe after delete"
    );
    assert_eq!(
        read_bytes(s, transfer, &a.id).await,
        None,
        "read after delete"
    );

    // Another attachment's upload is its own.
    let b = attachment(40);
    let url_b = s.upload_url(&b).await.expect("url");
    transfer
        .upload(&url_b, &b.id, png(40, 1))
        .await
        .expect("upload b");
    assert_eq!(s.probe(&a.id, 8).await.expect("probe"), None, "a is not b");
    s.delete(&b.id).await.expect("delete b");
}
