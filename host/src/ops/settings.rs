//! The configuration of `backup`, `restore` and `migrate status`: the same
//! variables as every command, except that these never generate the keys a
//! first start writes into the data directory (a restore must find the
//! directory as the operator left it, and a backup must say where the keys
//! it found came from).

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::config::Config;

/// A key the data depends on: its file in the data directory and the
/// variable that replaces that file when set.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub file: &'static str,
    pub variable: &'static str,
    /// What is lost without it.
    pub protects: &'static str,
}

pub const KEYS: [KeySpec; 2] = [
    KeySpec {
        file: "channel_config_key",
        variable: "CHANNEL_CONFIG_ENCRYPTION_KEY",
        protects: "every channel's config (sealed with it)",
    },
    KeySpec {
        file: "jwt_signing_key",
        variable: "JWT_SIGNING_KEY",
        protects: "sessions (without it everyone logs in again)",
    },
];

// Stand-ins that keep `Config::from_lookup` from generating key files; they
// are never used to sign or seal anything.
const PLACEHOLDER_JWT: &str = "placeholder-for-operations-never-used-0000";
const PLACEHOLDER_CHANNEL: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

pub struct OpsSettings {
    pub config: Config,
    /// The key variables the operator set, by variable name (values kept
    /// only to compare them with a backup's key files; never printed).
    set_keys: Vec<(&'static str, String)>,
}

impl OpsSettings {
    /// Reads the environment (and `.env`) like every command, without
    /// generating keys.
    pub fn from_env() -> anyhow::Result<Self> {
        if let Err(err) = dotenvy::dotenv() {
            if !err.not_found() {
                bail!("configuration error: .env could not be read: {err}");
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let set_keys: Vec<(&'static str, String)> = KEYS
            .iter()
            .filter_map(|key| {
                lookup(key.variable)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .map(|v| (key.variable, v))
            })
            .collect();
        let is_set = |name: &str| set_keys.iter().any(|(n, _)| *n == name);
        let config = Config::from_lookup(|name| match name {
            "JWT_SIGNING_KEY" if !is_set(name) => Some(PLACEHOLDER_JWT.into()),
            "CHANNEL_CONFIG_ENCRYPTION_KEY" if !is_set(name) => Some(PLACEHOLDER_CHANNEL.into()),
            _ => lookup(name),
        })
        .map_err(|err| anyhow::anyhow!("configuration error: {err}"))?;
        Ok(OpsSettings { config, set_keys })
    }

    /// The value the operator set for a key variable, if any.
    pub fn key_from_env(&self, key: &KeySpec) -> Option<&str> {
        self.set_keys
            .iter()
            .find(|(name, _)| *name == key.variable)
            .map(|(_, value)| value.as_str())
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    pub fn key_path(&self, key: &KeySpec) -> PathBuf {
        self.config.data_dir.join(key.file)
    }
}
