//! Ingest adapters (the `adapter` plugin kind): an endpoint may read its
//! requests through one, which turns webhook JSON (Alertmanager, GitHub, any
//! JSON through `json-map`) into messages. This module owns what endpoints
//! and ingest share: finding the plugin, checking and sealing its
//! per-endpoint config, and running it under its limits. Whatever the
//! adapter answers, nothing is stored until every message it made is valid.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::app::plugins::unknown_version;
use crate::domain::config_cipher::ConfigCipher;
use crate::domain::payload::{self, Payload};
use crate::domain::secrets::{self, SecretPath};
use crate::error::{AppError, AppResult, OrInternal};
use crate::plugins::registry::Registry;
use crate::plugins::runtime::{
    AdaptError, AdaptedMessage, InboundRequest, LoadedPlugin, PluginError, PluginKind,
};

/// The most messages one request may become (Alertmanager sends every alert
/// of a group in one request; thousands would be a misconfiguration).
pub const MAX_MESSAGES_PER_REQUEST: usize = 1_000;

/// An endpoint's adapter, opened: which plugin, the pinned version, the config.
#[derive(Clone, Debug)]
pub struct AdapterSetting {
    pub plugin: String,
    pub version: Option<String>,
    pub config: Value,
}

#[derive(Clone)]
pub struct Adapters {
    plugins: Arc<Registry>,
    cipher: ConfigCipher,
}

impl Adapters {
    pub fn new(plugins: Arc<Registry>, cipher: ConfigCipher) -> Self {
        Adapters { plugins, cipher }
    }

    /// The adapter plugin `plugin_id` at `version` (`None`: the newest);
    /// errors name `field_prefix.plugin` / `.plugin_version`.
    pub fn plugin(&self, plugin_id: &str, version: Option<&str>) -> AppResult<Arc<LoadedPlugin>> {
        let newest = match self.plugins.get(plugin_id) {
            Some(plugin) if plugin.info.kind == PluginKind::Adapter => plugin,
            Some(plugin) => {
                return Err(AppError::validation(
                    "plugin",
                    format!(
                        "{plugin_id} is a {} plugin, not an adapter",
                        plugin.info.kind.as_str()
                    ),
                ))
            }
            None => {
                return Err(AppError::validation(
                    "plugin",
                    format!("no adapter plugin {plugin_id:?} is installed"),
                ))
            }
        };
        match version {
            None => Ok(newest),
            Some(version) => self
                .plugins
                .resolve(plugin_id, Some(version))
                .ok_or_else(|| unknown_version("plugin_version", plugin_id, version)),
        }
    }

    /// The installed version an endpoint's adapter runs now, if any.
    pub fn running(&self, plugin_id: &str, version: Option<&str>) -> Option<Arc<LoadedPlugin>> {
        self.plugins
            .resolve(plugin_id, version)
            .filter(|plugin| plugin.info.kind == PluginKind::Adapter)
    }

    /// The config after the plugin accepted it; errors name `config.<field>`.
    pub async fn validated(&self, plugin: &Arc<LoadedPlugin>, config: Value) -> AppResult<Value> {
        if !config.is_object() {
            return Err(AppError::validation("config", "must be a JSON object"));
        }
        let (plugins, plugin, text) = (self.plugins.clone(), plugin.clone(), config.to_string());
        let verdict =
            tokio::task::spawn_blocking(move || plugins.runtime().validate_config(&plugin, &text))
                .await
                .or_internal()?;
        match verdict {
            Ok(Ok(())) => Ok(config),
            Ok(Err(err)) if err.field.is_empty() => {
                Err(AppError::validation("config", err.message))
            }
            Ok(Err(err)) => Err(AppError::validation(
                format!("config.{}", err.field),
                err.message,
            )),
            Err(err) => Err(AppError::validation(
                "plugin",
                format!("the plugin failed while checking the config: {err}"),
            )),
        }
    }

    /// Where the plugin's schema marks secrets in its config.
    pub fn secret_fields(plugin: &LoadedPlugin) -> Vec<SecretPath> {
        secrets::secret_paths(&plugin.info.config_schema)
    }

    /// The config with its secrets masked, as answers show it.
    pub fn masked(&self, setting: &AdapterSetting) -> Value {
        let mut shown = setting.config.clone();
        let paths = self
            .plugins
            .get(&setting.plugin)
            .map(|plugin| Self::secret_fields(&plugin))
            .unwrap_or_else(|| secrets::all_top_level(&setting.config));
        secrets::mask(&mut shown, &paths);
        shown
    }

    pub fn seal(&self, endpoint_id: &str, config: &Value) -> AppResult<String> {
        self.cipher
            .encrypt(&associated_data(endpoint_id), &config.to_string())
            .or_internal()
    }

    pub fn open(&self, endpoint_id: &str, sealed: &str) -> AppResult<Value> {
        let text = self
            .cipher
            .decrypt(&associated_data(endpoint_id), sealed)
            .or_internal()?;
        serde_json::from_str(&text).or_internal()
    }

    /// Runs the adapter on one request and validates what it made. Refusals
    /// keep the ingest error shape: the adapter's own verdicts answer 422
    /// `adapter_refused` or 401 `adapter_unauthorized`; a trap, a timeout or
    /// a memory overrun answers 422 `adapter_failed`; an unusable message
    /// answers 422 naming `messages[i].<field>`.
    pub async fn run(
        &self,
        plugin: Arc<LoadedPlugin>,
        config: &Value,
        request: InboundRequest,
    ) -> AppResult<Vec<Payload>> {
        let plugins = self.plugins.clone();
        let config_json = config.to_string();
        let id = plugin.info.id.clone();
        let answer = tokio::task::spawn_blocking(move || {
            plugins.runtime().adapt(&plugin, &config_json, &request)
        })
        .await
        .or_internal()?;
        let messages = match answer {
            Ok(Ok(messages)) => messages,
            Ok(Err(AdaptError::Invalid(why))) => {
                return Err(AppError::Unprocessable {
                    code: "adapter_refused",
                    message: format!("the {id} adapter could not read this request: {why}"),
                    field: None,
                })
            }
            Ok(Err(AdaptError::Unauthorized(why))) => {
                return Err(AppError::Unauthorized {
                    code: "adapter_unauthorized",
                    message: format!("the {id} adapter refused this request: {why}"),
                })
            }
            Err(err) => return Err(failed(&id, err)),
        };
        if messages.len() > MAX_MESSAGES_PER_REQUEST {
            return Err(AppError::Unprocessable {
                code: "too_many_messages",
                message: format!(
                    "the {id} adapter made {} messages of this request; at most {MAX_MESSAGES_PER_REQUEST} are accepted",
                    messages.len()
                ),
                field: None,
            });
        }
        messages
            .into_iter()
            .enumerate()
            .map(|(index, message)| payload_of(message, index))
            .collect()
    }
}

/// Seals an endpoint's config so it cannot be moved to a channel or another endpoint.
fn associated_data(endpoint_id: &str) -> String {
    format!("endpoint:{endpoint_id}")
}

fn failed(id: &str, err: PluginError) -> AppError {
    AppError::Unprocessable {
        code: "adapter_failed",
        message: format!("the {id} adapter failed: {err}"),
        field: None,
    }
}

/// One adapted message, validated like a native ingest body; errors name
/// `messages[index].<field>`.
pub fn payload_of(message: AdaptedMessage, index: usize) -> AppResult<Payload> {
    let mut object = Map::new();
    object.insert("body".into(), Value::String(message.body));
    let optional = |value: Option<String>| value.map(Value::String).unwrap_or(Value::Null);
    object.insert("title".into(), optional(message.title));
    object.insert("group".into(), optional(message.group));
    object.insert("url".into(), optional(message.url));
    object.insert(
        "priority".into(),
        message.priority.map(Value::from).unwrap_or(Value::Null),
    );
    object.insert(
        "tags".into(),
        Value::Array(message.tags.into_iter().map(Value::String).collect()),
    );
    object.insert(
        "extras".into(),
        Value::Object(
            message
                .extras
                .into_iter()
                .map(|(key, value)| (key, Value::String(value)))
                .collect(),
        ),
    );
    let at = |field: &str| format!("messages[{index}].{field}");
    if let Some(field) = payload::nul_path(&object) {
        return Err(AppError::validation(
            at(&field),
            "must not contain the NUL character (U+0000)",
        ));
    }
    payload::from_object(object).map_err(|invalid| match AppError::from(invalid) {
        AppError::Validation { field, message } => AppError::Validation {
            field: at(&field),
            message,
        },
        other => other,
    })
}

/// A payload as JSON, the shape of a native ingest body (what the adapter
/// test answers and `beacon plugin run` prints).
pub fn payload_json(payload: &Payload) -> Value {
    serde_json::json!({
        "title": payload.title,
        "body": payload.body,
        "group": payload.group,
        "priority": payload.priority,
        "tags": payload.tags,
        "url": payload.url,
        "extras": payload.extras,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> AdaptedMessage {
        AdaptedMessage {
            title: Some("t".into()),
            body: body.into(),
            group: None,
            priority: Some(4),
            tags: vec!["firing".into()],
            url: Some("https://example.com/a".into()),
            extras: vec![("alertname".into(), "Disk".into())],
        }
    }

    #[test]
    fn a_valid_message_becomes_a_payload() {
        let payload = payload_of(message("disk full"), 0).unwrap();
        assert_eq!(payload.body, "disk full");
        assert_eq!(payload.priority, 4);
        assert_eq!(payload.tags, vec!["firing".to_string()]);
        assert_eq!(
            payload.extras.get("alertname").map(String::as_str),
            Some("Disk")
        );
    }

    #[test]
    fn errors_name_the_message_and_field() {
        let field_of = |err: AppError| match err {
            AppError::Validation { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field_of(payload_of(message(""), 2).unwrap_err()),
            "messages[2].body"
        );
        let mut bad = message("x");
        bad.priority = Some(9);
        assert_eq!(
            field_of(payload_of(bad, 0).unwrap_err()),
            "messages[0].priority"
        );
        let mut bad = message("x");
        bad.url = Some("ftp://example.com".into());
        assert_eq!(field_of(payload_of(bad, 1).unwrap_err()), "messages[1].url");
        let mut bad = message("x");
        bad.title = Some("a\0b".into());
        assert_eq!(
            field_of(payload_of(bad, 0).unwrap_err()),
            "messages[0].title"
        );
    }
}
