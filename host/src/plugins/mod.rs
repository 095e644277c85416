//! The plugin platform's host side: the component runtime, the capabilities it
//! grants (log and kv for all; fetch, mail and MQTT for channel senders, the
//! network behind the outbound policy) and the registry of installed plugins.

mod bindings;
pub mod fetch;
mod footprint;
pub mod grants;
mod kind;
pub mod kv;
pub mod mail;
pub mod mqtt;
pub mod outbound;
pub mod registry;
pub mod runtime;
mod state;

use std::time::Duration;

use crate::config::PluginConfig;
use crate::domain::{rfc3339, Message};
use fetch::{FetchLimits, Fetchers};
use registry::Registry;
use runtime::{PluginError, Runtime, RuntimeLimits};

/// Margin a sender gets beyond the request timeout for its own work.
const SENDER_MARGIN: Duration = Duration::from_secs(2);

/// Builds the runtime and loads the built-in and installed plugins.
pub fn start(config: &PluginConfig) -> Result<Registry, PluginError> {
    let fetchers = Fetchers::new(
        &config.outbound_allowlist,
        config.block_private_networks,
        config.block_private_overrides.clone(),
        FetchLimits {
            max_timeout: config.request_timeout,
            max_request_bytes: config.max_body_bytes,
            max_response_bytes: config.max_body_bytes,
        },
    )
    .map_err(|err| PluginError::Runtime(format!("HTTP client: {err}")))?;
    let limits = RuntimeLimits {
        filter_deadline: config.filter_timeout,
        adapter_deadline: config.adapter_timeout,
        sender_deadline: config.request_timeout + SENDER_MARGIN,
        memory_bytes: config.memory_bytes,
    };
    let runtime = Runtime::new(config.cache_dir.clone(), limits, fetchers)?;
    Registry::load(runtime, config.dir.clone())
}

/// The message as plugins see it (the WIT record).
pub use runtime::Message as WitMessage;

/// The plugin view of a message, written once for ingest, tests and the worker.
pub fn wit_message(message: &Message) -> WitMessage {
    let payload = &message.payload;
    WitMessage {
        id: message.id.clone(),
        received_at: rfc3339(message.received_at),
        title: payload.title.clone(),
        body: payload.body.clone(),
        group: payload.group.clone(),
        priority: payload.priority.clamp(1, 5) as u8,
        tags: payload.tags.clone(),
        url: payload.url.clone(),
        extras: payload
            .extras
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        endpoint_id: message.endpoint_id.clone(),
        endpoint_name: message.endpoint_name.clone(),
    }
}
