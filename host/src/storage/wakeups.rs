//! Signals between processes that share one database: PostgreSQL's
//! NOTIFY/LISTEN. SQLite serves one process, whose parts signal each other in
//! memory, so there these are no-ops. Nothing outside storage sees the
//! mechanism, only the [`Topic`].

use std::time::Duration;

use super::{Backend, Store, StoreResult};

/// What a signal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// Deliveries were queued or re-queued: wake the workers.
    Work,
    /// A live event for dashboards served by other processes (JSON payload).
    LiveEvents,
}

impl Topic {
    fn channel(self) -> &'static str {
        match self {
            Topic::Work => "beacon_deliveries",
            Topic::LiveEvents => "beacon_events",
        }
    }
}

/// How long a lost LISTEN connection waits before it reconnects; polling
/// covers anything missed meanwhile.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

impl Store {
    /// True when other processes may share this database (PostgreSQL), so
    /// signals must go through it.
    pub fn is_shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// Signals every process listening on `topic` (PostgreSQL); nothing on SQLite.
    pub async fn signal(&self, topic: Topic, payload: &str) -> StoreResult<()> {
        if self.is_shared() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(topic.channel())
                .bind(payload)
                .execute(&self.writer)
                .await?;
        }
        Ok(())
    }

    /// Calls `on_signal` with the payload of every signal on `topic`, from
    /// any process, for as long as the task runs (it reconnects after a lost
    /// connection). None on SQLite, where no other process signals.
    pub fn on_signal(
        &self,
        topic: Topic,
        mut on_signal: impl FnMut(&str) + Send + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if !self.is_shared() {
            return None;
        }
        let url = self.url.to_string();
        Some(tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect(&url).await {
                    Ok(mut listener) => match listener.listen(topic.channel()).await {
                        Ok(()) => {
                            while let Ok(notification) = listener.recv().await {
                                on_signal(notification.payload());
                            }
                        }
                        Err(err) => tracing::warn!(error = %err, ?topic, "LISTEN failed"),
                    },
                    Err(err) => {
                        tracing::warn!(error = %err, ?topic, "could not open the LISTEN connection")
                    }
                }
                tokio::time::sleep(RECONNECT_AFTER).await;
            }
        }))
    }
}
