//! The only place `bindgen!` runs: Rust bindings for the worlds of `wit/`
//! (the current line, `beacon:plugin@0.3`) and of `wit/v0.2` (the previous
//! line, kept so plugins built against it keep loading, as Zed keeps its
//! old extension worlds). Within a line the filter world reuses the channel
//! world's shared interfaces, so there is one `log` host trait and one set of
//! types; the 0.2 worlds reuse the current `types` too (component types are
//! structural, and 0.3 changed none of the 0.2 ones).

pub mod channel {
    // Senders run as async calls on the worker's own tasks: `fetch`, `kv`,
    // mail and MQTT await the host instead of parking a thread (filters stay
    // synchronous: their `kv` calls are short database round trips made from
    // the blocking thread the filter already runs on).
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "channel-sender",
        imports: {
            "beacon:plugin/http.fetch": async,
            "beacon:plugin/kv.[method]bucket.get": async,
            "beacon:plugin/kv.[method]bucket.set": async,
            "beacon:plugin/kv.[method]bucket.add": async,
            "beacon:plugin/kv.[method]bucket.increment": async,
            "beacon:plugin/kv.[method]bucket.delete": async,
            "beacon:plugin/kv.[drop]bucket": async | trappable,
            "beacon:plugin/smtp-send.send-mail": async,
            "beacon:plugin/mqtt-publish.publish": async,
        },
        exports: { default: async },
        with: {
            "beacon:plugin/kv.bucket": crate::plugins::kv::KvBucket,
        },
    });
}

pub mod filter {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "filter",
        imports: {
            "beacon:plugin/kv.[drop]bucket": trappable,
        },
        with: {
            "beacon:plugin/types": super::channel::beacon::plugin::types,
            "beacon:plugin/log": super::channel::beacon::plugin::log,
            "beacon:plugin/kv.bucket": crate::plugins::kv::KvBucket,
        },
    });
}

pub mod adapter {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "adapter",
        with: {
            "beacon:plugin/types": super::channel::beacon::plugin::types,
            "beacon:plugin/log": super::channel::beacon::plugin::log,
        },
    });
}

/// The `beacon:plugin@0.2` worlds: no `kv`, mail or MQTT; `send` without a
/// bucket; `evaluate` answering plain booleans.
pub mod v0_2 {
    pub mod channel {
        wasmtime::component::bindgen!({
            path: "../wit/v0.2",
            world: "channel-sender",
            imports: { "beacon:plugin/http.fetch": async },
            exports: { default: async },
            with: {
                "beacon:plugin/types": crate::plugins::bindings::types,
            },
        });
    }

    pub mod filter {
        wasmtime::component::bindgen!({
            path: "../wit/v0.2",
            world: "filter",
            with: {
                "beacon:plugin/types": crate::plugins::bindings::types,
                "beacon:plugin/log": super::channel::beacon::plugin::log,
            },
        });
    }
}

pub use channel::beacon::plugin::http;
pub use channel::beacon::plugin::kv;
pub use channel::beacon::plugin::log;
pub use channel::beacon::plugin::mqtt_publish;
pub use channel::beacon::plugin::smtp_send;
pub use channel::beacon::plugin::types;
