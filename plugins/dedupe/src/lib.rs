//! Deduplicate filter (built into Beacon Spear): a message does not pass
//! when the same rule already let an equal one through within a time window.
//!
//! Config (one entry of a rule's `extra_filters`):
//!
//! ```json
//! {"plugin": "dedupe", "config": {"window_seconds": 300, "fields": ["title", "body", "endpoint"]}}
//! ```
//!
//! Semantics (see README.md for the whole story):
//!
//! - Two messages are equal when every listed field is (`fields`, default
//!   `["title", "body", "endpoint"]`). The fingerprint is the SHA-256 of an
//!   unambiguous JSON encoding of those values (an absent title is not an
//!   empty one), kept in the rule's key-value bucket as `fp:<hex>`.
//! - `kv::add(fp, "<id> <received_at>", window)`: the first message of a
//!   fingerprint sets the key and passes; an equal message while the key
//!   lives is blocked with the note
//!   `duplicate of message <id> (received <time>), within 300 s`.
//! - The window is fixed from the first occurrence: duplicates do not extend
//!   it (`add` never touches a live key), so a message repeated every minute
//!   with a 300 s window passes once every five minutes.
//! - State is per rule (the host scopes the bucket), so the same message on
//!   two rules is deduplicated on each separately.
//! - A message is never a duplicate of itself (the same message evaluated
//!   twice passes both times).
//! - Fails open: when the state store cannot answer, the message passes with
//!   a note saying it was not checked, because losing an alert is worse than
//!   delivering it twice.

use beacon_plugin_sdk::kv::{self, KvError};
use beacon_plugin_sdk::{export_filter, ConfigError, Filter, Message, Verdict};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::time::Duration;

/// Longest accepted `window_seconds`: 7 days.
pub const MAX_WINDOW_SECONDS: u32 = 604_800;

/// Fingerprint fields used when `fields` is not given.
pub const DEFAULT_FIELDS: [Field; 3] = [Field::Title, Field::Body, Field::Endpoint];

/// Version tag inside the fingerprint encoding (bump it if the encoding
/// changes, so old keys cannot match new fingerprints).
const ENCODING: &str = "dedupe/1";

/// The dedupe config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DedupeConfig {
    /// How long a message blocks its repeats, in seconds (1 to 604800 = 7
    /// days). The window starts with the first message and is not extended
    /// by the duplicates it blocks.
    #[schemars(range(min = 1, max = 604800), example = 300)]
    pub window_seconds: u32,
    /// What must be equal for a message to count as a repeat: any of
    /// `title`, `body`, `group`, `priority`, `tags`, `url`, `endpoint` and
    /// `extras.<key>`. Default: `["title", "body", "endpoint"]`.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub fields: Option<Vec<Field>>,
}

impl DedupeConfig {
    /// The fields that make the fingerprint (the default when not set).
    pub fn fields(&self) -> &[Field] {
        self.fields.as_deref().unwrap_or(&DEFAULT_FIELDS)
    }

    fn window(&self) -> Duration {
        Duration::from_secs(u64::from(self.window_seconds))
    }
}

/// One fingerprint field, as written in `fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// The title (absent and empty differ).
    Title,
    /// The body.
    Body,
    /// The group (absent and empty differ).
    Group,
    /// The priority, 1-5.
    Priority,
    /// The tags as a set: lower-cased, sorted, without repeats.
    Tags,
    /// The URL (absent and empty differ).
    Url,
    /// The ingest endpoint (its id).
    Endpoint,
    /// `extras.<key>`: the value of that extra (absent and empty differ).
    Extra(String),
}

const FIELD_NAMES: &str = "title, body, group, priority, tags, url, endpoint or extras.<key>";

impl Field {
    /// Parse a field name.
    pub fn parse(name: &str) -> Result<Field, String> {
        Ok(match name {
            "title" => Field::Title,
            "body" => Field::Body,
            "group" => Field::Group,
            "priority" => Field::Priority,
            "tags" => Field::Tags,
            "url" => Field::Url,
            "endpoint" => Field::Endpoint,
            _ => match name.strip_prefix("extras.") {
                Some(key) if !key.is_empty() => Field::Extra(key.to_owned()),
                Some(_) => {
                    return Err(
                        "`extras.` needs the key of an extra after the dot, e.g. extras.host"
                            .into(),
                    )
                }
                None => return Err(format!("unknown field `{name}`: expected {FIELD_NAMES}")),
            },
        })
    }

    /// The name as written in the config.
    pub fn name(&self) -> Cow<'_, str> {
        match self {
            Field::Title => "title".into(),
            Field::Body => "body".into(),
            Field::Group => "group".into(),
            Field::Priority => "priority".into(),
            Field::Tags => "tags".into(),
            Field::Url => "url".into(),
            Field::Endpoint => "endpoint".into(),
            Field::Extra(key) => format!("extras.{key}").into(),
        }
    }

    /// The field's value in the fingerprint encoding: a string, `null` when
    /// an optional field is absent, a number for the priority, a list for
    /// the tags.
    fn value(&self, message: &Message) -> Value {
        let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_owned()));
        match self {
            Field::Title => text(message.title.as_deref()),
            Field::Body => Value::String(message.body.clone()),
            Field::Group => text(message.group.as_deref()),
            Field::Priority => json!(message.priority),
            Field::Tags => {
                let mut tags: Vec<String> = message.tags.iter().map(|t| t.to_lowercase()).collect();
                tags.sort();
                tags.dedup();
                json!(tags)
            }
            Field::Url => text(message.url.as_deref()),
            Field::Endpoint => Value::String(canonical_id(&message.endpoint_id)),
            Field::Extra(key) => text(message.extra(key)),
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Field::parse(&name).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Field {
    fn schema_name() -> Cow<'static, str> {
        "DedupeField".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "title, body, group, priority, tags, url, endpoint or extras.<key>",
            "pattern": "^(title|body|group|priority|tags|url|endpoint|extras\\..+)$",
            "examples": ["title", "body", "endpoint", "extras.host"]
        })
    }
}

/// Endpoint id without dashes, lower case (the host sends 32 hex digits;
/// this only guards against spelling differences).
fn canonical_id(id: &str) -> String {
    id.trim()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Everything `validate-config` checks beyond reading the config (field
/// names are checked while reading it, naming `fields[i]`). `decide` runs it
/// too.
pub fn validate_config(config: &DedupeConfig) -> Result<(), ConfigError> {
    if !(1..=MAX_WINDOW_SECONDS).contains(&config.window_seconds) {
        return Err(ConfigError::new(
            "window_seconds",
            format!("must be between 1 and {MAX_WINDOW_SECONDS} (7 days)"),
        ));
    }
    if config.fields.as_ref().is_some_and(Vec::is_empty) {
        return Err(ConfigError::new(
            "fields",
            "must name at least one field (omit it for title, body and endpoint)",
        ));
    }
    Ok(())
}

/// The SHA-256 (lower-case hex) of the compact JSON text
/// `["dedupe/1", window_seconds, [[name, value], …]]`, one pair per
/// configured field in the configured order.
///
/// The window is part of it so that two dedupe filters with different
/// windows on one rule (which share the rule's bucket) keep separate keys.
pub fn fingerprint(config: &DedupeConfig, message: &Message) -> String {
    let pairs: Vec<Value> = config
        .fields()
        .iter()
        .map(|field| json!([field.name(), field.value(message)]))
        .collect();
    let encoded = json!([ENCODING, config.window_seconds, pairs]).to_string();
    hex(&Sha256::digest(encoded.as_bytes()))
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

/// The key-value calls the filter makes: the rule's bucket in the host
/// ([`HostKv`]), or a stand-in in tests.
pub trait State {
    /// [`kv::add`].
    fn add(&mut self, key: &str, value: &str, ttl: Duration) -> Result<bool, KvError>;
    /// [`kv::get_string`].
    fn get_string(&mut self, key: &str) -> Result<Option<String>, KvError>;
}

/// The host's key-value bucket of the rule being evaluated.
pub struct HostKv;

impl State for HostKv {
    fn add(&mut self, key: &str, value: &str, ttl: Duration) -> Result<bool, KvError> {
        kv::add(key, value, Some(ttl))
    }

    fn get_string(&mut self, key: &str) -> Result<Option<String>, KvError> {
        kv::get_string(key)
    }
}

/// The decision for `message`, with `state` as the rule's bucket.
pub fn decide_with(
    config: &DedupeConfig,
    message: &Message,
    state: &mut impl State,
) -> Result<Verdict, String> {
    validate_config(config).map_err(|e| format!("invalid filter config: {e}"))?;
    let key = format!("fp:{}", fingerprint(config, message));
    let value = format!("{} {}", message.id, message.received_at);
    match state.add(&key, &value, config.window()) {
        Ok(true) => Ok(Verdict::pass()),
        Ok(false) => {
            let window = config.window_seconds;
            // The key is live, so this is a repeat; the stored value only
            // makes the note more useful. If it cannot be read (or expired
            // in between), the note says less.
            let first = state.get_string(&key).ok().flatten();
            match first
                .as_deref()
                .map(|v| v.split_once(' ').unwrap_or((v, "")))
            {
                // Evaluated again (e.g. a retried ingest): not a repeat.
                Some((id, _)) if id == message.id => Ok(Verdict::pass()),
                Some((id, "")) => Ok(Verdict::block(format!(
                    "duplicate of message {id}, within {window} s"
                ))),
                Some((id, at)) => Ok(Verdict::block(format!(
                    "duplicate of message {id} (received {at}), within {window} s"
                ))),
                None => Ok(Verdict::block(format!(
                    "duplicate of an earlier message, within {window} s"
                ))),
            }
        }
        // Fail open: a missed duplicate costs less than a lost alert.
        Err(err) => Ok(Verdict {
            matched: true,
            note: Some(format!("not checked for duplicates, let through: {err}")),
        }),
    }
}

/// The plugin.
pub struct Dedupe;

impl Filter for Dedupe {
    type Config = DedupeConfig;
    const ID: &'static str = "dedupe";
    const NAME: &'static str = "Deduplicate";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Drops a message when this rule already passed an equal one (same title, body and endpoint by default) within the last window_seconds.";

    fn validate(config: &DedupeConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn evaluate(config: &DedupeConfig, message: &Message) -> Result<bool, String> {
        Self::decide(config, message).map(|verdict| verdict.matched)
    }

    fn decide(config: &DedupeConfig, message: &Message) -> Result<Verdict, String> {
        decide_with(config, message, &mut HostKv)
    }
}

export_filter!(Dedupe);

#[cfg(test)]
mod tests;
