//! The only place `bindgen!` runs: Rust bindings for the two worlds of
//! `wit/`. The filter world reuses the channel world's shared interfaces, so
//! there is one `log` host trait and one set of types.

pub mod channel {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "channel-sender",
    });
}

pub mod filter {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "filter",
        with: {
            "beacon:plugin/types": super::channel::beacon::plugin::types,
            "beacon:plugin/log": super::channel::beacon::plugin::log,
        },
    });
}

pub use channel::beacon::plugin::http;
pub use channel::beacon::plugin::log;
pub use channel::beacon::plugin::types;
