//! Delivery workers as separate processes: a worker killed mid-delivery (the
//! lease expires and another worker sends it), and two workers draining one
//! PostgreSQL queue without sending anything twice.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::bark::BarkReceiver;
use crate::common::{Db, TestServer, TestUser, WEB_ONLY};

/// A `beacon worker` process, killed when dropped.
struct WorkerProcess(Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker_process(server: &TestServer) -> WorkerProcess {
    worker_process_with(server, &[])
}

/// A worker process with these settings added (or overridden).
fn worker_process_with(server: &TestServer, settings: &[(&str, &str)]) -> WorkerProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beacon"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", server.data_dir())
        .env("DATABASE_URL", server.database_url())
        .env("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")
        .env("BARK_REQUEST_TIMEOUT_SECONDS", "2")
        .env("WORKER_LEASE_SECONDS", "7")
        .env("WORKER_POLL_INTERVAL_MS", "100")
        // Plugins compiled once for the whole run, as for the in-process servers.
        .env(
            "BEACON_PLUGIN_CACHE_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-plugin-cache"),
        )
        .env("BEACON_LOG_FORMAT", "text")
        .env("RUST_LOG", "warn")
        .envs(settings.iter().copied())
        .arg("worker")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    WorkerProcess(command.spawn().expect("start beacon worker"))
}

async fn setup(server: &TestServer, receiver: &BarkReceiver) -> TestUser {
    let user = server.user().await;
    let channel = server.post("/api/channels", Some(&user.token),
        json!({"name": "phone", "plugin": "bark", "config": {"server_base_url": receiver.base_url, "device_key": "d"}})).await;
    channel.assert_status(201);
    server.post("/api/rules", Some(&user.token),
        json!({"name": "all", "channel_id": channel.json["id"], "payload_template": {"body": "{{message.id}}"}})).await.assert_status(201);
    user
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

crate::on_both_databases! {
    async fn killed_worker_delivery_is_sent_after_the_lease(db: Db) {
        let server = TestServer::start_with(db, &[(WEB_ONLY, "1")]).await;
        // The first push hangs: the worker is killed while it waits.
        let receiver = BarkReceiver::start_hanging(vec![], 1).await;
        let user = setup(&server, &receiver).await;
        let endpoint = server.endpoint(&user, "e").await;

        let mut first = worker_process(&server);
        let id = server
            .ingest_ok(&endpoint, json!({"body": "survive a crash"}))
            .await;
        wait_until("the first push", Duration::from_secs(20), || {
            receiver.received().len() == 1
        })
        .await;
        let killed_at = Instant::now();
        first.0.kill().expect("SIGKILL the worker");
        let _ = first.0.wait();

        let _second = worker_process(&server);
        let started = Instant::now();
        loop {
            let detail = server
                .get(&format!("/api/messages/{id}"), Some(&user.token))
                .await;
            if detail.json["deliveries"][0]["status"] == "sent" {
                let attempts = detail.json["deliveries"][0]["attempts"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert_eq!(
                    attempts.len(),
                    1,
                    "the killed attempt left no record; the re-send did: {}",
                    detail.text
                );
                assert_eq!(attempts[0]["outcome"], "sent");
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never re-sent: {}",
                detail.text
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(receiver.received().len(), 2);
        // Not before the 7 s lease ran out (it started a moment before the kill).
        assert!(
            killed_at.elapsed() >= Duration::from_secs(5),
            "re-sent after {:?}, before the lease expired",
            killed_at.elapsed()
        );
    }
}

crate::on_both_databases! {
    /// The worker claims ahead of its free slots. A claimed delivery that
    /// waited so long that its send could outlast the lease is not started
    /// (it would race the next claim of the same row); it is claimed again
    /// once the lease ends, and nothing is sent twice.
    async fn deliveries_claimed_ahead_never_outlive_their_lease(db: Db) {
        let server = TestServer::start_with(db, &[(WEB_ONLY, "1")]).await;
        // One slot, 1.2 s per push; a send may take up to 2 s + 2 s (the
        // sender's deadline), so with a 7 s lease a claimed delivery may wait
        // at most 2 s for its slot. Of the four claimed at once, the third and
        // the fourth wait longer.
        let receiver = BarkReceiver::start_slow(Duration::from_millis(1_200)).await;
        let user = setup(&server, &receiver).await;
        let endpoint = server.endpoint(&user, "e").await;
        let mut ids = HashSet::new();
        for i in 0..4 {
            ids.insert(server.ingest_ok(&endpoint, json!({"body": format!("m{i}")})).await);
        }
        let started = Instant::now();
        let _worker = worker_process_with(&server, &[("WORKER_CONCURRENCY", "1")]);
        wait_until("every push", Duration::from_secs(40), || {
            receiver.received().len() >= 4
        })
        .await;
        let took = started.elapsed();
        tokio::time::sleep(Duration::from_secs(3)).await; // room for a duplicate to show up
        let bodies: Vec<String> = receiver
            .received()
            .iter()
            .map(|p| p["body"].as_str().expect("body").to_string())
            .collect();
        assert_eq!(bodies.len(), 4, "something was sent twice: {bodies:?}");
        assert_eq!(bodies.into_iter().collect::<HashSet<_>>(), ids);
        // The two that waited too long were sent only after the lease ran out.
        assert!(took >= Duration::from_secs(7), "all four sent within {took:?}");
        for id in &ids {
            let detail = server.get(&format!("/api/messages/{id}"), Some(&user.token)).await;
            let delivery = &detail.json["deliveries"][0];
            assert_eq!(delivery["status"], "sent", "{}", detail.text);
            assert_eq!(delivery["attempts"].as_array().map(Vec::len), Some(1), "{}", detail.text);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_send_each_delivery_exactly_once() {
    const MESSAGES: usize = 1_000;
    let server = TestServer::start_with(Db::Postgres, &[(WEB_ONLY, "1")]).await;
    let receiver = BarkReceiver::start(vec![]).await;
    let user = setup(&server, &receiver).await;
    let endpoint = server.endpoint(&user, "e").await;

    // Queue everything first, then let two worker processes race for it.
    let client = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..MESSAGES {
        let request = client
            .post(server.url(&format!("/api/ingest/{}", endpoint.id)))
            .header("x-beacon-ingest-key", &endpoint.key)
            .json(&json!({"body": format!("m{i}")}));
        tasks.spawn(async move {
            let response = request.send().await.expect("ingest");
            assert_eq!(response.status().as_u16(), 201);
            response.json::<Value>().await.expect("json")["message_id"]
                .as_str()
                .expect("id")
                .to_string()
        });
    }
    let ids: Vec<String> = tasks.join_all().await;
    let _a = worker_process(&server);
    let _b = worker_process(&server);

    wait_until("every push", Duration::from_secs(120), || {
        receiver.received().len() >= MESSAGES
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await; // room for any duplicate to show up
    let pushed = receiver.received();
    let unique: HashSet<String> = pushed
        .iter()
        .map(|p| p["body"].as_str().expect("body").to_string())
        .collect();
    assert_eq!(pushed.len(), MESSAGES, "some deliveries were sent twice");
    assert_eq!(unique, ids.iter().cloned().collect::<HashSet<_>>());
    let summaries = server
        .state
        .store
        .delivery_summaries(&ids)
        .await
        .expect("summaries");
    assert_eq!(summaries.len(), MESSAGES);
    assert!(
        summaries.iter().all(|s| s.total == 1 && s.sent == 1),
        "every delivery is recorded as sent once"
    );
}

/// A worker in its own process relays delivery changes to the web process's
/// event streams through PostgreSQL NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_worker_relays_live_events_to_the_web_process() {
    let server = TestServer::start_with(Db::Postgres, &[(WEB_ONLY, "1")]).await;
    let receiver = BarkReceiver::start(vec![]).await;
    let user = setup(&server, &receiver).await;
    let endpoint = server.endpoint(&user, "e").await;
    let mut events =
        crate::common::sse::EventStream::open(&server.url("/api/events"), &user.token).await;
    let _worker = worker_process(&server);
    let id = server.ingest_ok(&endpoint, json!({"body": "relay"})).await;
    let sent = events
        .wait_for("delivery", Duration::from_secs(20), |data| {
            data["message_id"] == id.as_str() && data["status"] == "sent"
        })
        .await;
    assert!(sent["id"].as_str().is_some());
}

/// On PostgreSQL a separate worker is woken by LISTEN/NOTIFY, not by its
/// poll: with polling every 20 s, each new message is still delivered within
/// a few seconds (every other test polls every 100 ms, which would hide a
/// broken NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_worker_is_woken_by_notify_not_by_its_poll() {
    let receiver = BarkReceiver::start(vec![]).await;
    let server = TestServer::start_with(Db::Postgres, &[(WEB_ONLY, "1")]).await;
    let user = setup(&server, &receiver).await;
    let endpoint = server.endpoint(&user, "notify").await;
    let _worker = worker_process_with(&server, &[("WORKER_POLL_INTERVAL_MS", "20000")]);
    // The worker is up once it has reported (its first round runs at start).
    let started = Instant::now();
    loop {
        let ready = server.get("/readyz", None).await;
        if ready.status == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "worker never reported: {}",
            ready.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for round in 1..=3 {
        let sent_at = Instant::now();
        server
            .ingest_ok(&endpoint, json!({"body": format!("wake {round}")}))
            .await;
        wait_until("the NOTIFY wake-up", Duration::from_secs(5), || {
            receiver.received().len() >= round
        })
        .await;
        assert!(
            sent_at.elapsed() < Duration::from_secs(5),
            "round {round} took {:?}",
            sent_at.elapsed()
        );
    }
}
