//! `beacon backup` and `beacon restore` as an operator runs them: real
//! processes against the test server's real SQLite file or PostgreSQL
//! database, while it keeps ingesting; restored into a fresh data directory
//! (and a fresh database), served by a real `beacon serve`.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::receiver::{Answer, Receiver};
use crate::common::services::{free_port, postgres};
use crate::common::{Db, TestServer, WEB_ONLY};
use crate::on_both_databases;

/// The PostgreSQL client tools of the test cluster's version (pg_dump must
/// not be older than the server).
pub(crate) fn pg_bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("BEACON_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("pg_dump").exists())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .expect("pg_dump not found in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
}

/// What one `beacon` run printed.
#[derive(Debug)]
pub(crate) struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// The environment every `beacon` process of these tests gets.
pub(crate) fn base_env() -> Vec<(String, String)> {
    [
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("BEACON_LOG_FORMAT", "text".to_string()),
        ("RUST_LOG", "warn".to_string()),
        ("RUST_BACKTRACE", "0".to_string()),
        (
            "BEACON_PLUGIN_CACHE_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-plugin-cache").to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn command(args: &[&str], env: &[(String, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beacon"));
    command.env_clear().args(args);
    for (key, value) in base_env().iter().chain(env) {
        command.env(key, value);
    }
    command
}

/// Runs `beacon args…` to its end (on a blocking thread).
pub(crate) async fn beacon(args: &[&str], env: &[(String, String)]) -> Run {
    let mut command = command(args, env);
    command.stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("beacon runs");
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A data directory and, on PostgreSQL, a database of its own.
pub(crate) struct Place {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
}

impl Place {
    pub async fn fresh(db: Db) -> Self {
        Place {
            dir: tempfile::tempdir().expect("tempdir"),
            database_url: match db {
                Db::Sqlite => None,
                Db::Postgres => Some(postgres().fresh_database().await),
            },
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![(
            "BEACON_DATA_DIR".to_string(),
            self.dir.path().display().to_string(),
        )];
        if let Some(url) = &self.database_url {
            env.push(("DATABASE_URL".to_string(), url.clone()));
        }
        env
    }

    /// The URL the server of this place uses.
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.dir.path().join("beacon.db").display()
            )
        })
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.url()).await.expect("database");
        let count: i64 = sqlx::query_scalar(sql)
            .fetch_one(&pool)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
        pool.close().await;
        count
    }
}

/// A `beacon serve` process, stopped when dropped.
pub(crate) struct Serving {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Serving {
    /// Starts `beacon serve` and waits until it answers `/healthz`.
    pub async fn start(env: &[(String, String)]) -> Self {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("beacon-test-serve-{port}.log"));
        let file = std::fs::File::create(&log).expect("log");
        let mut env = env.to_vec();
        env.push(("BEACON_LISTEN".into(), format!("127.0.0.1:{port}")));
        env.push(("WORKER_POLL_INTERVAL_MS".into(), "100".into()));
        env.push(("INGEST_RATE_LIMIT_PER_MINUTE".into(), "0".into()));
        let child = command(&["serve"], &env)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("beacon serve starts");
        let mut serving = Serving {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = serving.child.try_wait() {
                panic!("beacon serve exited ({status}): {}", serving.log());
            }
            if let Ok(reply) = reqwest::get(format!("{}/healthz", serving.base)).await {
                if reply.status().is_success() {
                    return serving;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "beacon serve did not answer: {}",
                serving.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let reply = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Every file under `dir` with its contents.
pub(crate) fn files_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    files
}

fn compat_plugin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat/http-post-wit-0.2.0.wasm")
}

const GRANTS: &str = r#"{"allowed_hosts": ["127.0.0.1"]}"#;

/// A running source: the test server (no worker, so deliveries wait), a
/// plugins directory with a third-party plugin and its grants, a user, an
/// endpoint, a channel through that plugin and a rule for every tenth message.
struct Source {
    server: Arc<TestServer>,
    plugins: tempfile::TempDir,
    token: String,
    endpoint: crate::common::TestEndpoint,
    channel_id: String,
    receiver: Receiver,
}

impl Source {
    async fn start(db: Db) -> Self {
        let plugins = tempfile::tempdir().expect("tempdir");
        std::fs::copy(compat_plugin(), plugins.path().join("http-post@0.1.0.wasm"))
            .expect("copy plugin");
        std::fs::write(plugins.path().join("http-post.grants.json"), GRANTS).expect("grants");
        let dir = plugins.path().display().to_string();
        let server = TestServer::start_with(
            db,
            &[
                (WEB_ONLY, "1"),
                // Generated into the data dir, so the archive must carry it.
                ("JWT_SIGNING_KEY", ""),
                ("BEACON_PLUGINS_DIR", dir.as_str()),
                ("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32"),
            ],
        )
        .await;
        let receiver = Receiver::start(vec![], Answer::json(200, json!({"ok": true}))).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "load").await;
        let channel = server
            .post(
                "/api/channels",
                Some(&user.token),
                json!({"name": "hook", "plugin": "http-post",
                       "config": {"url": format!("{}/hook", receiver.base_url)}}),
            )
            .await;
        channel.assert_status(201);
        let channel_id = channel.json["id"].as_str().expect("id").to_string();
        server
            .post(
                "/api/rules",
                Some(&user.token),
                json!({"name": "tenth", "enabled": true, "channel_id": channel_id,
                       "filter": {"body": {"contains": ["deliver-me"]}},
                       "extra_filters": [], "payload_template": {}}),
            )
            .await
            .assert_status(201);
        Source {
            server: Arc::new(server),
            plugins,
            token: user.token,
            endpoint,
            channel_id,
            receiver,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "BEACON_DATA_DIR".to_string(),
                self.server.data_dir().display().to_string(),
            ),
            (
                "BEACON_PLUGINS_DIR".to_string(),
                self.plugins.path().display().to_string(),
            ),
        ];
        if self.server.database_url().starts_with("postgres") {
            env.push((
                "DATABASE_URL".into(),
                self.server.database_url().to_string(),
            ));
        }
        env
    }

    async fn ingest(&self, count: usize) {
        for i in 0..count {
            let body = if i % 10 == 0 {
                format!("deliver-me {i}")
            } else {
                format!("quiet {i}")
            };
            self.server
                .ingest_ok(&self.endpoint, json!({"body": body}))
                .await;
        }
    }

    async fn backup(&self, db: Db, out: &Path) -> Run {
        let mut args = vec!["backup", "--out", out.to_str().expect("utf-8 path")];
        let pg_bin = pg_bin_dir().display().to_string();
        if db == Db::Postgres {
            args.extend(["--pg-bin", pg_bin.as_str()]);
        }
        beacon(&args, &self.env()).await
    }
}

async fn restore(db: Db, archive: &Path, place: &Place, extra: &[&str]) -> Run {
    let mut args = vec!["restore", archive.to_str().expect("utf-8 path")];
    args.extend(extra);
    let pg_bin = pg_bin_dir().display().to_string();
    if db == Db::Postgres {
        args.extend(["--pg-bin", pg_bin.as_str()]);
    }
    beacon(&args, &place.env()).await
}

/// Every message id the user can list on a server, walking every page.
async fn message_ids(serving: &Serving, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/messages?limit=200".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = serving.get(&path, token).await;
        assert_eq!(status, 200, "{page}");
        ids.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|m| m["id"].as_str().expect("id").to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
}

on_both_databases! {
    /// Ingest runs in four loops while `beacon backup` runs; the archive
    /// restored into a fresh place serves every message acknowledged
    /// before the backup started (and none that was never acknowledged),
    /// the same channels and rules, a channel config that still decrypts,
    /// the pending deliveries (sent by the restored server through the
    /// restored third-party plugin), the plugin files, and sessions signed
    /// with the restored key.
    async fn a_backup_taken_under_load_restores_everything(db: Db) {
        let source = Arc::new(Source::start(db).await);
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let counter = Arc::new(AtomicUsize::new(0));
        let mut loops = Vec::new();
        for _ in 0..4 {
            let (source, acked, stop, counter) =
                (source.clone(), acked.clone(), stop.clone(), counter.clone());
            loops.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    let body = if i % 10 == 0 {
                        format!("deliver-me {i}")
                    } else {
                        format!("load {i}")
                    };
                    let id = source
                        .server
                        .ingest_ok(&source.endpoint, json!({"body": body, "title": format!("t{i}")}))
                        .await;
                    acked.lock().expect("lock").push(id);
                }
            }));
        }
        let started = Instant::now();
        while acked.lock().expect("lock").len() < 300 {
            assert!(started.elapsed() < Duration::from_secs(60), "ingest too slow");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let work = tempfile::tempdir().expect("tempdir");
        let archive = work.path().join("backup.tar.gz");
        let before: Vec<String> = acked.lock().expect("lock").clone();
        let backup = source.backup(db, &archive).await;
        let during = acked.lock().expect("lock").len() - before.len();
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.store(true, Ordering::Relaxed);
        for task in loops {
            task.await.expect("ingest loop");
        }
        assert!(backup.ok, "backup failed: {backup:?}");
        assert!(backup.stdout.contains("backup written to"), "{backup:?}");
        assert!(during > 0, "ingest stopped while the backup ran");
        let all_acked: HashSet<String> = acked.lock().expect("lock").iter().cloned().collect();
        eprintln!(
            "{db:?}: {} acknowledged before the backup, {during} while it ran, {} in all",
            before.len(),
            all_acked.len()
        );

        // Restore into a fresh data dir (and database): no --force needed.
        let place = Place::fresh(db).await;
        let restored = restore(db, &archive, &place, &[]).await;
        assert!(restored.ok, "restore failed: {restored:?}");
        assert!(restored.stdout.contains("restored"), "{restored:?}");

        // The files the data lives on.
        let target = place.dir.path();
        for key in ["channel_config_key", "jwt_signing_key"] {
            assert_eq!(
                std::fs::read(target.join(key)).ok(),
                std::fs::read(source.server.data_dir().join(key)).ok(),
                "{key} restored"
            );
        }
        assert_eq!(
            std::fs::read(target.join("plugins/http-post@0.1.0.wasm")).ok(),
            std::fs::read(compat_plugin()).ok(),
            "plugin restored"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("plugins/http-post.grants.json")).ok().as_deref(),
            Some(GRANTS),
            "grants restored"
        );

        // Counts straight from the restored database, before a server runs.
        let messages = place.count("SELECT COUNT(*) FROM messages").await;
        let to_deliver = place
            .count("SELECT COUNT(*) FROM messages WHERE body LIKE 'deliver-me%'")
            .await;
        let queued = place
            .count("SELECT COUNT(*) FROM deliveries WHERE status = 'queued'")
            .await;
        assert!(messages as usize >= before.len(), "{messages} < {}", before.len());
        assert!(to_deliver > 0);
        assert_eq!(queued, to_deliver, "one pending delivery per matching message");
        assert_eq!(place.count("SELECT COUNT(*) FROM channels").await, 1);
        assert_eq!(place.count("SELECT COUNT(*) FROM rules").await, 1);

        // A real `beacon serve` on the restored place.
        let mut env = place.env();
        env.push(("BEACON_OUTBOUND_ALLOWLIST".into(), "127.0.0.1/32".into()));
        let serving = Serving::start(&env).await;
        // The session of the source still holds: the signing key came back.
        let (status, me) = serving.get("/api/auth/me", &source.token).await;
        assert_eq!(status, 200, "{me}");

        let ids = message_ids(&serving, &source.token).await;
        assert_eq!(ids.len() as i64, messages);
        let restored_ids: HashSet<&String> = ids.iter().collect();
        for id in &before {
            assert!(restored_ids.contains(id), "{id}, acknowledged before the backup, is missing");
        }
        for id in &ids {
            assert!(all_acked.contains(id), "{id} was restored but never acknowledged");
        }
        // A sample of bodies, compared with the source.
        for id in ids.iter().step_by((ids.len() / 25).max(1)) {
            let (status, restored) = serving.get(&format!("/api/messages/{id}"), &source.token).await;
            assert_eq!(status, 200, "{restored}");
            let original = source
                .server
                .get(&format!("/api/messages/{id}"), Some(&source.token))
                .await;
            for field in ["body", "title", "received_at", "tags", "priority", "endpoint"] {
                assert_eq!(restored[field], original.json[field], "{field} of {id}");
            }
        }
        // Channels and rules as they were; the channel's config decrypts.
        for path in ["/api/channels", "/api/rules"] {
            let (status, restored) = serving.get(path, &source.token).await;
            assert_eq!(status, 200, "{restored}");
            let original = source.server.get(path, Some(&source.token)).await;
            assert_eq!(restored["items"], original.json["items"], "{path}");
        }
        let (status, channel) = serving
            .get(&format!("/api/channels/{}", source.channel_id), &source.token)
            .await;
        assert_eq!(status, 200, "{channel}");
        assert_eq!(
            channel["config"]["url"],
            format!("{}/hook", source.receiver.base_url)
        );

        // The pending deliveries leave from the restored server, through
        // the restored plugin with the decrypted config.
        let started = Instant::now();
        while (source.receiver.received().len() as i64) < to_deliver {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "{} of {to_deliver} pending deliveries arrived; server log: {}",
                source.receiver.received().len(),
                serving.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(source.receiver.received().len() as i64, to_deliver, "each sent once");
        eprintln!("{db:?}: {messages} messages restored, {to_deliver} pending deliveries sent after the restore");
    }

    /// A corrupted or truncated archive is refused with an error that says
    /// so, and the place it was meant for (here: one holding a restored
    /// installation, with --force) is left exactly as it was.
    async fn a_damaged_archive_changes_nothing(db: Db) {
        let source = Source::start(db).await;
        source.ingest(30).await;
        let work = tempfile::tempdir().expect("tempdir");
        let archive = work.path().join("backup.tar.gz");
        let backup = source.backup(db, &archive).await;
        assert!(backup.ok, "{backup:?}");
        let place = Place::fresh(db).await;
        assert!(restore(db, &archive, &place, &[]).await.ok);
        let files_before = files_of(place.dir.path());
        let messages_before = place.count("SELECT COUNT(*) FROM messages").await;
        assert_eq!(messages_before, 30);

        let bytes = std::fs::read(&archive).expect("archive");
        let mut damaged: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut flipped = bytes.clone();
        let middle = flipped.len() / 2;
        for byte in &mut flipped[middle..middle + 16] {
            *byte ^= 0xff;
        }
        damaged.push(("corrupted in the middle", flipped));
        let mut early = bytes.clone();
        early[60] ^= 0x55;
        damaged.push(("corrupted in the manifest", early));
        damaged.push(("truncated", bytes[..bytes.len() * 6 / 10].to_vec()));
        damaged.push(("short by its last bytes", bytes[..bytes.len() - 4].to_vec()));
        for (what, contents) in damaged {
            let path = work.path().join("damaged.tar.gz");
            std::fs::write(&path, contents).expect("write");
            let run = restore(db, &path, &place, &["--force"]).await;
            assert!(!run.ok, "{what}: accepted: {run:?}");
            assert!(
                run.stderr.contains("damaged") || run.stderr.contains("not a Beacon Spear backup") || run.stderr.contains("not readable"),
                "{what}: unclear error: {}",
                run.stderr
            );
            assert!(run.stderr.contains("nothing was changed"), "{what}: {}", run.stderr);
            assert_eq!(files_of(place.dir.path()), files_before, "{what}: files touched");
            assert_eq!(
                place.count("SELECT COUNT(*) FROM messages").await,
                messages_before,
                "{what}: database touched"
            );
        }
        // Into a fresh place, a damaged archive leaves it empty.
        let fresh = Place::fresh(db).await;
        let path = work.path().join("damaged.tar.gz");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
        let run = restore(db, &path, &fresh, &[]).await;
        assert!(!run.ok);
        assert!(files_of(fresh.dir.path()).is_empty(), "{:?}", files_of(fresh.dir.path()).keys());
        if db == Db::Postgres {
            assert_eq!(
                fresh
                    .count("SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.tables WHERE table_schema = 'public'")
                    .await,
                0
            );
        }
    }

    /// While a server holds the data, restore refuses and says why (on
    /// PostgreSQL also from another data directory: the database's own
    /// lock). Existing data needs --force. An archive from a newer schema
    /// is refused, --force or not. pg_dump missing is named.
    async fn restore_refuses_what_it_must(db: Db) {
        let source = Source::start(db).await;
        source.ingest(5).await;
        let work = tempfile::tempdir().expect("tempdir");
        let archive = work.path().join("backup.tar.gz");
        assert!(source.backup(db, &archive).await.ok);

        // A server runs on the source: restoring over it is refused.
        let running = Place {
            dir: tempfile::tempdir().expect("tempdir"),
            database_url: None,
        };
        let mut env = source.env();
        let run = {
            let mut args = vec!["restore", archive.to_str().expect("path"), "--force"];
            let pg_bin = pg_bin_dir().display().to_string();
            if db == Db::Postgres {
                args.extend(["--pg-bin", pg_bin.as_str()]);
            }
            beacon(&args, &env).await
        };
        assert!(!run.ok, "{run:?}");
        assert!(run.stderr.contains("stop"), "{}", run.stderr);
        assert!(run.stderr.contains("is using"), "{}", run.stderr);
        if db == Db::Postgres {
            // Another data directory, the same database: the advisory lock refuses.
            env.retain(|(k, _)| k != "BEACON_DATA_DIR");
            env.push(("BEACON_DATA_DIR".into(), running.dir.path().display().to_string()));
            let run = beacon(
                &["restore", archive.to_str().expect("path"), "--force", "--pg-bin", &pg_bin_dir().display().to_string()],
                &env,
            )
            .await;
            assert!(!run.ok, "{run:?}");
            assert!(run.stderr.contains("is using this database"), "{}", run.stderr);
        }
        assert_eq!(
            source.server.get("/api/auth/me", Some(&source.token)).await.status,
            200,
            "the running server is unharmed"
        );

        // A fresh place takes it; a second restore needs --force.
        let place = Place::fresh(db).await;
        assert!(restore(db, &archive, &place, &[]).await.ok);
        let again = restore(db, &archive, &place, &[]).await;
        assert!(!again.ok);
        assert!(again.stderr.contains("existing data"), "{}", again.stderr);
        assert!(again.stderr.contains("--force"), "{}", again.stderr);
        assert!(again.stderr.contains("5 message(s)"), "{}", again.stderr);
        let forced = restore(db, &archive, &place, &["--force"]).await;
        assert!(forced.ok, "{forced:?}");
        assert_eq!(place.count("SELECT COUNT(*) FROM messages").await, 5);

        // An archive from a newer schema (its manifest says so).
        let newer = work.path().join("newer.tar.gz");
        rewrite_manifest(&archive, &newer, |manifest| {
            manifest["database"]["schema_version"] = json!(999);
            manifest["beacon_version"] = json!("9.9.9");
        });
        let fresh = Place::fresh(db).await;
        let run = restore(db, &newer, &fresh, &["--force"]).await;
        assert!(!run.ok, "{run:?}");
        assert!(run.stderr.contains("newer"), "{}", run.stderr);
        assert!(run.stderr.contains("999"), "{}", run.stderr);
        assert!(run.stderr.contains("9.9.9"), "{}", run.stderr);
        assert!(files_of(fresh.dir.path()).is_empty());

        if db == Db::Postgres {
            let run = beacon(
                &["backup", "--out", work.path().join("x.tar.gz").to_str().expect("path"), "--pg-bin", "/nonexistent"],
                &source.env(),
            )
            .await;
            assert!(!run.ok);
            assert!(run.stderr.contains("pg_dump was not found"), "{}", run.stderr);
            assert!(!work.path().join("x.tar.gz").exists());
        }
    }
}

/// Copies an archive, letting `change` edit its manifest.
fn rewrite_manifest(from: &Path, to: &Path, change: impl FnOnce(&mut Value)) {
    use flate2::read::GzDecoder;
    use flate2::write::GzEncoder;
    let mut reader = tar::Archive::new(GzDecoder::new(std::fs::File::open(from).expect("open")));
    let mut writer = tar::Builder::new(GzEncoder::new(
        std::fs::File::create(to).expect("create"),
        flate2::Compression::fast(),
    ));
    let mut change = Some(change);
    for entry in reader.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read");
        if path == "manifest.json" {
            let mut manifest: Value = serde_json::from_slice(&data).expect("manifest");
            if let Some(change) = change.take() {
                change(&mut manifest);
            }
            data = serde_json::to_vec_pretty(&manifest).expect("json");
        }
        let mut header = entry.header().clone();
        header.set_size(data.len() as u64);
        header.set_cksum();
        writer
            .append_data(&mut header, &path, data.as_slice())
            .expect("append");
    }
    writer.into_inner().expect("tar").finish().expect("gzip");
}
