//! The delivery pipeline end to end, against the real `beacon` binary on
//! loopback with a Bark-compatible receiver in this process:
//!
//! * **latency** — messages ingested at a steady rate (default 200/s for 20 s)
//!   into `beacon serve`, one matching rule to a Bark channel; for each
//!   message the time from the start of its ingest request to its arrival at
//!   the receiver (targets on SQLite: p50 ≤ 5 ms, p99 ≤ 25 ms);
//! * **throughput** — N deliveries queued while no worker runs (`beacon web`),
//!   then one `beacon worker` drains them through the Bark plugin; compared
//!   with plain reqwest posting the same JSON to the same receiver with the
//!   worker's concurrency, in the same run (target: ≥ 50 %); then the
//!   plugin's sends alone in this process (no database) against the same
//!   receiver (`-- sandbox` runs only this comparison).
//!
//! Run with `cargo bench -p beacon-host --bench pipeline` (release build).
//! Settings: `BENCH_DB=sqlite|postgres` (postgres needs `BENCH_DATABASE_URL`),
//! `BENCH_RATE`, `BENCH_SECONDS`, `BENCH_DELIVERIES`, `WORKER_CONCURRENCY`;
//! `BENCH_KEEP_DIR=1` keeps the throughput run's data directory (database, logs).
//! Anything else in the environment (e.g. `RUST_LOG`) reaches the server.

// The allocator the `beacon` binary uses, so the in-process parts (the
// receiver, the sandbox) run as they do in production.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

const PASSWORD: &str = "benchmark password";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The receiver: records when each push arrived, keyed by the message body.
#[derive(Clone)]
struct Receiver {
    epoch: Instant,
    arrivals: Arc<Mutex<HashMap<String, Duration>>>,
    count: Arc<std::sync::atomic::AtomicUsize>,
}

async fn push(State(receiver): State<Receiver>, Json(body): Json<Value>) -> Json<Value> {
    let at = receiver.epoch.elapsed();
    if let Some(text) = body["body"].as_str() {
        if let Ok(mut arrivals) = receiver.arrivals.lock() {
            arrivals.insert(text.to_string(), at);
        }
    }
    receiver
        .count
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Json(json!({"code": 200, "message": "success", "timestamp": 1_700_000_000}))
}

impl Receiver {
    async fn start(epoch: Instant) -> (Receiver, String) {
        let receiver = Receiver {
            epoch,
            arrivals: Arc::default(),
            count: Arc::default(),
        };
        let app = Router::new()
            .route("/push", post(push))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn count(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn arrival(&self, body: &str) -> Option<Duration> {
        self.arrivals.lock().ok()?.get(body).copied()
    }

    async fn wait_for(&self, count: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.count() < count {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        true
    }
}

/// A `beacon` process; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat`
/// (`self` for this process). Zero where /proc is missing.
fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of them, in clock ticks (100 per second on Linux).
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|field| field.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Microseconds of CPU per item.
fn per_item(cpu: Duration, items: usize) -> f64 {
    cpu.as_secs_f64() * 1e6 / items.max(1) as f64
}

fn beacon(dir: &Path, database_url: &str, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beacon"));
    command
        .env("BEACON_DATA_DIR", dir)
        .env("DATABASE_URL", database_url)
        .env("BEACON_LISTEN", format!("127.0.0.1:{port}"))
        .env("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1")
        .env("INGEST_RATE_LIMIT_PER_MINUTE", "0")
        .env("JWT_REFRESH_COOKIE_SECURE", "false")
        .env("BEACON_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(dir.join(format!("beacon-{port}.log")))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
        );
    command
}

async fn start(dir: &Path, database_url: &str, half: &str, http: &reqwest::Client) -> Server {
    let port = free_port();
    let child = beacon(dir, database_url, port)
        .arg(half)
        .spawn()
        .expect("start beacon");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    if half != "worker" {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = http.get(format!("{}/healthz", server.base)).send().await;
            if up.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "beacon {half} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    server
}

struct Setup {
    ingest_url: String,
    ingest_key: String,
}

/// A verified user, an ingest endpoint, a Bark channel and one rule for all.
async fn set_up(
    dir: &Path,
    database_url: &str,
    base: &str,
    bark: &str,
    http: &reqwest::Client,
) -> Setup {
    let email = format!("bench-{}-{}@example.test", std::process::id(), free_port());
    let mut create = beacon(dir, database_url, 0)
        .args([
            "user",
            "create",
            "--email",
            &email,
            "--password-stdin",
            "--verified",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("beacon user create");
    if let Some(mut stdin) = create.stdin.take() {
        use std::io::Write;
        stdin.write_all(PASSWORD.as_bytes()).expect("password");
    }
    assert!(create.wait().expect("user create").success());
    let call = |path: &str, token: Option<&str>, body: Value| {
        let mut request = http.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let reply = request.send().await.expect("API call");
            let status = reply.status();
            let body: Value = reply.json().await.unwrap_or_default();
            assert!(status.is_success(), "{status}: {body}");
            body
        }
    };
    let login = call(
        "/api/auth/login",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    let token = login["access_token"].as_str().expect("token").to_string();
    let endpoint = call(
        "/api/ingest-endpoints",
        Some(&token),
        json!({"name": "bench"}),
    )
    .await;
    let channel = call(
        "/api/channels",
        Some(&token),
        json!({"name": "bench bark", "plugin": "bark",
               "config": {"server_base_url": bark, "device_key": "bench-device",
                          "default_payload_json": {"sound": "bell"}}}),
    )
    .await;
    call(
        "/api/rules",
        Some(&token),
        json!({"name": "everything", "enabled": true, "channel_id": channel["id"], "filter": {},
               "payload_template": {"title": "[{{ingest_endpoint.name}}] {{message.title}}",
                                    "body": "{{message.body}}", "group": "{{message.group}}"}}),
    )
    .await;
    Setup {
        ingest_url: endpoint["ingest_url"].as_str().expect("url").to_string(),
        ingest_key: endpoint["ingest_key"].as_str().expect("key").to_string(),
    }
}

fn message(body: &str) -> Value {
    json!({"title": "Disk usage", "body": body, "group": "storage", "priority": 4,
           "tags": ["nas", "disk"], "extras": {"host": "nas1", "volume": "/volume1"}})
}

async fn ingest(http: &reqwest::Client, setup: &Setup, body: &str) -> bool {
    http.post(&setup.ingest_url)
        .header("X-Beacon-Ingest-Key", &setup.ingest_key)
        .json(&message(body))
        .send()
        .await
        .is_ok_and(|r| r.status().as_u16() == 201)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0)
    );
}

async fn latency(dir: &Path, database_url: &str, epoch: Instant) {
    let rate = setting("BENCH_RATE", 200);
    let seconds = setting("BENCH_SECONDS", 20);
    let (receiver, bark) = Receiver::start(epoch).await;
    let http = reqwest::Client::new();
    let server = start(dir, database_url, "serve", &http).await;
    let setup = Arc::new(set_up(dir, database_url, &server.base, &bark, &http).await);
    // Warm-up: plugin instances, connections, caches.
    for i in 0..50 {
        assert!(
            ingest(&http, &setup, &format!("warm-{i}")).await,
            "warm-up ingest failed"
        );
    }
    assert!(
        receiver.wait_for(50, Duration::from_secs(30)).await,
        "warm-up deliveries did not arrive"
    );

    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        tokio::time::sleep_until((started + interval * i as u32).into()).await;
        let (http, setup) = (http.clone(), setup.clone());
        tasks.push(tokio::spawn(async move {
            let body = format!("seq-{i}");
            let sent = epoch.elapsed();
            let ok = ingest(&http, &setup, &body).await;
            (body, sent, epoch.elapsed() - sent, ok)
        }));
    }
    let mut sent_at = Vec::with_capacity(total);
    let mut acks = Vec::with_capacity(total);
    for task in tasks {
        let (body, sent, ack, ok) = task.await.expect("ingest task");
        assert!(ok, "ingest of {body} was not acknowledged");
        sent_at.push((body, sent));
        acks.push(ack);
    }
    let offered = total as f64 / started.elapsed().as_secs_f64();
    let arrived = receiver.wait_for(50 + total, Duration::from_secs(60)).await;
    assert!(
        arrived,
        "only {} of {} deliveries arrived",
        receiver.count() - 50,
        total
    );
    let deliveries: Vec<Duration> = sent_at
        .iter()
        .map(|(body, sent)| receiver.arrival(body).expect("arrival recorded") - *sent)
        .collect();
    println!("\n== latency at a steady {rate} msg/s for {seconds} s (offered {offered:.0} msg/s), `beacon serve`");
    report("ingest acknowledged (201)", acks);
    report("ingest -> Bark receiver", deliveries);
}

async fn throughput(dir: &Path, database_url: &str, epoch: Instant) {
    let deliveries = setting("BENCH_DELIVERIES", 5_000);
    let concurrency = setting("WORKER_CONCURRENCY", 16);
    let (receiver, bark) = Receiver::start(epoch).await;
    let http = reqwest::Client::new();
    let web = start(dir, database_url, "web", &http).await;
    let setup = Arc::new(set_up(dir, database_url, &web.base, &bark, &http).await);
    let slots = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(deliveries);
    for i in 0..deliveries {
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let (http, setup) = (http.clone(), setup.clone());
        tasks.push(tokio::spawn(async move {
            let ok = ingest(&http, &setup, &format!("queued-{i}")).await;
            drop(permit);
            ok
        }));
    }
    for task in tasks {
        assert!(task.await.expect("ingest task"), "ingest failed");
    }
    assert_eq!(receiver.count(), 0, "no worker should be running yet");

    let worker_started = Instant::now();
    let worker = start(dir, database_url, "worker", &http).await;
    let worker_pid = worker.child.id().to_string();
    assert!(
        receiver.wait_for(1, Duration::from_secs(60)).await,
        "the worker sent nothing"
    );
    let first = Instant::now();
    let (worker_cpu, own_cpu) = (cpu_time(&worker_pid), cpu_time("self"));
    assert!(
        receiver
            .wait_for(deliveries, Duration::from_secs(600))
            .await,
        "only {} of {deliveries} deliveries arrived",
        receiver.count()
    );
    let drained = first.elapsed();
    let worker_cpu = cpu_time(&worker_pid).saturating_sub(worker_cpu);
    let receiver_cpu = cpu_time("self").saturating_sub(own_cpu);
    drop(worker);
    let plugin_rate = (deliveries - 1) as f64 / drained.as_secs_f64();

    let (reqwest_rate, reqwest_cpu) =
        reqwest_posts(&receiver, &bark, deliveries, concurrency).await;
    println!("\n== throughput: {deliveries} queued deliveries, worker concurrency {concurrency}");
    println!(
        "worker through the Bark plugin: {plugin_rate:.0} deliveries/s (drained in {:.2} s; first arrival {:.2} s after the worker started)",
        drained.as_secs_f64(),
        (first - worker_started).as_secs_f64()
    );
    println!(
        "  CPU per delivery: worker {:.0} us, receiver {:.0} us",
        per_item(worker_cpu, deliveries - 1),
        per_item(receiver_cpu, deliveries - 1)
    );
    println!(
        "plain reqwest, same receiver:    {reqwest_rate:.0} requests/s\n  CPU per request (client and receiver): {reqwest_cpu:.0} us"
    );
    println!(
        "ratio: {:.0} % (target >= 50 %)",
        100.0 * plugin_rate / reqwest_rate
    );

    sandbox_report(&bark, deliveries, concurrency, reqwest_rate, reqwest_cpu).await;
}

/// The sandbox alone: the Bark plugin's send (fresh instance, config,
/// payload, host fetch with the outbound policy) in this process, same
/// receiver and concurrency, no database.
async fn sandbox_report(
    bark: &str,
    count: usize,
    concurrency: usize,
    reqwest_rate: f64,
    reqwest_cpu: f64,
) {
    let (sandbox_rate, sandbox_cpu) = bark_sends(bark, count, concurrency).await;
    println!(
        "Bark plugin sends alone (no database), same concurrency: {sandbox_rate:.0} sends/s = {:.0} % of plain reqwest",
        100.0 * sandbox_rate / reqwest_rate
    );
    println!(
        "  CPU per send (sandbox, fetch and receiver): {sandbox_cpu:.0} us = {:.1} x plain reqwest's {reqwest_cpu:.0} us",
        sandbox_cpu / reqwest_cpu
    );
}

/// Only the plugin's sends against plain reqwest (`-- sandbox`): no server,
/// no database.
async fn sandbox(epoch: Instant) {
    let count = setting("BENCH_DELIVERIES", 5_000);
    let concurrency = setting("WORKER_CONCURRENCY", 16);
    let (receiver, bark) = Receiver::start(epoch).await;
    let (reqwest_rate, reqwest_cpu) = reqwest_posts(&receiver, &bark, count, concurrency).await;
    println!("\n== sandbox: {count} sends, concurrency {concurrency}");
    println!("plain reqwest, same receiver:    {reqwest_rate:.0} requests/s");
    sandbox_report(&bark, count, concurrency, reqwest_rate, reqwest_cpu).await;
}

/// The same JSON the plugin sends, posted by plain reqwest with the same
/// concurrency: requests per second, and this process's CPU per request
/// (client and receiver) in microseconds.
async fn reqwest_posts(
    receiver: &Receiver,
    bark: &str,
    count: usize,
    concurrency: usize,
) -> (f64, f64) {
    let http = reqwest::Client::new();
    let payload = Arc::new(
        json!({"title": "[bench] Disk usage", "body": "baseline", "group": "storage",
                                  "sound": "bell", "device_key": "bench-device"}),
    );
    let push_url = Arc::new(format!("{bark}/push"));
    let before = receiver.count();
    let slots = Arc::new(Semaphore::new(concurrency));
    let (started, cpu_before) = (Instant::now(), cpu_time("self"));
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let (http, payload, url) = (http.clone(), payload.clone(), push_url.clone());
        tasks.push(tokio::spawn(async move {
            let ok = http
                .post(url.as_str())
                .json(payload.as_ref())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            drop(permit);
            ok
        }));
    }
    for task in tasks {
        assert!(task.await.expect("post task"), "baseline post failed");
    }
    let elapsed = started.elapsed();
    assert_eq!(receiver.count() - before, count);
    let cpu = cpu_time("self").saturating_sub(cpu_before);
    (count as f64 / elapsed.as_secs_f64(), per_item(cpu, count))
}

/// Sends per second, and this process's CPU per send (sandbox, host fetch
/// and receiver) in microseconds.
async fn bark_sends(bark: &str, count: usize, concurrency: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = beacon_host::config::PluginConfig {
        dir: dir.path().join("plugins"),
        reload_every: None,
        cache_dir: dir.path().join("cache"),
        outbound_allowlist: vec!["127.0.0.1".into()],
        block_private_networks: true,
        block_private_overrides: Vec::new(),
        request_timeout: Duration::from_secs(10),
        max_body_bytes: 1 << 20,
        filter_timeout: Duration::from_millis(50),
        adapter_timeout: Duration::from_millis(1000),
        memory_bytes: 64 << 20,
    };
    let registry = Arc::new(beacon_host::plugins::start(&config).expect("plugins"));
    let plugin = registry.get("bark").expect("bark");
    let channel = Arc::new(
        json!({"server_base_url": bark, "device_key": "bench-device", "default_payload_json": {"sound": "bell"}})
            .to_string(),
    );
    let payload = Arc::new(
        json!({"title": "[bench] Disk usage", "body": "sandbox", "group": "storage"}).to_string(),
    );
    let message = beacon_host::plugins::WitMessage {
        id: "0192f0c1a2b37c4d8e9fa0b1c2d3e4f6".into(),
        received_at: "2026-12-01T00:00:00Z".into(),
        title: Some("Disk usage".into()),
        body: "sandbox".into(),
        group: Some("storage".into()),
        priority: 4,
        tags: vec!["nas".into()],
        url: None,
        extras: Vec::new(),
        endpoint_id: "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5".into(),
        endpoint_name: "bench".into(),
    };
    let kv: Arc<dyn beacon_host::plugins::kv::KvBackend> =
        Arc::new(beacon_host::plugins::kv::MemoryKv::default());
    let slots = Arc::new(Semaphore::new(concurrency));
    let (started, cpu_before) = (Instant::now(), cpu_time("self"));
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let (registry, plugin, channel, payload, message, kv) = (
            registry.clone(),
            plugin.clone(),
            channel.clone(),
            payload.clone(),
            message.clone(),
            kv.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let state = beacon_host::plugins::runtime::CallState {
                kv,
                bucket: beacon_host::plugins::kv::KvBucket::for_channel("bench", "bench"),
                mail: Arc::new(beacon_host::plugins::mail::NoMail),
            };
            let sent = registry
                .runtime()
                .send(&plugin, &channel, &payload, &message, state)
                .await;
            drop(permit);
            matches!(sent, Ok(Ok(_)))
        }));
    }
    for task in tasks {
        assert!(task.await.expect("send task"), "a sandboxed send failed");
    }
    let elapsed = started.elapsed();
    let cpu = cpu_time("self").saturating_sub(cpu_before);
    (count as f64 / elapsed.as_secs_f64(), per_item(cpu, count))
}

fn database(dir: &Path) -> String {
    match std::env::var("BENCH_DB").as_deref() {
        Ok("postgres") => std::env::var("BENCH_DATABASE_URL")
            .expect("BENCH_DB=postgres needs BENCH_DATABASE_URL (an empty database)"),
        _ => format!("sqlite://{}?mode=rwc", dir.join("beacon.db").display()),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects one part.
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    runtime.block_on(async {
        let epoch = Instant::now();
        if only.as_deref().is_none_or(|o| o == "latency") {
            let dir = tempfile::tempdir().expect("tempdir");
            latency(dir.path(), &database(dir.path()), epoch).await;
        }
        if only.as_deref().is_none_or(|o| o == "throughput") {
            let dir = tempfile::tempdir().expect("tempdir");
            throughput(dir.path(), &database(dir.path()), epoch).await;
            if std::env::var_os("BENCH_KEEP_DIR").is_some() {
                println!("kept {}", dir.keep().display());
            }
        }
        if only.as_deref() == Some("sandbox") {
            sandbox(epoch).await;
        }
    });
}
