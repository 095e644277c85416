//! Channels and rules: per-user configuration of where deliveries go.

use sqlx::FromRow;

use super::{now_ms, Store, StoreResult};

#[derive(Clone, Debug, FromRow)]
pub struct ChannelRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub plugin: String,
    /// Encrypted config (see `channels::crypto`).
    pub config: String,
    pub enabled: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct RuleRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub enabled: i64,
    pub channel_id: String,
    /// Standard filter config, JSON.
    pub filter: String,
    /// `[{plugin, config}]`, JSON.
    pub extra_filters: String,
    /// Payload template, JSON.
    pub payload_template: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) const CHANNEL_COLUMNS: &str =
    "id, user_id, name, plugin, config, enabled, created_at, updated_at";
pub(super) const RULE_COLUMNS: &str = "id, user_id, name, enabled, channel_id, filter, extra_filters, payload_template, created_at, updated_at";

impl Store {
    pub async fn insert_channel(&self, row: &ChannelRow) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO channels ({CHANNEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(&row.plugin)
        .bind(&row.config)
        .bind(row.enabled)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn list_channels(&self, user_id: &str) -> StoreResult<Vec<ChannelRow>> {
        let sql =
            format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE user_id = $1 ORDER BY id DESC");
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn channel_for_user(
        &self,
        user_id: &str,
        id: &str,
    ) -> StoreResult<Option<ChannelRow>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1 AND user_id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The channel of a delivery, whoever owns it (worker side).
    pub async fn channel_by_id(&self, id: &str) -> StoreResult<Option<ChannelRow>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn update_channel(&self, row: &ChannelRow) -> StoreResult<bool> {
        let result = sqlx::query("UPDATE channels SET name = $1, config = $2, enabled = $3, updated_at = $4 WHERE id = $5 AND user_id = $6")
            .bind(&row.name)
            .bind(&row.config)
            .bind(row.enabled)
            .bind(now_ms())
            .bind(&row.id)
            .bind(&row.user_id)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes a channel and (by cascade) its rules; past deliveries keep their history.
    pub async fn delete_channel(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM channels WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn insert_rule(&self, row: &RuleRow) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(row.enabled)
        .bind(&row.channel_id)
        .bind(&row.filter)
        .bind(&row.extra_filters)
        .bind(&row.payload_template)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn list_rules(&self, user_id: &str) -> StoreResult<Vec<RuleRow>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE user_id = $1 ORDER BY id DESC");
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Enabled rules whose channel is enabled: what ingest matches against.
    pub async fn active_rules(&self, user_id: &str) -> StoreResult<Vec<RuleRow>> {
        let sql = "SELECT r.id, r.user_id, r.name, r.enabled, r.channel_id, r.filter, r.extra_filters, r.payload_template,
                          r.created_at, r.updated_at
                   FROM rules r JOIN channels c ON c.id = r.channel_id
                   WHERE r.user_id = $1 AND r.enabled = 1 AND c.enabled = 1 ORDER BY r.id";
        Ok(sqlx::query_as(sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn rule_for_user(&self, user_id: &str, id: &str) -> StoreResult<Option<RuleRow>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE id = $1 AND user_id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn update_rule(&self, row: &RuleRow) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE rules SET name = $1, enabled = $2, channel_id = $3, filter = $4, extra_filters = $5, payload_template = $6,
                              updated_at = $7
             WHERE id = $8 AND user_id = $9",
        )
        .bind(&row.name)
        .bind(row.enabled)
        .bind(&row.channel_id)
        .bind(&row.filter)
        .bind(&row.extra_filters)
        .bind(&row.payload_template)
        .bind(now_ms())
        .bind(&row.id)
        .bind(&row.user_id)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn delete_rule(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM rules WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}
