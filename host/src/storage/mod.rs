//! The storage layer: every SQL statement of Beacon Spear lives under this module.
//!
//! One [`Store`] serves SQLite and PostgreSQL through sqlx's `Any` driver. Rows
//! are kept portable (text ids, integer millisecond times, JSON as text, 0/1
//! flags) and placeholders are written `$1, $2, …`, which both drivers accept, so
//! most statements exist once. Where the dialects really differ the method
//! matches on [`Backend`] right beside the shared text.

mod batch;
mod channels;
mod deliveries;
mod endpoints;
mod messages;
mod tokens;
mod users;

pub use channels::{ChannelRow, RuleRow};
pub use deliveries::{
    AttemptRecord, AttemptRow, BucketCount, ClaimedDelivery, DeliveryFilter, DeliveryListRow,
    DeliveryRow, DeliveryWork, FinishedAttempt, NextState,
};
pub use endpoints::{EndpointAuth, EndpointRow};
pub use messages::{DeliverySummary, MessageFilter, MessageRow, NewDelivery, NewMessage};
pub use tokens::{RefreshOutcome, TokenPurpose, UserTokenRow};
pub use users::UserRow;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A background task that writes for its callers (group commit) is gone.
    #[error("the {0} has stopped")]
    Stopped(&'static str),
}

impl StoreError {
    /// True when the error is a unique-constraint violation (e.g. a taken e-mail).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A write transaction (on SQLite: holding the one writer connection).
type WriteTx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where every write goes. On SQLite a pool of one connection: SQLite has
    /// one writer at a time anyway, and queueing for that connection in the
    /// pool is fair and instant, while contending connections would wait in
    /// SQLite's busy handler, which sleeps up to 100 ms between tries. On
    /// PostgreSQL the same pool as reads.
    writer: AnyPool,
    backend: Backend,
    url: std::sync::Arc<str>,
}

impl Store {
    /// Connects (creating the SQLite file if needed) without migrating.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = Self::pool_options(backend, max_connections)
            .connect_with(options.clone())
            .await?;
        let writer = match backend {
            Backend::Sqlite => Self::pool_options(backend, 1).connect_with(options).await?,
            Backend::Postgres => pool.clone(),
        };
        let store = Store {
            pool,
            writer,
            backend,
            url: std::sync::Arc::from(url),
        };
        if backend == Backend::Sqlite {
            store.spawn_checkpointer();
        }
        Ok(store)
    }

    fn pool_options(backend: Backend, max_connections: u32) -> AnyPoolOptions {
        AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            // No ping before every checkout: it doubles the round trips of
            // short statements; a dead connection fails its statement instead.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL keeps every
                        // acknowledged commit durable; the busy timeout turns writer
                        // contention into waiting instead of errors.
                        // Checkpoints run on a background task (below) instead of
                        // inside whichever commit crosses the WAL size threshold.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;
                             PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -32768;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
    }

    /// The connection URL (the PostgreSQL worker opens a LISTEN connection with it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Copies the WAL back into the database once a second (PASSIVE: never
    /// blocks the writer). Durability is unchanged: commits are on disk in the
    /// WAL already; this only keeps the checkpoint work off the commit path.
    fn spawn_checkpointer(&self) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    break;
                }
                if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::debug!(error = %err, "WAL checkpoint skipped");
                }
            }
        });
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// True when the database answers and every embedded migration is applied.
    pub async fn is_ready(&self) -> StoreResult<bool> {
        let latest = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = $1")
                .bind(true)
                .fetch_one(&self.pool)
                .await?;
        Ok(applied.unwrap_or(0) >= latest)
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so a read-then-write transaction never fails with a
    /// lock-upgrade conflict; the busy timeout makes it wait instead.
    async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Current time in Unix milliseconds, the unit of every stored time.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A new time-ordered id (UUIDv7, 32 hex digits). Time order keeps inserts at
/// the right edge of every index, which is several times faster on SQLite.
pub fn new_id() -> String {
    new_id_with_time().0
}

/// A new id and the millisecond time it carries, for rows whose time filters
/// are answered through the id index (messages): both must agree exactly.
pub fn new_id_with_time() -> (String, i64) {
    let id = uuid::Uuid::now_v7();
    let ms = id.get_timestamp().map(|t| {
        let (secs, nanos) = t.to_unix();
        secs as i64 * 1000 + i64::from(nanos / 1_000_000)
    });
    (id.simple().to_string(), ms.unwrap_or_else(now_ms))
}
