//! The three traits a plugin implements, re-exported at the crate root.
//!
//! Defined here rather than in `lib.rs` so `harness` and `bindings` can name
//! them without importing from the root, which re-exports `bindings` (as
//! `__bindings`) for the export macros.

use crate::adapter::{AdaptError, AdaptedMessage, InboundRequest};
use crate::types::{ConfigError, Message, SendError, SendOutcome, Verdict};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// A channel sender plugin (WIT world `channel-sender`).
///
/// Every call runs in a fresh instance, so keep no state between calls in
/// memory; what must outlive a call goes to [`kv`](crate::kv) (the channel's
/// bucket during `send`).
pub trait Channel {
    /// The channel config, deserialized from the JSON the user stored.
    /// Mark secret fields with [`config::secret`](crate::config::secret).
    type Config: DeserializeOwned + JsonSchema;
    /// Stable plugin id (`[a-z0-9-]+`), e.g. `"bark"`.
    const ID: &'static str;
    /// Display name.
    const NAME: &'static str;
    /// Semver version of the plugin, usually `env!("CARGO_PKG_VERSION")`.
    const VERSION: &'static str;
    /// One or two sentences for the dashboard.
    const DESCRIPTION: &'static str;

    /// Checks beyond what deserialization enforces (URL shapes, non-empty
    /// lists, …). Return a [`ConfigError`] naming the field. Runs in
    /// `validate-config` and again before every `send`.
    fn validate(config: &Self::Config) -> Result<(), ConfigError> {
        let _ = config;
        Ok(())
    }

    /// Deliver one message. `payload_json` is the rule's payload template
    /// rendered for `message`.
    fn send(
        config: Self::Config,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError>;
}

/// A rule filter plugin (WIT world `filter`). Filters have no network.
///
/// The host evaluates all of one message's rules that use this filter in one
/// call on one instance (the SDK calls [`Filter::decide`] once per rule), and
/// may reuse the instance, so keep nothing in memory between calls. A
/// stateful filter keeps its state in [`kv`](crate::kv): during each rule's
/// evaluation those calls reach that rule's bucket.
pub trait Filter {
    /// The filter config (the rule's filter JSON).
    type Config: DeserializeOwned + JsonSchema;
    /// Stable plugin id (`[a-z0-9-]+`).
    const ID: &'static str;
    /// Display name.
    const NAME: &'static str;
    /// Semver version of the plugin.
    const VERSION: &'static str;
    /// One or two sentences for the dashboard.
    const DESCRIPTION: &'static str;

    /// Checks beyond deserialization; runs in `validate-config` (when a rule
    /// is saved), not before every `evaluate`, which must itself return an
    /// error for a config it cannot use.
    fn validate(config: &Self::Config) -> Result<(), ConfigError> {
        let _ = config;
        Ok(())
    }

    /// `Ok(true)` when `message` passes. `Err` means "could not decide";
    /// the host treats the rule as not matched and shows the error.
    fn evaluate(config: &Self::Config, message: &Message) -> Result<bool, String>;

    /// The full decision: [`Filter::evaluate`] by default. Override it to
    /// say why a message did not pass ([`Verdict::block`]), e.g. which
    /// earlier message it duplicates; the user sees the note beside the
    /// message. The host calls this one.
    fn decide(config: &Self::Config, message: &Message) -> Result<Verdict, String> {
        Self::evaluate(config, message).map(Verdict::from)
    }
}

/// An ingest adapter plugin (WIT world `adapter`): turns one inbound webhook
/// request into zero or more messages. It runs before anything is stored,
/// with no network and no state; the host answers the sender 422 for
/// [`AdaptError::Invalid`] and 401 for [`AdaptError::Unauthorized`].
pub trait Adapter {
    /// The endpoint's adapter config. Mark secrets (a webhook signing
    /// secret) with [`config::secret`](crate::config::secret).
    type Config: DeserializeOwned + JsonSchema;
    /// Stable plugin id (`[a-z0-9-]+`).
    const ID: &'static str;
    /// Display name.
    const NAME: &'static str;
    /// Semver version of the plugin.
    const VERSION: &'static str;
    /// One or two sentences for the dashboard.
    const DESCRIPTION: &'static str;

    /// Checks beyond deserialization; runs when an endpoint's config is saved.
    fn validate(config: &Self::Config) -> Result<(), ConfigError> {
        let _ = config;
        Ok(())
    }

    /// The messages this request becomes (empty: store nothing, answer success).
    fn adapt(
        config: &Self::Config,
        request: &InboundRequest,
    ) -> Result<Vec<AdaptedMessage>, AdaptError>;
}
