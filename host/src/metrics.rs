//! Prometheus metrics (SPEC §10), served at `GET /metrics` in the text
//! exposition format. One set per process, registered once; recording is an
//! atomic add (a labelled family adds one read-locked map lookup), so the
//! ingest and delivery paths pay nanoseconds. Gauges that describe the
//! database (queue depth, oldest due delivery) are read when scraped.

use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`render`]'s answer.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IngestLabels {
    /// `native`, `ntfy`, `gotify`, `bark`.
    protocol: &'static str,
    /// `accepted`, `replayed`, `unauthorized`, `forbidden`, `too_large`,
    /// `invalid`, `rate_limited`, `error`.
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    plugin: String,
    /// What the attempt led to: `sent`, `retry`, `failed`.
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    plugin: String,
    /// `send`, `evaluate`, `adapt`.
    call: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    plugin: String,
    /// `trap`, `timeout`, `memory`.
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

struct Metrics {
    registry: Registry,
    ingest_requests: Family<IngestLabels, Counter>,
    ingest_body_bytes: Histogram,
    ingest_seconds: Histogram,
    attempts: Family<AttemptLabels, Counter>,
    attempt_seconds: Family<PluginLabels, Histogram>,
    plugin_call_seconds: Family<CallLabels, Histogram>,
    plugin_failures: Family<FailureLabels, Counter>,
    worker_last_round: Gauge<f64, AtomicU64>,
    queue_due: Gauge,
    queue_waiting: Gauge,
    oldest_due_age: Gauge<f64, AtomicU64>,
}

/// Seconds from 0.5 ms to ~16 s in doublings: ingest, sends and plugin calls.
fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.0005, 2.0, 16)
}

fn seconds_family<L>() -> Family<L, Histogram>
where
    L: Clone + std::hash::Hash + Eq,
{
    Family::new_with_constructor(|| Histogram::new(latency_buckets()))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("beacon");
    let metrics = Metrics {
        ingest_requests: Family::default(),
        // 64 B to 4 MiB in quadruplings.
        ingest_body_bytes: Histogram::new(exponential_buckets(64.0, 4.0, 9)),
        ingest_seconds: Histogram::new(latency_buckets()),
        attempts: Family::default(),
        attempt_seconds: seconds_family(),
        plugin_call_seconds: seconds_family(),
        plugin_failures: Family::default(),
        worker_last_round: Gauge::default(),
        queue_due: Gauge::default(),
        queue_waiting: Gauge::default(),
        oldest_due_age: Gauge::default(),
        registry: Registry::default(),
    };
    registry.register(
        "ingest_requests",
        "Ingest requests by protocol and result",
        metrics.ingest_requests.clone(),
    );
    registry.register_with_unit(
        "ingest_body",
        "Size of accepted ingest bodies",
        Unit::Bytes,
        metrics.ingest_body_bytes.clone(),
    );
    registry.register_with_unit(
        "ingest_duration",
        "Time from an ingest request to its answer",
        Unit::Seconds,
        metrics.ingest_seconds.clone(),
    );
    registry.register(
        "delivery_attempts",
        "Recorded delivery attempts by channel plugin and what they led to",
        metrics.attempts.clone(),
    );
    registry.register_with_unit(
        "delivery_attempt_duration",
        "Duration of delivery attempts by channel plugin",
        Unit::Seconds,
        metrics.attempt_seconds.clone(),
    );
    registry.register_with_unit(
        "plugin_call_duration",
        "Duration of plugin calls by plugin and call",
        Unit::Seconds,
        metrics.plugin_call_seconds.clone(),
    );
    registry.register(
        "plugin_failures",
        "Plugin calls stopped by a trap, their deadline or their memory limit",
        metrics.plugin_failures.clone(),
    );
    registry.register_with_unit(
        "worker_last_round_timestamp",
        "When this process's delivery worker last finished a database round (Unix time)",
        Unit::Seconds,
        metrics.worker_last_round.clone(),
    );
    registry.register(
        "delivery_queue_due",
        "Deliveries waiting that are due now (read when scraped)",
        metrics.queue_due.clone(),
    );
    registry.register(
        "delivery_queue_waiting",
        "Deliveries waiting for a later time: backoff or scheduled (read when scraped)",
        metrics.queue_waiting.clone(),
    );
    registry.register_with_unit(
        "delivery_oldest_due_age",
        "How long the oldest due delivery has been due (read when scraped)",
        Unit::Seconds,
        metrics.oldest_due_age.clone(),
    );
    registry.register(
        "build",
        "The running binary",
        Info::new(BuildLabels {
            version: env!("CARGO_PKG_VERSION"),
        }),
    );
    Metrics {
        registry,
        ..metrics
    }
});

/// An ingest request answered with `status` after `elapsed`.
pub fn ingest_answered(protocol: &'static str, status: u16, replayed: bool, elapsed: Duration) {
    let result = match status {
        200..=299 if replayed => "replayed",
        200..=299 => "accepted",
        401 => "unauthorized",
        403 => "forbidden",
        413 => "too_large",
        429 => "rate_limited",
        400..=499 => "invalid",
        _ => "error",
    };
    let metrics = &*METRICS;
    metrics
        .ingest_requests
        .get_or_create(&IngestLabels { protocol, result })
        .inc();
    metrics.ingest_seconds.observe(elapsed.as_secs_f64());
}

/// The size of an ingest body that was read in full.
pub fn ingest_body(bytes: usize) {
    METRICS.ingest_body_bytes.observe(bytes as f64);
}

/// A delivery attempt recorded: its channel plugin, what it led to, how long it took.
pub fn attempt_recorded(plugin: &str, outcome: &str, duration: Duration) {
    let metrics = &*METRICS;
    metrics
        .attempts
        .get_or_create(&AttemptLabels {
            plugin: plugin.to_string(),
            outcome: outcome.to_string(),
        })
        .inc();
    metrics
        .attempt_seconds
        .get_or_create(&PluginLabels {
            plugin: plugin.to_string(),
        })
        .observe(duration.as_secs_f64());
}

/// How a plugin call ended, for [`plugin_call`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallEnd {
    /// The plugin answered (whatever it answered).
    Answered,
    Trapped,
    TimedOut,
    OutOfMemory,
}

/// A plugin call (`send`, `evaluate`, `adapt`) of `plugin` that took `elapsed`.
pub fn plugin_call(plugin: &str, call: &'static str, elapsed: Duration, end: CallEnd) {
    let metrics = &*METRICS;
    metrics
        .plugin_call_seconds
        .get_or_create(&CallLabels {
            plugin: plugin.to_string(),
            call,
        })
        .observe(elapsed.as_secs_f64());
    let kind = match end {
        CallEnd::Answered => return,
        CallEnd::Trapped => "trap",
        CallEnd::TimedOut => "timeout",
        CallEnd::OutOfMemory => "memory",
    };
    metrics
        .plugin_failures
        .get_or_create(&FailureLabels {
            plugin: plugin.to_string(),
            kind,
        })
        .inc();
}

/// This process's delivery worker finished a database round now.
pub fn worker_round_finished() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    METRICS.worker_last_round.set(now);
}

/// The delivery queue as the database reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueGauges {
    pub due: i64,
    pub waiting: i64,
    /// How long the oldest due delivery has been due.
    pub oldest_due_age_ms: i64,
}

/// The text exposition of every metric, with the queue gauges set to `queue`.
pub fn render(queue: QueueGauges) -> Result<String, std::fmt::Error> {
    let metrics = &*METRICS;
    metrics.queue_due.set(queue.due);
    metrics.queue_waiting.set(queue.waiting);
    metrics
        .oldest_due_age
        .set(queue.oldest_due_age_ms.max(0) as f64 / 1000.0);
    let mut out = String::with_capacity(8 * 1024);
    prometheus_text::encode(&mut out, &metrics.registry)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_in_the_text_format() {
        ingest_answered("native", 201, false, Duration::from_millis(2));
        ingest_answered("ntfy", 401, false, Duration::from_millis(1));
        ingest_body(300);
        attempt_recorded("bark", "sent", Duration::from_millis(30));
        plugin_call(
            "hostile",
            "evaluate",
            Duration::from_millis(50),
            CallEnd::TimedOut,
        );
        worker_round_finished();
        let text = render(QueueGauges {
            due: 3,
            waiting: 7,
            oldest_due_age_ms: 1500,
        })
        .unwrap();
        for expected in [
            "beacon_ingest_requests_total{protocol=\"native\",result=\"accepted\"}",
            "beacon_ingest_requests_total{protocol=\"ntfy\",result=\"unauthorized\"}",
            "beacon_ingest_body_bytes_bucket{le=\"1024\"} 1",
            "beacon_ingest_duration_seconds_count",
            "beacon_delivery_attempts_total{plugin=\"bark\",outcome=\"sent\"}",
            "beacon_delivery_attempt_duration_seconds_bucket{plugin=\"bark\",le=\"0.064\"}",
            "beacon_plugin_failures_total{plugin=\"hostile\",kind=\"timeout\"}",
            "beacon_delivery_queue_due 3",
            "beacon_delivery_queue_waiting 7",
            "beacon_delivery_oldest_due_age_seconds 1.5",
            "beacon_build_info{version=",
            "# TYPE beacon_worker_last_round_timestamp_seconds gauge",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
    }
}
