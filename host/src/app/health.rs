//! Readiness (SPEC §10): the database answers, its migrations are at head,
//! and a delivery worker reported in recently without failing its database
//! rounds; with what each check saw (worker heartbeats, the queue).

use crate::domain::now_ms;
use crate::error::AppResult;
use crate::metrics::QueueGauges;
use crate::storage::Store;

/// A worker heartbeat older than this makes the service not ready.
const WORKER_STALE_MS: i64 = 30_000;
/// Database rounds failing this many times in a row make a worker unhealthy.
const FAILING_ROUNDS: i64 = 3;
/// Workers that reported within this long are listed.
const LISTED_WORKERS_MS: i64 = 10 * 60_000;

/// What a readiness check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    MigrationsPending,
    DatabaseUnreachable,
    NoRecentWorker,
    /// Workers report, but every fresh one keeps failing its database rounds.
    WorkersFailing,
}

/// One worker as its heartbeat describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerReport {
    pub id: String,
    pub heartbeat_age_ms: i64,
    /// Since its last successful database round (`None`: none yet).
    pub last_round_age_ms: Option<i64>,
    pub consecutive_failures: i64,
}

impl WorkerReport {
    fn healthy(&self) -> bool {
        self.heartbeat_age_ms <= WORKER_STALE_MS && self.consecutive_failures < FAILING_ROUNDS
    }
}

/// The readiness verdict with what the checks saw.
#[derive(Clone, Debug)]
pub struct ReadinessReport {
    pub verdict: Readiness,
    /// Workers that reported in the last ten minutes, freshest first.
    pub workers: Vec<WorkerReport>,
    /// The delivery queue (`None` when the database did not answer).
    pub queue: Option<QueueGauges>,
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
        self.report().await.verdict
    }

    /// Every check, and the first that failed (in order: database,
    /// migrations, workers).
    pub async fn report(&self) -> ReadinessReport {
        let unreachable = |err: &dyn std::fmt::Display| {
            tracing::warn!(error = %err, "readiness check failed");
            ReadinessReport {
                verdict: Readiness::DatabaseUnreachable,
                workers: Vec::new(),
                queue: None,
            }
        };
        let migrated = match self.store.is_ready().await {
            Ok(migrated) => migrated,
            Err(err) => return unreachable(&err),
        };
        let now = now_ms();
        let workers: Vec<WorkerReport> =
            match self.store.worker_statuses(now - LISTED_WORKERS_MS).await {
                Ok(statuses) => statuses
                    .into_iter()
                    .map(|status| WorkerReport {
                        id: status.worker_id,
                        heartbeat_age_ms: now - status.last_seen_at,
                        last_round_age_ms: status.last_round_at.map(|at| now - at),
                        consecutive_failures: status.consecutive_failures,
                    })
                    .collect(),
                Err(err) => return unreachable(&err),
            };
        let queue = self.queue().await.ok();
        let fresh = workers
            .iter()
            .any(|w| w.heartbeat_age_ms <= WORKER_STALE_MS);
        let verdict = if !migrated {
            Readiness::MigrationsPending
        } else if !fresh {
            Readiness::NoRecentWorker
        } else if !workers.iter().any(WorkerReport::healthy) {
            Readiness::WorkersFailing
        } else {
            Readiness::Ready
        };
        ReadinessReport {
            verdict,
            workers,
            queue,
        }
    }

    /// The delivery queue now, for the metrics page and readiness.
    pub async fn queue(&self) -> AppResult<QueueGauges> {
        let now = now_ms();
        let (due, waiting, oldest) = self.store.queue_gauges(now).await?;
        Ok(QueueGauges {
            due,
            waiting,
            oldest_due_age_ms: oldest.map(|at| now - at).unwrap_or(0),
        })
    }
}
