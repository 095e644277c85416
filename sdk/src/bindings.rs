//! The generated bindings and the adapters between them and the SDK types.
//! Only compiled for `wasm32`; nothing here is public API.
#![allow(missing_docs)]

use crate::harness;
use crate::plugin::{Channel, Filter};
use crate::types::{SendError, SendFailure};
use crate::values::{FetchError, Level, Request, Response};
use std::marker::PhantomData;

pub mod channel {
    wit_bindgen::generate!({
        path: "../wit",
        world: "channel-sender",
        pub_export_macro: true,
        export_macro_name: "export_channel_world",
        default_bindings_module: "beacon_plugin_sdk::__bindings::channel",
    });
}

pub mod filter {
    wit_bindgen::generate!({
        path: "../wit",
        world: "filter",
        pub_export_macro: true,
        export_macro_name: "export_filter_world",
        default_bindings_module: "beacon_plugin_sdk::__bindings::filter",
    });
}

use channel::beacon::plugin::{http as wit_http, log as wit_log};

pub(crate) fn log(level: Level, message: &str) {
    use wit_log::Level as W;
    let level = match level {
        Level::Trace => W::Trace,
        Level::Debug => W::Debug,
        Level::Info => W::Info,
        Level::Warn => W::Warn,
        Level::Error => W::Error,
    };
    wit_log::log(level, message);
}

pub(crate) fn fetch(request: &Request) -> Result<Response, FetchError> {
    let req = wit_http::Request {
        method: request.method.clone(),
        url: request.url.clone(),
        headers: request.headers.clone(),
        body: request.body.clone(),
        timeout_ms: request.timeout_ms,
        follow_redirects: request.follow_redirects,
    };
    match wit_http::fetch(&req) {
        Ok(resp) => Ok(Response {
            status: resp.status,
            headers: resp.headers,
            body: resp.body,
        }),
        Err(wit_http::FetchError::PolicyDenied(why)) => Err(FetchError::PolicyDenied(why)),
        Err(wit_http::FetchError::Timeout) => Err(FetchError::Timeout),
        Err(wit_http::FetchError::Connection(why)) => Err(FetchError::Connection(why)),
        Err(wit_http::FetchError::BodyTooLarge(limit)) => Err(FetchError::BodyTooLarge(limit)),
        Err(wit_http::FetchError::InvalidRequest(why)) => Err(FetchError::InvalidRequest(why)),
    }
}

/// Generates the per-world conversions (each world has its own copy of the
/// `types` interface).
macro_rules! conversions {
    ($types:path) => {
        use crate::types::{ConfigError, Message, PluginInfo, PluginKind};
        use $types as wt;

        pub(crate) fn info_to_wit(info: PluginInfo) -> wt::PluginInfo {
            wt::PluginInfo {
                id: info.id,
                name: info.name,
                version: info.version,
                kind: match info.kind {
                    PluginKind::Channel => wt::PluginKind::Channel,
                    PluginKind::Filter => wt::PluginKind::Filter,
                },
                description: info.description,
                config_schema: info.config_schema,
            }
        }

        pub(crate) fn config_error_to_wit(err: ConfigError) -> wt::ConfigError {
            wt::ConfigError {
                field: err.field,
                message: err.message,
            }
        }

        pub(crate) fn message_from_wit(m: wt::Message) -> Message {
            Message {
                id: m.id,
                received_at: m.received_at,
                title: m.title,
                body: m.body,
                group: m.group,
                priority: m.priority,
                tags: m.tags,
                url: m.url,
                extras: m.extras,
                endpoint_id: m.endpoint_id,
                endpoint_name: m.endpoint_name,
            }
        }
    };
}

mod channel_conv {
    conversions!(super::channel::beacon::plugin::types);
}

mod filter_conv {
    conversions!(super::filter::beacon::plugin::types);
}

/// Implements the generated `channel-sender` exports for any [`Channel`].
pub struct ChannelAdapter<T>(PhantomData<T>);

impl<T: Channel> channel::exports::beacon::plugin::channel_api::Guest for ChannelAdapter<T> {
    fn describe() -> channel::beacon::plugin::types::PluginInfo {
        channel_conv::info_to_wit(harness::channel_describe::<T>())
    }

    fn validate_config(
        config_json: String,
    ) -> Result<(), channel::beacon::plugin::types::ConfigError> {
        harness::channel_validate_config::<T>(&config_json)
            .map_err(channel_conv::config_error_to_wit)
    }

    fn send(
        config_json: String,
        payload_json: String,
        message: channel::beacon::plugin::types::Message,
    ) -> Result<
        channel::beacon::plugin::types::SendOutcome,
        channel::beacon::plugin::types::SendError,
    > {
        use channel::beacon::plugin::types as wt;
        let message = channel_conv::message_from_wit(message);
        match harness::channel_send::<T>(&config_json, &payload_json, &message) {
            Ok(out) => Ok(wt::SendOutcome {
                http_status: out.http_status,
                response_snippet: out.response_snippet,
                response_json: out.response_json,
            }),
            Err(SendError::Retryable(failure)) => {
                Err(wt::SendError::Retryable(failure_to_wit(failure)))
            }
            Err(SendError::Permanent(failure)) => {
                Err(wt::SendError::Permanent(failure_to_wit(failure)))
            }
        }
    }
}

fn failure_to_wit(f: SendFailure) -> channel::beacon::plugin::types::SendFailure {
    channel::beacon::plugin::types::SendFailure {
        message: f.message,
        retry_after_ms: f.retry_after_ms,
        http_status: f.http_status,
        response_snippet: f.response_snippet,
        response_json: f.response_json,
    }
}

/// Implements the generated `filter` exports for any [`Filter`].
pub struct FilterAdapter<T>(PhantomData<T>);

impl<T: Filter> filter::exports::beacon::plugin::filter_api::Guest for FilterAdapter<T> {
    fn describe() -> filter::beacon::plugin::types::PluginInfo {
        filter_conv::info_to_wit(harness::filter_describe::<T>())
    }

    fn validate_config(
        config_json: String,
    ) -> Result<(), filter::beacon::plugin::types::ConfigError> {
        harness::filter_validate_config::<T>(&config_json).map_err(filter_conv::config_error_to_wit)
    }

    fn evaluate(
        config_jsons: Vec<String>,
        message: filter::beacon::plugin::types::Message,
    ) -> Vec<Result<bool, String>> {
        // The message is converted once for the whole batch.
        let message = filter_conv::message_from_wit(message);
        config_jsons
            .iter()
            .map(|config_json| harness::filter_evaluate::<T>(config_json, &message))
            .collect()
    }
}
