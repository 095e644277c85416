//! MQTT publishing over connections the host pools per broker (the
//! `mqtt-publish` capability; channel senders only). The broker's address
//! passes the same outbound policy as HTTP: a broker on a private network
//! needs the operator's allowlist.
//!
//! ```
//! use beacon_plugin_sdk::mqtt::{self, Publish};
//! use beacon_plugin_sdk::testing;
//!
//! testing::mock_mqtt(|_| Ok(()));
//! mqtt::publish(&Publish::new("mqtt://broker.lan:1883", "home/alerts", b"door open".to_vec())).unwrap();
//! assert_eq!(testing::published()[0].topic, "home/alerts");
//! testing::reset();
//! ```

use std::fmt;

use crate::types::SendError;

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

impl From<MqttError> for SendError {
    /// Timeouts and connection failures are retryable; the rest permanent.
    fn from(err: MqttError) -> Self {
        match err {
            MqttError::Timeout | MqttError::Connection(_) => SendError::retryable(err.to_string()),
            _ => SendError::permanent(err.to_string()),
        }
    }
}

/// Publishes one message through the host.
pub fn publish(message: &Publish) -> Result<(), MqttError> {
    crate::host::publish(message)
}
