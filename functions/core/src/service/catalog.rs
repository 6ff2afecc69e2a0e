//! The catalog in effect: a cache of the stored catalog and its index, checked
//! against the store at most once per refresh interval (one read of a small version
//! record; the catalog itself is read only when that version moved on), and
//! rebuilt — encoder vectors included — only when the stored version changed.
//! The supervisors' changes go through here too, so the instance that made a
//! change answers with it at once; other instances within one interval.

use std::sync::{Arc, Mutex, RwLock};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use handoff_faq::{FaqCatalog, FaqIndex};

use crate::auth::Agent;
use crate::catalog::{apply, catalog_key, catalog_version_key, CatalogChange, VersionedCatalog};
use crate::error::ServiceError;
use crate::ports::{Commit, ConversationStore};
use crate::records::{Record, RecordWrite};

use super::{retry_on_conflict, HandoffService};

/// How often an instance checks the stored catalog's version by default.
pub const CATALOG_REFRESH: SignedDuration = SignedDuration::from_secs(60);

/// A catalog and the index built from it.
pub struct LiveCatalog {
    pub version: u64,
    pub catalog: Arc<FaqCatalog>,
    pub index: Arc<FaqIndex>,
}

/// The catalog an instance answers with; swapped whole, never edited in place.
pub(crate) struct CatalogCache {
    seed: Arc<FaqCatalog>,
    live: RwLock<Arc<LiveCatalog>>,
    /// When the store was last asked; `None`: not yet.
    checked: Mutex<Option<Timestamp>>,
    refresh: SignedDuration,
}

/// The catalog as `GET /v1/agent/faqs` exports it and the changes return it.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogExport {
    pub version: u64,
    pub catalog: FaqCatalog,
}

impl CatalogCache {
    pub(crate) fn new(seed: Arc<FaqCatalog>, index: Arc<FaqIndex>) -> Self {
        Self {
            live: RwLock::new(Arc::new(LiveCatalog {
                version: 0,
                catalog: seed.clone(),
                index,
            })),
            seed,
            checked: Mutex::new(None),
            refresh: CATALOG_REFRESH,
        }
    }

    pub(crate) fn current(&self) -> Arc<LiveCatalog> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether the store is due a check at `now`; marks it checked, so that of many
    /// concurrent requests only one reads.
    fn due(&self, now: Timestamp) -> bool {
        let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        let due = checked.is_none_or(|t| now.duration_since(t) >= self.refresh);
        if due {
            *checked = Some(now);
        }
        due
    }

    /// Installs `stored` unless the cache already has this version (or a later one).
    fn install(&self, stored: VersionedCatalog) -> Arc<LiveCatalog> {
        let current = self.current();
        // Equal: nothing changed; older: an eventually consistent read lagging behind.
        if stored.version <= current.version {
            return current;
        }
        let started = std::time::Instant::now();
        let index = Arc::new(FaqIndex::build_auto(&stored.catalog));
        let live = Arc::new(LiveCatalog {
            version: stored.version,
            catalog: Arc::new(stored.catalog),
            index,
        });
        tracing::info!(
            version = live.version,
            faqs = live.catalog.faqs.len(),
            build_ms = started.elapsed().as_millis() as u64,
            "catalog index rebuilt"
        );
        let mut slot = self.live.write().unwrap_or_else(|e| e.into_inner());
        // A slower builder of an older version must not replace a newer one.
        if slot.version < live.version {
            *slot = live.clone();
        }
        slot.clone()
    }

    /// The catalog to answer with: the cached one, after checking the store when due.
    /// A failed check keeps the cached catalog (answering beats failing) and is retried
    /// at the next interval.
    pub(crate) async fn refreshed(
        &self,
        store: &dyn ConversationStore,
        now: Timestamp,
    ) -> Arc<LiveCatalog> {
        if !self.due(now) {
            return self.current();
        }
        let read = async {
            // The small version record first; the catalog itself only when it moved on.
            let head = store.record(&catalog_version_key()).await?;
            let current = self.current();
            if head.as_ref().map_or(0, |h| h.version) <= current.version {
                return Ok(None);
            }
            let record = store.record(&catalog_key()).await?;
            VersionedCatalog::from_record(record.as_ref(), &self.seed).map(Some)
        };
        match read.await {
            Ok(None) => self.current(),
            Ok(Some(stored)) => self.install(stored),
            Err(e) => {
                tracing::warn!(error = %e, "catalog check failed; answering with the cached one");
                self.current()
            }
        }
    }
}

/// The writes of catalog `next` over the stored `record`: the catalog and its small
/// version record, at the next version, guarded by the version read. The one way a
/// catalog change is written (supervisors' edits and accepted suggestions alike).
pub(super) fn catalog_writes(
    record: Option<&Record>,
    next: &FaqCatalog,
) -> Result<(Vec<RecordWrite>, u64), ServiceError> {
    let write = RecordWrite::next(catalog_key(), record, next, None)?;
    let version = write.record.version;
    // The version record moves with the catalog, in the same transaction.
    let head = RecordWrite {
        record: Record {
            key: catalog_version_key(),
            version,
            data: serde_json::json!({ "version": version }),
            expires_at: None,
        },
        expected_version: record.map(|r| r.version),
    };
    Ok((vec![write, head], version))
}

impl HandoffService {
    /// The stored catalog record and the catalog it holds (the seed as version 0).
    pub(super) async fn stored_catalog(
        &self,
    ) -> Result<(Option<Record>, VersionedCatalog), ServiceError> {
        let record = self.store.record(&catalog_key()).await?;
        let current = VersionedCatalog::from_record(record.as_ref(), &self.faqs.seed)?;
        Ok((record, current))
    }

    /// Answers with a catalog this instance just wrote, at once.
    pub(super) fn catalog_written(&self, stored: VersionedCatalog) {
        self.faqs.install(stored);
    }

    /// Checks the stored catalog's version every `every` (0: at every message).
    pub fn with_catalog_refresh(mut self, every: SignedDuration) -> Self {
        self.faqs.refresh = every;
        self.incidents.set_refresh(every);
        self
    }

    /// The catalog this instance answers with, checked against the store when due.
    pub async fn live_catalog(&self) -> Arc<LiveCatalog> {
        self.faqs.refreshed(&*self.store, self.clock.now()).await
    }

    /// The stored catalog and its version (version 0: the seed, not changed yet).
    pub async fn export_catalog(&self) -> Result<CatalogExport, ServiceError> {
        let record = self.store.record(&catalog_key()).await?;
        let stored = VersionedCatalog::from_record(record.as_ref(), &self.faqs.seed)?;
        let export = CatalogExport {
            version: stored.version,
            catalog: stored.catalog.clone(),
        };
        self.faqs.install(stored);
        Ok(export)
    }

    /// A supervisor changes the catalog: read, apply, validate, write guarded by the
    /// version read (a lost race re-reads). With `expected_version`, a catalog that
    /// moved on since is refused instead (`CatalogStale`).
    pub async fn change_catalog(
        &self,
        agent: &Agent,
        change: CatalogChange,
        expected_version: Option<u64>,
    ) -> Result<CatalogExport, ServiceError> {
        if !agent.supervisor {
            return Err(ServiceError::Forbidden(
                "only supervisors can change the FAQs",
            ));
        }
        let change = &change;
        let stored = retry_on_conflict(|| async move {
            let (record, current) = self.stored_catalog().await?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(ServiceError::CatalogStale {
                    current: current.version,
                });
            }
            let next = apply(&current.catalog, change)?;
            let (records, version) = catalog_writes(record.as_ref(), &next)?;
            self.store
                .commit(Commit {
                    records,
                    ..Commit::default()
                })
                .await?;
            Ok(VersionedCatalog {
                version,
                catalog: next,
            })
        })
        .await?;
        tracing::info!(agent = %agent.id, version = stored.version, "catalog changed");
        let export = CatalogExport {
            version: stored.version,
            catalog: stored.catalog.clone(),
        };
        // This instance answers with the change at once.
        self.faqs.install(stored);
        Ok(export)
    }
}
