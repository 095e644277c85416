//! The delivery queue: claiming due work with a lease, recording attempts
//! together with the new state, manual retry, and the per-message history.

use sqlx::FromRow;

use super::{new_id, now_ms, Backend, Store, StoreResult};

/// A delivery a worker holds the lease on.
#[derive(Clone, Debug, FromRow)]
pub struct ClaimedDelivery {
    pub id: String,
    pub user_id: String,
    pub message_id: String,
    pub rule_id: Option<String>,
    pub channel_id: Option<String>,
    pub attempt_count: i64,
}

/// One finished attempt.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub attempt_no: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    /// `sent`, `retry` or `failed`.
    pub outcome: &'static str,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub response_snippet: Option<String>,
    pub response_json: Option<String>,
}

/// What happens to the delivery after an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum NextState {
    Sent,
    RetryAt(i64),
    Failed,
}

#[derive(Clone, Debug, FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub message_id: String,
    pub rule_id: Option<String>,
    pub rule_name: Option<String>,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    pub status: String,
    pub attempt_count: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(Clone, Debug, FromRow)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt_no: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub response_snippet: Option<String>,
    pub response_json: Option<String>,
}

const DELIVERY_VIEW: &str = "SELECT d.id, d.message_id, d.rule_id, r.name AS rule_name, d.channel_id, c.name AS channel_name, d.status,
        d.attempt_count, d.next_attempt_at, d.last_error, d.created_at, d.updated_at, d.sent_at
    FROM deliveries d LEFT JOIN rules r ON r.id = d.rule_id LEFT JOIN channels c ON c.id = d.channel_id";

impl Store {
    /// Leases up to `limit` due deliveries to `worker_id`: queued or retry
    /// rows whose time has come, and sending rows whose lease expired (their
    /// worker died). One statement, so two workers never get the same row.
    pub async fn claim_deliveries(
        &self,
        worker_id: &str,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let now = now_ms();
        let lock = match self.backend {
            Backend::Sqlite => "",
            // Concurrent claimers skip each other's rows instead of waiting.
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE deliveries SET status = 'sending', leased_by = $1, lease_expires_at = $2, updated_at = $3
             WHERE id IN (
                 SELECT id FROM deliveries
                 WHERE (status IN ('queued', 'retry') AND next_attempt_at <= $3)
                    OR (status = 'sending' AND lease_expires_at <= $3)
                 ORDER BY next_attempt_at LIMIT $4 {lock})
             RETURNING id, user_id, message_id, rule_id, channel_id, attempt_count"
        );
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query_as(&sql)
            .bind(worker_id)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records an attempt and moves the delivery on, in one transaction. The
    /// state changes only while this worker still holds the lease.
    pub async fn finish_attempt(
        &self,
        delivery_id: &str,
        worker_id: &str,
        attempt: &AttemptRecord,
        next: &NextState,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let (status, next_at, sent_at) = match next {
            NextState::Sent => ("sent", now, Some(now)),
            NextState::RetryAt(at) => ("retry", *at, None),
            NextState::Failed => ("failed", now, None),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO delivery_attempts (id, delivery_id, attempt_no, started_at, duration_ms, outcome, http_status, error,
                                            response_snippet, response_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(delivery_id)
        .bind(attempt.attempt_no)
        .bind(attempt.started_at)
        .bind(attempt.duration_ms)
        .bind(attempt.outcome)
        .bind(attempt.http_status)
        .bind(attempt.error.as_deref())
        .bind(attempt.response_snippet.as_deref())
        .bind(attempt.response_json.as_deref())
        .execute(&mut *tx)
        .await?;
        let updated = sqlx::query(
            "UPDATE deliveries SET status = $1, attempt_count = $2, next_attempt_at = $3, sent_at = $4, last_error = $5,
                                   lease_expires_at = NULL, leased_by = NULL, updated_at = $6
             WHERE id = $7 AND leased_by = $8",
        )
        .bind(status)
        .bind(attempt.attempt_no)
        .bind(next_at)
        .bind(sent_at)
        .bind(attempt.error.as_deref())
        .bind(now)
        .bind(delivery_id)
        .bind(worker_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(updated)
    }

    /// Re-queues one of the user's failed deliveries; None if there is none.
    pub async fn retry_delivery(&self, user_id: &str, id: &str) -> StoreResult<Option<bool>> {
        let now = now_ms();
        let result = sqlx::query(
            "UPDATE deliveries SET status = 'queued', next_attempt_at = $1, lease_expires_at = NULL, leased_by = NULL, updated_at = $1
             WHERE id = $2 AND user_id = $3 AND status = 'failed'",
        )
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() > 0 {
            return Ok(Some(true));
        }
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM deliveries WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(exists.map(|_| false))
    }

    pub async fn delivery_for_user(
        &self,
        user_id: &str,
        id: &str,
    ) -> StoreResult<Option<DeliveryRow>> {
        let sql = format!("{DELIVERY_VIEW} WHERE d.id = $1 AND d.user_id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A message's deliveries and all their attempts, in two queries.
    pub async fn deliveries_of_message(
        &self,
        message_id: &str,
    ) -> StoreResult<(Vec<DeliveryRow>, Vec<AttemptRow>)> {
        let sql = format!("{DELIVERY_VIEW} WHERE d.message_id = $1 ORDER BY d.id");
        let deliveries: Vec<DeliveryRow> = sqlx::query_as(&sql)
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        let attempts = sqlx::query_as(
            "SELECT a.delivery_id, a.attempt_no, a.started_at, a.duration_ms, a.outcome, a.http_status, a.error, a.response_snippet,
                    a.response_json
             FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
             WHERE d.message_id = $1 ORDER BY a.delivery_id, a.attempt_no",
        )
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?;
        Ok((deliveries, attempts))
    }

    /// The full stored message a delivery refers to (even if soft-deleted).
    pub async fn message_for_delivery(
        &self,
        message_id: &str,
    ) -> StoreResult<Option<(super::MessageRow, Option<i64>)>> {
        let row = sqlx::query(
            "SELECT m.id, m.endpoint_id, e.name AS endpoint_name, m.received_at, m.title, m.body, m.group_name, m.priority,
                    m.tags, m.url, m.extras, m.content_type, m.remote_ip, m.user_agent, m.headers, m.query, m.size_bytes,
                    m.filter_errors, m.deleted_at
             FROM messages m JOIN ingest_endpoints e ON e.id = m.endpoint_id WHERE m.id = $1",
        )
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => {
                use sqlx::Row;
                let deleted_at: Option<i64> = row.try_get("deleted_at")?;
                Ok(Some((super::MessageRow::from_row(&row)?, deleted_at)))
            }
            None => Ok(None),
        }
    }

    /// Marks a worker alive (readiness checks look at this).
    pub async fn worker_heartbeat(&self, worker_id: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO worker_heartbeats (worker_id, last_seen_at) VALUES ($1, $2)
             ON CONFLICT (worker_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(worker_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Time of the freshest worker heartbeat, if any worker ever ran.
    pub async fn latest_worker_heartbeat(&self) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(last_seen_at) FROM worker_heartbeats")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// `pg_notify(channel, payload)` on PostgreSQL; nothing on SQLite (one process).
    pub async fn notify(&self, channel: &str, payload: &str) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Wakes workers in other processes (PostgreSQL only; SQLite runs one process).
    pub async fn notify_work(&self) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify('beacon_deliveries', '')")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// One row of the user's delivery list: the delivery plus the start of its message.
#[derive(Clone, Debug, FromRow)]
pub struct DeliveryListRow {
    #[sqlx(flatten)]
    pub delivery: DeliveryRow,
    pub message_title: Option<String>,
    pub message_preview: String,
}

/// Filters of the delivery list.
#[derive(Clone, Debug, Default)]
pub struct DeliveryFilter {
    pub status: Option<String>,
    /// Keyset cursor: only deliveries updated before this (updated_at, id).
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// Counts per hour-sized bucket, `bucket` counted from the window's start.
#[derive(Clone, Debug, FromRow)]
pub struct BucketCount {
    pub bucket: i64,
    pub status: String,
    pub count: i64,
}

/// Characters of the message body a delivery list row carries.
const DELIVERY_PREVIEW_CHARS: i64 = 120;

impl Store {
    /// The user's deliveries, most recently changed first (index
    /// `deliveries_user_status` with a status, `deliveries_user_updated` without).
    pub async fn list_deliveries(
        &self,
        user_id: &str,
        filter: &DeliveryFilter,
    ) -> StoreResult<Vec<DeliveryListRow>> {
        let mut sql = format!(
            "SELECT d.id, d.message_id, d.rule_id, r.name AS rule_name, d.channel_id, c.name AS channel_name, d.status,
                    d.attempt_count, d.next_attempt_at, d.last_error, d.created_at, d.updated_at, d.sent_at,
                    m.title AS message_title, substr(m.body, 1, {DELIVERY_PREVIEW_CHARS}) AS message_preview
             FROM deliveries d JOIN messages m ON m.id = d.message_id
             LEFT JOIN rules r ON r.id = d.rule_id LEFT JOIN channels c ON c.id = d.channel_id
             WHERE d.user_id = $1 AND m.deleted_at IS NULL"
        );
        let mut next = 2;
        if filter.status.is_some() {
            sql.push_str(&format!(" AND d.status = ${next}"));
            next += 1;
        }
        if filter.before.is_some() {
            sql.push_str(&format!(
                " AND (d.updated_at < ${a} OR (d.updated_at = ${a} AND d.id < ${b}))",
                a = next,
                b = next + 1
            ));
            next += 2;
        }
        sql.push_str(&format!(
            " ORDER BY d.updated_at DESC, d.id DESC LIMIT ${next}"
        ));
        let mut query = sqlx::query_as(&sql).bind(user_id);
        if let Some(status) = &filter.status {
            query = query.bind(status);
        }
        if let Some((updated_at, id)) = &filter.before {
            query = query.bind(*updated_at).bind(id);
        }
        Ok(query.bind(filter.limit).fetch_all(&self.pool).await?)
    }

    /// Messages received and deliveries finished (sent or failed) per bucket
    /// of `bucket_ms` since `from_ms`. Messages are found through their
    /// time-ordered ids (UUIDv7), so the `(user_id, id)` index serves the range.
    pub async fn activity(
        &self,
        user_id: &str,
        from_ms: i64,
        bucket_ms: i64,
    ) -> StoreResult<Vec<BucketCount>> {
        let first_id = format!("{:012x}{}", from_ms.max(0), "0".repeat(20));
        let mut counts: Vec<BucketCount> = sqlx::query_as(
            "SELECT (received_at - $1) / $2 AS bucket, 'message' AS status, COUNT(*) AS count
             FROM messages WHERE user_id = $3 AND id >= $4 AND received_at >= $1 AND deleted_at IS NULL
             GROUP BY (received_at - $1) / $2",
        )
        .bind(from_ms)
        .bind(bucket_ms)
        .bind(user_id)
        .bind(first_id)
        .fetch_all(&self.pool)
        .await?;
        let finished: Vec<BucketCount> = sqlx::query_as(
            "SELECT (updated_at - $1) / $2 AS bucket, status, COUNT(*) AS count
             FROM deliveries WHERE user_id = $3 AND status IN ('sent', 'failed') AND updated_at >= $1
             GROUP BY status, (updated_at - $1) / $2",
        )
        .bind(from_ms)
        .bind(bucket_ms)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        counts.extend(finished);
        Ok(counts)
    }
}
