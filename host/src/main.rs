//! The `beacon` command line.

use std::io::Read;

use anyhow::{bail, Context};
use beacon_host::config::{Config, LogFormat};
use beacon_host::{serve, AppState};
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

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
    /// Run the server: HTTP API and ingest.
    Serve(ServeArgs),
    /// Run only the web half (API and ingest) — the same as `serve` until the delivery worker exists.
    Web(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the OpenAPI document.
    Openapi,
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
    let config = Config::from_env().map_err(|err| anyhow::anyhow!("configuration error: {err}"))?;
    init_logging(&config);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli.command, config))
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
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
            tracing::info!(%address, "listening");
            println!(
                "Beacon Spear is running at {} (API on http://{address})",
                state.config.app_base_url
            );
            serve(state, listener, shutdown_signal()).await
        }
        Command::Migrate => {
            AppState::build(config, true).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            password,
            password_stdin,
            verified,
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
                .auth
                .create_user(&email, &password, verified)
                .await
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            println!(
                "created user {} <{}>{}",
                user.id,
                user.email,
                if verified { " (verified)" } else { "" }
            );
            Ok(())
        }
        Command::User(UserCommand::Disable { email }) => set_disabled(config, &email, true).await,
        Command::User(UserCommand::Enable { email }) => set_disabled(config, &email, false).await,
        Command::Openapi => Ok(()),
    }
}

async fn set_disabled(config: Config, email: &str, disabled: bool) -> anyhow::Result<()> {
    let state = AppState::build(config, true).await?;
    if !state.store.set_user_disabled(email, disabled).await? {
        bail!("no user with e-mail {email}");
    }
    println!("{} {email}", if disabled { "disabled" } else { "enabled" });
    Ok(())
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
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
