//! Scheduled delivery: `deliver_at` / `delay` (and ntfy's `Delay`) store the
//! message at once and hold its deliveries until the time; deleting the
//! message first cancels them; the schedule lives in the database, so a
//! worker that was not running at ingest time still sends it on time, and a
//! server killed and started again sends it once.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::bark::BarkReceiver;
use crate::common::{Db, TestEndpoint, TestServer, TestUser, WEB_ONLY};
use crate::delivery::{wait_for_status, Pipeline};
use crate::on_both_databases;

/// A server (with `env`), a user with an endpoint, one Bark channel and a rule.
async fn pipeline(db: Db, receiver: &BarkReceiver, env: &[(&str, &str)]) -> Pipeline {
    let mut all = vec![("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")];
    all.extend_from_slice(env);
    let server = TestServer::start_with(db, &all).await;
    let user = server.user().await;
    let endpoint = server.endpoint(&user, "later").await;
    let channel = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "phone", "plugin": "bark",
                   "config": {"server_base_url": receiver.base_url, "device_key": "device-123"}}),
        )
        .await;
    channel.assert_status(201);
    server
        .post(
            "/api/rules",
            Some(&user.token),
            json!({"name": "all", "channel_id": channel.json["id"],
                   "payload_template": {"title": "{{message.title}}", "body": "{{message.body}}"}}),
        )
        .await
        .assert_status(201);
    Pipeline {
        server,
        user,
        endpoint,
    }
}

async fn detail(server: &TestServer, user: &TestUser, id: &str) -> Value {
    server
        .get(&format!("/api/messages/{id}"), Some(&user.token))
        .await
        .json
}

fn ms(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().expect("a time");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .expect("RFC 3339")
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

async fn ingest(server: &TestServer, endpoint: &TestEndpoint, body: Value) -> crate::common::Reply {
    server
        .send(
            server
                .request(
                    reqwest::Method::POST,
                    &format!("/api/ingest/{}", endpoint.id),
                    None,
                )
                .header("X-Beacon-Ingest-Key", &endpoint.key)
                .json(&body),
        )
        .await
}

on_both_databases! {
    async fn a_delayed_message_is_stored_at_once_and_sent_at_its_time(db: Db) {
        let receiver = BarkReceiver::start(vec![]).await;
        let p = pipeline(db, &receiver, &[]).await;
        let scheduled = ingest(&p.server, &p.endpoint, json!({"title": "Later", "body": "in two seconds", "delay": "2s"})).await;
        scheduled.assert_status(201);
        let id = scheduled.json["message_id"].as_str().expect("id").to_string();
        let stored = detail(&p.server, &p.user, &id).await;
        let (received, deliver_at) = (ms(&stored["received_at"]), ms(&stored["deliver_at"]));
        assert_eq!(deliver_at - received, 2_000, "{stored}");
        assert_eq!(stored["deliveries"][0]["status"], "queued");
        assert_eq!(ms(&stored["deliveries"][0]["next_attempt_at"]), deliver_at);
        // Listed as scheduled while it waits; a message sent at once is not.
        ingest(&p.server, &p.endpoint, json!({"body": "now"})).await.assert_status(201);
        let listed = p.server.get("/api/messages?scheduled=true", Some(&p.user.token)).await;
        let ids: Vec<&str> = listed.json["items"].as_array().expect("items").iter()
            .map(|m| m["id"].as_str().expect("id")).collect();
        assert_eq!(ids, [id.as_str()], "{}", listed.text);

        let delivery = wait_for_status(&p, &id, "sent", Duration::from_secs(20)).await;
        assert!(
            ms(&delivery["sent_at"]) >= deliver_at,
            "sent at {} before its time {deliver_at}", delivery["sent_at"]
        );
        assert_eq!(receiver.received().iter().filter(|r| r["body"] == "in two seconds").count(), 1);
        let listed = p.server.get("/api/messages?scheduled=true", Some(&p.user.token)).await;
        assert_eq!(listed.json["items"], json!([]), "no longer ahead");
    }

    async fn deleting_a_scheduled_message_cancels_its_deliveries(db: Db) {
        let receiver = BarkReceiver::start(vec![]).await;
        let p = pipeline(db, &receiver, &[]).await;
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms() + 1_500) * 1_000_000)
            .expect("time")
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        let scheduled = ingest(&p.server, &p.endpoint, json!({"body": "never", "deliver_at": at})).await;
        scheduled.assert_status(201);
        let id = scheduled.json["message_id"].as_str().expect("id");
        p.server.delete(&format!("/api/messages/{id}"), Some(&p.user.token)).await.assert_status(204);
        // Cancelled at once, not when its time comes.
        let me = p.server.get("/api/auth/me", Some(&p.user.token)).await;
        let cancelled = "(SELECT user_id FROM deliveries WHERE status = 'failed' AND last_error = 'cancelled: the message was deleted') AS cancelled";
        assert_eq!(p.server.rows_of_user(cancelled, me.json["id"].as_str().expect("id")).await, 1);
        // Past its time, and a control message sent at once goes through.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let control = p.server.ingest_ok(&p.endpoint, json!({"body": "control"})).await;
        wait_for_status(&p, &control, "sent", Duration::from_secs(20)).await;
        assert!(
            receiver.received().iter().all(|r| r["body"] != "never"),
            "the cancelled delivery left: {:?}", receiver.received()
        );
    }

    async fn schedules_are_checked(db: Db) {
        let receiver = BarkReceiver::start(vec![]).await;
        let p = pipeline(db, &receiver, &[("MAX_DELIVERY_DELAY_SECONDS", "3600")]).await;
        for (body, field) in [
            (json!({"body": "x", "delay": "soon"}), "delay"),
            (json!({"body": "x", "delay": "2h"}), "delay"),
            (json!({"body": "x", "deliver_at": "2020-01-01T00:00:00Z"}), "deliver_at"),
            (json!({"body": "x", "deliver_at": "tomorrow"}), "deliver_at"),
            (json!({"body": "x", "delay": "1m", "deliver_at": "2030-01-01T00:00:00Z"}), "delay"),
        ] {
            ingest(&p.server, &p.endpoint, body).await.assert_error(422, "validation_failed", Some(field));
        }
        // ntfy's Delay header schedules too.
        let ntfy = p.server.send(
            p.server.request(reqwest::Method::POST, &format!("/compat/ntfy/{}", p.endpoint.id), None)
                .header("Authorization", format!("Bearer {}", p.endpoint.key))
                .header("Delay", "30m")
                .body("half an hour"),
        ).await;
        ntfy.assert_status(200);
        let stored = detail(&p.server, &p.user, ntfy.json["id"].as_str().expect("id")).await;
        assert_eq!(ms(&stored["deliver_at"]) - ms(&stored["received_at"]), 1_800_000);
    }
}

/// A `beacon worker` process on the server's database, killed when dropped.
struct WorkerProcess(Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The schedule is in the database: with no worker running at ingest time,
/// a worker started later sends the message at its time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_after_ingest_sends_the_scheduled_message() {
    let receiver = BarkReceiver::start(vec![]).await;
    let p = pipeline(Db::Postgres, &receiver, &[(WEB_ONLY, "1")]).await;
    let id = p
        .server
        .ingest_ok(&p.endpoint, json!({"body": "survives", "delay": "3s"}))
        .await;
    let worker = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", p.server.data_dir())
        .env("DATABASE_URL", p.server.database_url())
        .env("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")
        .env(
            "BEACON_PLUGIN_CACHE_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-plugin-cache"),
        )
        .env("RUST_LOG", "warn")
        .arg("worker")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start beacon worker");
    let _worker = WorkerProcess(worker);
    let delivery = wait_for_status(&p, &id, "sent", Duration::from_secs(40)).await;
    let stored = detail(&p.server, &p.user, &id).await;
    assert!(ms(&delivery["sent_at"]) >= ms(&stored["deliver_at"]));
    assert_eq!(receiver.received().len(), 1);
}

/// `beacon serve` on an SQLite data directory, killed (SIGKILL) when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    async fn start(dir: &std::path::Path, port: u16) -> Served {
        let child = Command::new(env!("CARGO_BIN_EXE_beacon"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BEACON_DATA_DIR", dir)
            .env("BEACON_LISTEN", format!("127.0.0.1:{port}"))
            .env("APP_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")
            .env("WORKER_POLL_INTERVAL_MS", "100")
            .env(
                "BEACON_PLUGIN_CACHE_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-plugin-cache"),
            )
            .env("RUST_LOG", "warn")
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start beacon serve");
        let served = Served {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let started = std::time::Instant::now();
        while reqwest::get(format!("{}/healthz", served.base))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        served
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The same SQLite server killed while a message waits, then started again
/// on the same data directory, sends it once at its time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_message_survives_a_restart_of_the_sqlite_server() {
    let receiver = BarkReceiver::start(vec![]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let created = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .args([
            "user",
            "create",
            "--email",
            "restart@example.test",
            "--password",
            "restart password",
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
        .expect("free port")
        .port();
    let first = Served::start(dir.path(), port).await;
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, token: Option<&str>, body: Value| {
        let mut request = client
            .request(method, format!("{}{path}", first.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (_, login) = call(
        reqwest::Method::POST,
        "/api/auth/login",
        None,
        json!({"email": "restart@example.test", "password": "restart password"}),
    )
    .await;
    let token = login["access_token"].as_str().expect("token").to_string();
    let (status, endpoint) = call(
        reqwest::Method::POST,
        "/api/ingest-endpoints",
        Some(&token),
        json!({"name": "later"}),
    )
    .await;
    assert_eq!(status, 201, "{endpoint}");
    let (status, channel) = call(
        reqwest::Method::POST,
        "/api/channels",
        Some(&token),
        json!({"name": "phone", "plugin": "bark",
               "config": {"server_base_url": receiver.base_url, "device_key": "device-123"}}),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let (status, _) = call(
        reqwest::Method::POST,
        "/api/rules",
        Some(&token),
        json!({"name": "all", "channel_id": channel["id"]}),
    )
    .await;
    assert_eq!(status, 201);
    let ingested = client
        .post(format!(
            "{}/api/ingest/{}",
            first.base,
            endpoint["endpoint"]["id"].as_str().expect("id")
        ))
        .header(
            "X-Beacon-Ingest-Key",
            endpoint["ingest_key"].as_str().expect("key"),
        )
        .json(&json!({"body": "after the restart", "delay": "4s"}))
        .send()
        .await
        .expect("ingest");
    assert_eq!(ingested.status().as_u16(), 201);
    let id = ingested.json::<Value>().await.expect("JSON")["message_id"]
        .as_str()
        .expect("id")
        .to_string();
    drop(first);
    assert!(
        receiver.received().is_empty(),
        "nothing left before its time"
    );

    let second = Served::start(dir.path(), port).await;
    let started = std::time::Instant::now();
    while receiver.received().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never delivered after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let detail = client
        .get(format!("{}/api/messages/{id}", second.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("detail")
        .json::<Value>()
        .await
        .expect("JSON");
    let delivery = &detail["deliveries"][0];
    assert_eq!(delivery["status"], "sent", "{detail}");
    assert!(ms(&delivery["sent_at"]) >= ms(&detail["deliver_at"]));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1, "sent once");
}
