//! One typed configuration, read from the environment (and `.env`) once at
//! start-up and passed explicitly to whatever needs it.
//!
//! [`VARIABLES`] is the single list of every variable with its default; the
//! loader reads only through it and `docs/configuration.md` is checked
//! against it by a test, so code and documentation cannot drift apart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use rand::RngCore;

/// One documented environment variable.
pub struct Variable {
    pub name: &'static str,
    /// Default as written in the docs; empty means "unset".
    pub default: &'static str,
    pub description: &'static str,
}

/// Every variable Beacon Spear reads, in documentation order.
pub const VARIABLES: &[Variable] = &[
    Variable { name: "BEACON_LISTEN", default: "127.0.0.1:8080", description: "Address and port the HTTP server binds to." },
    Variable { name: "BEACON_DATA_DIR", default: "./data", description: "Directory for the SQLite file, the mail outbox, generated keys and the plugin cache." },
    Variable { name: "DATABASE_URL", default: "", description: "`sqlite://…` or `postgres://…`. Unset: `sqlite://<BEACON_DATA_DIR>/beacon.db`." },
    Variable { name: "DATABASE_MAX_CONNECTIONS", default: "16", description: "Size of the database connection pool." },
    Variable { name: "APP_BASE_URL", default: "", description: "Public URL of the server, used in e-mail links and shown ingest URLs. Unset: `http://<BEACON_LISTEN>`." },
    Variable { name: "TRUSTED_PROXIES", default: "", description: "Comma-separated CIDRs of reverse proxies whose `X-Forwarded-For` is believed." },
    Variable { name: "JWT_SIGNING_KEY", default: "", description: "HMAC key for access tokens, at least 32 characters. Unset: generated once into `<BEACON_DATA_DIR>/jwt_signing_key` (set it in production)." },
    Variable { name: "JWT_ACCESS_TTL_SECONDS", default: "900", description: "Lifetime of an access token." },
    Variable { name: "JWT_REFRESH_TTL_SECONDS", default: "2592000", description: "Lifetime of a refresh token (each use rotates it)." },
    Variable { name: "TOKEN_PURGE_INTERVAL_SECONDS", default: "3600", description: "How often web processes delete expired refresh tokens and expired e-mail/reset tokens (they can no longer be used; rotated ones are kept until they expire, for reuse detection)." },
    Variable { name: "JWT_REFRESH_COOKIE_NAME", default: "beacon_refresh", description: "Name of the HttpOnly refresh cookie." },
    Variable { name: "JWT_REFRESH_COOKIE_SECURE", default: "true", description: "Mark the refresh cookie `Secure` (set `false` only for plain-HTTP local use)." },
    Variable { name: "JWT_REFRESH_COOKIE_SAMESITE", default: "Strict", description: "`Strict`, `Lax` or `None`." },
    Variable { name: "EMAIL_HOST", default: "", description: "SMTP server for account mail and for plugins that send mail (the `email` channel). Unset: account mail is written to the log and to `<BEACON_DATA_DIR>/outbox`, and channels that send mail are refused." },
    Variable { name: "EMAIL_PORT", default: "587", description: "SMTP port." },
    Variable { name: "EMAIL_HOST_USER", default: "", description: "SMTP user name (no authentication when empty)." },
    Variable { name: "EMAIL_HOST_PASSWORD", default: "", description: "SMTP password." },
    Variable { name: "EMAIL_USE_TLS", default: "false", description: "Use STARTTLS." },
    Variable { name: "EMAIL_USE_SSL", default: "false", description: "Use implicit TLS (usually port 465). Exclusive with `EMAIL_USE_TLS`." },
    Variable { name: "EMAIL_TIMEOUT_SECONDS", default: "10", description: "Timeout for one SMTP conversation." },
    Variable { name: "DEFAULT_FROM_EMAIL", default: "Beacon Spear <noreply@localhost>", description: "Sender of account e-mails." },
    Variable { name: "REQUIRE_VERIFIED_EMAIL_FOR_INGEST", default: "true", description: "Refuse ingest (403) for users whose e-mail is not verified." },
    Variable { name: "MAX_INGEST_BYTES", default: "1048576", description: "Largest accepted ingest body in bytes (413 above)." },
    Variable { name: "MAX_DELIVERY_DELAY_SECONDS", default: "604800", description: "How far ahead a message may be scheduled (`deliver_at`, `delay`, ntfy's `Delay`/`At`); 7 days by default." },
    Variable { name: "INGEST_RATE_LIMIT_PER_MINUTE", default: "600", description: "Ingest requests allowed per endpoint per minute (bursts up to the same number); 0 disables the limit." },
    Variable { name: "INGEST_WRITERS", default: "", description: "Concurrent group-commit writers for ingest. Unset: 1 on SQLite, 2 on PostgreSQL." },
    Variable { name: "AUTH_RATE_LIMIT_PER_IP_PER_MINUTE", default: "30", description: "Sign-up, log-in, forgot-password and resend-verification calls allowed per client IP per minute, per action." },
    Variable { name: "AUTH_RATE_LIMIT_PER_EMAIL_PER_MINUTE", default: "10", description: "The same calls allowed per e-mail address per minute, per action." },
    Variable { name: "BEACON_PLUGINS_DIR", default: "", description: "Directory of installed plugin `.wasm` files. Unset: `<BEACON_DATA_DIR>/plugins`." },
    Variable { name: "PLUGIN_RELOAD_SECONDS", default: "10", description: "How often running servers and workers re-read the plugins directory (installed, upgraded and removed plugins take effect without a restart); 0 disables." },
    Variable { name: "BEACON_PLUGIN_CACHE_DIR", default: "", description: "Where compiled plugins are cached. Unset: `<BEACON_DATA_DIR>/plugin-cache`." },
    Variable { name: "BEACON_OUTBOUND_ALLOWLIST", default: "", description: "Comma-separated host names and CIDRs that plugins may reach even though they are loopback or private (e.g. a Bark server or an MQTT broker on the LAN)." },
    Variable { name: "BARK_BLOCK_PRIVATE_NETWORKS", default: "true", description: "Refuse plugin requests to private ranges (RFC 1918, CGNAT, IPv6 ULA). Loopback and link-local are always refused unless allowlisted." },
    Variable { name: "PLUGIN_BLOCK_PRIVATE_NETWORKS_OVERRIDES", default: "", description: "Per-plugin overrides of `BARK_BLOCK_PRIVATE_NETWORKS`, e.g. `webhook=false,ntfy=true`." },
    Variable { name: "BARK_REQUEST_TIMEOUT_SECONDS", default: "10", description: "Longest outbound request a plugin may make; the host caps whatever a plugin asks for." },
    Variable { name: "PLUGIN_FETCH_MAX_BODY_BYTES", default: "1048576", description: "Largest request body a plugin may send and response body it may receive." },
    Variable { name: "PLUGIN_FILTER_TIMEOUT_MS", default: "50", description: "Deadline of one filter evaluation; a filter over it counts as not matched." },
    Variable { name: "PLUGIN_ADAPTER_TIMEOUT_MS", default: "1000", description: "Deadline of one ingest adapter call (webhook JSON to messages); a request whose adapter runs over it answers 422 and stores nothing." },
    Variable { name: "PLUGIN_MEMORY_LIMIT_MB", default: "64", description: "Linear memory one plugin instance may grow to." },
    Variable { name: "CHANNEL_CONFIG_ENCRYPTION_KEY", default: "", description: "32-byte key (64 hex digits or base64) that encrypts channel configs at rest. Unset: generated once into `<BEACON_DATA_DIR>/channel_config_key` (set it in production and back it up)." },
    Variable { name: "DELIVERY_BACKOFF_BASE_SECONDS", default: "5", description: "First retry delay; it doubles per attempt (plus up to 20 % jitter)." },
    Variable { name: "DELIVERY_BACKOFF_MAX_SECONDS", default: "1800", description: "Longest delay between two attempts." },
    Variable { name: "DELIVERY_MAX_ATTEMPTS", default: "10", description: "Attempts before a retryable failure becomes final." },
    Variable { name: "WORKER_CONCURRENCY", default: "16", description: "Deliveries one worker sends at the same time." },
    Variable { name: "WORKER_LEASE_SECONDS", default: "60", description: "How long a claimed delivery stays with its worker; if the worker dies, it is claimed again after this. Must exceed `BARK_REQUEST_TIMEOUT_SECONDS` plus a few seconds." },
    Variable { name: "WORKER_POLL_INTERVAL_MS", default: "1000", description: "Fallback polling for retries that become due (new work wakes the worker at once)." },
    Variable { name: "LOG_FORMAT", default: "", description: "`json` (one JSON object per line) or `text`; unset: `text` when the log goes to a terminal, `json` otherwise." },
    Variable { name: "BEACON_LOG_FORMAT", default: "", description: "The former name of `LOG_FORMAT`, read when that is unset." },
    Variable { name: "METRICS_TOKEN", default: "", description: "When set, `GET /metrics` wants `Authorization: Bearer <token>` (401 otherwise); unset, the metrics are open (keep the port private)." },
    Variable { name: "RUST_LOG", default: "info", description: "Log filter (tracing `EnvFilter` syntax)." },
];

/// `LOG_FORMAT` (or its former name): json, text, or by whether the log
/// (standard error) is a terminal.
fn log_format(env: &Env) -> Result<LogFormat, ConfigError> {
    use std::io::IsTerminal;
    let (name, value) = match env.get("LOG_FORMAT")? {
        value if value.is_empty() => ("BEACON_LOG_FORMAT", env.get("BEACON_LOG_FORMAT")?),
        value => ("LOG_FORMAT", value),
    };
    match value.as_str() {
        "json" => Ok(LogFormat::Json),
        "text" => Ok(LogFormat::Text),
        "" if std::io::stderr().is_terminal() => Ok(LogFormat::Text),
        "" => Ok(LogFormat::Json),
        _ => Err(ConfigError {
            name,
            reason: "must be json or text".into(),
        }),
    }
}

/// A configuration value that could not be used; names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    Plain,
    StartTls,
    ImplicitTls,
}

#[derive(Clone, Debug)]
pub struct EmailConfig {
    /// `None`: write mail to the log and the outbox folder.
    pub host: Option<String>,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub security: SmtpSecurity,
    pub timeout: Duration,
    pub from: String,
}

#[derive(Clone, Debug)]
pub struct JwtConfig {
    pub signing_key: Vec<u8>,
    /// True when the key was generated into the data dir rather than set.
    pub key_generated: bool,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub cookie_name: String,
    pub cookie_secure: bool,
    pub cookie_same_site: SameSite,
}

#[derive(Clone, Debug)]
pub struct RateLimits {
    /// Per endpoint per minute; 0 = unlimited.
    pub ingest_per_minute: u32,
    pub auth_per_ip_per_minute: u32,
    pub auth_per_email_per_minute: u32,
}

#[derive(Clone, Debug)]
pub struct PluginConfig {
    pub dir: PathBuf,
    /// Re-read the plugins directory this often; `None` = never.
    pub reload_every: Option<Duration>,
    pub cache_dir: PathBuf,
    pub outbound_allowlist: Vec<String>,
    pub block_private_networks: bool,
    /// Plugin id → block private networks, overriding the default.
    pub block_private_overrides: Vec<(String, bool)>,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub filter_timeout: Duration,
    pub adapter_timeout: Duration,
    pub memory_bytes: usize,
}

#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub max_attempts: i64,
    pub concurrency: usize,
    pub lease: Duration,
    pub poll_interval: Duration,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_max_connections: u32,
    pub app_base_url: String,
    pub trusted_proxies: Vec<IpNet>,
    pub jwt: JwtConfig,
    pub email: EmailConfig,
    pub require_verified_email_for_ingest: bool,
    pub max_ingest_bytes: usize,
    pub max_delivery_delay: Duration,
    /// `None`: choose by database.
    pub ingest_writers: Option<usize>,
    /// How often expired tokens are deleted.
    pub token_purge_interval: Duration,
    pub rate_limits: RateLimits,
    pub plugins: PluginConfig,
    pub delivery: DeliveryConfig,
    /// Key text for channel config encryption (configured or generated).
    pub channel_config_key: String,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// What `GET /metrics` wants as a bearer token (`None`: open).
    pub metrics_token: Option<String>,
}

impl Config {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is reported by dotenvy's own error.
        if let Err(err) = dotenvy::dotenv() {
            if !err.not_found() {
                return Err(ConfigError {
                    name: "BEACON_DATA_DIR",
                    reason: format!(".env could not be read: {err}"),
                });
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any name → value lookup (tests pass a map).
    /// Side effect: creates the data directory and, if needed, the generated JWT key.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup: &lookup };
        let listen: SocketAddr = env.parse("BEACON_LISTEN")?;
        let data_dir = PathBuf::from(env.get("BEACON_DATA_DIR")?);
        std::fs::create_dir_all(&data_dir).map_err(|err| ConfigError {
            name: "BEACON_DATA_DIR",
            reason: format!("cannot create {}: {err}", data_dir.display()),
        })?;

        let database_url = match env.get("DATABASE_URL")? {
            url if url.is_empty() => {
                format!("sqlite://{}?mode=rwc", data_dir.join("beacon.db").display())
            }
            url if url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://") =>
            {
                url
            }
            _ => {
                return Err(ConfigError {
                    name: "DATABASE_URL",
                    reason: "must start with sqlite: or postgres://".into(),
                })
            }
        };
        let app_base_url = match env.get("APP_BASE_URL")? {
            url if url.is_empty() => format!("http://{listen}"),
            url if url.starts_with("http://") || url.starts_with("https://") => {
                url.trim_end_matches('/').to_string()
            }
            _ => {
                return Err(ConfigError {
                    name: "APP_BASE_URL",
                    reason: "must be an absolute http(s) URL".into(),
                })
            }
        };

        let ingest_writers = match env.get("INGEST_WRITERS")? {
            value if value.is_empty() => None,
            _ => Some(env.parse_in_range("INGEST_WRITERS", 1, 64)?),
        };

        Ok(Config {
            listen,
            database_url,
            database_max_connections: env.parse_in_range("DATABASE_MAX_CONNECTIONS", 1, 1000)?,
            app_base_url,
            trusted_proxies: env.cidr_list("TRUSTED_PROXIES")?,
            jwt: JwtConfig {
                signing_key: signing_key(&env, &data_dir)?,
                key_generated: env.get("JWT_SIGNING_KEY")?.is_empty(),
                access_ttl: Duration::from_secs(env.parse_in_range(
                    "JWT_ACCESS_TTL_SECONDS",
                    1,
                    86_400 * 7,
                )?),
                refresh_ttl: Duration::from_secs(env.parse_in_range(
                    "JWT_REFRESH_TTL_SECONDS",
                    60,
                    86_400 * 3650,
                )?),
                cookie_name: env.non_empty("JWT_REFRESH_COOKIE_NAME")?,
                cookie_secure: env.bool("JWT_REFRESH_COOKIE_SECURE")?,
                cookie_same_site: match env
                    .get("JWT_REFRESH_COOKIE_SAMESITE")?
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "strict" => SameSite::Strict,
                    "lax" => SameSite::Lax,
                    "none" => SameSite::None,
                    _ => {
                        return Err(ConfigError {
                            name: "JWT_REFRESH_COOKIE_SAMESITE",
                            reason: "must be Strict, Lax or None".into(),
                        })
                    }
                },
            },
            email: email_config(&env)?,
            require_verified_email_for_ingest: env.bool("REQUIRE_VERIFIED_EMAIL_FOR_INGEST")?,
            max_ingest_bytes: env.parse_in_range("MAX_INGEST_BYTES", 1, 64 * 1024 * 1024)?,
            max_delivery_delay: Duration::from_secs(env.parse_in_range(
                "MAX_DELIVERY_DELAY_SECONDS",
                1,
                366 * 86_400,
            )?),
            ingest_writers,
            token_purge_interval: Duration::from_secs(env.parse_in_range(
                "TOKEN_PURGE_INTERVAL_SECONDS",
                1,
                7 * 86_400,
            )?),
            rate_limits: RateLimits {
                ingest_per_minute: env.parse_in_range(
                    "INGEST_RATE_LIMIT_PER_MINUTE",
                    0,
                    u32::MAX,
                )?,
                auth_per_ip_per_minute: env.parse_in_range(
                    "AUTH_RATE_LIMIT_PER_IP_PER_MINUTE",
                    1,
                    u32::MAX,
                )?,
                auth_per_email_per_minute: env.parse_in_range(
                    "AUTH_RATE_LIMIT_PER_EMAIL_PER_MINUTE",
                    1,
                    u32::MAX,
                )?,
            },
            plugins: plugin_config(&env, &data_dir)?,
            delivery: delivery_config(&env)?,
            channel_config_key: channel_config_key(&env, &data_dir)?,
            log_format: log_format(&env)?,
            log_filter: env.get("RUST_LOG")?,
            metrics_token: Some(env.get("METRICS_TOKEN")?).filter(|token| !token.is_empty()),
            data_dir,
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}

fn email_config(env: &Env<'_>) -> Result<EmailConfig, ConfigError> {
    let use_tls = env.bool("EMAIL_USE_TLS")?;
    let use_ssl = env.bool("EMAIL_USE_SSL")?;
    let security = match (use_tls, use_ssl) {
        (true, true) => {
            return Err(ConfigError {
                name: "EMAIL_USE_SSL",
                reason: "cannot be combined with EMAIL_USE_TLS".into(),
            })
        }
        (true, false) => SmtpSecurity::StartTls,
        (false, true) => SmtpSecurity::ImplicitTls,
        (false, false) => SmtpSecurity::Plain,
    };
    let from = env.non_empty("DEFAULT_FROM_EMAIL")?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError {
            name: "DEFAULT_FROM_EMAIL",
            reason: "is not a valid mailbox".into(),
        });
    }
    let host = env.get("EMAIL_HOST")?;
    Ok(EmailConfig {
        host: (!host.is_empty()).then_some(host),
        port: env.parse("EMAIL_PORT")?,
        user: env.get("EMAIL_HOST_USER")?,
        password: env.get("EMAIL_HOST_PASSWORD")?,
        security,
        timeout: Duration::from_secs(env.parse_in_range("EMAIL_TIMEOUT_SECONDS", 1, 600)?),
        from,
    })
}

fn plugin_config(env: &Env<'_>, data_dir: &Path) -> Result<PluginConfig, ConfigError> {
    let dir = match env.get("BEACON_PLUGINS_DIR")? {
        dir if dir.is_empty() => data_dir.join("plugins"),
        dir => PathBuf::from(dir),
    };
    let allowlist: Vec<String> = env
        .get("BEACON_OUTBOUND_ALLOWLIST")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    for entry in &allowlist {
        let looks_like_network = entry.contains('/') || entry.parse::<std::net::IpAddr>().is_ok();
        if looks_like_network
            && entry.parse::<IpNet>().is_err()
            && entry.parse::<std::net::IpAddr>().is_err()
        {
            return Err(ConfigError {
                name: "BEACON_OUTBOUND_ALLOWLIST",
                reason: format!("{entry:?} is not a valid CIDR"),
            });
        }
    }
    let overrides = env
        .get("PLUGIN_BLOCK_PRIVATE_NETWORKS_OVERRIDES")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (id, value) = pair.split_once('=').ok_or_else(|| ConfigError {
                name: "PLUGIN_BLOCK_PRIVATE_NETWORKS_OVERRIDES",
                reason: format!("{pair:?} is not plugin-id=true|false"),
            })?;
            let value = match value.trim() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(ConfigError {
                        name: "PLUGIN_BLOCK_PRIVATE_NETWORKS_OVERRIDES",
                        reason: format!("{other:?} is not true or false"),
                    })
                }
            };
            Ok((id.trim().to_string(), value))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let reload_seconds: u64 = env.parse_in_range("PLUGIN_RELOAD_SECONDS", 0, 86_400)?;
    Ok(PluginConfig {
        dir,
        reload_every: (reload_seconds > 0).then(|| Duration::from_secs(reload_seconds)),
        cache_dir: match env.get("BEACON_PLUGIN_CACHE_DIR")? {
            dir if dir.is_empty() => data_dir.join("plugin-cache"),
            dir => PathBuf::from(dir),
        },
        outbound_allowlist: allowlist,
        block_private_networks: env.bool("BARK_BLOCK_PRIVATE_NETWORKS")?,
        block_private_overrides: overrides,
        request_timeout: Duration::from_secs(env.parse_in_range(
            "BARK_REQUEST_TIMEOUT_SECONDS",
            1,
            300,
        )?),
        max_body_bytes: env.parse_in_range(
            "PLUGIN_FETCH_MAX_BODY_BYTES",
            1024,
            64 * 1024 * 1024,
        )?,
        filter_timeout: Duration::from_millis(env.parse_in_range(
            "PLUGIN_FILTER_TIMEOUT_MS",
            1,
            10_000,
        )?),
        adapter_timeout: Duration::from_millis(env.parse_in_range(
            "PLUGIN_ADAPTER_TIMEOUT_MS",
            1,
            30_000,
        )?),
        memory_bytes: env.parse_in_range::<usize>("PLUGIN_MEMORY_LIMIT_MB", 1, 4096)? * 1024 * 1024,
    })
}

fn delivery_config(env: &Env<'_>) -> Result<DeliveryConfig, ConfigError> {
    let lease = Duration::from_secs(env.parse_in_range("WORKER_LEASE_SECONDS", 5, 86_400)?);
    let request_timeout =
        Duration::from_secs(env.parse_in_range("BARK_REQUEST_TIMEOUT_SECONDS", 1, 300)?);
    if lease < request_timeout + Duration::from_secs(5) {
        return Err(ConfigError {
            name: "WORKER_LEASE_SECONDS",
            reason: "must exceed BARK_REQUEST_TIMEOUT_SECONDS by at least 5 seconds".into(),
        });
    }
    let backoff_base =
        Duration::from_secs(env.parse_in_range("DELIVERY_BACKOFF_BASE_SECONDS", 1, 86_400)?);
    let backoff_max =
        Duration::from_secs(env.parse_in_range("DELIVERY_BACKOFF_MAX_SECONDS", 1, 30 * 86_400)?);
    if backoff_max < backoff_base {
        return Err(ConfigError {
            name: "DELIVERY_BACKOFF_MAX_SECONDS",
            reason: "must not be below DELIVERY_BACKOFF_BASE_SECONDS".into(),
        });
    }
    Ok(DeliveryConfig {
        backoff_base,
        backoff_max,
        max_attempts: env.parse_in_range("DELIVERY_MAX_ATTEMPTS", 1, 1000)?,
        concurrency: env.parse_in_range("WORKER_CONCURRENCY", 1, 1024)?,
        lease,
        poll_interval: Duration::from_millis(env.parse_in_range(
            "WORKER_POLL_INTERVAL_MS",
            10,
            60_000,
        )?),
    })
}

/// The configured channel-config key, or one generated once into the data dir.
fn channel_config_key(env: &Env<'_>, data_dir: &Path) -> Result<String, ConfigError> {
    const NAME: &str = "CHANNEL_CONFIG_ENCRYPTION_KEY";
    let configured = env.get(NAME)?;
    let key = if configured.is_empty() {
        let path = data_dir.join("channel_config_key");
        let fail = |err: std::io::Error| ConfigError {
            name: NAME,
            reason: format!("unset, and {} is unusable: {err}", path.display()),
        };
        match std::fs::read_to_string(&path) {
            Ok(existing) => existing.trim().to_string(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let key = crate::domain::config_cipher::ConfigCipher::generate_key_text();
                create_once(&path, &key).map_err(fail)?.trim().to_string()
            }
            Err(err) => return Err(fail(err)),
        }
    } else {
        configured
    };
    crate::domain::config_cipher::ConfigCipher::from_text(&key).map_err(|err| ConfigError {
        name: NAME,
        reason: err.to_string(),
    })?;
    Ok(key)
}

/// The configured key, or one generated once and kept in the data directory.
fn signing_key(env: &Env<'_>, data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let configured = env.get("JWT_SIGNING_KEY")?;
    if !configured.is_empty() {
        if configured.len() < 32 {
            return Err(ConfigError {
                name: "JWT_SIGNING_KEY",
                reason: "must be at least 32 characters".into(),
            });
        }
        return Ok(configured.into_bytes());
    }
    let path = data_dir.join("jwt_signing_key");
    let fail = |err: std::io::Error| ConfigError {
        name: "JWT_SIGNING_KEY",
        reason: format!("unset, and {} is unusable: {err}", path.display()),
    };
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim().len() >= 32 => Ok(existing.trim().as_bytes().to_vec()),
        Ok(_) => Err(ConfigError {
            name: "JWT_SIGNING_KEY",
            reason: format!("unset, and {} is too short", path.display()),
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let key = hex::encode(bytes);
            Ok(create_once(&path, &key)
                .map_err(fail)?
                .trim()
                .as_bytes()
                .to_vec())
        }
        Err(err) => Err(fail(err)),
    }
}

/// Writes `contents` to `path` unless it exists, and returns what `path`
/// holds then. Processes starting together on a fresh data directory race
/// here: each writes a private temporary file in full and hard-links it
/// into place (atomic, fails if the name exists), so every one of them
/// reads the winner's complete key.
fn create_once(path: &Path, contents: &str) -> std::io::Result<String> {
    let temporary = path.with_extension(format!(
        "tmp-{}-{:016x}",
        std::process::id(),
        rand::rngs::OsRng.next_u64()
    ));
    write_private_file(&temporary, contents)?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(contents.to_string()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path)
        }
        Err(err) => Err(err),
    }
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

/// Reads variables through [`VARIABLES`], so an undocumented name cannot be read.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    fn get(&self, name: &'static str) -> Result<String, ConfigError> {
        let variable = VARIABLES
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| ConfigError {
                name,
                reason: "is not a documented variable (add it to config::VARIABLES)".into(),
            })?;
        Ok((self.lookup)(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| variable.default.to_string()))
    }

    fn non_empty(&self, name: &'static str) -> Result<String, ConfigError> {
        let value = self.get(name)?;
        if value.is_empty() {
            return Err(ConfigError {
                name,
                reason: "must not be empty".into(),
            });
        }
        Ok(value)
    }

    fn parse<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let value = self.get(name)?;
        value.parse().map_err(|err| ConfigError {
            name,
            reason: format!("invalid value {value:?}: {err}"),
        })
    }

    fn parse_in_range<T>(&self, name: &'static str, min: T, max: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
        T::Err: std::fmt::Display,
    {
        let value: T = self.parse(name)?;
        if value < min || value > max {
            return Err(ConfigError {
                name,
                reason: format!("{value} is outside {min}..={max}"),
            });
        }
        Ok(value)
    }

    fn bool(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.get(name)?.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(ConfigError {
                name,
                reason: format!("invalid boolean {other:?} (use true or false)"),
            }),
        }
    }

    fn cidr_list(&self, name: &'static str) -> Result<Vec<IpNet>, ConfigError> {
        self.get(name)?
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| ConfigError {
                        name,
                        reason: format!("{item:?} is not a CIDR or IP address"),
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("BEACON_DATA_DIR".into(), dir.path().display().to_string());
        let result = Config::from_lookup(|name| map.get(name).cloned());
        drop(dir);
        result
    }

    #[test]
    fn defaults_give_a_local_sqlite_server() {
        let config = load(&[]).expect("defaults load");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(config.database_url.starts_with("sqlite://"));
        assert!(config.jwt.key_generated);
        assert_eq!(config.jwt.access_ttl, Duration::from_secs(900));
        assert_eq!(config.max_ingest_bytes, 1_048_576);
        assert!(config.email.host.is_none());
    }

    #[test]
    fn generated_signing_key_is_kept_across_starts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().display().to_string();
        let lookup = |name: &str| (name == "BEACON_DATA_DIR").then(|| data_dir.clone());
        let first = Config::from_lookup(lookup).expect("first");
        let second = Config::from_lookup(lookup).expect("second");
        assert_eq!(first.jwt.signing_key, second.jwt.signing_key);
    }

    #[test]
    fn wrong_values_name_the_variable() {
        for (name, value) in [
            ("BEACON_LISTEN", "nonsense"),
            ("MAX_INGEST_BYTES", "-1"),
            ("JWT_SIGNING_KEY", "short"),
            ("REQUIRE_VERIFIED_EMAIL_FOR_INGEST", "maybe"),
            ("TRUSTED_PROXIES", "10.0.0.0/99"),
            ("DATABASE_URL", "mysql://x"),
            ("JWT_REFRESH_COOKIE_SAMESITE", "sometimes"),
            ("CHANNEL_CONFIG_ENCRYPTION_KEY", "not-a-key"),
            ("BEACON_OUTBOUND_ALLOWLIST", "10.0.0.0/40"),
            ("PLUGIN_BLOCK_PRIVATE_NETWORKS_OVERRIDES", "webhook"),
            ("PLUGIN_FILTER_TIMEOUT_MS", "0"),
            ("PLUGIN_ADAPTER_TIMEOUT_MS", "60000"),
        ] {
            let err = load(&[(name, value)]).expect_err(name);
            assert_eq!(err.name, name, "{err}");
        }
    }
}

#[cfg(test)]
mod docs_tests {
    use super::VARIABLES;

    /// `docs/configuration.md` lists exactly the variables of [`VARIABLES`], with the same defaults.
    #[test]
    fn configuration_doc_matches_the_code() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/configuration.md"
        ))
        .expect("docs/configuration.md");
        let documented: Vec<(String, String)> = doc
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let default = cells.get(2)?;
                let default = if *default == "(unset)" {
                    ""
                } else {
                    default.strip_prefix('`')?.strip_suffix('`')?
                };
                Some((name.to_string(), default.to_string()))
            })
            .collect();
        let in_code: Vec<(String, String)> = VARIABLES
            .iter()
            .map(|v| (v.name.to_string(), v.default.to_string()))
            .collect();
        assert_eq!(
            documented, in_code,
            "docs/configuration.md and config::VARIABLES disagree"
        );
    }

    #[test]
    fn processes_starting_together_share_one_generated_key() {
        use super::create_once;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || create_once(&path, &format!("key-{i}")).expect("key"))
            })
            .collect();
        let keys: std::collections::BTreeSet<String> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert_eq!(std::fs::read_to_string(&path).ok(), keys.into_iter().next());
    }
}
