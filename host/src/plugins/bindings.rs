//! The only place `bindgen!` runs: Rust bindings for the two worlds of
//! `wit/`. The filter world reuses the channel world's shared interfaces, so
//! there is one `log` host trait and one set of types.

pub mod channel {
    // Senders run as async calls on the worker's own tasks: `fetch` awaits the
    // host's HTTP client instead of parking a thread, so a send costs no
    // thread hand-offs (filters stay synchronous: they never wait on I/O).
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "channel-sender",
        imports: { "beacon:plugin/http.fetch": async },
        exports: { default: async },
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
