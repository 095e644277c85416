//! Beacon Spear host: configuration, storage, accounts, ingest and the HTTP API.
//!
//! Layers (docs/architecture.md): `api → app → {domain, storage, plugins}`,
//! `worker → {domain, storage, plugins}`; `domain` depends on nothing.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod mail;
pub mod metrics;
pub mod ops;
pub mod plugins;
pub mod ratelimit;
pub mod scaffold;
pub mod storage;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::App;
use crate::config::Config;
use crate::domain::config_cipher::ConfigCipher;
use crate::mail::Mailer;
use crate::plugins::registry::Registry;
use crate::storage::Store;

/// One process's wiring: the use cases the API serves, and the parts the
/// worker, the CLI and the tests use beside them. Cloning it is cheap.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<Config>,
    pub store: Store,
    pub plugins: Arc<Registry>,
    pub cipher: ConfigCipher,
    /// Signalled when deliveries are queued (wakes the in-process worker).
    pub work_queued: Arc<tokio::sync::Notify>,
    /// Live events for the dashboard.
    pub events: events::Events,
    /// Held for the process's lifetime: `beacon restore` refuses meanwhile.
    pub running: Arc<ops::RunningLock>,
}

impl AppState {
    /// Connects to the database (migrating unless told not to) and wires the use cases.
    pub async fn build(config: Config, migrate: bool) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url, config.database_max_connections)
            .await
            .context("connecting to the database")?;
        let running = Arc::new(ops::on_start(&config, &store).await?);
        if migrate {
            store.migrate().await.context("applying migrations")?;
        }
        let mailer = Mailer::new(&config.email, config.outbox_dir()).context("EMAIL_* settings")?;
        // Plugin code (describe) must not run on an async worker thread: WASI's
        // blocking stdio would try to start a runtime inside the runtime.
        let plugin_config = config.plugins.clone();
        let plugins = tokio::task::spawn_blocking(move || plugins::start(&plugin_config))
            .await
            .context("loading plugins")?;
        let plugins = Arc::new(plugins.context("loading plugins")?);
        if let Some(every) = config.plugins.reload_every {
            plugins.watch(every);
        }
        let cipher = ConfigCipher::from_text(&config.channel_config_key)
            .context("CHANNEL_CONFIG_ENCRYPTION_KEY")?;
        let config = Arc::new(config);
        let work_queued = Arc::new(tokio::sync::Notify::new());
        let events = events::Events::new();
        let app = App::new(app::Parts {
            config: config.clone(),
            store: store.clone(),
            registry: plugins.clone(),
            cipher: cipher.clone(),
            mailer,
            work_queued: work_queued.clone(),
            events: events.clone(),
        });
        Ok(AppState {
            app,
            config,
            store,
            plugins,
            cipher,
            work_queued,
            events,
            running,
        })
    }

    /// The delivery worker over this state's store and plugins.
    pub fn worker(&self) -> worker::Worker {
        self.worker_reporting_to(self.events.clone())
    }

    /// A worker for a process without a web server: its live events are
    /// relayed to the web processes (PostgreSQL).
    pub fn standalone_worker(&self) -> worker::Worker {
        self.worker_reporting_to(events::Events::relaying_through(self.store.clone()))
    }

    fn worker_reporting_to(&self, events: events::Events) -> worker::Worker {
        let delivery = &self.config.delivery;
        let config = worker::WorkerConfig {
            concurrency: delivery.concurrency,
            lease: delivery.lease,
            poll_interval: delivery.poll_interval,
            policy: domain::retry::RetryPolicy {
                base: delivery.backoff_base,
                max: delivery.backoff_max,
                max_attempts: delivery.max_attempts,
            },
            // The plugin's own deadline is the request timeout plus a margin; this bounds the whole call.
            send_timeout: self.config.plugins.request_timeout + std::time::Duration::from_secs(5),
        };
        worker::Worker::new(
            self.store.clone(),
            self.cipher.clone(),
            self.plugins.clone(),
            plugins::runtime::SenderCapabilities {
                kv: app::plugin_state::DatabaseKv::new(self.store.clone()),
                mail: self.app.mail_relay.clone(),
            },
            config,
            self.work_queued.clone(),
            events,
        )
    }
}

/// Deletes expired tokens, idempotency keys and plugin state now and then, for as
/// long as the process runs (expired rows already read as absent; this
/// only reclaims their space).
async fn purge_expired_tokens(store: Store, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.purge_expired_tokens(domain::now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "expired tokens deleted"),
            Err(err) => {
                tracing::warn!(error = %err, "deleting expired tokens failed; trying again later")
            }
        }
        let keys_live_since = domain::now_ms() - app::ingest::IDEMPOTENCY_WINDOW.as_millis() as i64;
        match store.purge_idempotency_keys(keys_live_since).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "expired idempotency keys deleted"),
            Err(err) => {
                tracing::warn!(error = %err, "deleting expired idempotency keys failed; trying again later")
            }
        }
        match store.kv_purge_expired(domain::now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "expired plugin state deleted"),
            Err(err) => {
                tracing::warn!(error = %err, "deleting expired plugin state failed; trying again later")
            }
        }
    }
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = api::router(state.app.clone());
    state.events.listen_for_relayed(&state.store);
    let purge = tokio::spawn(purge_expired_tokens(
        state.store.clone(),
        state.config.token_purge_interval,
    ));
    let events = state.events.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        // Open event streams would otherwise hold the shutdown open.
        events.close();
    })
    .await
    .context("HTTP server")?;
    purge.abort();
    state.store.close().await;
    Ok(())
}
