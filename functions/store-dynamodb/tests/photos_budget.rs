//! What photos cost in DynamoDB requests (moto counts them as DynamoDB bills them):
//! `cargo test -p handoff-dynamodb --test photos_budget -- --nocapture`. The bytes go to
//! the in-memory attachment store here; S3's requests are counted in the README.

use std::sync::Arc;

use handoff_core::memory_attachments::MemoryAttachments;
use handoff_core::model::Status;
use handoff_core::ports::SystemClock;
use handoff_core::service::Photos;
use handoff_dynamodb::testing;

#[tokio::test]
async fn request_budget_of_photos() {
    let (store, _) = testing::store().await;
    let store = Arc::new(store);
    let service = testing::service(store.clone(), Arc::new(SystemClock));
    let photos = Photos::new(Arc::new(MemoryAttachments::new()), 30);
    let r = service
        .receive(testing::web(None, "상담원 연결해 주세요", "ph-1"))
        .await
        .expect("handoff");
    assert_eq!(r.conversation.status, Status::Queued);
    let conv = r.conversation.id;
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(2048, 7);

    store.reset_request_counts();
    let (a, _) = service
        .create_attachment(&photos, &conv, "image/png", 2048)
        .await
        .expect("create");
    let create = store.request_counts();

    store.reset_request_counts();
    service
        .upload_attachment(&photos, &a.id, &a.upload_key, &bytes)
        .await
        .expect("upload");
    let upload = store.request_counts();

    store.reset_request_counts();
    service
        .send_photos(&photos, &conv, std::slice::from_ref(&a.id), None)
        .await
        .expect("send");
    let send = store.request_counts();

    store.reset_request_counts();
    service
        .read_attachment(&photos, &conv, &a.id)
        .await
        .expect("read");
    let read = store.request_counts();

    println!("DynamoDB requests of photos (moto):");
    println!("  attachment created:                 {create}");
    println!("  uploaded (local upload route):      {upload}");
    println!("  sent in a message (1 photo):        {send}");
    println!("  read by customer or agent:          {read}");
    // Creating: the conversation, the hourly counter, the record; no transaction.
    assert_eq!(
        (create.reads(), create.get("TransactWriteItems")),
        (1, 0),
        "{create}"
    );
    // Sending: one transaction writes the message, the conversation and the spent record.
    assert_eq!(send.get("TransactWriteItems"), 1, "{send}");
    assert_eq!(read.reads(), 1, "{read}");
}
