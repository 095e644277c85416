//! Plugin key-value state (the `kv` capability). Every statement is one
//! atomic upsert, so several processes sharing a PostgreSQL database see
//! one consistent value per key (a dedupe window or a rate-limit counter
//! shared by two `beacon web` processes). An expired row reads as absent and
//! is replaced by the next write as if it were not there.

use super::{Store, StoreResult};

/// `expires_at` is past: the row is as good as absent.
const EXPIRED: &str = "plugin_kv.expires_at IS NOT NULL AND plugin_kv.expires_at <= $6";

impl Store {
    /// The value of a live key; a counter reads as its decimal text.
    pub async fn kv_get(
        &self,
        scope: &str,
        key: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Vec<u8>>> {
        let row: Option<(Option<Vec<u8>>, i64)> = sqlx::query_as(
            "SELECT value, counter FROM plugin_kv
             WHERE scope = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(scope)
        .bind(key)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(value, counter)| value.unwrap_or_else(|| counter.to_string().into_bytes())))
    }

    /// Sets a key (replacing a value or a counter).
    pub async fn kv_set(&self, entry: &KvWrite<'_>, value: &[u8]) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO plugin_kv (scope, key, user_id, value, counter, expires_at, updated_at, owner)
             VALUES ($1, $2, $3, $4, 0, $5, $6, $7)
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, counter = 0,
                 expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        )
        .bind(entry.scope)
        .bind(entry.key)
        .bind(entry.user_id)
        .bind(value)
        .bind(entry.expires_at)
        .bind(entry.now_ms)
        .bind(entry.owner)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Sets a key only when it is absent or expired; true when it was set.
    pub async fn kv_add(&self, entry: &KvWrite<'_>, value: &[u8]) -> StoreResult<bool> {
        let done = sqlx::query(&format!(
            "INSERT INTO plugin_kv (scope, key, user_id, value, counter, expires_at, updated_at, owner)
             VALUES ($1, $2, $3, $4, 0, $5, $6, $7)
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, counter = 0,
                 expires_at = excluded.expires_at, updated_at = excluded.updated_at
             WHERE {EXPIRED}"
        ))
        .bind(entry.scope)
        .bind(entry.key)
        .bind(entry.user_id)
        .bind(value)
        .bind(entry.expires_at)
        .bind(entry.now_ms)
        .bind(entry.owner)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds `delta` to a counter and returns the new value. An absent or
    /// expired key starts from 0 with the given expiry; a live one keeps its
    /// expiry (a fixed window: the first increment opens it).
    pub async fn kv_increment(&self, entry: &KvWrite<'_>, delta: i64) -> StoreResult<i64> {
        let counter: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO plugin_kv (scope, key, user_id, value, counter, expires_at, updated_at, owner)
             VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)
             ON CONFLICT (scope, key) DO UPDATE SET
                 counter = CASE WHEN {EXPIRED} THEN excluded.counter
                                ELSE plugin_kv.counter + excluded.counter END,
                 expires_at = CASE WHEN {EXPIRED} THEN excluded.expires_at
                                   ELSE plugin_kv.expires_at END,
                 value = NULL,
                 updated_at = excluded.updated_at
             RETURNING counter"
        ))
        .bind(entry.scope)
        .bind(entry.key)
        .bind(entry.user_id)
        .bind(delta)
        .bind(entry.expires_at)
        .bind(entry.now_ms)
        .bind(entry.owner)
        .fetch_one(&self.writer)
        .await?;
        Ok(counter)
    }

    /// Removes a key; true when it was there (live or not).
    pub async fn kv_delete(&self, scope: &str, key: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM plugin_kv WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Live keys in a scope, counting at most `cap` of them (the quota check
    /// needs no more, and stops early in a full scope).
    pub async fn kv_live_keys(&self, scope: &str, now_ms: i64, cap: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM plugin_kv
                 WHERE scope = $1 AND (expires_at IS NULL OR expires_at > $2) LIMIT $3) AS live",
        )
        .bind(scope)
        .bind(now_ms)
        .bind(cap)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Forgets every bucket of an owner (its rule or channel is gone).
    pub async fn kv_drop_owner(&self, owner: &str) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM plugin_kv WHERE owner = $1")
            .bind(owner)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    /// Deletes rows that expired before `now_ms`.
    pub async fn kv_purge_expired(&self, now_ms: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM plugin_kv WHERE expires_at IS NOT NULL AND expires_at <= $1")
                .bind(now_ms)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// Where a write goes and how long it lives.
#[derive(Clone, Copy, Debug)]
pub struct KvWrite<'a> {
    pub user_id: &'a str,
    /// The rule or channel the bucket belongs to, e.g. `rule:<id>`.
    pub owner: &'a str,
    pub scope: &'a str,
    pub key: &'a str,
    /// Absolute expiry in ms; `None` keeps the key until it is deleted.
    pub expires_at: Option<i64>,
    pub now_ms: i64,
}
