//! Telegram Bot API channel sender (built into Beacon Spear).
//!
//! Contract: `POST {api_base_url}/bot{bot_token}/sendMessage` with a JSON
//! object built as follows (see `README.md` for the full vocabulary):
//!
//! 1. the rule's rendered payload template (must be a JSON object; an empty
//!    rendering counts as `{}`); a key whose value is `null` or a blank
//!    string counts as absent (a placeholder with nothing to fill renders
//!    as `""`), read with the SDK's `template` module,
//! 2. `chat_id` from the config, always (a template cannot redirect it),
//! 3. `parse_mode` from the template, else from the config,
//! 4. `text` from the template, sent as is; without one, the message:
//!    title + `\n` + body, escaped for the parse mode (HTML: `<b>title</b>`;
//!    MarkdownV2 / Markdown: `*title*`) and cut to Telegram's 4096
//!    characters,
//! 5. `disable_notification`: the template's, else `true` when the config
//!    says so or the message's priority is below `silent_below_priority`;
//!    `disable_web_page_preview` (sent as `link_preview_options.is_disabled`),
//!    `protect_content`, `message_thread_id`: the template's, else the
//!    config's,
//! 6. every other template key passes through unchanged (`reply_markup`,
//!    `entities`, `reply_parameters`, …).
//!
//! Telegram answers `{"ok": true, "result": {...}}`. `{"ok": false, ...}`
//! is a failure whatever the HTTP status: `error_code` 429 is retryable with
//! `parameters.retry_after` (seconds), 5xx retryable, everything else
//! (400 `chat not found`, 401, 403 `bot was blocked`, 404, a group migrated
//! to a supergroup, …) permanent. Non-Telegram answers fall back to the
//! status (408/425/429/5xx retryable). Timeouts and connection errors are
//! retryable. Status, snippet and JSON are recorded with every attempt.
//!
//! The bot token is part of the URL path: it is never logged, and every
//! text this plugin puts into a [`SendError`] or [`SendOutcome`] has it
//! replaced by `[REDACTED]`.

use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::{
    classify_status, status_error, FetchError, Request, Response, StatusClass,
};
use beacon_plugin_sdk::template::{bad, Template};
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome,
};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// Telegram's limit on `text`, in UTF-16 code units (how Telegram counts).
pub const TEXT_MAX: usize = 4096;

/// The public Bot API server.
pub const DEFAULT_API_BASE_URL: &str = "https://api.telegram.org";

/// How Telegram reads the text (`parse_mode`): `HTML` (Telegram's subset:
/// `<b>`, `<i>`, `<a href="…">`, `<code>`, …), `MarkdownV2` (`*bold*`,
/// `_italic_`, `[text](url)`; ``_*[]()~`>#+-=|{}.!`` escaped elsewhere) or
/// legacy `Markdown`.
// The variants carry no doc comments on purpose: that keeps the schema a
// plain `enum`, which the dashboard draws as a select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ParseMode {
    #[serde(rename = "HTML")]
    Html,
    MarkdownV2,
    Markdown,
}

impl ParseMode {
    /// The value Telegram expects.
    pub fn as_str(self) -> &'static str {
        match self {
            ParseMode::Html => "HTML",
            ParseMode::MarkdownV2 => "MarkdownV2",
            ParseMode::Markdown => "Markdown",
        }
    }
}

/// A chat id as configured: a numeric id (`"-1001234567890"`, also given as
/// a JSON number) or a public channel's `@username`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatId(pub String);

impl<'de> Deserialize<'de> for ChatId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ChatIdVisitor;
        impl Visitor<'_> for ChatIdVisitor {
            type Value = ChatId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a chat id: a number or a string such as \"-100123\" or \"@channel\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ChatId, E> {
                Ok(ChatId(v.trim().to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ChatId, E> {
                Ok(ChatId(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ChatId, E> {
                Ok(ChatId(v.to_string()))
            }
        }
        deserializer.deserialize_any(ChatIdVisitor)
    }
}

impl ChatId {
    /// The JSON value sent: always a string (Telegram takes "Integer or
    /// String"; a string never loses digits).
    pub fn to_json(&self) -> Value {
        Value::String(self.0.clone())
    }

    fn is_valid(&self) -> bool {
        let id = &self.0;
        if let Some(name) = id.strip_prefix('@') {
            return !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        }
        let digits = id.strip_prefix('-').unwrap_or(id);
        !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && id.parse::<i64>().is_ok()
    }
}

fn chat_id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    // A string in the schema so the dashboard draws a text input; the
    // deserializer takes a JSON number too.
    schemars::json_schema!({
        "description": "Target chat: a numeric id (a user's id for a private chat, `-100…` for a supergroup or channel) or a public channel's `@username`. A JSON number is accepted too.",
        "type": "string",
        "pattern": "^(-?[0-9]+|@[A-Za-z0-9_]+)$"
    })
}

fn default_api_base_url() -> String {
    DEFAULT_API_BASE_URL.to_owned()
}

fn default_silent_below_priority() -> u8 {
    3
}

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Bot token from @BotFather, e.g. `123456789:AAHk…`.
    #[schemars(transform = secret)]
    pub bot_token: String,
    /// Target chat: a numeric id (a user's id for a private chat, `-100…`
    /// for a supergroup or channel) or a public channel's `@username`. A
    /// JSON number is accepted too.
    #[schemars(schema_with = "chat_id_schema")]
    pub chat_id: ChatId,
    /// Bot API server; change it only for a self-hosted Bot API server.
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
    /// How Telegram reads the text: `HTML`, `MarkdownV2` or `Markdown`;
    /// unset for plain text. Text built from the message is escaped to
    /// match.
    #[serde(default)]
    pub parse_mode: Option<ParseMode>,
    /// Send every message silently (no sound on the recipients' devices).
    #[serde(default)]
    pub disable_notification: bool,
    /// Messages whose priority is below this are sent silently. 1 = none,
    /// 3 (default) = priorities 1-2, 6 = all.
    #[serde(default = "default_silent_below_priority")]
    #[schemars(range(min = 1, max = 6))]
    pub silent_below_priority: u8,
    /// Forum topic (message thread) to post into, in a forum supergroup.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub message_thread_id: Option<i64>,
    /// Do not show link previews for links in the text.
    #[serde(default)]
    pub disable_web_page_preview: bool,
    /// Protect messages from forwarding and saving.
    #[serde(default)]
    pub protect_content: bool,
}

/// Whether `token` looks like a bot token: digits, `:`, then a non-empty
/// run of `[A-Za-z0-9_-]`.
pub fn is_bot_token(token: &str) -> bool {
    match token.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !secret.is_empty()
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

/// Full config validation (what `validate-config` runs). No message echoes
/// the token.
pub fn validate_config(config: &TelegramConfig) -> Result<(), ConfigError> {
    if !is_bot_token(&config.bot_token) {
        return Err(ConfigError::new(
            "bot_token",
            "must be the token @BotFather gave you: digits, a colon, then letters, digits, _ or -",
        ));
    }
    if !config.chat_id.is_valid() {
        return Err(ConfigError::new(
            "chat_id",
            "must be a numeric chat id (e.g. -1001234567890) or @channelusername",
        ));
    }
    check_http_url("api_base_url", &config.api_base_url)?;
    if config.api_base_url.contains('?') {
        return Err(ConfigError::new(
            "api_base_url",
            "must not contain a query string (/bot<token>/sendMessage is appended)",
        ));
    }
    if !(1..=6).contains(&config.silent_below_priority) {
        return Err(ConfigError::new(
            "silent_below_priority",
            "must be between 1 (never silent) and 6 (always silent)",
        ));
    }
    if config.message_thread_id.is_some_and(|id| id < 1) {
        return Err(ConfigError::new(
            "message_thread_id",
            "must be a positive number",
        ));
    }
    Ok(())
}

/// `{api_base_url}/bot{token}/sendMessage`, without a doubled slash.
pub fn send_message_url(config: &TelegramConfig) -> String {
    format!(
        "{}/bot{}/sendMessage",
        config.api_base_url.trim_end_matches('/'),
        config.bot_token
    )
}

// ---- redaction --------------------------------------------------------------

/// `text` with the bot token (and its secret half) replaced by `[REDACTED]`.
pub fn redact(text: &str, token: &str) -> String {
    let mut out = text.to_owned();
    if !token.is_empty() {
        out = out.replace(token, "[REDACTED]");
    }
    if let Some((_, secret)) = token.split_once(':') {
        if secret.len() >= 8 {
            out = out.replace(secret, "[REDACTED]");
        }
    }
    out
}

fn redact_opt(text: &mut Option<String>, token: &str) {
    if let Some(t) = text {
        *t = redact(t, token);
    }
}

/// Redact every text field of an error.
pub fn redact_error(mut err: SendError, token: &str) -> SendError {
    let failure = err.failure_mut();
    failure.message = redact(&failure.message, token);
    redact_opt(&mut failure.response_snippet, token);
    redact_opt(&mut failure.response_json, token);
    err
}

/// A transport failure as a [`SendError`], without the token.
pub fn fetch_error(err: FetchError, token: &str) -> SendError {
    redact_error(SendError::from(err), token)
}

// ---- template values --------------------------------------------------------

/// Take the template's `message_thread_id`: a positive whole number, as a
/// JSON number or numeric text.
fn take_thread_id(template: &mut Template) -> Result<Option<i64>, SendError> {
    const KEY: &str = "message_thread_id";
    match template.take_integer(KEY)? {
        Some(id) if id < 1 => Err(bad(
            KEY,
            format!("must be a positive whole number, got {id}"),
        )),
        id => Ok(id),
    }
}

/// Take the template's `parse_mode`: `HTML`, `MarkdownV2`, `Markdown` (any
/// case), or `none`/`plain`/`text` for plain text. `None` when absent.
fn take_parse_mode(template: &mut Template) -> Result<Option<Option<ParseMode>>, SendError> {
    let Some(mode) = template.take_text("parse_mode")? else {
        return Ok(None);
    };
    match mode.trim().to_ascii_lowercase().as_str() {
        "html" => Ok(Some(Some(ParseMode::Html))),
        "markdownv2" => Ok(Some(Some(ParseMode::MarkdownV2))),
        "markdown" => Ok(Some(Some(ParseMode::Markdown))),
        "none" | "plain" | "text" => Ok(Some(None)),
        _ => Err(bad(
            "parse_mode",
            format!("must be HTML, MarkdownV2, Markdown or none, got {mode:?}"),
        )),
    }
}

// ---- text -------------------------------------------------------------------

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// `text` cut to at most `max` UTF-16 code units on a character boundary,
/// ending in `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if utf16_len(text) <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(1);
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        used += c.len_utf16();
        if used > budget {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// Escape for Telegram's HTML parse mode.
pub fn escape_html(text: &str) -> String {
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

/// Escape for MarkdownV2: a backslash before each of
/// ``_*[]()~`>#+-=|{}.!`` and before the backslash itself.
pub fn escape_markdown_v2(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "_*[]()~`>#+-=|{}.!\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escape for legacy Markdown: a backslash before each of ``_*`[``.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "_*`[".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The text built from the message for `mode`: title + `\n` + body, the
/// title in bold when there is a parse mode, both escaped; the visible text
/// is cut to [`TEXT_MAX`] before escaping, so markup is never cut.
pub fn fallback_text(message: &Message, mode: Option<ParseMode>) -> String {
    let escape = |text: &str| match mode {
        None => text.to_owned(),
        Some(ParseMode::Html) => escape_html(text),
        Some(ParseMode::MarkdownV2) => escape_markdown_v2(text),
        Some(ParseMode::Markdown) => escape_markdown(text),
    };
    let Some(title) = message.title.as_deref().filter(|t| !t.is_empty()) else {
        return escape(&truncate(&message.body, TEXT_MAX));
    };
    let title = truncate(title, TEXT_MAX - 2);
    let body = truncate(&message.body, TEXT_MAX - utf16_len(&title) - 1);
    let (title, body) = (escape(&title), escape(&body));
    match mode {
        None => format!("{title}\n{body}"),
        Some(ParseMode::Html) => format!("<b>{title}</b>\n{body}"),
        Some(ParseMode::MarkdownV2) => format!("*{title}*\n{body}"),
        // Legacy Markdown cannot escape inside an entity: bold only a title
        // that needs no escaping.
        Some(ParseMode::Markdown) if !title.contains('\\') => format!("*{title}*\n{body}"),
        Some(ParseMode::Markdown) => format!("{title}\n{body}"),
    }
}

/// Build the JSON object sent to `sendMessage` (rules in the crate docs).
pub fn build_payload(
    config: &TelegramConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Map<String, Value>, SendError> {
    let mut template = Template::parse(payload_json)?;
    let mut out = Map::new();

    // The channel decides where messages go.
    template.remove("chat_id");
    out.insert("chat_id".into(), config.chat_id.to_json());

    let mode = take_parse_mode(&mut template)?.unwrap_or(config.parse_mode);
    let text = match template.take_text("text")? {
        // Plain text can be cut safely; marked-up text is sent whole (the
        // limit applies after parsing, and a cut could break the markup).
        Some(text) if mode.is_none() => truncate(&text, TEXT_MAX),
        Some(text) => text,
        None => fallback_text(message, mode),
    };
    out.insert("text".into(), Value::String(text));
    if let Some(mode) = mode {
        out.insert("parse_mode".into(), Value::from(mode.as_str()));
    }

    let silent = template
        .take_boolean("disable_notification")?
        .unwrap_or(config.disable_notification || message.priority < config.silent_below_priority);
    if silent {
        out.insert("disable_notification".into(), Value::Bool(true));
    }
    if template
        .take_boolean("protect_content")?
        .unwrap_or(config.protect_content)
    {
        out.insert("protect_content".into(), Value::Bool(true));
    }
    if let Some(thread) = take_thread_id(&mut template)?.or(config.message_thread_id) {
        out.insert("message_thread_id".into(), Value::from(thread));
    }
    let no_preview = template
        .take_boolean("disable_web_page_preview")?
        .unwrap_or(config.disable_web_page_preview);
    // Without previews, the template's own link_preview_options (an object
    // or a string holding one) are completed; otherwise they pass through.
    let preview_options = if no_preview {
        let mut options = template
            .take_object("link_preview_options")?
            .unwrap_or_default();
        options.insert("is_disabled".into(), Value::Bool(true));
        Some(options)
    } else {
        None
    };

    for (key, value) in template.into_rest() {
        out.entry(key).or_insert(value);
    }
    if let Some(options) = preview_options {
        out.insert("link_preview_options".into(), Value::Object(options));
    }
    Ok(out)
}

// ---- response ---------------------------------------------------------------

/// A hint for common Telegram error descriptions.
fn hint(code: i64, description: &str) -> Option<&'static str> {
    let d = description.to_ascii_lowercase();
    Some(if code == 401 {
        "check bot_token"
    } else if d.contains("chat not found") {
        "check chat_id, and that the bot was added to the chat"
    } else if d.contains("can't parse entities") {
        "the text is not valid for its parse_mode"
    } else if d.contains("message is too long") {
        "Telegram allows 4096 characters per message"
    } else if d.contains("thread not found") {
        "check message_thread_id"
    } else if d.contains("not enough rights") || d.contains("bot is not a member") {
        "give the bot permission to post in the chat"
    } else {
        return None;
    })
}

/// Decide the result of a Bot API answer. Every error that comes from a
/// response carries its status, snippet and parsed JSON; every text has the
/// token redacted.
pub fn classify_response(
    status: u16,
    body: &[u8],
    header_retry_after_ms: Option<u64>,
    token: &str,
) -> Result<SendOutcome, SendError> {
    let mut outcome = Response::new(status, body.to_vec()).outcome();
    redact_opt(&mut outcome.response_snippet, token);
    redact_opt(&mut outcome.response_json, token);
    let json = serde_json::from_slice::<Value>(body).ok();
    let ok = json
        .as_ref()
        .and_then(|j| j.get("ok"))
        .and_then(Value::as_bool);
    let class = classify_status(status);
    let err = match (ok, json) {
        (Some(true), _) if class == StatusClass::Success => return Ok(outcome),
        (Some(false), Some(json)) => telegram_error(status, &json, header_retry_after_ms),
        _ if class == StatusClass::Success => SendError::permanent(format!(
            "HTTP {status} but the answer is not Telegram's JSON: {}",
            outcome
                .response_snippet
                .as_deref()
                .unwrap_or("(empty body)")
        )),
        _ => status_error(class, status, body, header_retry_after_ms),
    };
    Err(redact_error(err.with_outcome(outcome), token))
}

/// The error for `{"ok": false, "error_code", "description", "parameters"?}`.
fn telegram_error(status: u16, json: &Value, header_retry_after_ms: Option<u64>) -> SendError {
    let code = json
        .get("error_code")
        .and_then(Value::as_i64)
        .unwrap_or(i64::from(status));
    let description = json
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("(no description)");
    let parameters = json.get("parameters");
    let mut message = format!("Telegram error {code}: {description}");

    if let Some(new_id) = parameters
        .and_then(|p| p.get("migrate_to_chat_id"))
        .and_then(|id| {
            id.as_i64()
                .map(|n| n.to_string())
                .or(id.as_str().map(str::to_owned))
        })
    {
        message.push_str(&format!(
            " (the group became a supergroup: set chat_id to {new_id})"
        ));
        return SendError::permanent(message);
    }
    if let Some(hint) = hint(code, description) {
        message.push_str(&format!(" ({hint})"));
    }
    let body_retry_after_ms = parameters
        .and_then(|p| p.get("retry_after"))
        .and_then(Value::as_u64)
        .map(|s| s.saturating_mul(1000));
    let retryable = classify_status(status) == StatusClass::Retryable
        || u16::try_from(code).map(classify_status) == Ok(StatusClass::Retryable);
    if retryable {
        SendError::retryable(message)
            .with_retry_after_ms(body_retry_after_ms.or(header_retry_after_ms))
    } else {
        SendError::permanent(message)
    }
}

/// The plugin.
pub struct Telegram;

impl Channel for Telegram {
    type Config = TelegramConfig;
    const ID: &'static str = "telegram";
    const NAME: &'static str = "Telegram";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Sends messages to a Telegram chat, group or channel through a bot (Bot API sendMessage).";

    fn validate(config: &TelegramConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: TelegramConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let payload = build_payload(&config, payload_json, message)?;
        // Debug only, and never the URL: it holds the token.
        debug!("telegram sendMessage for message {}", message.id);
        let response = Request::post(send_message_url(&config))
            .json(&payload)
            .send()
            .map_err(|e| fetch_error(e, &config.bot_token))?;
        classify_response(
            response.status,
            &response.body,
            response.retry_after_ms(),
            &config.bot_token,
        )
    }
}

export_channel!(Telegram);

#[cfg(test)]
mod tests;
