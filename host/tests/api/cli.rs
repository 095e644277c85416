//! The `beacon` binary as an operator runs it: real processes, real files.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::services::free_port;

fn beacon(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beacon"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", data_dir)
        .env("BEACON_LOG_FORMAT", "text")
        .env("RUST_LOG", "warn")
        .current_dir(data_dir);
    command
}

#[test]
fn openapi_subcommand_prints_the_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = beacon(dir.path()).arg("openapi").output().expect("run");
    assert!(output.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
    assert!(doc["paths"]["/api/ingest/{endpoint_id}"].is_object());
}

#[test]
fn bad_configuration_names_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, value) in [
        ("BEACON_LISTEN", "not-an-address"),
        ("MAX_INGEST_BYTES", "lots"),
        ("JWT_SIGNING_KEY", "short"),
    ] {
        let output = beacon(dir.path())
            .env(name, value)
            .arg("migrate")
            .output()
            .expect("run");
        assert!(!output.status.success(), "{name}={value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(name), "{name} not named in: {stderr}");
    }
}

#[test]
fn migrate_user_create_and_serve_on_the_embedded_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let migrate = beacon(dir.path()).arg("migrate").output().expect("migrate");
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(
        dir.path().join("beacon.db").exists(),
        "SQLite file in the data dir"
    );
    assert!(
        dir.path().join("jwt_signing_key").exists(),
        "generated key kept in the data dir"
    );

    let mut create = beacon(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "ops@example.test",
            "--password-stdin",
            "--verified",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("user create");
    std::io::Write::write_all(
        create.stdin.as_mut().expect("stdin"),
        b"operator password\n",
    )
    .expect("write");
    let output = create.wait_with_output().expect("wait");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("(verified)"));
    let again = beacon(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "OPS@example.test",
            "--password",
            "operator password",
        ])
        .output()
        .expect("second create");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Disable, then enable again: the CLI answers for unknown users too.
    for args in [
        ["user", "disable", "--email", "ops@example.test"],
        ["user", "enable", "--email", "ops@example.test"],
    ] {
        let output = beacon(dir.path()).args(args).output().expect("run");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let unknown = beacon(dir.path())
        .args(["user", "disable", "--email", "nobody@example.test"])
        .output()
        .expect("run");
    assert!(!unknown.status.success());

    let port = free_port();
    let mut server = beacon(dir.path())
        .env("BEACON_LISTEN", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = runtime.block_on(async {
        let client = reqwest::Client::new();
        let start = Instant::now();
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "server did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let login = client
            .post(format!("{base}/api/auth/login"))
            .json(
                &serde_json::json!({"email": "ops@example.test", "password": "operator password"}),
            )
            .send()
            .await
            .expect("login");
        let status = login.status().as_u16();
        let token = login.json::<serde_json::Value>().await.expect("login JSON")["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // The embedded default serves the dashboard too.
        let page = client.get(format!("{base}/")).send().await.expect("GET /");
        assert_eq!(page.status().as_u16(), 200);
        assert!(page
            .text()
            .await
            .expect("body")
            .contains("<div id=\"root\">"));
        // An open event stream must not hold the shutdown open.
        let stream =
            crate::common::sse::EventStream::open(&format!("{base}/api/events"), &token).await;
        (status, stream)
    });
    let (result, _open_stream) = result;
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    let status = server.wait().expect("wait for server");
    assert_eq!(result, 200);
    assert!(
        status.success(),
        "server did not shut down cleanly on SIGTERM: {status:?}"
    );
    let mut stdout = String::new();
    std::io::Read::read_to_string(server.stdout.as_mut().expect("stdout"), &mut stdout)
        .expect("read");
    assert!(
        stdout.contains(&format!("running at http://127.0.0.1:{port}")),
        "{stdout}"
    );
}

/// `beacon status` says which check fails (and exits non-zero) until the
/// database is migrated and a worker reports, then exits zero.
#[test]
fn status_names_the_failing_check_until_ready() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = |dir: &std::path::Path| {
        let output = beacon(dir).arg("status").output().expect("status");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let migrated = beacon(dir.path()).arg("migrate").output().expect("migrate");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let (ok, printed) = status(dir.path());
    assert!(!ok, "no worker yet: {printed}");
    assert!(
        printed.contains("migrations  ok") && printed.contains("workers     no heartbeat"),
        "{printed}"
    );

    let port = free_port();
    let mut server = beacon(dir.path())
        .env("BEACON_LISTEN", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let started = Instant::now();
    let ready = loop {
        let (ok, printed) = status(dir.path());
        if ok || started.elapsed() > Duration::from_secs(30) {
            break (ok, printed);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = server.kill();
    let _ = server.wait();
    assert!(ready.0, "ready with a running server: {}", ready.1);
    assert!(
        ready.1.contains("workers     ok") && ready.1.contains("queue       0 due"),
        "{}",
        ready.1
    );
}
