//! `beacon restore FILE [--force]`: puts a backup back.
//!
//! In this order, and nothing is changed before the last step:
//! 1. the whole archive is read and checked (manifest, every file's size
//!    and SHA-256, the gzip trailer);
//! 2. it must fit: same database kind as `DATABASE_URL`, a schema this
//!    binary knows;
//! 3. the running lock is taken exclusively (no `serve`, `web`, `worker`…
//!    may hold it);
//! 4. existing data (a database with users or messages, key files, plugin
//!    files) is only replaced with `--force`;
//! 5. every file is extracted beside its destination and checked again
//!    (SQLite: `quick_check` and the schema version; PostgreSQL:
//!    `pg_restore --list`);
//! 6. then put in place: the SQLite file by one rename (PostgreSQL:
//!    `pg_restore --clean --if-exists --single-transaction`), the keys and
//!    the plugins by renames.

use std::fs::OpenOptions;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::archive::{self, DatabaseKind, KeySource, Manifest};
use super::backup::{sync_dir, Scratch};
use super::lock;
use super::pg::PgTools;
use super::settings::{OpsSettings, KEYS};
use crate::storage::{self, Store};

pub struct RestoreOptions {
    pub archive: PathBuf,
    pub force: bool,
    pub pg_bin: Option<PathBuf>,
}

pub struct RestoreReport {
    pub manifest: Manifest,
    pub elapsed: Duration,
    /// What the operator must still do or know.
    pub warnings: Vec<String>,
}

pub async fn restore(
    settings: &OpsSettings,
    options: &RestoreOptions,
) -> anyhow::Result<RestoreReport> {
    let started = Instant::now();
    let config = &settings.config;

    // 1. The whole archive, before anything else.
    let manifest = archive::read(&options.archive, |_| Ok(None))
        .context("the archive was refused; nothing was changed")?;

    // 2. Does it fit this binary and this target?
    let kind = if config.is_postgres() {
        DatabaseKind::Postgres
    } else {
        DatabaseKind::Sqlite
    };
    if manifest.database.kind != kind {
        bail!(
            "{} holds a {} database and DATABASE_URL points at {}: a backup is restored into the same kind of database",
            options.archive.display(),
            manifest.database.kind.as_str(),
            kind.as_str()
        );
    }
    let latest = storage::latest_known_version(kind == DatabaseKind::Postgres);
    if manifest.database.schema_version > latest {
        bail!(
            "{} has schema version {} (made by beacon {}), newer than this beacon {} knows (migrations up to {latest}): restore it with beacon {} or newer",
            options.archive.display(),
            manifest.database.schema_version,
            manifest.beacon_version,
            env!("CARGO_PKG_VERSION"),
            manifest.beacon_version
        );
    }
    let sqlite_path = match kind {
        DatabaseKind::Sqlite => match storage::sqlite_file(&config.database_url)? {
            Some(path) => Some(std::path::absolute(&path).unwrap_or(path)),
            None => bail!(
                "DATABASE_URL is an in-memory SQLite database: there is nowhere to restore to"
            ),
        },
        DatabaseKind::Postgres => None,
    };

    // 3. Nobody may be using the data.
    let data_dir = config.data_dir.clone();
    let _dir_lock = lock::lock_data_dir(&data_dir)?;
    let postgres = match kind {
        DatabaseKind::Postgres => {
            let store = Store::connect(&config.database_url, 2)
                .await
                .context("connecting to the database")?;
            let db_lock = lock::lock_database(&store).await?;
            Some((store, db_lock))
        }
        DatabaseKind::Sqlite => None,
    };

    // 4. Existing data is replaced only when the operator says so.
    let mut existing = Vec::new();
    let presence = match (&sqlite_path, &postgres) {
        (Some(path), _) => match storage::sqlite_file_presence(path).await {
            Ok(presence) => presence,
            // A file there that SQLite cannot read is data too: only
            // --force replaces it.
            Err(err) => {
                existing.push(format!(
                    "{} exists and cannot be read as a database ({err})",
                    path.display()
                ));
                None
            }
        },
        (None, Some((store, _))) => Some(store.data_presence().await?),
        (None, None) => None,
    };
    if let Some(presence) = presence.filter(|p| !p.is_empty()) {
        existing.push(format!(
            "the database holds {} user(s) and {} message(s)",
            presence.users, presence.messages
        ));
    }
    if let Some((store, _)) = &postgres {
        if let Some(current) = store.schema_version().await? {
            if current > manifest.database.schema_version {
                bail!(
                    "the database has schema version {current}, newer than the archive's {}: pg_restore would leave the newer schema's objects behind. Restore into an empty database (drop and create it, docs/operations.md)",
                    manifest.database.schema_version
                );
            }
        }
    }
    for key in KEYS {
        let path = settings.key_path(&key);
        if path.exists() {
            existing.push(format!("the key file {}", path.display()));
        }
    }
    let plugins_dir = config.plugins.dir.clone();
    let installed = plugin_files(&plugins_dir)?;
    if !installed.is_empty() {
        existing.push(format!(
            "{} plugin file(s) in {}",
            installed.len(),
            plugins_dir.display()
        ));
    }
    if !existing.is_empty() && !options.force {
        bail!(
            "refusing to restore over existing data: {}. Pass --force to replace it (what is there now is lost; back it up first)",
            existing.join("; ")
        );
    }

    // 5. Extract beside each destination, and check again.
    let pid = std::process::id();
    let scratch = Scratch::create(&data_dir.join(format!(".restore-{pid}")))?;
    let mut staged = Staged::default();
    let mut plan: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    for file in &manifest.files {
        let (staging, destination) = if file.path == manifest.database.file {
            match &sqlite_path {
                Some(path) => (hidden_beside(path, pid)?, path.clone()),
                None => {
                    let dump = scratch.path.join("beacon.pgdump");
                    (dump.clone(), dump)
                }
            }
        } else if let Some(name) = file.path.strip_prefix("keys/") {
            let destination = data_dir.join(name);
            (hidden_beside(&destination, pid)?, destination)
        } else if let Some(name) = file.path.strip_prefix("plugins/") {
            std::fs::create_dir_all(&plugins_dir)
                .with_context(|| format!("creating {}", plugins_dir.display()))?;
            let destination = plugins_dir.join(name);
            (hidden_beside(&destination, pid)?, destination)
        } else {
            bail!("the archive lists an unexpected file {}", file.path);
        };
        plan.push((file.path.clone(), staging, destination));
    }
    let second = archive::read(&options.archive, |info| {
        let Some((_, staging, _)) = plan.iter().find(|(path, _, _)| *path == info.path) else {
            bail!("the archive lists an unexpected file {}", info.path);
        };
        staged.files.push(staging.clone());
        let file = private_file(staging)?;
        Ok(Some(Box::new(BufWriter::with_capacity(1 << 20, file))))
    })?;
    if second.files != manifest.files {
        bail!(
            "{} changed while it was being restored",
            options.archive.display()
        );
    }
    for path in &staged.files {
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("syncing {}", path.display()))?;
    }
    let database_staged = plan
        .iter()
        .find(|(path, _, _)| *path == manifest.database.file)
        .map(|(_, staging, _)| staging.clone())
        .context("the archive holds no database")?;
    let tools = PgTools {
        bin_dir: options.pg_bin.clone(),
    };
    match kind {
        DatabaseKind::Sqlite => {
            let (problems, version) = storage::inspect_sqlite_file(&database_staged)
                .await
                .context("checking the database in the archive")?;
            if !problems.is_empty() {
                bail!(
                    "the database in the archive is damaged: {}",
                    problems.join("; ")
                );
            }
            if version != Some(manifest.database.schema_version) {
                bail!(
                    "the database in the archive has schema version {version:?}, its manifest says {}",
                    manifest.database.schema_version
                );
            }
        }
        DatabaseKind::Postgres => tools
            .check_dump(&database_staged)
            .await
            .context("checking the dump in the archive")?,
    }

    // 6. Put everything in place, the database first.
    match (&sqlite_path, &postgres) {
        (Some(path), _) => {
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut side = path.clone().into_os_string();
                side.push(suffix);
                remove_if_present(Path::new(&side))?;
            }
            std::fs::rename(&database_staged, path)
                .with_context(|| format!("moving the database into {}", path.display()))?;
            if let Some(parent) = path.parent() {
                sync_dir(parent);
            }
        }
        (None, Some(_)) => tools
            .restore(&config.database_url, &database_staged)
            .await
            .context("restoring the PostgreSQL database (nothing was changed)")?,
        (None, None) => bail!("no database to restore into"),
    }
    if let Some((store, db_lock)) = postgres {
        db_lock.release().await;
        store.close().await;
    }

    let mut warnings = Vec::new();
    for key in &manifest.keys {
        let Some(spec) = KEYS.iter().find(|k| k.file == key.name) else {
            continue;
        };
        let destination = data_dir.join(&key.name);
        match key.source {
            KeySource::File => {
                let staging = plan
                    .iter()
                    .find(|(path, _, _)| Some(path) == key.file.as_ref())
                    .map(|(_, staging, _)| staging.clone())
                    .with_context(|| format!("the archive holds no file for {}", key.name))?;
                if let Some(value) = settings.key_from_env(spec) {
                    let restored = std::fs::read_to_string(&staging).unwrap_or_default();
                    if restored.trim() != value {
                        warnings.push(format!(
                            "{} is set in the environment and is not the key of this backup: it overrides the restored {}, so {} will not work until you unset it or set it to the backed-up key",
                            spec.variable,
                            destination.display(),
                            spec.protects
                        ));
                    }
                }
                std::fs::rename(&staging, &destination)
                    .with_context(|| format!("moving the key into {}", destination.display()))?;
            }
            KeySource::Environment | KeySource::Absent => {
                remove_if_present(&destination)?;
                let known = settings.key_from_env(spec).is_some();
                warnings.push(match (key.source, known) {
                    (KeySource::Environment, true) => format!(
                        "the backed-up server took {} from its environment; make sure the value set here is the same one, or {} will not work",
                        spec.variable, spec.protects
                    ),
                    (KeySource::Environment, false) => format!(
                        "the backed-up server took {} from its environment and the archive does not hold it: set the same value before starting the server, or {} will not work",
                        spec.variable, spec.protects
                    ),
                    _ => format!(
                        "the archive holds no {}: {} made with it will not work",
                        spec.variable, spec.protects
                    ),
                });
            }
        }
    }
    for (name, path) in &installed {
        if !manifest
            .plugins
            .iter()
            .any(|p| p == &format!("plugins/{name}"))
        {
            remove_if_present(path)?;
        }
    }
    for plugin in &manifest.plugins {
        if let Some((_, staging, destination)) = plan.iter().find(|(path, _, _)| path == plugin) {
            std::fs::rename(staging, destination)
                .with_context(|| format!("moving the plugin into {}", destination.display()))?;
        }
    }
    sync_dir(&data_dir);
    sync_dir(&plugins_dir);
    staged.files.clear();
    drop(scratch);
    Ok(RestoreReport {
        manifest,
        elapsed: started.elapsed(),
        warnings,
    })
}

/// Files extracted but not (yet) moved into place; removed if the
/// restore stops before it moves them.
#[derive(Default)]
struct Staged {
    files: Vec<PathBuf>,
}

impl Drop for Staged {
    fn drop(&mut self) {
        for path in &self.files {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `.{name}.restore-{pid}` in the destination's directory: a rename from
/// there into place is atomic.
fn hidden_beside(destination: &Path, pid: u32) -> anyhow::Result<PathBuf> {
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{} has no file name", destination.display()))?;
    let dir = destination.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir.join(format!(".{name}.restore-{pid}")))
}

fn private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("removing {}", path.display())),
    }
}

/// The plugin files a backup would carry, present in `dir` now.
fn plugin_files(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("listing {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if archive::is_plugin_file_name(&name) {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}
