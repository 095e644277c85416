//! Plain value types mirroring the WIT `http`, `log`, `kv`, `smtp-send` and
//! `mqtt-publish` interfaces.
//!
//! A leaf: it imports nothing from this crate. The public modules (`http`,
//! `log`, `kv`, `mail`, `mqtt`) and `host`, `bindings` and `testing` (the
//! plumbing behind them) all need these types; defining them here keeps
//! those modules from looping back through `host`. The public paths are the
//! re-exports `http::{Request, Response, FetchError}`, `log::Level`,
//! `kv::KvError`, `mail::{Mail, MailError}` and `mqtt::{Publish, MqttError}`.
//! Methods that need the host or the crate's `types` (`Request::send`,
//! `Response::outcome`, …) are in `http`.

use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// Severity of a log line (`level` in WIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something odd but handled.
    Warn,
    /// A failure.
    Error,
}

/// An outgoing request (`request` in WIT). Build it with [`Request::new`],
/// [`Request::get`], [`Request::post`] … and the chained setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Upper-case method, e.g. `POST`.
    pub method: String,
    /// Absolute `http`/`https` URL.
    pub url: String,
    /// Header name/value pairs, in order.
    pub headers: Vec<(String, String)>,
    /// Request body, if any.
    pub body: Option<Vec<u8>>,
    /// Requested timeout; the host caps it.
    pub timeout_ms: Option<u32>,
    /// Let the host follow redirects (re-checking each hop). Default `false`.
    pub follow_redirects: bool,
    /// Deferred builder error (e.g. a value that failed to serialise).
    /// `pub(crate)` because `send`, in `http`, reports it.
    pub(crate) build_error: Option<String>,
}

impl Request {
    /// A request with the given method (upper-cased) and URL.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            follow_redirects: false,
            build_error: None,
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// `PUT url`.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new("PUT", url)
    }

    /// Add a header (names are case-insensitive; repeated names are kept).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Set a header, replacing any existing one of the same name.
    pub fn set_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// First value of a header, case-insensitively.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Raw body bytes.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// JSON body; sets `content-type: application/json` unless a
    /// content type was already set. A value that fails to serialise makes
    /// [`send`](Self::send) return [`FetchError::InvalidRequest`].
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.body = Some(bytes);
                if self.header_value("content-type").is_none() {
                    self.headers
                        .push(("content-type".into(), "application/json".into()));
                }
            }
            Err(err) => self.build_error = Some(format!("JSON body: {err}")),
        }
        self
    }

    /// Ask for a timeout (milliseconds); the host caps it.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// Let the host follow redirects.
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }
}

/// A buffered response (`response` in WIT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header names are lower-case when they come from the host.
    pub headers: Vec<(String, String)>,
    /// The whole (host-capped) response body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response without headers (handy for test mocks).
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Add a header (builder style, for test mocks).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// First value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// Why `fetch` failed (`fetch-error` in WIT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The host's outbound policy refused the destination.
    PolicyDenied(String),
    /// No complete response in time.
    Timeout,
    /// DNS, connect, TLS or transport failure.
    Connection(String),
    /// Request or response body over the host's cap (bytes).
    BodyTooLarge(u64),
    /// Malformed method, URL or header.
    InvalidRequest(String),
}

impl FetchError {
    /// `true` for failures worth retrying (timeouts and connection errors).
    pub fn is_retryable(&self) -> bool {
        matches!(self, FetchError::Timeout | FetchError::Connection(_))
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::PolicyDenied(why) => write!(f, "refused by outbound policy: {why}"),
            FetchError::Timeout => write!(f, "request timed out"),
            FetchError::Connection(why) => write!(f, "connection error: {why}"),
            FetchError::BodyTooLarge(limit) => write!(f, "body larger than {limit} bytes"),
            FetchError::InvalidRequest(why) => write!(f, "invalid request: {why}"),
        }
    }
}

impl std::error::Error for FetchError {}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why a key-value call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    /// Key empty or too long, or value too large; the text says which.
    Invalid(String),
    /// The bucket holds as many keys as it may.
    QuotaExceeded(String),
    /// The state store did not answer (or this call has no bucket); worth
    /// retrying later. A filter usually answers `Err` (rule not matched,
    /// error shown) or fails open, and says which in its docs.
    Unavailable(String),
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::Invalid(why) => write!(f, "invalid key-value call: {why}"),
            KvError::QuotaExceeded(why) => write!(f, "key-value quota exceeded: {why}"),
            KvError::Unavailable(why) => write!(f, "key-value state unavailable: {why}"),
        }
    }
}

impl std::error::Error for KvError {}

pub(crate) fn ttl_seconds(ttl: Option<Duration>) -> Option<u32> {
    ttl.map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

/// One mail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mail {
    /// Recipient addresses (`user@example.com`); at most 10.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body, always sent.
    pub text: String,
    /// Optional HTML alternative (sent as `multipart/alternative`).
    pub html: Option<String>,
    /// Optional Reply-To address.
    pub reply_to: Option<String>,
}

impl Mail {
    /// A plain-text mail.
    pub fn new(
        to: impl IntoIterator<Item = impl Into<String>>,
        subject: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Mail {
            to: to.into_iter().map(Into::into).collect(),
            subject: subject.into(),
            text: text.into(),
            html: None,
            reply_to: None,
        }
    }
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The host has no SMTP server configured.
    NotConfigured,
    /// The mail is unusable (bad address, too many recipients, too large).
    Invalid(String),
    /// The SMTP server refused it permanently (5xx).
    Rejected(String),
    /// Timeout, connection error or a transient (4xx) answer.
    Unavailable(String),
    /// Over the channel's mail rate; retry after this many milliseconds.
    RateLimited(u64),
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailError::NotConfigured => f.write_str("this server has no SMTP server configured"),
            MailError::Invalid(why) => write!(f, "mail refused: {why}"),
            MailError::Rejected(why) => write!(f, "the SMTP server rejected the mail: {why}"),
            MailError::Unavailable(why) => write!(f, "SMTP unavailable: {why}"),
            MailError::RateLimited(ms) => write!(f, "mail rate exceeded; retry in {ms} ms"),
        }
    }
}

impl std::error::Error for MailError {}

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Publish {
    /// `mqtt://host:port` or `mqtts://host:port` (TLS); the port defaults to
    /// 1883 / 8883.
    pub broker_url: String,
    /// Topic to publish to (no wildcards).
    pub topic: String,
    /// Message bytes.
    pub payload: Vec<u8>,
    /// 0 (at most once) or 1 (at least once: `publish` returns after the
    /// broker's PUBACK).
    pub qos: u8,
    /// Ask the broker to keep it as the topic's last message.
    pub retain: bool,
    /// Credentials, when the broker wants them.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<String>,
    /// Requested timeout; the host caps it.
    pub timeout_ms: Option<u32>,
}

impl Publish {
    /// A QoS 1, non-retained publish without credentials.
    pub fn new(broker_url: impl Into<String>, topic: impl Into<String>, payload: Vec<u8>) -> Self {
        Publish {
            broker_url: broker_url.into(),
            topic: topic.into(),
            payload,
            qos: 1,
            ..Publish::default()
        }
    }
}

/// Why a publish failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MqttError {
    /// The outbound policy refused the broker address.
    PolicyDenied(String),
    /// No answer in time.
    Timeout,
    /// DNS, TCP, TLS or protocol failure; worth retrying.
    Connection(String),
    /// The broker refused the connection (credentials, not authorised).
    Refused(String),
    /// Malformed URL, topic or QoS.
    InvalidRequest(String),
}

impl fmt::Display for MqttError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MqttError::PolicyDenied(why) => {
                write!(f, "broker refused by the outbound policy: {why}")
            }
            MqttError::Timeout => f.write_str("the broker did not answer in time"),
            MqttError::Connection(why) => write!(f, "MQTT connection failed: {why}"),
            MqttError::Refused(why) => write!(f, "the broker refused the connection: {why}"),
            MqttError::InvalidRequest(why) => write!(f, "invalid MQTT publish: {why}"),
        }
    }
}

impl std::error::Error for MqttError {}
