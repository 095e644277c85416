//! Logging over the host's `log` import.
//!
//! Use the macros [`trace!`](crate::trace), [`debug!`](crate::debug),
//! [`info!`](crate::info), [`warn!`](crate::warn) and
//! [`error!`](crate::error); they take `format!` arguments:
//!
//! ```
//! use beacon_plugin_sdk::info;
//! let key_count = 2;
//! info!("sending to {key_count} devices");
//! ```
//!
//! Inside a component the line goes to the host, which tags it with the
//! plugin id and call. On a native target (unit tests) it is written to
//! stderr and captured for [`testing::take_logs`](crate::testing::take_logs).
//! Never log secrets or whole payloads.

// Defined in the leaf module `values` so `host` can use it without importing
// this module back.
pub use crate::values::Level;

/// Send one log line to the host.
pub fn log(level: Level, message: &str) {
    crate::host::log(level, message);
}

/// Log at [`Level::Trace`] with `format!` arguments.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Trace, &::std::format!($($arg)+)) };
}

/// Log at [`Level::Debug`] with `format!` arguments.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)+)) };
}

/// Log at [`Level::Info`] with `format!` arguments.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)+)) };
}

/// Log at [`Level::Warn`] with `format!` arguments.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Warn, &::std::format!($($arg)+)) };
}

/// Log at [`Level::Error`] with `format!` arguments.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)+)) };
}
