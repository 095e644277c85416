//! The built-in stateful filters (`dedupe`, `rate-limit`) and `quiet-hours`
//! as `extra_filters` on real rules: their state lives in the database
//! (each case on SQLite and PostgreSQL), the user sees why a rule did not
//! fire, and two web processes on one PostgreSQL database share one dedupe
//! window.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::bark::BarkReceiver;
use crate::common::{services, Db, TestEndpoint, TestServer, TestUser, WEB_ONLY};
use crate::on_both_databases;

/// A user with an endpoint and one Bark channel; rules are added per test.
async fn setup(server: &TestServer, receiver: &BarkReceiver) -> (TestUser, TestEndpoint, String) {
    let user = server.user().await;
    let endpoint = server.endpoint(&user, "nas").await;
    let channel = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "phone", "plugin": "bark",
                   "config": {"server_base_url": receiver.base_url, "device_key": "d"}}),
        )
        .await;
    channel.assert_status(201);
    let channel_id = channel.json["id"].as_str().expect("id").to_string();
    (user, endpoint, channel_id)
}

async fn rule(
    server: &TestServer,
    user: &TestUser,
    channel_id: &str,
    name: &str,
    extra: Value,
) -> String {
    let created = server
        .post(
            "/api/rules",
            Some(&user.token),
            json!({"name": name, "channel_id": channel_id, "extra_filters": [extra],
                   "payload_template": {"body": "{{message.body}}"}}),
        )
        .await;
    created.assert_status(201);
    created.json["id"].as_str().expect("rule id").to_string()
}

/// The message detail once ingest has stored it (deliveries and filter notes).
async fn detail(server: &TestServer, user: &TestUser, id: &str) -> Value {
    let reply = server
        .get(&format!("/api/messages/{id}"), Some(&user.token))
        .await;
    reply.assert_status(200);
    reply.json
}

fn deliveries(detail: &Value) -> usize {
    detail["deliveries"].as_array().map_or(0, Vec::len)
}

/// The notes filters left on a message, as `"<plugin>: <note>"`.
fn notes(detail: &Value) -> Vec<String> {
    detail["filter_errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["note"].as_str().map(str::to_string))
        .collect()
}

on_both_databases! {
    async fn dedupe_suppresses_a_repeat_within_its_window_and_says_so(db: Db) {
        let server = TestServer::start_with(db, &[("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")]).await;
        let receiver = BarkReceiver::start(vec![]).await;
        let (user, endpoint, channel) = setup(&server, &receiver).await;
        let rule_id = rule(&server, &user, &channel, "once",
            json!({"plugin": "dedupe", "config": {"window_seconds": 300}})).await;

        let first = server.ingest_ok(&endpoint, json!({"title": "Disk", "body": "95% full"})).await;
        let repeat = server.ingest_ok(&endpoint, json!({"title": "Disk", "body": "95% full"})).await;
        let other = server.ingest_ok(&endpoint, json!({"title": "Disk", "body": "96% full"})).await;

        assert_eq!(deliveries(&detail(&server, &user, &first).await), 1);
        let repeated = detail(&server, &user, &repeat).await;
        assert_eq!(deliveries(&repeated), 0, "{repeated}");
        let said = notes(&repeated);
        assert!(
            said.len() == 1 && said[0].starts_with("dedupe: duplicate of message") && said[0].contains(&first),
            "the user sees which message it repeats: {said:?}"
        );
        assert_eq!(repeated["filter_errors"][0]["rule_id"], rule_id.as_str());
        assert_eq!(deliveries(&detail(&server, &user, &other).await), 1);

        // The rule's state goes with the rule.
        let me = server.get("/api/auth/me", Some(&user.token)).await;
        let user_id = me.json["id"].as_str().expect("user id").to_string();
        assert!(server.rows_of_user("plugin_kv", &user_id).await >= 2);
        server.delete(&format!("/api/rules/{rule_id}"), Some(&user.token)).await.assert_status(204);
        assert_eq!(server.rows_of_user("plugin_kv", &user_id).await, 0);
    }

    async fn rate_limit_lets_max_messages_through_per_window(db: Db) {
        let server = TestServer::start_with(db, &[("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")]).await;
        let receiver = BarkReceiver::start(vec![]).await;
        let (user, endpoint, channel) = setup(&server, &receiver).await;
        rule(&server, &user, &channel, "two a minute",
            json!({"plugin": "rate-limit", "config": {"max": 2, "window_seconds": 60}})).await;
        // A second rule with its own window: rules never share state.
        rule(&server, &user, &channel, "one a minute",
            json!({"plugin": "rate-limit", "config": {"max": 1, "window_seconds": 60}})).await;

        let mut per_message = Vec::new();
        for i in 0..3 {
            let id = server.ingest_ok(&endpoint, json!({"body": format!("alert {i}")})).await;
            let detail = detail(&server, &user, &id).await;
            per_message.push((deliveries(&detail), notes(&detail)));
        }
        assert_eq!(per_message[0].0, 2, "both rules fire for the first: {per_message:?}");
        assert_eq!(per_message[1].0, 1, "the second rule is out of its one: {per_message:?}");
        assert_eq!(per_message[2].0, 0, "both are spent: {per_message:?}");
        assert!(
            per_message[2].1.iter().any(|n| n.starts_with("rate-limit: rate limit: 2 per 60 s reached")),
            "{per_message:?}"
        );
    }

    async fn quiet_hours_hold_messages_back_except_urgent_ones(db: Db) {
        let server = TestServer::start_with(db, &[("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")]).await;
        let receiver = BarkReceiver::start(vec![]).await;
        let (user, endpoint, channel) = setup(&server, &receiver).await;
        let hour = time::OffsetDateTime::now_utc().hour() as i64;
        let at = |offset: i64| format!("{:02}:00", (hour + offset).rem_euclid(24));
        // Quiet now (from two hours ago to two hours ahead), critical still gets through.
        rule(&server, &user, &channel, "quiet now",
            json!({"plugin": "quiet-hours", "config": {"timezone": "UTC", "start": at(-2), "end": at(2),
                                                        "min_priority_override": 5}})).await;
        // Quiet later today: not now.
        rule(&server, &user, &channel, "quiet later",
            json!({"plugin": "quiet-hours", "config": {"timezone": "Europe/Berlin", "start": at(4), "end": at(6)}})).await;

        let normal = server.ingest_ok(&endpoint, json!({"body": "backup done", "priority": 3})).await;
        let normal = detail(&server, &user, &normal).await;
        assert_eq!(deliveries(&normal), 1, "only the rule that is not quiet fires: {normal}");
        assert!(
            notes(&normal).iter().any(|n| n.starts_with("quiet-hours: quiet hours") && n.contains("UTC")),
            "{normal}"
        );
        let critical = server.ingest_ok(&endpoint, json!({"body": "fire", "priority": 5})).await;
        assert_eq!(deliveries(&detail(&server, &user, &critical).await), 2);
    }
}

/// A `beacon web` process on the server's database, killed when dropped.
pub(crate) struct WebProcess {
    child: Child,
    pub(crate) base: String,
}

impl Drop for WebProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The dedupe filter's window lives in PostgreSQL: under a busy test run a
/// round trip can outlast the 50 ms default deadline, and a filter over its
/// deadline does not match, which is not what these tests are about.
const SLOW_MACHINE_FILTER_TIMEOUT_MS: &str = "2000";

pub(crate) async fn second_web_process(server: &TestServer) -> WebProcess {
    let port = services::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", server.data_dir())
        .env("DATABASE_URL", server.database_url())
        .env("BEACON_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "JWT_SIGNING_KEY",
            "test-signing-key-test-signing-key-0123456789",
        )
        .env("INGEST_RATE_LIMIT_PER_MINUTE", "0")
        .env("PLUGIN_FILTER_TIMEOUT_MS", SLOW_MACHINE_FILTER_TIMEOUT_MS)
        .env(
            "BEACON_PLUGIN_CACHE_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-plugin-cache"),
        )
        .env("RUST_LOG", "warn")
        .arg("web")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start beacon web");
    let web = WebProcess {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    let client = reqwest::Client::new();
    while client
        .get(format!("{}/healthz", web.base))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "beacon web did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    web
}

/// Two web processes take the same messages at the same moment: each
/// message is delivered once, whichever process ingested it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_processes_share_one_dedupe_window_on_postgres() {
    let server = TestServer::start_with(
        Db::Postgres,
        &[
            ("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32"),
            (WEB_ONLY, "1"),
            ("PLUGIN_FILTER_TIMEOUT_MS", SLOW_MACHINE_FILTER_TIMEOUT_MS),
        ],
    )
    .await;
    let receiver = BarkReceiver::start(vec![]).await;
    let (user, endpoint, channel) = setup(&server, &receiver).await;
    rule(
        &server,
        &user,
        &channel,
        "once an hour",
        json!({"plugin": "dedupe", "config": {"window_seconds": 3600, "fields": ["body"]}}),
    )
    .await;
    let other = second_web_process(&server).await;
    let client = reqwest::Client::new();
    let ingest_at = |base: String, body: String| {
        let (client, endpoint) = (client.clone(), (endpoint.id.clone(), endpoint.key.clone()));
        async move {
            let reply = client
                .post(format!("{base}/api/ingest/{}", endpoint.0))
                .header("x-beacon-ingest-key", endpoint.1)
                .json(&json!({"body": body}))
                .send()
                .await
                .expect("ingest");
            assert_eq!(reply.status().as_u16(), 201);
            let answer: Value = reply.json().await.expect("json");
            answer["message_id"].as_str().expect("id").to_string()
        }
    };
    const DISTINCT: usize = 12;
    let mut ids = Vec::new();
    for i in 0..DISTINCT {
        let body = format!("replica alert {i}");
        let (a, b) = tokio::join!(
            ingest_at(server.base.clone(), body.clone()),
            ingest_at(other.base.clone(), body)
        );
        ids.push((a, b));
    }
    for (i, (a, b)) in ids.iter().enumerate() {
        let (a, b) = (
            detail(&server, &user, a).await,
            detail(&server, &user, b).await,
        );
        assert_eq!(
            deliveries(&a) + deliveries(&b),
            1,
            "pair {i}: exactly one of two simultaneous copies is routed: {a} {b}"
        );
        assert_eq!(
            notes(&a).len() + notes(&b).len(),
            1,
            "pair {i}: the other says why"
        );
    }
}
