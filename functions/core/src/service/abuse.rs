//! The abuse limits as the use cases apply them (see [`crate::limits`]).

use crate::error::ServiceError;
use crate::limits::{self, LimitKind};
use crate::records::Count;

use super::HandoffService;

impl HandoffService {
    /// Counts one use of `kind` by `subject`; `RateLimited` when over the limit.
    pub(crate) async fn take_limit(
        &self,
        kind: LimitKind,
        subject: &str,
    ) -> Result<(), ServiceError> {
        let Some(limit) = self.settings.rate_limits.get(kind) else {
            return Ok(());
        };
        let (key, expires, retry_after_secs) =
            limits::window_counter(kind.name(), limit.window, subject, self.clock.now())?;
        match self.store.count(&key, limit.max, expires).await? {
            Count::Admitted(_) => Ok(()),
            Count::OverLimit => {
                tracing::warn!(limit = kind.name(), "rate limit reached");
                Err(ServiceError::RateLimited { retry_after_secs })
            }
        }
    }
}
