//! ntfy channel sender (built into Beacon Spear).
//!
//! Publishes one notification per delivery with ntfy's JSON publishing
//! ("Publish as JSON" in the ntfy docs): `POST {server_url}` — the server
//! root, e.g. `https://ntfy.sh` — with `Content-Type: application/json` and
//! a body such as
//!
//! ```json
//! {"topic": "alerts", "message": "disk full", "title": "Disk", "priority": 4,
//!  "tags": ["warning"], "click": "https://example.com/disk"}
//! ```
//!
//! The topic always comes from the channel config; the rule's template
//! cannot send elsewhere. Authentication is an access token
//! (`Authorization: Bearer …`) or a user name and password (basic auth).
//!
//! Template vocabulary (keys of the rendered payload template; a missing
//! key, `null` or a blank string counts as not set):
//!
//! | key | sent as | when not set |
//! |---|---|---|
//! | `message` (alias `body`) | `message` | the message body |
//! | `title` | `title` | the message title (omitted when it has none) |
//! | `priority` | `priority` (1-5) | the message priority (`default_priority` replaces Beacon's default 3) |
//! | `tags` | `tags` | the message tags, else `default_tags` |
//! | `click` | `click` | the message URL, else the channel's `click` |
//! | `icon` | `icon` | the channel's `icon` |
//! | `markdown` | `markdown` (only sent when true) | the channel's `markdown` |
//! | `actions` | `actions` | — |
//! | `attach`, `filename`, `delay`, `email`, `call` | same name | — |
//!
//! `priority` takes a number or numeric text 1-5, or an ntfy name (`min`,
//! `low`, `default`, `high`, `max`, `urgent`). `tags` takes a list or
//! comma-separated text. `actions` takes a list of ntfy action objects, one
//! object, or JSON text holding either. Other keys (including `topic`) are
//! ignored: ntfy's JSON API has a fixed set of typed fields.
//!
//! Outcome: 2xx is success (a success that reports publishing to another
//! topic than the configured one is refused, see [`classify_response`]);
//! 429 and 5xx are retryable (429 honours `Retry-After`); 400, 401, 403,
//! 404, 413 and the other 4xx are permanent. ntfy's error JSON
//! (`{"code":40301,"http":403,"error":"forbidden","link":"…"}`) is turned
//! into the failure message, and the status, a capped snippet and the JSON
//! are recorded with every attempt.

use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::{classify_status, status_error, Request, Response, StatusClass};
use beacon_plugin_sdk::template::{as_boolean, as_integer, bad, Template};
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NtfyConfig {
    /// Root URL of the ntfy server, e.g. `https://ntfy.sh` or
    /// `https://ntfy.example.com` (without the topic).
    pub server_url: String,
    /// Topic to publish to: 1-64 letters, digits, `-` or `_`.
    pub topic: String,
    /// Access token (`tk_…`), sent as `Authorization: Bearer …`. Use this
    /// or `username` and `password`, not both.
    #[serde(default)]
    #[schemars(transform = secret)]
    pub token: Option<String>,
    /// User name for basic authentication (with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// Password for basic authentication (with `username`).
    #[serde(default)]
    #[schemars(transform = secret)]
    pub password: Option<String>,
    /// ntfy priority (1 = min … 5 = max) for messages at Beacon's default
    /// priority 3; messages with another priority keep theirs (Beacon 1-5
    /// map 1:1 to ntfy 1-5). A template `priority` always wins.
    #[serde(default)]
    #[schemars(range(min = 1, max = 5))]
    pub default_priority: Option<u8>,
    /// Tags (emoji short codes such as `warning`, or plain words) used when
    /// neither the template nor the message has tags.
    #[serde(default)]
    pub default_tags: Option<Vec<String>>,
    /// Render message text as Markdown (web app and Android) unless the
    /// template says otherwise.
    #[serde(default)]
    pub markdown: Option<bool>,
    /// URL opened when the notification is tapped, used when neither the
    /// template nor the message gives one.
    #[serde(default)]
    pub click: Option<String>,
    /// URL of a JPEG or PNG shown as the notification icon, unless the
    /// template sets one.
    #[serde(default)]
    pub icon: Option<String>,
}

/// `Some(trimmed)` for text with something in it.
fn nonblank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl NtfyConfig {
    /// The publish URL: `server_url` without a trailing slash.
    pub fn publish_url(&self) -> String {
        self.server_url.trim_end_matches('/').to_owned()
    }

    /// The `Authorization` header value, if the config authenticates.
    pub fn authorization(&self) -> Option<String> {
        if let Some(token) = nonblank(&self.token) {
            return Some(format!("Bearer {token}"));
        }
        let username = nonblank(&self.username)?;
        let password = self.password.as_deref().filter(|p| !p.is_empty())?;
        Some(format!(
            "Basic {}",
            base64(format!("{username}:{password}").as_bytes())
        ))
    }

    /// The ntfy priority for a message when the template sets none.
    pub fn message_priority(&self, message: &Message) -> u8 {
        match (message.priority.clamp(1, 5), self.default_priority) {
            (3, Some(default)) => default,
            (priority, _) => priority,
        }
    }
}

/// Standard base64 (with padding), for basic authentication.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = u32::from(chunk[0]);
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 63) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

/// ntfy's topic name rule: 1-64 characters of `[-_A-Za-z0-9]`.
pub fn is_valid_topic(topic: &str) -> bool {
    (1..=64).contains(&topic.len())
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The path of an absolute http(s) URL (after the authority), without a
/// trailing slash.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.trim_end_matches('/')
}

/// Full config validation (what `validate-config` runs).
pub fn validate_config(config: &NtfyConfig) -> Result<(), ConfigError> {
    check_http_url("server_url", &config.server_url)?;
    if config.server_url.contains('?') {
        return Err(ConfigError::new(
            "server_url",
            "must not contain a query string",
        ));
    }
    if !is_valid_topic(&config.topic) {
        return Err(ConfigError::new(
            "topic",
            "must be 1-64 characters, each a letter, digit, '-' or '_'",
        ));
    }
    if url_path(&config.server_url).rsplit('/').next() == Some(config.topic.as_str()) {
        return Err(ConfigError::new(
            "server_url",
            "must be the server root (e.g. https://ntfy.sh), not the topic URL; the topic goes in `topic`",
        ));
    }

    let has_username = nonblank(&config.username).is_some();
    let has_password = config.password.as_deref().is_some_and(|p| !p.is_empty());
    if let Some(token) = nonblank(&config.token) {
        if has_username || has_password {
            return Err(ConfigError::new(
                "token",
                "set either token or username and password, not both",
            ));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::new(
                "token",
                "must not contain spaces, line breaks or non-ASCII characters",
            ));
        }
    }
    match (has_username, has_password) {
        (true, false) => {
            return Err(ConfigError::new(
                "password",
                "is required when username is set",
            ))
        }
        (false, true) => {
            return Err(ConfigError::new(
                "username",
                "is required when password is set",
            ))
        }
        _ => {}
    }
    if let Some(username) = nonblank(&config.username) {
        if username.contains(':') {
            return Err(ConfigError::new("username", "must not contain ':'"));
        }
        if username.chars().any(char::is_control) {
            return Err(ConfigError::new(
                "username",
                "must not contain control characters",
            ));
        }
    }

    if let Some(priority) = config.default_priority {
        if !(1..=5).contains(&priority) {
            return Err(ConfigError::new(
                "default_priority",
                "must be between 1 (min) and 5 (max)",
            ));
        }
    }
    for (i, tag) in config.default_tags.iter().flatten().enumerate() {
        if tag.trim().is_empty() {
            return Err(ConfigError::new(
                format!("default_tags[{i}]"),
                "must not be empty",
            ));
        }
        if tag.contains(',') {
            return Err(ConfigError::new(
                format!("default_tags[{i}]"),
                "must not contain ','",
            ));
        }
    }
    if let Some(click) = nonblank(&config.click) {
        if click.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ConfigError::new("click", "must be a URL without spaces"));
        }
    }
    if let Some(icon) = nonblank(&config.icon) {
        check_http_url("icon", icon)?;
    }
    Ok(())
}

/// `priority`: 1-5 as a number or numeric text, or an ntfy name.
fn template_priority(template: &Template) -> Result<Option<u8>, SendError> {
    const KEY: &str = "priority";
    let Some(value) = template.present(KEY) else {
        return Ok(None);
    };
    let number = match as_integer(value) {
        Some(n) => n,
        None => match value {
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "min" => 1,
                "low" => 2,
                "default" => 3,
                "high" => 4,
                "max" | "urgent" => 5,
                _ => {
                    return Err(bad(
                        KEY,
                        "must be 1-5 or one of min, low, default, high, max, urgent",
                    ))
                }
            },
            _ => return Err(bad(KEY, "must be a number from 1 to 5")),
        },
    };
    match u8::try_from(number) {
        Ok(p @ 1..=5) => Ok(Some(p)),
        _ => Err(bad(KEY, "must be between 1 (min) and 5 (max)")),
    }
}

/// Clean a tag list: trimmed, blanks dropped.
fn clean_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    tags.into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `tags`: a list, or comma-separated text. `None` when nothing is left.
fn template_tags(template: &Template) -> Result<Option<Vec<String>>, SendError> {
    const KEY: &str = "tags";
    let tags = match template.present(KEY) {
        None => return Ok(None),
        Some(Value::String(s)) => clean_tags(s.split(',')),
        Some(Value::Array(items)) => {
            let mut texts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => texts.push(s.clone()),
                    Value::Number(n) => texts.push(n.to_string()),
                    Value::Null => {}
                    _ => return Err(bad(KEY, "must be a list of strings")),
                }
            }
            clean_tags(texts.iter().map(String::as_str))
        }
        Some(_) => {
            return Err(bad(
                KEY,
                "must be a list of strings or comma-separated text",
            ))
        }
    };
    Ok((!tags.is_empty()).then_some(tags))
}

/// `actions`: a list of ntfy action objects, one object, or JSON text
/// holding either. A `clear` given as text (`"true"`) becomes a boolean.
fn template_actions(template: &Template) -> Result<Option<Vec<Value>>, SendError> {
    const KEY: &str = "actions";
    let items = match template.structured(KEY)? {
        None => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(object @ Value::Object(_)) => vec![object],
        Some(_) => {
            return Err(bad(
                KEY,
                "must be a list of ntfy action objects (or JSON text holding one)",
            ))
        }
    };
    let mut actions = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(mut action) = item else {
            return Err(bad(
                KEY,
                "must be a list of ntfy action objects (or JSON text holding one)",
            ));
        };
        if let Some(clear @ Value::String(text)) = action.get("clear") {
            let clear = !text.trim().is_empty()
                && as_boolean(clear)
                    .ok_or_else(|| bad(KEY, "has a `clear` that is not true or false"))?;
            action.insert("clear".into(), Value::Bool(clear));
        }
        actions.push(Value::Object(action));
    }
    Ok((!actions.is_empty()).then_some(actions))
}

/// Build the JSON object published to ntfy (see the crate docs for the
/// template vocabulary and fallbacks).
pub fn build_body(
    config: &NtfyConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Map<String, Value>, SendError> {
    let t = Template::parse(payload_json)?;
    let mut body = Map::new();
    let mut put = |key: &str, value: Value| {
        body.insert(key.to_owned(), value);
    };

    put("topic", Value::String(config.topic.clone()));

    let text = match t.text("message")? {
        Some(text) => text,
        None => t.text("body")?.unwrap_or_else(|| message.body.clone()),
    };
    put("message", Value::String(text));

    let title = match t.text("title")? {
        Some(title) => Some(title),
        None => nonblank(&message.title).map(str::to_owned),
    };
    if let Some(title) = title {
        put("title", Value::String(title));
    }

    let priority = match template_priority(&t)? {
        Some(priority) => priority,
        None => config.message_priority(message),
    };
    put("priority", Value::from(priority));

    let tags = match template_tags(&t)? {
        Some(tags) => tags,
        None => {
            let from_message = clean_tags(message.tags.iter().map(String::as_str));
            if from_message.is_empty() {
                clean_tags(config.default_tags.iter().flatten().map(String::as_str))
            } else {
                from_message
            }
        }
    };
    if !tags.is_empty() {
        put(
            "tags",
            Value::Array(tags.into_iter().map(Value::String).collect()),
        );
    }

    let click = match t.text("click")? {
        Some(click) => Some(click),
        None => nonblank(&message.url)
            .or_else(|| nonblank(&config.click))
            .map(str::to_owned),
    };
    if let Some(click) = click {
        put("click", Value::String(click));
    }

    let icon = match t.text("icon")? {
        Some(icon) => Some(icon),
        None => nonblank(&config.icon).map(str::to_owned),
    };
    if let Some(icon) = icon {
        put("icon", Value::String(icon));
    }

    if let Some(actions) = template_actions(&t)? {
        put("actions", Value::Array(actions));
    }

    for key in ["attach", "filename", "delay", "email", "call"] {
        if let Some(value) = t.text(key)? {
            put(key, Value::String(value));
        }
    }

    let markdown = match t.boolean("markdown")? {
        Some(markdown) => markdown,
        None => config.markdown.unwrap_or(false),
    };
    if markdown {
        put("markdown", Value::Bool(true));
    }

    Ok(body)
}

/// The publish request for a built body.
pub fn build_request(config: &NtfyConfig, body: &Map<String, Value>) -> Request {
    let mut request = Request::post(config.publish_url())
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(authorization) = config.authorization() {
        request = request.header("authorization", authorization);
    }
    request.json(body)
}

/// ntfy's error answer as a sentence: `forbidden (ntfy error 40301, see …)`.
fn ntfy_error_text(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let error = json.get("error")?.as_str()?.trim();
    if error.is_empty() {
        return None;
    }
    let mut text = error.to_owned();
    match (
        json.get("code").and_then(Value::as_i64),
        json.get("link").and_then(Value::as_str),
    ) {
        (Some(code), Some(link)) => text.push_str(&format!(" (ntfy error {code}, see {link})")),
        (Some(code), None) => text.push_str(&format!(" (ntfy error {code})")),
        (None, Some(link)) => text.push_str(&format!(" (see {link})")),
        (None, None) => {}
    }
    Some(text)
}

/// Decide the result of ntfy's answer. Every error that comes from a
/// response carries its status, snippet and parsed JSON.
///
/// A 2xx whose message object names another topic than `topic` is a
/// permanent failure: that happens when `server_url` is a topic URL
/// (`https://ntfy.sh/other`), where ntfy publishes the JSON text itself as
/// a message to that topic.
pub fn classify_response(
    status: u16,
    body: &[u8],
    retry_after_ms: Option<u64>,
    location: Option<&str>,
    topic: &str,
) -> Result<SendOutcome, SendError> {
    let class = classify_status(status);
    if class != StatusClass::Success {
        let mut err = status_error(class, status, body, retry_after_ms);
        let failure = err.failure_mut();
        if let Some(text) = ntfy_error_text(body) {
            failure.message = format!("HTTP {status}: {text}");
        }
        if matches!(status, 401 | 403) {
            failure.message.push_str(
                " — check the channel's token or username/password and its write access to the topic",
            );
        }
        if let (Some(location), 300..=399) = (location, status) {
            failure.message.push_str(&format!(
                " (redirect to {location}; set server_url to the final address)"
            ));
        }
        return Err(err);
    }
    let outcome = Response::new(status, body.to_vec()).outcome();
    let published_to = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json.get("topic")?.as_str().map(str::to_owned));
    if let Some(other) = published_to.filter(|t| t != topic) {
        return Err(SendError::permanent(format!(
            "ntfy published to topic \"{other}\" instead of \"{topic}\": server_url must be the server root, not a topic URL"
        ))
        .with_outcome(outcome));
    }
    Ok(outcome)
}

/// The plugin.
pub struct Ntfy;

impl Channel for Ntfy {
    type Config = NtfyConfig;
    const ID: &'static str = "ntfy";
    const NAME: &'static str = "ntfy";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Publish notifications to an ntfy topic (ntfy.sh or self-hosted), as JSON.";

    fn validate(config: &NtfyConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: NtfyConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let body = build_body(&config, payload_json, message)?;
        // Debug only: the host already logs every attempt with its outcome.
        debug!("ntfy publish for message {}", message.id);
        let response = build_request(&config, &body).send()?;
        classify_response(
            response.status,
            &response.body,
            response.retry_after_ms(),
            response.header("location"),
            &config.topic,
        )
    }
}

export_channel!(Ntfy);

#[cfg(test)]
mod tests;
