//! Ingest endpoints.

use sqlx::FromRow;

use super::{Store, StoreResult};
use crate::domain::now_ms;

#[derive(Clone, Debug, FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub archived_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The adapter plugin id that reads this endpoint's requests (`None`:
    /// native ingest bodies), its pinned version and its sealed config.
    pub adapter_plugin: Option<String>,
    pub adapter_version: Option<String>,
    pub adapter_config: Option<String>,
}

/// What ingest needs to authenticate a request, read in one query.
#[derive(Clone, Debug, FromRow)]
pub struct EndpointAuth {
    pub endpoint_id: String,
    pub endpoint_name: String,
    pub user_id: String,
    pub key_hash: String,
    pub revoked_at: Option<i64>,
    pub user_verified_at: Option<i64>,
    pub user_disabled_at: Option<i64>,
    pub adapter_plugin: Option<String>,
    pub adapter_version: Option<String>,
    pub adapter_config: Option<String>,
}

const ENDPOINT_COLUMNS: &str =
    "id, user_id, name, created_at, revoked_at, archived_at, last_used_at,
     adapter_plugin, adapter_version, adapter_config";

/// An endpoint's adapter as stored: plugin id, pinned version, sealed config.
pub struct StoredAdapter<'a> {
    pub plugin: &'a str,
    pub version: Option<&'a str>,
    pub sealed_config: &'a str,
}

impl Store {
    pub async fn insert_endpoint(
        &self,
        id: &str,
        user_id: &str,
        name: &str,
        key_hash: &str,
    ) -> StoreResult<EndpointRow> {
        let now = now_ms();
        sqlx::query("INSERT INTO ingest_endpoints (id, user_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(user_id)
            .bind(name)
            .bind(key_hash)
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(EndpointRow {
            id: id.to_string(),
            user_id: user_id.to_string(),
            name: name.to_string(),
            created_at: now,
            revoked_at: None,
            archived_at: None,
            last_used_at: None,
            adapter_plugin: None,
            adapter_version: None,
            adapter_config: None,
        })
    }

    /// Sets (or with `None` clears) the adapter of the user's endpoint;
    /// `None` when the user has no such endpoint.
    pub async fn set_endpoint_adapter(
        &self,
        user_id: &str,
        id: &str,
        adapter: Option<StoredAdapter<'_>>,
    ) -> StoreResult<Option<EndpointRow>> {
        let (plugin, version, config) = match &adapter {
            Some(a) => (Some(a.plugin), a.version, Some(a.sealed_config)),
            None => (None, None, None),
        };
        let updated = sqlx::query(
            "UPDATE ingest_endpoints SET adapter_plugin = $1, adapter_version = $2, adapter_config = $3
             WHERE id = $4 AND user_id = $5",
        )
        .bind(plugin)
        .bind(version)
        .bind(config)
        .bind(id)
        .bind(user_id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        self.endpoint_for_user(user_id, id).await
    }

    /// The live endpoints (of everyone, or of one user) that read their
    /// requests through adapter `plugin` (a scan: plugin removal is rare).
    pub async fn endpoints_with_adapter(
        &self,
        plugin: &str,
        user_id: Option<&str>,
    ) -> StoreResult<Vec<EndpointRow>> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM ingest_endpoints
             WHERE adapter_plugin = $1 AND revoked_at IS NULL AND ($2 IS NULL OR user_id = $2)
             ORDER BY id"
        );
        Ok(sqlx::query_as(&sql)
            .bind(plugin)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The user's endpoints, newest first.
    pub async fn list_endpoints(
        &self,
        user_id: &str,
        include_archived: bool,
    ) -> StoreResult<Vec<EndpointRow>> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM ingest_endpoints
             WHERE user_id = $1 AND (archived_at IS NULL OR $2 = 1) ORDER BY id DESC"
        );
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .bind(i64::from(include_archived))
            .fetch_all(&self.pool)
            .await?)
    }

    /// One endpoint, only if it belongs to the user.
    pub async fn endpoint_for_user(
        &self,
        user_id: &str,
        id: &str,
    ) -> StoreResult<Option<EndpointRow>> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM ingest_endpoints WHERE id = $1 AND user_id = $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Revokes (and optionally archives) the user's endpoint; keeps earlier times.
    pub async fn retire_endpoint(
        &self,
        user_id: &str,
        id: &str,
        archive: bool,
    ) -> StoreResult<Option<EndpointRow>> {
        let now = now_ms();
        sqlx::query(
            "UPDATE ingest_endpoints
             SET revoked_at = COALESCE(revoked_at, $1),
                 archived_at = CASE WHEN $2 = 1 THEN COALESCE(archived_at, $1) ELSE archived_at END
             WHERE id = $3 AND user_id = $4",
        )
        .bind(now)
        .bind(i64::from(archive))
        .bind(id)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        self.endpoint_for_user(user_id, id).await
    }

    pub async fn endpoint_auth(&self, id: &str) -> StoreResult<Option<EndpointAuth>> {
        Ok(sqlx::query_as(&format!("{ENDPOINT_AUTH} WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The endpoint whose key hashes to `key_hash` (protocols that send only
    /// the key); keys are random, so at most one matches.
    pub async fn endpoint_auth_by_key_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<EndpointAuth>> {
        Ok(
            sqlx::query_as(&format!("{ENDPOINT_AUTH} WHERE e.key_hash = $1"))
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

const ENDPOINT_AUTH: &str =
    "SELECT e.id AS endpoint_id, e.name AS endpoint_name, e.user_id, e.key_hash, e.revoked_at,
        u.email_verified_at AS user_verified_at, u.disabled_at AS user_disabled_at,
        e.adapter_plugin, e.adapter_version, e.adapter_config
 FROM ingest_endpoints e JOIN users u ON u.id = e.user_id";
