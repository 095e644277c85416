//! The standard rule filter (built into Beacon Spear), SPEC §6.
//!
//! Config (the rule's `filter`, SPEC §11):
//!
//! ```json
//! {
//!   "ingest_endpoint_ids": ["0190…"],
//!   "body": {"contains": ["disk", "cpu"], "regex": "^ALERT\\b"},
//!   "priority": {"min": 3, "max": 5},
//!   "tags": ["prod"],
//!   "group": "servers"
//! }
//! ```
//!
//! Every dimension is optional and the message must pass all that are set
//! (AND). An absent dimension, `null`, an empty list or an empty string sets
//! no constraint, so `{}` matches every message.
//!
//! - `ingest_endpoint_ids`: the message arrived on one of these endpoints
//!   (dashed or undashed UUIDs, any case).
//! - `body.contains`: the body contains at least one of the substrings,
//!   case-insensitively.
//! - `body.regex`: the body matches the regular expression (`regex-lite`
//!   syntax: Rust regex syntax with linear-time matching; case-sensitive
//!   unless the pattern says `(?i)`; at most 1024 characters). `(?i)`, `\w`,
//!   `\d` and `\s` are ASCII-only, and `\p{…}` classes are not supported
//!   (rejected by `validate-config`): the pattern is compiled once per
//!   message, so a cheap compile matters more than Unicode tables.
//! - `priority.min` / `priority.max`: inclusive bounds, 1–5.
//! - `tags`: the message has at least one of these tags, case-insensitively.
//! - `group`: the message's group equals this string exactly.

use beacon_plugin_sdk::{export_filter, ConfigError, Filter, Message};
use regex_lite::{Regex, RegexBuilder};
use schemars::JsonSchema;
use serde::Deserialize;

/// Longest accepted `body.regex`, in characters.
pub const MAX_REGEX_CHARS: usize = 1024;
/// Cap on the compiled size of `body.regex`, in bytes.
pub const MAX_REGEX_COMPILED_BYTES: usize = 1 << 20;

/// The standard filter config.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StandardFilterConfig {
    /// Pass only messages from these ingest endpoints.
    #[serde(default)]
    pub ingest_endpoint_ids: Option<Vec<String>>,
    /// Conditions on the message body.
    #[serde(default)]
    pub body: Option<BodyFilter>,
    /// Inclusive priority range.
    #[serde(default)]
    pub priority: Option<PriorityRange>,
    /// Pass messages that have any of these tags (case-insensitive).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Pass messages whose group equals this.
    #[serde(default)]
    pub group: Option<String>,
}

/// `body` conditions (both must hold when both are set).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyFilter {
    /// The body contains any of these substrings (case-insensitive).
    #[serde(default)]
    pub contains: Option<Vec<String>>,
    /// The body matches this regular expression.
    #[serde(default)]
    #[schemars(length(max = 1024))]
    pub regex: Option<String>,
}

/// `priority` bounds, inclusive, each 1–5.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityRange {
    /// Lowest priority that passes.
    #[serde(default)]
    #[schemars(range(min = 1, max = 5))]
    pub min: Option<u8>,
    /// Highest priority that passes.
    #[serde(default)]
    #[schemars(range(min = 1, max = 5))]
    pub max: Option<u8>,
}

fn non_empty<T>(list: &Option<Vec<T>>) -> Option<&[T]> {
    list.as_deref().filter(|l| !l.is_empty())
}

fn non_empty_str(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// Canonical endpoint id: no dashes, lower case.
fn canonical_id(id: &str) -> String {
    id.trim()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Compile `body.regex` with the size caps; errors name `body.regex`.
pub fn compile_regex(pattern: &str) -> Result<Regex, ConfigError> {
    if pattern.chars().count() > MAX_REGEX_CHARS {
        return Err(ConfigError::new(
            "body.regex",
            format!("must be at most {MAX_REGEX_CHARS} characters"),
        ));
    }
    // regex-lite: linear-time matching and a compile cost small enough to
    // pay per evaluation (each message gets a fresh instance).
    RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_COMPILED_BYTES)
        .build()
        .map_err(|e| {
            ConfigError::new(
                "body.regex",
                format!("is not a valid regular expression (or too complex): {e}"),
            )
        })
}

/// Everything `validate-config` checks beyond the JSON shape.
pub fn validate_config(config: &StandardFilterConfig) -> Result<(), ConfigError> {
    if let Some(ids) = &config.ingest_endpoint_ids {
        for (i, id) in ids.iter().enumerate() {
            let canon = canonical_id(id);
            if canon.len() != 32 || !canon.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(ConfigError::new(
                    format!("ingest_endpoint_ids[{i}]"),
                    "must be an endpoint id (a UUID, with or without dashes)",
                ));
            }
        }
    }
    if let Some(body) = &config.body {
        if let Some(list) = &body.contains {
            if let Some(i) = list.iter().position(|s| s.is_empty()) {
                return Err(ConfigError::new(
                    format!("body.contains[{i}]"),
                    "must not be empty",
                ));
            }
        }
        if let Some(pattern) = non_empty_str(&body.regex) {
            compile_regex(pattern)?;
        }
    }
    if let Some(range) = &config.priority {
        for (name, value) in [("min", range.min), ("max", range.max)] {
            if let Some(v) = value {
                if !(1..=5).contains(&v) {
                    return Err(ConfigError::new(
                        format!("priority.{name}"),
                        "must be between 1 and 5",
                    ));
                }
            }
        }
        if let (Some(min), Some(max)) = (range.min, range.max) {
            if min > max {
                return Err(ConfigError::new(
                    "priority.max",
                    "must be greater than or equal to priority.min",
                ));
            }
        }
    }
    if let Some(tags) = &config.tags {
        if let Some(i) = tags.iter().position(|s| s.is_empty()) {
            return Err(ConfigError::new(format!("tags[{i}]"), "must not be empty"));
        }
    }
    Ok(())
}

/// Decide whether `message` passes `config` (assumed validated).
pub fn matches(config: &StandardFilterConfig, message: &Message) -> Result<bool, String> {
    if let Some(ids) = non_empty(&config.ingest_endpoint_ids) {
        let endpoint = canonical_id(&message.endpoint_id);
        if !ids.iter().any(|id| canonical_id(id) == endpoint) {
            return Ok(false);
        }
    }
    if let Some(body) = &config.body {
        if let Some(needles) = non_empty(&body.contains) {
            let haystack = message.body.to_lowercase();
            if !needles
                .iter()
                .any(|needle| haystack.contains(&needle.to_lowercase()))
            {
                return Ok(false);
            }
        }
        if let Some(pattern) = non_empty_str(&body.regex) {
            let re = compile_regex(pattern).map_err(|e| e.to_string())?;
            if !re.is_match(&message.body) {
                return Ok(false);
            }
        }
    }
    if let Some(range) = &config.priority {
        if range.min.is_some_and(|min| message.priority < min)
            || range.max.is_some_and(|max| message.priority > max)
        {
            return Ok(false);
        }
    }
    if let Some(wanted) = non_empty(&config.tags) {
        let has = |tag: &String| {
            message
                .tags
                .iter()
                .any(|t| t.to_lowercase() == tag.to_lowercase())
        };
        if !wanted.iter().any(has) {
            return Ok(false);
        }
    }
    if let Some(group) = non_empty_str(&config.group) {
        if message.group.as_deref() != Some(group) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The plugin.
pub struct StandardFilter;

impl Filter for StandardFilter {
    type Config = StandardFilterConfig;
    const ID: &'static str = "standard-filter";
    const NAME: &'static str = "Standard filter";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Match on ingest endpoint, body text or regex, priority range, tags and group (all set conditions must hold).";

    fn validate(config: &StandardFilterConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn evaluate(config: &StandardFilterConfig, message: &Message) -> Result<bool, String> {
        matches(config, message)
    }
}

export_filter!(StandardFilter);

#[cfg(test)]
mod tests;
