//! Plain Rust mirrors of the WIT `types` interface.
//!
//! Plugin code works with these types only; the export macros convert them to
//! and from the generated bindings. They compile on every target, so plugin
//! logic can be unit-tested natively with `cargo test`.

use std::fmt;

/// What a plugin does (`plugin-kind` in WIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// Delivers messages (world `channel-sender`).
    Channel,
    /// Decides whether a rule matches (world `filter`).
    Filter,
    /// Turns inbound webhook requests into messages (world `adapter`; WIT's
    /// `plugin-kind` has no such case: adapters describe themselves with
    /// `adapter-info`).
    Adapter,
}

/// The self-description returned by `describe` (`plugin-info` in WIT).
///
/// You normally never build this yourself: the SDK fills it from the
/// constants of your [`Channel`](crate::Channel) / [`Filter`](crate::Filter)
/// implementation and the JSON Schema of its `Config` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// Stable id, e.g. `bark`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Semver version string.
    pub version: String,
    /// Channel or filter.
    pub kind: PluginKind,
    /// Short description for the dashboard.
    pub description: String,
    /// JSON Schema of the config, as JSON text.
    pub config_schema: String,
}

/// A rejected config (`config-error` in WIT): which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// JSON path such as `device_keys[1]` or `body.regex`; empty when the
    /// whole document is at fault.
    pub field: String,
    /// Human sentence.
    pub message: String,
}

impl ConfigError {
    /// An error about one field (a JSON path, e.g. `"body.regex"`).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An error about the config document as a whole.
    pub fn whole(message: impl Into<String>) -> Self {
        Self::new("", message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// One ingested message (`message` in WIT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// 32 lowercase hex digits.
    pub id: String,
    /// RFC 3339 time of ingest.
    pub received_at: String,
    /// Optional title.
    pub title: Option<String>,
    /// The message text (never empty).
    pub body: String,
    /// Optional group name.
    pub group: Option<String>,
    /// 1 (lowest) … 5 (critical).
    pub priority: u8,
    /// Tags, as sent.
    pub tags: Vec<String>,
    /// Optional absolute http(s) URL.
    pub url: Option<String>,
    /// Sender-supplied string pairs, in the order the host passes them.
    pub extras: Vec<(String, String)>,
    /// Ingest endpoint id (32 hex digits).
    pub endpoint_id: String,
    /// Ingest endpoint name.
    pub endpoint_name: String,
}

impl Message {
    /// A message with the given body and defaults for everything else
    /// (priority 3, no tags). Handy in tests.
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            ..Self::default()
        }
    }

    /// Value of an extra by key (first match).
    pub fn extra(&self, key: &str) -> Option<&str> {
        self.extras
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Default for Message {
    fn default() -> Self {
        Self {
            id: "0190f0c8a1b27c3d9e4f5a6b7c8d9e0f".into(),
            received_at: "2026-01-01T00:00:00Z".into(),
            title: None,
            body: String::new(),
            group: None,
            priority: 3,
            tags: Vec::new(),
            url: None,
            extras: Vec::new(),
            endpoint_id: "0190f0c8a1b27c3d9e4f5a6b7c8d0000".into(),
            endpoint_name: "default".into(),
        }
    }
}

/// The details of a failed `send` (`send-failure` in WIT), recorded with
/// the attempt just like a [`SendOutcome`].
///
/// Usually built through [`SendError`]'s constructors and `with_*` methods,
/// or by the HTTP helpers ([`Response::error_for_status`]).
///
/// [`Response::error_for_status`]: crate::http::Response::error_for_status
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendFailure {
    /// Human-readable reason shown to the user, e.g. `HTTP 400: …`.
    pub message: String,
    /// Earliest sensible retry in milliseconds (e.g. from `Retry-After`).
    /// Only meaningful for [`SendError::Retryable`]; the host ignores it on
    /// permanent failures.
    pub retry_after_ms: Option<u64>,
    /// HTTP status of the final response, when one arrived.
    pub http_status: Option<u16>,
    /// Start of the response body, at most [`SNIPPET_MAX_CHARS`] characters.
    pub response_snippet: Option<String>,
    /// The response body when it parsed as JSON, serialised compactly.
    pub response_json: Option<String>,
}

impl SendFailure {
    /// Details holding only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }
}

/// Why a `send` failed (`send-error` in WIT): retryable or permanent, each
/// with the [`SendFailure`] details (message, HTTP status, response snippet
/// and JSON) that the host records with the attempt.
///
/// ```
/// use beacon_plugin_sdk::SendError;
///
/// let err = SendError::permanent("Bark error code 400: failed to get device token")
///     .with_status(200)
///     .with_body(br#"{"code": 400, "message": "failed to get device token"}"#);
/// assert!(!err.is_retryable());
/// assert_eq!(err.failure().http_status, Some(200));
/// assert_eq!(
///     err.failure().response_json.as_deref(),
///     Some(r#"{"code":400,"message":"failed to get device token"}"#)
/// );
///
/// let err = SendError::retryable("HTTP 503").with_status(503).with_retry_after_ms(30_000);
/// assert_eq!(err.failure().retry_after_ms, Some(30_000));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later (timeouts, connection errors, 5xx, 429, …).
    Retryable(SendFailure),
    /// Will not succeed without a change (bad config, most 4xx, …).
    Permanent(SendFailure),
}

impl SendError {
    /// A retryable error with just a message (add details with the
    /// `with_*` methods).
    pub fn retryable(message: impl Into<String>) -> Self {
        SendError::Retryable(SendFailure::new(message))
    }

    /// A permanent error with just a message (add details with the
    /// `with_*` methods).
    pub fn permanent(message: impl Into<String>) -> Self {
        SendError::Permanent(SendFailure::new(message))
    }

    /// `true` for [`SendError::Retryable`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Retryable(_))
    }

    /// The details, whichever the kind.
    pub fn failure(&self) -> &SendFailure {
        match self {
            SendError::Retryable(failure) | SendError::Permanent(failure) => failure,
        }
    }

    /// The details, mutably (e.g. to extend the message).
    pub fn failure_mut(&mut self) -> &mut SendFailure {
        match self {
            SendError::Retryable(failure) | SendError::Permanent(failure) => failure,
        }
    }

    /// The details, by value.
    pub fn into_failure(self) -> SendFailure {
        match self {
            SendError::Retryable(failure) | SendError::Permanent(failure) => failure,
        }
    }

    /// The human-readable text.
    pub fn message(&self) -> &str {
        &self.failure().message
    }

    /// Set the earliest sensible retry. Accepts `u64` or `Option<u64>`
    /// (so `response.retry_after_ms()` can be passed as is). Has no effect
    /// on a permanent error, which is never retried.
    pub fn with_retry_after_ms(mut self, ms: impl Into<Option<u64>>) -> Self {
        if let SendError::Retryable(failure) = &mut self {
            failure.retry_after_ms = ms.into();
        }
        self
    }

    /// Set the HTTP status of the response that caused the failure.
    pub fn with_status(mut self, status: u16) -> Self {
        self.failure_mut().http_status = Some(status);
        self
    }

    /// Set the response snippet from text, capped at [`SNIPPET_MAX_CHARS`]
    /// characters (empty text clears it).
    pub fn with_snippet(mut self, text: impl AsRef<str>) -> Self {
        self.failure_mut().response_snippet = snippet(text.as_ref().as_bytes());
        self
    }

    /// Set the response JSON (compact JSON text, e.g. `value.to_string()`).
    pub fn with_json(mut self, json: impl Into<String>) -> Self {
        self.failure_mut().response_json = Some(json.into());
        self
    }

    /// Set the snippet and, when the body parses as JSON, the compact JSON
    /// from a raw response body (as [`SendOutcome`] does for successes).
    pub fn with_body(mut self, body: &[u8]) -> Self {
        let failure = self.failure_mut();
        failure.response_snippet = snippet(body);
        failure.response_json = response_json(body);
        self
    }

    /// Copy the status, snippet and JSON of an outcome (e.g. the one built
    /// from a response that turned out to be a failure).
    pub fn with_outcome(mut self, outcome: SendOutcome) -> Self {
        let failure = self.failure_mut();
        failure.http_status = outcome.http_status;
        failure.response_snippet = outcome.response_snippet;
        failure.response_json = outcome.response_json;
        self
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Retryable(SendFailure {
                message,
                retry_after_ms: Some(ms),
                ..
            }) => write!(f, "retryable (after {ms} ms): {message}"),
            SendError::Retryable(failure) => write!(f, "retryable: {}", failure.message),
            SendError::Permanent(failure) => write!(f, "permanent: {}", failure.message),
        }
    }
}

impl std::error::Error for SendError {}

impl From<ConfigError> for SendError {
    /// A config that fails validation at send time is a permanent failure.
    fn from(err: ConfigError) -> Self {
        SendError::permanent(format!("invalid channel config: {err}"))
    }
}

/// What a successful `send` observed (`send-outcome` in WIT).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOutcome {
    /// HTTP status of the final response.
    pub http_status: Option<u16>,
    /// Start of the response body, at most [`SNIPPET_MAX_CHARS`] characters.
    pub response_snippet: Option<String>,
    /// The response body when it parsed as JSON, serialised compactly.
    pub response_json: Option<String>,
}

/// Cap on [`SendOutcome::response_snippet`], in characters.
pub const SNIPPET_MAX_CHARS: usize = 1024;

/// Lossy UTF-8 text of `bytes`, truncated to [`SNIPPET_MAX_CHARS`] characters
/// (an ellipsis marks the cut). `None` for an empty body.
pub fn snippet(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(SNIPPET_MAX_CHARS) {
        None => Some(text.into_owned()),
        Some((cut, _)) => Some(format!("{}…", &text[..cut])),
    }
}

/// `bytes` re-serialised as compact JSON text when they parse as JSON;
/// `None` otherwise (including an empty body).
pub fn response_json(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_caps_on_char_boundary() {
        assert_eq!(snippet(b""), None);
        assert_eq!(snippet(b"ok").as_deref(), Some("ok"));
        let long = "é".repeat(SNIPPET_MAX_CHARS + 10);
        let s = snippet(long.as_bytes()).unwrap();
        assert_eq!(s.chars().count(), SNIPPET_MAX_CHARS + 1);
        assert!(s.ends_with('…'));
        let exact = "a".repeat(SNIPPET_MAX_CHARS);
        assert_eq!(snippet(exact.as_bytes()).unwrap(), exact);
        assert_eq!(snippet(&[0xff, b'a']).unwrap(), "\u{fffd}a");
    }

    #[test]
    fn message_helpers() {
        let mut m = Message::new("hi");
        assert_eq!(m.priority, 3);
        m.extras.push(("k".into(), "v".into()));
        assert_eq!(m.extra("k"), Some("v"));
        assert_eq!(m.extra("x"), None);
    }

    #[test]
    fn errors_display() {
        assert_eq!(ConfigError::new("a.b", "bad").to_string(), "a.b: bad");
        assert_eq!(ConfigError::whole("bad").to_string(), "bad");
        let e: SendError = ConfigError::new("url", "missing").into();
        assert_eq!(
            e,
            SendError::Permanent(SendFailure::new("invalid channel config: url: missing"))
        );
        assert!(SendError::retryable("x").is_retryable());
        assert_eq!(SendError::permanent("x").message(), "x");
        assert_eq!(SendError::permanent("x").to_string(), "permanent: x");
        assert_eq!(SendError::retryable("x").to_string(), "retryable: x");
        assert_eq!(
            SendError::retryable("x")
                .with_retry_after_ms(5)
                .with_status(503)
                .to_string(),
            "retryable (after 5 ms): x"
        );
    }

    #[test]
    fn send_error_builders() {
        let e = SendError::retryable("HTTP 429")
            .with_status(429)
            .with_retry_after_ms(Some(7000))
            .with_snippet("slow down");
        assert_eq!(
            e,
            SendError::Retryable(SendFailure {
                message: "HTTP 429".into(),
                retry_after_ms: Some(7000),
                http_status: Some(429),
                response_snippet: Some("slow down".into()),
                response_json: None,
            })
        );
        assert_eq!(
            e.clone().with_retry_after_ms(None).failure().retry_after_ms,
            None
        );

        // Retry-after is meaningless (and dropped) on permanent errors.
        let e = SendError::permanent("HTTP 400").with_retry_after_ms(1000);
        assert_eq!(e.failure().retry_after_ms, None);

        // with_body: snippet capped, JSON compacted; non-JSON clears the JSON.
        let e = SendError::permanent("x").with_body(br#"{ "code" : 400 }"#);
        assert_eq!(
            e.failure().response_snippet.as_deref(),
            Some(r#"{ "code" : 400 }"#)
        );
        assert_eq!(
            e.failure().response_json.as_deref(),
            Some(r#"{"code":400}"#)
        );
        let e = e.with_body(b"<html>");
        assert_eq!(e.failure().response_json, None);
        let long = "y".repeat(SNIPPET_MAX_CHARS * 2);
        let e = SendError::permanent("x").with_snippet(&long);
        assert_eq!(
            e.failure()
                .response_snippet
                .as_ref()
                .unwrap()
                .chars()
                .count(),
            SNIPPET_MAX_CHARS + 1
        );
        assert_eq!(e.with_snippet("").failure().response_snippet, None);

        let e = SendError::permanent("x")
            .with_json("[1]")
            .with_outcome(SendOutcome {
                http_status: Some(200),
                response_snippet: Some("{}".into()),
                response_json: Some("{}".into()),
            });
        let f = e.into_failure();
        assert_eq!(f.http_status, Some(200));
        assert_eq!(f.response_snippet.as_deref(), Some("{}"));
        assert_eq!(f.response_json.as_deref(), Some("{}"));

        let mut e = SendError::permanent("a");
        e.failure_mut().message.push('b');
        assert_eq!(e.message(), "ab");
    }

    #[test]
    fn response_json_is_compact_or_none() {
        assert_eq!(response_json(b"").as_deref(), None);
        assert_eq!(response_json(b"nope").as_deref(), None);
        assert_eq!(response_json(b" [1, 2] ").as_deref(), Some("[1,2]"));
    }
}

/// A filter's decision on one rule, with an optional reason the user sees
/// beside the message (worth giving when a stateful filter suppresses a
/// message someone might look for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// True when the message passes.
    pub matched: bool,
    /// One sentence, e.g. `"duplicate of a message 12 s ago"`.
    pub note: Option<String>,
}

impl Verdict {
    /// The message passes.
    pub fn pass() -> Self {
        Verdict {
            matched: true,
            note: None,
        }
    }

    /// The message does not pass, for the reason given.
    pub fn block(note: impl Into<String>) -> Self {
        Verdict {
            matched: false,
            note: Some(note.into()),
        }
    }
}

impl From<bool> for Verdict {
    fn from(matched: bool) -> Self {
        Verdict {
            matched,
            note: None,
        }
    }
}
