//! Per-call store data: a locked-down WASI context (no files, environment,
//! sockets or arguments; stdout/stderr captured for the log), the memory
//! limits, and the host side of the `log`, `http`, `kv`, `smtp-send` and
//! `mqtt-publish` imports (for both WIT lines where they exist).

use std::sync::Arc;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::http::{self, FetchError, Request, Response};
use super::bindings::log::{self, Level};
use super::bindings::{filter, kv, mqtt_publish, smtp_send, types, v0_2};
use super::fetch::Fetcher;
use super::footprint::Footprint;
use super::grants::Grants;
use super::kv::{check_key, check_value, KvBackend, KvBucket, KvError, KvWriteRequest};
use super::mail::{self as relay, MailRelay, OutgoingMail, RelayError};

/// Bytes of stdout/stderr kept per call (a plugin printing more gets write errors).
const CAPTURED_OUTPUT_BYTES: usize = 64 * 1024;
/// Characters of one plugin log line kept.
const MAX_LOG_LINE: usize = 2_000;

/// What one call is lent besides WASI: the network (channel `send` only),
/// key-value state and mail.
#[derive(Default)]
pub struct Lent {
    pub fetcher: Option<Arc<Fetcher>>,
    pub kv: Option<Arc<dyn KvBackend>>,
    pub mail: Option<(Arc<dyn MailRelay>, Arc<str>)>,
}

pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limits: StoreLimits,
    plugin_id: Arc<str>,
    /// `Some` only for channel senders: filters get no network.
    fetcher: Option<Arc<Fetcher>>,
    /// Where `kv` buckets live; `None` in calls that get no state
    /// (`describe`, `validate-config`).
    kv: Option<Arc<dyn KvBackend>>,
    /// Mail for `send` calls: the relay and the channel it is sent for.
    mail: Option<(Arc<dyn MailRelay>, Arc<str>)>,
    /// What the operator granted this plugin; checked on every host call.
    grants: Arc<Grants>,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl PluginState {
    pub fn new(
        plugin_id: Arc<str>,
        memory_limit: usize,
        footprint: Footprint,
        grants: Arc<Grants>,
        lent: Lent,
    ) -> Self {
        let Lent { fetcher, kv, mail } = lent;
        let stdout = MemoryOutputPipe::new(CAPTURED_OUTPUT_BYTES);
        let stderr = MemoryOutputPipe::new(CAPTURED_OUTPUT_BYTES);
        // The builder starts with nothing: no preopened directories, no
        // environment, no arguments, no network. Only clocks and randomness.
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        PluginState {
            wasi,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_limit)
                .instances(footprint.instances)
                .tables(footprint.tables)
                .memories(footprint.memories)
                .trap_on_grow_failure(true)
                .build(),
            plugin_id,
            fetcher,
            kv,
            mail,
            grants,
            stdout,
            stderr,
        }
    }

    /// Refuses a capability the operator withheld.
    fn granted(&self, capability: &str) -> Result<(), String> {
        if self.grants.allows(capability) {
            Ok(())
        } else {
            Err(format!(
                "the operator has not granted this plugin the {capability} capability"
            ))
        }
    }

    /// Hands a bucket to the plugin for one call (as a borrowed handle).
    pub fn lend_bucket(&mut self, bucket: KvBucket) -> wasmtime::Result<Resource<KvBucket>> {
        Ok(self.table.push(bucket)?)
    }

    /// Takes a lent bucket back after the call.
    pub fn reclaim_bucket(&mut self, handle: Resource<KvBucket>) {
        let _ = self.table.delete(handle);
    }

    /// The backend and the bucket a handle stands for (resolved before any
    /// await, so the call's future holds no borrow of the state).
    fn bucket(&self, handle: &Resource<KvBucket>) -> Target {
        self.granted("kv").map_err(KvError::Unavailable)?;
        let kv = self
            .kv
            .clone()
            .ok_or_else(|| KvError::Unavailable("no key-value state in this call".into()))?;
        let bucket = self
            .table
            .get(handle)
            .map_err(|err| KvError::Invalid(format!("unknown bucket handle: {err}")))?
            .clone();
        Ok((kv, bucket))
    }

    /// Writes what the plugin printed to the host log, once per call.
    pub fn flush_output(&self) {
        for (stream, pipe) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let bytes = pipe.contents();
            if !bytes.is_empty() {
                let text = String::from_utf8_lossy(&bytes);
                tracing::info!(plugin = %self.plugin_id, stream, output = %truncate(text.trim_end(), MAX_LOG_LINE), "plugin output");
            }
        }
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for PluginState {}

impl log::Host for PluginState {
    fn log(&mut self, level: Level, message: String) {
        if self.granted("log").is_err() {
            return;
        }
        let message = truncate(&message, MAX_LOG_LINE);
        let plugin = &*self.plugin_id;
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

impl http::Host for PluginState {
    async fn fetch(&mut self, request: Request) -> Result<Response, FetchError> {
        self.granted("http").map_err(FetchError::PolicyDenied)?;
        let Some(fetcher) = self.fetcher.clone() else {
            return Err(FetchError::PolicyDenied(
                "this plugin is not granted network access".into(),
            ));
        };
        fetcher.fetch(request).await
    }
}

type Target = Result<(Arc<dyn KvBackend>, KvBucket), KvError>;

async fn kv_get(target: Target, key: String) -> Result<Option<Vec<u8>>, KvError> {
    check_key(&key)?;
    let (kv, bucket) = target?;
    kv.get(&bucket, &key).await
}

async fn kv_set(
    target: Target,
    key: String,
    value: Vec<u8>,
    ttl_seconds: Option<u32>,
) -> Result<(), KvError> {
    check_key(&key)?;
    check_value(&value)?;
    let (kv, bucket) = target?;
    kv.set(
        KvWriteRequest {
            bucket: &bucket,
            key: &key,
            ttl_seconds,
        },
        &value,
    )
    .await
}

async fn kv_add(
    target: Target,
    key: String,
    value: Vec<u8>,
    ttl_seconds: Option<u32>,
) -> Result<bool, KvError> {
    check_key(&key)?;
    check_value(&value)?;
    let (kv, bucket) = target?;
    kv.add(
        KvWriteRequest {
            bucket: &bucket,
            key: &key,
            ttl_seconds,
        },
        &value,
    )
    .await
}

async fn kv_increment(
    target: Target,
    key: String,
    delta: i64,
    ttl_seconds: Option<u32>,
) -> Result<i64, KvError> {
    check_key(&key)?;
    let (kv, bucket) = target?;
    kv.increment(
        KvWriteRequest {
            bucket: &bucket,
            key: &key,
            ttl_seconds,
        },
        delta,
    )
    .await
}

async fn kv_delete(target: Target, key: String) -> Result<bool, KvError> {
    check_key(&key)?;
    let (kv, bucket) = target?;
    kv.delete(&bucket, &key).await
}

impl From<KvError> for kv::KvError {
    fn from(err: KvError) -> Self {
        match err {
            KvError::Invalid(why) => kv::KvError::Invalid(why),
            KvError::QuotaExceeded(why) => kv::KvError::QuotaExceeded(why),
            KvError::Unavailable(why) => kv::KvError::Unavailable(why),
        }
    }
}

impl From<KvError> for filter::beacon::plugin::kv::KvError {
    fn from(err: KvError) -> Self {
        use filter::beacon::plugin::kv::KvError as E;
        match err {
            KvError::Invalid(why) => E::Invalid(why),
            KvError::QuotaExceeded(why) => E::QuotaExceeded(why),
            KvError::Unavailable(why) => E::Unavailable(why),
        }
    }
}

// Channel senders: async, on the worker's task.
impl kv::Host for PluginState {}

impl kv::HostBucket for PluginState {
    async fn get(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
    ) -> Result<Option<Vec<u8>>, kv::KvError> {
        Ok(kv_get(self.bucket(&handle), key).await?)
    }

    async fn set(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<(), kv::KvError> {
        Ok(kv_set(self.bucket(&handle), key, value, ttl_seconds).await?)
    }

    async fn add(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<bool, kv::KvError> {
        Ok(kv_add(self.bucket(&handle), key, value, ttl_seconds).await?)
    }

    async fn increment(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
        delta: i64,
        ttl_seconds: Option<u32>,
    ) -> Result<i64, kv::KvError> {
        Ok(kv_increment(self.bucket(&handle), key, delta, ttl_seconds).await?)
    }

    async fn delete(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
    ) -> Result<bool, kv::KvError> {
        Ok(kv_delete(self.bucket(&handle), key).await?)
    }

    async fn drop(&mut self, handle: Resource<KvBucket>) -> wasmtime::Result<()> {
        // Buckets are only ever lent (borrowed); the host reclaims them after the call.
        self.reclaim_bucket(handle);
        Ok(())
    }
}

// Filters: synchronous, on the blocking thread the evaluation runs on; each
// call waits for its database round trip there.
impl filter::beacon::plugin::kv::Host for PluginState {}

impl filter::beacon::plugin::kv::HostBucket for PluginState {
    fn get(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
    ) -> Result<Option<Vec<u8>>, filter::beacon::plugin::kv::KvError> {
        Ok(block(kv_get(self.bucket(&handle), key))?)
    }

    fn set(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<(), filter::beacon::plugin::kv::KvError> {
        Ok(block(kv_set(
            self.bucket(&handle),
            key,
            value,
            ttl_seconds,
        ))?)
    }

    fn add(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<bool, filter::beacon::plugin::kv::KvError> {
        Ok(block(kv_add(
            self.bucket(&handle),
            key,
            value,
            ttl_seconds,
        ))?)
    }

    fn increment(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
        delta: i64,
        ttl_seconds: Option<u32>,
    ) -> Result<i64, filter::beacon::plugin::kv::KvError> {
        Ok(block(kv_increment(
            self.bucket(&handle),
            key,
            delta,
            ttl_seconds,
        ))?)
    }

    fn delete(
        &mut self,
        handle: Resource<KvBucket>,
        key: String,
    ) -> Result<bool, filter::beacon::plugin::kv::KvError> {
        Ok(block(kv_delete(self.bucket(&handle), key))?)
    }

    fn drop(&mut self, handle: Resource<KvBucket>) -> wasmtime::Result<()> {
        self.reclaim_bucket(handle);
        Ok(())
    }
}

/// Runs a `kv` future to completion on the calling (blocking) thread: on
/// the tokio runtime's handle when there is one (the database needs it),
/// else on a plain executor (the in-memory store of the local harness).
fn block<T>(future: impl std::future::Future<Output = Result<T, KvError>>) -> Result<T, KvError> {
    match tokio::runtime::Handle::try_current() {
        // Filters run under spawn_blocking, where blocking on the handle is allowed.
        Ok(handle) if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread => {
            tokio::task::block_in_place(|| handle.block_on(future))
        }
        Ok(handle) => handle.block_on(future),
        Err(_) => futures_executor::block_on(future),
    }
}

impl smtp_send::Host for PluginState {
    async fn send_mail(&mut self, mail: smtp_send::Mail) -> Result<String, smtp_send::MailError> {
        self.granted("smtp-send")
            .map_err(smtp_send::MailError::Rejected)?;
        let Some((relay, sender)) = self.mail.clone() else {
            return Err(smtp_send::MailError::NotConfigured);
        };
        let mail = OutgoingMail {
            to: mail.to,
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            reply_to: mail.reply_to,
        };
        let sent = match relay::check(&mail) {
            Ok(()) => relay.send(&sender, mail).await,
            Err(err) => Err(err),
        };
        sent.map_err(|err| match err {
            RelayError::NotConfigured => smtp_send::MailError::NotConfigured,
            RelayError::Invalid(why) => smtp_send::MailError::Invalid(why),
            RelayError::Rejected(why) => smtp_send::MailError::Rejected(why),
            RelayError::Unavailable(why) => smtp_send::MailError::Unavailable(why),
            RelayError::RateLimited(ms) => smtp_send::MailError::RateLimited(ms),
        })
    }
}

impl mqtt_publish::Host for PluginState {
    async fn publish(
        &mut self,
        message: mqtt_publish::MqttMessage,
    ) -> Result<(), mqtt_publish::MqttError> {
        self.granted("mqtt-publish")
            .map_err(mqtt_publish::MqttError::PolicyDenied)?;
        let Some(fetcher) = self.fetcher.clone() else {
            return Err(mqtt_publish::MqttError::PolicyDenied(
                "this plugin is not granted network access".into(),
            ));
        };
        fetcher.publish(message).await
    }
}

// The 0.2 line: the same host behaviour behind its own traits.
impl v0_2::channel::beacon::plugin::log::Host for PluginState {
    fn log(&mut self, level: v0_2::channel::beacon::plugin::log::Level, message: String) {
        use v0_2::channel::beacon::plugin::log::Level as Old;
        let level = match level {
            Old::Trace => Level::Trace,
            Old::Debug => Level::Debug,
            Old::Info => Level::Info,
            Old::Warn => Level::Warn,
            Old::Error => Level::Error,
        };
        log::Host::log(self, level, message);
    }
}

impl v0_2::channel::beacon::plugin::http::Host for PluginState {
    async fn fetch(
        &mut self,
        request: v0_2::channel::beacon::plugin::http::Request,
    ) -> Result<
        v0_2::channel::beacon::plugin::http::Response,
        v0_2::channel::beacon::plugin::http::FetchError,
    > {
        use v0_2::channel::beacon::plugin::http as old;
        let request = Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeout_ms: request.timeout_ms,
            follow_redirects: request.follow_redirects,
        };
        match http::Host::fetch(self, request).await {
            Ok(response) => Ok(old::Response {
                status: response.status,
                headers: response.headers,
                body: response.body,
            }),
            Err(err) => Err(match err {
                FetchError::PolicyDenied(why) => old::FetchError::PolicyDenied(why),
                FetchError::Timeout => old::FetchError::Timeout,
                FetchError::Connection(why) => old::FetchError::Connection(why),
                FetchError::BodyTooLarge(limit) => old::FetchError::BodyTooLarge(limit),
                FetchError::InvalidRequest(why) => old::FetchError::InvalidRequest(why),
            }),
        }
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text.to_string(),
    }
}
