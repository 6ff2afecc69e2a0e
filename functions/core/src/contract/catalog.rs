//! Contract checks for the stored FAQ catalog: a whole catalog of the largest
//! accepted size round-trips, every change bumps the version, and a change made on a
//! stale version conflicts and leaves the stored catalog as it was.

use handoff_faq::{Faq, FaqCatalog};

use super::Store;
use crate::catalog::{apply, check_catalog, CatalogChange, VersionedCatalog, MAX_CATALOG_BYTES};
use crate::error::StoreError;
use crate::ports::Commit;
use crate::records::{RecordKey, RecordWrite};

/// A catalog just under the size limit, Korean and English, so that stores are
/// checked with the biggest item they must hold (DynamoDB's limit is 400 KB).
fn big_catalog() -> FaqCatalog {
    let mut faqs = Vec::new();
    let mut i = 0;
    loop {
        let faq = Faq {
            id: format!("faq-{i}"),
            questions: [
                (
                    "ko".to_string(),
                    vec![format!("배송비 질문 {i} 얼마예요?"); 8],
                ),
                (
                    "en".to_string(),
                    vec![format!("How much is shipping {i}?"); 8],
                ),
            ]
            .into(),
            answer: [
                ("ko".to_string(), "배송비는 3,000원이에요. ".repeat(20)),
                ("en".to_string(), "Shipping is 3,000 KRW. ".repeat(20)),
            ]
            .into(),
        };
        faqs.push(faq);
        let c = FaqCatalog {
            business: serde_json::from_value(
                serde_json::json!({"name": "Big", "languages": ["ko", "en"]}),
            )
            .expect("business"),
            faqs: faqs.clone(),
        };
        let size = serde_json::to_vec(&c).map(|v| v.len()).unwrap_or(0);
        if size > MAX_CATALOG_BYTES - 3_000 || c.faqs.len() >= crate::catalog::MAX_FAQS {
            assert!(
                check_catalog(&c).is_ok(),
                "catalog: the big catalog is valid"
            );
            return c;
        }
        i += 1;
    }
}

async fn write(
    store: &Store,
    key: &RecordKey,
    change: CatalogChange,
    seed: &FaqCatalog,
) -> Result<u64, StoreError> {
    let record = store.record(key).await?;
    let current = VersionedCatalog::from_record(record.as_ref(), seed).expect("decode");
    let next = apply(&current.catalog, &change).expect("valid change");
    let w = RecordWrite::next(key.clone(), record.as_ref(), &next, None)?;
    let version = w.record.version;
    store
        .commit(Commit {
            records: vec![w],
            ..Commit::default()
        })
        .await?;
    Ok(version)
}

/// Versions of the stored catalog: bumped by each change, guarded against stale writers.
pub async fn catalog_versions(store: &Store) {
    // A key of its own, so the suite can share a table with a running catalog.
    let key = RecordKey::new("catalog", &uuid::Uuid::new_v4().simple().to_string())
        .unwrap_or_else(|e| panic!("key: {e}"));
    let seed = big_catalog();
    let absent = store.record(&key).await.expect("read");
    let v0 = VersionedCatalog::from_record(absent.as_ref(), &seed).expect("seed");
    assert_eq!(
        v0.version, 0,
        "catalog: nothing stored is the seed, version 0"
    );

    let v1 = write(store, &key, CatalogChange::Import(seed.clone()), &seed)
        .await
        .expect("catalog: a catalog of the largest size is stored");
    assert_eq!(v1, 1, "catalog: first version");
    let stored = store.record(&key).await.expect("read").expect("stored");
    let back = VersionedCatalog::from_record(Some(&stored), &seed).expect("decode");
    assert_eq!(back.catalog, seed, "catalog: round trip, Korean included");

    let v2 = write(store, &key, CatalogChange::Delete("faq-0".into()), &seed)
        .await
        .expect("delete");
    assert_eq!(v2, 2, "catalog: every change bumps the version");

    // A writer that read version 1 loses, and writes nothing.
    let mut stale_catalog = seed.clone();
    stale_catalog.faqs.truncate(1);
    let stale = RecordWrite {
        record: crate::records::Record {
            key: key.clone(),
            version: 2,
            data: serde_json::to_value(&stale_catalog).expect("json"),
            expires_at: None,
        },
        expected_version: Some(1),
    };
    let lost = store
        .commit(Commit {
            records: vec![stale],
            ..Commit::default()
        })
        .await;
    assert!(
        matches!(lost, Err(StoreError::Conflict(_))),
        "catalog: a stale change conflicts, got {lost:?}"
    );
    let now = store.record(&key).await.expect("read").expect("stored");
    let now = VersionedCatalog::from_record(Some(&now), &seed).expect("decode");
    assert_eq!(now.version, 2, "catalog: the stale change wrote nothing");
    assert_eq!(now.catalog.faqs.len(), seed.faqs.len() - 1);
    assert!(now.catalog.faq("faq-0").is_none());
}
