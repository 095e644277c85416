//! The plugin exports as plain functions: what the export macros call, and
//! what your native tests can call to exercise a plugin exactly as the host
//! does (JSON text in, WIT-shaped results out).
//!
//! ```
//! # use beacon_plugin_sdk::{Filter, Message, harness};
//! # #[derive(serde::Deserialize, schemars::JsonSchema)]
//! # struct Config { min: u8 }
//! # struct F;
//! # impl Filter for F {
//! #     type Config = Config;
//! #     const ID: &'static str = "f"; const NAME: &'static str = "F";
//! #     const VERSION: &'static str = "0.1.0"; const DESCRIPTION: &'static str = "";
//! #     fn evaluate(c: &Config, m: &Message) -> Result<bool, String> { Ok(m.priority >= c.min) }
//! # }
//! assert_eq!(harness::filter_evaluate::<F>(r#"{"min": 2}"#, &Message::new("hi")), Ok(true));
//! let err = harness::filter_validate_config::<F>(r#"{"min": "x"}"#).unwrap_err();
//! assert_eq!(err.field, "min");
//! ```

use crate::adapter::{AdaptError, AdaptedMessage, InboundRequest};
use crate::config;
use crate::plugin::{Adapter, Channel, Filter};
use crate::types::{ConfigError, Message, PluginInfo, PluginKind, SendError, SendOutcome, Verdict};

/// `describe` for a channel: constants plus the derived config schema.
pub fn channel_describe<T: Channel>() -> PluginInfo {
    PluginInfo {
        id: T::ID.to_owned(),
        name: T::NAME.to_owned(),
        version: T::VERSION.to_owned(),
        kind: PluginKind::Channel,
        description: T::DESCRIPTION.to_owned(),
        config_schema: config::schema_json::<T::Config>(),
    }
}

/// `validate-config` for a channel: deserialize, then [`Channel::validate`].
pub fn channel_validate_config<T: Channel>(config_json: &str) -> Result<(), ConfigError> {
    config::parse_and_validate::<T::Config>(config_json, T::validate).map(|_| ())
}

/// `send` for a channel: a config that does not validate is a permanent
/// failure; otherwise [`Channel::send`].
pub fn channel_send<T: Channel>(
    config_json: &str,
    payload_json: &str,
    message: &Message,
) -> Result<SendOutcome, SendError> {
    let config = config::parse_and_validate::<T::Config>(config_json, T::validate)?;
    T::send(config, payload_json, message)
}

/// `describe` for a filter.
pub fn filter_describe<T: Filter>() -> PluginInfo {
    PluginInfo {
        id: T::ID.to_owned(),
        name: T::NAME.to_owned(),
        version: T::VERSION.to_owned(),
        kind: PluginKind::Filter,
        description: T::DESCRIPTION.to_owned(),
        config_schema: config::schema_json::<T::Config>(),
    }
}

/// `validate-config` for a filter.
pub fn filter_validate_config<T: Filter>(config_json: &str) -> Result<(), ConfigError> {
    config::parse_and_validate::<T::Config>(config_json, T::validate).map(|_| ())
}

/// `evaluate` for a filter: a config that does not parse is an error (the
/// rule does not match), otherwise [`Filter::evaluate`]. [`Filter::validate`]
/// is not run again here: the host validated the config when it was stored,
/// and evaluation is the hot path (one call per rule per message).
pub fn filter_evaluate<T: Filter>(config_json: &str, message: &Message) -> Result<bool, String> {
    filter_decide::<T>(config_json, message).map(|verdict| verdict.matched)
}

/// [`filter_evaluate`] with the whole [`Verdict`] (what the host receives):
/// [`Filter::decide`] on the parsed config.
pub fn filter_decide<T: Filter>(config_json: &str, message: &Message) -> Result<Verdict, String> {
    let config = config::parse::<T::Config>(config_json)
        .map_err(|e| format!("invalid filter config: {e}"))?;
    T::decide(&config, message)
}

/// `describe` for an adapter.
pub fn adapter_describe<T: Adapter>() -> PluginInfo {
    PluginInfo {
        id: T::ID.to_owned(),
        name: T::NAME.to_owned(),
        version: T::VERSION.to_owned(),
        kind: PluginKind::Adapter,
        description: T::DESCRIPTION.to_owned(),
        config_schema: config::schema_json::<T::Config>(),
    }
}

/// `validate-config` for an adapter.
pub fn adapter_validate_config<T: Adapter>(config_json: &str) -> Result<(), ConfigError> {
    config::parse_and_validate::<T::Config>(config_json, T::validate).map(|_| ())
}

/// `adapt`: a config that does not parse is [`AdaptError::Invalid`]
/// (the host validated it when it was saved), otherwise [`Adapter::adapt`].
pub fn adapter_adapt<T: Adapter>(
    config_json: &str,
    request: &InboundRequest,
) -> Result<Vec<AdaptedMessage>, AdaptError> {
    let config = config::parse::<T::Config>(config_json)
        .map_err(|e| AdaptError::Invalid(format!("invalid adapter config: {e}")))?;
    T::adapt(&config, request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Request, Response};
    use crate::testing;
    use schemars::JsonSchema;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    struct HookConfig {
        url: String,
        #[schemars(transform = crate::config::secret)]
        token: String,
    }

    struct Hook;
    impl Channel for Hook {
        type Config = HookConfig;
        const ID: &'static str = "hook";
        const NAME: &'static str = "Hook";
        const VERSION: &'static str = "1.2.3";
        const DESCRIPTION: &'static str = "test";
        fn validate(c: &HookConfig) -> Result<(), ConfigError> {
            if c.token.is_empty() {
                return Err(ConfigError::new("token", "must not be empty"));
            }
            Ok(())
        }
        fn send(c: HookConfig, payload: &str, _m: &Message) -> Result<SendOutcome, SendError> {
            crate::info!("to {}", c.url);
            Request::post(c.url).body(payload).send()?.into_outcome()
        }
    }

    #[test]
    fn channel_round_trip() {
        let info = channel_describe::<Hook>();
        assert_eq!(info.kind, PluginKind::Channel);
        assert_eq!(info.version, "1.2.3");
        let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
        assert_eq!(schema["properties"]["token"]["x-secret"], true);

        assert!(channel_validate_config::<Hook>(r#"{"url":"u","token":"t"}"#).is_ok());
        assert_eq!(
            channel_validate_config::<Hook>(r#"{"url":"u","token":""}"#)
                .unwrap_err()
                .field,
            "token"
        );

        testing::reset();
        testing::mock_fetch(|_| Ok(Response::new(500, b"boom".to_vec())));
        let e = channel_send::<Hook>(r#"{"url":"u","token":"t"}"#, "{}", &Message::new("b"))
            .unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(e.failure().http_status, Some(500));
        assert_eq!(e.failure().response_snippet.as_deref(), Some("boom"));
        assert!(testing::take_logs().iter().any(|(_, l)| l == "to u"));

        let e = channel_send::<Hook>(r#"{"url":"u"}"#, "{}", &Message::new("b")).unwrap_err();
        assert!(
            matches!(e, SendError::Permanent(ref f) if f.message.contains("token") && f.http_status.is_none()),
            "{e:?}"
        );
        testing::reset();
    }
}
