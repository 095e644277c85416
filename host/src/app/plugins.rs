//! Installed plugins as users see them, and what operators do with them.

use std::sync::Arc;

use crate::error::{AppError, AppResult, OrInternal};
use crate::plugins::registry::{ListedPlugin, Registry};
use crate::plugins::runtime::{PluginError, PluginInfo};
use crate::storage::Store;

/// Largest component an operator may upload.
pub const MAX_PLUGIN_BYTES: usize = 32 * 1024 * 1024;

#[derive(Clone)]
pub struct Plugins {
    registry: Arc<Registry>,
    store: Store,
}

impl Plugins {
    pub fn new(registry: Arc<Registry>, store: Store) -> Self {
        Plugins { registry, store }
    }

    /// Removes an installed plugin. While channels or rules use it the
    /// removal is refused unless `force`d; forced, those channels show the
    /// plugin as missing and their deliveries wait with that error (retried,
    /// never dropped) until it is installed again.
    pub async fn remove(&self, id: &str, force: bool) -> AppResult<()> {
        let (channels, rules) = self.store.plugin_users(id).await?;
        if (channels > 0 || rules > 0) && !force {
            return Err(AppError::Conflict {
                code: "plugin_in_use",
                message: format!(
                    "{id} is used by {channels} channel(s) and {rules} rule(s); remove with force=true to break them"
                ),
                field: None,
            });
        }
        let registry = self.registry.clone();
        let id_owned = id.to_string();
        let removed = tokio::task::spawn_blocking(move || registry.remove(&id_owned))
            .await
            .or_internal()?
            .map_err(refusal)?;
        if !removed {
            return Err(AppError::NotFound);
        }
        tracing::info!(plugin = %id, forced = force, channels, rules, "plugin removed through the API");
        Ok(())
    }

    /// Built-in and operator-installed plugins.
    pub fn list(&self) -> Vec<ListedPlugin> {
        self.registry.list()
    }

    /// Checks a component exactly like `beacon plugin install` and installs
    /// it (an upgrade when an older version of the id is installed). Each
    /// refusal answers its own code, naming the `file` field.
    pub async fn install(&self, bytes: Vec<u8>) -> AppResult<PluginInfo> {
        if bytes.len() > MAX_PLUGIN_BYTES {
            return Err(AppError::PayloadTooLarge {
                limit: MAX_PLUGIN_BYTES,
            });
        }
        let registry = self.registry.clone();
        // Compiling and describing a component runs plugin code: off the async threads.
        let installed = tokio::task::spawn_blocking(move || registry.install(&bytes))
            .await
            .or_internal()?;
        let info = installed.map_err(refusal)?;
        tracing::info!(plugin = %info.id, version = %info.version, "plugin installed through the API");
        Ok(info)
    }
}

/// One code per reason a component is refused.
fn refusal(err: PluginError) -> AppError {
    let unprocessable = |code: &'static str, err: PluginError| AppError::Unprocessable {
        code,
        message: err.to_string(),
        field: Some("file".into()),
    };
    match err {
        PluginError::NotAComponent(_) => unprocessable("not_a_component", err),
        PluginError::WrongWorld(_) => unprocessable("wrong_world", err),
        PluginError::UnsupportedVersion(_) => unprocessable("unsupported_wit_version", err),
        PluginError::NotGranted(_) => unprocessable("capability_not_granted", err),
        PluginError::Builtin(_) => AppError::Conflict {
            code: "builtin_plugin",
            message: err.to_string(),
            field: Some("file".into()),
        },
        PluginError::Duplicate(_) => AppError::Conflict {
            code: "plugin_version_exists",
            message: err.to_string(),
            field: Some("file".into()),
        },
        PluginError::Refused(_)
        | PluginError::Trap(_)
        | PluginError::Timeout(_)
        | PluginError::MemoryLimit => unprocessable("plugin_refused", err),
        PluginError::Runtime(_) => AppError::internal(err.to_string()),
    }
}
