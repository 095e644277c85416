//! Per-call store data: a locked-down WASI context (no files, environment,
//! sockets or arguments; stdout/stderr captured for the log), the memory
//! limits, and the host side of the `log` and `http` imports.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::http::{self, FetchError, Request, Response};
use super::bindings::log::{self, Level};
use super::bindings::types;
use super::fetch::Fetcher;

/// Bytes of stdout/stderr kept per call (a plugin printing more gets write errors).
const CAPTURED_OUTPUT_BYTES: usize = 64 * 1024;
/// Characters of one plugin log line kept.
const MAX_LOG_LINE: usize = 2_000;

pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limits: StoreLimits,
    plugin_id: Arc<str>,
    /// `Some` only for channel senders: filters get no network.
    fetcher: Option<Arc<Fetcher>>,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl PluginState {
    pub fn new(plugin_id: Arc<str>, memory_limit: usize, fetcher: Option<Arc<Fetcher>>) -> Self {
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
                .instances(8)
                .tables(8)
                .memories(4)
                .trap_on_grow_failure(true)
                .build(),
            plugin_id,
            fetcher,
            stdout,
            stderr,
        }
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
        let Some(fetcher) = self.fetcher.clone() else {
            return Err(FetchError::PolicyDenied(
                "this plugin is not granted network access".into(),
            ));
        };
        fetcher.fetch(request).await
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text.to_string(),
    }
}
