//! Rate limit filter (built into Beacon Spear): at most `max` messages pass
//! a rule per fixed window of `window_seconds`.
//!
//! Config (one entry of a rule's `extra_filters`):
//!
//! ```json
//! {"plugin": "rate-limit", "config": {"max": 10, "window_seconds": 60, "key_by": "group"}}
//! ```
//!
//! Semantics (see README.md for the whole story):
//!
//! - Fixed windows: `kv::increment(key, 1, window)` returns `n`, the
//!   message's number in the current window; the first message opens the
//!   window (the key's expiry), later ones never extend it. `n <= max`
//!   passes; `n > max` is blocked with the note
//!   `rate limit: 10 per 60 s reached (this is message 11 of the window)`.
//! - Every message that reaches the filter counts, blocked ones included
//!   (harmless with fixed windows: once over, the rest of the window is
//!   blocked anyway).
//! - `key_by`: `none` (default) counts all of the rule's messages together,
//!   `group` counts each message group separately (no group is a group of
//!   its own), `endpoint` each ingest endpoint.
//! - State is per rule (the host scopes the bucket). The key names the
//!   window, the max and the group/endpoint (hashed), so two rate limits on
//!   one rule count separately and a changed config starts a fresh count.
//! - Fails open: when the state store cannot answer, the message passes with
//!   a note saying it was not counted, because losing an alert is worse than
//!   going over a limit.

use beacon_plugin_sdk::kv::{self, KvError};
use beacon_plugin_sdk::{export_filter, ConfigError, Filter, Message, Verdict};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Largest accepted `max`.
pub const MAX_MAX: u32 = 100_000;
/// Longest accepted `window_seconds`: 7 days.
pub const MAX_WINDOW_SECONDS: u32 = 604_800;

/// Longest group or endpoint name quoted in a note, in characters.
const NOTE_NAME_CHARS: usize = 80;

/// The rate limit config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// How many messages may pass per window (1 to 100000); the rest of
    /// the window's messages are blocked.
    #[schemars(range(min = 1, max = 100000), example = 10)]
    pub max: u32,
    /// Window length in seconds (1 to 604800 = 7 days). Windows are fixed:
    /// one opens with the first message after the previous one ended.
    #[schemars(range(min = 1, max = 604800), example = 60)]
    pub window_seconds: u32,
    /// Count separately per `group` (messages without a group share one
    /// count) or per ingest `endpoint`; `none` (the default) counts all of
    /// the rule's messages together.
    #[serde(default)]
    pub key_by: KeyBy,
}

/// What messages are counted together: all of the rule's (`none`), each
/// message group's (`group`; no group is a group of its own) or each ingest
/// endpoint's (`endpoint`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum KeyBy {
    #[default]
    None,
    Group,
    Endpoint,
}

/// Everything `validate-config` checks beyond reading the config; `decide`
/// runs it too.
pub fn validate_config(config: &RateLimitConfig) -> Result<(), ConfigError> {
    if !(1..=MAX_MAX).contains(&config.max) {
        return Err(ConfigError::new(
            "max",
            format!("must be between 1 and {MAX_MAX}"),
        ));
    }
    if !(1..=MAX_WINDOW_SECONDS).contains(&config.window_seconds) {
        return Err(ConfigError::new(
            "window_seconds",
            format!("must be between 1 and {MAX_WINDOW_SECONDS} (7 days)"),
        ));
    }
    Ok(())
}

/// Endpoint id without dashes, lower case.
fn canonical_id(id: &str) -> String {
    id.trim()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The counter's key: `count:<window>s:<max>`, plus `:group:<hex>` or
/// `:endpoint:<hex>` with `key_by`, where `<hex>` is the SHA-256 of the JSON
/// text of the group (`null` when absent, so no group and an empty group
/// differ) or of the endpoint id. Under 100 bytes whatever the message.
pub fn counter_key(config: &RateLimitConfig, message: &Message) -> String {
    let base = format!("count:{}s:{}", config.window_seconds, config.max);
    let hashed = |value: serde_json::Value| hex(&Sha256::digest(value.to_string().as_bytes()));
    match config.key_by {
        KeyBy::None => base,
        KeyBy::Group => format!("{base}:group:{}", hashed(json!(message.group))),
        KeyBy::Endpoint => format!(
            "{base}:endpoint:{}",
            hashed(json!(canonical_id(&message.endpoint_id)))
        ),
    }
}

/// `"x"` quoted, cut to [`NOTE_NAME_CHARS`] characters.
fn quoted(name: &str) -> String {
    match name.char_indices().nth(NOTE_NAME_CHARS) {
        None => format!("{name:?}"),
        Some((cut, _)) => format!("{:?}", format!("{}…", &name[..cut])),
    }
}

/// What the note says the count is for.
fn counted(config: &RateLimitConfig, message: &Message) -> String {
    match config.key_by {
        KeyBy::None => String::new(),
        KeyBy::Group => match &message.group {
            Some(group) => format!(" for group {}", quoted(group)),
            None => " for messages without a group".into(),
        },
        KeyBy::Endpoint => format!(" for endpoint {}", quoted(&message.endpoint_name)),
    }
}

/// The key-value call the filter makes: the rule's bucket in the host
/// ([`HostKv`]), or a stand-in in tests.
pub trait State {
    /// [`kv::increment`].
    fn increment(&mut self, key: &str, delta: i64, ttl: Duration) -> Result<i64, KvError>;
}

/// The host's key-value bucket of the rule being evaluated.
pub struct HostKv;

impl State for HostKv {
    fn increment(&mut self, key: &str, delta: i64, ttl: Duration) -> Result<i64, KvError> {
        kv::increment(key, delta, Some(ttl))
    }
}

/// The decision for `message`, with `state` as the rule's bucket.
pub fn decide_with(
    config: &RateLimitConfig,
    message: &Message,
    state: &mut impl State,
) -> Result<Verdict, String> {
    validate_config(config).map_err(|e| format!("invalid filter config: {e}"))?;
    let window = Duration::from_secs(u64::from(config.window_seconds));
    match state.increment(&counter_key(config, message), 1, window) {
        Ok(n) if n <= i64::from(config.max) => Ok(Verdict::pass()),
        Ok(n) => Ok(Verdict::block(format!(
            "rate limit: {} per {} s{} reached (this is message {n} of the window)",
            config.max,
            config.window_seconds,
            counted(config, message),
        ))),
        // Fail open: going over a limit costs less than a lost alert.
        Err(err) => Ok(Verdict {
            matched: true,
            note: Some(format!(
                "not counted against the rate limit, let through: {err}"
            )),
        }),
    }
}

/// The plugin.
pub struct RateLimit;

impl Filter for RateLimit {
    type Config = RateLimitConfig;
    const ID: &'static str = "rate-limit";
    const NAME: &'static str = "Rate limit";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Lets at most max messages through this rule per window_seconds (fixed windows), optionally counted per group or per endpoint.";

    fn validate(config: &RateLimitConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn evaluate(config: &RateLimitConfig, message: &Message) -> Result<bool, String> {
        Self::decide(config, message).map(|verdict| verdict.matched)
    }

    fn decide(config: &RateLimitConfig, message: &Message) -> Result<Verdict, String> {
        decide_with(config, message, &mut HostKv)
    }
}

export_filter!(RateLimit);

#[cfg(test)]
mod tests;
