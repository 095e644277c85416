//! Operations an operator runs beside the server: `beacon backup`,
//! `beacon restore`, `beacon migrate status`, and what every running process
//! does at start so these stay safe (the running lock, the refusal of a
//! schema newer than the binary). See docs/operations.md.
//!
//! This module sits beside `app`: it uses `config` and `storage` (every SQL
//! statement stays in `storage`), files in the data directory, and
//! PostgreSQL's own tools (`pg_dump`, `pg_restore`).

pub mod archive;
pub mod backup;
pub mod lock;
pub mod migrations;
mod pg;
pub mod restore;
pub mod settings;

pub use lock::RunningLock;

use crate::config::Config;
use crate::storage::Store;

/// What `serve`, `web`, `worker` and the other commands that open the
/// database do first: take the running lock (a restore waits for nobody
/// and refuses while it is held) and refuse a schema newer than this binary.
pub async fn on_start(config: &Config, store: &Store) -> anyhow::Result<RunningLock> {
    let running = RunningLock::acquire(config, store).await?;
    migrations::refuse_newer_schema(store).await?;
    Ok(running)
}
