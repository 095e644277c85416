//! Signed webhook channel sender (built into Beacon Spear).
//!
//! Contract (SPEC §12: id `webhook`, required `url` and `secret`): one
//! `POST` (or `PUT`) of a JSON body to `url`, signed per the Standard
//! Webhooks specification (<https://www.standardwebhooks.com>, symmetric
//! `v1` scheme):
//!
//! - `webhook-id`: `msg_<message id>_<first 16 hex digits of sha256(body)>`.
//!   It is derived, not random, so a retry of the same delivery (same
//!   message, same rendered payload) carries the same id and a receiver can
//!   use it as an idempotency key, while two rules sending different payloads
//!   for one message get different ids. Only `[A-Za-z0-9_-]` of the message
//!   id are used (host ids are 32 hex digits), so the id never holds a `.`.
//! - `webhook-timestamp`: the attempt's Unix time in whole seconds (fresh on
//!   every attempt, as the specification asks).
//! - `webhook-signature`: `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`
//!   where `key` is the base64 decoding of the part of `secret` after
//!   `whsec_` (24 to 64 bytes), and `body` is exactly the bytes sent.
//!
//! The body is the rule's rendered payload template (any JSON value,
//! re-serialised compactly). When the template is empty, `{}` or `null`,
//! a JSON object describing the whole message is sent instead (see
//! [`message_json`]).
//!
//! Status handling is the SDK classifier: 2xx success; 408/425/429/5xx
//! retryable (honouring `Retry-After`); every other status permanent,
//! including 3xx (redirects are not followed: the specification asks
//! senders to have the URL updated instead). Timeouts and connection errors
//! are retryable, outbound-policy refusals permanent. Success or failure,
//! the status, a capped snippet and the parsed JSON of the answer are
//! recorded with the attempt.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::{classify_status, status_error, Request, Response, StatusClass};
use beacon_plugin_sdk::template::parse_value;
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome,
};
use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Prefix of a Standard Webhooks symmetric signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Shortest signing key accepted (bytes after base64 decoding; 192 bits).
pub const MIN_KEY_BYTES: usize = 24;
/// Longest signing key accepted (bytes after base64 decoding; 512 bits).
pub const MAX_KEY_BYTES: usize = 64;

/// HTTP method used for the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `POST` (default).
    #[default]
    Post,
    /// `PUT`.
    Put,
}

impl Method {
    /// The method as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// Channel config.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Absolute http(s) URL the signed request is sent to (redirects are
    /// not followed).
    pub url: String,
    /// Standard Webhooks signing secret: `whsec_` followed by the standard
    /// base64 (with `=` padding) of a random 24 to 64 byte key, e.g.
    /// `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`. The receiver verifies the
    /// `webhook-signature` header with the same secret.
    #[schemars(transform = secret)]
    pub secret: String,
    /// `POST` (default) or `PUT`.
    #[serde(default)]
    pub method: Method,
    /// Extra request headers, e.g. `{"Authorization": "Bearer …"}`. The
    /// `webhook-*` signature headers, `content-type` and hop-by-hop headers
    /// cannot be overridden.
    #[serde(default)]
    #[schemars(transform = secret)]
    pub headers: BTreeMap<String, String>,
    /// Request timeout in milliseconds, 100 to 120000 (the host caps it;
    /// unset means the host default).
    #[serde(default)]
    #[schemars(range(min = 100, max = 120000))]
    pub timeout_ms: Option<u32>,
}

impl fmt::Debug for WebhookConfig {
    /// Never prints the secret or the header values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("method", &self.method)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// Header names a config may not set: the host's hop-by-hop headers, the
/// body's content type and the three signature headers.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// The HMAC-SHA256 signing key decoded from a `whsec_…` secret.
#[derive(Clone)]
pub struct SigningKey(Hmac<Sha256>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Decode a `whsec_<base64>` secret; errors name the field `secret`.
    pub fn from_secret(secret: &str) -> Result<Self, ConfigError> {
        let err = |why: &str| ConfigError::new("secret", why);
        let Some(encoded) = secret.strip_prefix(SECRET_PREFIX) else {
            return Err(err("must start with `whsec_` (a Standard Webhooks secret)"));
        };
        if encoded.is_empty() {
            return Err(err("has no key after `whsec_`"));
        }
        let key = BASE64
            .decode(encoded)
            .map_err(|_| err("the part after `whsec_` must be standard base64"))?;
        if !(MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&key.len()) {
            return Err(err(&format!(
                "the key after `whsec_` must decode to {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, not {}",
                key.len()
            )));
        }
        // HMAC takes keys of any length; the error arm cannot happen.
        Hmac::<Sha256>::new_from_slice(&key)
            .map(SigningKey)
            .map_err(|_| err("is not a usable HMAC key"))
    }

    /// `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

/// Config checks beyond the JSON shape (what `validate-config` runs).
pub fn validate_config(config: &WebhookConfig) -> Result<(), ConfigError> {
    check_http_url("url", &config.url)?;
    SigningKey::from_secret(&config.secret)?;
    for (name, value) in &config.headers {
        let field = format!("headers.{name}");
        let is_token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !is_token {
            return Err(ConfigError::new(field, "is not a valid header name"));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(ConfigError::new(
                field,
                "is set by the plugin or the host and cannot be overridden",
            ));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(ConfigError::new(field, "must not contain line breaks"));
        }
    }
    if let Some(ms) = config.timeout_ms {
        if !(100..=120_000).contains(&ms) {
            return Err(ConfigError::new(
                "timeout_ms",
                "must be between 100 and 120000",
            ));
        }
    }
    Ok(())
}

/// The whole message as a JSON object: what is sent when the rule has no
/// payload template.
pub fn message_json(message: &Message) -> Value {
    json!({
        "id": message.id,
        "received_at": message.received_at,
        "title": message.title,
        "body": message.body,
        "group": message.group,
        "priority": message.priority,
        "tags": message.tags,
        "url": message.url,
        "extras": message.extras.iter().cloned().collect::<BTreeMap<_, _>>(),
        "endpoint": {"id": message.endpoint_id, "name": message.endpoint_name},
    })
}

/// The exact body bytes to send (and sign): the rendered template as
/// compact JSON, or [`message_json`] when the template is empty, `{}` or
/// `null`. A template that is not JSON is a permanent failure.
pub fn body_for(payload_json: &str, message: &Message) -> Result<Vec<u8>, SendError> {
    let value = match parse_value(payload_json)? {
        Some(value) => value,
        None => message_json(message),
    };
    serde_json::to_vec(&value)
        .map_err(|e| SendError::permanent(format!("could not serialise the body: {e}")))
}

/// `msg_<message id>_<first 16 hex digits of sha256(body)>`: stable across
/// retries of one delivery, different for different bodies.
pub fn webhook_id(message_id: &str, body: &[u8]) -> String {
    let id: String = message_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let digest = Sha256::digest(body);
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("msg_{id}_{hash}")
}

/// Current Unix time in whole seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Build the signed request (pure; `send` adds the clock and the network).
pub fn build_request(
    config: &WebhookConfig,
    key: &SigningKey,
    id: &str,
    timestamp: u64,
    body: Vec<u8>,
) -> Request {
    let signature = key.sign(id, timestamp, &body);
    let mut request = Request::new(config.method.as_str(), config.url.clone()).header(
        "user-agent",
        concat!("beacon-webhook/", env!("CARGO_PKG_VERSION")),
    );
    for (name, value) in &config.headers {
        request = request.set_header(name.clone(), value.clone());
    }
    request = request
        .set_header("content-type", "application/json")
        .set_header("webhook-id", id)
        .set_header("webhook-timestamp", timestamp.to_string())
        .set_header("webhook-signature", signature);
    if let Some(ms) = config.timeout_ms {
        request = request.timeout_ms(ms);
    }
    request.body(body)
}

/// Decide the result of the receiver's answer: the SDK classifier, with a
/// hint on unfollowed redirects.
pub fn classify_response(response: Response) -> Result<SendOutcome, SendError> {
    let class = classify_status(response.status);
    if class == StatusClass::Success {
        return Ok(response.outcome());
    }
    let mut err = status_error(
        class,
        response.status,
        &response.body,
        response.retry_after_ms(),
    );
    if (300..400).contains(&response.status) {
        if let (Some(location), SendError::Permanent(failure)) =
            (response.header("location"), &mut err)
        {
            failure.message.push_str(&format!(
                " (redirect to {location} not followed; set url to the final address)"
            ));
        }
    }
    Err(err)
}

/// The plugin.
pub struct Webhook;

impl Channel for Webhook {
    type Config = WebhookConfig;
    const ID: &'static str = "webhook";
    const NAME: &'static str = "Webhook (signed)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "POSTs the rule's rendered payload (or the whole message) as JSON to a URL, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).";

    fn validate(config: &WebhookConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: WebhookConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let key = SigningKey::from_secret(&config.secret)?;
        let body = body_for(payload_json, message)?;
        let id = webhook_id(&message.id, &body);
        // Debug only (never the body or the secret): the host already logs
        // every attempt with its outcome.
        debug!("signed webhook for message {}", message.id);
        let response = build_request(&config, &key, &id, unix_now(), body).send()?;
        classify_response(response)
    }
}

export_channel!(Webhook);

#[cfg(test)]
mod tests;
