//! Discord execute-webhook channel sender (built into Beacon Spear).
//!
//! Contract: `POST {webhook_url}?wait=true` (any query the URL already has,
//! e.g. `thread_id`, is kept; `wait=true` makes Discord answer `200` with
//! the created message instead of an empty `204`) with a JSON object built as
//! follows (see `README.md` for the full vocabulary):
//!
//! 1. the rule's rendered payload template (must be a JSON object; an empty
//!    rendering counts as `{}`); a key whose value is `null` or a blank
//!    string counts as absent (a placeholder with nothing to fill renders
//!    as `""`), read with the SDK's `template` module,
//! 2. `embeds` from the template (a list, or a string holding a JSON list),
//! 3. `content` from the template, sent as is; without one, and without
//!    embeds, the message: `**{title}**\n{body}` (or just the body); either
//!    way capped at Discord's 2000 characters (cut on a character boundary,
//!    ending in `…`),
//! 4. `username` / `avatar_url` from the template, else from the config;
//!    `tts` (`true`/`false`, also as strings) from the template,
//! 5. `allowed_mentions`: `{"parse": []}` unless the config sets
//!    `allow_mentions` (then the template's `allowed_mentions`, an object or
//!    a string holding one, or Discord's default),
//! 6. every other template key passes through unchanged (`flags`,
//!    `thread_name`, `components`, `poll`, …).
//!
//! Discord answers `200` (or `204`) on success. `429` is retryable with the
//! body's `retry_after` (float seconds, rounded up to milliseconds) or the
//! `Retry-After` header; 408/425/5xx, timeouts and connection errors are
//! retryable; 400/401/403/404 and every other status are permanent, with
//! Discord's `message`, `code` and first field error in the failure text.
//! The HTTP status, a capped snippet and the JSON of the answer are recorded
//! with every attempt.
//!
//! The webhook URL holds the webhook token: it is never logged, and it is
//! replaced by `[REDACTED]` in any transport error text the plugin reports.

use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::{
    classify_status, status_error, FetchError, Request, Response, StatusClass,
};
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome, Template,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Discord's limit on `content`, in characters.
pub const CONTENT_MAX_CHARS: usize = 2000;

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// Webhook URL from the channel's Integrations → Webhooks settings,
    /// e.g. `https://discord.com/api/webhooks/<id>/<token>`. It holds the
    /// webhook's token. Add `?thread_id=<id>` to post into a thread.
    #[schemars(transform = secret)]
    pub webhook_url: String,
    /// Name to post as instead of the webhook's own name (at most 80
    /// characters; Discord refuses names containing "discord" or "clyde").
    #[serde(default)]
    pub username: Option<String>,
    /// Absolute http(s) URL of an image to use as the avatar instead of the
    /// webhook's own.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Let `@everyone`, `@here`, role and user mentions in messages notify
    /// people. Off by default, so a message body cannot ping the whole
    /// server.
    #[serde(default)]
    pub allow_mentions: bool,
}

/// `Some(value)` unless it is missing or blank (forms send `""` for an
/// empty optional field).
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// Full config validation (what `validate-config` runs).
pub fn validate_config(config: &DiscordConfig) -> Result<(), ConfigError> {
    check_http_url("webhook_url", &config.webhook_url)?;
    if let Some(url) = non_empty(&config.avatar_url) {
        check_http_url("avatar_url", url)?;
    }
    if let Some(name) = non_empty(&config.username) {
        if name.chars().count() > 80 {
            return Err(ConfigError::new(
                "username",
                "must be at most 80 characters",
            ));
        }
        let lower = name.to_lowercase();
        if lower.contains("discord") || lower.contains("clyde") {
            return Err(ConfigError::new(
                "username",
                "must not contain \"discord\" or \"clyde\" (Discord refuses such names)",
            ));
        }
    }
    Ok(())
}

/// The URL to call: the webhook URL with `wait=true` added to its query
/// (replacing any `wait` it had, keeping every other parameter).
pub fn execute_url(webhook_url: &str) -> String {
    let (base, query) = match webhook_url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (webhook_url, ""),
    };
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && *p != "wait" && !p.starts_with("wait="))
        .collect();
    params.push("wait=true");
    format!("{base}?{}", params.join("&"))
}

// ---- payload ----------------------------------------------------------------

/// `text` cut to at most `max` characters on a character boundary, ending
/// in `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let cut = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            format!("{}…", &text[..cut])
        }
    }
}

/// The content built from the message: `**{title}**\n{body}`, or the body.
pub fn fallback_content(message: &Message) -> String {
    match message.title.as_deref().filter(|t| !t.is_empty()) {
        Some(title) => format!("**{title}**\n{}", message.body),
        None => message.body.clone(),
    }
}

/// Build the JSON object sent to the webhook (rules in the crate docs).
pub fn build_payload(
    config: &DiscordConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Map<String, Value>, SendError> {
    let mut template = Template::parse(payload_json)?;
    let mut out = Map::new();

    let embeds = template.take_list("embeds")?;
    let content = match template.take_text("content")? {
        Some(content) => Some(content),
        // Without embeds the message itself is the content, so a message
        // can never be empty (the body is always there).
        None if embeds.is_none() => Some(fallback_content(message)),
        None => None,
    };
    if let Some(content) = content {
        out.insert(
            "content".into(),
            Value::String(truncate(&content, CONTENT_MAX_CHARS)),
        );
    }
    if let Some(embeds) = embeds {
        out.insert("embeds".into(), Value::Array(embeds));
    }

    let username = template
        .take_text("username")?
        .or_else(|| non_empty(&config.username).map(str::to_owned));
    if let Some(name) = username {
        out.insert("username".into(), Value::String(name));
    }
    let avatar = template
        .take_text("avatar_url")?
        .or_else(|| non_empty(&config.avatar_url).map(str::to_owned));
    if let Some(url) = avatar {
        out.insert("avatar_url".into(), Value::String(url));
    }
    if let Some(tts) = template.take_boolean("tts")? {
        out.insert("tts".into(), Value::Bool(tts));
    }

    // The channel decides about mentions; a template may only refine them
    // when the channel allows them.
    let template_mentions = template.take_object("allowed_mentions")?;
    if !config.allow_mentions {
        out.insert("allowed_mentions".into(), json!({ "parse": [] }));
    } else if let Some(mentions) = template_mentions {
        out.insert("allowed_mentions".into(), Value::Object(mentions));
    }

    for (key, value) in template.into_rest() {
        out.entry(key).or_insert(value);
    }
    Ok(out)
}

// ---- response ---------------------------------------------------------------

/// Seconds (possibly fractional) as milliseconds, rounded up (after
/// rounding away float noise below a microsecond).
pub fn seconds_to_ms(secs: f64) -> Option<u64> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let micros = (secs * 1_000_000.0).round();
    Some((micros / 1000.0).ceil().min(u64::MAX as f64) as u64)
}

/// The first entry of Discord's nested `errors` object, as
/// `(path, message)`, e.g. `("embeds.0.description", "This field is required")`.
fn first_field_error(errors: &Value, path: &mut Vec<String>) -> Option<(String, String)> {
    let map = errors.as_object()?;
    if let Some(text) = map
        .get("_errors")
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
    {
        return Some((path.join("."), text.to_owned()));
    }
    for (key, value) in map {
        if key == "_errors" {
            continue;
        }
        path.push(key.clone());
        if let Some(found) = first_field_error(value, path) {
            return Some(found);
        }
        path.pop();
    }
    None
}

/// A one-line summary of a Discord error body, when it is Discord JSON:
/// `{"code", "message", "errors"?}`, or the older `{"field": ["text"]}`.
pub fn describe_error(json: &Value) -> Option<String> {
    let obj = json.as_object()?;
    if let Some(message) = obj.get("message").and_then(Value::as_str) {
        let mut text = message.to_owned();
        if let Some(code) = obj.get("code").and_then(Value::as_i64).filter(|c| *c != 0) {
            text.push_str(&format!(" (Discord error {code})"));
        }
        if let Some((path, detail)) = obj
            .get("errors")
            .and_then(|e| first_field_error(e, &mut Vec::new()))
        {
            text.push_str(&format!(": {path}: {detail}"));
        }
        return Some(text);
    }
    obj.iter().find_map(|(key, value)| {
        let first = value.as_array()?.first()?;
        let detail = match first {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some(format!("{key}: {detail}"))
    })
}

/// Decide the result of a webhook answer. Every error that comes from a
/// response carries its status, snippet and parsed JSON.
pub fn classify_response(
    status: u16,
    body: &[u8],
    header_retry_after_ms: Option<u64>,
) -> Result<SendOutcome, SendError> {
    let class = classify_status(status);
    if class == StatusClass::Success {
        return Ok(Response::new(status, body.to_vec()).outcome());
    }
    let json = serde_json::from_slice::<Value>(body).ok();
    let retry_after_ms = json
        .as_ref()
        .and_then(|j| j.get("retry_after"))
        .and_then(Value::as_f64)
        .and_then(seconds_to_ms)
        .or(header_retry_after_ms);
    let mut err = status_error(class, status, body, retry_after_ms);
    if let Some(summary) = json.as_ref().and_then(describe_error) {
        err.failure_mut().message = format!("HTTP {status}: {summary}");
    }
    Err(err)
}

/// `Retry-After` in milliseconds; Discord may send fractional seconds.
pub fn header_retry_after_ms(response: &Response) -> Option<u64> {
    response
        .header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(seconds_to_ms)
}

/// Replace the webhook URL, its path and its long path segments (the
/// webhook token) in `text`.
pub fn redact(text: &str, urls: &[&str]) -> String {
    let mut secrets: Vec<&str> = Vec::new();
    for url in urls {
        secrets.push(url);
        if let Some(path) = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        {
            secrets.push(path);
            let path = path.split('?').next().unwrap_or(path);
            secrets.extend(path.split('/').filter(|s| s.len() >= 16));
        }
    }
    // Longest first, so a URL is replaced whole before its parts.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for secret in secrets {
        if secret.len() >= 8 {
            out = out.replace(secret, "[REDACTED]");
        }
    }
    out
}

/// A transport failure as a [`SendError`], without the webhook URL.
pub fn fetch_error(err: FetchError, urls: &[&str]) -> SendError {
    let mut err = SendError::from(err);
    let failure = err.failure_mut();
    failure.message = redact(&failure.message, urls);
    err
}

/// The plugin.
pub struct Discord;

impl Channel for Discord {
    type Config = DiscordConfig;
    const ID: &'static str = "discord";
    const NAME: &'static str = "Discord";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Posts messages to a Discord channel through a webhook.";

    fn validate(config: &DiscordConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: DiscordConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let payload = build_payload(&config, payload_json, message)?;
        // Debug only: the host already logs every attempt with its outcome.
        debug!("discord webhook post for message {}", message.id);
        let url = execute_url(&config.webhook_url);
        let response = Request::post(url.as_str())
            .json(&payload)
            .send()
            .map_err(|e| fetch_error(e, &[&url, &config.webhook_url]))?;
        classify_response(
            response.status,
            &response.body,
            header_retry_after_ms(&response),
        )
    }
}

export_channel!(Discord);

#[cfg(test)]
mod tests;
