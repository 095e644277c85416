//! The installed plugins: the built-ins embedded in the binary plus every
//! `.wasm` in the plugins directory, by id. Installing a new version swaps the
//! entry atomically; calls already running keep their `Arc` to the old one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::runtime::{LoadedPlugin, PluginError, PluginInfo, Runtime};

/// Built-in plugins, compiled from plugins/ by build.rs.
pub const BUILTINS: [&[u8]; 13] = [
    include_bytes!(env!("BEACON_BUILTIN_BARK")),
    include_bytes!(env!("BEACON_BUILTIN_STANDARD_FILTER")),
    include_bytes!(env!("BEACON_BUILTIN_NTFY")),
    include_bytes!(env!("BEACON_BUILTIN_GOTIFY")),
    include_bytes!(env!("BEACON_BUILTIN_WEBHOOK")),
    include_bytes!(env!("BEACON_BUILTIN_SLACK")),
    include_bytes!(env!("BEACON_BUILTIN_DISCORD")),
    include_bytes!(env!("BEACON_BUILTIN_TELEGRAM")),
    include_bytes!(env!("BEACON_BUILTIN_QUIET_HOURS")),
    include_bytes!(env!("BEACON_BUILTIN_DEDUPE")),
    include_bytes!(env!("BEACON_BUILTIN_RATE_LIMIT")),
    include_bytes!(env!("BEACON_BUILTIN_EMAIL")),
    include_bytes!(env!("BEACON_BUILTIN_MQTT")),
];

#[derive(Clone, Debug, serde::Serialize)]
pub struct ListedPlugin {
    #[serde(flatten)]
    pub info: PluginInfo,
    pub builtin: bool,
    pub sha256: String,
}

pub struct Registry {
    runtime: Runtime,
    dir: PathBuf,
    plugins: RwLock<HashMap<String, (Arc<LoadedPlugin>, bool)>>,
}

impl Registry {
    /// Loads the built-ins and the plugins directory. A broken file in the
    /// directory is logged and skipped, never fatal; a broken built-in is.
    pub fn load(runtime: Runtime, dir: PathBuf) -> Result<Self, PluginError> {
        let registry = Registry {
            runtime,
            dir,
            plugins: RwLock::default(),
        };
        for bytes in BUILTINS {
            let plugin = registry.runtime.load(bytes)?;
            registry.insert(plugin, true);
        }
        for path in wasm_files(&registry.dir) {
            match std::fs::read(&path)
                .map_err(|err| PluginError::Runtime(err.to_string()))
                .and_then(|bytes| registry.runtime.load(&bytes))
            {
                Ok(plugin) => {
                    tracing::info!(plugin = %plugin.info.id, version = %plugin.info.version, file = %path.display(), "plugin loaded");
                    registry.insert(plugin, false);
                }
                Err(err) => tracing::error!(file = %path.display(), error = %err, "plugin skipped"),
            }
        }
        Ok(registry)
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    fn insert(&self, plugin: LoadedPlugin, builtin: bool) {
        if let Ok(mut plugins) = self.plugins.write() {
            plugins.insert(plugin.info.id.clone(), (Arc::new(plugin), builtin));
        }
    }

    pub fn get(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.plugins
            .read()
            .ok()?
            .get(id)
            .map(|(plugin, _)| plugin.clone())
    }

    pub fn list(&self) -> Vec<ListedPlugin> {
        let mut list: Vec<ListedPlugin> = self
            .plugins
            .read()
            .map(|plugins| {
                plugins
                    .values()
                    .map(|(p, builtin)| ListedPlugin {
                        info: p.info.clone(),
                        builtin: *builtin,
                        sha256: p.sha256.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        list.sort_by(|a, b| a.info.id.cmp(&b.info.id));
        list
    }

    /// Brings the registry in line with the plugins directory: new or changed
    /// files are loaded (a changed file swaps in atomically; calls already
    /// running finish on the version they hold), deleted files are dropped. A
    /// broken file is logged and the previous version stays. Returns how many
    /// plugins changed. Blocks (compiles): call from a blocking thread.
    pub fn refresh(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut changed = 0;
        for path in wasm_files(&self.dir) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            let current = self.plugins.read().ok().and_then(|p| {
                p.values()
                    .find(|(plugin, builtin)| !builtin && plugin.sha256 == sha256)
                    .map(|(plugin, _)| plugin.info.id.clone())
            });
            if let Some(id) = current {
                seen.insert(id);
                continue;
            }
            match self.runtime.load(&bytes) {
                Ok(plugin) if self.is_builtin(&plugin.info.id) => {
                    tracing::error!(file = %path.display(), plugin = %plugin.info.id, "plugin file ignored: it would replace a built-in");
                }
                Ok(plugin) => {
                    tracing::info!(plugin = %plugin.info.id, version = %plugin.info.version, file = %path.display(), "plugin loaded");
                    seen.insert(plugin.info.id.clone());
                    self.insert(plugin, false);
                    changed += 1;
                }
                Err(err) => {
                    tracing::error!(file = %path.display(), error = %err, "plugin file skipped")
                }
            }
        }
        if let Ok(mut plugins) = self.plugins.write() {
            let before = plugins.len();
            plugins.retain(|id, (_, builtin)| *builtin || seen.contains(id));
            changed += before - plugins.len();
        }
        changed
    }

    fn is_builtin(&self, id: &str) -> bool {
        self.plugins
            .read()
            .ok()
            .and_then(|p| p.get(id).map(|(_, builtin)| *builtin))
            .unwrap_or(false)
    }

    /// Re-reads the plugins directory every `every`, so `beacon plugin
    /// install` and `remove` reach running servers and workers.
    pub fn watch(self: &Arc<Self>, every: std::time::Duration) {
        let registry = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(registry) = registry.upgrade() else {
                    break;
                };
                let _ = tokio::task::spawn_blocking(move || registry.refresh()).await;
            }
        });
    }

    /// Checks and installs a component file into the plugins directory (and
    /// this registry), replacing an older version of the same id. Built-in
    /// ids cannot be replaced, and the version installed now cannot be
    /// installed again (bump the version to upgrade).
    pub fn install(&self, bytes: &[u8]) -> Result<PluginInfo, PluginError> {
        let plugin = self.runtime.load(bytes)?;
        let info = plugin.info.clone();
        let installed = self.plugins.read().ok().and_then(|p| {
            p.get(&info.id).map(|(loaded, builtin)| {
                (loaded.info.version.clone(), loaded.sha256.clone(), *builtin)
            })
        });
        match installed {
            Some((_, _, true)) => {
                return Err(PluginError::Builtin(format!(
                    "{} is a built-in plugin and cannot be replaced",
                    info.id
                )))
            }
            Some((version, sha256, false)) if version == info.version && sha256 != plugin.sha256 => {
                return Err(PluginError::Duplicate(format!(
                    "{} {} is already installed with other contents; bump the plugin's version to upgrade",
                    info.id, info.version
                )))
            }
            _ => {}
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|err| PluginError::Runtime(format!("{}: {err}", self.dir.display())))?;
        let path = self.dir.join(format!("{}.wasm", info.id));
        let temporary = self.dir.join(format!(".{}.wasm.tmp", info.id));
        std::fs::write(&temporary, bytes)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|err| PluginError::Runtime(format!("{}: {err}", path.display())))?;
        self.insert(plugin, false);
        Ok(info)
    }

    /// Removes an installed (non-built-in) plugin; false if there was none.
    pub fn remove(&self, id: &str) -> Result<bool, PluginError> {
        let Ok(mut plugins) = self.plugins.write() else {
            return Ok(false);
        };
        match plugins.get(id) {
            Some((_, true)) => {
                return Err(PluginError::Builtin(format!(
                    "{id} is a built-in plugin and cannot be removed"
                )))
            }
            Some(_) => {
                plugins.remove(id);
            }
            None => return Ok(false),
        }
        let path = self.dir.join(format!("{id}.wasm"));
        if path.exists() {
            std::fs::remove_file(&path)
                .map_err(|err| PluginError::Runtime(format!("{}: {err}", path.display())))?;
        }
        Ok(true)
    }
}

fn wasm_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
