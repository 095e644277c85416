//! MQTT channel sender (built into Beacon Spear).
//!
//! Publishes one MQTT message per delivery through the host's
//! `mqtt-publish` capability (the host keeps a pooled connection per broker
//! and checks the broker's address against the outbound policy); this
//! plugin opens no connection itself.
//!
//! What the plugin hands the host ([`Publish`]): the channel's
//! `broker_url` (a trailing `/` removed), its `topic` — with the template's
//! `subtopic` appended after a `/` when set — the payload, the channel's
//! `qos` (default 1) and `retain` (default false), and the credentials when
//! set. No timeout is requested: the host's default applies.
//!
//! Payload (`payload_format`):
//!
//! - `json` (default): the rendered template as compact JSON (without its
//!   `subtopic` key); when the rule has no template (or only `subtopic`),
//!   the whole message as a JSON object ([`message_json`]);
//! - `text`: the template `text` (alias `body`), else the message body, as
//!   UTF-8.
//!
//! Outcome: success records `published to <topic> (qos N)`; errors map
//! through `From<MqttError> for SendError`: timeouts and connection
//! failures are retryable; a broker refused by the outbound policy, a
//! refused connection (credentials) and an invalid publish are permanent.

use beacon_plugin_sdk::config::secret;
use beacon_plugin_sdk::mqtt::{self, Publish};
use beacon_plugin_sdk::template::{bad, Template};
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Longest topic (configured topic plus subtopic), in bytes.
pub const MAX_TOPIC_BYTES: usize = 1024;

/// How the payload is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PayloadFormat {
    /// The rendered template, or the whole message, as compact JSON.
    #[default]
    Json,
    /// The template `text`/`body`, or the message body, as UTF-8 text.
    Text,
}

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Broker address: `mqtt://host[:port]` (port 1883 by default) or
    /// `mqtts://host[:port]` for TLS (port 8883 by default). No path, query
    /// or credentials in the URL. A broker on a private network needs the
    /// server's outbound allowlist.
    pub broker_url: String,
    /// Topic to publish to, e.g. `home/alerts` (1-1024 bytes, no `+` or `#`
    /// wildcards). A template `subtopic` is appended after a `/`.
    pub topic: String,
    /// Quality of service: 0 (at most once) or 1 (at least once, waits for
    /// the broker's acknowledgement). Default 1.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    pub qos: Option<u8>,
    /// Ask the broker to keep the message as the topic's last one, for
    /// clients that subscribe later. Default false.
    #[serde(default)]
    pub retain: Option<bool>,
    /// User name, when the broker wants credentials.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `username`.
    #[serde(default)]
    #[schemars(transform = secret)]
    pub password: Option<String>,
    /// `json` (default): the rendered template, or the whole message, as
    /// JSON. `text`: the template's `text`, or the message body, as plain
    /// text.
    #[serde(default)]
    pub payload_format: Option<PayloadFormat>,
}

/// `Some(trimmed)` for text with something in it.
fn nonblank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl MqttConfig {
    /// The QoS to publish with (default 1).
    pub fn qos(&self) -> u8 {
        self.qos.unwrap_or(1)
    }

    /// The payload format (default `json`).
    pub fn payload_format(&self) -> PayloadFormat {
        self.payload_format.unwrap_or_default()
    }

    /// The broker URL handed to the host: without a trailing `/`.
    pub fn broker(&self) -> &str {
        self.broker_url
            .strip_suffix('/')
            .unwrap_or(&self.broker_url)
    }
}

/// Why `url` is not a usable broker address, if it is not: it must be
/// `mqtt://host[:port]` or `mqtts://host[:port]` (a single trailing `/`
/// allowed), with a host name, IPv4 or bracketed IPv6 address, and a port
/// 1-65535 when given.
pub fn broker_url_problem(url: &str) -> Option<&'static str> {
    if url.is_empty() {
        return Some("must not be empty");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must not contain spaces or control characters");
    }
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("mqtt://") {
        &url[7..]
    } else if lower.starts_with("mqtts://") {
        &url[8..]
    } else {
        return Some("must start with mqtt:// or mqtts://");
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('@') {
        return Some("must not contain a user name or password (use `username` and `password`)");
    }
    if authority.contains(['/', '?', '#']) {
        return Some("must be mqtt://host[:port] or mqtts://host[:port], without a path or query");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, tail)) => match tail.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Some("has junk after the IPv6 address"),
            },
            None => return Some("has an unterminated IPv6 address"),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Some("must include a host name");
    }
    let bracketed = authority.starts_with('[');
    let host_ok = if bracketed {
        host.contains(':')
            && host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        host.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    if !host_ok {
        return Some("has an invalid host name");
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !valid {
            return Some("has an invalid port (1-65535)");
        }
    }
    None
}

/// Why `topic` cannot be published to, if it cannot: it must be 1-1024
/// bytes, without the wildcards `+` and `#`, NUL or other control
/// characters.
pub fn topic_problem(topic: &str) -> Option<&'static str> {
    if topic.is_empty() {
        return Some("must not be empty");
    }
    if topic.len() > MAX_TOPIC_BYTES {
        return Some("must be at most 1024 bytes");
    }
    if topic.contains(['+', '#']) {
        return Some("must not contain the wildcards + or #");
    }
    if topic.chars().any(char::is_control) {
        return Some("must not contain NUL or other control characters");
    }
    None
}

/// Full config validation (what `validate-config` runs).
pub fn validate_config(config: &MqttConfig) -> Result<(), ConfigError> {
    if let Some(why) = broker_url_problem(&config.broker_url) {
        return Err(ConfigError::new("broker_url", why));
    }
    if let Some(why) = topic_problem(&config.topic) {
        return Err(ConfigError::new("topic", why));
    }
    if config.qos.is_some_and(|qos| qos > 1) {
        return Err(ConfigError::new("qos", "must be 0 or 1"));
    }
    let has_password = config.password.as_deref().is_some_and(|p| !p.is_empty());
    match nonblank(&config.username) {
        None if has_password => {
            return Err(ConfigError::new(
                "password",
                "needs a username (set username too, or clear the password)",
            ))
        }
        Some(username) if username.chars().any(char::is_control) => {
            return Err(ConfigError::new(
                "username",
                "must not contain control characters",
            ))
        }
        _ => {}
    }
    Ok(())
}

/// The whole message as a JSON object: `id`, `received_at`, `title`,
/// `body`, `group`, `priority`, `tags`, `url` (absent values as `null`),
/// `extras` as an object (the first value of a repeated key wins) and
/// `endpoint` `{id, name}`.
pub fn message_json(message: &Message) -> Value {
    let mut extras = Map::new();
    for (key, value) in &message.extras {
        extras
            .entry(key.clone())
            .or_insert_with(|| Value::String(value.clone()));
    }
    json!({
        "id": message.id,
        "received_at": message.received_at,
        "title": message.title,
        "body": message.body,
        "group": message.group,
        "priority": message.priority,
        "tags": message.tags,
        "url": message.url,
        "extras": extras,
        "endpoint": {"id": message.endpoint_id, "name": message.endpoint_name},
    })
}

/// The topic and payload for one delivery (see the crate docs).
pub fn build_publish(
    config: &MqttConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Publish, SendError> {
    let mut template = Template::parse(payload_json)?;

    let topic = match template.take_text("subtopic")? {
        Some(subtopic) => {
            let subtopic = subtopic.trim();
            if let Some(why) = topic_problem(subtopic) {
                return Err(bad("subtopic", why));
            }
            let topic = format!("{}/{subtopic}", config.topic);
            if topic.len() > MAX_TOPIC_BYTES {
                return Err(bad("subtopic", "makes the topic longer than 1024 bytes"));
            }
            topic
        }
        None => config.topic.clone(),
    };

    let payload = match config.payload_format() {
        PayloadFormat::Json if template.is_empty() => message_json(message).to_string(),
        PayloadFormat::Json => Value::Object(template.into_map()).to_string(),
        PayloadFormat::Text => match template.text("text")? {
            Some(text) => text,
            None => template
                .text("body")?
                .unwrap_or_else(|| message.body.clone()),
        },
    };

    Ok(Publish {
        broker_url: config.broker().to_owned(),
        topic,
        payload: payload.into_bytes(),
        qos: config.qos(),
        retain: config.retain.unwrap_or(false),
        username: nonblank(&config.username).map(str::to_owned),
        password: if nonblank(&config.username).is_some() {
            config.password.clone().filter(|p| !p.is_empty())
        } else {
            None
        },
        timeout_ms: None,
    })
}

/// The outcome recorded for a publish.
pub fn outcome(publish: &Publish) -> SendOutcome {
    SendOutcome {
        http_status: None,
        response_snippet: Some(format!(
            "published to {} (qos {})",
            publish.topic, publish.qos
        )),
        response_json: None,
    }
}

/// The plugin.
pub struct Mqtt;

impl Channel for Mqtt {
    type Config = MqttConfig;
    const ID: &'static str = "mqtt";
    const NAME: &'static str = "MQTT";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Publish each message to an MQTT broker topic, as JSON or plain text.";

    fn validate(config: &MqttConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: MqttConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let publish = build_publish(&config, payload_json, message)?;
        // Debug only: the host already logs every attempt with its outcome.
        debug!("mqtt publish for message {}", message.id);
        mqtt::publish(&publish)?;
        Ok(outcome(&publish))
    }
}

export_channel!(Mqtt);

#[cfg(test)]
mod tests;
