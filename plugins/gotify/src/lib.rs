//! Gotify channel sender (built into Beacon Spear).
//!
//! Creates one Gotify message per delivery ("Push messages" in the Gotify
//! docs): `POST {server_url}/message` with the application token in the
//! `X-Gotify-Key` header (never in the query string, where it would end up
//! in proxy logs), `Content-Type: application/json` and a body such as
//!
//! ```json
//! {"title": "Disk", "message": "disk full", "priority": 8,
//!  "extras": {"client::display": {"contentType": "text/markdown"},
//!             "client::notification": {"click": {"url": "https://example.com"}}}}
//! ```
//!
//! `server_url` may carry a path prefix (`https://example.com/gotify` posts
//! to `https://example.com/gotify/message`).
//!
//! Priority: a template `priority` is Gotify's own 0-10 scale and is sent as
//! it is. Otherwise Beacon's 1-5 is mapped with [`GOTIFY_PRIORITY`]
//! (1→1, 2→3, 3→5, 4→8, 5→10), chosen for how Gotify's Android client
//! treats priorities: 0 no notification, 1-3 silent, 4-7 with sound, 8-10
//! high priority (heads-up). The channel's `default_priority`, when set,
//! replaces the mapping of Beacon's default priority 3.
//!
//! Template vocabulary (keys of the rendered payload template; a missing
//! key, `null` or a blank string counts as not set):
//!
//! | key | sent as | when not set |
//! |---|---|---|
//! | `message` (alias `body`) | `message` | the message body |
//! | `title` | `title` | the message title; omitted when it has none (Gotify then shows the application name) |
//! | `priority` | `priority` (0-10) | the mapped message priority |
//! | `click` | `extras["client::notification"].click.url` | the message URL |
//! | `extras` | merged over the extras the plugin sets | — |
//!
//! `extras` takes an object or JSON text holding one; it is merged key by
//! key (nested objects merged too) over what the plugin sets, so it can add
//! `android::action`, `client::notification.bigImageUrl` and the like, or
//! override the plugin's values. Other template keys are ignored: Gotify's
//! message has no other fields (custom data belongs in `extras`).
//!
//! Outcome: 2xx is success; 400, 401, 403, 404 and other 4xx are permanent;
//! 408/425/429 and 5xx are retryable (`Retry-After` honoured). Gotify's
//! error JSON (`{"error":"Unauthorized","errorCode":401,
//! "errorDescription":"…"}`) becomes the failure message, and the status, a
//! capped snippet and the JSON are recorded with every attempt.

use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::{classify_status, status_error, Request, Response, StatusClass};
use beacon_plugin_sdk::template::{as_integer, bad, Template};
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Gotify priority for Beacon priority 1..=5 (index 0 is Beacon 1).
pub const GOTIFY_PRIORITY: [u8; 5] = [1, 3, 5, 8, 10];

/// Highest priority accepted from the config or a template.
pub const MAX_PRIORITY: u8 = 10;

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GotifyConfig {
    /// Base URL of the Gotify server, e.g. `https://gotify.example.com` or
    /// `https://example.com/gotify`; `/message` is appended.
    pub server_url: String,
    /// Application token (Gotify: Apps → create an application → token),
    /// sent in the `X-Gotify-Key` header. A client token does not work.
    #[schemars(transform = secret)]
    pub app_token: String,
    /// Gotify priority (0-10) for messages at Beacon's default priority 3,
    /// instead of 5. Other priorities keep their mapping (1→1, 2→3, 4→8,
    /// 5→10); a template `priority` always wins.
    #[serde(default)]
    #[schemars(range(min = 0, max = 10))]
    pub default_priority: Option<u8>,
    /// Mark messages as Markdown (`extras["client::display"].contentType =
    /// "text/markdown"`), so Gotify's clients render them.
    #[serde(default)]
    pub markdown: Option<bool>,
}

impl GotifyConfig {
    /// `{server_url}/message`, without a doubled slash.
    pub fn message_url(&self) -> String {
        format!("{}/message", self.server_url.trim_end_matches('/'))
    }

    /// The Gotify priority for a message when the template sets none.
    pub fn message_priority(&self, message: &Message) -> u8 {
        let beacon = message.priority.clamp(1, 5);
        match (beacon, self.default_priority) {
            (3, Some(default)) => default,
            _ => GOTIFY_PRIORITY[usize::from(beacon - 1)],
        }
    }
}

/// Full config validation (what `validate-config` runs).
pub fn validate_config(config: &GotifyConfig) -> Result<(), ConfigError> {
    check_http_url("server_url", &config.server_url)?;
    if config.server_url.contains('?') {
        return Err(ConfigError::new(
            "server_url",
            "must not contain a query string (the token goes in app_token)",
        ));
    }
    if config
        .server_url
        .trim_end_matches('/')
        .ends_with("/message")
    {
        return Err(ConfigError::new(
            "server_url",
            "must be the server's base URL, without /message (it is appended)",
        ));
    }
    let token = config.app_token.trim();
    if token.is_empty() {
        return Err(ConfigError::new("app_token", "must not be empty"));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            "app_token",
            "must not contain spaces, line breaks or non-ASCII characters",
        ));
    }
    if let Some(priority) = config.default_priority {
        if priority > MAX_PRIORITY {
            return Err(ConfigError::new(
                "default_priority",
                "must be between 0 and 10",
            ));
        }
    }
    Ok(())
}

/// `priority`: Gotify's 0-10, as a number or numeric text.
fn template_priority(template: &Template) -> Result<Option<u8>, SendError> {
    const KEY: &str = "priority";
    let Some(value) = template.present(KEY) else {
        return Ok(None);
    };
    match as_integer(value).map(u8::try_from) {
        Some(Ok(p)) if p <= MAX_PRIORITY => Ok(Some(p)),
        Some(_) => Err(bad(KEY, "must be between 0 and 10")),
        None => Err(bad(KEY, "must be a number from 0 to 10")),
    }
}

/// Merge `over` into `base`: nested objects key by key, anything else
/// replaced.
fn merge(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(value)) => merge(inner, value),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Build the JSON object sent to `/message` (see the crate docs for the
/// template vocabulary and fallbacks).
pub fn build_body(
    config: &GotifyConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Map<String, Value>, SendError> {
    let t = Template::parse(payload_json)?;
    let mut body = Map::new();

    let text = match t.text("message")? {
        Some(text) => text,
        None => t.text("body")?.unwrap_or_else(|| message.body.clone()),
    };
    body.insert("message".into(), Value::String(text));

    let title = match t.text("title")? {
        Some(title) => Some(title),
        None => message
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned),
    };
    if let Some(title) = title {
        body.insert("title".into(), Value::String(title));
    }

    let priority = match template_priority(&t)? {
        Some(priority) => priority,
        None => config.message_priority(message),
    };
    body.insert("priority".into(), Value::from(priority));

    let mut extras = Map::new();
    if config.markdown.unwrap_or(false) {
        extras.insert(
            "client::display".into(),
            json!({"contentType": "text/markdown"}),
        );
    }
    let click = match t.text("click")? {
        Some(click) => Some(click),
        None => message
            .url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(str::to_owned),
    };
    if let Some(url) = click {
        extras.insert(
            "client::notification".into(),
            json!({"click": {"url": url}}),
        );
    }
    if let Some(over) = t.object("extras")? {
        merge(&mut extras, over);
    }
    if !extras.is_empty() {
        body.insert("extras".into(), Value::Object(extras));
    }

    Ok(body)
}

/// The request for a built body.
pub fn build_request(config: &GotifyConfig, body: &Map<String, Value>) -> Request {
    Request::post(config.message_url())
        .header("X-Gotify-Key", config.app_token.trim())
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .json(body)
}

/// Gotify's error answer as a sentence: `Unauthorized: you need to …`.
fn gotify_error_text(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let error = json.get("error")?.as_str()?.trim();
    let description = json
        .get("errorDescription")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    match (error.is_empty(), description.is_empty()) {
        (true, true) => None,
        (false, true) => Some(error.to_owned()),
        (true, false) => Some(description.to_owned()),
        (false, false) => Some(format!("{error}: {description}")),
    }
}

/// Decide the result of Gotify's answer. Every error that comes from a
/// response carries its status, snippet and parsed JSON.
pub fn classify_response(
    status: u16,
    body: &[u8],
    retry_after_ms: Option<u64>,
    location: Option<&str>,
) -> Result<SendOutcome, SendError> {
    let class = classify_status(status);
    if class == StatusClass::Success {
        return Ok(Response::new(status, body.to_vec()).outcome());
    }
    let mut err = status_error(class, status, body, retry_after_ms);
    let failure = err.failure_mut();
    if let Some(text) = gotify_error_text(body) {
        failure.message = format!("HTTP {status}: {text}");
    }
    if matches!(status, 401 | 403) {
        failure
            .message
            .push_str(" — check that app_token is an application token (not a client token)");
    }
    if let (Some(location), 300..=399) = (location, status) {
        failure.message.push_str(&format!(
            " (redirect to {location}; set server_url to the final address)"
        ));
    }
    Err(err)
}

/// The plugin.
pub struct Gotify;

impl Channel for Gotify {
    type Config = GotifyConfig;
    const ID: &'static str = "gotify";
    const NAME: &'static str = "Gotify";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Push messages to a self-hosted Gotify server (POST /message with an application token).";

    fn validate(config: &GotifyConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: GotifyConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let body = build_body(&config, payload_json, message)?;
        // Debug only: the host already logs every attempt with its outcome.
        debug!("gotify message for message {}", message.id);
        let response = build_request(&config, &body).send()?;
        classify_response(
            response.status,
            &response.body,
            response.retry_after_ms(),
            response.header("location"),
        )
    }
}

export_channel!(Gotify);

#[cfg(test)]
mod tests;
