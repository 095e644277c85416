//! What operations ask of the database itself: which migrations are applied
//! (and whether they are the ones this binary carries), whether a database
//! holds data, a consistent SQLite snapshot for backups, and the lock that
//! running processes hold on PostgreSQL so a restore cannot pull the
//! database out from under them.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{Backend, Store, StoreResult, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// The description version 6 had on SQLite before both folders listed the
/// same steps (see `Store::renumber_sqlite_live_index`, which fixes it at the
/// next migrate).
const OLD_SQLITE_SIX: &str = "live messages index";

/// The advisory lock key every Beacon Spear process shares on PostgreSQL
/// ("beacon" in ASCII, then 1).
const RUNNING_LOCK_KEY: i64 = 0x6265_6163_6f6e_0001;

/// How one migration stands in a database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MigrationState {
    Applied,
    Pending,
    /// Applied, but its recorded checksum is not the one of this binary's file.
    ChecksumMismatch,
    /// Recorded as started and not finished (`success` false).
    Failed,
    /// Applied, and this binary does not have it: the schema is newer.
    Unknown,
}

impl MigrationState {
    pub fn as_str(&self) -> &'static str {
        match self {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
            MigrationState::ChecksumMismatch => "checksum mismatch",
            MigrationState::Failed => "failed",
            MigrationState::Unknown => "unknown (newer than this binary)",
        }
    }
}

#[derive(Clone, Debug)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub state: MigrationState,
    /// Anything the operator should know beside the state.
    pub note: Option<String>,
}

/// One row of `_sqlx_migrations`.
#[derive(Clone, Debug, sqlx::FromRow)]
struct AppliedRow {
    version: i64,
    description: String,
    ok: i64,
    checksum: Vec<u8>,
}

/// How many rows the tables that hold an account's data have.
#[derive(Clone, Copy, Debug, Default)]
pub struct DataPresence {
    pub users: i64,
    pub messages: i64,
}

impl DataPresence {
    pub fn is_empty(&self) -> bool {
        self.users == 0 && self.messages == 0
    }
}

/// The migrations this binary carries for a database kind (up steps only).
fn known(postgres: bool) -> impl Iterator<Item = &'static Migration> {
    let migrator: &'static Migrator = if postgres {
        &POSTGRES_MIGRATIONS
    } else {
        &SQLITE_MIGRATIONS
    };
    migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
}

/// The highest migration version this binary knows for a database kind.
pub fn latest_known_version(postgres: bool) -> i64 {
    known(postgres).map(|m| m.version).max().unwrap_or(0)
}

/// The file behind a SQLite URL; `None` for an in-memory database.
pub fn sqlite_file(url: &str) -> StoreResult<Option<PathBuf>> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let options = SqliteConnectOptions::from_str(url)?;
    Ok(Some(options.get_filename().to_path_buf()))
}

/// Checks a SQLite file that is not in use (a backup's snapshot, a staged
/// restore) without writing to it: SQLite's `quick_check` and the highest
/// applied migration. An error names what is wrong.
pub async fn inspect_sqlite_file(path: &Path) -> StoreResult<(Vec<String>, Option<i64>)> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true)
        .connect()
        .await?;
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_all(&mut conn)
        .await?;
    let problems = problems.into_iter().filter(|line| line != "ok").collect();
    let has_table: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut conn)
    .await?;
    let version = match has_table {
        Some(_) => {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
            )
            .fetch_one(&mut conn)
            .await?
        }
        None => None,
    };
    conn.close().await?;
    Ok((problems, version))
}

/// What a SQLite file that no process uses holds, read without creating it
/// or changing it; `None` when there is no such file.
pub async fn sqlite_file_presence(path: &Path) -> StoreResult<Option<DataPresence>> {
    if !path.exists() {
        return Ok(None);
    }
    // Read-write without create: a WAL left by a stopped server is read
    // (and checkpointed when this connection closes), not ignored.
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .connect()
        .await?;
    let mut presence = DataPresence::default();
    for (table, count) in [
        ("users", &mut presence.users),
        ("messages", &mut presence.messages),
    ] {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1")
                .bind(table)
                .fetch_optional(&mut conn)
                .await?;
        if exists.is_some() {
            *count = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut conn)
                .await?;
        }
    }
    conn.close().await?;
    Ok(Some(presence))
}

impl Store {
    pub fn is_postgres(&self) -> bool {
        self.backend == Backend::Postgres
    }

    async fn has_table(&self, table: &str) -> StoreResult<bool> {
        let count: i64 = match self.backend {
            Backend::Sqlite => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
                )
                .bind(table)
                .fetch_one(&self.pool)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_name = $1",
                )
                .bind(table)
                .fetch_one(&self.pool)
                .await?
            }
        };
        Ok(count > 0)
    }

    async fn applied_rows(&self) -> StoreResult<Vec<AppliedRow>> {
        if !self.has_table("_sqlx_migrations").await? {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_as(
            "SELECT version, description, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) AS ok, checksum
             FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The highest migration applied successfully; `None` when the database
    /// has no migrations table (not a Beacon Spear database, or a new one).
    pub async fn schema_version(&self) -> StoreResult<Option<i64>> {
        Ok(self
            .applied_rows()
            .await?
            .iter()
            .filter(|row| row.ok != 0)
            .map(|row| row.version)
            .max())
    }

    /// Every migration this binary carries and every one the database
    /// records, in version order, with how each stands.
    pub async fn migration_status(&self) -> StoreResult<Vec<MigrationStatus>> {
        let postgres = self.is_postgres();
        let mut applied = self.applied_rows().await?;
        let mut notes: Vec<(i64, String)> = Vec::new();
        // An SQLite database with the old numbering: migrate renumbers its
        // 6 to 7 and records the new (empty) 6; show it as migrate will see it.
        if !postgres
            && applied
                .iter()
                .any(|r| r.version == 6 && r.description == OLD_SQLITE_SIX)
            && !applied.iter().any(|r| r.version == 7)
        {
            for row in applied.iter_mut().filter(|r| r.version == 6) {
                row.version = 7;
            }
            notes.push((
                7,
                "recorded as 6 by an older beacon; renumbered at the next migrate".into(),
            ));
        }
        let mut statuses: Vec<MigrationStatus> = Vec::new();
        for migration in known(postgres) {
            let row = applied.iter().find(|r| r.version == migration.version);
            let state = match row {
                None => MigrationState::Pending,
                Some(row) if row.ok == 0 => MigrationState::Failed,
                Some(row) if row.checksum != migration.checksum.as_ref() => {
                    MigrationState::ChecksumMismatch
                }
                Some(_) => MigrationState::Applied,
            };
            statuses.push(MigrationStatus {
                version: migration.version,
                description: migration.description.to_string(),
                state,
                note: notes
                    .iter()
                    .find(|(v, _)| *v == migration.version)
                    .map(|(_, n)| n.clone()),
            });
        }
        for row in &applied {
            if !statuses.iter().any(|s| s.version == row.version) {
                statuses.push(MigrationStatus {
                    version: row.version,
                    description: row.description.clone(),
                    state: MigrationState::Unknown,
                    note: None,
                });
            }
        }
        statuses.sort_by_key(|s| s.version);
        Ok(statuses)
    }

    /// Applied migrations this binary does not carry, as (version, description).
    pub async fn unknown_applied_migrations(&self) -> StoreResult<Vec<(i64, String)>> {
        let postgres = self.is_postgres();
        Ok(self
            .applied_rows()
            .await?
            .into_iter()
            .filter(|row| !known(postgres).any(|m| m.version == row.version))
            .map(|row| (row.version, row.description))
            .collect())
    }

    /// How many users and messages the database holds (0 where the tables
    /// do not exist yet).
    pub async fn data_presence(&self) -> StoreResult<DataPresence> {
        let mut presence = DataPresence::default();
        if self.has_table("users").await? {
            presence.users = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
                .fetch_one(&self.pool)
                .await?;
        }
        if self.has_table("messages").await? {
            presence.messages = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM messages")
                .fetch_one(&self.pool)
                .await?;
        }
        Ok(presence)
    }

    /// Writes a consistent copy of a SQLite database to `target` (which must
    /// not exist) while writers go on: `VACUUM INTO` reads one snapshot.
    pub async fn sqlite_snapshot(&self, target: &Path) -> StoreResult<()> {
        let target = target.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// On PostgreSQL, takes the lock every running process holds in shared
    /// mode, on a connection of its own kept for as long as the returned
    /// guard lives (re-taken if that connection breaks). `Ok(None)` when a
    /// restore holds it. On SQLite there is nothing to take here (the data
    /// directory's lock file serves) and the guard is empty.
    pub async fn hold_running_lock(&self) -> StoreResult<Option<DatabaseLock>> {
        if self.backend != Backend::Postgres {
            return Ok(Some(DatabaseLock { keeper: None }));
        }
        let mut conn = sqlx::PgConnection::connect(&self.url).await?;
        if !try_lock(&mut conn, true).await? {
            return Ok(None);
        }
        let url = self.url.clone();
        let keeper = tokio::spawn(keep_shared_lock(conn, url));
        Ok(Some(DatabaseLock {
            keeper: Some(keeper),
        }))
    }

    /// On PostgreSQL, takes the running lock exclusively (a restore) if no
    /// process holds it; `Ok(None)` when one does.
    pub async fn try_exclusive_lock(&self) -> StoreResult<Option<ExclusiveDatabaseLock>> {
        if self.backend != Backend::Postgres {
            return Ok(Some(ExclusiveDatabaseLock { conn: None }));
        }
        let mut conn = sqlx::PgConnection::connect(&self.url).await?;
        if !try_lock(&mut conn, false).await? {
            let _ = conn.close().await;
            return Ok(None);
        }
        Ok(Some(ExclusiveDatabaseLock { conn: Some(conn) }))
    }
}

async fn try_lock(conn: &mut sqlx::PgConnection, shared: bool) -> StoreResult<bool> {
    let statement = if shared {
        "SELECT pg_try_advisory_lock_shared($1)"
    } else {
        "SELECT pg_try_advisory_lock($1)"
    };
    Ok(sqlx::query_scalar(statement)
        .bind(RUNNING_LOCK_KEY)
        .fetch_one(conn)
        .await?)
}

/// Checks the lock's connection now and then; when it broke (a database
/// restart), connects again and takes the lock again.
async fn keep_shared_lock(mut conn: sqlx::PgConnection, url: std::sync::Arc<str>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(30));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if conn.ping().await.is_ok() {
            continue;
        }
        tracing::warn!("the connection holding the running lock broke; taking the lock again");
        loop {
            match sqlx::PgConnection::connect(&url).await {
                Ok(mut fresh) => match try_lock(&mut fresh, true).await {
                    Ok(true) => {
                        conn = fresh;
                        break;
                    }
                    Ok(false) => tracing::error!(
                        "a restore holds the database; this process should be stopped"
                    ),
                    Err(err) => tracing::warn!(error = %err, "taking the running lock failed"),
                },
                Err(err) => {
                    tracing::warn!(error = %err, "reconnecting for the running lock failed")
                }
            }
            ticks.tick().await;
        }
    }
}

/// A running process's share of the PostgreSQL lock; released when dropped.
pub struct DatabaseLock {
    keeper: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for DatabaseLock {
    fn drop(&mut self) {
        if let Some(keeper) = self.keeper.take() {
            keeper.abort();
        }
    }
}

/// A restore's exclusive hold of the PostgreSQL lock.
pub struct ExclusiveDatabaseLock {
    conn: Option<sqlx::PgConnection>,
}

impl ExclusiveDatabaseLock {
    pub async fn release(mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
    }
}
