//! Readiness (SPEC §10): the database answers, its migrations are at head,
//! and a delivery worker reported in recently.

use crate::domain::now_ms;
use crate::storage::Store;

/// A worker heartbeat older than this makes the service not ready.
const WORKER_STALE_MS: i64 = 30_000;

/// What a readiness check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    MigrationsPending,
    DatabaseUnreachable,
    NoRecentWorker,
}

#[derive(Clone)]
pub struct Health {
    store: Store,
}

impl Health {
    pub fn new(store: Store) -> Self {
        Health { store }
    }

    pub async fn readiness(&self) -> Readiness {
        match self.store.is_ready().await {
            Ok(true) => {}
            Ok(false) => return Readiness::MigrationsPending,
            Err(err) => {
                tracing::warn!(error = %err, "readiness check failed");
                return Readiness::DatabaseUnreachable;
            }
        }
        match self.store.latest_worker_heartbeat().await {
            Ok(Some(at)) if now_ms() - at <= WORKER_STALE_MS => Readiness::Ready,
            Ok(_) => Readiness::NoRecentWorker,
            Err(err) => {
                tracing::warn!(error = %err, "readiness check failed");
                Readiness::DatabaseUnreachable
            }
        }
    }
}
