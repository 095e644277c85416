//! Channels (SPEC §7): a user's named destination, a channel plugin plus its config.

/// A stored channel; its config stays sealed (see [`super::config_cipher`])
/// until a use case or the worker opens it.
#[derive(Clone, Debug, PartialEq)]
pub struct Channel {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub plugin: String,
    /// The pinned plugin version; `None` follows the newest installed.
    pub plugin_version: Option<String>,
    pub sealed_config: String,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}
