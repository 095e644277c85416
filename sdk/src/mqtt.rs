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

use crate::types::SendError;
pub use crate::values::{MqttError, Publish};

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
