//! The running lock. Every process that uses the data (`serve`, `web`,
//! `worker`, `migrate`, the `user` commands, `backup`) holds it shared for
//! its lifetime; `restore` takes it exclusively and refuses when it cannot.
//!
//! - the data directory: `flock` on `<BEACON_DATA_DIR>/beacon.lock` (the
//!   SQLite file, the generated keys and the plugins live there);
//! - PostgreSQL: an advisory lock, shared by running processes, held on a
//!   connection of each process's own (`storage::Store::hold_running_lock`).
//!
//! The operating system and the database release both when a process
//! ends, however it ends: a crashed server never leaves a stale lock.

// `File::lock_shared` and friends are std since Rust 1.89; the toolchain
// this crate builds with (wasmtime 48 needs a newer one still) has them.
#![allow(clippy::incompatible_msrv)]

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::config::Config;
use crate::storage::{DatabaseLock, ExclusiveDatabaseLock, Store};

pub const LOCK_FILE: &str = "beacon.lock";

/// A running process's shared hold; released when dropped.
pub struct RunningLock {
    _file: File,
    _database: DatabaseLock,
}

impl RunningLock {
    pub async fn acquire(config: &Config, store: &Store) -> anyhow::Result<Self> {
        let path = config.data_dir.join(LOCK_FILE);
        let file = open(&path)?;
        match file.try_lock_shared() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => bail!(
                "a restore is in progress in {} (beacon restore holds {}); start again when it has finished",
                config.data_dir.display(),
                path.display()
            ),
            Err(TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("locking {}", path.display()))
            }
        }
        let database = store
            .hold_running_lock()
            .await
            .context("taking the running lock on the database")?;
        let Some(database) = database else {
            bail!("a restore is in progress on this database (beacon restore holds its lock); start again when it has finished");
        };
        Ok(RunningLock {
            _file: file,
            _database: database,
        })
    }
}

/// A restore's exclusive hold of the data directory.
pub struct DataDirLock {
    _file: File,
    pub path: PathBuf,
}

/// Takes the data directory's lock exclusively, or says which process
/// kind holds it.
pub fn lock_data_dir(data_dir: &Path) -> anyhow::Result<DataDirLock> {
    let path = data_dir.join(LOCK_FILE);
    let file = open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file, path }),
        Err(TryLockError::WouldBlock) => bail!(
            "a Beacon Spear process (serve, web, worker, migrate, user or backup) is using {} (it holds {}); stop it before restoring",
            data_dir.display(),
            path.display()
        ),
        Err(TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// Takes the database's running lock exclusively (PostgreSQL), or says
/// that processes still use the database.
pub async fn lock_database(store: &Store) -> anyhow::Result<ExclusiveDatabaseLock> {
    match store
        .try_exclusive_lock()
        .await
        .context("taking the running lock on the database")?
    {
        Some(lock) => Ok(lock),
        None => bail!(
            "a Beacon Spear process (serve, web, worker, migrate, user or backup) is using this database (it holds the running lock); stop every process that uses DATABASE_URL before restoring"
        ),
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening the lock file {}", path.display()))
}
