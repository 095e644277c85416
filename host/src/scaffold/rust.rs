//! The Rust project: a crate with the SDK and WIT vendored, built with
//! `cargo build --release --target wasm32-wasip2`.

use super::{type_name, Kind};

/// The SDK sources and WIT this binary was built with, by path inside `vendor/`.
pub(super) const VENDORED: &[(&str, &str)] = &[
    (
        "beacon-plugin-sdk/Cargo.toml",
        include_str!("../../../sdk/Cargo.toml"),
    ),
    (
        "beacon-plugin-sdk/src/adapter.rs",
        include_str!("../../../sdk/src/adapter.rs"),
    ),
    (
        "beacon-plugin-sdk/src/bindings.rs",
        include_str!("../../../sdk/src/bindings.rs"),
    ),
    (
        "beacon-plugin-sdk/src/config.rs",
        include_str!("../../../sdk/src/config.rs"),
    ),
    (
        "beacon-plugin-sdk/src/fit.rs",
        include_str!("../../../sdk/src/fit.rs"),
    ),
    (
        "beacon-plugin-sdk/src/harness.rs",
        include_str!("../../../sdk/src/harness.rs"),
    ),
    (
        "beacon-plugin-sdk/src/host.rs",
        include_str!("../../../sdk/src/host.rs"),
    ),
    (
        "beacon-plugin-sdk/src/http.rs",
        include_str!("../../../sdk/src/http.rs"),
    ),
    (
        "beacon-plugin-sdk/src/kv.rs",
        include_str!("../../../sdk/src/kv.rs"),
    ),
    (
        "beacon-plugin-sdk/src/lib.rs",
        include_str!("../../../sdk/src/lib.rs"),
    ),
    (
        "beacon-plugin-sdk/src/log.rs",
        include_str!("../../../sdk/src/log.rs"),
    ),
    (
        "beacon-plugin-sdk/src/mail.rs",
        include_str!("../../../sdk/src/mail.rs"),
    ),
    (
        "beacon-plugin-sdk/src/mqtt.rs",
        include_str!("../../../sdk/src/mqtt.rs"),
    ),
    (
        "beacon-plugin-sdk/src/plugin.rs",
        include_str!("../../../sdk/src/plugin.rs"),
    ),
    (
        "beacon-plugin-sdk/src/template.rs",
        include_str!("../../../sdk/src/template.rs"),
    ),
    (
        "beacon-plugin-sdk/src/testing.rs",
        include_str!("../../../sdk/src/testing.rs"),
    ),
    (
        "beacon-plugin-sdk/src/types.rs",
        include_str!("../../../sdk/src/types.rs"),
    ),
    (
        "beacon-plugin-sdk/src/values.rs",
        include_str!("../../../sdk/src/values.rs"),
    ),
    (
        "beacon-plugin-sdk/README.md",
        include_str!("../../../sdk/README.md"),
    ),
    // The SDK generates its bindings from `../wit`, relative to its own folder.
    ("wit/plugin.wit", include_str!("../../../wit/plugin.wit")),
];

/// The project's own files (everything but `vendor/`).
pub(super) fn files(name: &str, kind: Kind) -> Vec<(&'static str, String)> {
    let artifact = name.replace('-', "_");
    let type_name = type_name(name);
    let (source, kind_text) = match kind {
        Kind::Channel => (CHANNEL_LIB, "channel"),
        Kind::Filter => (FILTER_LIB, "filter"),
        Kind::Adapter => (ADAPTER_LIB, "adapter"),
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{Type}}", &type_name)
            .replace("{{artifact}}", &artifact)
            .replace("{{kind}}", kind_text)
    };
    vec![
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(source)),
        ("README.md", fill(README)),
        (".gitignore", "/target\n".to_string()),
    ]
}

const CARGO_TOML: &str = r#"[package]
name = "{{name}}"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib", "rlib"]   # cdylib = the component; rlib = native tests

[dependencies]
# The SDK this project was made with, copied from the `beacon` binary.
beacon-plugin-sdk = { path = "vendor/beacon-plugin-sdk" }
schemars = "1"
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true

[workspace]
"#;

const CHANNEL_LIB: &str = r##"//! {{name}}: a channel plugin for Beacon Spear. It POSTs the rule's rendered
//! payload template as JSON to a URL, with an optional bearer token.

use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::Request;
use beacon_plugin_sdk::{debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome};
use schemars::JsonSchema;
use serde::Deserialize;

/// The channel config (doc comments become the form the dashboard draws).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to POST, an absolute http(s) URL.
    pub url: String,
    /// Sent as `Authorization: Bearer <token>` when set.
    #[serde(default)]
    #[schemars(transform = secret)]
    pub token: Option<String>,
}

pub struct {{Type}};

impl Channel for {{Type}} {
    type Config = Config;
    const ID: &'static str = "{{name}}";
    const NAME: &'static str = "{{name}}";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "POSTs the rendered payload as JSON to a URL.";

    fn validate(config: &Config) -> Result<(), ConfigError> {
        check_http_url("url", &config.url)
    }

    fn send(config: Config, payload_json: &str, message: &Message) -> Result<SendOutcome, SendError> {
        debug!("sending message {}", message.id);
        let mut request = Request::post(&config.url)
            .header("content-type", "application/json")
            .body(payload_json.as_bytes().to_vec());
        if let Some(token) = &config.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        // 2xx sent; 408/425/429/5xx retried (with Retry-After); other answers final.
        request.send()?.into_outcome()
    }
}

export_channel!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use beacon_plugin_sdk::harness;
    use beacon_plugin_sdk::http::Response;
    use beacon_plugin_sdk::testing;

    #[test]
    fn posts_the_payload_with_the_token() {
        testing::reset();
        testing::mock_fetch(|_| Ok(Response::new(200, b"{}".to_vec())));
        let config = r#"{"url": "https://hooks.example.com/in", "token": "t0ken"}"#;
        let sent = harness::channel_send::<{{Type}}>(config, r#"{"text":"hi"}"#, &Message::new("hi"));
        assert!(sent.is_ok(), "{sent:?}");
        let requests = testing::requests();
        assert_eq!(requests[0].url, "https://hooks.example.com/in");
        assert_eq!(requests[0].header_value("authorization"), Some("Bearer t0ken"));
        assert_eq!(requests[0].body.as_deref(), Some(&br#"{"text":"hi"}"#[..]));
    }

    #[test]
    fn server_errors_are_retried_and_bad_urls_refused() {
        testing::reset();
        testing::mock_fetch(|_| Ok(Response::new(503, Vec::new())));
        let failed = harness::channel_send::<{{Type}}>(r#"{"url": "https://h/x"}"#, "{}", &Message::new("hi"));
        assert!(failed.is_err_and(|e| e.is_retryable()));
        let refused = harness::channel_validate_config::<{{Type}}>(r#"{"url": "ftp://h/x"}"#);
        assert_eq!(refused.map_err(|e| e.field), Err("url".to_string()));
    }
}
"##;

const FILTER_LIB: &str = r##"//! {{name}}: a filter plugin for Beacon Spear. A rule using it matches
//! messages whose body contains a word (case-insensitive).

use beacon_plugin_sdk::{export_filter, ConfigError, Filter, Message};
use schemars::JsonSchema;
use serde::Deserialize;

/// The filter config (doc comments become the form the dashboard draws).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The word the body must contain.
    pub word: String,
}

pub struct {{Type}};

impl Filter for {{Type}} {
    type Config = Config;
    const ID: &'static str = "{{name}}";
    const NAME: &'static str = "{{name}}";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Matches messages whose body contains a word.";

    fn validate(config: &Config) -> Result<(), ConfigError> {
        if config.word.trim().is_empty() {
            return Err(ConfigError::new("word", "must not be empty"));
        }
        Ok(())
    }

    fn evaluate(config: &Config, message: &Message) -> Result<bool, String> {
        Ok(message.body.to_lowercase().contains(&config.word.to_lowercase()))
    }
}

export_filter!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use beacon_plugin_sdk::harness;

    #[test]
    fn matches_the_word_in_any_case() {
        let config = r#"{"word": "disk"}"#;
        assert_eq!(harness::filter_evaluate::<{{Type}}>(config, &Message::new("DISK full")), Ok(true));
        assert_eq!(harness::filter_evaluate::<{{Type}}>(config, &Message::new("all good")), Ok(false));
        let refused = harness::filter_validate_config::<{{Type}}>(r#"{"word": " "}"#);
        assert_eq!(refused.map_err(|e| e.field), Err("word".to_string()));
    }
}
"##;

const ADAPTER_LIB: &str = r##"//! {{name}}: an ingest adapter for Beacon Spear. An endpoint that chooses
//! it turns a JSON webhook `{"service": "...", "status": "down" | "up",
//! "detail": "..."}` into one message (priority 5 while down).

use beacon_plugin_sdk::{
    export_adapter, fit, AdaptError, AdaptedMessage, Adapter, ConfigError, InboundRequest,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// The adapter config (doc comments become the form the dashboard draws).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The group every message gets.
    #[serde(default = "default_group")]
    pub group: String,
}

fn default_group() -> String {
    "status".into()
}

/// What the sender posts.
#[derive(Deserialize)]
struct Event {
    service: String,
    status: String,
    #[serde(default)]
    detail: String,
}

pub struct {{Type}};

impl Adapter for {{Type}} {
    type Config = Config;
    const ID: &'static str = "{{name}}";
    const NAME: &'static str = "{{name}}";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Turns status webhooks into messages.";

    fn validate(config: &Config) -> Result<(), ConfigError> {
        if config.group.trim().is_empty() {
            return Err(ConfigError::new("group", "must not be empty"));
        }
        Ok(())
    }

    fn adapt(config: &Config, request: &InboundRequest) -> Result<Vec<AdaptedMessage>, AdaptError> {
        let event: Event = request.json()?;
        let down = event.status.eq_ignore_ascii_case("down");
        let message = AdaptedMessage::new(format!("{} is {}. {}", event.service, event.status, event.detail))
            .title(event.service)
            .group(config.group.clone())
            .priority(if down { 5 } else { 3 })
            .tag(event.status);
        // Cut to the host's limits, so one long field never refuses a request.
        Ok(vec![fit::fit(message, "status webhook")])
    }
}

export_adapter!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use beacon_plugin_sdk::harness;

    #[test]
    fn a_down_event_is_urgent() {
        let request = InboundRequest::post(r#"{"service": "db", "status": "down", "detail": "no answer"}"#);
        let messages = harness::adapter_adapt::<{{Type}}>("{}", &request).expect("adapted");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].title.as_deref(), Some("db"));
        assert_eq!(messages[0].priority, Some(5));
        let refused = harness::adapter_adapt::<{{Type}}>("{}", &InboundRequest::post("not json"));
        assert!(matches!(refused, Err(AdaptError::Invalid(_))));
        let bad = harness::adapter_validate_config::<{{Type}}>(r#"{"group": " "}"#);
        assert_eq!(bad.map_err(|e| e.field), Err("group".to_string()));
    }
}
"##;

const README: &str = r#"# {{name}}

A Beacon Spear {{kind}} plugin, made with `beacon plugin new`.

```sh
rustup target add wasm32-wasip2           # once
cargo test                                # native tests
cargo build --release --target wasm32-wasip2
beacon plugin check target/wasm32-wasip2/release/{{artifact}}.wasm
```

`beacon plugin run target/wasm32-wasip2/release/{{artifact}}.wasm --config '{...}'`
tries it without a server (a filter or channel against a sample message with
`--message`, an adapter against a sample request with `--request @body.json`
and `--header 'Name: value'`); an operator installs it
with `beacon plugin install` or the dashboard. The SDK (and the WIT it builds
against) sits in `vendor/`; its README explains the traits, the HTTP helper,
`kv`, logging and the test helpers.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sdk_source_is_vendored() {
        let sdk = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/src");
        for entry in std::fs::read_dir(&sdk).expect("sdk/src").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("beacon-plugin-sdk/src/{name}");
            assert!(
                VENDORED.iter().any(|(p, _)| *p == path),
                "{path} is not vendored into new projects"
            );
        }
    }

    #[test]
    fn templates_are_filled() {
        let files = files("my-hook", Kind::Channel);
        let lib = &files
            .iter()
            .find(|(p, _)| *p == "src/lib.rs")
            .expect("lib")
            .1;
        assert!(
            lib.contains("pub struct MyHook;")
                && lib.contains("const ID: &'static str = \"my-hook\";")
        );
        assert!(!lib.contains("{{"), "every placeholder is filled");
        let readme = &files
            .iter()
            .find(|(p, _)| *p == "README.md")
            .expect("readme")
            .1;
        assert!(readme.contains("my_hook.wasm"));
    }
}
