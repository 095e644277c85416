//! `/api/messages`: filtered keyset-paginated list, detail, soft delete, batch delete.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::ingest::canonical_id;
use crate::storage::{now_ms, MessageFilter, MessageRow};
use crate::timefmt::{parse_rfc3339, rfc3339};
use crate::AppState;

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;
/// Rows soft-deleted per statement by batch delete.
const DELETE_CHUNK: i64 = 1_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages))
        .routes(routes!(get_message, delete_message))
        .routes(routes!(batch_delete))
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<i64>,
    endpoint_id: Option<String>,
    /// Case-insensitive text in title or body.
    q: Option<String>,
    group: Option<String>,
    priority_min: Option<i64>,
    priority_max: Option<i64>,
    /// Case-insensitive tag.
    tag: Option<String>,
    /// RFC 3339; received at or after.
    since: Option<String>,
    /// RFC 3339; received before.
    until: Option<String>,
}

#[derive(Serialize, ToSchema, Default)]
pub struct DeliveryCounts {
    total: i64,
    sent: i64,
    failed: i64,
    /// Queued, sending or waiting for a retry.
    pending: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MessageSummary {
    id: String,
    received_at: String,
    endpoint_id: String,
    endpoint_name: String,
    title: Option<String>,
    /// The first characters of the body.
    body_preview: String,
    priority: i64,
    tags: Vec<String>,
    group: Option<String>,
    url: Option<String>,
    deliveries: DeliveryCounts,
}

#[derive(Serialize, ToSchema)]
pub struct MessagePage {
    items: Vec<MessageSummary>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointRef {
    id: String,
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct RequestMetadata {
    content_type: String,
    remote_ip: Option<String>,
    user_agent: Option<String>,
    /// Sensitive values are `[REDACTED]`.
    headers: BTreeMap<String, String>,
    query: BTreeMap<String, String>,
    size_bytes: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MessageDetail {
    id: String,
    received_at: String,
    endpoint: EndpointRef,
    title: Option<String>,
    body: String,
    group: Option<String>,
    priority: i64,
    tags: Vec<String>,
    url: Option<String>,
    extras: BTreeMap<String, String>,
    request: RequestMetadata,
    /// Filters that failed (trapped, timed out) while matching rules for this message.
    filter_errors: Vec<serde_json::Value>,
    /// One per matching rule, with every attempt.
    deliveries: Vec<super::deliveries::DeliveryView>,
}

#[derive(Deserialize, ToSchema)]
pub struct BatchDelete {
    /// Delete messages received more than this many days ago (0 = all).
    older_than_days: u32,
    /// Only this endpoint's messages.
    ingest_endpoint_id: Option<String>,
    /// Delete at most this many (1–100000) and report how many remain, so a
    /// client can delete in steps and show progress. All when absent.
    #[schema(minimum = 1, maximum = 100000)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchDeleted {
    deleted: u64,
    /// Messages the same request would still delete (0 without `limit`).
    remaining: u64,
}

/// The user's messages, newest first, filtered, with a keyset cursor.
#[utoipa::path(get, path = "/api/messages", tag = "messages", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = MessagePage), (status = 422, body = ErrorBody)))]
async fn list_messages(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> AppResult<Json<MessagePage>> {
    let mut filter = filter_from(params)?;
    let limit = filter.limit;
    filter.limit = limit + 1; // one extra row tells whether another page exists
    let mut rows = state.store.list_messages(&user.id, &filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|row| row.id.clone())
    } else {
        None
    };
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut counts: HashMap<String, DeliveryCounts> = state
        .store
        .delivery_summaries(&ids)
        .await?
        .into_iter()
        .map(|s| {
            (
                s.message_id,
                DeliveryCounts {
                    total: s.total,
                    sent: s.sent,
                    failed: s.failed,
                    pending: s.total - s.sent - s.failed,
                },
            )
        })
        .collect();
    let items = rows
        .into_iter()
        .map(|row| {
            let deliveries = counts.remove(&row.id).unwrap_or_default();
            MessageSummary {
                tags: json_or_default(&row.tags),
                received_at: rfc3339(row.received_at),
                id: row.id,
                endpoint_id: row.endpoint_id,
                endpoint_name: row.endpoint_name,
                title: row.title,
                body_preview: row.body,
                priority: row.priority,
                group: row.group_name,
                url: row.url,
                deliveries,
            }
        })
        .collect();
    Ok(Json(MessagePage { items, next_cursor }))
}

fn filter_from(params: ListParams) -> AppResult<MessageFilter> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::validation(
            "limit",
            format!("must be from 1 to {MAX_PAGE}"),
        ));
    }
    for (field, value) in [
        ("priority_min", params.priority_min),
        ("priority_max", params.priority_max),
    ] {
        if value.is_some_and(|p| !(1..=5).contains(&p)) {
            return Err(AppError::validation(field, "must be from 1 to 5"));
        }
    }
    let endpoint_id = match params.endpoint_id.filter(|s| !s.is_empty()) {
        Some(raw) => Some(
            canonical_id(&raw)
                .ok_or_else(|| AppError::validation("endpoint_id", "is not an endpoint id"))?,
        ),
        None => None,
    };
    let cursor = match params.cursor.filter(|s| !s.is_empty()) {
        Some(raw) if raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(raw.to_ascii_lowercase())
        }
        Some(_) => {
            return Err(AppError::validation(
                "cursor",
                "is not a cursor returned by this API",
            ))
        }
        None => None,
    };
    let non_empty = |value: Option<String>| {
        value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    Ok(MessageFilter {
        endpoint_id,
        text: non_empty(params.q),
        group: non_empty(params.group),
        priority_min: params.priority_min,
        priority_max: params.priority_max,
        tag: non_empty(params.tag),
        since_ms: non_empty(params.since)
            .map(|v| parse_rfc3339(&v, "since"))
            .transpose()?,
        until_ms: non_empty(params.until)
            .map(|v| parse_rfc3339(&v, "until"))
            .transpose()?,
        before_id: cursor,
        limit,
    })
}

/// One message with its extras and request metadata.
#[utoipa::path(get, path = "/api/messages/{id}", tag = "messages", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageDetail), (status = 404, body = ErrorBody)))]
async fn get_message(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<MessageDetail>> {
    let id = canonical_id(&id).ok_or(AppError::NotFound)?;
    let row = state
        .store
        .message_for_user(&user.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let deliveries = super::deliveries::of_message(&state, &row.id).await?;
    Ok(Json(detail(row, deliveries)))
}

fn detail(row: MessageRow, deliveries: Vec<super::deliveries::DeliveryView>) -> MessageDetail {
    MessageDetail {
        received_at: rfc3339(row.received_at),
        endpoint: EndpointRef {
            id: row.endpoint_id,
            name: row.endpoint_name,
        },
        title: row.title,
        body: row.body,
        group: row.group_name,
        priority: row.priority,
        tags: json_or_default(&row.tags),
        url: row.url,
        extras: json_or_default(&row.extras),
        request: RequestMetadata {
            content_type: row.content_type,
            remote_ip: row.remote_ip,
            user_agent: row.user_agent,
            headers: json_or_default(&row.headers),
            query: json_or_default(&row.query),
            size_bytes: row.size_bytes,
        },
        filter_errors: row
            .filter_errors
            .as_deref()
            .map(json_or_default)
            .unwrap_or_default(),
        deliveries,
        id: row.id,
    }
}

/// Delete one message (soft delete: it disappears from every view).
#[utoipa::path(delete, path = "/api/messages/{id}", tag = "messages", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_message(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let id = canonical_id(&id).ok_or(AppError::NotFound)?;
    if state.store.soft_delete_message(&user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// Delete every message older than N days, optionally of one endpoint.
#[utoipa::path(post, path = "/api/messages/batch-delete", tag = "messages", request_body = BatchDelete, security(("bearer" = [])),
    responses((status = 200, body = BatchDeleted), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn batch_delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<BatchDelete>,
) -> AppResult<Json<BatchDeleted>> {
    if body.older_than_days > 36_500 {
        return Err(AppError::validation(
            "older_than_days",
            "must be at most 36500",
        ));
    }
    let endpoint_id = match body.ingest_endpoint_id.filter(|s| !s.is_empty()) {
        Some(raw) => {
            let id = canonical_id(&raw).ok_or(AppError::NotFound)?;
            state
                .store
                .endpoint_for_user(&user.id, &id)
                .await?
                .ok_or(AppError::NotFound)?;
            Some(id)
        }
        None => None,
    };
    if body
        .limit
        .is_some_and(|limit| !(1..=100_000).contains(&limit))
    {
        return Err(AppError::validation(
            "limit",
            "must be between 1 and 100000",
        ));
    }
    let cutoff = now_ms() - i64::from(body.older_than_days) * 86_400_000;
    let endpoint_id = endpoint_id.as_deref();
    let mut left = body.limit.map(u64::from);
    let mut deleted = 0;
    while left != Some(0) {
        let chunk = left.map_or(DELETE_CHUNK, |left| DELETE_CHUNK.min(left as i64));
        let n = state
            .store
            .soft_delete_messages_before(&user.id, cutoff, endpoint_id, chunk)
            .await?;
        deleted += n;
        left = left.map(|left| left.saturating_sub(n));
        if n == 0 {
            break;
        }
    }
    let remaining = match body.limit {
        Some(_) => {
            state
                .store
                .count_messages_before(&user.id, cutoff, endpoint_id)
                .await?
        }
        None => 0,
    };
    Ok(Json(BatchDeleted { deleted, remaining }))
}

/// Stored JSON columns are written by this program; a broken one reads as empty.
fn json_or_default<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}
