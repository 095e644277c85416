//! Beacon Spear host: configuration, storage, accounts, ingest and the HTTP API.
//!
//! Data flows one way: `api` → use cases (`auth`, `ingest`) → `storage`.

pub mod api;
pub mod auth;
pub mod channels;
pub mod config;
pub mod error;
pub mod events;
pub mod ingest;
pub mod mail;
pub mod ops;
pub mod plugins;
pub mod ratelimit;
pub mod rules;
pub mod storage;
pub mod templates;
pub mod timefmt;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::channels::crypto::ConfigCipher;
use crate::channels::Channels;
use crate::config::Config;
use crate::ingest::Ingest;
use crate::mail::Mailer;
use crate::plugins::registry::Registry;
use crate::rules::Rules;
use crate::storage::Store;

/// Everything a request handler may use. Cloning it is one reference count:
/// axum clones the state for every extractor of every request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The parts behind [`AppState`].
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub auth: Auth,
    pub ingest: Ingest,
    pub plugins: Arc<Registry>,
    pub channels: Channels,
    pub rules: Rules,
    /// Signalled when deliveries are queued (wakes the in-process worker).
    pub work_queued: Arc<tokio::sync::Notify>,
    /// Live events for the dashboard.
    pub events: events::Events,
}

impl AppState {
    /// Connects to the database (migrating unless told not to) and wires the use cases.
    pub async fn build(config: Config, migrate: bool) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url, config.database_max_connections)
            .await
            .context("connecting to the database")?;
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
        let rules = Rules::new(store.clone(), plugins.clone());
        let work_queued = Arc::new(tokio::sync::Notify::new());
        let events = events::Events::new();
        Ok(AppState(Arc::new(Services {
            ingest: Ingest::new(
                &config,
                store.clone(),
                rules.clone(),
                work_queued.clone(),
                events.clone(),
            ),
            events,
            channels: Channels::new(store.clone(), plugins.clone(), cipher),
            rules,
            work_queued,
            plugins,
            auth: Auth::new(&config, store.clone(), mailer),
            store,
            config: Arc::new(config),
        })))
    }
}

impl AppState {
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
            policy: worker::policy::RetryPolicy {
                base: delivery.backoff_base,
                max: delivery.backoff_max,
                max_attempts: delivery.max_attempts,
            },
            // The plugin's own deadline is the request timeout plus a margin; this bounds the whole call.
            send_timeout: self.config.plugins.request_timeout + std::time::Duration::from_secs(5),
        };
        worker::Worker::new(
            self.store.clone(),
            self.channels.clone(),
            self.plugins.clone(),
            config,
            self.work_queued.clone(),
            events,
        )
    }
}

/// Deletes expired tokens now and then, for as long as the process runs.
async fn purge_expired_tokens(store: Store, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.purge_expired_tokens(storage::now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "expired tokens deleted"),
            Err(err) => {
                tracing::warn!(error = %err, "deleting expired tokens failed; trying again later")
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
    let app = api::router(state.clone());
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
