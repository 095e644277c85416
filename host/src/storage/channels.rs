//! Channels and rules: per-user configuration of where deliveries go.

use sqlx::FromRow;

use super::{json_column, json_text, Store, StoreResult};
use crate::domain::channel::Channel;
use crate::domain::rule::ExtraFilter;
use crate::domain::{now_ms, Rule};

#[derive(Clone, Debug, FromRow)]
pub(super) struct ChannelRow {
    id: String,
    user_id: String,
    name: String,
    plugin: String,
    plugin_version: Option<String>,
    config: String,
    enabled: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<ChannelRow> for Channel {
    fn from(row: ChannelRow) -> Self {
        Channel {
            id: row.id,
            user_id: row.user_id,
            name: row.name,
            plugin: row.plugin,
            plugin_version: row.plugin_version,
            sealed_config: row.config,
            enabled: row.enabled != 0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Clone, Debug, FromRow)]
pub(super) struct RuleRow {
    id: String,
    user_id: String,
    name: String,
    enabled: i64,
    channel_id: String,
    filter: String,
    extra_filters: String,
    payload_template: String,
    created_at: i64,
    updated_at: i64,
}

impl RuleRow {
    pub(super) fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn into_rule(self) -> StoreResult<Rule> {
        let id = self.id.as_str();
        let filter = json_column("rules", id, "filter", &self.filter)?;
        let extra_filters = json_column("rules", id, "extra_filters", &self.extra_filters)?;
        let payload_template =
            json_column("rules", id, "payload_template", &self.payload_template)?;
        Ok(Rule {
            filter,
            extra_filters,
            payload_template,
            id: self.id,
            user_id: self.user_id,
            name: self.name,
            enabled: self.enabled != 0,
            channel_id: self.channel_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn rules(rows: Vec<RuleRow>) -> StoreResult<Vec<Rule>> {
    rows.into_iter().map(RuleRow::into_rule).collect()
}

/// (plugin id, pinned version, how many) for channels and for rules.
#[derive(Debug, Default)]
pub struct PluginUseCounts {
    pub channels: Vec<(String, Option<String>, i64)>,
    pub rules: Vec<(String, Option<String>, i64)>,
}

pub(super) const CHANNEL_COLUMNS: &str =
    "id, user_id, name, plugin, plugin_version, config, enabled, created_at, updated_at";
pub(super) const RULE_COLUMNS: &str = "id, user_id, name, enabled, channel_id, filter, extra_filters, payload_template, created_at, updated_at";

impl Store {
    pub async fn insert_channel(&self, row: &Channel) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO channels ({CHANNEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(&row.plugin)
        .bind(&row.plugin_version)
        .bind(&row.sealed_config)
        .bind(i64::from(row.enabled))
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn list_channels(&self, user_id: &str) -> StoreResult<Vec<Channel>> {
        let sql =
            format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE user_id = $1 ORDER BY id DESC");
        let rows: Vec<ChannelRow> = sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Channel::from).collect())
    }

    pub async fn channel_for_user(&self, user_id: &str, id: &str) -> StoreResult<Option<Channel>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1 AND user_id = $2");
        let row: Option<ChannelRow> = sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Channel::from))
    }

    /// The channel of a delivery, whoever owns it (worker side).
    pub async fn channel_by_id(&self, id: &str) -> StoreResult<Option<Channel>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1");
        let row: Option<ChannelRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Channel::from))
    }

    pub async fn update_channel(&self, row: &Channel) -> StoreResult<bool> {
        let result = sqlx::query("UPDATE channels SET name = $1, config = $2, enabled = $3, updated_at = $4, plugin_version = $7 WHERE id = $5 AND user_id = $6")
            .bind(&row.name)
            .bind(&row.sealed_config)
            .bind(i64::from(row.enabled))
            .bind(now_ms())
            .bind(&row.id)
            .bind(&row.user_id)
            .bind(&row.plugin_version)
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

    pub async fn insert_rule(&self, row: &Rule) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(i64::from(row.enabled))
        .bind(&row.channel_id)
        .bind(row.filter.to_string())
        .bind(json_text(&row.extra_filters))
        .bind(row.payload_template.to_string())
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The channels sending through `plugin_id` and the rules running it as
    /// an extra filter, of one user or (`None`) of everyone: what each
    /// version of the plugin serves. (A scan of rules: plugin pages and
    /// removals are rare operator actions.)
    pub async fn plugin_usage(
        &self,
        plugin_id: &str,
        user_id: Option<&str>,
    ) -> StoreResult<(Vec<Channel>, Vec<Rule>)> {
        let channel_sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE plugin = $1 AND ($2 IS NULL OR user_id = $2) ORDER BY id"
        );
        let channels: Vec<ChannelRow> = sqlx::query_as(&channel_sql)
            .bind(plugin_id)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        // Extra filters are stored as compact JSON (`{"plugin":"<id>",...}`);
        // plugin ids are [a-z0-9-], so the pattern has no LIKE wildcards.
        let rule_sql = format!(
            "SELECT {RULE_COLUMNS} FROM rules WHERE extra_filters LIKE $1 AND ($2 IS NULL OR user_id = $2) ORDER BY id"
        );
        let found: Vec<RuleRow> = sqlx::query_as(&rule_sql)
            .bind(format!("%\"plugin\":\"{plugin_id}\"%"))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok((
            channels.into_iter().map(Channel::from).collect(),
            rules(found)?,
        ))
    }

    /// Per plugin and pinned version (`None`: follows the newest), how many
    /// channels and how many rules (as an extra filter) use it, over one
    /// user's or (`None`) everyone's: one grouped query and one scan of the
    /// rules that have extra filters, whatever the number of plugins.
    pub async fn plugin_use_counts(&self, user_id: Option<&str>) -> StoreResult<PluginUseCounts> {
        let channels: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT plugin, plugin_version, COUNT(*) FROM channels WHERE ($1 IS NULL OR user_id = $1) GROUP BY plugin, plugin_version",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, extra_filters FROM rules WHERE extra_filters <> '[]' AND ($1 IS NULL OR user_id = $1)",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut rules: Vec<(String, Option<String>, i64)> = Vec::new();
        for (id, text) in rows {
            let extra: Vec<ExtraFilter> = json_column("rules", &id, "extra_filters", &text)?;
            let mut used: Vec<(String, Option<String>)> =
                extra.into_iter().map(|f| (f.plugin, f.version)).collect();
            used.sort();
            used.dedup();
            for (plugin, version) in used {
                match rules
                    .iter_mut()
                    .find(|(p, v, _)| *p == plugin && *v == version)
                {
                    Some((_, _, count)) => *count += 1,
                    None => rules.push((plugin, version, 1)),
                }
            }
        }
        Ok(PluginUseCounts { channels, rules })
    }

    /// How many channels (of all users) send through `plugin_id`, and how
    /// many rules run it as an extra filter: what removing it would break.
    /// (A scan: plugin removal is a rare operator action.)
    pub async fn plugin_users(&self, plugin_id: &str) -> StoreResult<(i64, i64)> {
        let channels: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM channels WHERE plugin = $1")
            .bind(plugin_id)
            .fetch_one(&self.pool)
            .await?;
        // Extra filters are stored as compact JSON (`{"plugin":"<id>",...}`);
        // plugin ids are [a-z0-9-], so the pattern has no LIKE wildcards.
        let rules: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM rules WHERE extra_filters LIKE $1")
                .bind(format!("%\"plugin\":\"{plugin_id}\"%"))
                .fetch_one(&self.pool)
                .await?;
        Ok((channels, rules))
    }

    pub async fn list_rules(&self, user_id: &str) -> StoreResult<Vec<Rule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE user_id = $1 ORDER BY id DESC");
        rules(
            sqlx::query_as(&sql)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Enabled rules whose channel is enabled: what ingest matches against.
    pub async fn active_rules(&self, user_id: &str) -> StoreResult<Vec<Rule>> {
        let sql = "SELECT r.id, r.user_id, r.name, r.enabled, r.channel_id, r.filter, r.extra_filters, r.payload_template,
                          r.created_at, r.updated_at
                   FROM rules r JOIN channels c ON c.id = r.channel_id
                   WHERE r.user_id = $1 AND r.enabled = 1 AND c.enabled = 1 ORDER BY r.id";
        rules(
            sqlx::query_as(sql)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn rule_for_user(&self, user_id: &str, id: &str) -> StoreResult<Option<Rule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE id = $1 AND user_id = $2");
        let row: Option<RuleRow> = sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(RuleRow::into_rule).transpose()
    }

    pub async fn update_rule(&self, row: &Rule) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE rules SET name = $1, enabled = $2, channel_id = $3, filter = $4, extra_filters = $5, payload_template = $6,
                              updated_at = $7
             WHERE id = $8 AND user_id = $9",
        )
        .bind(&row.name)
        .bind(i64::from(row.enabled))
        .bind(&row.channel_id)
        .bind(row.filter.to_string())
        .bind(json_text(&row.extra_filters))
        .bind(row.payload_template.to_string())
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
