//! Photos on the use cases, with a clock: upload URLs expire, bytes that reach the
//! store without the API's check (a presigned S3 PUT) are checked when sent and
//! deleted when they are not an image, closed conversations take no photos, and the
//! attachment is spent in the same commit as its message.

mod common;

use std::sync::Arc;

use handoff_core::attachments::{AttachmentRejected, AttachmentState, AttachmentStore};
use handoff_core::memory_attachments::MemoryAttachments;
use handoff_core::records::{RecordKey, RecordStore};
use handoff_core::service::Photos;
use handoff_core::ServiceError;

use common::*;

fn png(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.resize(len, 1);
    v
}

fn rejected(r: Result<impl std::fmt::Debug, ServiceError>) -> AttachmentRejected {
    match r {
        Err(ServiceError::Attachment(a)) => a,
        other => panic!("expected an attachment rejection, got {other:?}"),
    }
}

async fn queued(h: &Harness) -> handoff_core::ids::ConversationId {
    let r = h
        .service
        .receive(web(None, "상담원 연결해 주세요"))
        .await
        .unwrap();
    r.conversation.id
}

#[tokio::test]
async fn upload_urls_expire_and_work_once() {
    let h = harness();
    let mem = Arc::new(MemoryAttachments::new());
    let photos = Photos::new(mem.clone(), 30);
    let conv = queued(&h).await;
    let (a, url) = h
        .service
        .create_attachment(&photos, &conv, "image/png", 100)
        .await
        .unwrap();
    assert!(url.contains(a.id.as_str()) && url.contains(&a.upload_key));
    h.clock.advance(jiff::SignedDuration::from_mins(6));
    let r = h
        .service
        .upload_attachment(&photos, &a.id, &a.upload_key, &png(100))
        .await;
    assert_eq!(rejected(r), AttachmentRejected::UploadExpired);

    let (b, _) = h
        .service
        .create_attachment(&photos, &conv, "image/png", 100)
        .await
        .unwrap();
    let wrong = h
        .service
        .upload_attachment(&photos, &b.id, &a.upload_key, &png(100))
        .await;
    assert_eq!(rejected(wrong), AttachmentRejected::UploadForbidden);
    h.service
        .upload_attachment(&photos, &b.id, &b.upload_key, &png(100))
        .await
        .unwrap();
    let again = h
        .service
        .upload_attachment(&photos, &b.id, &b.upload_key, &png(100))
        .await;
    assert_eq!(
        rejected(again),
        AttachmentRejected::AlreadyUploaded(b.id.clone())
    );
}

#[tokio::test]
async fn bytes_are_checked_when_sent_and_a_non_image_is_deleted() {
    let h = harness();
    let mem = Arc::new(MemoryAttachments::new());
    let photos = Photos::new(mem.clone(), 30);
    let conv = queued(&h).await;
    // As with a presigned S3 PUT, the bytes arrive without the API seeing them.
    let (pdf, _) = h
        .service
        .create_attachment(&photos, &conv, "image/png", 9)
        .await
        .unwrap();
    mem.upload_unchecked(&pdf.id, b"%PDF-1.7\n");
    let r = h
        .service
        .send_photos(&photos, &conv, std::slice::from_ref(&pdf.id), None)
        .await;
    assert_eq!(
        rejected(r),
        AttachmentRejected::NotAnImage(Some(pdf.id.clone()))
    );
    assert_eq!(
        mem.probe(&pdf.id, 8).await.unwrap(),
        None,
        "the non-image was deleted"
    );

    let (big, _) = h
        .service
        .create_attachment(&photos, &conv, "image/png", 10)
        .await
        .unwrap();
    mem.upload_unchecked(&big.id, &png(11));
    let r = h
        .service
        .send_photos(&photos, &conv, std::slice::from_ref(&big.id), None)
        .await;
    assert!(matches!(
        rejected(r),
        AttachmentRejected::SizeMismatch { actual: 11, .. }
    ));

    let (ok, _) = h
        .service
        .create_attachment(&photos, &conv, "image/webp", 40)
        .await
        .unwrap();
    mem.upload_unchecked(&ok.id, &png(40));
    let (c, message, queue) = h
        .service
        .send_photos(&photos, &conv, std::slice::from_ref(&ok.id), None)
        .await
        .unwrap();
    // Declared WebP, sent PNG: the bytes decide.
    assert_eq!(message.attachments[0].content_type, "image/png");
    assert_eq!(message.text, "");
    assert!(
        queue.is_some(),
        "still waiting: the customer sees their place"
    );
    // The attachment was spent in the same commit as the message.
    let record = h
        .store
        .record(&RecordKey::new("photo", ok.id.as_str()).unwrap())
        .await
        .unwrap()
        .unwrap();
    let a: handoff_core::attachments::Attachment = record.decode().unwrap();
    assert_eq!(
        (a.state, a.message_seq),
        (AttachmentState::Sent, Some(c.last_seq))
    );
    let (_, content) = h
        .service
        .read_attachment(&photos, &conv, &ok.id)
        .await
        .unwrap();
    assert_eq!(content, handoff_core::attachments::Content::Bytes(png(40)));
    // A replay of the upload after sending cannot change what readers get.
    mem.upload_unchecked(&ok.id, &png(40).iter().map(|b| b ^ 1).collect::<Vec<_>>());
    let (_, content) = h
        .service
        .read_attachment(&photos, &conv, &ok.id)
        .await
        .unwrap();
    assert_eq!(content, handoff_core::attachments::Content::Bytes(png(40)));
}

#[tokio::test]
async fn closed_conversations_take_no_photos_and_unsent_ones_cannot_be_read() {
    let h = harness();
    let mem = Arc::new(MemoryAttachments::new());
    let photos = Photos::new(mem.clone(), 0);
    let conv = queued(&h).await;
    let (a, _) = h
        .service
        .create_attachment(&photos, &conv, "image/jpeg", 20)
        .await
        .unwrap();
    let r = h.service.read_attachment(&photos, &conv, &a.id).await;
    assert_eq!(rejected(r), AttachmentRejected::NotFound(a.id.clone()));
    let other = queued(&h).await;
    let r = h
        .service
        .send_photos(&photos, &other, std::slice::from_ref(&a.id), None)
        .await;
    assert_eq!(rejected(r), AttachmentRejected::NotFound(a.id.clone()));

    let agent = agent("agent-a");
    h.service.claim(&agent, &conv).await.unwrap();
    h.service.resolve(&agent, &conv).await.unwrap();
    let r = h
        .service
        .create_attachment(&photos, &conv, "image/jpeg", 20)
        .await;
    assert_eq!(rejected(r), AttachmentRejected::ConversationClosed);
}
