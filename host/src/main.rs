//! The `beacon` command line.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use beacon_host::config::{Config, LogFormat};
use beacon_host::ops::{self, settings::OpsSettings};
use beacon_host::{serve, AppState};
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

// Request handling allocates many small, short-lived buffers across threads;
// glibc's allocator spent a sixth of the ingest path's CPU on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "beacon",
    version,
    about = "Beacon Spear: a self-hosted event router"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything: HTTP API, ingest and the delivery worker.
    Serve(ServeArgs),
    /// Run only the web half: HTTP API and ingest (workers run elsewhere).
    Web(ServeArgs),
    /// Run only the delivery worker.
    Worker(ServeArgs),
    /// Apply database migrations and exit (`migrate status`: only list them).
    Migrate(MigrateArgs),
    /// Job health, as `GET /readyz` sees it: the database, its migrations,
    /// each worker's heartbeat and database rounds, the delivery queue.
    /// Exits non-zero when a check fails.
    Status,
    /// Write a backup archive (database, generated keys, installed plugins)
    /// while the server keeps running.
    Backup {
        /// The archive to write (a .tar.gz; replaced if it exists).
        #[arg(long)]
        out: PathBuf,
        /// Directory of pg_dump (PostgreSQL; default: PATH).
        #[arg(long)]
        pg_bin: Option<PathBuf>,
    },
    /// Restore a backup archive into DATABASE_URL and BEACON_DATA_DIR, with
    /// every Beacon Spear process stopped.
    Restore {
        /// The archive written by `beacon backup`.
        file: PathBuf,
        /// Replace existing data (a database with users or messages, key
        /// files, plugin files).
        #[arg(long)]
        force: bool,
        /// Directory of pg_restore (PostgreSQL; default: PATH).
        #[arg(long)]
        pg_bin: Option<PathBuf>,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage plugins (install, list, remove, run one locally).
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Check a component and install it into the plugins directory.
    Install { file: PathBuf },
    /// Write a new plugin project (`NAME/` in the current directory) that
    /// builds with one command and passes its own test: Rust (`cargo build
    /// --release --target wasm32-wasip2`, `cargo test`), JavaScript (`npm
    /// install && npm test && npm run build`) or Python (`python3 -m unittest
    /// discover -s tests`, `sh build.sh`).
    New {
        name: String,
        #[arg(long, value_enum)]
        kind: ScaffoldKind,
        /// `rust`, `js` or `python`.
        #[arg(long, default_value = "rust")]
        lang: String,
    },
    /// Print what the install check says about a component (world, WIT
    /// version, imported capabilities, size) without installing it.
    Check { file: PathBuf },
    /// List built-in and installed plugins, every installed version (newest first).
    List,
    /// Remove an installed plugin by id: every version, or only `--version`.
    /// (Unlike the API, this does not check what uses it.)
    Remove {
        id: String,
        #[arg(long)]
        version: Option<String>,
    },
    /// Run a plugin file against a sample message, without a server: filters
    /// print whether they match; channel senders validate the config and send.
    Run {
        file: PathBuf,
        /// Plugin config: JSON text, or @path to a JSON file.
        #[arg(long)]
        config: String,
        /// Sample message as an ingest body: JSON text or @path (default: {"body":"Test message"}).
        #[arg(long)]
        message: Option<String>,
        /// Rendered payload for a channel sender: JSON text or @path (default: {}).
        #[arg(long)]
        payload: Option<String>,
        /// Request body for an adapter: text or @path (e.g. a webhook JSON).
        #[arg(long)]
        request: Option<String>,
        /// Request header for an adapter, `Name: value` (repeatable).
        #[arg(long = "header")]
        headers: Vec<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ScaffoldKind {
    Channel,
    Filter,
    Adapter,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct MigrateArgs {
    #[command(subcommand)]
    command: Option<MigrateCommand>,
}

#[derive(Subcommand)]
enum MigrateCommand {
    /// List applied and pending migrations and checksum mismatches; exits
    /// non-zero unless the database is at this binary's head.
    Status,
}

#[derive(Args)]
struct ServeArgs {
    /// Do not apply migrations at start.
    #[arg(long)]
    no_migrate: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (operator bootstrap; sends no mail).
    Create {
        #[arg(long)]
        email: String,
        /// The password (visible in the process list; prefer --password-stdin).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Mark the e-mail address as verified.
        #[arg(long)]
        verified: bool,
        /// Make the user an operator (manages plugins for everyone).
        #[arg(long)]
        admin: bool,
    },
    /// Make an existing user an operator.
    Promote {
        /// The user's e-mail address.
        email: String,
    },
    /// Disable a user: log-in, API calls and ingest answer 403 until re-enabled.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Re-enable a disabled user.
    Enable {
        #[arg(long)]
        email: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        println!("{}", beacon_host::api::openapi().to_pretty_json()?);
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // These never generate the keys a first start writes into the data dir.
    if matches!(
        cli.command,
        Command::Backup { .. }
            | Command::Restore { .. }
            | Command::Migrate(MigrateArgs { command: Some(_) })
    ) {
        let settings = OpsSettings::from_env()?;
        init_logging(&settings.config);
        return runtime.block_on(run_operation(cli.command, settings));
    }
    let config = Config::from_env().map_err(|err| anyhow::anyhow!("configuration error: {err}"))?;
    init_logging(&config);
    runtime.block_on(run(cli.command, config))
}

/// Backup, restore and migration status.
async fn run_operation(command: Command, settings: OpsSettings) -> anyhow::Result<()> {
    match command {
        Command::Backup { out, pg_bin } => {
            let report =
                ops::backup::backup(&settings, &ops::backup::BackupOptions { out, pg_bin })
                    .await
                    .context("backup failed")?;
            for warning in &report.warnings {
                eprintln!("warning: {warning}");
            }
            let manifest = &report.manifest;
            println!(
                "backup written to {} ({} bytes, {} database at schema version {}, {} plugin file(s)) in {:.1} s",
                report.path.display(),
                report.bytes,
                manifest.database.kind.as_str(),
                manifest.database.schema_version,
                manifest.plugins.len(),
                report.elapsed.as_secs_f64()
            );
            Ok(())
        }
        Command::Restore {
            file,
            force,
            pg_bin,
        } => {
            let options = ops::restore::RestoreOptions {
                archive: file,
                force,
                pg_bin,
            };
            let report = ops::restore::restore(&settings, &options)
                .await
                .context("restore failed")?;
            let manifest = &report.manifest;
            println!(
                "restored {} ({} database at schema version {}, made {} by beacon {}; {} plugin file(s)) in {:.1} s",
                options.archive.display(),
                manifest.database.kind.as_str(),
                manifest.database.schema_version,
                manifest.created_at,
                manifest.beacon_version,
                manifest.plugins.len(),
                report.elapsed.as_secs_f64()
            );
            for warning in &report.warnings {
                eprintln!("warning: {warning}");
            }
            println!("start the server as usual: it applies any newer migrations first");
            Ok(())
        }
        Command::Migrate(MigrateArgs {
            command: Some(MigrateCommand::Status),
        }) => {
            let config = &settings.config;
            if !config.is_postgres() {
                if let Some(path) = beacon_host::storage::sqlite_file(&config.database_url)? {
                    if !path.exists() {
                        bail!(
                            "there is no SQLite database at {}: every migration is pending (beacon migrate creates it)",
                            path.display()
                        );
                    }
                }
            }
            let store = beacon_host::storage::Store::connect(&config.database_url, 2)
                .await
                .context("connecting to the database")?;
            let report = ops::migrations::status(&store).await;
            store.close().await;
            let report = report?;
            print!("{}", report.text);
            if !report.at_head {
                bail!(
                    "the database is not at this binary's head: {}",
                    report.summary
                );
            }
            Ok(())
        }
        _ => bail!("not an operation command"),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let with_worker = matches!(command, Command::Serve(_));
    match command {
        Command::Serve(args) | Command::Web(args) => {
            if config.jwt.key_generated {
                tracing::warn!(path = %config.data_dir.join("jwt_signing_key").display(), "JWT_SIGNING_KEY is not set; using a generated key (set one in production)");
            }
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding BEACON_LISTEN={}", config.listen))?;
            let state = AppState::build(config, !args.no_migrate).await?;
            let address = listener.local_addr()?;
            tracing::info!(%address, with_worker, "listening");
            if !beacon_host::api::dashboard::is_built() {
                tracing::warn!("the dashboard is not built into this binary; run scripts/build-dashboard.sh and rebuild (the API works without it)");
            }
            println!(
                "Beacon Spear is running at {} (API on http://{address})",
                state.config.app_base_url
            );
            // One signal stops both halves; the worker finishes its in-flight sends.
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let worker = with_worker.then(|| {
                let mut stopped = stopped.clone();
                tokio::spawn(state.worker().run(async move {
                    let _ = stopped.changed().await;
                }))
            });
            serve(state, listener, async move {
                shutdown_signal().await;
                let _ = stop.send(true);
            })
            .await?;
            if let Some(worker) = worker {
                let _ = worker.await;
            }
            Ok(())
        }
        Command::Worker(args) => {
            let state = AppState::build(config, !args.no_migrate).await?;
            // On a runtime thread, not this one: the loop's wake-ups then stay
            // on the threads that run the sends and the database calls.
            let worker = tokio::spawn(state.standalone_worker().run(shutdown_signal()));
            let _ = worker.await;
            state.store.close().await;
            Ok(())
        }
        Command::Migrate(_) => {
            AppState::build(config, true).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Status => {
            let state = AppState::build(config, false).await?;
            let report = state.app.health.report().await;
            print_status(&report);
            state.store.close().await;
            if report.verdict != beacon_host::app::health::Readiness::Ready {
                bail!("not ready: {:?}", report.verdict);
            }
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            password,
            password_stdin,
            verified,
            admin,
        }) => {
            let password = match (password, password_stdin) {
                (Some(password), _) => password,
                (None, true) => {
                    let mut input = String::new();
                    std::io::stdin().read_to_string(&mut input)?;
                    input.trim_end_matches(['\r', '\n']).to_string()
                }
                (None, false) => bail!("give --password or --password-stdin"),
            };
            let state = AppState::build(config, true).await?;
            let user = state
                .app
                .accounts
                .create_user(&email, &password, verified)
                .await
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            if admin {
                state
                    .app
                    .accounts
                    .promote(&user.email)
                    .await
                    .map_err(|err| anyhow::anyhow!("{err}"))?;
            }
            println!(
                "created {} {} <{}>{}",
                if admin { "operator" } else { "user" },
                user.id,
                user.email,
                if verified { " (verified)" } else { "" }
            );
            Ok(())
        }
        Command::User(UserCommand::Promote { email }) => {
            let state = AppState::build(config, true).await?;
            let promoted = state
                .app
                .accounts
                .promote(&email)
                .await
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            if !promoted {
                bail!("no user has the address {email}");
            }
            println!("{email} is now an operator");
            Ok(())
        }
        Command::User(UserCommand::Disable { email }) => set_disabled(config, &email, true).await,
        Command::User(UserCommand::Enable { email }) => set_disabled(config, &email, false).await,
        // Writes files only: no registry, no plugin code.
        Command::Plugin(PluginCommand::New { name, kind, lang }) => {
            let kind = match kind {
                ScaffoldKind::Channel => beacon_host::scaffold::Kind::Channel,
                ScaffoldKind::Filter => beacon_host::scaffold::Kind::Filter,
                ScaffoldKind::Adapter => beacon_host::scaffold::Kind::Adapter,
            };
            let root =
                beacon_host::scaffold::create(&std::env::current_dir()?, &name, kind, &lang)?;
            println!(
                "created {}\n  cd {name} && {}",
                root.display(),
                beacon_host::scaffold::next_steps(&lang)
            );
            Ok(())
        }
        // Plugin code runs on a blocking thread, never on an async worker.
        Command::Plugin(command) => {
            tokio::task::spawn_blocking(move || plugin_command(config, command)).await?
        }
        Command::Openapi => Ok(()),
        Command::Backup { .. } | Command::Restore { .. } => {
            bail!("backup and restore run before the server's configuration loads")
        }
    }
}

fn plugin_command(config: Config, command: PluginCommand) -> anyhow::Result<()> {
    let registry =
        beacon_host::plugins::start(&config.plugins).map_err(|err| anyhow::anyhow!("{err}"))?;
    match command {
        PluginCommand::New { .. } => bail!("plugin new is handled before the registry starts"),
        PluginCommand::Install { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let info = registry
                .install(&bytes)
                .map_err(|err| anyhow::anyhow!("{}: {err}", file.display()))?;
            println!(
                "installed {} {} ({} plugin) into {}",
                info.id,
                info.version,
                info.kind.as_str(),
                config.plugins.dir.display()
            );
            match config.plugins.reload_every {
                Some(every) => println!(
                    "running servers and workers pick it up within {} s (PLUGIN_RELOAD_SECONDS)",
                    every.as_secs()
                ),
                None => println!(
                    "running servers and workers load it at their next start (PLUGIN_RELOAD_SECONDS=0)"
                ),
            }
        }
        PluginCommand::Check { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let plugin = registry
                .runtime()
                .load(&bytes)
                .map_err(|err| anyhow::anyhow!("{}: refused: {err}", file.display()))?;
            let info = &plugin.info;
            let world = match info.kind {
                beacon_host::plugins::runtime::PluginKind::Channel => "channel-sender",
                beacon_host::plugins::runtime::PluginKind::Filter => "filter",
                beacon_host::plugins::runtime::PluginKind::Adapter => "adapter",
            };
            println!("{}: accepted", file.display());
            println!(
                "  plugin        {} {} ({})",
                info.id, info.version, info.name
            );
            println!("  world         beacon:plugin/{world}@{}", info.wit_version);
            println!("  capabilities  {}", info.capabilities.join(", "));
            println!("  size          {} bytes", bytes.len());
            println!("  sha256        {}", plugin.sha256);
        }
        PluginCommand::List => {
            for plugin in registry.list() {
                let origin = if plugin.builtin {
                    "built-in"
                } else {
                    "installed"
                };
                let versions: Vec<&str> = plugin
                    .versions
                    .iter()
                    .map(|v| v.info.version.as_str())
                    .collect();
                println!(
                    "{:<24} {:<16} {:<8} {origin}",
                    plugin.info.id,
                    versions.join(", "),
                    plugin.info.kind.as_str()
                );
            }
        }
        PluginCommand::Remove { id, version } => {
            let removed = match &version {
                Some(version) => registry.remove_version(&id, version),
                None => registry.remove(&id),
            };
            if !removed.map_err(|err| anyhow::anyhow!("{err}"))? {
                bail!(
                    "no installed plugin {id}{}",
                    version.map(|v| format!(" {v}")).unwrap_or_default()
                );
            }
            println!("removed {id}");
        }
        PluginCommand::Run {
            file,
            config: plugin_config,
            message,
            payload,
            request,
            headers,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let plugin = registry
                .runtime()
                .load(&bytes)
                .map_err(|err| anyhow::anyhow!("{}: {err}", file.display()))?;
            let plugin_config = json_argument(&plugin_config, "--config")?;
            let message_json = json_argument(
                message.as_deref().unwrap_or(r#"{"body":"Test message"}"#),
                "--message",
            )?;
            let payload = json_argument(payload.as_deref().unwrap_or("{}"), "--payload")?;
            let sample = beacon_host::domain::payload::parse(
                beacon_host::domain::BodyKind::Json,
                message_json.as_bytes(),
            )
            .map_err(|err| anyhow::anyhow!("--message: {err}"))?;
            let (id, received_at) = beacon_host::domain::new_id_with_time();
            let message = beacon_host::plugins::wit_message(&beacon_host::domain::Message {
                id,
                endpoint_id: "local".into(),
                endpoint_name: "local harness".into(),
                received_at,
                payload: sample,
                request: Default::default(),
                filter_errors: Vec::new(),
                deliver_at: None,
            });
            println!(
                "plugin {} {} ({})",
                plugin.info.id,
                plugin.info.version,
                plugin.info.kind.as_str()
            );
            let runtime = registry.runtime();
            // The harness keeps plugin state in memory for this one call.
            let kv: std::sync::Arc<dyn beacon_host::plugins::kv::KvBackend> =
                std::sync::Arc::new(beacon_host::plugins::kv::MemoryKv::default());
            if let Err(err) = runtime
                .validate_config(&plugin, &plugin_config)
                .map_err(|err| anyhow::anyhow!("{err}"))?
            {
                bail!(
                    "config refused: {}: {}",
                    if err.field.is_empty() {
                        "(config)"
                    } else {
                        &err.field
                    },
                    err.message
                );
            }
            match plugin.info.kind {
                beacon_host::plugins::runtime::PluginKind::Adapter => {
                    let body = match request.as_deref() {
                        Some(value) => text_argument(value, "--request")?,
                        None => bail!("an adapter needs --request (the webhook body)"),
                    };
                    let mut pairs = Vec::new();
                    for header in &headers {
                        let Some((name, value)) = header.split_once(':') else {
                            bail!("--header {header:?}: expected `Name: value`");
                        };
                        pairs.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                    }
                    let inbound = beacon_host::plugins::runtime::InboundRequest {
                        method: "POST".into(),
                        query: Vec::new(),
                        headers: pairs,
                        body: body.into_bytes(),
                        endpoint_id: "local".into(),
                        endpoint_name: "local harness".into(),
                    };
                    match runtime
                        .adapt(&plugin, &plugin_config, &inbound)
                        .map_err(|err| anyhow::anyhow!("{err}"))?
                    {
                        Ok(messages) => {
                            let mut shown = Vec::new();
                            for (index, message) in messages.into_iter().enumerate() {
                                let payload =
                                    beacon_host::app::adapters::payload_of(message, index)
                                        .map_err(|err| anyhow::anyhow!("{err}"))?;
                                shown.push(beacon_host::app::adapters::payload_json(&payload));
                            }
                            println!("{}", serde_json::to_string_pretty(&shown)?);
                        }
                        Err(beacon_host::plugins::runtime::AdaptError::Invalid(why)) => {
                            bail!("the adapter refused the request (422): {why}")
                        }
                        Err(beacon_host::plugins::runtime::AdaptError::Unauthorized(why)) => {
                            bail!("the adapter refused the request (401): {why}")
                        }
                    }
                }
                beacon_host::plugins::runtime::PluginKind::Filter => {
                    let mut session = runtime
                        .filter_session(&plugin, kv)
                        .map_err(|err| anyhow::anyhow!("{err}"))?;
                    let bucket = beacon_host::plugins::kv::KvBucket::for_rule(
                        "local",
                        "local",
                        &plugin.info.id,
                    );
                    match session
                        .evaluate(&plugin_config, bucket, &message)
                        .map_err(|err| anyhow::anyhow!("{err}"))?
                    {
                        Ok(verdict) => {
                            let mut answer = serde_json::json!({"matched": verdict.matched});
                            if let Some(note) = verdict.note {
                                answer["note"] = serde_json::json!(note);
                            }
                            println!("{answer}")
                        }
                        Err(reason) => bail!("filter could not decide: {reason}"),
                    }
                }
                beacon_host::plugins::runtime::PluginKind::Channel => {
                    let outcome = runtime
                        .send_blocking(
                            &plugin,
                            &plugin_config,
                            &payload,
                            &message,
                            beacon_host::plugins::runtime::CallState {
                                kv,
                                bucket: beacon_host::plugins::kv::KvBucket::for_channel(
                                    "local", "local",
                                ),
                                mail: std::sync::Arc::new(beacon_host::plugins::mail::NoMail),
                            },
                        )
                        .map_err(|err| anyhow::anyhow!("{err}"))?;
                    match outcome {
                        Ok(sent) => println!(
                            "{}",
                            serde_json::json!({"sent": true, "http_status": sent.http_status, "response": sent.response_snippet})
                        ),
                        Err(beacon_host::plugins::runtime::SendError::Retryable(err)) => {
                            bail!(
                                "send failed (retryable): {} (retry after {:?} ms)",
                                err.message,
                                err.retry_after_ms
                            )
                        }
                        Err(beacon_host::plugins::runtime::SendError::Permanent(err)) => {
                            bail!(
                                "send failed (permanent): {} (HTTP status {:?})",
                                err.message,
                                err.http_status
                            )
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// A text command-line argument: inline text or `@path`.
fn text_argument(value: &str, flag: &str) -> anyhow::Result<String> {
    match value.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("{flag}: reading {path}"))
        }
        None => Ok(value.to_string()),
    }
}

/// A JSON command-line argument: inline text or `@path`.
fn json_argument(value: &str, flag: &str) -> anyhow::Result<String> {
    let text = match value.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("{flag}: reading {path}"))?
        }
        None => value.to_string(),
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .with_context(|| format!("{flag} is not valid JSON"))?;
    Ok(text)
}

async fn set_disabled(config: Config, email: &str, disabled: bool) -> anyhow::Result<()> {
    let state = AppState::build(config, true).await?;
    if !state.app.accounts.set_disabled(email, disabled).await? {
        bail!("no user with e-mail {email}");
    }
    println!("{} {email}", if disabled { "disabled" } else { "enabled" });
    Ok(())
}

/// `beacon status`: one line per check, then the workers and the queue.
fn print_status(report: &beacon_host::app::health::ReadinessReport) {
    use beacon_host::app::health::Readiness;
    let (database, migrations, workers) = match report.verdict {
        Readiness::Ready => ("ok", "ok", "ok"),
        Readiness::DatabaseUnreachable => ("unreachable", "unknown", "unknown"),
        Readiness::MigrationsPending => ("ok", "pending (run beacon migrate)", "unknown"),
        Readiness::NoRecentWorker => ("ok", "ok", "no heartbeat in the last 30 s"),
        Readiness::WorkersFailing => (
            "ok",
            "ok",
            "every recent worker is failing its database rounds",
        ),
    };
    println!("database    {database}");
    println!("migrations  {migrations}");
    println!("workers     {workers}");
    for worker in &report.workers {
        let round = worker
            .last_round_age_ms
            .map_or("none yet".to_string(), |ms| {
                format!("{:.1} s ago", ms as f64 / 1000.0)
            });
        println!(
            "  {}  heartbeat {:.1} s ago, last round {round}, {} failed in a row",
            worker.id,
            worker.heartbeat_age_ms as f64 / 1000.0,
            worker.consecutive_failures
        );
    }
    if let Some(queue) = &report.queue {
        println!(
            "queue       {} due, {} waiting, oldest due for {:.1} s",
            queue.due,
            queue.waiting,
            queue.oldest_due_age_ms as f64 / 1000.0
        );
    }
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        // Fields at the top level: {"timestamp", "level", "message", "route", ...}.
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
