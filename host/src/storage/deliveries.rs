//! The delivery queue: claiming due work with a lease, recording attempts
//! together with the new state, manual retry, and the per-message history.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use sqlx::{FromRow, Row};

use super::batch::{chunks, inserts, param, value_rows, Statements, CHUNK_SIZES};
use super::channels::{ChannelRow, RuleRow, CHANNEL_COLUMNS, RULE_COLUMNS};
use super::messages::MessageRow;
use super::{Backend, Store, StoreResult, WriteTx};
use crate::domain::channel::Channel;
use crate::domain::{new_id, now_ms, DeliveryStatus, Message, NextState, Rule};

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

/// A claimed delivery with everything its attempt needs, loaded with the
/// claim (three queries per claimed batch instead of three per delivery).
#[derive(Clone, Debug)]
pub struct DeliveryWork {
    pub delivery: ClaimedDelivery,
    /// `None` when the channel was deleted since.
    pub channel: Option<Channel>,
    /// `None` when the rule was deleted since; an error when its row is corrupt.
    pub rule: Option<Result<Rule, String>>,
    /// The stored message and when it was soft-deleted, if it was; an error
    /// when its row is corrupt (that delivery fails, the others go on).
    pub message: Option<Result<(Message, Option<i64>), String>>,
}

/// What a worker last reported.
#[derive(Clone, Debug, FromRow)]
pub struct WorkerStatus {
    pub worker_id: String,
    pub last_seen_at: i64,
    pub last_round_at: Option<i64>,
    pub consecutive_failures: i64,
}

/// One finished attempt and what it leads to, for [`Store::finish_attempts`].
#[derive(Clone, Debug)]
pub struct FinishedAttempt {
    pub delivery_id: String,
    pub attempt: AttemptRecord,
    pub next: NextState,
}

/// One finished attempt.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub attempt_no: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    /// `sent`, `retry` or `failed`.
    pub outcome: DeliveryStatus,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub response_snippet: Option<String>,
    pub response_json: Option<String>,
}

#[derive(Clone, Debug, FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub message_id: String,
    pub rule_id: Option<String>,
    pub rule_name: Option<String>,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
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
    #[sqlx(try_from = "String")]
    pub outcome: DeliveryStatus,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub response_snippet: Option<String>,
    pub response_json: Option<String>,
}

static ATTEMPT_INSERTS: LazyLock<Statements> = LazyLock::new(|| {
    inserts(
        "delivery_attempts",
        "id, delivery_id, attempt_no, started_at, duration_ms, outcome, http_status, error, response_snippet, response_json",
        10,
    )
});

/// Moves a run of deliveries to their next state, each only while the worker
/// (last parameter) still holds its lease; returns the ids it moved.
static OUTCOME_UPDATES: LazyLock<Statements> = LazyLock::new(|| {
    const ARITY: usize = 6;
    Statements::new(|rows, numbered| {
        format!(
            "WITH outcome (id, status, attempt_count, next_attempt_at, sent_at, last_error) AS (VALUES {})
             UPDATE deliveries SET status = outcome.status, attempt_count = outcome.attempt_count,
                    next_attempt_at = outcome.next_attempt_at, sent_at = outcome.sent_at, last_error = outcome.last_error,
                    lease_expires_at = NULL, leased_by = NULL, updated_at = {}
             FROM outcome WHERE deliveries.id = outcome.id AND deliveries.leased_by = {}
             RETURNING deliveries.id",
            value_rows(ARITY, rows, numbered),
            param(rows * ARITY + 1, numbered),
            param(rows * ARITY + 2, numbered),
        )
    })
});

const DELIVERY_VIEW: &str = "SELECT d.id, d.message_id, d.rule_id, r.name AS rule_name, d.channel_id, c.name AS channel_name, d.status,
        d.attempt_count, d.next_attempt_at, d.last_error, d.created_at, d.updated_at, d.sent_at
    FROM deliveries d LEFT JOIN rules r ON r.id = d.rule_id LEFT JOIN channels c ON c.id = d.channel_id";

impl Store {
    /// Leases up to `limit` due deliveries to `worker_id`: sending rows whose
    /// lease expired (their worker died) first, then queued or retry rows
    /// whose time has come, oldest first. Each is one statement, so two
    /// workers never get the same row.
    pub async fn claim_deliveries(
        &self,
        worker_id: &str,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryWork>> {
        let mut tx = self.begin_write().await?;
        let work = self.claim_in(&mut tx, worker_id, lease_ms, limit).await?;
        tx.commit().await?;
        Ok(work)
    }

    /// Records finished attempts and claims new work in one transaction: the
    /// worker's group commit (one commit per round instead of two per
    /// delivery). See [`Store::finish_attempts`] and [`Store::claim_deliveries`].
    pub async fn exchange_deliveries(
        &self,
        worker_id: &str,
        finished: &[FinishedAttempt],
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<(Vec<bool>, Vec<DeliveryWork>)> {
        let mut tx = self.begin_write().await?;
        let moved = self.finish_in(&mut tx, worker_id, finished).await?;
        let work = self.claim_in(&mut tx, worker_id, lease_ms, limit).await?;
        tx.commit().await?;
        Ok((moved, work))
    }

    async fn claim_in(
        &self,
        tx: &mut WriteTx,
        worker_id: &str,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryWork>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let now = now_ms();
        // Concurrent claimers skip each other's rows instead of waiting.
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        // Two statements rather than one with OR: each condition has its own
        // index (deliveries_leased, deliveries_pending) that yields rows in
        // order, so a claim reads `limit` rows, not the whole queue.
        let expired = format!(
            "SELECT id FROM deliveries WHERE status = 'sending' AND lease_expires_at <= $3 LIMIT $4 {lock}"
        );
        let due = format!(
            "SELECT id FROM deliveries WHERE status IN ('queued', 'retry') AND next_attempt_at <= $3
             ORDER BY next_attempt_at LIMIT $4 {lock}"
        );
        let mut claimed: Vec<ClaimedDelivery> = Vec::new();
        for candidates in [expired, due] {
            let room = limit - claimed.len() as i64;
            if room <= 0 {
                break;
            }
            let sql = format!(
                "UPDATE deliveries SET status = 'sending', leased_by = $1, lease_expires_at = $2, updated_at = $3
                 WHERE id IN ({candidates})
                 RETURNING id, user_id, message_id, rule_id, channel_id, attempt_count"
            );
            let batch: Vec<ClaimedDelivery> = sqlx::query_as(&sql)
                .bind(worker_id)
                .bind(now + lease_ms)
                .bind(now)
                .bind(room)
                .fetch_all(&mut **tx)
                .await?;
            claimed.extend(batch);
        }
        load_work(tx, claimed).await
    }

    /// Records finished attempts and moves their deliveries on, all in one
    /// transaction (the worker's group commit) with a few multi-row
    /// statements. A delivery's state changes only while this worker still
    /// holds its lease: the answer says, per attempt, whether it did.
    pub async fn finish_attempts(
        &self,
        worker_id: &str,
        finished: &[FinishedAttempt],
    ) -> StoreResult<Vec<bool>> {
        let mut tx = self.begin_write().await?;
        let moved = self.finish_in(&mut tx, worker_id, finished).await?;
        tx.commit().await?;
        Ok(moved)
    }

    async fn finish_in(
        &self,
        tx: &mut WriteTx,
        worker_id: &str,
        finished: &[FinishedAttempt],
    ) -> StoreResult<Vec<bool>> {
        let now = now_ms();
        for (start, size_index) in chunks(finished.len()) {
            let rows = &finished[start..start + CHUNK_SIZES[size_index]];
            let mut insert = sqlx::query(ATTEMPT_INSERTS.get(self.backend, size_index));
            for FinishedAttempt {
                delivery_id,
                attempt,
                ..
            } in rows
            {
                insert = insert
                    .bind(new_id())
                    .bind(delivery_id.as_str())
                    .bind(attempt.attempt_no)
                    .bind(attempt.started_at)
                    .bind(attempt.duration_ms)
                    .bind(attempt.outcome.as_str())
                    .bind(attempt.http_status)
                    .bind(attempt.error.as_deref())
                    .bind(attempt.response_snippet.as_deref())
                    .bind(attempt.response_json.as_deref());
            }
            insert.execute(&mut **tx).await?;
        }
        let mut moved: HashSet<String> = HashSet::new();
        for (start, size_index) in chunks(finished.len()) {
            let rows = &finished[start..start + CHUNK_SIZES[size_index]];
            let mut update =
                sqlx::query_scalar::<_, String>(OUTCOME_UPDATES.get(self.backend, size_index));
            for FinishedAttempt {
                delivery_id,
                attempt,
                next,
            } in rows
            {
                let (next_at, sent_at) = match next {
                    NextState::Sent => (now, Some(now)),
                    NextState::RetryAt(at) => (*at, None),
                    NextState::Failed => (now, None),
                };
                update = update
                    .bind(delivery_id.as_str())
                    .bind(next.status().as_str())
                    .bind(attempt.attempt_no)
                    .bind(next_at)
                    .bind(sent_at)
                    .bind(attempt.error.as_deref());
            }
            moved.extend(
                update
                    .bind(now)
                    .bind(worker_id)
                    .fetch_all(&mut **tx)
                    .await?,
            );
        }
        Ok(finished
            .iter()
            .map(|f| moved.contains(&f.delivery_id))
            .collect())
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
        .execute(&self.writer)
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

    /// Marks a worker alive, with when its last database round succeeded
    /// and how many failed since (readiness checks look at these).
    pub async fn worker_heartbeat(
        &self,
        worker_id: &str,
        last_round_at: Option<i64>,
        consecutive_failures: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO worker_heartbeats (worker_id, last_seen_at, last_round_at, consecutive_failures)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (worker_id) DO UPDATE SET last_seen_at = excluded.last_seen_at,
                 last_round_at = excluded.last_round_at, consecutive_failures = excluded.consecutive_failures",
        )
        .bind(worker_id)
        .bind(now_ms())
        .bind(last_round_at)
        .bind(consecutive_failures)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The workers that reported since `since`, freshest first.
    pub async fn worker_statuses(&self, since: i64) -> StoreResult<Vec<WorkerStatus>> {
        Ok(sqlx::query_as(
            "SELECT worker_id, last_seen_at, last_round_at, CAST(consecutive_failures AS BIGINT) AS consecutive_failures
             FROM worker_heartbeats WHERE last_seen_at >= $1 ORDER BY last_seen_at DESC",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The waiting deliveries at `now`: how many are due, how many wait for
    /// a later time (backoff, schedule), and when the oldest due one fell due.
    /// Both counts read the partial index of waiting deliveries.
    pub async fn queue_gauges(&self, now: i64) -> StoreResult<(i64, i64, Option<i64>)> {
        let (due, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries
             WHERE status IN ('queued', 'retry') AND next_attempt_at <= $1",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'retry') AND next_attempt_at > $1",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok((due, waiting, oldest))
    }

    /// Time of the freshest worker heartbeat, if any worker ever ran.
    pub async fn latest_worker_heartbeat(&self) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(last_seen_at) FROM worker_heartbeats")
                .fetch_one(&self.pool)
                .await?,
        )
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
    pub status: Option<DeliveryStatus>,
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
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
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

/// The channels, rules and messages of claimed deliveries, a query each.
async fn load_work(
    tx: &mut WriteTx,
    claimed: Vec<ClaimedDelivery>,
) -> StoreResult<Vec<DeliveryWork>> {
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let channel_ids = distinct(claimed.iter().filter_map(|d| d.channel_id.as_deref()));
    let rule_ids = distinct(claimed.iter().filter_map(|d| d.rule_id.as_deref()));
    let message_ids = distinct(claimed.iter().map(|d| d.message_id.as_str()));

    let channels: HashMap<String, Channel> = rows_by_id(
        tx,
        &format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id IN"),
        &channel_ids,
    )
    .await?
    .into_iter()
    .map(|row: ChannelRow| {
        let channel = Channel::from(row);
        (channel.id.clone(), channel)
    })
    .collect();
    let rules: HashMap<String, Result<Rule, String>> = rows_by_id(
        tx,
        &format!("SELECT {RULE_COLUMNS} FROM rules WHERE id IN"),
        &rule_ids,
    )
    .await?
    .into_iter()
    .map(|row: RuleRow| {
        (
            row.id().to_string(),
            row.into_rule().map_err(|e| e.to_string()),
        )
    })
    .collect();
    let messages: HashMap<String, Result<(Message, Option<i64>), String>> = rows_by_id(
        tx,
        "SELECT m.id, m.endpoint_id, e.name AS endpoint_name, m.received_at, m.title, m.body, m.group_name, m.priority,
                m.tags, m.url, m.extras, m.content_type, m.remote_ip, m.user_agent, m.headers, m.query, m.size_bytes,
                m.filter_errors, m.deliver_at, m.deleted_at
         FROM messages m JOIN ingest_endpoints e ON e.id = m.endpoint_id WHERE m.id IN",
        &message_ids,
    )
    .await?
    .into_iter()
    .map(|DeletableMessage { message, deleted_at }| {
        let id = message.id.clone();
        let loaded = message
            .into_message()
            .map(|message| (message, deleted_at))
            .map_err(|e| e.to_string());
        (id, loaded)
    })
    .collect();

    Ok(claimed
        .into_iter()
        .map(|delivery| DeliveryWork {
            channel: delivery
                .channel_id
                .as_ref()
                .and_then(|id| channels.get(id).cloned()),
            rule: delivery
                .rule_id
                .as_ref()
                .and_then(|id| rules.get(id).cloned()),
            message: messages.get(&delivery.message_id).cloned(),
            delivery,
        })
        .collect())
}

/// A stored message with its soft-delete time.
struct DeletableMessage {
    message: MessageRow,
    deleted_at: Option<i64>,
}

impl FromRow<'_, sqlx::any::AnyRow> for DeletableMessage {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        Ok(DeletableMessage {
            message: MessageRow::from_row(row)?,
            deleted_at: row.try_get("deleted_at")?,
        })
    }
}

/// `select` (ending in `IN`) for the given ids, none when there are none.
async fn rows_by_id<T>(tx: &mut WriteTx, select: &str, ids: &[&str]) -> StoreResult<Vec<T>>
where
    T: for<'r> FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{select} ({})", placeholders(ids.len()));
    let mut query = sqlx::query_as::<_, T>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(&mut **tx).await?)
}

fn distinct<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// `$1, $2, …, $count`.
fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
