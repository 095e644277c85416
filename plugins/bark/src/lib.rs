//! Bark v2 channel sender (built into Beacon Spear).
//!
//! Contract (SPEC §7): `POST {server_base_url}/push` with a JSON object
//! built as follows:
//!
//! 1. the rule's rendered payload template (must be a JSON object; an empty
//!    rendering counts as `{}`),
//! 2. then `default_payload_json` from the channel for keys the template
//!    does not set,
//! 3. then `device_key` / `device_keys` from the channel (any device keys set
//!    by the template or the defaults are removed first, in any letter case
//!    since the Bark server ignores it, so a rule can only reach the
//!    channel's own devices),
//! 4. if there is no `body` (missing, `null` or blank) the message body is
//!    used; if there is no `title` and the message has one, the message
//!    title is used.
//!
//! Bark field names (`title`, `subtitle`, `body`, `level`, `volume`, `badge`,
//! `call`, `autoCopy`, `copy`, `sound`, `icon`, `group`, `ciphertext`,
//! `isArchive`, `url`, `action`, …) are kept as they are and unknown keys
//! pass through.
//!
//! With `encryption` configured, that object is then sealed for the Bark
//! app's "Encrypted push" (see [`encryption`]): the visible fields travel as
//! `ciphertext` (with an `iv`), and only what the Bark server itself needs
//! (`device_key`/`device_keys`, `id`, `delete`, `ttl`) stays in clear.
//!
//! The server answers `{"code": 200, "message": "success", ...}`. A non-2xx
//! status or a `code` other than 200 is a failure: 408/425/429/5xx (HTTP
//! status or `code`) are retryable, other codes (e.g. 400 for an unknown
//! device key) permanent. Timeouts and connection errors are retryable.
//! Whether the push succeeded or failed, the HTTP status, a capped snippet
//! and the parsed JSON of the answer are recorded with the attempt (on
//! failure in the `send-failure` details).

pub mod encryption;

use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::{classify_status, status_error, Request, StatusClass};
use beacon_plugin_sdk::template::{is_unset, Template};
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use encryption::{Algorithm, EncryptionConfig};

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct BarkConfig {
    /// Base URL of the Bark server, e.g. `https://api.day.app`; `/push` is
    /// appended.
    pub server_base_url: String,
    /// Device key of one iPhone (use this or `device_keys`).
    #[serde(default)]
    #[schemars(transform = secret)]
    pub device_key: Option<String>,
    /// Device keys for a batch push to several devices (use this or
    /// `device_key`).
    #[serde(default)]
    #[schemars(transform = secret)]
    pub device_keys: Option<Vec<String>>,
    /// Bark fields applied when the rule's template does not set them, as a
    /// JSON object (or a string holding one), e.g.
    /// `{"sound": "minuet", "group": "alerts"}`.
    #[serde(default)]
    #[schemars(schema_with = "default_payload_schema")]
    pub default_payload_json: Option<Value>,
    /// End-to-end encryption for the Bark app's "Encrypted push" setting:
    /// `{"algorithm": "aes-256-gcm", "key": "...", "iv": "..."?}` with the
    /// same algorithm, key (and IV, if fixed there) as in the app. The Bark
    /// server then only sees the device keys, `id`, `delete`, `ttl` and the
    /// ciphertext. Leave it out to push in clear.
    #[serde(default)]
    pub encryption: Option<EncryptionConfig>,
}

fn default_payload_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "Bark fields used when the template does not set them: a JSON object, or a string holding one.",
        "type": ["object", "string", "null"],
        "additionalProperties": true
    })
}

/// The device target resolved from a valid config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Devices {
    /// `device_key`
    One(String),
    /// `device_keys`
    Many(Vec<String>),
}

impl BarkConfig {
    /// Validate and return the device target.
    pub fn devices(&self) -> Result<Devices, ConfigError> {
        match (&self.device_key, &self.device_keys) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                "device_keys",
                "set either device_key or device_keys, not both",
            )),
            (None, None) => Err(ConfigError::new(
                "device_key",
                "one of device_key or device_keys is required",
            )),
            (Some(key), None) => {
                if key.trim().is_empty() {
                    Err(ConfigError::new("device_key", "must not be empty"))
                } else {
                    Ok(Devices::One(key.trim().to_owned()))
                }
            }
            (None, Some(keys)) => {
                if keys.is_empty() {
                    return Err(ConfigError::new(
                        "device_keys",
                        "must contain at least one device key",
                    ));
                }
                if let Some(i) = keys.iter().position(|k| k.trim().is_empty()) {
                    return Err(ConfigError::new(
                        format!("device_keys[{i}]"),
                        "must not be empty",
                    ));
                }
                Ok(Devices::Many(
                    keys.iter().map(|k| k.trim().to_owned()).collect(),
                ))
            }
        }
    }

    /// The defaults as an object (`{}` when unset).
    pub fn defaults(&self) -> Result<Map<String, Value>, ConfigError> {
        const FIELD: &str = "default_payload_json";
        match &self.default_payload_json {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(Map::new()),
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(ConfigError::new(FIELD, "must be a JSON object")),
                Err(e) => Err(ConfigError::new(FIELD, format!("is not valid JSON: {e}"))),
            },
            Some(_) => Err(ConfigError::new(
                FIELD,
                "must be a JSON object (or a string holding one)",
            )),
        }
    }

    /// `{server_base_url}/push`, without a doubled slash.
    pub fn push_url(&self) -> String {
        format!("{}/push", self.server_base_url.trim_end_matches('/'))
    }
}

/// Full config validation (what `validate-config` runs).
pub fn validate_config(config: &BarkConfig) -> Result<(), ConfigError> {
    check_http_url("server_base_url", &config.server_base_url)?;
    if config.server_base_url.contains('?') {
        return Err(ConfigError::new(
            "server_base_url",
            "must not contain a query string (/push is appended)",
        ));
    }
    config.devices()?;
    config.defaults()?;
    if let Some(encryption) = &config.encryption {
        encryption.validate()?;
    }
    Ok(())
}

/// Build the JSON object sent to `/push` (merge order in the crate docs).
pub fn build_payload(
    config: &BarkConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Map<String, Value>, SendError> {
    let mut payload = Template::parse(payload_json)?.into_map();

    for (key, value) in config.defaults()? {
        payload.entry(key).or_insert(value);
    }

    // The Bark server matches parameter names case-insensitively, so every
    // spelling of the device-key fields goes.
    payload.retain(|key, _| {
        !key.eq_ignore_ascii_case("device_key") && !key.eq_ignore_ascii_case("device_keys")
    });
    match config.devices()? {
        Devices::One(key) => {
            payload.insert("device_key".into(), Value::String(key));
        }
        Devices::Many(keys) => {
            payload.insert(
                "device_keys".into(),
                Value::Array(keys.into_iter().map(Value::String).collect()),
            );
        }
    }

    let unset = |value: Option<&Value>| value.is_none_or(is_unset);
    if unset(payload.get("body")) {
        payload.insert("body".into(), Value::String(message.body.clone()));
    }
    if unset(payload.get("title")) {
        if let Some(title) = message.title.as_ref().filter(|t| !t.is_empty()) {
            payload.insert("title".into(), Value::String(title.clone()));
        }
    }
    Ok(payload)
}

/// The JSON object actually posted: [`build_payload`], then sealed with a
/// fresh random IV (unless one is configured) when `encryption` is set.
pub fn build_push(
    config: &BarkConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Map<String, Value>, SendError> {
    let payload = build_payload(config, payload_json, message)?;
    match &config.encryption {
        None => Ok(payload),
        Some(encryption) => encryption::seal(encryption, payload, encryption::random_iv),
    }
}

/// Decide the result of a Bark response. Every error that comes from a
/// response carries its status, snippet and parsed JSON.
pub fn classify_response(
    status: u16,
    body: &[u8],
    retry_after_ms: Option<u64>,
    location: Option<&str>,
) -> Result<SendOutcome, SendError> {
    let outcome = beacon_plugin_sdk::http::Response::new(status, body.to_vec()).outcome();
    match classify_status(status) {
        StatusClass::Success => {}
        class => {
            let mut err = status_error(class, status, body, retry_after_ms);
            if let (Some(loc), SendError::Permanent(failure)) = (location, &mut err) {
                if (300..400).contains(&status) {
                    failure.message.push_str(&format!(
                        " (redirect to {loc}; set server_base_url to the final address)"
                    ));
                }
            }
            return Err(err);
        }
    }
    let json: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            let message = format!(
                "HTTP {status} but the response is not Bark JSON: {}",
                outcome
                    .response_snippet
                    .as_deref()
                    .unwrap_or("(empty body)")
            );
            return Err(SendError::permanent(message).with_outcome(outcome));
        }
    };
    let code = json.get("code").and_then(Value::as_i64);
    let text = json
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    match code {
        Some(200) => Ok(outcome),
        Some(code) => {
            let message = format!("Bark error code {code}: {text}");
            let err = match u16::try_from(code).map(classify_status) {
                Ok(StatusClass::Retryable) => {
                    SendError::retryable(message).with_retry_after_ms(retry_after_ms)
                }
                _ => SendError::permanent(message),
            };
            Err(err.with_outcome(outcome))
        }
        None => {
            let message = format!(
                "HTTP {status} but the response has no Bark \"code\": {}",
                outcome.response_snippet.as_deref().unwrap_or("")
            );
            Err(SendError::permanent(message).with_outcome(outcome))
        }
    }
}

/// The plugin.
pub struct Bark;

impl Channel for Bark {
    type Config = BarkConfig;
    const ID: &'static str = "bark";
    const NAME: &'static str = "Bark";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Push notifications to iPhones through a Bark server (API v2, POST /push).";

    fn validate(config: &BarkConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: BarkConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let payload = build_push(&config, payload_json, message)?;
        let devices = match payload.get("device_keys") {
            Some(Value::Array(keys)) => keys.len(),
            _ => 1,
        };
        // Debug only: the host already logs every attempt with its outcome.
        let encrypted = if config.encryption.is_some() {
            ", encrypted"
        } else {
            ""
        };
        debug!(
            "bark push for message {} to {devices} device(s){encrypted}",
            message.id
        );
        let response = Request::post(config.push_url())
            .header("content-type", "application/json; charset=utf-8")
            .header("accept", "application/json")
            .json(&payload)
            .send()?;
        classify_response(
            response.status,
            &response.body,
            response.retry_after_ms(),
            response.header("location"),
        )
    }
}

export_channel!(Bark);

#[cfg(test)]
mod tests;
