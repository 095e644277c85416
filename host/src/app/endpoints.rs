//! Ingest endpoints: a user's ingest URLs and their keys (shown once, stored
//! hashed), and the adapter an endpoint reads its requests through.

use serde_json::Value;

use crate::app::accounts::secrets::{random_token, sha256_hex};
use crate::app::adapters::{payload_json, AdapterSetting, Adapters};
use crate::app::ingest::Ingest;
use crate::domain::secrets;
use crate::domain::{canonical_id, new_id};
use crate::error::{AppError, AppResult};
use crate::plugins::runtime::InboundRequest;
use crate::storage::{EndpointRow, Store, StoredAdapter};

/// Prefix that makes leaked keys easy to recognise (e.g. by secret scanners).
const KEY_PREFIX: &str = "bsk_";
const MAX_NAME_CHARS: usize = 100;

/// A new endpoint and its key, which exists only in this answer.
pub struct CreatedEndpoint {
    pub endpoint: EndpointView,
    pub ingest_key: String,
}

/// An endpoint as answers show it.
pub struct EndpointView {
    pub row: EndpointRow,
    pub adapter: Option<AdapterView>,
}

/// An endpoint's adapter as answers show it (secrets masked).
pub struct AdapterView {
    pub plugin: String,
    /// The pinned version (`None`: follows the newest).
    pub version: Option<String>,
    pub config: Value,
    /// The version requests run through now; `None` when it is not installed.
    pub running_version: Option<String>,
}

/// What a test of an adapter on a sample request found (nothing is stored).
pub struct AdapterTest {
    /// The messages the request would become, as native ingest bodies.
    pub messages: Vec<Value>,
}

#[derive(Clone)]
pub struct Endpoints {
    store: Store,
    /// Holds cached credentials that a revoke must drop.
    ingest: Ingest,
    adapters: Adapters,
}

impl Endpoints {
    pub fn new(store: Store, ingest: Ingest, adapters: Adapters) -> Self {
        Endpoints {
            store,
            ingest,
            adapters,
        }
    }

    /// The user's endpoints, newest first (archived ones only on request).
    pub async fn list(
        &self,
        user_id: &str,
        include_archived: bool,
    ) -> AppResult<Vec<EndpointView>> {
        self.store
            .list_endpoints(user_id, include_archived)
            .await?
            .into_iter()
            .map(|row| self.view(row))
            .collect()
    }

    fn view(&self, row: EndpointRow) -> AppResult<EndpointView> {
        let adapter = match self.setting(&row)? {
            None => None,
            Some(setting) => Some(AdapterView {
                config: self.adapters.masked(&setting),
                running_version: self
                    .adapters
                    .running(&setting.plugin, setting.version.as_deref())
                    .map(|plugin| plugin.info.version.clone()),
                plugin: setting.plugin,
                version: setting.version,
            }),
        };
        Ok(EndpointView { row, adapter })
    }

    /// The endpoint's adapter, opened.
    fn setting(&self, row: &EndpointRow) -> AppResult<Option<AdapterSetting>> {
        let (Some(plugin), Some(sealed)) = (&row.adapter_plugin, &row.adapter_config) else {
            return Ok(None);
        };
        Ok(Some(AdapterSetting {
            plugin: plugin.clone(),
            version: row.adapter_version.clone(),
            config: self.adapters.open(&row.id, sealed)?,
        }))
    }

    /// Chooses the adapter the endpoint's requests go through (checked by
    /// the plugin, sealed at rest). A masked secret in `config` keeps the
    /// stored value when the plugin stays the same.
    pub async fn set_adapter(
        &self,
        user_id: &str,
        raw_id: &str,
        change: AdapterSetting,
    ) -> AppResult<EndpointView> {
        let row = self.row(user_id, raw_id).await?;
        let setting = self.checked(&row, change).await?;
        let sealed = self.adapters.seal(&row.id, &setting.config)?;
        let row = self
            .store
            .set_endpoint_adapter(
                user_id,
                &row.id,
                Some(StoredAdapter {
                    plugin: &setting.plugin,
                    version: setting.version.as_deref(),
                    sealed_config: &sealed,
                }),
            )
            .await?
            .ok_or(AppError::NotFound)?;
        self.ingest.forget_endpoint(&row.id);
        self.view(row)
    }

    /// Back to native ingest bodies.
    pub async fn clear_adapter(&self, user_id: &str, raw_id: &str) -> AppResult<EndpointView> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        let row = self
            .store
            .set_endpoint_adapter(user_id, &id, None)
            .await?
            .ok_or(AppError::NotFound)?;
        self.ingest.forget_endpoint(&id);
        self.view(row)
    }

    /// What `request` would become through the endpoint's adapter, or
    /// through `proposed` (a setting not saved yet; masked secrets come from
    /// the stored one). Stores nothing; refusals answer as ingest would.
    pub async fn test_adapter(
        &self,
        user_id: &str,
        raw_id: &str,
        proposed: Option<AdapterSetting>,
        mut request: InboundRequest,
    ) -> AppResult<AdapterTest> {
        let row = self.row(user_id, raw_id).await?;
        let setting = match proposed {
            Some(proposed) => self.checked(&row, proposed).await?,
            None => self.setting(&row)?.ok_or_else(|| {
                AppError::validation("adapter", "this endpoint has no adapter; send one to test")
            })?,
        };
        let plugin = self
            .adapters
            .plugin(&setting.plugin, setting.version.as_deref())?;
        request.endpoint_id = row.id.clone();
        request.endpoint_name = row.name.clone();
        let payloads = self.adapters.run(plugin, &setting.config, request).await?;
        Ok(AdapterTest {
            messages: payloads.iter().map(payload_json).collect(),
        })
    }

    /// A proposed setting, its secrets restored and its config accepted by the plugin.
    async fn checked(
        &self,
        row: &EndpointRow,
        change: AdapterSetting,
    ) -> AppResult<AdapterSetting> {
        let plugin = self
            .adapters
            .plugin(&change.plugin, change.version.as_deref())?;
        let mut config = change.config;
        if let Some(stored) = self.setting(row)? {
            if stored.plugin == change.plugin {
                secrets::restore(
                    &mut config,
                    &stored.config,
                    &Adapters::secret_fields(&plugin),
                );
            }
        }
        let config = self.adapters.validated(&plugin, config).await?;
        Ok(AdapterSetting {
            plugin: change.plugin,
            version: change.version,
            config,
        })
    }

    async fn row(&self, user_id: &str, raw_id: &str) -> AppResult<EndpointRow> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        self.store
            .endpoint_for_user(user_id, &id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn create(&self, user_id: &str, name: &str) -> AppResult<CreatedEndpoint> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AppError::validation(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        let key = format!("{KEY_PREFIX}{}", random_token());
        let endpoint = self
            .store
            .insert_endpoint(&new_id(), user_id, name, &sha256_hex(&key))
            .await?;
        Ok(CreatedEndpoint {
            endpoint: self.view(endpoint)?,
            ingest_key: key,
        })
    }

    /// One of the user's endpoints; another user's answers not found.
    pub async fn get(&self, user_id: &str, raw_id: &str) -> AppResult<EndpointView> {
        let row = self.row(user_id, raw_id).await?;
        self.view(row)
    }

    /// Revokes (and with `archive`, hides) an endpoint: its key stops working
    /// at once in this process, within the credential cache's lifetime in others.
    pub async fn retire(
        &self,
        user_id: &str,
        raw_id: &str,
        archive: bool,
    ) -> AppResult<EndpointView> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        let row = self
            .store
            .retire_endpoint(user_id, &id, archive)
            .await?
            .ok_or(AppError::NotFound)?;
        self.ingest.forget_endpoint(&id);
        self.view(row)
    }
}
