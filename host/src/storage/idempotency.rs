//! Idempotency keys of ingest requests (one row per endpoint and key).

use super::{Store, StoreResult};

/// Who holds an idempotency key after a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyClaim {
    /// This request: store its message under the id it claimed with.
    Claimed,
    /// An earlier request within the window, with its body's hash and message id.
    Taken {
        body_sha256: String,
        message_id: String,
    },
}

impl Store {
    /// Claims `key` on `endpoint_id` for `message_id`, unless a claim made
    /// at or after `live_since` holds it. One statement, so two requests
    /// racing (in one process or several) cannot both win: the loser sees
    /// the winner's row.
    pub async fn claim_idempotency_key(
        &self,
        endpoint_id: &str,
        key: &str,
        body_sha256: &str,
        message_id: &str,
        now: i64,
        live_since: i64,
    ) -> StoreResult<KeyClaim> {
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO ingest_idempotency (endpoint_id, idempotency_key, body_sha256, message_id, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (endpoint_id, idempotency_key) DO UPDATE
               SET body_sha256 = excluded.body_sha256, message_id = excluded.message_id,
                   created_at = excluded.created_at
               WHERE ingest_idempotency.created_at < $6
             RETURNING message_id",
        )
        .bind(endpoint_id)
        .bind(key)
        .bind(body_sha256)
        .bind(message_id)
        .bind(now)
        .bind(live_since)
        .fetch_optional(&self.writer)
        .await?;
        if claimed.is_some() {
            return Ok(KeyClaim::Claimed);
        }
        let (body_sha256, message_id): (String, String) = sqlx::query_as(
            "SELECT body_sha256, message_id FROM ingest_idempotency
             WHERE endpoint_id = $1 AND idempotency_key = $2",
        )
        .bind(endpoint_id)
        .bind(key)
        .fetch_one(&self.writer)
        .await?;
        Ok(KeyClaim::Taken {
            body_sha256,
            message_id,
        })
    }

    /// Gives a claim back (its message could not be stored), so a retry
    /// with the same key is not answered with an id that does not exist.
    pub async fn release_idempotency_key(
        &self,
        endpoint_id: &str,
        key: &str,
        message_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM ingest_idempotency WHERE endpoint_id = $1 AND idempotency_key = $2 AND message_id = $3",
        )
        .bind(endpoint_id)
        .bind(key)
        .bind(message_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Deletes claims made before `live_since` (they no longer count).
    pub async fn purge_idempotency_keys(&self, live_since: i64) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM ingest_idempotency WHERE created_at < $1")
            .bind(live_since)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected())
    }
}
