//! Channels (SPEC §7): a user's named destination, a channel plugin plus its
//! config. The plugin validates the config; the config is encrypted at rest;
//! fields the plugin's schema marks secret are masked in every answer and kept
//! when an update sends the mask back.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::app::rules::Rules;
use crate::domain::channel::Channel;
use crate::domain::config_cipher::ConfigCipher;
use crate::domain::{new_id, new_id_with_time, now_ms, Message, Payload, RequestFacts};
use crate::error::{AppError, AppResult, OrInternal};
use crate::plugins::registry::Registry;
use crate::plugins::runtime::{LoadedPlugin, PluginKind, SendError};
use crate::plugins::wit_message;
use crate::storage::Store;

/// What secret values look like in answers; sending it back keeps the stored value.
pub const SECRET_MASK: &str = "********";
const MAX_NAME_CHARS: usize = 100;

/// A channel as the API shows it (config with secrets masked).
#[derive(Clone, Debug)]
pub struct ChannelView {
    pub channel: Channel,
    pub config: Value,
}

/// The result of a test send.
pub struct TestSend {
    pub ok: bool,
    pub http_status: Option<u16>,
    pub response_snippet: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone)]
pub struct Channels {
    store: Store,
    plugins: Arc<Registry>,
    cipher: ConfigCipher,
    /// Holds cached active rules, which change with their channel.
    rules: Rules,
}

impl Channels {
    pub fn new(store: Store, plugins: Arc<Registry>, cipher: ConfigCipher, rules: Rules) -> Self {
        Channels {
            store,
            plugins,
            cipher,
            rules,
        }
    }

    pub async fn create(
        &self,
        user_id: &str,
        name: &str,
        plugin_id: &str,
        config: Value,
        enabled: bool,
    ) -> AppResult<ChannelView> {
        let name = valid_name(name)?;
        let plugin = self.channel_plugin(plugin_id)?;
        let config = self.validated(&plugin, config).await?;
        let id = new_id();
        let now = now_ms();
        let row = Channel {
            sealed_config: self.seal(&id, &config)?,
            id,
            user_id: user_id.to_string(),
            name,
            plugin: plugin_id.to_string(),
            enabled,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_channel(&row).await?;
        Ok(self.view(row, &config, Some(&plugin)))
    }

    pub async fn list(&self, user_id: &str) -> AppResult<Vec<ChannelView>> {
        let rows = self.store.list_channels(user_id).await?;
        rows.into_iter().map(|row| self.open_view(row)).collect()
    }

    pub async fn get(&self, user_id: &str, id: &str) -> AppResult<ChannelView> {
        let row = self
            .store
            .channel_for_user(user_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.open_view(row)
    }

    /// Partial update; a masked secret in `config` keeps the stored value.
    pub async fn update(
        &self,
        user_id: &str,
        id: &str,
        name: Option<&str>,
        config: Option<Value>,
        enabled: Option<bool>,
    ) -> AppResult<ChannelView> {
        let mut row = self
            .store
            .channel_for_user(user_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let plugin = self.plugins.get(&row.plugin);
        let mut stored = self.open(&row)?;
        if let Some(name) = name {
            row.name = valid_name(name)?;
        }
        if let Some(mut incoming) = config {
            let plugin = plugin.clone().ok_or_else(|| missing_plugin(&row.plugin))?;
            restore_secrets(&mut incoming, &stored, &secret_fields(&plugin));
            stored = self.validated(&plugin, incoming).await?;
            row.sealed_config = self.seal(&row.id, &stored)?;
        }
        if let Some(enabled) = enabled {
            row.enabled = enabled;
        }
        if !self.store.update_channel(&row).await? {
            return Err(AppError::NotFound);
        }
        self.rules.forget_user(user_id);
        row.updated_at = now_ms();
        Ok(self.view(row, &stored, plugin.as_deref()))
    }

    pub async fn delete(&self, user_id: &str, id: &str) -> AppResult<()> {
        if self.store.delete_channel(user_id, id).await? {
            self.rules.forget_user(user_id);
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The decrypted config of a stored channel.
    pub fn open(&self, row: &Channel) -> AppResult<Value> {
        self.cipher.open(row).or_internal()
    }

    /// Sends a test notification through the channel now.
    pub async fn test_send(&self, user_id: &str, id: &str) -> AppResult<TestSend> {
        let row = self
            .store
            .channel_for_user(user_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let plugin = self.channel_plugin(&row.plugin)?;
        let config = self.open(&row)?.to_string();
        let (message_id, received_at) = new_id_with_time();
        let message = wit_message(&Message {
            id: message_id,
            endpoint_id: String::new(),
            endpoint_name: "test".into(),
            received_at,
            payload: Payload {
                body: format!("Test notification for channel \"{}\"", row.name),
                title: Some("Beacon Spear".into()),
                group: None,
                priority: 3,
                tags: vec!["test".into()],
                url: None,
                extras: Default::default(),
            },
            request: RequestFacts::default(),
            filter_errors: Vec::new(),
        });
        let outcome = self
            .plugins
            .runtime()
            .send(&plugin, &config, "{}", &message)
            .await;
        Ok(match outcome {
            Ok(Ok(sent)) => TestSend {
                ok: true,
                http_status: sent.http_status,
                response_snippet: sent.response_snippet,
                error: None,
            },
            Ok(Err(SendError::Retryable(failure) | SendError::Permanent(failure))) => TestSend {
                ok: false,
                http_status: failure.http_status,
                response_snippet: failure.response_snippet,
                error: Some(failure.message),
            },
            Err(err) => TestSend {
                ok: false,
                http_status: None,
                response_snippet: None,
                error: Some(err.to_string()),
            },
        })
    }

    fn channel_plugin(&self, plugin_id: &str) -> AppResult<Arc<LoadedPlugin>> {
        match self.plugins.get(plugin_id) {
            Some(plugin) if plugin.info.kind == PluginKind::Channel => Ok(plugin),
            Some(_) => Err(AppError::validation(
                "plugin",
                format!("{plugin_id} is a filter plugin, not a channel plugin"),
            )),
            None => Err(missing_plugin(plugin_id)),
        }
    }

    /// The config after the plugin accepted it; errors name `config.<field>`.
    async fn validated(&self, plugin: &Arc<LoadedPlugin>, config: Value) -> AppResult<Value> {
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
            Ok(Err(err)) => Err(AppError::validation(
                if err.field.is_empty() {
                    "config".to_string()
                } else {
                    format!("config.{}", err.field)
                },
                err.message,
            )),
            Err(err) => Err(AppError::validation(
                "plugin",
                format!("the plugin failed while checking the config: {err}"),
            )),
        }
    }

    fn seal(&self, id: &str, config: &Value) -> AppResult<String> {
        self.cipher.seal(id, config).or_internal()
    }

    fn open_view(&self, row: Channel) -> AppResult<ChannelView> {
        let config = self.open(&row)?;
        let plugin = self.plugins.get(&row.plugin);
        Ok(self.view(row, &config, plugin.as_deref()))
    }

    fn view(&self, row: Channel, config: &Value, plugin: Option<&LoadedPlugin>) -> ChannelView {
        let mut shown = config.clone();
        // Without its plugin we cannot know which fields are secret: show none.
        let secrets = plugin.map(secret_fields).unwrap_or_else(|| {
            config
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        });
        mask_secrets(&mut shown, &secrets);
        ChannelView {
            channel: row,
            config: shown,
        }
    }
}

fn valid_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::validation(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

fn missing_plugin(plugin_id: &str) -> AppError {
    AppError::validation(
        "plugin",
        format!("no channel plugin {plugin_id:?} is installed"),
    )
}

/// Top-level config properties the plugin's schema marks `x-secret`.
pub fn secret_fields(plugin: &LoadedPlugin) -> Vec<String> {
    plugin.info.config_schema["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .filter(|(_, schema)| {
                    schema["x-secret"] == Value::Bool(true)
                        || schema["writeOnly"] == Value::Bool(true)
                })
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Masks every string inside a secret value (strings, lists, objects such as header maps).
fn mask_value(value: &mut Value) {
    match value {
        Value::String(s) if !s.is_empty() => *s = SECRET_MASK.to_string(),
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        Value::Object(map) => map.values_mut().for_each(mask_value),
        _ => {}
    }
}

fn mask_secrets(config: &mut Value, secrets: &[String]) {
    if let Some(map) = config.as_object_mut() {
        for name in secrets {
            if let Some(value) = map.get_mut(name) {
                mask_value(value);
            }
        }
    }
}

/// Puts stored secret values back where an update sent the mask.
fn restore_secrets(incoming: &mut Value, stored: &Value, secrets: &[String]) {
    let (Some(incoming), Some(stored)) = (incoming.as_object_mut(), stored.as_object()) else {
        return;
    };
    for name in secrets {
        let (Some(new), Some(old)) = (incoming.get_mut(name), stored.get(name)) else {
            continue;
        };
        restore_value(new, old);
    }
}

fn restore_value(new: &mut Value, old: &Value) {
    match (new, old) {
        (new @ Value::String(_), old) if new.as_str() == Some(SECRET_MASK) => *new = old.clone(),
        (Value::Array(items), Value::Array(old_items)) => {
            for (item, old_item) in items.iter_mut().zip(old_items) {
                restore_value(item, old_item);
            }
        }
        (Value::Object(map), Value::Object(old_map)) => {
            for (key, item) in map.iter_mut() {
                if let Some(old_item) = old_map.get(key) {
                    restore_value(item, old_item);
                }
            }
        }
        _ => {}
    }
}

/// Builds an object from pairs (small helper for views).
pub fn object(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<_, _>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masking_and_restoring_secrets() {
        let secrets = vec!["device_key".to_string(), "device_keys".to_string()];
        let stored = json!({"server_base_url": "https://api.day.app", "device_key": "abc", "device_keys": ["k1", "k2"]});
        let mut shown = stored.clone();
        mask_secrets(&mut shown, &secrets);
        assert_eq!(
            shown,
            json!({"server_base_url": "https://api.day.app", "device_key": SECRET_MASK, "device_keys": [SECRET_MASK, SECRET_MASK]})
        );
        let mut update = json!({"server_base_url": "https://bark.example", "device_key": SECRET_MASK, "device_keys": [SECRET_MASK, "k3"]});
        restore_secrets(&mut update, &stored, &secrets);
        assert_eq!(
            update,
            json!({"server_base_url": "https://bark.example", "device_key": "abc", "device_keys": ["k1", "k3"]})
        );
    }
}
