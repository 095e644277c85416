//! The Wasm component runtime: one engine configured once (epoch interruption,
//! pooling allocator), components compiled once per content hash and cached on
//! disk, checked against what their kind is granted, pre-instantiated, and
//! called in a fresh store per call with a deadline and a memory limit.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

use super::bindings::adapter::exports::beacon::plugin::adapter_api;
use super::bindings::adapter::{Adapter, AdapterPre};
use super::bindings::channel::{ChannelSender, ChannelSenderPre};
use super::bindings::filter::{Filter, FilterPre};
use super::bindings::types;
use super::bindings::v0_2::channel::{
    ChannelSender as ChannelSenderV02, ChannelSenderPre as ChannelSenderPreV02,
};
use super::bindings::v0_2::filter::{Filter as FilterV02, FilterPre as FilterPreV02};
use super::fetch::Fetcher;
use super::fetch::Fetchers;
use super::footprint::Footprint;
use super::grants::{Grants, MAX_GRANTED_MEMORY_MIB};
use super::kv::{KvBackend, KvBucket};
use super::mail::MailRelay;
use super::state::{Lent, PluginState};

/// Epoch tick; deadlines are counted in these.
const TICK: Duration = Duration::from_millis(2);
/// The WIT package this host implements.
pub const WIT_PACKAGE: &str = "beacon:plugin";
/// The current line: what the SDK builds against.
pub const WIT_VERSION: &str = "0.3.0";
/// The previous line, still loaded and run (its worlds are kept in `wit/v0.2`).
pub const WIT_VERSION_PREVIOUS: &str = "0.2.0";
/// Low memory kept mapped in reused pool slots (stack, data, the first heap pages).
const KEEP_RESIDENT_BYTES: usize = 2 << 20;
/// Deadline for `describe` and `validate-config`.
const CONTROL_DEADLINE: Duration = Duration::from_millis(500);

pub use super::kind::PluginKind;

/// What a plugin says about itself, checked at load, and what the host
/// found in the component: the WIT version it was built for and the
/// capabilities (`beacon:plugin` interfaces) it imports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PluginInfo {
    pub id: String,
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub config_schema: serde_json::Value,
    /// `beacon:plugin` version the component was built against, e.g. `0.3.0`.
    pub wit_version: String,
    /// Imported capabilities, e.g. `["http", "kv", "log"]`.
    pub capabilities: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// Exports neither (or both) of the plugin worlds.
    #[error("plugin refused: {0}")]
    WrongWorld(String),
    /// Built against a WIT version line this host does not run.
    #[error("plugin refused: {0}")]
    UnsupportedVersion(String),
    /// Imports a capability its kind is not granted, or one nobody is.
    #[error("plugin refused: {0}")]
    NotGranted(String),
    /// A built-in id: not replaceable.
    #[error("plugin refused: {0}")]
    Builtin(String),
    /// This id and version are installed already (with other contents).
    #[error("plugin refused: {0}")]
    Duplicate(String),
    #[error("plugin refused: {0}")]
    Refused(String),
    #[error("plugin trapped: {0}")]
    Trap(String),
    #[error("plugin ran out of time ({0} ms)")]
    Timeout(u128),
    #[error("plugin exceeded its memory limit")]
    MemoryLimit,
    #[error("plugin runtime error: {0}")]
    Runtime(String),
}

/// A field-level config error reported by a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

pub use adapter_api::{AdaptError, AdaptedMessage, InboundRequest};
pub use types::{Message, SendError, SendOutcome, Verdict};

#[derive(Clone, Debug)]
pub struct RuntimeLimits {
    pub filter_deadline: Duration,
    pub adapter_deadline: Duration,
    pub sender_deadline: Duration,
    pub memory_bytes: usize,
}

/// A pre-instantiated component of one of the worlds this host runs.
enum Pre {
    Channel(ChannelSenderPre<PluginState>),
    Filter(FilterPre<PluginState>),
    ChannelV02(ChannelSenderPreV02<PluginState>),
    FilterV02(FilterPreV02<PluginState>),
    Adapter(AdapterPre<PluginState>),
}

impl Pre {
    fn is_channel(&self) -> bool {
        matches!(self, Pre::Channel(_) | Pre::ChannelV02(_))
    }
}

/// What one `send` may use beyond `fetch`: the key-value backend and the
/// channel's bucket, and the mail relay.
#[derive(Clone)]
pub struct CallState {
    pub kv: Arc<dyn KvBackend>,
    pub bucket: KvBucket,
    pub mail: Arc<dyn MailRelay>,
}

/// What a process lends every channel sender beyond `fetch`.
#[derive(Clone)]
pub struct SenderCapabilities {
    pub kv: Arc<dyn KvBackend>,
    pub mail: Arc<dyn MailRelay>,
}

impl SenderCapabilities {
    /// The state of one `send` through this channel.
    pub fn for_channel(&self, user_id: &str, channel_id: &str) -> CallState {
        CallState {
            kv: self.kv.clone(),
            bucket: KvBucket::for_channel(user_id, channel_id),
            mail: self.mail.clone(),
        }
    }
}

/// A loaded, checked, pre-instantiated plugin version.
pub struct LoadedPlugin {
    pub info: PluginInfo,
    /// SHA-256 of the component file.
    pub sha256: String,
    /// Size of the component file.
    pub size_bytes: usize,
    /// Instances, memories and tables one instance of it creates.
    footprint: Footprint,
    pre: Pre,
    id: Arc<str>,
    /// The operator's grants for this plugin id, swapped without reloading.
    granted: RwLock<Arc<Granted>>,
}

/// Grants in force, with what they resolve to.
struct Granted {
    grants: Arc<Grants>,
    /// `None`: the shared fetcher of the plugin id.
    fetcher: Option<Arc<Fetcher>>,
}

/// The limits a plugin runs under now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EffectiveLimits {
    pub memory_mib: u32,
    pub timeout_ms: u32,
}

impl LoadedPlugin {
    fn granted(&self) -> Arc<Granted> {
        match self.granted.read() {
            Ok(granted) => granted.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The operator's grants in force for this plugin.
    pub fn grants(&self) -> Arc<Grants> {
        self.granted().grants.clone()
    }
}

/// Filter calls and the `*_blocking`/control calls block the calling thread,
/// so async code makes them through `tokio::task::spawn_blocking`. `send` is
/// async: the sender runs on the caller's task (on a fiber), yields to the
/// executor every epoch tick while it computes, and awaits `fetch` without
/// holding a thread.
pub struct Runtime {
    engine: Engine,
    channel_linker: Linker<PluginState>,
    filter_linker: Linker<PluginState>,
    channel_linker_v02: Linker<PluginState>,
    filter_linker_v02: Linker<PluginState>,
    adapter_linker: Linker<PluginState>,
    cache_dir: PathBuf,
    limits: RuntimeLimits,
    fetchers: Fetchers,
    ticker_stop: Arc<AtomicBool>,
    longest_granted_ms: AtomicU64,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    pub fn new(
        cache_dir: PathBuf,
        limits: RuntimeLimits,
        fetchers: Fetchers,
    ) -> Result<Self, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(1_000);
        pool.total_core_instances(2_000);
        pool.total_memories(1_000);
        pool.total_tables(2_000);
        // Slots may grow to what a grant can give; each store's limiter
        // holds an instance to its own plugin's limit.
        pool.max_memory_size(
            limits
                .memory_bytes
                .max(MAX_GRANTED_MEMORY_MIB as usize * 1024 * 1024),
        );
        // Reused slots keep the pages a call touched (reset by memset, found
        // with the PAGEMAP_SCAN ioctl where the kernel has it) instead of
        // faulting them in again on every fresh instance.
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
        pool.table_keep_resident(KEEP_RESIDENT_BYTES);
        pool.pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(runtime_error)?;

        let mut channel_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut channel_linker).map_err(runtime_error)?;
        ChannelSender::add_to_linker::<_, HasSelf<_>>(&mut channel_linker, |state| state)
            .map_err(runtime_error)?;
        let mut filter_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut filter_linker).map_err(runtime_error)?;
        Filter::add_to_linker::<_, HasSelf<_>>(&mut filter_linker, |state| state)
            .map_err(runtime_error)?;
        let mut channel_linker_v02 = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut channel_linker_v02).map_err(runtime_error)?;
        ChannelSenderV02::add_to_linker::<_, HasSelf<_>>(&mut channel_linker_v02, |state| state)
            .map_err(runtime_error)?;
        let mut filter_linker_v02 = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut filter_linker_v02).map_err(runtime_error)?;
        FilterV02::add_to_linker::<_, HasSelf<_>>(&mut filter_linker_v02, |state| state)
            .map_err(runtime_error)?;
        let mut adapter_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut adapter_linker).map_err(runtime_error)?;
        Adapter::add_to_linker::<_, HasSelf<_>>(&mut adapter_linker, |state| state)
            .map_err(runtime_error)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticking_engine, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticking_engine.increment_epoch();
                }
            })
            .map_err(|err| PluginError::Runtime(format!("epoch thread: {err}")))?;
        std::fs::create_dir_all(&cache_dir).map_err(|err| {
            PluginError::Runtime(format!("cache dir {}: {err}", cache_dir.display()))
        })?;
        Ok(Runtime {
            engine,
            channel_linker,
            filter_linker,
            channel_linker_v02,
            filter_linker_v02,
            adapter_linker,
            cache_dir,
            limits,
            fetchers,
            ticker_stop,
            longest_granted_ms: AtomicU64::new(0),
        })
    }

    /// The longest a `send` of this plugin may take: its deadline traps it after this.
    pub fn sender_deadline(&self, plugin: &LoadedPlugin) -> Duration {
        self.deadline_of(&plugin.granted().grants, self.limits.sender_deadline)
    }

    /// The longest deadline any sender may have now: the default or the
    /// longest a grant gave (a lowered grant leaves it high, which is safe).
    pub fn longest_sender_deadline(&self) -> Duration {
        self.limits.sender_deadline.max(Duration::from_millis(
            self.longest_granted_ms.load(Ordering::Relaxed),
        ))
    }

    fn deadline_of(&self, grants: &Grants, default: Duration) -> Duration {
        grants
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)))
            .unwrap_or(default)
    }

    fn memory_of(&self, grants: &Grants) -> usize {
        grants
            .memory_mib
            .map(|mib| mib as usize * 1024 * 1024)
            .unwrap_or(self.limits.memory_bytes)
    }

    /// The limits `plugin` runs under: its grants, else the host's defaults.
    pub fn limits_of(&self, plugin: &LoadedPlugin) -> EffectiveLimits {
        let grants = plugin.grants();
        let default = match plugin.pre {
            Pre::Channel(_) | Pre::ChannelV02(_) => self.limits.sender_deadline,
            Pre::Filter(_) | Pre::FilterV02(_) => self.limits.filter_deadline,
            Pre::Adapter(_) => self.limits.adapter_deadline,
        };
        EffectiveLimits {
            memory_mib: (self.memory_of(&grants) / (1024 * 1024)) as u32,
            timeout_ms: self.deadline_of(&grants, default).as_millis() as u32,
        }
    }

    /// Puts `grants` in force for `plugin` (the next call uses them; calls
    /// running finish under the old ones).
    pub fn grant(&self, plugin: &LoadedPlugin, grants: Arc<Grants>) -> Result<(), PluginError> {
        let fetcher = if grants.shapes_network() {
            Some(
                self.fetchers
                    .for_grants(&plugin.info.id, &grants)
                    .map_err(|err| PluginError::Runtime(format!("HTTP client: {err}")))?,
            )
        } else {
            None
        };
        if let Some(ms) = grants.timeout_ms {
            self.longest_granted_ms
                .fetch_max(u64::from(ms), Ordering::Relaxed);
        }
        let granted = Arc::new(Granted { grants, fetcher });
        match plugin.granted.write() {
            Ok(mut slot) => *slot = granted,
            Err(poisoned) => *poisoned.into_inner() = granted,
        }
        Ok(())
    }

    /// Compiles (or loads from the cache), checks and pre-instantiates a component.
    pub fn load(&self, bytes: &[u8]) -> Result<LoadedPlugin, PluginError> {
        if !is_component(bytes) {
            return Err(PluginError::NotAComponent(if bytes.starts_with(b"\0asm") {
                "this is a core WebAssembly module; build for wasm32-wasip2 (or run wasm-tools component new)".into()
            } else {
                "the file does not start with the WebAssembly magic number".into()
            }));
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let size_bytes = bytes.len();
        let footprint = Footprint::of(bytes);
        let component = self.compile_cached(bytes, &sha256)?;
        let found = self.check_interface(&component)?;
        let pre = self.pre_instantiate(&component, &found)?;
        let mut plugin = LoadedPlugin {
            info: PluginInfo {
                id: String::new(),
                name: String::new(),
                version: String::new(),
                kind: found.kind,
                description: String::new(),
                config_schema: serde_json::Value::Null,
                wit_version: found.wit_version.clone(),
                capabilities: found.capabilities.clone(),
            },
            sha256,
            size_bytes,
            footprint,
            pre,
            id: Arc::from("(loading)"),
            granted: RwLock::new(Arc::new(Granted {
                grants: Arc::default(),
                fetcher: None,
            })),
        };
        let mut info = self.describe(&plugin)?;
        check_info(&info, found.kind)?;
        info.wit_version = found.wit_version;
        info.capabilities = found.capabilities;
        plugin.id = Arc::from(info.id.as_str());
        plugin.info = info;
        Ok(plugin)
    }

    fn pre_instantiate(
        &self,
        component: &Component,
        found: &Interface,
    ) -> Result<Pre, PluginError> {
        let previous = found.line == Line::Previous;
        if found.kind == PluginKind::Adapter {
            let instance_pre = self
                .adapter_linker
                .instantiate_pre(component)
                .map_err(link_error)?;
            return Ok(Pre::Adapter(
                AdapterPre::new(instance_pre).map_err(link_error)?,
            ));
        }
        let linker = match (found.kind, previous) {
            (PluginKind::Adapter, _) => &self.adapter_linker,
            (PluginKind::Channel, false) => &self.channel_linker,
            (PluginKind::Filter, false) => &self.filter_linker,
            (PluginKind::Channel, true) => &self.channel_linker_v02,
            (PluginKind::Filter, true) => &self.filter_linker_v02,
        };
        let instance_pre = linker.instantiate_pre(component).map_err(link_error)?;
        Ok(match (found.kind, previous) {
            (PluginKind::Channel, false) => {
                Pre::Channel(ChannelSenderPre::new(instance_pre).map_err(link_error)?)
            }
            (PluginKind::Filter, false) => {
                Pre::Filter(FilterPre::new(instance_pre).map_err(link_error)?)
            }
            (PluginKind::Channel, true) => {
                Pre::ChannelV02(ChannelSenderPreV02::new(instance_pre).map_err(link_error)?)
            }
            (PluginKind::Filter, true) => {
                Pre::FilterV02(FilterPreV02::new(instance_pre).map_err(link_error)?)
            }
            (PluginKind::Adapter, _) => {
                Pre::Adapter(AdapterPre::new(instance_pre).map_err(link_error)?)
            }
        })
    }

    fn compile_cached(&self, bytes: &[u8], sha256: &str) -> Result<Component, PluginError> {
        let path = self.cache_dir.join(format!("{sha256}-wasmtime-48.cwasm"));
        if path.exists() {
            // SAFETY: the cache directory holds only artifacts this process (or an
            // earlier run of it) serialized; deserialize also checks engine
            // compatibility and fails cleanly on a mismatch, in which case we recompile.
            if let Ok(component) = unsafe { Component::deserialize_file(&self.engine, &path) } {
                return Ok(component);
            }
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|err| PluginError::NotAComponent(format!("{err:#}")))?;
        if let Ok(serialized) = component.serialize() {
            let temporary = path.with_extension("tmp");
            if std::fs::write(&temporary, serialized)
                .and_then(|()| std::fs::rename(&temporary, &path))
                .is_err()
            {
                tracing::warn!(path = %path.display(), "could not write the compiled plugin cache");
            }
        }
        Ok(component)
    }

    /// The kind and WIT line from the exports; refuses a foreign WIT
    /// version and imports beyond what the kind is granted.
    fn check_interface(&self, component: &Component) -> Result<Interface, PluginError> {
        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let exported = |interface: &str| {
            exports
                .iter()
                .find(|e| e.starts_with(&format!("{WIT_PACKAGE}/{interface}@")))
        };
        let worlds = (
            exported("channel-api"),
            exported("filter-api"),
            exported("adapter-api"),
        );
        let (kind, export) = match worlds {
            (Some(name), None, None) => (PluginKind::Channel, name),
            (None, Some(name), None) => (PluginKind::Filter, name),
            (None, None, Some(name)) => (PluginKind::Adapter, name),
            _ => {
                return Err(PluginError::WrongWorld(format!(
                    "must export exactly one of {WIT_PACKAGE}/channel-api, {WIT_PACKAGE}/filter-api or {WIT_PACKAGE}/adapter-api @{WIT_VERSION}; found: {}",
                    exports.join(", ")
                )))
            }
        };
        let version = export.split_once('@').map(|(_, v)| v).unwrap_or("");
        let line = Line::of(version).ok_or_else(|| foreign_version(version))?;
        if kind == PluginKind::Adapter && line != Line::Current {
            // Adapters arrived with 0.3; nothing older can export one.
            return Err(foreign_version(version));
        }
        let mut capabilities = Vec::new();
        for (name, item) in ty.imports(&self.engine) {
            match check_import(name, kind, line)? {
                // Every 0.3 filter and sender imports `kv` for the bucket type
                // in its export signature; only one that calls a bucket method
                // keeps state.
                Some("kv") if !calls_methods(&self.engine, &item.ty) => {}
                Some(capability) => capabilities.push(capability.to_string()),
                None => {}
            }
        }
        capabilities.sort();
        capabilities.dedup();
        Ok(Interface {
            kind,
            line,
            wit_version: version.to_string(),
            capabilities,
        })
    }

    /// A fresh store for one call. `send` is the only call granted the
    /// network: `describe` and `validate-config` run without it, so checking
    /// a config never leaves the host (and needs no async runtime).
    fn store(
        &self,
        plugin: &LoadedPlugin,
        deadline: Duration,
        send: bool,
        kv: Option<Arc<dyn KvBackend>>,
        mail: Option<(Arc<dyn MailRelay>, Arc<str>)>,
    ) -> Store<PluginState> {
        let granted = plugin.granted();
        let fetcher = (send && plugin.pre.is_channel()).then(|| {
            granted
                .fetcher
                .clone()
                .unwrap_or_else(|| self.fetchers.for_plugin(&plugin.id))
        });
        let mut store = Store::new(
            &self.engine,
            PluginState::new(
                plugin.id.clone(),
                self.memory_of(&granted.grants),
                plugin.footprint,
                granted.grants.clone(),
                Lent { fetcher, kv, mail },
            ),
        );
        store.limiter(|state| &mut state.limits);
        match plugin.pre {
            Pre::Filter(_) | Pre::FilterV02(_) | Pre::Adapter(_) => {
                store.set_epoch_deadline(ticks(deadline))
            }
            Pre::Channel(_) | Pre::ChannelV02(_) => {
                // Channel calls are async: every tick the plugin yields to the
                // executor (a busy sender never holds a worker thread for
                // long) until the deadline, which traps like a filter's.
                let end = Instant::now() + deadline;
                store.set_epoch_deadline(1);
                store.epoch_deadline_callback(move |_| {
                    Ok(if Instant::now() >= end {
                        UpdateDeadline::Interrupt
                    } else {
                        UpdateDeadline::Yield(1)
                    })
                });
            }
        }
        store
    }

    fn describe(&self, plugin: &LoadedPlugin) -> Result<PluginInfo, PluginError> {
        let mut store = self.store(plugin, CONTROL_DEADLINE, false, None, None);
        let raw = match &plugin.pre {
            Pre::Channel(pre) => block_on(async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance
                    .beacon_plugin_channel_api()
                    .call_describe(&mut store)
                    .await
            }),
            Pre::ChannelV02(pre) => block_on(async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance
                    .beacon_plugin_channel_api()
                    .call_describe(&mut store)
                    .await
            }),
            Pre::Filter(pre) => pre
                .instantiate(&mut store)
                .and_then(|i| i.beacon_plugin_filter_api().call_describe(&mut store)),
            Pre::FilterV02(pre) => pre
                .instantiate(&mut store)
                .and_then(|i| i.beacon_plugin_filter_api().call_describe(&mut store)),
            Pre::Adapter(pre) => pre
                .instantiate(&mut store)
                .and_then(|i| i.beacon_plugin_adapter_api().call_describe(&mut store))
                .map(|info| types::PluginInfo {
                    id: info.id,
                    name: info.name,
                    version: info.version,
                    // Stands in for the kind WIT cannot name; replaced below.
                    kind: types::PluginKind::Filter,
                    description: info.description,
                    config_schema: info.config_schema,
                }),
        };
        store.data().flush_output();
        let raw = raw.map_err(|err| call_error(err, CONTROL_DEADLINE))?;
        let adapter = matches!(plugin.pre, Pre::Adapter(_));
        let config_schema = serde_json::from_str(&raw.config_schema).map_err(|err| {
            PluginError::Refused(format!(
                "describe() returned a config schema that is not JSON: {err}"
            ))
        })?;
        Ok(PluginInfo {
            id: raw.id,
            name: raw.name,
            version: raw.version,
            kind: match raw.kind {
                _ if adapter => PluginKind::Adapter,
                types::PluginKind::Channel => PluginKind::Channel,
                types::PluginKind::Filter => PluginKind::Filter,
            },
            description: raw.description,
            config_schema,
            wit_version: String::new(),
            capabilities: Vec::new(),
        })
    }

    /// Asks the plugin whether a config is acceptable.
    pub fn validate_config(
        &self,
        plugin: &LoadedPlugin,
        config_json: &str,
    ) -> Result<Result<(), ConfigError>, PluginError> {
        let mut store = self.store(plugin, CONTROL_DEADLINE, false, None, None);
        let result = match &plugin.pre {
            Pre::Channel(pre) => block_on(async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance
                    .beacon_plugin_channel_api()
                    .call_validate_config(&mut store, config_json)
                    .await
            }),
            Pre::ChannelV02(pre) => block_on(async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance
                    .beacon_plugin_channel_api()
                    .call_validate_config(&mut store, config_json)
                    .await
            }),
            Pre::Filter(pre) => pre.instantiate(&mut store).and_then(|i| {
                i.beacon_plugin_filter_api()
                    .call_validate_config(&mut store, config_json)
            }),
            Pre::FilterV02(pre) => pre.instantiate(&mut store).and_then(|i| {
                i.beacon_plugin_filter_api()
                    .call_validate_config(&mut store, config_json)
            }),
            Pre::Adapter(pre) => pre.instantiate(&mut store).and_then(|i| {
                i.beacon_plugin_adapter_api()
                    .call_validate_config(&mut store, config_json)
            }),
        };
        store.data().flush_output();
        let result = result.map_err(|err| call_error(err, CONTROL_DEADLINE))?;
        Ok(result.map_err(|e| ConfigError {
            field: e.field,
            message: e.message,
        }))
    }

    /// A fresh instance of a filter for one message; reusable across that
    /// message's rules. `kv` holds the rules' buckets.
    pub fn filter_session(
        &self,
        plugin: &LoadedPlugin,
        kv: Arc<dyn KvBackend>,
    ) -> Result<FilterSession, PluginError> {
        let deadline = self.deadline_of(&plugin.grants(), self.limits.filter_deadline);
        let keeps_state = plugin.info.capabilities.iter().any(|c| c == "kv");
        let mut store = self.store(plugin, deadline, false, Some(kv), None);
        let instance = match &plugin.pre {
            Pre::Filter(pre) => FilterInstance::Current(
                pre.instantiate(&mut store)
                    .map_err(|err| call_error(err, deadline))?,
            ),
            Pre::FilterV02(pre) => FilterInstance::Previous(
                pre.instantiate(&mut store)
                    .map_err(|err| call_error(err, deadline))?,
            ),
            Pre::Channel(_) | Pre::ChannelV02(_) | Pre::Adapter(_) => {
                return Err(PluginError::Refused(format!(
                    "{} is not a filter plugin",
                    plugin.info.id
                )))
            }
        };
        Ok(FilterSession {
            store,
            instance,
            deadline,
            broken: false,
            keeps_state,
            plugin: plugin.id.clone(),
        })
    }

    /// Runs `send` in a fresh instance on the calling task, with the
    /// channel's bucket. The deadline covers the whole call: the plugin's own
    /// work (epoch ticks) and its waits on the host (a timer around the call).
    pub async fn send(
        &self,
        plugin: &LoadedPlugin,
        config_json: &str,
        payload_json: &str,
        message: &Message,
        state: CallState,
    ) -> Result<Result<SendOutcome, SendError>, PluginError> {
        let deadline = self.sender_deadline(plugin);
        let mail = Some((state.mail, state.bucket.owner.clone()));
        let mut store = self.store(plugin, deadline, true, Some(state.kv), mail);
        let call = async {
            match &plugin.pre {
                Pre::Channel(pre) => {
                    let bucket = store.data_mut().lend_bucket(state.bucket)?;
                    let borrowed = wasmtime::component::Resource::new_borrow(bucket.rep());
                    let instance = pre.instantiate_async(&mut store).await?;
                    let result = instance
                        .beacon_plugin_channel_api()
                        .call_send(&mut store, config_json, payload_json, message, borrowed)
                        .await;
                    store.data_mut().reclaim_bucket(bucket);
                    result
                }
                Pre::ChannelV02(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    instance
                        .beacon_plugin_channel_api()
                        .call_send(&mut store, config_json, payload_json, message)
                        .await
                }
                Pre::Filter(_) | Pre::FilterV02(_) | Pre::Adapter(_) => Err(wasmtime::Error::msg(
                    format!("{} is not a channel plugin", plugin.info.id),
                )),
            }
        };
        // Dropping the call on time-out unwinds the plugin's fiber.
        let started = Instant::now();
        let result = tokio::time::timeout(deadline, call).await;
        store.data().flush_output();
        let result = match result {
            Ok(result) => result.map_err(|err| call_error(err, deadline)),
            Err(_) => Err(PluginError::Timeout(deadline.as_millis())),
        };
        observe(&plugin.id, "send", started, &result);
        result
    }

    /// [`Runtime::send`] for callers on a plain thread (the CLI harness).
    /// Must not be called from async code.
    pub fn send_blocking(
        &self,
        plugin: &LoadedPlugin,
        config_json: &str,
        payload_json: &str,
        message: &Message,
        state: CallState,
    ) -> Result<Result<SendOutcome, SendError>, PluginError> {
        wasmtime_wasi::runtime::in_tokio(self.send(
            plugin,
            config_json,
            payload_json,
            message,
            state,
        ))
    }
}

impl Runtime {
    /// Runs an adapter's `adapt` in a fresh instance under its deadline and
    /// memory limit. Blocks the calling thread: async code calls it through
    /// `tokio::task::spawn_blocking`.
    pub fn adapt(
        &self,
        plugin: &LoadedPlugin,
        config_json: &str,
        request: &InboundRequest,
    ) -> Result<Result<Vec<AdaptedMessage>, AdaptError>, PluginError> {
        let Pre::Adapter(pre) = &plugin.pre else {
            return Err(PluginError::Refused(format!(
                "{} is not an adapter plugin",
                plugin.info.id
            )));
        };
        let deadline = self.deadline_of(&plugin.grants(), self.limits.adapter_deadline);
        let mut store = self.store(plugin, deadline, false, None, None);
        let started = Instant::now();
        let result = pre.instantiate(&mut store).and_then(|instance| {
            instance
                .beacon_plugin_adapter_api()
                .call_adapt(&mut store, config_json, request)
        });
        store.data().flush_output();
        let result = result.map_err(|err| call_error(err, deadline));
        observe(&plugin.id, "adapt", started, &result);
        result
    }
}

enum FilterInstance {
    Current(Filter),
    Previous(FilterV02),
}

/// One filter instance; after a trap it is broken and must be replaced.
pub struct FilterSession {
    store: Store<PluginState>,
    instance: FilterInstance,
    deadline: Duration,
    broken: bool,
    /// The filter calls bucket methods; one that does not gets no buckets
    /// (an empty `states` list: the WIT allows it, and lending costs a
    /// table entry and a drop call per rule).
    keeps_state: bool,
    /// The plugin id, for metrics.
    plugin: Arc<str>,
}

impl FilterSession {
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// One config against the message (a batch of one).
    pub fn evaluate(
        &mut self,
        config_json: &str,
        bucket: KvBucket,
        message: &Message,
    ) -> Result<Result<Verdict, String>, PluginError> {
        let mut verdicts = self.evaluate_many(&[config_json.to_string()], vec![bucket], message)?;
        verdicts
            .pop()
            .ok_or_else(|| PluginError::Runtime("the filter returned no verdict".into()))
    }

    /// Several configs against the message in one call: one verdict per
    /// config, in order, all within one call's deadline (a config costs
    /// microseconds; the deadline is tens of milliseconds). `buckets[i]` is
    /// the state of the rule `config_jsons[i]` belongs to.
    pub fn evaluate_many(
        &mut self,
        config_jsons: &[String],
        buckets: Vec<KvBucket>,
        message: &Message,
    ) -> Result<Vec<Result<Verdict, String>>, PluginError> {
        if self.broken {
            return Err(PluginError::Runtime(
                "filter instance is unusable after an earlier failure".into(),
            ));
        }
        let deadline = self.deadline;
        self.store.set_epoch_deadline(ticks(deadline));
        let started = Instant::now();
        let result = match &self.instance {
            FilterInstance::Current(instance) => {
                // Handed over owned: the plugin drops each handle when it
                // returns, which removes it from the store's table.
                let buckets = if self.keeps_state {
                    buckets
                } else {
                    Vec::new()
                };
                let lent: Result<Vec<_>, _> = buckets
                    .into_iter()
                    .map(|bucket| self.store.data_mut().lend_bucket(bucket))
                    .collect();
                lent.and_then(|lent| {
                    instance.beacon_plugin_filter_api().call_evaluate(
                        &mut self.store,
                        config_jsons,
                        &lent,
                        message,
                    )
                })
            }
            FilterInstance::Previous(instance) => instance
                .beacon_plugin_filter_api()
                .call_evaluate(&mut self.store, config_jsons, message)
                .map(|verdicts| {
                    verdicts
                        .into_iter()
                        .map(|v| {
                            v.map(|matched| Verdict {
                                matched,
                                note: None,
                            })
                        })
                        .collect()
                }),
        };
        self.store.data().flush_output();
        let result = result.map_err(|err| call_error(err, deadline));
        observe(&self.plugin, "evaluate", started, &result);
        let verdicts = result.inspect_err(|_| self.broken = true)?;
        if verdicts.len() != config_jsons.len() {
            self.broken = true;
            return Err(PluginError::Runtime(format!(
                "the filter returned {} verdicts for {} configs",
                verdicts.len(),
                config_jsons.len()
            )));
        }
        Ok(verdicts)
    }
}

/// Which WIT line a component was built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    Current,
    Previous,
}

impl Line {
    fn of(version: &str) -> Option<Line> {
        if same_version_line(version, WIT_VERSION) {
            Some(Line::Current)
        } else if same_version_line(version, WIT_VERSION_PREVIOUS) {
            Some(Line::Previous)
        } else {
            None
        }
    }
}

/// What the interface check found in a component.
struct Interface {
    kind: PluginKind,
    line: Line,
    wit_version: String,
    capabilities: Vec<String>,
}

fn foreign_version(version: &str) -> PluginError {
    PluginError::UnsupportedVersion(format!(
        "built for {WIT_PACKAGE}@{version}, but this host implements {WIT_PACKAGE}@{WIT_VERSION} (and still runs {WIT_VERSION_PREVIOUS}); rebuild against the current SDK"
    ))
}

/// Records a plugin call's duration, and a trap, timeout or memory overrun.
fn observe<T>(plugin: &str, call: &'static str, started: Instant, result: &Result<T, PluginError>) {
    use crate::metrics::CallEnd;
    let end = match result {
        Err(PluginError::Trap(_)) => CallEnd::Trapped,
        Err(PluginError::Timeout(_)) => CallEnd::TimedOut,
        Err(PluginError::MemoryLimit) => CallEnd::OutOfMemory,
        _ => CallEnd::Answered,
    };
    crate::metrics::plugin_call(plugin, call, started.elapsed(), end);
}

fn ticks(deadline: Duration) -> u64 {
    (deadline.as_millis() / TICK.as_millis()).max(1) as u64
}

/// Does an imported instance include resource methods (not only types and drops)?
fn calls_methods(engine: &Engine, item: &wasmtime::component::types::ComponentItem) -> bool {
    match item {
        wasmtime::component::types::ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .any(|(name, _)| name.starts_with("[method]") || name.starts_with("[static]")),
        _ => true,
    }
}

/// A component (not a core module) starts with `\0asm`, version 0x0d and layer 1.
fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && &bytes[..4] == b"\0asm" && bytes[6..8] == [0x01, 0x00]
}

/// Import rules: WASI except sockets and HTTP for everybody (the context
/// grants nothing anyway); of this package `log` and `types` for all, `kv`
/// for both kinds on the current line, `http`, `smtp-send` and
/// `mqtt-publish` for channel senders only; and only the line the exports
/// were built for. Returns the capability a `beacon:plugin` import names.
fn check_import(name: &str, kind: PluginKind, line: Line) -> Result<Option<&str>, PluginError> {
    let (package_path, version) = name.split_once('@').unwrap_or((name, ""));
    if let Some(interface) = package_path.strip_prefix(&format!("{WIT_PACKAGE}/")) {
        if Line::of(version) != Some(line) {
            return Err(PluginError::UnsupportedVersion(format!(
                "imports {name}, but its exports were built for another version of {WIT_PACKAGE}"
            )));
        }
        return match (interface, kind, line) {
            ("types", _, _) => Ok(None),
            ("log", _, _)
            | ("http", PluginKind::Channel, _)
            | ("kv", PluginKind::Channel | PluginKind::Filter, Line::Current)
            | ("smtp-send" | "mqtt-publish", PluginKind::Channel, Line::Current) => {
                Ok(Some(interface))
            }
            ("http", PluginKind::Filter, _) => Err(PluginError::NotGranted(format!(
                "imports {name}, but filter plugins get no network access"
            ))),
            ("smtp-send" | "mqtt-publish", PluginKind::Filter, _) => Err(PluginError::NotGranted(
                format!("imports {name}, but filter plugins may only log and keep state"),
            )),
            (_, PluginKind::Adapter, _) => Err(PluginError::NotGranted(format!(
                "imports {name}, but adapter plugins may only log"
            ))),
            _ => Err(PluginError::NotGranted(format!(
                "imports {name}, which this host does not provide"
            ))),
        };
    }
    if package_path.starts_with("wasi:sockets") || package_path.starts_with("wasi:http") {
        return Err(PluginError::NotGranted(format!(
            "imports {name}; plugins reach the network only through {WIT_PACKAGE}/http"
        )));
    }
    if package_path.starts_with("wasi:") {
        return Ok(None);
    }
    Err(PluginError::NotGranted(format!(
        "imports {name}, which no plugin is granted"
    )))
}

/// Semver compatibility: same major, and for 0.x the same minor.
fn same_version_line(theirs: &str, ours: &str) -> bool {
    match (semver::Version::parse(theirs), semver::Version::parse(ours)) {
        (Ok(a), Ok(b)) if b.major == 0 => a.major == 0 && a.minor == b.minor,
        (Ok(a), Ok(b)) => a.major == b.major,
        _ => false,
    }
}

fn check_info(info: &PluginInfo, kind: PluginKind) -> Result<(), PluginError> {
    if info.kind != kind {
        return Err(PluginError::Refused(format!(
            "describe() says {} but the component implements the {} world",
            info.kind.as_str(),
            kind.as_str()
        )));
    }
    let id_ok = !info.id.is_empty()
        && info.id.len() <= 64
        && info
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !id_ok {
        return Err(PluginError::Refused(format!(
            "plugin id {:?} must be 1-64 lowercase letters, digits or '-'",
            info.id
        )));
    }
    if semver::Version::parse(&info.version).is_err() {
        return Err(PluginError::Refused(format!(
            "plugin version {:?} is not semver",
            info.version
        )));
    }
    if !info.config_schema.is_object() {
        return Err(PluginError::Refused(
            "the config schema must be a JSON object".into(),
        ));
    }
    Ok(())
}

fn runtime_error(err: wasmtime::Error) -> PluginError {
    PluginError::Runtime(format!("{err:#}"))
}

fn link_error(err: wasmtime::Error) -> PluginError {
    PluginError::Refused(format!("cannot be linked: {err:#}"))
}

/// Runs a channel plugin's control call (`describe`, `validate-config`) to
/// completion on this thread. Those calls have no network, so nothing they
/// await needs the tokio runtime: a plain executor serves every caller,
/// async or not, and the epoch deadline still bounds them.
fn block_on<T>(call: impl std::future::Future<Output = T>) -> T {
    futures_executor::block_on(call)
}

/// Turns a failed call into a clear error: deadline, memory limit or trap.
fn call_error(err: wasmtime::Error, deadline: Duration) -> PluginError {
    if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return PluginError::Timeout(deadline.as_millis());
    }
    let text = format!("{err:#}");
    if text.contains("growing memory") || text.contains("memory limit") {
        return PluginError::MemoryLimit;
    }
    let first_lines: String = text.lines().take(6).collect::<Vec<_>>().join(" | ");
    PluginError::Trap(first_lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_rules() {
        use Line::{Current, Previous};
        let ok = |name, kind, line| check_import(name, kind, line).is_ok();
        assert!(ok("beacon:plugin/log@0.3.0", PluginKind::Filter, Current));
        assert!(ok("beacon:plugin/kv@0.3.0", PluginKind::Filter, Current));
        assert!(ok("beacon:plugin/kv@0.3.0", PluginKind::Channel, Current));
        assert!(ok("beacon:plugin/http@0.3.0", PluginKind::Channel, Current));
        assert!(!ok("beacon:plugin/http@0.3.0", PluginKind::Filter, Current));
        assert!(!ok(
            "beacon:plugin/smtp-send@0.3.0",
            PluginKind::Filter,
            Current
        ));
        assert!(!ok(
            "beacon:plugin/mqtt-publish@0.3.0",
            PluginKind::Filter,
            Current
        ));
        assert!(ok(
            "beacon:plugin/smtp-send@0.3.0",
            PluginKind::Channel,
            Current
        ));
        assert!(ok(
            "beacon:plugin/mqtt-publish@0.3.0",
            PluginKind::Channel,
            Current
        ));
        assert!(ok("beacon:plugin/log@0.3.4", PluginKind::Channel, Current));
        // The previous line loads with its own imports only.
        assert!(ok(
            "beacon:plugin/http@0.2.0",
            PluginKind::Channel,
            Previous
        ));
        assert!(!ok(
            "beacon:plugin/http@0.2.0",
            PluginKind::Channel,
            Current
        ));
        assert!(!ok(
            "beacon:plugin/log@0.3.0",
            PluginKind::Channel,
            Previous
        ));
        assert!(!ok("beacon:plugin/kv@0.2.0", PluginKind::Filter, Previous));
        assert!(!ok("beacon:plugin/log@0.1.0", PluginKind::Channel, Current));
        assert!(!ok("beacon:plugin/log@0.4.0", PluginKind::Channel, Current));
        assert!(!ok("beacon:plugin/log@1.0.0", PluginKind::Channel, Current));
        assert!(ok(
            "wasi:cli/environment@0.2.6",
            PluginKind::Filter,
            Current
        ));
        assert!(!ok("wasi:sockets/tcp@0.2.6", PluginKind::Channel, Current));
        assert!(!ok(
            "wasi:http/outgoing-handler@0.2.6",
            PluginKind::Channel,
            Current
        ));
        assert!(!ok("acme:evil/shell@1.0.0", PluginKind::Channel, Current));
        assert_eq!(
            check_import("beacon:plugin/kv@0.3.0", PluginKind::Filter, Current)
                .ok()
                .flatten(),
            Some("kv")
        );
        assert_eq!(Line::of("0.2.9"), Some(Previous));
        assert_eq!(Line::of("0.3.1"), Some(Current));
        assert_eq!(Line::of("0.1.0"), None);
    }

    #[test]
    fn component_header() {
        assert!(is_component(b"\0asm\x0d\x00\x01\x00rest"));
        assert!(!is_component(b"\0asm\x01\x00\x00\x00rest"));
        assert!(!is_component(b"MZ"));
    }
}
