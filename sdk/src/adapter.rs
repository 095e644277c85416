//! The values an ingest adapter works with (`adapter-api` in WIT): the
//! request it reads and the messages it returns. Plain Rust, usable on every
//! target, so an adapter's logic is unit-tested natively.

use std::fmt;

/// One inbound webhook request as it reached the endpoint. The ingest key is
/// not in it: the host removes `X-Beacon-Ingest-Key` and `Authorization`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundRequest {
    /// Upper-case method, e.g. `POST`.
    pub method: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Lower-case header names; a repeated header appears repeatedly.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Ingest endpoint id (32 hex digits).
    pub endpoint_id: String,
    /// Ingest endpoint name.
    pub endpoint_name: String,
}

impl InboundRequest {
    /// A `POST` with this body and no headers. Handy in tests.
    pub fn post(body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: "POST".into(),
            body: body.into(),
            endpoint_id: "0190f0c8a1b27c3d9e4f5a6b7c8d0000".into(),
            endpoint_name: "default".into(),
            ..Self::default()
        }
    }

    /// Adds a header (the name is lower-cased). Handy in tests.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The first value of a header (name compared case-insensitively).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, or [`AdaptError::Invalid`] saying why not.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, AdaptError> {
        serde_json::from_slice(&self.body)
            .map_err(|err| AdaptError::Invalid(format!("the body is not the JSON expected: {err}")))
    }
}

/// One message an adapter produces; the host validates it like a native
/// ingest body (non-empty body, lengths, priority 1-5, http(s) URL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdaptedMessage {
    /// Optional title.
    pub title: Option<String>,
    /// The text; must not be empty.
    pub body: String,
    /// Optional group.
    pub group: Option<String>,
    /// 1 (lowest) … 5 (critical); `None`: 3.
    pub priority: Option<u8>,
    /// Tags.
    pub tags: Vec<String>,
    /// The click target (absolute http(s) URL).
    pub url: Option<String>,
    /// String pairs kept with the message.
    pub extras: Vec<(String, String)>,
}

impl AdaptedMessage {
    /// A message with this body.
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            ..Self::default()
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Sets the priority (1-5).
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets the click target.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Adds an extra.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extras.push((key.into(), value.into()));
        self
    }
}

/// Why a request was not turned into messages (`adapt-error` in WIT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdaptError {
    /// Not a request this adapter reads: the sender gets 422 with this text.
    Invalid(String),
    /// A signature or token did not check out: the sender gets 401.
    Unauthorized(String),
}

impl fmt::Display for AdaptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdaptError::Invalid(why) => write!(f, "invalid request: {why}"),
            AdaptError::Unauthorized(why) => write!(f, "unauthorized: {why}"),
        }
    }
}

impl std::error::Error for AdaptError {}
