//! Use cases, one module per resource. This is the only layer that calls the
//! store, and the only one that invalidates caches, right beside the write
//! that makes them stale. API handlers parse a request, call one use case
//! and map its answer; they never see the store.

pub mod accounts;
pub mod adapters;
pub mod channels;
pub mod deliveries;
pub mod endpoints;
pub mod health;
pub mod ingest;
pub mod messages;
pub mod plugin_state;
pub mod plugins;
pub mod rules;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::domain::config_cipher::ConfigCipher;
use crate::events::Events;
use crate::mail::Mailer;
use crate::plugins::registry::Registry;
use crate::storage::Store;

/// The use cases of one process, as the API sees them. Cloning it is one
/// reference count: axum clones the state for every extractor of every request.
#[derive(Clone)]
pub struct App(Arc<UseCases>);

impl std::ops::Deref for App {
    type Target = UseCases;

    fn deref(&self) -> &UseCases {
        &self.0
    }
}

pub struct UseCases {
    pub config: Arc<Config>,
    pub accounts: accounts::Accounts,
    pub endpoints: endpoints::Endpoints,
    pub ingest: ingest::Ingest,
    pub messages: messages::Messages,
    pub channels: channels::Channels,
    pub rules: rules::Rules,
    pub deliveries: deliveries::Deliveries,
    pub plugins: plugins::Plugins,
    pub health: health::Health,
    /// Live events for the dashboard.
    pub events: Events,
    /// Plugin mail (`smtp-send`) through the operator's SMTP server; the
    /// worker sends with it too.
    pub mail_relay: Arc<dyn crate::plugins::mail::MailRelay>,
}

/// What the use cases are built from.
pub struct Parts {
    pub config: Arc<Config>,
    pub store: Store,
    pub registry: Arc<Registry>,
    pub cipher: ConfigCipher,
    pub mailer: Mailer,
    /// Signalled when deliveries are queued (wakes the in-process worker).
    pub work_queued: Arc<Notify>,
    pub events: Events,
}

impl App {
    pub fn new(parts: Parts) -> Self {
        let Parts {
            config,
            store,
            registry,
            cipher,
            mailer,
            work_queued,
            events,
        } = parts;
        let kv: Arc<dyn crate::plugins::kv::KvBackend> =
            plugin_state::DatabaseKv::new(store.clone());
        let mail_relay: Arc<dyn crate::plugins::mail::MailRelay> =
            plugin_state::SmtpRelay::new(mailer.clone());
        let rules = rules::Rules::new(store.clone(), registry.clone(), kv.clone());
        let adapters = adapters::Adapters::new(registry.clone(), cipher.clone());
        let ingest = ingest::Ingest::new(
            &config,
            store.clone(),
            rules.clone(),
            work_queued.clone(),
            events.clone(),
            adapters.clone(),
        );
        App(Arc::new(UseCases {
            accounts: accounts::Accounts::new(&config, store.clone(), mailer, ingest.clone()),
            endpoints: endpoints::Endpoints::new(store.clone(), ingest.clone(), adapters),
            messages: messages::Messages::new(store.clone()),
            channels: channels::Channels::new(
                store.clone(),
                registry.clone(),
                cipher,
                rules.clone(),
                kv,
                mail_relay.clone(),
            ),
            deliveries: deliveries::Deliveries::new(store.clone(), work_queued, events.clone()),
            plugins: plugins::Plugins::new(registry, store.clone()),
            health: health::Health::new(store),
            ingest,
            rules,
            events,
            config,
            mail_relay,
        }))
    }
}
