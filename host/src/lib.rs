//! Beacon Spear host: configuration, storage, accounts, ingest and the HTTP API.
//!
//! Data flows one way: `api` → use cases (`auth`, `ingest`) → `storage`.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod ingest;
pub mod mail;
pub mod ops;
pub mod plugins;
pub mod ratelimit;
pub mod storage;
pub mod templates;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::config::Config;
use crate::ingest::Ingest;
use crate::mail::Mailer;
use crate::storage::Store;

/// Everything a request handler may use; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub auth: Auth,
    pub ingest: Ingest,
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
        Ok(AppState {
            auth: Auth::new(&config, store.clone(), mailer),
            ingest: Ingest::new(&config, store.clone()),
            store,
            config: Arc::new(config),
        })
    }
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = api::router(state.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("HTTP server")?;
    state.store.close().await;
    Ok(())
}
