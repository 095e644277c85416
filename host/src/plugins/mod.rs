//! The plugin platform's host side: the component runtime, the capabilities it
//! grants (log for all; fetch for channel senders, behind the outbound policy)
//! and the registry of installed plugins.

mod bindings;
pub mod fetch;
pub mod outbound;
pub mod registry;
pub mod runtime;
mod state;

use std::time::Duration;

use crate::config::PluginConfig;
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
        sender_deadline: config.request_timeout + SENDER_MARGIN,
        memory_bytes: config.memory_bytes,
    };
    let runtime = Runtime::new(config.cache_dir.clone(), limits, fetchers)?;
    Registry::load(runtime, config.dir.clone())
}

pub use runtime::Message;

/// The plugin view of a message.
pub fn wit_message(
    payload: &crate::ingest::Payload,
    id: &str,
    received_at: &str,
    endpoint_id: &str,
    endpoint_name: &str,
) -> Message {
    Message {
        id: id.to_string(),
        received_at: received_at.to_string(),
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
        endpoint_id: endpoint_id.to_string(),
        endpoint_name: endpoint_name.to_string(),
    }
}
