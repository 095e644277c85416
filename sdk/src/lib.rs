//! # beacon-plugin-sdk
//!
//! Write [Beacon Spear](https://github.com/) channel and filter plugins in
//! Rust and compile them to WebAssembly components (`wasm32-wasip2`) that
//! implement the `beacon:plugin@0.2.0` WIT package.
//!
//! You implement one trait — [`Channel`] for a sender, [`Filter`] for a rule
//! filter — with a typed `Config`, then call [`export_channel!`] or
//! [`export_filter!`] once. The SDK derives the config's JSON Schema for
//! `describe`, turns `validate-config` into "deserialize, then your
//! [`Channel::validate`] hook" with the offending field reported as a JSON
//! path, and converts between the WIT types and the plain Rust types in this
//! crate. The generated bindings stay hidden.
//!
//! ## A channel sender
//!
//! ```
//! use beacon_plugin_sdk::http::Request;
//! use beacon_plugin_sdk::{export_channel, info, Channel, ConfigError, Message, SendError, SendOutcome};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Config {
//!     /// Where to POST.
//!     url: String,
//!     /// Sent as `Authorization: Bearer …`.
//!     #[schemars(transform = beacon_plugin_sdk::config::secret)]
//!     token: Option<String>,
//! }
//!
//! struct Hook;
//!
//! impl Channel for Hook {
//!     type Config = Config;
//!     const ID: &'static str = "my-hook";
//!     const NAME: &'static str = "My hook";
//!     const VERSION: &'static str = "0.1.0"; // usually env!("CARGO_PKG_VERSION")
//!     const DESCRIPTION: &'static str = "POSTs the rendered payload to a URL.";
//!
//!     fn validate(config: &Config) -> Result<(), ConfigError> {
//!         if !config.url.starts_with("https://") {
//!             return Err(ConfigError::new("url", "must be an https:// URL"));
//!         }
//!         Ok(())
//!     }
//!
//!     fn send(config: Config, payload_json: &str, message: &Message) -> Result<SendOutcome, SendError> {
//!         info!("delivering message {}", message.id);
//!         let mut request = Request::post(&config.url)
//!             .header("content-type", "application/json")
//!             .body(payload_json.as_bytes().to_vec());
//!         if let Some(token) = &config.token {
//!             request = request.header("authorization", format!("Bearer {token}"));
//!         }
//!         request.send()?.into_outcome()
//!     }
//! }
//!
//! export_channel!(Hook);
//! # fn main() {}
//! ```
//!
//! ## A filter
//!
//! ```
//! use beacon_plugin_sdk::{export_filter, Filter, Message};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Config { min_priority: u8 }
//!
//! struct Urgent;
//!
//! impl Filter for Urgent {
//!     type Config = Config;
//!     const ID: &'static str = "urgent";
//!     const NAME: &'static str = "Urgent only";
//!     const VERSION: &'static str = "0.1.0";
//!     const DESCRIPTION: &'static str = "Passes messages at or above a priority.";
//!
//!     fn evaluate(config: &Config, message: &Message) -> Result<bool, String> {
//!         Ok(message.priority >= config.min_priority)
//!     }
//! }
//!
//! export_filter!(Urgent);
//! # fn main() {}
//! ```
//!
//! ## Building and testing
//!
//! ```text
//! rustup target add wasm32-wasip2
//! cargo build --release --target wasm32-wasip2   # -> target/wasm32-wasip2/release/<crate>.wasm
//! cargo test                                      # natively; see the `testing` module
//! ```
//!
//! The crate must be a `cdylib` (`[lib] crate-type = ["cdylib", "rlib"]`;
//! `rlib` lets native tests link it). On a native target the export macros
//! expand to nothing, [`http`] requests go to a mock installed with
//! `testing::mock_fetch`, and log lines go to stderr; the functions in
//! [`harness`] run your plugin exactly as the host would (JSON text in,
//! results out).

#![warn(missing_docs)]

pub mod adapter;
pub mod config;
pub mod fit;
pub mod harness;
mod host;
pub mod http;
pub mod kv;
pub mod log;
pub mod mail;
pub mod mqtt;
mod plugin;
pub mod template;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod types;
mod values;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub use bindings as __bindings;

pub use crate::adapter::{AdaptError, AdaptedMessage, InboundRequest};
pub use crate::plugin::{Adapter, Channel, Filter};
pub use crate::template::Template;
pub use crate::types::{
    ConfigError, Message, PluginInfo, PluginKind, SendError, SendFailure, SendOutcome, Verdict,
    SNIPPET_MAX_CHARS,
};
pub use schemars;
pub use serde;
pub use serde_json;

/// Export a [`Channel`] implementation as the component's `channel-sender`
/// world. Use exactly once per plugin crate, at module level.
///
/// On non-wasm targets this expands to nothing, so the crate still builds
/// and tests natively.
#[macro_export]
macro_rules! export_channel {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __BeaconChannelExport = $crate::__bindings::ChannelAdapter<$ty>;
            $crate::__bindings::channel::export_channel_world!(
                __BeaconChannelExport with_types_in $crate::__bindings::channel
            );
        };
    };
}

/// Export a [`Filter`] implementation as the component's `filter` world.
/// Use exactly once per plugin crate, at module level.
#[macro_export]
macro_rules! export_filter {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __BeaconFilterExport = $crate::__bindings::FilterAdapter<$ty>;
            $crate::__bindings::filter::export_filter_world!(
                __BeaconFilterExport with_types_in $crate::__bindings::filter
            );
        };
    };
}

/// Export an [`Adapter`] implementation as the component's `adapter` world.
/// Use exactly once per plugin crate, at module level.
#[macro_export]
macro_rules! export_adapter {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __BeaconAdapterExport = $crate::__bindings::AdapterExport<$ty>;
            $crate::__bindings::adapter::export_adapter_world!(
                __BeaconAdapterExport with_types_in $crate::__bindings::adapter
            );
        };
    };
}
