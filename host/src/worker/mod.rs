//! The delivery worker (SPEC §7): claims due deliveries with a lease, runs the
//! channel plugin with bounded concurrency, and records each attempt together
//! with the delivery's next state. It wakes on an in-process signal when
//! ingest queues work (plus LISTEN/NOTIFY on PostgreSQL, for other
//! processes); a short poll remains for retries that become due.
//!
//! One loop owns the database side: each round records every outcome that
//! arrived since the last round and claims work for the free slots in one
//! transaction (group commit). Sends run as tasks and hand their outcome back
//! to the loop; an outcome is reported (log, live event) only once committed.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{mpsc, Notify};

use crate::domain::channel::Channel;
use crate::domain::config_cipher::ConfigCipher;
use crate::domain::retry::{Ending, RetryPolicy};
use crate::domain::template::{render, TemplateContext};
use crate::domain::{new_id, now_ms, Message, Rule};
use crate::events::{EventKind, Events};
use crate::plugins::registry::Registry;
use crate::plugins::runtime::{PluginError, SendError, SenderCapabilities};
use crate::plugins::wit_message;
use crate::storage::{AttemptRecord, DeliveryWork, FinishedAttempt, Store, Topic};

/// Characters of a response kept with an attempt.
const MAX_SNIPPET_CHARS: usize = 2_048;
const MAX_RESPONSE_JSON_BYTES: usize = 16 * 1024;
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// Deliveries held (in flight plus ready), as a multiple of the concurrency.
/// A database round takes milliseconds; with only one extra batch claimed
/// the ready queue ran dry during each round and sends waited for it. Four
/// batches keep sends going while a round runs (throughput bench: 4.4–4.9k
/// to 6.2–6.8k deliveries/s). Leases start at the claim, and are minutes long.
const CLAIM_AHEAD: usize = 4;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub concurrency: usize,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub policy: RetryPolicy,
    /// Outer bound of one send (the plugin's own deadline is shorter).
    pub send_timeout: Duration,
}

#[derive(Clone)]
pub struct Worker {
    store: Store,
    /// Opens the channel configs sealed at rest.
    cipher: ConfigCipher,
    plugins: Arc<Registry>,
    /// State and mail for channel senders.
    capabilities: SenderCapabilities,
    config: WorkerConfig,
    id: Arc<str>,
    wake: Arc<Notify>,
    /// Delivery state changes for the dashboard's live view.
    events: Events,
    /// How the database rounds go, reported with the heartbeat.
    rounds: Arc<RoundHealth>,
}

/// When the last database round succeeded, and how many failed since.
#[derive(Default)]
struct RoundHealth {
    last_ok_at: std::sync::atomic::AtomicI64,
    failures: std::sync::atomic::AtomicI64,
}

impl RoundHealth {
    fn succeeded(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.last_ok_at.store(now_ms(), Relaxed);
        self.failures.store(0, Relaxed);
    }

    fn failed(&self) {
        self.failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// (last successful round, failures in a row) for the heartbeat.
    fn report(&self) -> (Option<i64>, i64) {
        use std::sync::atomic::Ordering::Relaxed;
        let at = self.last_ok_at.load(Relaxed);
        ((at > 0).then_some(at), self.failures.load(Relaxed))
    }
}

/// What one database round claimed, and how many it asked for.
#[derive(Default)]
struct Round {
    room: usize,
    claimed: Vec<DeliveryWork>,
}

/// An attempt that ended, waiting for the loop to record it.
struct Outcome {
    work: DeliveryWork,
    finished: FinishedAttempt,
}

/// Why an attempt ended, with whatever the channel answered.
struct AttemptResult {
    ending: Ending,
    http_status: Option<u16>,
    error: Option<String>,
    response_snippet: Option<String>,
    response_json: Option<String>,
}

impl AttemptResult {
    fn failed(ending: Ending, error: impl Into<String>) -> Self {
        AttemptResult {
            ending,
            http_status: None,
            error: Some(error.into()),
            response_snippet: None,
            response_json: None,
        }
    }
}

impl Worker {
    pub fn new(
        store: Store,
        cipher: ConfigCipher,
        plugins: Arc<Registry>,
        capabilities: SenderCapabilities,
        config: WorkerConfig,
        wake: Arc<Notify>,
        events: Events,
    ) -> Self {
        let id: Arc<str> = Arc::from(format!("{}-{}", hostname(), &new_id()[20..]));
        Worker {
            store,
            cipher,
            plugins,
            capabilities,
            config,
            id,
            wake,
            events,
            rounds: Arc::default(),
        }
    }

    /// Runs until `shutdown` resolves; deliveries already claimed are sent
    /// and recorded first.
    ///
    /// Sends never wait for the database: the loop keeps up to
    /// `(CLAIM_AHEAD - 1) * concurrency` claimed deliveries ready beside the
    /// ones in flight and starts the next one as soon as a send ends, while
    /// one database round at a time records outcomes and tops the ready
    /// queue up in the background.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tracing::info!(worker_id = %self.id, concurrency = self.config.concurrency, "delivery worker started");
        // Work queued by other processes (PostgreSQL); polling covers any gap.
        let wake = self.wake.clone();
        let listener = self
            .store
            .on_signal(Topic::Work, move |_| wake.notify_one());
        let concurrency = self.config.concurrency;
        let longest_wait = self.longest_ready_wait();
        let (done, mut outcomes) = mpsc::unbounded_channel::<Outcome>();
        // Claimed deliveries waiting for a slot, with the time of their claim.
        let mut ready: VecDeque<(DeliveryWork, Instant)> = VecDeque::new();
        let mut unrecorded: Vec<Outcome> = Vec::new();
        let mut round: Option<tokio::task::JoinHandle<Round>> = None;
        let mut in_flight = 0usize;
        // False once a round found fewer due deliveries than it asked for;
        // true again on a wake-up or the poll tick.
        let mut maybe_due = true;
        let mut stopping = false;
        let mut last_heartbeat: Option<Instant> = None;
        tokio::pin!(shutdown);
        loop {
            while in_flight < concurrency {
                let Some((work, claimed_at)) = ready.pop_front() else {
                    break;
                };
                if claimed_at.elapsed() > longest_wait {
                    // Sending now could outlast the lease and race another
                    // worker; the row is claimed again once the lease ends.
                    tracing::warn!(delivery_id = %work.delivery.id, "claimed delivery waited too long for a free slot; left for a later claim");
                    continue;
                }
                in_flight += 1;
                let (worker, done) = (self.clone(), done.clone());
                tokio::spawn(async move {
                    let finished = worker.deliver(&work).await;
                    let _ = done.send(Outcome { work, finished });
                });
            }
            if round.is_none() {
                let room = if stopping || !maybe_due {
                    0
                } else {
                    CLAIM_AHEAD * concurrency - in_flight - ready.len()
                };
                let heartbeat_due = last_heartbeat.is_none_or(|at| at.elapsed() >= HEARTBEAT_EVERY);
                if !unrecorded.is_empty() || room > 0 || heartbeat_due {
                    if heartbeat_due {
                        last_heartbeat = Some(Instant::now());
                    }
                    let worker = self.clone();
                    let outcomes = std::mem::take(&mut unrecorded);
                    round = Some(tokio::spawn(async move {
                        worker.round(outcomes, room, heartbeat_due).await
                    }));
                }
            }
            if stopping && in_flight == 0 && ready.is_empty() && round.is_none() {
                break;
            }
            tokio::select! {
                Some(outcome) = outcomes.recv() => {
                    in_flight -= 1;
                    unrecorded.push(outcome);
                }
                finished = running(&mut round), if round.is_some() => {
                    round = None;
                    let Round { room, claimed } = finished;
                    if claimed.len() < room {
                        maybe_due = false;
                    }
                    let claimed_at = Instant::now();
                    ready.extend(claimed.into_iter().map(|work| (work, claimed_at)));
                }
                _ = self.wake.notified(), if !stopping => maybe_due = true,
                _ = tokio::time::sleep(self.config.poll_interval), if !stopping => maybe_due = true,
                _ = &mut shutdown, if !stopping => stopping = true,
            }
        }
        if let Some(listener) = listener {
            listener.abort();
        }
        tracing::info!(worker_id = %self.id, "delivery worker stopped");
    }

    /// How long a claimed delivery may wait for a slot: a send started
    /// after that could outlast its lease (the sender's deadline, plus a
    /// second to record the attempt).
    fn longest_ready_wait(&self) -> Duration {
        let longest_send =
            self.plugins.runtime().longest_sender_deadline() + Duration::from_secs(1);
        self.config.lease.saturating_sub(longest_send)
    }

    /// One database round: the heartbeat when due, then the outcomes and the
    /// claim together.
    async fn round(&self, outcomes: Vec<Outcome>, room: usize, heartbeat: bool) -> Round {
        if heartbeat {
            let (last_round_at, failures) = self.rounds.report();
            if let Err(err) = self
                .store
                .worker_heartbeat(&self.id, last_round_at, failures)
                .await
            {
                tracing::warn!(error = %err, "worker heartbeat failed");
            }
        }
        if outcomes.is_empty() && room == 0 {
            return Round::default();
        }
        let (recorded, started) = (outcomes.len(), Instant::now());
        let claimed = self.exchange(outcomes, room).await;
        crate::metrics::worker_round_finished();
        tracing::debug!(
            recorded,
            room,
            claimed = claimed.len(),
            micros = started.elapsed().as_micros() as u64,
            "worker round"
        );
        Round { room, claimed }
    }

    /// One round: records the arrived outcomes and claims up to `room` due
    /// deliveries, in one transaction. If that fails, the outcomes are
    /// recorded one by one (one bad row must not fail its neighbours) and the
    /// claim runs on its own.
    async fn exchange(&self, arrived: Vec<Outcome>, room: usize) -> Vec<DeliveryWork> {
        let lease_ms = self.config.lease.as_millis() as i64;
        let finished: Vec<FinishedAttempt> = arrived.iter().map(|o| o.finished.clone()).collect();
        let both = self
            .store
            .exchange_deliveries(&self.id, &finished, lease_ms, room as i64)
            .await;
        match both {
            Ok((moved, claimed)) => {
                self.rounds.succeeded();
                for (outcome, moved) in arrived.iter().zip(moved) {
                    self.report(outcome, Ok(moved));
                }
                claimed
            }
            Err(err) => {
                self.rounds.failed();
                tracing::warn!(error = %err, outcomes = arrived.len(), "recording outcomes with the claim failed; retrying them one by one");
                for outcome in &arrived {
                    let moved = self
                        .store
                        .finish_attempts(&self.id, std::slice::from_ref(&outcome.finished))
                        .await
                        .map(|moved| moved.first().copied().unwrap_or(false));
                    self.report(outcome, moved);
                }
                if room == 0 {
                    return Vec::new();
                }
                self.store
                    .claim_deliveries(&self.id, lease_ms, room as i64)
                    .await
                    .unwrap_or_else(|err| {
                        tracing::error!(error = %err, "claiming deliveries failed");
                        Vec::new()
                    })
            }
        }
    }

    /// Logs a recorded outcome and tells the dashboard.
    fn report(&self, outcome: &Outcome, moved: Result<bool, crate::storage::StoreError>) {
        let delivery = &outcome.work.delivery;
        let attempt = &outcome.finished.attempt;
        match moved {
            Ok(true) => {
                let plugin = outcome
                    .work
                    .channel
                    .as_ref()
                    .map_or("(deleted channel)", |channel| channel.plugin.as_str());
                crate::metrics::attempt_recorded(
                    plugin,
                    attempt.outcome.as_str(),
                    std::time::Duration::from_millis(attempt.duration_ms.max(0) as u64),
                );
                tracing::info!(
                    delivery_id = %delivery.id, rule_id = ?delivery.rule_id, channel_id = ?delivery.channel_id,
                    attempt = attempt.attempt_no, status = %attempt.outcome, http_status = ?attempt.http_status,
                    "delivery attempt finished"
                );
                self.events.publish(
                    &delivery.user_id,
                    EventKind::Delivery {
                        id: delivery.id.clone(),
                        message_id: delivery.message_id.clone(),
                        status: attempt.outcome.to_string(),
                    },
                );
            }
            Ok(false) => {
                tracing::warn!(delivery_id = %delivery.id, "lease lost before the outcome was recorded; another worker owns it")
            }
            Err(err) => {
                tracing::error!(delivery_id = %delivery.id, error = %err, "recording a delivery attempt failed; it will be retried after the lease")
            }
        }
    }

    /// Runs one attempt and decides what follows it.
    async fn deliver(&self, work: &DeliveryWork) -> FinishedAttempt {
        let attempt_no = work.delivery.attempt_count + 1;
        let started_at = now_ms();
        let clock = Instant::now();
        let result = self.attempt(work).await;
        let next = self.config.policy.next(
            attempt_no,
            result.ending,
            now_ms(),
            rand::thread_rng().gen::<f64>(),
        );
        FinishedAttempt {
            delivery_id: work.delivery.id.clone(),
            attempt: AttemptRecord {
                attempt_no,
                started_at,
                duration_ms: clock.elapsed().as_millis() as i64,
                outcome: next.status(),
                http_status: result.http_status.map(i64::from),
                error: result.error,
                response_snippet: result
                    .response_snippet
                    .map(|s| cap_chars(&s, MAX_SNIPPET_CHARS)),
                response_json: result
                    .response_json
                    .filter(|json| json.len() <= MAX_RESPONSE_JSON_BYTES),
            },
            next,
        }
    }

    /// Checks what the claim loaded, then the plugin call.
    async fn attempt(&self, work: &DeliveryWork) -> AttemptResult {
        let (channel, rule, message) = match usable(work) {
            Ok(parts) => parts,
            Err(reason) => return AttemptResult::failed(Ending::Permanent, reason),
        };
        let Some(plugin) = self
            .plugins
            .resolve(&channel.plugin, channel.plugin_version.as_deref())
        else {
            return AttemptResult::failed(
                Ending::Retryable {
                    retry_after_ms: None,
                },
                match &channel.plugin_version {
                    Some(version) => format!(
                        "channel plugin {} {version} (the version this channel pins) is not installed",
                        channel.plugin
                    ),
                    None => format!("channel plugin {} is not installed", channel.plugin),
                },
            );
        };
        let config = match self.cipher.open(channel) {
            Ok(config) => config.to_string(),
            Err(err) => {
                return AttemptResult::failed(
                    Ending::Permanent,
                    format!("the channel config cannot be read: {err}"),
                )
            }
        };
        let payload = render(&rule.payload_template, &TemplateContext::of(message)).to_string();
        let wit_message = wit_message(message);

        let call = self.plugins.runtime().send(
            &plugin,
            &config,
            &payload,
            &wit_message,
            self.capabilities.for_channel(&channel.user_id, &channel.id),
        );
        match tokio::time::timeout(self.config.send_timeout, call).await {
            Err(_) => AttemptResult::failed(
                Ending::Retryable {
                    retry_after_ms: None,
                },
                "the send did not finish in time",
            ),
            Ok(Err(err)) => plugin_failure(err),
            Ok(Ok(Ok(sent))) => AttemptResult {
                ending: Ending::Sent,
                http_status: sent.http_status,
                error: None,
                response_snippet: sent.response_snippet,
                response_json: sent.response_json,
            },
            Ok(Ok(Err(error))) => {
                let (ending, failure) = match error {
                    SendError::Retryable(failure) => (
                        Ending::Retryable {
                            retry_after_ms: failure.retry_after_ms,
                        },
                        failure,
                    ),
                    SendError::Permanent(failure) => (Ending::Permanent, failure),
                };
                AttemptResult {
                    ending,
                    http_status: failure.http_status,
                    error: Some(failure.message),
                    response_snippet: failure.response_snippet,
                    response_json: failure.response_json,
                }
            }
        }
    }
}

/// The channel, rule and message of a claimed delivery, or why it cannot be
/// sent at all (a permanent failure).
fn usable(work: &DeliveryWork) -> Result<(&Channel, &Rule, &Message), String> {
    let channel = work.channel.as_ref().ok_or("the channel was deleted")?;
    let rule = work
        .rule
        .as_ref()
        .ok_or("the rule was deleted")?
        .as_ref()
        .map_err(Clone::clone)?;
    let (message, deleted_at) = work
        .message
        .as_ref()
        .ok_or("the message no longer exists")?
        .as_ref()
        .map_err(Clone::clone)?;
    if deleted_at.is_some() {
        return Err("the message was deleted".into());
    }
    if !channel.enabled {
        return Err("the channel is disabled".into());
    }
    Ok((channel, rule, message))
}

/// The running round's result (a round that panicked claimed nothing; its
/// leases expire and the deliveries are claimed again).
async fn running(round: &mut Option<tokio::task::JoinHandle<Round>>) -> Round {
    match round {
        Some(handle) => handle.await.unwrap_or_default(),
        None => std::future::pending().await,
    }
}

/// A plugin that ran out of time may succeed later; one that traps will not.
fn plugin_failure(err: PluginError) -> AttemptResult {
    let ending = match err {
        PluginError::Timeout(_) => Ending::Retryable {
            retry_after_ms: None,
        },
        _ => Ending::Permanent,
    };
    AttemptResult::failed(ending, err.to_string())
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into())
}

fn cap_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((index, _)) => text[..index].to_string(),
        None => text.to_string(),
    }
}
