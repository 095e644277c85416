//! Group commit for ingest. Request handlers hand their message to a writer
//! task and wait; each writer takes everything queued at that moment and commits
//! it in one transaction, then answers every waiting request. Durability is
//! unchanged (every 201 follows a real commit) while the per-commit cost is
//! shared by the whole batch — that is where ingest throughput comes from.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Mutex};

use crate::storage::{NewMessage, Store, StoreError, Topic};

/// Most messages committed in one transaction.
const MAX_BATCH: usize = 512;
/// Queued messages before handlers wait for room (back-pressure).
const QUEUE_CAPACITY: usize = 8_192;
/// An endpoint's `last_used_at` is written at most this often per writer.
const TOUCH_INTERVAL: Duration = Duration::from_secs(1);

struct Job {
    message: NewMessage,
    done: oneshot::Sender<Result<(), Arc<StoreError>>>,
}

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the ingest writer has stopped")]
    Stopped,
    #[error(transparent)]
    Store(Arc<StoreError>),
}

impl Writer {
    /// Starts `writers` tasks sharing one queue (1 for SQLite's single writer,
    /// a few for PostgreSQL so batches commit in parallel).
    pub fn start(store: Store, writers: usize) -> Self {
        let (jobs, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            tokio::spawn(run(store.clone(), receiver.clone()));
        }
        Writer { jobs }
    }

    /// Returns once the message is committed.
    pub async fn write(&self, message: NewMessage) -> Result<(), WriteError> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job { message, done })
            .await
            .map_err(|_| WriteError::Stopped)?;
        wait.await
            .map_err(|_| WriteError::Stopped)?
            .map_err(WriteError::Store)
    }
}

async fn run(store: Store, receiver: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut touched: HashMap<String, Instant> = HashMap::new();
    loop {
        {
            // Only one writer collects at a time; the others are committing.
            let mut queue = receiver.lock().await;
            if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return; // every sender is gone: the server is shutting down
            }
        }
        touch_endpoints(&store, &batch, &mut touched).await;
        commit(&store, &mut batch).await;
    }
}

/// Records endpoints' last use, at most once a second each; a failure here
/// only costs the timestamp, never the messages.
async fn touch_endpoints(store: &Store, batch: &[Job], touched: &mut HashMap<String, Instant>) {
    let mut due: HashMap<String, i64> = HashMap::new();
    for job in batch {
        let message = &job.message.message;
        let endpoint = &message.endpoint_id;
        if touched
            .get(endpoint)
            .is_none_or(|at| at.elapsed() >= TOUCH_INTERVAL)
        {
            let at = due.entry(endpoint.clone()).or_insert(message.received_at);
            *at = (*at).max(message.received_at);
        }
    }
    if due.is_empty() {
        return;
    }
    if touched.len() > 100_000 {
        touched.retain(|_, at| at.elapsed() < TOUCH_INTERVAL);
    }
    let now = Instant::now();
    for endpoint in due.keys() {
        touched.insert(endpoint.clone(), now);
    }
    if let Err(err) = store.touch_endpoints(&due).await {
        tracing::warn!(error = %err, "could not record endpoint last use");
    }
}

async fn commit(store: &Store, batch: &mut Vec<Job>) {
    let messages: Vec<NewMessage> = batch.iter().map(|job| job.message.clone()).collect();
    match store.insert_messages(&messages).await {
        Ok(()) => {
            if messages.iter().any(|m| !m.deliveries.is_empty()) {
                // Workers in other processes (PostgreSQL); this process's worker is woken by ingest.
                if let Err(err) = store.signal(Topic::Work, "").await {
                    tracing::warn!(error = %err, "NOTIFY of new deliveries failed; workers will find them by polling");
                }
            }
            for job in batch.drain(..) {
                let _ = job.done.send(Ok(()));
            }
        }
        Err(err) if batch.len() > 1 => {
            // One bad row must not fail its neighbours: retry each on its own.
            tracing::warn!(error = %err, size = batch.len(), "batch commit failed; committing one by one");
            for job in batch.drain(..) {
                let result = store
                    .insert_messages(std::slice::from_ref(&job.message))
                    .await
                    .map_err(Arc::new);
                let _ = job.done.send(result);
            }
        }
        Err(err) => {
            let err = Arc::new(err);
            for job in batch.drain(..) {
                let _ = job.done.send(Err(err.clone()));
            }
        }
    }
}
