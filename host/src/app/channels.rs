//! Channels (SPEC §7): a user's named destination, a channel plugin plus its
//! config. The plugin validates the config; the config is encrypted at rest;
//! fields the plugin's schema marks secret are masked in every answer and kept
//! when an update sends the mask back.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::app::plugin_state;
use crate::app::plugins::unknown_version;
use crate::app::rules::Rules;
use crate::domain::channel::Channel;
use crate::domain::config_cipher::ConfigCipher;
use crate::domain::secrets::{self, SecretPath};
use crate::domain::{new_id, new_id_with_time, now_ms, Message, Payload, RequestFacts};
use crate::error::{AppError, AppResult, OrInternal};
use crate::plugins::kv::{KvBackend, KvBucket};
use crate::plugins::mail::MailRelay;
use crate::plugins::registry::Registry;
use crate::plugins::runtime::{CallState, LoadedPlugin, PluginKind, SendError};
use crate::plugins::wit_message;
use crate::storage::Store;

const MAX_NAME_CHARS: usize = 100;

/// A channel as the API shows it (config with secrets masked).
#[derive(Clone, Debug)]
pub struct ChannelView {
    pub channel: Channel,
    pub config: Value,
    /// The installed plugin version deliveries use now; `None` when the
    /// plugin or the pinned version is not installed (the channel is broken).
    pub running_version: Option<String>,
}

/// A partial update of a channel; `None` leaves a field as it is.
#[derive(Default)]
pub struct ChannelChange<'a> {
    pub name: Option<&'a str>,
    /// `Some(None)` unpins (follow the newest), `Some(Some(v))` pins `v`.
    pub plugin_version: Option<Option<String>>,
    pub config: Option<Value>,
    pub enabled: Option<bool>,
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
    /// Where channel senders keep their state (the database).
    kv: Arc<dyn KvBackend>,
    /// Mail for plugins that import `smtp-send`.
    mail: Arc<dyn MailRelay>,
}

impl Channels {
    pub fn new(
        store: Store,
        plugins: Arc<Registry>,
        cipher: ConfigCipher,
        rules: Rules,
        kv: Arc<dyn KvBackend>,
        mail: Arc<dyn MailRelay>,
    ) -> Self {
        Channels {
            store,
            plugins,
            cipher,
            rules,
            kv,
            mail,
        }
    }

    pub async fn create(
        &self,
        user_id: &str,
        name: &str,
        plugin_id: &str,
        plugin_version: Option<String>,
        config: Value,
        enabled: bool,
    ) -> AppResult<ChannelView> {
        let name = valid_name(name)?;
        let plugin = self.channel_plugin(plugin_id, plugin_version.as_deref())?;
        self.check_capabilities(&plugin)?;
        let config = self.validated(&plugin, config).await?;
        let id = new_id();
        let now = now_ms();
        let row = Channel {
            sealed_config: self.seal(&id, &config)?,
            id,
            user_id: user_id.to_string(),
            name,
            plugin: plugin_id.to_string(),
            plugin_version,
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
    /// A new `plugin_version` (`Some(None)` unpins) must be installed and
    /// accept the config.
    pub async fn update(
        &self,
        user_id: &str,
        id: &str,
        change: ChannelChange<'_>,
    ) -> AppResult<ChannelView> {
        let ChannelChange {
            name,
            plugin_version,
            config,
            enabled,
        } = change;
        let mut row = self
            .store
            .channel_for_user(user_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let repinned = plugin_version
            .as_ref()
            .is_some_and(|version| *version != row.plugin_version);
        if let Some(version) = plugin_version {
            row.plugin_version = version;
        }
        let mut plugin = self
            .plugins
            .resolve(&row.plugin, row.plugin_version.as_deref());
        let mut stored = self.open(&row)?;
        if let Some(name) = name {
            row.name = valid_name(name)?;
        }
        if repinned {
            plugin = Some(self.channel_plugin(&row.plugin, row.plugin_version.as_deref())?);
        }
        if config.is_some() || repinned {
            let plugin = plugin.clone().ok_or_else(|| missing_plugin(&row.plugin))?;
            let mut incoming = config.unwrap_or_else(|| stored.clone());
            secrets::restore(&mut incoming, &stored, &secret_fields(&plugin));
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

    /// Deletes the channel, the rules that send to it (the database
    /// cascades) and the state of both.
    pub async fn delete(&self, user_id: &str, id: &str) -> AppResult<()> {
        let its_rules: Vec<String> = self
            .store
            .list_rules(user_id)
            .await?
            .into_iter()
            .filter(|rule| rule.channel_id == id)
            .map(|rule| rule.id)
            .collect();
        if !self.store.delete_channel(user_id, id).await? {
            return Err(AppError::NotFound);
        }
        for rule_id in its_rules {
            plugin_state::forget_rule(&self.store, &rule_id).await?;
        }
        plugin_state::forget_channel(&self.store, id).await?;
        self.rules.forget_user(user_id);
        Ok(())
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
        let plugin = self.channel_plugin(&row.plugin, row.plugin_version.as_deref())?;
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
            deliver_at: None,
        });
        let outcome = self
            .plugins
            .runtime()
            .send(
                &plugin,
                &config,
                "{}",
                &message,
                CallState {
                    kv: self.kv.clone(),
                    bucket: KvBucket::for_channel(user_id, &row.id),
                    mail: self.mail.clone(),
                },
            )
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

    /// The channel plugin `plugin_id` at `version` (`None`: the newest).
    fn channel_plugin(
        &self,
        plugin_id: &str,
        version: Option<&str>,
    ) -> AppResult<Arc<LoadedPlugin>> {
        let newest = match self.plugins.get(plugin_id) {
            Some(plugin) if plugin.info.kind == PluginKind::Channel => plugin,
            Some(_) => {
                return Err(AppError::validation(
                    "plugin",
                    format!("{plugin_id} is a filter plugin, not a channel plugin"),
                ))
            }
            None => return Err(missing_plugin(plugin_id)),
        };
        match version {
            None => Ok(newest),
            Some(version) => self
                .plugins
                .resolve(plugin_id, Some(version))
                .ok_or_else(|| unknown_version("plugin_version", plugin_id, version)),
        }
    }

    /// A plugin that needs something this server lacks is refused up front,
    /// not at its first delivery.
    fn check_capabilities(&self, plugin: &LoadedPlugin) -> AppResult<()> {
        let wants_mail = plugin.info.capabilities.iter().any(|c| c == "smtp-send");
        if wants_mail && !self.mail.is_configured() {
            return Err(AppError::validation(
                "plugin",
                format!(
                    "{} sends mail, and this server has no SMTP server configured (the operator sets EMAIL_HOST)",
                    plugin.info.id
                ),
            ));
        }
        Ok(())
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
        let plugin = self
            .plugins
            .resolve(&row.plugin, row.plugin_version.as_deref());
        Ok(self.view(row, &config, plugin.as_deref()))
    }

    fn view(&self, row: Channel, config: &Value, plugin: Option<&LoadedPlugin>) -> ChannelView {
        let mut shown = config.clone();
        // A pinned version that is gone: another version of the plugin
        // still says which fields are secret. Without any: show none.
        let newest = self.plugins.get(&row.plugin);
        let secret_paths = plugin
            .or(newest.as_deref())
            .map(secret_fields)
            .unwrap_or_else(|| secrets::all_top_level(config));
        secrets::mask(&mut shown, &secret_paths);
        ChannelView {
            channel: row,
            config: shown,
            running_version: plugin.map(|plugin| plugin.info.version.clone()),
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

/// Where the plugin's schema marks secrets in its config.
fn secret_fields(plugin: &LoadedPlugin) -> Vec<SecretPath> {
    secrets::secret_paths(&plugin.info.config_schema)
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
