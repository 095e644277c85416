//! Installed plugins as users see them, and what operators do with them.

use std::sync::Arc;

use crate::error::{AppError, AppResult, OrInternal};
pub use crate::plugins::grants::Grants;
pub use crate::plugins::registry::ListedPlugin;
use crate::plugins::registry::{GrantsRefused, Registry};
use crate::plugins::runtime::{PluginError, PluginInfo};
use crate::storage::{PluginUseCounts, Store};

/// Largest component an operator may upload.
pub const MAX_PLUGIN_BYTES: usize = 32 * 1024 * 1024;

/// A plugin as listed, with how many channels and rules run each version.
pub struct PluginListing {
    pub plugin: ListedPlugin,
    /// In the order of `plugin.versions` (newest first).
    pub versions: Vec<VersionUse>,
}

pub struct VersionUse {
    pub version: String,
    pub channels: i64,
    pub rules: i64,
}

/// A channel, rule or ingest endpoint using a plugin.
pub struct PluginUse {
    /// `channel`, `rule` or `endpoint`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    /// The version it pins; `None` follows the newest.
    pub pinned_version: Option<String>,
    /// The version it runs now; `None` when that is not installed (broken).
    pub running_version: Option<String>,
}

fn count_kinds(used_by: &[PluginUse]) -> (usize, usize, usize) {
    let count = |kind: &str| used_by.iter().filter(|u| u.kind == kind).count();
    (count("channel"), count("rule"), count("endpoint"))
}

fn in_use(what: &str, used_by: &[PluginUse]) -> AppError {
    let (channels, rules, endpoints) = count_kinds(used_by);
    let message = if endpoints > 0 {
        format!("{what} reads the requests of {endpoints} ingest endpoint(s); remove with force=true to break them (their senders then get 422 adapter_unavailable)")
    } else {
        format!("{what} is used by {channels} channel(s) and {rules} rule(s); remove with force=true to break them")
    };
    AppError::Conflict {
        code: "plugin_in_use",
        message,
        field: None,
    }
}

#[derive(Clone)]
pub struct Plugins {
    registry: Arc<Registry>,
    store: Store,
}

impl Plugins {
    pub fn new(registry: Arc<Registry>, store: Store) -> Self {
        Plugins { registry, store }
    }

    /// Removes an installed plugin, every version. While channels or rules
    /// use it the removal is refused unless `force`d; forced, those channels
    /// show the plugin as missing and their deliveries wait with that error
    /// (retried, never dropped) until it is installed again.
    pub async fn remove(&self, id: &str, force: bool) -> AppResult<()> {
        let used_by = self.used_by(id, None).await?;
        if !used_by.is_empty() && !force {
            return Err(in_use(id, &used_by));
        }
        let (channels, rules, endpoints) = count_kinds(&used_by);
        let registry = self.registry.clone();
        let id_owned = id.to_string();
        let removed = tokio::task::spawn_blocking(move || registry.remove(&id_owned))
            .await
            .or_internal()?
            .map_err(refusal)?;
        if !removed {
            return Err(AppError::NotFound);
        }
        tracing::info!(plugin = %id, forced = force, channels, rules, endpoints, "plugin removed through the API");
        Ok(())
    }

    /// Removes one version. Refused unless `force`d while something would
    /// break: a channel or rule pinning it, or, for the only version, anything
    /// using the plugin. Followers of the newest move to the next newest (a
    /// rollback).
    pub async fn remove_version(&self, id: &str, version: &str, force: bool) -> AppResult<()> {
        let listed = self.registry.list();
        let plugin = listed
            .iter()
            .find(|p| p.info.id == id)
            .ok_or(AppError::NotFound)?;
        if plugin.builtin {
            return Err(refusal(PluginError::Builtin(format!(
                "{id} is a built-in plugin and cannot be removed"
            ))));
        }
        let only = plugin.versions.len() == 1;
        let broken: Vec<PluginUse> = self
            .used_by(id, None)
            .await?
            .into_iter()
            .filter(|u| {
                u.running_version.as_deref() == Some(version)
                    && (only || u.pinned_version.as_deref() == Some(version))
            })
            .collect();
        if !broken.is_empty() && !force {
            return Err(in_use(&format!("{id} {version}"), &broken));
        }
        let registry = self.registry.clone();
        let (id_owned, version_owned) = (id.to_string(), version.to_string());
        let removed =
            tokio::task::spawn_blocking(move || registry.remove_version(&id_owned, &version_owned))
                .await
                .or_internal()?
                .map_err(refusal)?;
        if !removed {
            return Err(AppError::NotFound);
        }
        tracing::info!(plugin = %id, version, forced = force, broken = broken.len(), "plugin version removed through the API");
        Ok(())
    }

    /// Built-in and operator-installed plugins, each version with how many
    /// channels and rules run it now, over `owner`'s (`None`: everyone's).
    pub async fn list(&self, owner: Option<&str>) -> AppResult<Vec<PluginListing>> {
        let counts = self.store.plugin_use_counts(owner).await?;
        Ok(self
            .registry
            .list()
            .into_iter()
            .map(|plugin| self.with_counts(plugin, &counts))
            .collect())
    }

    /// One plugin (as listed) and what uses it, over `owner`'s (`None`: everyone's).
    pub async fn get(
        &self,
        id: &str,
        owner: Option<&str>,
    ) -> AppResult<(PluginListing, Vec<PluginUse>)> {
        let plugin = self
            .registry
            .list()
            .into_iter()
            .find(|p| p.info.id == id)
            .ok_or(AppError::NotFound)?;
        let counts = self.store.plugin_use_counts(owner).await?;
        let used_by = self.used_by(id, owner).await?;
        Ok((self.with_counts(plugin, &counts), used_by))
    }

    /// Sets the operator's grants for a plugin (every version); in force
    /// for the next call in this process and, through the plugins
    /// directory, in the others at their next refresh.
    pub async fn set_grants(&self, id: &str, grants: Grants) -> AppResult<PluginListing> {
        let registry = self.registry.clone();
        let id_owned = id.to_string();
        let set = tokio::task::spawn_blocking(move || registry.set_grants(&id_owned, grants))
            .await
            .or_internal()?;
        match set {
            Ok(Some(grants)) => {
                tracing::info!(plugin = %id, ?grants, "plugin grants changed through the API");
            }
            Ok(None) => return Err(AppError::NotFound),
            Err(GrantsRefused::Invalid(err)) => {
                return Err(AppError::Unprocessable {
                    code: "invalid_grant",
                    message: err.message,
                    field: Some(err.field),
                })
            }
            Err(GrantsRefused::Storage(why)) => return Err(AppError::internal(why)),
        }
        Ok(self.get(id, None).await?.0)
    }

    fn with_counts(&self, plugin: ListedPlugin, counts: &PluginUseCounts) -> PluginListing {
        let id = plugin.info.id.clone();
        let running = |pinned: &Option<String>| {
            self.registry
                .resolve(&id, pinned.as_deref())
                .map(|p| p.info.version.clone())
        };
        let tally = |rows: &[(String, Option<String>, i64)], version: &str| {
            rows.iter()
                .filter(|(plugin, pinned, _)| {
                    *plugin == id && running(pinned).as_deref() == Some(version)
                })
                .map(|(_, _, count)| *count)
                .sum()
        };
        let versions = plugin
            .versions
            .iter()
            .map(|v| VersionUse {
                version: v.info.version.clone(),
                channels: tally(&counts.channels, &v.info.version),
                rules: tally(&counts.rules, &v.info.version),
            })
            .collect();
        PluginListing { plugin, versions }
    }

    /// The channels, rules and ingest endpoints using plugin `id`, with the
    /// version each pins and the one it runs now.
    async fn used_by(&self, id: &str, owner: Option<&str>) -> AppResult<Vec<PluginUse>> {
        let (channels, rules) = self.store.plugin_usage(id, owner).await?;
        let endpoints = self.store.endpoints_with_adapter(id, owner).await?;
        let running = |pinned: &Option<String>| {
            self.registry
                .resolve(id, pinned.as_deref())
                .map(|p| p.info.version.clone())
        };
        let mut used_by: Vec<PluginUse> = channels
            .into_iter()
            .map(|channel| PluginUse {
                kind: "channel",
                running_version: running(&channel.plugin_version),
                pinned_version: channel.plugin_version,
                id: channel.id,
                name: channel.name,
            })
            .collect();
        for rule in rules {
            let mut pins: Vec<Option<String>> = rule
                .extra_filters
                .iter()
                .filter(|f| f.plugin == id)
                .map(|f| f.version.clone())
                .collect();
            pins.dedup();
            for pinned in pins {
                used_by.push(PluginUse {
                    kind: "rule",
                    running_version: running(&pinned),
                    pinned_version: pinned,
                    id: rule.id.clone(),
                    name: rule.name.clone(),
                });
            }
        }
        for endpoint in endpoints {
            used_by.push(PluginUse {
                kind: "endpoint",
                running_version: running(&endpoint.adapter_version),
                pinned_version: endpoint.adapter_version,
                id: endpoint.id,
                name: endpoint.name,
            });
        }
        Ok(used_by)
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

/// A pinned version that is not installed, naming the field that pinned it.
pub fn unknown_version(field: &str, plugin_id: &str, version: &str) -> AppError {
    AppError::Unprocessable {
        code: "unknown_plugin_version",
        message: format!("{plugin_id} {version} is not installed"),
        field: Some(field.to_string()),
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
