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

/// Why a `send` failed (`send-error` in WIT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later (timeouts, connection errors, 5xx, 429, …).
    Retryable {
        /// Human-readable reason.
        message: String,
        /// Earliest sensible retry in milliseconds (e.g. from `Retry-After`).
        retry_after_ms: Option<u64>,
    },
    /// Will not succeed without a change (bad config, most 4xx, …).
    Permanent(String),
}

impl SendError {
    /// A retryable error without a retry-after hint.
    pub fn retryable(message: impl Into<String>) -> Self {
        SendError::Retryable {
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> Self {
        SendError::Permanent(message.into())
    }

    /// `true` for [`SendError::Retryable`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Retryable { .. })
    }

    /// The human-readable text.
    pub fn message(&self) -> &str {
        match self {
            SendError::Retryable { message, .. } => message,
            SendError::Permanent(message) => message,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Retryable {
                message,
                retry_after_ms: Some(ms),
            } => write!(f, "retryable (after {ms} ms): {message}"),
            SendError::Retryable { message, .. } => write!(f, "retryable: {message}"),
            SendError::Permanent(message) => write!(f, "permanent: {message}"),
        }
    }
}

impl std::error::Error for SendError {}

impl From<ConfigError> for SendError {
    /// A config that fails validation at send time is a permanent failure.
    fn from(err: ConfigError) -> Self {
        SendError::Permanent(format!("invalid channel config: {err}"))
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
            SendError::Permanent("invalid channel config: url: missing".into())
        );
        assert!(SendError::retryable("x").is_retryable());
        assert_eq!(SendError::permanent("x").message(), "x");
    }
}
