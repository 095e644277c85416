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
mod idempotency;
mod kv;
mod messages;
mod schema;
mod tokens;
mod users;
mod wakeups;

pub use channels::PluginUseCounts;
pub use deliveries::{
    AttemptRecord, AttemptRow, BucketCount, ClaimedDelivery, DeliveryFilter, DeliveryListRow,
    DeliveryRow, DeliveryWork, FinishedAttempt, WorkerStatus,
};
pub use endpoints::{EndpointAuth, EndpointRow, StoredAdapter};
pub use idempotency::KeyClaim;
pub use kv::KvWrite;
pub use messages::{DeliverySummary, MessageFilter, NewDelivery, NewMessage};
pub use schema::{
    inspect_sqlite_file, latest_known_version, sqlite_file, sqlite_file_presence, DataPresence,
    DatabaseLock, ExclusiveDatabaseLock, MigrationState, MigrationStatus,
};
pub use tokens::{RefreshOutcome, TokenPurpose, UserTokenRow};
pub use users::UserRow;
pub use wakeups::Topic;

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
    /// A stored value this program cannot read back; names the row and column.
    #[error("stored data is corrupt: {table}.{column} of row {id}: {reason}")]
    Corrupt {
        table: &'static str,
        id: String,
        column: &'static str,
        reason: String,
    },
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
enum Backend {
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

    /// How many group-commit writers ingest should run when the operator
    /// did not say: SQLite has one writer anyway; on PostgreSQL two were
    /// measured best on 2 cores (more cost more CPU per message).
    pub fn default_writer_count(&self) -> usize {
        match self.backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        }
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

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        if self.backend == Backend::Sqlite {
            self.renumber_sqlite_live_index().await?;
        }
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// SQLite databases made before both folders listed the same versions
    /// applied the live-messages index as version 6 (PostgreSQL's 7). This
    /// renumbers that record to 7 and records the new, empty SQLite 6 as
    /// applied, so the migrator finds every checksum where it expects it.
    /// Runs once; afterwards version 6 has the new description.
    async fn renumber_sqlite_live_index(&self) -> StoreResult<()> {
        const OLD_DESCRIPTION: &str = "live messages index";
        let has_table: Option<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.writer)
        .await?;
        if has_table.is_none() {
            return Ok(());
        }
        let six: Option<String> =
            sqlx::query_scalar("SELECT description FROM _sqlx_migrations WHERE version = 6")
                .fetch_optional(&self.writer)
                .await?;
        if six.as_deref() != Some(OLD_DESCRIPTION) {
            return Ok(());
        }
        let Some(empty_six) = SQLITE_MIGRATIONS.iter().find(|m| m.version == 6) else {
            return Ok(());
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE _sqlx_migrations SET version = 7 WHERE version = 6")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (6, $1, $2, $3, 0)",
        )
        .bind(empty_six.description.to_string())
        .bind(true)
        .bind(empty_six.checksum.to_vec())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!("renumbered SQLite migration 6 (live messages index) to 7");
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

/// A JSON column's text read back into its type; a failure names the row.
fn json_column<T: serde::de::DeserializeOwned>(
    table: &'static str,
    id: &str,
    column: &'static str,
    text: &str,
) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt {
        table,
        id: id.to_string(),
        column,
        reason: err.to_string(),
    })
}

/// A value as the text of a JSON column. The values stored this way (maps
/// and lists of strings, JSON values) always serialize.
fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_list_the_same_migration_versions() {
        let versions = |migrator: &Migrator| -> Vec<(i64, String)> {
            migrator
                .iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect()
        };
        let sqlite = versions(&SQLITE_MIGRATIONS);
        let postgres = versions(&POSTGRES_MIGRATIONS);
        assert!(!sqlite.is_empty());
        assert_eq!(
            sqlite.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
            postgres.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
            "sqlite {sqlite:?} vs postgres {postgres:?}"
        );
        assert_eq!(sqlite, postgres, "the same step has the same name on both");
    }

    /// A database migrated with the folder as it was before version 6 was
    /// added to SQLite upgrades without a checksum error and keeps its data.
    #[tokio::test]
    async fn an_sqlite_database_with_the_old_numbering_upgrades() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = dir.path().join("old-migrations");
        std::fs::create_dir(&old).expect("mkdir");
        let current = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite");
        for entry in std::fs::read_dir(current).expect("read migrations") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            let target = match name.as_str() {
                "0006_ingest_without_row_triggers.sql" => continue,
                "0007_live_messages_index.sql" => "0006_live_messages_index.sql".to_string(),
                other => other.to_string(),
            };
            std::fs::copy(&path, old.join(target)).expect("copy");
        }
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let store = Store::connect(&url, 2).await.expect("connect");
        let old_migrator = Migrator::new(old.as_path()).await.expect("old migrator");
        old_migrator.run(&store.pool).await.expect("old schema");
        sqlx::query("INSERT INTO users (id, email, email_lower, password_hash, created_at, updated_at) VALUES ('u1', 'a@b.test', 'a@b.test', 'x', 1, 1)")
            .execute(&store.writer)
            .await
            .expect("a user");

        store.migrate().await.expect("upgrade");
        store.migrate().await.expect("a second run changes nothing");
        assert!(store.is_ready().await.expect("ready check"));
        let applied: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, description FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&store.pool)
                .await
                .expect("applied");
        let expected: Vec<(i64, String)> = SQLITE_MIGRATIONS
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        assert_eq!(applied, expected);
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&store.pool)
            .await
            .expect("count");
        assert_eq!(users, 1);
        store.close().await;
    }
}
