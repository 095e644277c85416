//! The host capabilities (log, fetch, kv, mail, MQTT), with a native stand-in so plugin
//! logic can be unit-tested with plain `cargo test`.

use crate::values::{FetchError, Level, Request, Response};

#[cfg(target_arch = "wasm32")]
pub(crate) fn log(level: Level, message: &str) {
    crate::bindings::log(level, message);
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn fetch(request: &Request) -> Result<Response, FetchError> {
    crate::bindings::fetch(request)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn log(level: Level, message: &str) {
    eprintln!("[plugin {level:?}] {message}");
    crate::testing::record_log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn fetch(request: &Request) -> Result<Response, FetchError> {
    crate::testing::mocked_fetch(request)
}

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::{kv_add, kv_delete, kv_get, kv_increment, kv_set};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::{kv_add, kv_delete, kv_get, kv_increment, kv_set};

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::{publish, send_mail};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::{mocked_mail as send_mail, mocked_publish as publish};
