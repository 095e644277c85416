//! Real services the tests start themselves: a throwaway PostgreSQL cluster and
//! an SMTP server (Python's aiosmtpd) writing to a maildir. Each runs under a
//! small shell watchdog that stops it within a second of this test process
//! exiting, however the process ends. A missing tool fails the tests (never
//! skips them): CI installs both.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

fn wait_for_port(port: u16, what: &str, timeout: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < timeout,
            "{what} did not start listening on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `script` in the background, stopping the process it starts (whose pid the
/// script stores in `$child`) once this test process is gone.
fn spawn_watched(script: &str, cleanup: &Path, run_as: Option<&str>, log: &Path) {
    let watchdog = format!(
        // /proc, not `kill -0`: the watchdog may run as another user than its parent.
        "{script}\nwhile [ -d /proc/{parent} ]; do sleep 1; done\nkill -INT $child 2>/dev/null; sleep 2; kill -9 $child 2>/dev/null\nrm -rf {cleanup}\n",
        parent = std::process::id(),
        cleanup = cleanup.display()
    );
    let mut command = shell(&watchdog, run_as);
    let log_file = std::fs::File::create(log).expect("service log");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .spawn()
        .expect("could not start a test service");
    // The watchdog outlives every test; a thread reaps it so it never lingers as a zombie.
    std::thread::spawn(move || child.wait());
}

/// `sh -c script`, as another OS user when given.
fn shell(script: &str, run_as: Option<&str>) -> Command {
    let mut command = match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--", "sh"]);
            c
        }
        None => Command::new("sh"),
    };
    command.args(["-c", script]);
    command
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

// ---------------------------------------------------------------- PostgreSQL

pub struct Postgres {
    /// `postgres://postgres@127.0.0.1:PORT` (no database).
    pub server_url: String,
}

fn postgres_bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("BEACON_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin; set BEACON_TEST_PG_BIN). Install with: apt-get install postgresql")
    })
}

/// The shared cluster of this test process, started on first use.
pub fn postgres() -> &'static Postgres {
    static CLUSTER: OnceLock<Postgres> = OnceLock::new();
    CLUSTER.get_or_init(start_postgres)
}

fn start_postgres() -> Postgres {
    let bin = postgres_bin_dir();
    let root = tempfile::Builder::new()
        .prefix("beacon-test-pg-")
        .tempdir()
        .expect("tempdir")
        .keep();
    let run_as = is_root().then_some("postgres");
    if run_as.is_some() {
        // initdb refuses to run as root: hand the directory to the postgres user.
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&root)
            .status()
            .expect("chown");
        assert!(
            status.success(),
            "chown of the PostgreSQL test directory failed"
        );
    }
    let data = root.join("data");
    let initdb = format!(
        "{}/initdb -D {} -U postgres --auth=trust --locale=C.UTF-8 --encoding=UTF8 --no-sync",
        bin.display(),
        data.display()
    );
    let output = shell(&initdb, run_as)
        .output()
        .expect("initdb could not run");
    assert!(
        output.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let port = free_port();
    let script = format!(
        "{bin}/postgres -D {data} -p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=64MB & child=$!",
        bin = bin.display(),
        data = data.display(),
        root = root.display(),
    );
    spawn_watched(
        &script,
        &root,
        run_as,
        &std::env::temp_dir().join(format!("beacon-test-pg-{port}.log")),
    );
    wait_for_port(port, "PostgreSQL", Duration::from_secs(30));
    Postgres {
        server_url: format!("postgres://postgres@127.0.0.1:{port}"),
    }
}

impl Postgres {
    /// A new empty database; returns its URL.
    pub async fn fresh_database(&self) -> String {
        use sqlx::Connection;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = None;
        for _ in 0..100 {
            match sqlx::PgConnection::connect(&format!("{}/postgres", self.server_url)).await {
                Ok(conn) => {
                    admin = Some(conn);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let mut admin = admin.expect("PostgreSQL accepts no connections");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        format!("{}/{name}", self.server_url)
    }
}

// ---------------------------------------------------------------- SMTP

pub struct SmtpSink {
    pub port: u16,
    maildir: PathBuf,
}

/// One mail as received by the SMTP server.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// Decoded text body.
    pub body: String,
}

/// The shared SMTP server of this test process, started on first use.
pub fn smtp() -> &'static SmtpSink {
    static SINK: OnceLock<SmtpSink> = OnceLock::new();
    SINK.get_or_init(|| {
        let check = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .output();
        assert!(
            check.map(|o| o.status.success()).unwrap_or(false),
            "python3 with aiosmtpd is required for the mail tests: pip install aiosmtpd"
        );
        let root = tempfile::Builder::new()
            .prefix("beacon-test-mail-")
            .tempdir()
            .expect("tempdir")
            .keep();
        // Python's Maildir makes its tmp/new/cur only when it creates the folder itself.
        let maildir = root.join("maildir");
        let port = free_port();
        let script = format!(
            "python3 -m aiosmtpd -n -l 127.0.0.1:{port} -c aiosmtpd.handlers.Mailbox {} & child=$!",
            maildir.display()
        );
        spawn_watched(
            &script,
            &root,
            None,
            &std::env::temp_dir().join(format!("beacon-test-smtp-{port}.log")),
        );
        wait_for_port(port, "aiosmtpd", Duration::from_secs(20));
        SmtpSink { port, maildir }
    })
}

impl SmtpSink {
    /// Waits for mails to `to` until `count` have arrived; returns them oldest first.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let mails = self.mails_to(to);
            if mails.len() >= count {
                return mails;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "expected {count} mail(s) to {to}, got {}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn mails_to(&self, to: &str) -> Vec<Mail> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .flatten()
            .filter_map(Result::ok)
            .map(|e| {
                (
                    e.metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH),
                    e.path(),
                )
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read_to_string(path).ok())
            .map(|raw| parse_mail(&raw))
            .filter(|mail| mail.to.eq_ignore_ascii_case(to))
            .collect()
    }
}

/// Enough RFC 5322 + quoted-printable/base64 decoding for lettre's plain-text mails.
pub fn parse_mail(raw: &str) -> Mail {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push_str(line.trim_start());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let to = header("to");
    let to = to
        .rsplit_once('<')
        .map(|(_, rest)| rest.trim_end_matches('>').to_string())
        .unwrap_or(to);
    let body = match header("content-transfer-encoding")
        .to_ascii_lowercase()
        .as_str()
    {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => {
            use base64::Engine;
            let joined: String = body.split_whitespace().collect();
            String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .unwrap_or_default(),
            )
            .into_owned()
        }
        _ => body.to_string(),
    };
    Mail {
        to,
        subject: header("subject"),
        body,
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 3 <= bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first link in a mail body that contains `path`.
pub fn link_in(mail: &Mail, path: &str) -> String {
    mail.body
        .split_whitespace()
        .find(|word| word.contains(path))
        .unwrap_or_else(|| panic!("no {path} link in mail: {}", mail.body))
        .to_string()
}

/// The `token` query parameter of a link.
pub fn token_of(link: &str) -> String {
    let url = url::Url::parse(link).expect("link is a URL");
    url.query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .expect("link has a token")
}

// ---------------------------------------------------------------- MQTT

pub struct Mosquitto {
    /// Anonymous clients welcome.
    pub port: u16,
    /// Only `beacon` / `broker-secret`.
    pub auth_port: u16,
}

pub const MQTT_USER: &str = "beacon";
pub const MQTT_PASSWORD: &str = "broker-secret";

/// The shared mosquitto broker of this test process, started on first use:
/// one anonymous listener and one that wants a password.
pub fn mosquitto() -> &'static Mosquitto {
    static BROKER: OnceLock<Mosquitto> = OnceLock::new();
    BROKER.get_or_init(|| {
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .expect("mosquitto is required for the MQTT tests: apt-get install mosquitto");
        let root = tempfile::Builder::new()
            .prefix("beacon-test-mqtt-")
            .tempdir()
            .expect("tempdir")
            .keep();
        let passwords = root.join("passwords");
        let made = Command::new("mosquitto_passwd")
            .arg("-b")
            .arg("-c")
            .arg(&passwords)
            .args([MQTT_USER, MQTT_PASSWORD])
            .output()
            .expect("mosquitto_passwd is required (it comes with mosquitto)");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let (port, auth_port) = (free_port(), free_port());
        let config = root.join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                // As root, mosquitto would switch to its own user, which
                // cannot read a password file in this test's temp dir.
                "{}per_listener_settings true\n\
                 listener {port} 127.0.0.1\nallow_anonymous true\n\
                 listener {auth_port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n",
                if is_root() { "user root\n" } else { "" },
                passwords.display()
            ),
        )
        .expect("write mosquitto.conf");
        // mosquitto refuses to read a password file others may read.
        let _ = Command::new("chmod").arg("0600").arg(&passwords).status();
        let script = format!("{binary} -c {} & child=$!", config.display());
        spawn_watched(
            &script,
            &root,
            None,
            &std::env::temp_dir().join(format!("beacon-test-mosquitto-{port}.log")),
        );
        wait_for_port(port, "mosquitto", Duration::from_secs(20));
        wait_for_port(auth_port, "mosquitto", Duration::from_secs(20));
        Mosquitto { port, auth_port }
    })
}
