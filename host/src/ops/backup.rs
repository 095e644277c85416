//! `beacon backup --out FILE`: a consistent copy of a running installation.
//!
//! The database is copied online (SQLite: `VACUUM INTO`, one read snapshot
//! beside the running writer; PostgreSQL: `pg_dump`, one repeatable-read
//! snapshot), then the generated keys and the installed plugins are read,
//! and everything is written to `FILE.partial` and renamed to `FILE` once
//! complete and synced: a failed backup never leaves a file under the name
//! a later restore would use.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::archive::{
    self, DatabaseInfo, DatabaseKind, FileInfo, KeyInfo, KeySource, Manifest, Source,
};
use super::lock::RunningLock;
use super::pg::PgTools;
use super::settings::{OpsSettings, KEYS};
use crate::storage::{self, Store};

pub struct BackupOptions {
    pub out: PathBuf,
    pub pg_bin: Option<PathBuf>,
}

pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub manifest: Manifest,
    pub elapsed: Duration,
    /// Things the operator should know (a key the archive cannot hold).
    pub warnings: Vec<String>,
}

pub async fn backup(
    settings: &OpsSettings,
    options: &BackupOptions,
) -> anyhow::Result<BackupReport> {
    let started = Instant::now();
    let config = &settings.config;
    let kind = if config.is_postgres() {
        DatabaseKind::Postgres
    } else {
        DatabaseKind::Sqlite
    };
    if kind == DatabaseKind::Sqlite {
        match storage::sqlite_file(&config.database_url)? {
            None => {
                bail!("DATABASE_URL is an in-memory SQLite database: there is nothing to back up")
            }
            Some(path) if !path.exists() => bail!(
                "there is no SQLite database at {} (check BEACON_DATA_DIR and DATABASE_URL)",
                path.display()
            ),
            Some(_) => {}
        }
    }
    let store = Store::connect(&config.database_url, 2)
        .await
        .context("connecting to the database")?;
    let _running = RunningLock::acquire(config, &store).await?;
    let Some(schema_version) = store.schema_version().await? else {
        bail!(
            "the database has no Beacon Spear schema (no applied migrations): check DATABASE_URL"
        );
    };

    let out = absolute(&options.out)?;
    let out_dir = out
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    let work = Scratch::create(&out_dir.join(format!(".{file_name}.work-{}", std::process::id())))?;

    // The database first: it is what keeps changing.
    let database_path = work.path.join("database");
    match kind {
        DatabaseKind::Sqlite => store
            .sqlite_snapshot(&database_path)
            .await
            .context("copying the SQLite database (VACUUM INTO)")?,
        DatabaseKind::Postgres => PgTools {
            bin_dir: options.pg_bin.clone(),
        }
        .dump(&config.database_url, &database_path)
        .await
        .context("dumping the PostgreSQL database")?,
    }
    if store.schema_version().await? != Some(schema_version) {
        bail!("a migration ran while the backup was taken; run the backup again");
    }
    store.close().await;
    if kind == DatabaseKind::Sqlite {
        let (problems, copied_version) = storage::inspect_sqlite_file(&database_path)
            .await
            .context("checking the database copy")?;
        if !problems.is_empty() || copied_version != Some(schema_version) {
            bail!(
                "the database copy does not check out ({}; schema {copied_version:?}, expected {schema_version})",
                problems.join("; ")
            );
        }
    }

    let database_file = match kind {
        DatabaseKind::Sqlite => archive::SQLITE_DATABASE,
        DatabaseKind::Postgres => archive::POSTGRES_DUMP,
    };
    let mut files: Vec<(String, Source<'_>)> =
        vec![(database_file.to_string(), Source::File(&database_path))];
    let mut keys = Vec::new();
    let mut warnings = Vec::new();
    for key in KEYS {
        let path = settings.key_path(&key);
        let source = if settings.key_from_env(&key).is_some() {
            warnings.push(format!(
                "{} is set in the environment: the archive does not hold it; keep it safe with the archive, a restore needs the same value",
                key.variable
            ));
            KeySource::Environment
        } else {
            match std::fs::read(&path) {
                Ok(bytes) => {
                    files.push((format!("keys/{}", key.file), Source::Bytes(bytes)));
                    KeySource::File
                }
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    warnings.push(format!(
                        "neither {} nor {} exists: {} cannot be restored",
                        key.variable,
                        path.display(),
                        key.protects
                    ));
                    KeySource::Absent
                }
                Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
            }
        };
        keys.push(KeyInfo {
            name: key.file.to_string(),
            variable: key.variable.to_string(),
            file: (source == KeySource::File).then(|| format!("keys/{}", key.file)),
            source,
        });
    }
    let mut plugins = Vec::new();
    for (name, bytes) in plugin_files(&config.plugins.dir)? {
        let path = format!("plugins/{name}");
        plugins.push(path.clone());
        files.push((path, Source::Bytes(bytes)));
    }

    let described: Vec<FileInfo> = files
        .iter()
        .map(|(path, source)| archive::describe(path, source))
        .collect::<anyhow::Result<_>>()?;
    let manifest = Manifest {
        format: archive::FORMAT.to_string(),
        format_version: archive::FORMAT_VERSION,
        created_at: crate::domain::rfc3339(crate::domain::now_ms()),
        beacon_version: env!("CARGO_PKG_VERSION").to_string(),
        database: DatabaseInfo {
            kind,
            schema_version,
            file: database_file.to_string(),
        },
        keys,
        plugins,
        files: described,
    };

    let partial = out_dir.join(format!(".{file_name}.partial-{}", std::process::id()));
    let written = archive::write(&partial, &manifest, &files);
    if let Err(err) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(err);
    }
    std::fs::rename(&partial, &out).with_context(|| {
        let _ = std::fs::remove_file(&partial);
        format!("moving the archive to {}", out.display())
    })?;
    sync_dir(&out_dir);
    drop(work);
    let bytes = std::fs::metadata(&out)
        .with_context(|| format!("reading {}", out.display()))?
        .len();
    Ok(BackupReport {
        path: out,
        bytes,
        manifest,
        elapsed: started.elapsed(),
        warnings,
    })
}

/// The installed plugin files (components and grants), by name, sorted.
fn plugin_files(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("listing {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !archive::is_plugin_file_name(&name) || !entry.path().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?;
        files.push((name, bytes));
    }
    files.sort();
    Ok(files)
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

/// Makes a rename in `dir` durable (best effort: not every file system can).
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// A working directory removed with everything in it when dropped.
pub(super) struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            std::fs::remove_dir_all(path)
                .with_context(|| format!("removing the leftover {}", path.display()))?;
        }
        std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Scratch {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
