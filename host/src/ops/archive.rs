//! The backup archive: one gzip-compressed tar file.
//!
//! ```text
//! manifest.json              first, so a reader knows what follows
//! database/beacon.db         SQLite: a consistent copy (VACUUM INTO)
//! database/beacon.pgdump     PostgreSQL: pg_dump --format=custom
//! keys/channel_config_key    generated keys, when the data directory holds them
//! keys/jwt_signing_key
//! plugins/{id}@{version}.wasm, plugins/{id}.grants.json
//! ```
//!
//! The manifest lists every other file with its size and SHA-256; the gzip
//! trailer's CRC covers the manifest itself. A reader checks all of it
//! before anything is written (`read`), so a damaged or truncated archive
//! is refused with nothing touched.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const FORMAT: &str = "beacon-spear-backup";
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const SQLITE_DATABASE: &str = "database/beacon.db";
pub const POSTGRES_DUMP: &str = "database/beacon.pgdump";
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "SQLite",
            DatabaseKind::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The `beacon` that wrote it.
    pub beacon_version: String,
    pub database: DatabaseInfo,
    pub keys: Vec<KeyInfo>,
    /// Paths of the plugin files in the archive.
    pub plugins: Vec<String>,
    /// Every file of the archive but the manifest.
    pub files: Vec<FileInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DatabaseInfo {
    pub kind: DatabaseKind,
    /// The highest migration applied when the copy was taken.
    pub schema_version: i64,
    /// Its path in the archive.
    pub file: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    /// The key file of the data directory, in the archive.
    File,
    /// The operator set the variable; the archive does not hold the key.
    Environment,
    /// Neither: the data directory had no key file and the variable was unset.
    Absent,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The file name in the data directory (`channel_config_key`, `jwt_signing_key`).
    pub name: String,
    /// The variable that replaces the file when set.
    pub variable: String,
    pub source: KeySource,
    /// Its path in the archive when `source` is `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What goes into an archive under a path.
pub enum Source<'a> {
    File(&'a Path),
    Bytes(Vec<u8>),
}

impl Source<'_> {
    fn open(&self) -> anyhow::Result<Box<dyn Read + '_>> {
        Ok(match self {
            Source::File(path) => Box::new(BufReader::new(
                File::open(path).with_context(|| format!("reading {}", path.display()))?,
            )),
            Source::Bytes(bytes) => Box::new(bytes.as_slice()),
        })
    }
}

/// Size and SHA-256 of a source, read once.
pub fn describe(path: &str, source: &Source<'_>) -> anyhow::Result<FileInfo> {
    let mut sink = Hashing::new(std::io::sink());
    std::io::copy(&mut source.open()?, &mut sink).with_context(|| format!("hashing {path}"))?;
    let (size, sha256) = sink.finish();
    Ok(FileInfo {
        path: path.to_string(),
        size,
        sha256,
    })
}

/// Writes the archive to `out` (the manifest first, then `files` in order)
/// and syncs it to disk. Each source is checked against its manifest entry
/// again while it is written, so a file that changed in between fails the
/// backup instead of making an archive that restore would refuse.
pub fn write(
    out: &Path,
    manifest: &Manifest,
    files: &[(String, Source<'_>)],
) -> anyhow::Result<()> {
    // Owner-only: the archive holds the generated keys.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(out)
        .with_context(|| format!("creating {}", out.display()))?;
    // Level 1: most of the size win of gzip at a fraction of its time
    // (bench/README.md, "Backup and restore").
    let encoder = GzEncoder::new(BufWriter::with_capacity(1 << 20, file), Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    let created = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let manifest_json = serde_json::to_vec_pretty(manifest).context("encoding the manifest")?;
    append(
        &mut builder,
        MANIFEST,
        manifest_json.len() as u64,
        created,
        manifest_json.as_slice(),
    )?;
    for (path, source) in files {
        let expected = manifest
            .files
            .iter()
            .find(|f| &f.path == path)
            .ok_or_else(|| anyhow!("{path} is not in the manifest"))?;
        let mut reader = Hashing::new(source.open()?);
        append(&mut builder, path, expected.size, created, &mut reader)?;
        let (size, sha256) = reader.finish();
        if size != expected.size || sha256 != expected.sha256 {
            bail!("{path} changed while the backup was written; run the backup again");
        }
    }
    let encoder = builder
        .into_inner()
        .with_context(|| format!("writing {}", out.display()))?;
    let writer = encoder
        .finish()
        .with_context(|| format!("writing {}", out.display()))?;
    let file = writer
        .into_inner()
        .map_err(|err| err.into_error())
        .with_context(|| format!("writing {}", out.display()))?;
    file.sync_all()
        .with_context(|| format!("syncing {}", out.display()))?;
    Ok(())
}

fn append<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    mtime: u64,
    data: impl Read,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_cksum();
    builder
        .append_data(&mut header, path, data)
        .with_context(|| format!("adding {path} to the archive"))
}

/// Reads a whole archive and checks it: the manifest first, then every
/// file against its size and SHA-256, nothing missing, nothing extra, and
/// the gzip trailer. `sink` decides where each file's bytes go (`None`:
/// nowhere, only checked). Any damage answers an error that says so.
pub fn read(
    archive: &Path,
    mut sink: impl FnMut(&FileInfo) -> anyhow::Result<Option<Box<dyn Write>>>,
) -> anyhow::Result<Manifest> {
    let damaged = |err: std::io::Error| {
        anyhow!(
            "{} is damaged (corrupt or truncated): {err}",
            archive.display()
        )
    };
    let file = File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::with_capacity(1 << 20, file)));
    let mut entries = tar.entries().map_err(damaged)?;

    let mut first = match entries.next() {
        Some(entry) => entry.map_err(damaged)?,
        None => bail!("{} is empty: not a Beacon Spear backup", archive.display()),
    };
    let first_path = first
        .path()
        .map_err(damaged)?
        .to_string_lossy()
        .into_owned();
    if first_path != MANIFEST || first.header().size().map_err(damaged)? > MAX_MANIFEST_BYTES {
        bail!(
            "{} is not a Beacon Spear backup (it does not start with {MANIFEST})",
            archive.display()
        );
    }
    let mut manifest_bytes = Vec::new();
    first.read_to_end(&mut manifest_bytes).map_err(damaged)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes).with_context(|| {
        format!(
            "{}: the manifest is not readable (damaged, or not a Beacon Spear backup)",
            archive.display()
        )
    })?;
    check_manifest(&manifest).with_context(|| format!("{}", archive.display()))?;

    let mut seen: Vec<&str> = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(damaged)?;
        let path = entry
            .path()
            .map_err(damaged)?
            .to_string_lossy()
            .into_owned();
        let Some(info) = manifest.files.iter().find(|f| f.path == path) else {
            bail!(
                "{} is damaged: it holds {path}, which its manifest does not list",
                archive.display()
            );
        };
        if seen.contains(&info.path.as_str()) {
            bail!("{} is damaged: {path} appears twice", archive.display());
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            bail!(
                "{} is damaged: {path} is not a regular file",
                archive.display()
            );
        }
        seen.push(info.path.as_str());
        let mut target = Hashing::new(match sink(info)? {
            Some(writer) => writer,
            None => Box::new(std::io::sink()),
        });
        std::io::copy(&mut entry, &mut target).map_err(damaged)?;
        target.flush().map_err(damaged)?;
        let (size, sha256) = target.finish();
        if size != info.size || sha256 != info.sha256 {
            bail!(
                "{} is damaged: {path} does not match its manifest entry ({size} bytes, sha256 {sha256}; expected {} bytes, sha256 {})",
                archive.display(),
                info.size,
                info.sha256
            );
        }
    }
    if let Some(missing) = manifest
        .files
        .iter()
        .find(|f| !seen.contains(&f.path.as_str()))
    {
        bail!(
            "{} is truncated or damaged: {} is missing",
            archive.display(),
            missing.path
        );
    }
    // The rest of the stream (tar padding, then gzip's CRC and length):
    // reading it to the end is what checks them.
    let mut rest = tar.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(damaged)?;
    Ok(manifest)
}

/// The manifest describes a backup this binary can read, and every path in
/// it is one a restore may write (no `..`, no directories of its own).
fn check_manifest(manifest: &Manifest) -> anyhow::Result<()> {
    if manifest.format != FORMAT {
        bail!("not a Beacon Spear backup (format {:?})", manifest.format);
    }
    if manifest.format_version > FORMAT_VERSION {
        bail!(
            "the archive has format version {}, and this beacon ({}) reads up to {FORMAT_VERSION}: restore it with the beacon that made it ({}) or a newer one",
            manifest.format_version,
            env!("CARGO_PKG_VERSION"),
            manifest.beacon_version
        );
    }
    let expected_database = match manifest.database.kind {
        DatabaseKind::Sqlite => SQLITE_DATABASE,
        DatabaseKind::Postgres => POSTGRES_DUMP,
    };
    if manifest.database.file != expected_database {
        bail!(
            "the manifest names the database {:?}; expected {expected_database}",
            manifest.database.file
        );
    }
    for file in &manifest.files {
        let allowed = file.path == expected_database
            || file
                .path
                .strip_prefix("keys/")
                .is_some_and(|name| manifest.keys.iter().any(|k| k.name == name))
            || file
                .path
                .strip_prefix("plugins/")
                .is_some_and(is_plugin_file_name);
        if !allowed {
            bail!("the manifest lists an unexpected file {:?}", file.path);
        }
        if manifest
            .files
            .iter()
            .filter(|f| f.path == file.path)
            .count()
            > 1
        {
            bail!("the manifest lists {:?} twice", file.path);
        }
    }
    let listed = |path: &str| manifest.files.iter().any(|f| f.path == path);
    if !listed(expected_database) {
        bail!("the manifest does not list the database");
    }
    for key in &manifest.keys {
        if !super::settings::KEYS.iter().any(|k| k.file == key.name) {
            bail!("the manifest names an unknown key {:?}", key.name);
        }
        let expected = (key.source == KeySource::File).then(|| format!("keys/{}", key.name));
        if key.file != expected || expected.as_deref().is_some_and(|p| !listed(p)) {
            bail!(
                "the manifest's entry for the key {} is inconsistent",
                key.name
            );
        }
    }
    for plugin in &manifest.plugins {
        if !listed(plugin) || !plugin.starts_with("plugins/") {
            bail!("the manifest's plugin {plugin:?} is not among its files");
        }
    }
    Ok(())
}

/// A file of the plugins directory that a backup carries: an installed
/// component or a grants file; never hidden (temporary) files or paths.
pub fn is_plugin_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && name != ".."
        && (name.ends_with(".wasm") || name.ends_with(".grants.json"))
}

/// Passes bytes through while counting and hashing them.
struct Hashing<T> {
    inner: T,
    hasher: Sha256,
    count: u64,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    fn finish(self) -> (u64, String) {
        (self.count, hex::encode(self.hasher.finalize()))
    }
}

impl<T: Write> Write for Hashing<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.count += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for Hashing<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        self.count += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(files: Vec<FileInfo>) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            created_at: "2026-01-01T00:00:00Z".into(),
            beacon_version: "0.1.0".into(),
            database: DatabaseInfo {
                kind: DatabaseKind::Sqlite,
                schema_version: 14,
                file: SQLITE_DATABASE.into(),
            },
            keys: Vec::new(),
            plugins: Vec::new(),
            files,
        }
    }

    #[test]
    fn what_is_written_reads_back_and_a_changed_byte_does_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = Source::Bytes(b"not really a database".to_vec());
        let info = describe(SQLITE_DATABASE, &source).expect("describe");
        let out = dir.path().join("a.tar.gz");
        write(
            &out,
            &manifest(vec![info.clone()]),
            &[(SQLITE_DATABASE.to_string(), source)],
        )
        .expect("write");
        let mut seen = Vec::new();
        let read_back = read(&out, |file| {
            seen.push(file.path.clone());
            Ok(None)
        })
        .expect("read");
        assert_eq!(read_back.files, vec![info]);
        assert_eq!(seen, vec![SQLITE_DATABASE.to_string()]);

        let mut bytes = std::fs::read(&out).expect("bytes");
        let last = bytes.len() - 8;
        bytes[last] ^= 1; // inside the gzip trailer's CRC
        std::fs::write(&out, &bytes).expect("write");
        let err = read(&out, |_| Ok(None)).expect_err("a wrong CRC is damage");
        assert!(err.to_string().contains("damaged"), "{err}");
    }

    #[test]
    fn a_manifest_cannot_name_paths_outside_its_places() {
        for path in [
            "../beacon.db",
            "plugins/../../etc/passwd",
            "plugins/.hidden.wasm",
            "keys/other",
            "plugins/a/b.wasm",
            "elsewhere",
        ] {
            let mut files = vec![FileInfo {
                path: SQLITE_DATABASE.into(),
                size: 1,
                sha256: String::new(),
            }];
            files.push(FileInfo {
                path: path.into(),
                size: 1,
                sha256: String::new(),
            });
            assert!(check_manifest(&manifest(files)).is_err(), "{path} accepted");
        }
        assert!(is_plugin_file_name("http-post@0.1.0.wasm"));
        assert!(is_plugin_file_name("http-post.grants.json"));
    }
}
