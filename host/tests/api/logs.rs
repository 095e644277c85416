//! Structured logs: a real `beacon serve` writes one JSON object per line,
//! one line per request (route template, method, status, ms, request id)
//! plus the ingest and delivery events; a session of signing in, creating
//! keys and secret-holding channels, ingesting through every protocol,
//! refreshing and signing out leaves none of its secrets or bodies in the log.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::bark::BarkReceiver;

const PASSWORD: &str = "log-test password 7c1e";

fn beacon(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beacon"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", dir)
        .env(
            "BEACON_PLUGIN_CACHE_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-plugin-cache"),
        );
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_holds_requests_and_events_but_no_secret_or_body() {
    let receiver = BarkReceiver::start(vec![]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let created = beacon(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "logs@example.test",
            "--password",
            PASSWORD,
            "--verified",
        ])
        .output()
        .expect("user create");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let log_path = dir.path().join("server.log");
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let mut server = beacon(dir.path())
        .env("BEACON_LISTEN", format!("127.0.0.1:{port}"))
        .env("APP_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")
        .env("WORKER_POLL_INTERVAL_MS", "100")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info,beacon_host=debug")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let login = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "logs@example.test", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    let refresh_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("refresh"))
        .and_then(|c| c.split(';').next())
        .expect("refresh cookie")
        .to_string();
    let access: Value = login.json().await.expect("login JSON");
    let token = access["access_token"].as_str().expect("token").to_string();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let endpoint: Value = post("/api/ingest-endpoints", json!({"name": "logs"}))
        .await
        .expect("endpoint")
        .json()
        .await
        .expect("JSON");
    let (endpoint_id, key) = (
        endpoint["endpoint"]["id"].as_str().expect("id").to_string(),
        endpoint["ingest_key"].as_str().expect("key").to_string(),
    );
    let device_key = "device-key-4f1a9b";
    let webhook_secret = "whsec_dGhpcyBpcyBhIHNlY3JldCBmb3IgbG9ncw==";
    let bark: Value = post(
        "/api/channels",
        json!({"name": "phone", "plugin": "bark",
        "config": {"server_base_url": receiver.base_url, "device_key": device_key}}),
    )
    .await
    .expect("channel")
    .json()
    .await
    .expect("JSON");
    post(
        "/api/channels",
        json!({"name": "hook", "plugin": "webhook",
        "config": {"url": format!("{}/hook", receiver.base_url), "secret": webhook_secret}}),
    )
    .await
    .expect("channel");
    post(
        "/api/rules",
        json!({"name": "all", "channel_id": bark["id"]}),
    )
    .await
    .expect("rule");
    let github_secret = "github-secret-91d2c";
    let other: Value = post("/api/ingest-endpoints", json!({"name": "github"}))
        .await
        .expect("endpoint")
        .json()
        .await
        .expect("JSON");
    client
        .put(format!(
            "{base}/api/ingest-endpoints/{}/adapter",
            other["endpoint"]["id"].as_str().expect("id")
        ))
        .bearer_auth(&token)
        .json(&json!({"plugin": "github", "config": {"secret": github_secret}}))
        .send()
        .await
        .expect("adapter");

    // Ingest through every door, with secrets in headers and queries.
    let native_body = "native body marker 5e0c";
    let ingested: Value = client
        .post(format!(
            "{base}/api/ingest/{endpoint_id}?token=query-secret-77aa"
        ))
        .header("X-Beacon-Ingest-Key", &key)
        .header("X-Api-Key", "header-secret-31bf")
        .header("X-Forwarded-For", "203.0.113.50")
        .json(&json!({"title": "title marker 8d21", "body": native_body}))
        .send()
        .await
        .expect("ingest")
        .json()
        .await
        .expect("JSON");
    let message_id = ingested["message_id"].as_str().expect("id").to_string();
    client
        .post(format!("{base}/compat/ntfy/{endpoint_id}"))
        .bearer_auth(&key)
        .body("ntfy body marker 2b77")
        .send()
        .await
        .expect("ntfy");
    client
        .post(format!("{base}/compat/gotify/message?token={key}"))
        .json(&json!({"message": "gotify body marker 6a10"}))
        .send()
        .await
        .expect("gotify");
    client
        .get(format!(
            "{base}/compat/bark/{key}/bark%20body%20marker%209c3e"
        ))
        .send()
        .await
        .expect("bark");
    client
        .post(format!("{base}/api/ingest/{endpoint_id}"))
        .header("X-Beacon-Ingest-Key", "bsk_wrong-key-0d0d")
        .body("refused body marker 11ee")
        .send()
        .await
        .expect("refused");
    let started = Instant::now();
    while receiver.received().len() < 4 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "deliveries did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refreshed = client
        .post(format!("{base}/api/auth/refresh"))
        .header("Cookie", &refresh_cookie)
        .send()
        .await
        .expect("refresh");
    assert_eq!(refreshed.status().as_u16(), 200);
    client
        .post(format!("{base}/api/auth/logout"))
        .bearer_auth(&token)
        .header("Cookie", &refresh_cookie)
        .send()
        .await
        .expect("logout");
    let _ = server.kill();
    let _ = server.wait();

    let log = std::fs::read_to_string(&log_path).expect("log");
    let refresh_value = refresh_cookie
        .split_once('=')
        .map(|(_, v)| v)
        .unwrap_or_default();
    for secret in [
        PASSWORD,
        key.as_str(),
        token.as_str(),
        refresh_value,
        device_key,
        webhook_secret,
        github_secret,
        native_body,
        "title marker 8d21",
        "ntfy body marker 2b77",
        "gotify body marker 6a10",
        "bark body marker",
        "refused body marker",
        "query-secret-77aa",
        "header-secret-31bf",
        "bsk_wrong-key-0d0d",
    ] {
        assert!(!secret.is_empty());
        assert!(!log.contains(secret), "the log holds {secret:?}");
    }

    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|_| panic!("not one JSON object per line: {line}"))
        })
        .collect();
    let request_line = lines
        .iter()
        .find(|line| {
            line["message"] == "request"
                && line["route"] == "/api/ingest/{endpoint_id}"
                && line["status"] == 201
        })
        .unwrap_or_else(|| panic!("no request line for the native ingest in\n{log}"));
    assert_eq!(request_line["method"], "POST");
    assert_eq!(request_line["level"], "INFO");
    assert!(request_line["ms"].is_number() && request_line["timestamp"].is_string());
    assert!(request_line["request_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    // No TRUSTED_PROXIES: the peer, not the hop the client claimed.
    assert_eq!(request_line["client_ip"], "127.0.0.1");
    assert!(
        lines.iter().any(
            |line| line["message"] == "request" && line["route"] == "/compat/bark/{key}/{body}"
        ),
        "the bark route is logged by its template, not its path"
    );
    let ingested = lines
        .iter()
        .find(|line| line["message_id"] == message_id.as_str())
        .unwrap_or_else(|| panic!("no ingest event for {message_id}"));
    assert_eq!(ingested["endpoint_id"], endpoint_id.as_str());
    assert!(ingested["size"].is_number());
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "delivery attempt finished"
                && line["delivery_id"].is_string()
                && line["channel_id"].is_string()),
        "delivery events are logged"
    );
}
