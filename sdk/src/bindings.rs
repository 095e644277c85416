//! The generated bindings and the adapters between them and the SDK types.
//! Only compiled for `wasm32`; nothing here is public API.
#![allow(missing_docs)]

use crate::harness;
use crate::plugin::{Adapter, Channel, Filter};
use crate::types::{SendError, SendFailure};
use crate::values::KvError;
use crate::values::{FetchError, Level, Request, Response};
use std::cell::Cell;
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

pub mod adapter {
    wit_bindgen::generate!({
        path: "../wit",
        world: "adapter",
        pub_export_macro: true,
        export_macro_name: "export_adapter_world",
        default_bindings_module: "beacon_plugin_sdk::__bindings::adapter",
    });
}

use channel::beacon::plugin::{http as wit_http, kv as channel_kv, log as wit_log};
use filter::beacon::plugin::kv as filter_kv;

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

/// The bucket the current call may use: lent by the host for the duration of
/// one `send` (the channel's) or one rule's evaluation (the rule's).
#[derive(Clone, Copy)]
enum Current {
    None,
    Channel(*const channel_kv::Bucket),
    Filter(*const filter_kv::Bucket),
}

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(Current::None) };
}

/// Makes `bucket` the current one until dropped.
struct Lent;

impl Lent {
    fn channel(bucket: &channel_kv::Bucket) -> Lent {
        CURRENT.with(|c| c.set(Current::Channel(bucket)));
        Lent
    }

    fn filter(bucket: &filter_kv::Bucket) -> Lent {
        CURRENT.with(|c| c.set(Current::Filter(bucket)));
        Lent
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(Current::None));
    }
}

/// Runs the matching closure on the current bucket.
///
/// SAFETY: a pointer in `CURRENT` is only set by [`Lent`] from a reference
/// that outlives the guard (the borrowed handle the host passed into the
/// export being run), and the guard clears it before that call returns.
/// Components are single-threaded, so nothing else can observe it.
fn with_bucket<T>(
    on_channel: impl FnOnce(&channel_kv::Bucket) -> T,
    on_filter: impl FnOnce(&filter_kv::Bucket) -> T,
) -> Result<T, KvError> {
    match CURRENT.with(Cell::get) {
        Current::Channel(bucket) => Ok(on_channel(unsafe { &*bucket })),
        Current::Filter(bucket) => Ok(on_filter(unsafe { &*bucket })),
        Current::None => Err(KvError::Unavailable(
            "no key-value bucket in this call (only send and evaluate get one)".into(),
        )),
    }
}

macro_rules! kv_error {
    ($module:ident) => {
        |err: $module::KvError| match err {
            $module::KvError::Invalid(why) => KvError::Invalid(why),
            $module::KvError::QuotaExceeded(why) => KvError::QuotaExceeded(why),
            $module::KvError::Unavailable(why) => KvError::Unavailable(why),
        }
    };
}

pub(crate) fn kv_get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    with_bucket(
        |b| b.get(key).map_err(kv_error!(channel_kv)),
        |b| b.get(key).map_err(kv_error!(filter_kv)),
    )?
}

pub(crate) fn kv_set(key: &str, value: &[u8], ttl: Option<u32>) -> Result<(), KvError> {
    with_bucket(
        |b| b.set(key, value, ttl).map_err(kv_error!(channel_kv)),
        |b| b.set(key, value, ttl).map_err(kv_error!(filter_kv)),
    )?
}

pub(crate) fn kv_add(key: &str, value: &[u8], ttl: Option<u32>) -> Result<bool, KvError> {
    with_bucket(
        |b| b.add(key, value, ttl).map_err(kv_error!(channel_kv)),
        |b| b.add(key, value, ttl).map_err(kv_error!(filter_kv)),
    )?
}

pub(crate) fn kv_increment(key: &str, delta: i64, ttl: Option<u32>) -> Result<i64, KvError> {
    with_bucket(
        |b| b.increment(key, delta, ttl).map_err(kv_error!(channel_kv)),
        |b| b.increment(key, delta, ttl).map_err(kv_error!(filter_kv)),
    )?
}

pub(crate) fn kv_delete(key: &str) -> Result<bool, KvError> {
    with_bucket(
        |b| b.delete(key).map_err(kv_error!(channel_kv)),
        |b| b.delete(key).map_err(kv_error!(filter_kv)),
    )?
}

pub(crate) fn send_mail(mail: &crate::values::Mail) -> Result<String, crate::values::MailError> {
    use crate::values::MailError;
    use channel::beacon::plugin::smtp_send as wit;
    let request = wit::Mail {
        to: mail.to.clone(),
        subject: mail.subject.clone(),
        text: mail.text.clone(),
        html: mail.html.clone(),
        reply_to: mail.reply_to.clone(),
    };
    wit::send_mail(&request).map_err(|err| match err {
        wit::MailError::NotConfigured => MailError::NotConfigured,
        wit::MailError::Invalid(why) => MailError::Invalid(why),
        wit::MailError::Rejected(why) => MailError::Rejected(why),
        wit::MailError::Unavailable(why) => MailError::Unavailable(why),
        wit::MailError::RateLimited(ms) => MailError::RateLimited(ms),
    })
}

pub(crate) fn publish(message: &crate::values::Publish) -> Result<(), crate::values::MqttError> {
    use crate::values::MqttError;
    use channel::beacon::plugin::mqtt_publish as wit;
    let request = wit::MqttMessage {
        broker_url: message.broker_url.clone(),
        topic: message.topic.clone(),
        payload: message.payload.clone(),
        qos: message.qos,
        retain: message.retain,
        username: message.username.clone(),
        password: message.password.clone(),
        timeout_ms: message.timeout_ms,
    };
    wit::publish(&request).map_err(|err| match err {
        wit::MqttError::PolicyDenied(why) => MqttError::PolicyDenied(why),
        wit::MqttError::Timeout => MqttError::Timeout,
        wit::MqttError::Connection(why) => MqttError::Connection(why),
        wit::MqttError::Refused(why) => MqttError::Refused(why),
        wit::MqttError::InvalidRequest(why) => MqttError::InvalidRequest(why),
    })
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
                    // Adapters describe themselves with `adapter-info`
                    // (see `AdapterExport`), never through here.
                    PluginKind::Filter | PluginKind::Adapter => wt::PluginKind::Filter,
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
        state: &channel_kv::Bucket,
    ) -> Result<
        channel::beacon::plugin::types::SendOutcome,
        channel::beacon::plugin::types::SendError,
    > {
        use channel::beacon::plugin::types as wt;
        let message = channel_conv::message_from_wit(message);
        let _lent = Lent::channel(state);
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
        states: Vec<filter_kv::Bucket>,
        message: filter::beacon::plugin::types::Message,
    ) -> Vec<Result<filter::beacon::plugin::types::Verdict, String>> {
        // The message is converted once for the whole batch.
        let message = filter_conv::message_from_wit(message);
        config_jsons
            .iter()
            .enumerate()
            .map(|(i, config_json)| {
                let _lent = states.get(i).map(Lent::filter);
                harness::filter_decide::<T>(config_json, &message).map(|verdict| {
                    filter::beacon::plugin::types::Verdict {
                        matched: verdict.matched,
                        note: verdict.note,
                    }
                })
            })
            .collect()
    }
}

/// Implements the generated `adapter` exports for any [`Adapter`].
pub struct AdapterExport<T>(PhantomData<T>);

impl<T: Adapter> adapter::exports::beacon::plugin::adapter_api::Guest for AdapterExport<T> {
    fn describe() -> adapter::exports::beacon::plugin::adapter_api::AdapterInfo {
        let info = harness::adapter_describe::<T>();
        adapter::exports::beacon::plugin::adapter_api::AdapterInfo {
            id: info.id,
            name: info.name,
            version: info.version,
            description: info.description,
            config_schema: info.config_schema,
        }
    }

    fn validate_config(
        config_json: String,
    ) -> Result<(), adapter::beacon::plugin::types::ConfigError> {
        harness::adapter_validate_config::<T>(&config_json).map_err(|err| {
            adapter::beacon::plugin::types::ConfigError {
                field: err.field,
                message: err.message,
            }
        })
    }

    fn adapt(
        config_json: String,
        request: adapter::exports::beacon::plugin::adapter_api::InboundRequest,
    ) -> Result<
        Vec<adapter::exports::beacon::plugin::adapter_api::AdaptedMessage>,
        adapter::exports::beacon::plugin::adapter_api::AdaptError,
    > {
        use crate::adapter::{AdaptError, InboundRequest};
        use adapter::exports::beacon::plugin::adapter_api as wa;
        let request = InboundRequest {
            method: request.method,
            query: request.query,
            headers: request.headers,
            body: request.body,
            endpoint_id: request.endpoint_id,
            endpoint_name: request.endpoint_name,
        };
        match harness::adapter_adapt::<T>(&config_json, &request) {
            Ok(messages) => Ok(messages
                .into_iter()
                .map(|m| wa::AdaptedMessage {
                    title: m.title,
                    body: m.body,
                    group: m.group,
                    priority: m.priority,
                    tags: m.tags,
                    url: m.url,
                    extras: m.extras,
                })
                .collect()),
            Err(AdaptError::Invalid(why)) => Err(wa::AdaptError::Invalid(why)),
            Err(AdaptError::Unauthorized(why)) => Err(wa::AdaptError::Unauthorized(why)),
        }
    }
}
