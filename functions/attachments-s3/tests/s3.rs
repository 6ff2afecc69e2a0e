//! The S3 attachment store against moto's S3 server: the attachment contract through
//! real presigned URLs, and S3's own refusal of a size other than the signed one.

use std::sync::Arc;

use async_trait::async_trait;
use handoff_core::attachments::{AttachmentId, AttachmentStore};
use handoff_core::contract::attachments::{attachment, png, run_attachment_contract, Transfer};
use handoff_dynamodb::testing;
use handoff_s3::S3Attachments;

async fn store() -> S3Attachments {
    let sdk = testing::moto().sdk_config().await;
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("photos-{}", uuid::Uuid::new_v4().simple());
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    S3Attachments::new(client, bucket)
}

/// A browser's PUT and GET, over plain HTTP.
struct Http(reqwest::Client);

#[async_trait]
impl Transfer for Http {
    async fn upload(&self, url: &str, _id: &AttachmentId, bytes: Vec<u8>) -> Result<(), String> {
        let r = self
            .0
            .put(url)
            .header("content-type", "image/png")
            .body(bytes)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match r.status().is_success() {
            true => Ok(()),
            false => Err(format!(
                "{}: {}",
                r.status(),
                r.text().await.unwrap_or_default()
            )),
        }
    }
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let r = self.0.get(url).send().await.map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(r.status().to_string());
        }
        Ok(r.bytes().await.map_err(|e| e.to_string())?.to_vec())
    }
}

#[tokio::test]
async fn s3_passes_the_attachment_contract() {
    let s3 = Arc::new(store().await);
    run_attachment_contract(s3, &Http(reqwest::Client::new())).await;
}

#[tokio::test]
async fn upload_urls_sign_the_size_and_expire() {
    let s3 = store().await;
    let a = attachment(100);
    let url = s3.upload_url(&a).await.expect("url");
    // S3 refuses a body of another size when Content-Length is signed (moto does not
    // check signatures, so the size is checked again when the photo is sent).
    let signed = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("X-Amz-SignedHeaders="))
        .expect("signed headers");
    assert!(signed.contains("content-length"), "{signed}");
    let expires: u64 = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("X-Amz-Expires="))
        .and_then(|v| v.parse().ok())
        .expect("expiry");
    assert!((1..=300).contains(&expires), "{expires}");
    assert!(url.contains(&format!("uploads/{}", a.id)), "{url}");
    let http = Http(reqwest::Client::new());
    http.upload(&url, &a.id, png(100, 3)).await.expect("upload");
    assert_eq!(
        s3.probe(&a.id, 8).await.expect("probe").map(|p| p.size),
        Some(100)
    );
    // Only the local store takes bytes through the API.
    assert!(s3.put(&a.id, b"x").await.is_err());
}
