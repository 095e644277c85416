//! Slack incoming-webhook channel sender (built into Beacon Spear).
//!
//! Contract: `POST {webhook_url}` with `Content-Type: application/json` and a
//! JSON object built as follows (see `README.md` for the full vocabulary):
//!
//! 1. the rule's rendered payload template (must be a JSON object; an empty
//!    rendering counts as `{}`); a key whose value is `null` or a blank
//!    string counts as absent (a placeholder with nothing to fill renders
//!    as `""`), read with the SDK's `template` module,
//! 2. `text` from the template, sent as is; without one, the message:
//!    `*{title}*\n{body}` (or just the body when the message has no title),
//!    with Slack's control characters `&`, `<`, `>` escaped,
//! 3. `blocks` / `attachments` from the template (a list, or a string holding
//!    a JSON list), `thread_ts`, `channel` and the booleans `unfurl_links`,
//!    `unfurl_media`, `mrkdwn`, `reply_broadcast` (`true`/`false`, also as
//!    the strings `"true"`/`"false"`/`"1"`/`"0"`),
//! 4. `username` from the template, else from the config; `icon_emoji` /
//!    `icon_url` from the template when it sets either, else from the config,
//! 5. every other template key passes through unchanged (Slack ignores
//!    fields it does not know).
//!
//! Slack answers `200` with the plain text `ok`. Errors are plain text too:
//! `400 invalid_payload`, `403 invalid_token`, `404 channel_not_found`,
//! `410 channel_is_archived`, … are permanent; `429` (with `Retry-After`),
//! 408/425 and 5xx are retryable, as are timeouts and connection errors.
//! The HTTP status, a capped snippet and (when it parses) the JSON of the
//! answer are recorded with every attempt.
//!
//! The webhook URL is the credential: it is never logged, and it is replaced
//! by `[REDACTED]` in any transport error text the plugin reports.

use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::{
    classify_status, status_error, FetchError, Request, Response, StatusClass,
};
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome, Template,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Incoming-webhook URL from the Slack app's "Incoming Webhooks" page,
    /// e.g. `https://hooks.slack.com/services/T000/B000/XXXX`. The URL itself
    /// is the credential.
    #[schemars(transform = secret)]
    pub webhook_url: String,
    /// Name to post as. Only legacy webhooks honour it; webhooks of a Slack
    /// app always post as the app.
    #[serde(default)]
    pub username: Option<String>,
    /// Emoji to use as the avatar, e.g. `:rotating_light:` (legacy webhooks
    /// only, like `username`).
    #[serde(default)]
    pub icon_emoji: Option<String>,
    /// Absolute http(s) URL of an image to use as the avatar (legacy webhooks
    /// only, like `username`).
    #[serde(default)]
    pub icon_url: Option<String>,
}

/// `Some(value)` unless it is missing or blank (forms send `""` for an
/// empty optional field).
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// Full config validation (what `validate-config` runs).
pub fn validate_config(config: &SlackConfig) -> Result<(), ConfigError> {
    check_http_url("webhook_url", &config.webhook_url)?;
    if let Some(url) = non_empty(&config.icon_url) {
        check_http_url("icon_url", url)?;
    }
    if let Some(emoji) = non_empty(&config.icon_emoji) {
        let inner = emoji
            .strip_prefix(':')
            .and_then(|e| e.strip_suffix(':'))
            .unwrap_or("");
        if inner.is_empty() || inner.contains(|c: char| c.is_whitespace() || c == ':') {
            return Err(ConfigError::new(
                "icon_emoji",
                "must be an emoji name between colons, e.g. :rotating_light:",
            ));
        }
    }
    if let Some(name) = non_empty(&config.username) {
        if name.chars().count() > 80 {
            return Err(ConfigError::new(
                "username",
                "must be at most 80 characters",
            ));
        }
    }
    Ok(())
}

// ---- payload ----------------------------------------------------------------

/// Escape Slack's control characters (`&`, `<`, `>`) as its docs require
/// for text that should not be read as markup.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The text built from the message: `*{title}*\n{body}`, or the body.
pub fn fallback_text(message: &Message) -> String {
    match message.title.as_deref().filter(|t| !t.is_empty()) {
        Some(title) => format!("*{}*\n{}", escape(title), escape(&message.body)),
        None => escape(&message.body),
    }
}

/// Template keys read as booleans.
const BOOL_KEYS: &[&str] = &["unfurl_links", "unfurl_media", "mrkdwn", "reply_broadcast"];
/// Template keys read as JSON lists.
const LIST_KEYS: &[&str] = &["blocks", "attachments"];
/// Template keys read as plain strings.
const STRING_KEYS: &[&str] = &["thread_ts", "channel"];

/// Build the JSON object sent to the webhook (rules in the crate docs).
pub fn build_payload(
    config: &SlackConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Map<String, Value>, SendError> {
    let mut template = Template::parse(payload_json)?;
    let mut out = Map::new();

    let text = match template.take_text("text")? {
        Some(text) => text,
        None => fallback_text(message),
    };
    out.insert("text".into(), Value::String(text));

    for key in LIST_KEYS {
        if let Some(list) = template.take_list(key)? {
            out.insert((*key).into(), Value::Array(list));
        }
    }
    for key in STRING_KEYS {
        if let Some(value) = template.take_text(key)? {
            out.insert((*key).into(), Value::String(value));
        }
    }
    for key in BOOL_KEYS {
        if let Some(value) = template.take_boolean(key)? {
            out.insert((*key).into(), Value::Bool(value));
        }
    }

    let username = template
        .take_text("username")?
        .or_else(|| non_empty(&config.username).map(str::to_owned));
    if let Some(name) = username {
        out.insert("username".into(), Value::String(name));
    }
    // The two icon fields are one setting: a template that sets either
    // replaces the config's icon entirely.
    let icon_emoji = template.take_text("icon_emoji")?;
    let icon_url = template.take_text("icon_url")?;
    let (icon_emoji, icon_url) = if icon_emoji.is_some() || icon_url.is_some() {
        (icon_emoji, icon_url)
    } else {
        (
            non_empty(&config.icon_emoji).map(str::to_owned),
            non_empty(&config.icon_url).map(str::to_owned),
        )
    };
    if let Some(emoji) = icon_emoji {
        out.insert("icon_emoji".into(), Value::String(emoji));
    }
    if let Some(url) = icon_url {
        out.insert("icon_url".into(), Value::String(url));
    }

    for (key, value) in template.into_rest() {
        out.entry(key).or_insert(value);
    }
    Ok(out)
}

// ---- response ---------------------------------------------------------------

/// A hint for the plain-text error codes Slack's webhooks answer with.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_payload" => "Slack could not read the message: check the template's blocks",
        "user_not_found" | "channel_not_found" => "the webhook's channel or user no longer exists",
        "action_prohibited" => "a Slack admin restricted posting to this channel",
        "invalid_token" | "no_service" | "no_active_hooks" | "no_service_id" | "no_team"
        | "team_disabled" => "the webhook was revoked or its app removed: create a new webhook URL",
        "channel_is_archived" => "the webhook's channel is archived",
        "posting_to_general_channel_denied" => "only admins may post to this channel",
        "too_many_attachments" => "at most 100 attachments per message",
        "no_text" => "the message has no text",
        "rate_limited" => "Slack's rate limit: about one message per second per webhook",
        _ => return None,
    })
}

/// Decide the result of a webhook answer. Every error that comes from a
/// response carries its status, snippet and parsed JSON.
pub fn classify_response(
    status: u16,
    body: &[u8],
    retry_after_ms: Option<u64>,
) -> Result<SendOutcome, SendError> {
    let outcome = Response::new(status, body.to_vec()).outcome();
    match classify_status(status) {
        StatusClass::Success => {
            // Slack answers the plain text `ok`; Workflow Builder webhooks
            // answer `{"ok": true}`. An explicit `ok: false` is a failure.
            if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) {
                if obj.get("ok") == Some(&Value::Bool(false)) {
                    let code = obj
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown");
                    let mut message = format!("Slack error: {code}");
                    if let Some(hint) = hint(code) {
                        message.push_str(&format!(" ({hint})"));
                    }
                    return Err(SendError::permanent(message).with_outcome(outcome));
                }
            }
            Ok(outcome)
        }
        class => {
            let mut err = status_error(class, status, body, retry_after_ms);
            let text = String::from_utf8_lossy(body);
            if let Some(hint) = hint(text.trim()) {
                err.failure_mut().message.push_str(&format!(" ({hint})"));
            }
            Err(err)
        }
    }
}

/// Replace the webhook URL (and its path, which holds the secret) in `text`.
pub fn redact(text: &str, webhook_url: &str) -> String {
    let mut secrets = vec![webhook_url];
    if let Some(path) = webhook_url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
    {
        secrets.push(path);
    }
    let mut out = text.to_owned();
    for secret in secrets {
        if secret.len() >= 8 {
            out = out.replace(secret, "[REDACTED]");
        }
    }
    out
}

/// A transport failure as a [`SendError`], without the webhook URL.
pub fn fetch_error(err: FetchError, webhook_url: &str) -> SendError {
    let mut err = SendError::from(err);
    let failure = err.failure_mut();
    failure.message = redact(&failure.message, webhook_url);
    err
}

/// The plugin.
pub struct Slack;

impl Channel for Slack {
    type Config = SlackConfig;
    const ID: &'static str = "slack";
    const NAME: &'static str = "Slack";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Posts messages to a Slack channel through an incoming webhook.";

    fn validate(config: &SlackConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: SlackConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let payload = build_payload(&config, payload_json, message)?;
        // Debug only: the host already logs every attempt with its outcome.
        debug!("slack webhook post for message {}", message.id);
        let response = Request::post(config.webhook_url.as_str())
            .json(&payload)
            .send()
            .map_err(|e| fetch_error(e, &config.webhook_url))?;
        classify_response(response.status, &response.body, response.retry_after_ms())
    }
}

export_channel!(Slack);

#[cfg(test)]
mod tests;
