//! Messages: group-committed inserts, keyset listing with filters, soft delete.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, FromRow};

use super::batch::{chunks, inserts, Statements, CHUNK_SIZES};
use super::{json_column, json_text, Backend, Store, StoreResult};
use crate::domain::{now_ms, DeliveryStatus, Message, Payload, RequestFacts};

/// A message ready to be stored, as ingest built it.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub user_id: String,
    pub message: Message,
    /// One queued delivery per matching rule, committed with the message.
    pub deliveries: Vec<NewDelivery>,
}

/// A delivery queued at ingest.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub id: String,
    pub rule_id: String,
    pub channel_id: String,
}

/// A stored message as its columns hold it; [`MessageRow::into_message`]
/// parses the JSON columns once, here at the edge.
#[derive(Clone, Debug, FromRow)]
pub(super) struct MessageRow {
    pub id: String,
    pub endpoint_id: String,
    pub endpoint_name: String,
    pub received_at: i64,
    pub title: Option<String>,
    pub body: String,
    pub group_name: Option<String>,
    pub priority: i64,
    pub tags: String,
    pub url: Option<String>,
    pub extras: String,
    pub content_type: String,
    pub remote_ip: Option<String>,
    pub user_agent: Option<String>,
    pub headers: String,
    pub query: String,
    pub size_bytes: i64,
    pub filter_errors: Option<String>,
    pub deliver_at: Option<i64>,
}

impl MessageRow {
    pub(super) fn into_message(self) -> StoreResult<Message> {
        let id = self.id.as_str();
        let tags = json_column("messages", id, "tags", &self.tags)?;
        let extras = json_column("messages", id, "extras", &self.extras)?;
        let headers = json_column("messages", id, "headers", &self.headers)?;
        let query = json_column("messages", id, "query", &self.query)?;
        let filter_errors = match self.filter_errors.as_deref() {
            Some(text) => json_column("messages", id, "filter_errors", text)?,
            None => Vec::new(),
        };
        Ok(Message {
            payload: Payload {
                body: self.body,
                title: self.title,
                group: self.group_name,
                priority: self.priority,
                tags,
                url: self.url,
                extras,
            },
            request: RequestFacts {
                content_type: self.content_type,
                remote_ip: self.remote_ip,
                user_agent: self.user_agent,
                headers,
                query,
                size_bytes: self.size_bytes,
            },
            filter_errors,
            id: self.id,
            endpoint_id: self.endpoint_id,
            endpoint_name: self.endpoint_name,
            received_at: self.received_at,
            deliver_at: self.deliver_at,
        })
    }
}

/// Filters of the message list; every one is optional.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    pub endpoint_id: Option<String>,
    /// Substring of title or body, `%`, `_` and `\` taken literally; case
    /// is ignored for ASCII letters on SQLite (its `LIKE`) and for all
    /// letters on PostgreSQL (`ILIKE`).
    pub text: Option<String>,
    pub group: Option<String>,
    pub priority_min: Option<i64>,
    pub priority_max: Option<i64>,
    /// Matched case-insensitively.
    pub tag: Option<String>,
    /// Received at or after (Unix ms).
    pub since_ms: Option<i64>,
    /// Received before (Unix ms).
    pub until_ms: Option<i64>,
    /// Only messages scheduled after this Unix ms (`scheduled=true`: now).
    pub scheduled_after_ms: Option<i64>,
    /// Keyset cursor: only messages older than this id.
    pub before_id: Option<String>,
    pub limit: i64,
}

#[derive(Clone, Debug, Default, FromRow)]
pub struct DeliverySummary {
    pub message_id: String,
    pub total: i64,
    pub sent: i64,
    pub failed: i64,
}

/// Characters of the body a list row carries.
const PREVIEW_CHARS: i64 = 280;
const MESSAGE_INSERT_COLUMNS: &str =
    "id, user_id, endpoint_id, received_at, title, body, group_name, priority, tags, url, \
     extras, content_type, remote_ip, user_agent, headers, query, size_bytes, filter_errors, deliver_at";
const MESSAGE_INSERT_ARITY: usize = 19;
const DELIVERY_INSERT_COLUMNS: &str =
    "id, user_id, message_id, rule_id, channel_id, status, attempt_count, next_attempt_at, created_at, updated_at";
static MESSAGE_INSERTS: LazyLock<Statements> =
    LazyLock::new(|| inserts("messages", MESSAGE_INSERT_COLUMNS, MESSAGE_INSERT_ARITY));
static DELIVERY_INSERTS: LazyLock<Statements> =
    LazyLock::new(|| inserts("deliveries", DELIVERY_INSERT_COLUMNS, 10));
static TAG_INSERTS: LazyLock<Statements> =
    LazyLock::new(|| inserts("message_tags", "message_id, user_id, tag", 3));

/// Lowest UUIDv7 id that can carry the given millisecond time. Because ids are
/// time-ordered, a time range becomes an id range and uses the same index.
pub fn id_floor_for_time(ms: i64) -> String {
    format!("{:012x}{}", ms.clamp(0, 0xffff_ffff_ffff), "0".repeat(20))
}

/// Parameters for dynamically assembled statements.
enum Param {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    params: &'q [Param],
) -> Query<'q, Any, AnyArguments<'q>> {
    for param in params {
        query = match param {
            Param::Text(text) => query.bind(text.as_str()),
            Param::Int(value) => query.bind(*value),
        };
    }
    query
}

impl Store {
    /// Stores a batch of messages with their tags and queued deliveries in one
    /// transaction. The caller acknowledges each message
    /// only after this returns, so a 201 always means committed.
    pub async fn insert_messages(&self, batch: &[NewMessage]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for (start, size_index) in chunks(batch.len()) {
            let rows = &batch[start..start + CHUNK_SIZES[size_index]];
            let mut query = sqlx::query(MESSAGE_INSERTS.get(self.backend, size_index));
            for new in rows {
                let (m, payload, request) =
                    (&new.message, &new.message.payload, &new.message.request);
                let filter_errors =
                    (!m.filter_errors.is_empty()).then(|| json_text(&m.filter_errors));
                query = query
                    .bind(&m.id)
                    .bind(&new.user_id)
                    .bind(&m.endpoint_id)
                    .bind(m.received_at)
                    .bind(payload.title.as_deref())
                    .bind(&payload.body)
                    .bind(payload.group.as_deref())
                    .bind(payload.priority)
                    .bind(json_text(&payload.tags))
                    .bind(payload.url.as_deref())
                    .bind(json_text(&payload.extras))
                    .bind(&request.content_type)
                    .bind(request.remote_ip.as_deref())
                    .bind(request.user_agent.as_deref())
                    .bind(json_text(&request.headers))
                    .bind(json_text(&request.query))
                    .bind(request.size_bytes)
                    .bind(filter_errors)
                    .bind(m.deliver_at);
            }
            query.execute(&mut *tx).await?;
        }

        let deliveries: Vec<(&NewMessage, &NewDelivery)> = batch
            .iter()
            .flat_map(|m| m.deliveries.iter().map(move |d| (m, d)))
            .collect();
        for (start, size_index) in chunks(deliveries.len()) {
            let mut query = sqlx::query(DELIVERY_INSERTS.get(self.backend, size_index));
            for (new, d) in &deliveries[start..start + CHUNK_SIZES[size_index]] {
                let m = &new.message;
                query = query
                    .bind(&d.id)
                    .bind(&new.user_id)
                    .bind(&m.id)
                    .bind(&d.rule_id)
                    .bind(&d.channel_id)
                    .bind(DeliveryStatus::Queued.as_str())
                    .bind(0_i64)
                    // A scheduled message's deliveries are due at its time.
                    .bind(m.deliver_at.unwrap_or(m.received_at))
                    .bind(m.received_at)
                    .bind(m.received_at);
            }
            query.execute(&mut *tx).await?;
        }

        let tags: Vec<(&str, &str, String)> = batch
            .iter()
            .flat_map(|new| {
                let unique: BTreeSet<String> = new
                    .message
                    .payload
                    .tags
                    .iter()
                    .map(|t| t.to_lowercase())
                    .collect();
                unique
                    .into_iter()
                    .map(move |tag| (new.message.id.as_str(), new.user_id.as_str(), tag))
            })
            .collect();
        for (start, size_index) in chunks(tags.len()) {
            let mut query = sqlx::query(TAG_INSERTS.get(self.backend, size_index));
            for (message_id, user_id, tag) in &tags[start..start + CHUNK_SIZES[size_index]] {
                query = query.bind(*message_id).bind(*user_id).bind(tag.as_str());
            }
            query.execute(&mut *tx).await?;
        }

        tx.commit().await?;
        Ok(())
    }

    /// Records when endpoints were last used (only ever moves forward).
    /// Outside the batch transaction: concurrent writers would otherwise queue
    /// on the same endpoint row.
    pub async fn touch_endpoints(&self, last_use: &HashMap<String, i64>) -> StoreResult<()> {
        for (endpoint_id, at) in last_use {
            sqlx::query("UPDATE ingest_endpoints SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
                .bind(*at)
                .bind(endpoint_id.as_str())
                .execute(&self.writer)
                .await?;
        }
        Ok(())
    }

    /// The user's messages, newest first, `filter.limit` at most.
    pub async fn list_messages(
        &self,
        user_id: &str,
        filter: &MessageFilter,
    ) -> StoreResult<Vec<Message>> {
        let mut conditions = vec![
            "m.user_id = $1".to_string(),
            "m.deleted_at IS NULL".to_string(),
        ];
        let mut params = vec![Param::Text(user_id.to_string())];
        let mut push = |condition: &str, param: Param, params: &mut Vec<Param>| {
            params.push(param);
            conditions.push(condition.replace("$?", &format!("${}", params.len())));
        };
        if let Some(endpoint_id) = &filter.endpoint_id {
            push(
                "m.endpoint_id = $?",
                Param::Text(endpoint_id.clone()),
                &mut params,
            );
        }
        if let Some(text) = &filter.text {
            let like = match self.backend {
                Backend::Sqlite => "(m.title LIKE $? ESCAPE '\\' OR m.body LIKE $? ESCAPE '\\')",
                Backend::Postgres => {
                    "(m.title ILIKE $? ESCAPE '\\' OR m.body ILIKE $? ESCAPE '\\')"
                }
            };
            let pattern = format!(
                "%{}%",
                text.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            push(like, Param::Text(pattern), &mut params);
        }
        if let Some(group) = &filter.group {
            push("m.group_name = $?", Param::Text(group.clone()), &mut params);
        }
        if let Some(min) = filter.priority_min {
            push("m.priority >= $?", Param::Int(min), &mut params);
        }
        if let Some(max) = filter.priority_max {
            push("m.priority <= $?", Param::Int(max), &mut params);
        }
        if let Some(tag) = &filter.tag {
            push(
                "EXISTS (SELECT 1 FROM message_tags t WHERE t.message_id = m.id AND t.user_id = m.user_id AND t.tag = $?)",
                Param::Text(tag.to_lowercase()),
                &mut params,
            );
        }
        if let Some(since) = filter.since_ms {
            push(
                "m.id >= $?",
                Param::Text(id_floor_for_time(since)),
                &mut params,
            );
        }
        if let Some(until) = filter.until_ms {
            push(
                "m.id < $?",
                Param::Text(id_floor_for_time(until)),
                &mut params,
            );
        }
        if let Some(before) = &filter.before_id {
            push("m.id < $?", Param::Text(before.clone()), &mut params);
        }
        if let Some(now) = filter.scheduled_after_ms {
            push("m.deliver_at > $?", Param::Int(now), &mut params);
        }
        params.push(Param::Int(filter.limit));
        let sql = format!(
            "SELECT m.id, m.endpoint_id, e.name AS endpoint_name, m.received_at, m.title,
                    SUBSTR(m.body, 1, {PREVIEW_CHARS}) AS body, m.group_name, m.priority, m.tags, m.url, m.extras,
                    m.content_type, m.remote_ip, m.user_agent, '{{}}' AS headers, '{{}}' AS query, m.size_bytes, m.filter_errors,
                    m.deliver_at
             FROM messages m JOIN ingest_endpoints e ON e.id = m.endpoint_id
             WHERE {} ORDER BY m.id DESC LIMIT ${}",
            conditions.join(" AND "),
            params.len()
        );
        let rows = bind_all(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| MessageRow::from_row(row)?.into_message())
            .collect()
    }

    /// One message of the user's, in full.
    pub async fn message_for_user(&self, user_id: &str, id: &str) -> StoreResult<Option<Message>> {
        let row: Option<MessageRow> = sqlx::query_as(
            "SELECT m.id, m.endpoint_id, e.name AS endpoint_name, m.received_at, m.title, m.body, m.group_name, m.priority,
                    m.tags, m.url, m.extras, m.content_type, m.remote_ip, m.user_agent, m.headers, m.query, m.size_bytes,
                    m.filter_errors, m.deliver_at
             FROM messages m JOIN ingest_endpoints e ON e.id = m.endpoint_id
             WHERE m.id = $1 AND m.user_id = $2 AND m.deleted_at IS NULL",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(MessageRow::into_message).transpose()
    }

    /// Delivery counts for a page of messages, in one query.
    pub async fn delivery_summaries(
        &self,
        message_ids: &[String],
    ) -> StoreResult<Vec<DeliverySummary>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=message_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT message_id, COUNT(*) AS total,
                    COUNT(CASE WHEN status = 'sent' THEN 1 END) AS sent,
                    COUNT(CASE WHEN status = 'failed' THEN 1 END) AS failed
             FROM deliveries WHERE message_id IN ({}) GROUP BY message_id",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as(&sql);
        for id in message_ids {
            query = query.bind(id.as_str());
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Soft-deletes one of the user's messages and cancels its deliveries
    /// that have not left (a scheduled message's, or ones waiting for a
    /// retry); false if there was none.
    pub async fn soft_delete_message(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let result = sqlx::query("UPDATE messages SET deleted_at = $1 WHERE id = $2 AND user_id = $3 AND deleted_at IS NULL")
            .bind(now)
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() > 0 {
            sqlx::query(
                "UPDATE deliveries SET status = $1, last_error = $2, updated_at = $3
                 WHERE message_id = $4 AND user_id = $5 AND status IN ($6, $7)",
            )
            .bind(DeliveryStatus::Failed.as_str())
            .bind("cancelled: the message was deleted")
            .bind(now)
            .bind(id)
            .bind(user_id)
            .bind(DeliveryStatus::Queued.as_str())
            .bind(DeliveryStatus::Retry.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(result.rows_affected() > 0)
    }

    /// Soft-deletes up to `chunk` of the user's messages received before
    /// `before_ms` (optionally of one endpoint); returns how many. Callers loop
    /// until it returns 0 so no single transaction grows unbounded.
    pub async fn soft_delete_messages_before(
        &self,
        user_id: &str,
        before_ms: i64,
        endpoint_id: Option<&str>,
        chunk: i64,
    ) -> StoreResult<u64> {
        let result = sqlx::query(
            "UPDATE messages SET deleted_at = $1 WHERE id IN (
                 SELECT id FROM messages
                 WHERE user_id = $2 AND deleted_at IS NULL AND id < $3 AND ($4 = '' OR endpoint_id = $4)
                 ORDER BY id LIMIT $5)",
        )
        .bind(now_ms())
        .bind(user_id)
        .bind(id_floor_for_time(before_ms))
        .bind(endpoint_id.unwrap_or(""))
        .bind(chunk)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected())
    }

    /// How many of the user's messages a batch delete with these bounds would
    /// still delete.
    pub async fn count_messages_before(
        &self,
        user_id: &str,
        before_ms: i64,
        endpoint_id: Option<&str>,
    ) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages
             WHERE user_id = $1 AND deleted_at IS NULL AND id < $2 AND ($3 = '' OR endpoint_id = $3)",
        )
        .bind(user_id)
        .bind(id_floor_for_time(before_ms))
        .bind(endpoint_id.unwrap_or(""))
        .fetch_one(&self.pool)
        .await?;
        Ok(count.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_floor_orders_like_uuid_v7() {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let ms = i64::from_str_radix(&id[..12], 16).expect("hex");
        assert!(id_floor_for_time(ms) <= id);
        assert!(id_floor_for_time(ms + 1) > id);
    }
}
