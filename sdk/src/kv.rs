//! Key-value state that outlives a call (the host's `kv` capability).
//!
//! Every call runs in a fresh instance, so a plugin that must remember
//! something (the fingerprints a dedupe filter has seen, how many messages a
//! rate limit has let through, a token a channel refreshed) keeps it here.
//! The host persists it in its database, shared by every process of the
//! installation, and scopes it: during a filter's `evaluate` these functions
//! reach the bucket of the rule being evaluated, during a channel's `send`
//! the bucket of the channel. A plugin can neither name nor reach another
//! bucket. `describe` and `validate-config` get no bucket
//! ([`KvError::Unavailable`]).
//!
//! Limits: keys 1-256 bytes, values up to 16 KiB, 10,000 live keys per
//! bucket. `ttl` rounds down to whole seconds; `None` keeps a key until it is
//! deleted (or its rule or channel is).
//!
//! ```
//! use beacon_plugin_sdk::kv;
//! use std::time::Duration;
//!
//! // At most one alert per host and hour: `add` sets the key only if it is
//! // absent, atomically across the server's processes.
//! let first = kv::add("seen:nas1", b"1", Some(Duration::from_secs(3600))).unwrap();
//! assert!(first);
//! assert!(!kv::add("seen:nas1", b"1", Some(Duration::from_secs(3600))).unwrap());
//! assert_eq!(kv::increment("count", 2, None).unwrap(), 2);
//! # beacon_plugin_sdk::testing::reset();
//! ```
//!
//! In native tests (`cargo test`) the same functions use an in-memory store
//! per thread; [`testing::set_kv_scope`](crate::testing::set_kv_scope)
//! switches buckets and [`testing::reset`](crate::testing::reset) empties
//! them.

use std::time::Duration;

pub(crate) use crate::values::ttl_seconds;
pub use crate::values::KvError;

/// The value of a live key (a counter reads as its decimal text).
pub fn get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    crate::host::kv_get(key)
}

/// [`get`] as UTF-8 text (invalid bytes replaced).
pub fn get_string(key: &str) -> Result<Option<String>, KvError> {
    Ok(get(key)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Sets a key, replacing a value or a counter.
pub fn set(key: &str, value: impl AsRef<[u8]>, ttl: Option<Duration>) -> Result<(), KvError> {
    crate::host::kv_set(key, value.as_ref(), ttl_seconds(ttl))
}

/// Sets a key only when it is absent or expired; `true` when this call set
/// it. Atomic: of several concurrent callers exactly one gets `true`.
pub fn add(key: &str, value: impl AsRef<[u8]>, ttl: Option<Duration>) -> Result<bool, KvError> {
    crate::host::kv_add(key, value.as_ref(), ttl_seconds(ttl))
}

/// Adds `delta` to a counter and returns the new value. An absent or expired
/// key starts from 0 with `ttl`; a live one keeps its expiry, so the first
/// increment opens a fixed window. Atomic.
pub fn increment(key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, KvError> {
    crate::host::kv_increment(key, delta, ttl_seconds(ttl))
}

/// Removes a key; `true` when it was there.
pub fn delete(key: &str) -> Result<bool, KvError> {
    crate::host::kv_delete(key)
}

#[cfg(test)]
mod tests {
    use crate::kv;
    use crate::testing::{advance_kv_clock, reset, set_kv_scope};
    use std::time::Duration;

    #[test]
    fn kv_buckets_expire_and_stay_apart() {
        reset();
        assert!(kv::add("k", b"a", Some(Duration::from_secs(60))).unwrap());
        assert!(!kv::add("k", b"b", Some(Duration::from_secs(60))).unwrap());
        set_kv_scope("other rule");
        assert_eq!(kv::get("k").unwrap(), None, "another bucket");
        assert!(kv::add("k", b"c", None).unwrap());
        set_kv_scope("default");
        assert_eq!(kv::get_string("k").unwrap().as_deref(), Some("a"));
        advance_kv_clock(Duration::from_secs(61));
        assert_eq!(kv::get("k").unwrap(), None, "expired");
        assert_eq!(
            kv::increment("n", 5, Some(Duration::from_secs(10))).unwrap(),
            5
        );
        assert_eq!(
            kv::increment("n", 1, Some(Duration::from_secs(10))).unwrap(),
            6
        );
        advance_kv_clock(Duration::from_secs(10));
        assert_eq!(
            kv::increment("n", 1, Some(Duration::from_secs(10))).unwrap(),
            1,
            "a new window"
        );
        assert!(matches!(
            kv::set("", b"x", None),
            Err(kv::KvError::Invalid(_))
        ));
        assert!(matches!(
            kv::set("big", vec![0u8; 16 * 1024 + 1], None),
            Err(kv::KvError::Invalid(_))
        ));
        assert!(kv::delete("n").unwrap());
        reset();
    }
}
