//! The installed plugins: the built-ins embedded in the binary plus every
//! `.wasm` in the plugins directory, by id and version. Versions of one id
//! sit side by side (`{id}@{version}.wasm`); a channel or rule pins one or
//! follows the newest, so installing a newer version is an atomic upgrade
//! for followers and removing it a rollback. Calls already running keep
//! their `Arc` to the version they started with.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::grants::{grants_path, read_grants, write_grants, GrantError, Grants};
use super::runtime::{EffectiveLimits, LoadedPlugin, PluginError, PluginInfo, Runtime};

/// Built-in plugins, compiled from plugins/ by build.rs.
pub const BUILTINS: [&[u8]; 16] = [
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
    include_bytes!(env!("BEACON_BUILTIN_ALERTMANAGER")),
    include_bytes!(env!("BEACON_BUILTIN_GITHUB")),
    include_bytes!(env!("BEACON_BUILTIN_JSON_MAP")),
];

/// One installed version of a plugin, as listed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ListedVersion {
    #[serde(flatten)]
    pub info: PluginInfo,
    pub sha256: String,
    pub size_bytes: usize,
}

/// A plugin id with every installed version (newest first), its grants and
/// the limits it runs under.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ListedPlugin {
    /// The newest version's description.
    #[serde(flatten)]
    pub info: PluginInfo,
    pub builtin: bool,
    pub sha256: String,
    pub versions: Vec<ListedVersion>,
    pub grants: Grants,
    pub limits: EffectiveLimits,
}

struct Installed {
    plugin: Arc<LoadedPlugin>,
    /// The component's file in the plugins directory (`None`: built in).
    file: Option<PathBuf>,
}

struct Entry {
    builtin: bool,
    /// Newest first.
    versions: Vec<Installed>,
    grants: Arc<Grants>,
}

impl Entry {
    fn newest(&self) -> Option<&Arc<LoadedPlugin>> {
        self.versions.first().map(|installed| &installed.plugin)
    }

    fn version(&self, version: &str) -> Option<&Installed> {
        self.versions
            .iter()
            .find(|installed| installed.plugin.info.version == version)
    }
}

/// Newest first by semver (every installed version is semver; anything
/// else sorts last).
fn newest_first(a: &Installed, b: &Installed) -> std::cmp::Ordering {
    let parse = |i: &Installed| semver::Version::parse(&i.plugin.info.version).ok();
    parse(b).cmp(&parse(a))
}

pub struct Registry {
    runtime: Runtime,
    dir: PathBuf,
    plugins: RwLock<HashMap<String, Entry>>,
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
            registry.insert(plugin, None);
        }
        registry.refresh();
        Ok(registry)
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Entry>> {
        self.plugins
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry>> {
        self.plugins
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a version (replacing the same version), under the id's grants.
    fn insert(&self, plugin: LoadedPlugin, file: Option<PathBuf>) {
        let builtin = file.is_none();
        let id = plugin.info.id.clone();
        let mut plugins = self.write();
        let entry = plugins.entry(id.clone()).or_insert_with(|| Entry {
            builtin,
            versions: Vec::new(),
            grants: Arc::new(self.stored_grants(&id).unwrap_or_default()),
        });
        if let Err(err) = self.runtime.grant(&plugin, entry.grants.clone()) {
            tracing::error!(plugin = %id, error = %err, "grants not applied");
        }
        entry
            .versions
            .retain(|installed| installed.plugin.info.version != plugin.info.version);
        entry.versions.push(Installed {
            plugin: Arc::new(plugin),
            file,
        });
        entry.versions.sort_by(newest_first);
    }

    fn stored_grants(&self, id: &str) -> Option<Grants> {
        match read_grants(&self.dir, id) {
            Ok(grants) => Some(grants),
            Err(err) => {
                tracing::error!(plugin = %id, error = %err, "plugin grants unreadable; keeping the previous ones");
                None
            }
        }
    }

    /// The newest installed version of `id`.
    pub fn get(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.read().get(id)?.newest().cloned()
    }

    /// `version` of `id`, or the newest when `None` (a channel or rule that
    /// follows upgrades).
    pub fn resolve(&self, id: &str, version: Option<&str>) -> Option<Arc<LoadedPlugin>> {
        let plugins = self.read();
        let entry = plugins.get(id)?;
        match version {
            Some(version) => entry.version(version).map(|i| i.plugin.clone()),
            None => entry.newest().cloned(),
        }
    }

    pub fn list(&self) -> Vec<ListedPlugin> {
        let mut list: Vec<ListedPlugin> = self
            .read()
            .values()
            .filter_map(|entry| {
                let newest = entry.newest()?;
                Some(ListedPlugin {
                    info: newest.info.clone(),
                    builtin: entry.builtin,
                    sha256: newest.sha256.clone(),
                    versions: entry
                        .versions
                        .iter()
                        .map(|installed| ListedVersion {
                            info: installed.plugin.info.clone(),
                            sha256: installed.plugin.sha256.clone(),
                            size_bytes: installed.plugin.size_bytes,
                        })
                        .collect(),
                    grants: (*entry.grants).clone(),
                    limits: self.runtime.limits_of(newest),
                })
            })
            .collect();
        list.sort_by(|a, b| a.info.id.cmp(&b.info.id));
        list
    }

    /// Brings the registry in line with the plugins directory: new files
    /// are loaded (a new version sits beside the others; a changed file
    /// swaps in atomically, calls already running finish on the version
    /// they hold), versions whose file is gone are dropped, and changed
    /// grants files put their grants in force. A broken file is logged and
    /// skipped. Returns how many versions changed. Blocks (compiles): call
    /// from a blocking thread.
    pub fn refresh(&self) -> usize {
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut changed = 0;
        for path in wasm_files(&self.dir) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            if let Some(key) = self.installed_with(&sha256) {
                seen.insert(key);
                continue;
            }
            match self.runtime.load(&bytes) {
                Ok(plugin) if self.is_builtin(&plugin.info.id) => {
                    tracing::error!(file = %path.display(), plugin = %plugin.info.id, "plugin file ignored: it would replace a built-in");
                }
                Ok(plugin) => {
                    tracing::info!(plugin = %plugin.info.id, version = %plugin.info.version, file = %path.display(), "plugin loaded");
                    seen.insert((plugin.info.id.clone(), plugin.info.version.clone()));
                    self.insert(plugin, Some(path));
                    changed += 1;
                }
                Err(err) => {
                    tracing::error!(file = %path.display(), error = %err, "plugin file skipped")
                }
            }
        }
        let mut plugins = self.write();
        for (id, entry) in plugins.iter_mut().filter(|(_, entry)| !entry.builtin) {
            let before = entry.versions.len();
            entry
                .versions
                .retain(|i| seen.contains(&(id.clone(), i.plugin.info.version.clone())));
            changed += before - entry.versions.len();
        }
        plugins.retain(|_, entry| !entry.versions.is_empty());
        for (id, entry) in plugins.iter_mut() {
            if let Some(grants) = self.stored_grants(id) {
                if grants != *entry.grants {
                    tracing::info!(plugin = %id, "plugin grants changed");
                    self.put_in_force(entry, Arc::new(grants));
                }
            }
        }
        changed
    }

    /// (id, version) of the installed (non-built-in) version with this file hash.
    fn installed_with(&self, sha256: &str) -> Option<(String, String)> {
        self.read().iter().find_map(|(id, entry)| {
            entry
                .versions
                .iter()
                .find(|i| i.file.is_some() && i.plugin.sha256 == sha256)
                .map(|i| (id.clone(), i.plugin.info.version.clone()))
        })
    }

    fn put_in_force(&self, entry: &mut Entry, grants: Arc<Grants>) {
        for installed in &entry.versions {
            if let Err(err) = self.runtime.grant(&installed.plugin, grants.clone()) {
                tracing::error!(plugin = %installed.plugin.info.id, error = %err, "grants not applied");
            }
        }
        entry.grants = grants;
    }

    fn is_builtin(&self, id: &str) -> bool {
        self.read().get(id).is_some_and(|entry| entry.builtin)
    }

    /// Re-reads the plugins directory every `every`, so `beacon plugin
    /// install` and `remove`, uploads and grants reach running servers and
    /// workers.
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
    /// this registry) beside the versions already there: channels and rules
    /// following the newest move to it when it is the newest. Built-in ids
    /// cannot be replaced; an installed id+version can be installed again
    /// only with the same contents (then nothing changes).
    pub fn install(&self, bytes: &[u8]) -> Result<PluginInfo, PluginError> {
        let plugin = self.runtime.load(bytes)?;
        let info = plugin.info.clone();
        {
            let plugins = self.read();
            if let Some(entry) = plugins.get(&info.id) {
                if entry.builtin {
                    return Err(PluginError::Builtin(format!(
                        "{} is a built-in plugin and cannot be replaced",
                        info.id
                    )));
                }
                if let Some(installed) = entry.version(&info.version) {
                    if installed.plugin.sha256 == plugin.sha256 {
                        return Ok(info);
                    }
                    return Err(PluginError::Duplicate(format!(
                        "{} {} is already installed with other contents; bump the plugin's version to upgrade",
                        info.id, info.version
                    )));
                }
            }
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|err| PluginError::Runtime(format!("{}: {err}", self.dir.display())))?;
        let name = format!("{}@{}.wasm", info.id, info.version);
        let path = self.dir.join(&name);
        let temporary = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&temporary, bytes)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|err| PluginError::Runtime(format!("{}: {err}", path.display())))?;
        self.insert(plugin, Some(path));
        Ok(info)
    }

    /// Removes every version of an installed (non-built-in) plugin and its
    /// grants; false if there was none.
    pub fn remove(&self, id: &str) -> Result<bool, PluginError> {
        let mut plugins = self.write();
        match plugins.get(id) {
            Some(entry) if entry.builtin => {
                return Err(PluginError::Builtin(format!(
                    "{id} is a built-in plugin and cannot be removed"
                )))
            }
            Some(_) => {}
            None => return Ok(false),
        }
        if let Some(entry) = plugins.remove(id) {
            for installed in &entry.versions {
                delete_file(installed.file.as_deref())?;
            }
        }
        delete_file(Some(&grants_path(&self.dir, id)))?;
        Ok(true)
    }

    /// Removes one installed version; false if it is not installed. The
    /// last version takes the plugin (and its grants) with it.
    pub fn remove_version(&self, id: &str, version: &str) -> Result<bool, PluginError> {
        let mut plugins = self.write();
        let Some(entry) = plugins.get_mut(id) else {
            return Ok(false);
        };
        if entry.builtin {
            return Err(PluginError::Builtin(format!(
                "{id} is a built-in plugin and cannot be removed"
            )));
        }
        let Some(position) = entry
            .versions
            .iter()
            .position(|i| i.plugin.info.version == version)
        else {
            return Ok(false);
        };
        delete_file(entry.versions[position].file.as_deref())?;
        entry.versions.remove(position);
        if entry.versions.is_empty() {
            plugins.remove(id);
            delete_file(Some(&grants_path(&self.dir, id)))?;
        }
        Ok(true)
    }

    /// Checks and stores the operator's grants for `id` and puts them in
    /// force for every version (the next call uses them).
    pub fn set_grants(&self, id: &str, grants: Grants) -> Result<Option<Grants>, GrantsRefused> {
        let mut plugins = self.write();
        let Some(entry) = plugins.get_mut(id) else {
            return Ok(None);
        };
        let kind = match entry.newest() {
            Some(newest) => newest.info.kind,
            None => return Ok(None),
        };
        let grants = grants.validated(kind).map_err(GrantsRefused::Invalid)?;
        write_grants(&self.dir, id, &grants)
            .map_err(|err| GrantsRefused::Storage(format!("{}: {err}", self.dir.display())))?;
        self.put_in_force(entry, Arc::new(grants.clone()));
        Ok(Some(grants))
    }
}

/// Why grants were not set.
#[derive(Debug, thiserror::Error)]
pub enum GrantsRefused {
    #[error(transparent)]
    Invalid(GrantError),
    #[error("cannot store the grants: {0}")]
    Storage(String),
}

fn delete_file(path: Option<&Path>) -> Result<(), PluginError> {
    match path.map(std::fs::remove_file) {
        Some(Err(err)) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(PluginError::Runtime(format!(
                "{}: {err}",
                path.map(|p| p.display().to_string()).unwrap_or_default()
            )))
        }
        _ => Ok(()),
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
