//! `/api/messages`: filtered keyset-paginated list, detail, soft delete, batch delete.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::app::App;
use crate::domain::canonical_id;
use crate::domain::time::parse_rfc3339;
use crate::domain::{now_ms, rfc3339, Message, Verdict};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::storage::{DeliverySummary, MessageFilter};

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

pub fn router() -> OpenApiRouter<App> {
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
    /// `true`: only messages whose scheduled delivery time is still ahead.
    scheduled: Option<bool>,
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
    /// RFC 3339: when its deliveries leave, for a scheduled message (null otherwise).
    deliver_at: Option<String>,
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
    /// RFC 3339: when its deliveries leave, for a scheduled message (null
    /// otherwise); deleting the message before then cancels them.
    deliver_at: Option<String>,
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
    #[schema(value_type = Vec<Object>)]
    filter_errors: Vec<Verdict>,
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
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> AppResult<Json<MessagePage>> {
    let filter = filter_from(params)?;
    let page = state.messages.list(&user.id, &filter).await?;
    let items = page
        .items
        .into_iter()
        .map(|(message, counts)| summary(message, counts))
        .collect();
    Ok(Json(MessagePage {
        items,
        next_cursor: page.next_cursor,
    }))
}

fn summary(message: Message, counts: DeliverySummary) -> MessageSummary {
    let payload = message.payload;
    MessageSummary {
        received_at: rfc3339(message.received_at),
        deliver_at: message.deliver_at.map(rfc3339),
        id: message.id,
        endpoint_id: message.endpoint_id,
        endpoint_name: message.endpoint_name,
        title: payload.title,
        body_preview: payload.body,
        priority: payload.priority,
        tags: payload.tags,
        group: payload.group,
        url: payload.url,
        deliveries: DeliveryCounts {
            total: counts.total,
            sent: counts.sent,
            failed: counts.failed,
            pending: counts.total - counts.sent - counts.failed,
        },
    }
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
        scheduled_after_ms: params.scheduled.unwrap_or(false).then(now_ms),
        limit,
    })
}

/// One message with its extras and request metadata.
#[utoipa::path(get, path = "/api/messages/{id}", tag = "messages", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageDetail), (status = 404, body = ErrorBody)))]
async fn get_message(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<MessageDetail>> {
    let found = state.messages.get(&user.id, &id).await?;
    let deliveries = super::deliveries::views(found.deliveries, found.attempts);
    Ok(Json(detail(found.message, deliveries)))
}

fn detail(message: Message, deliveries: Vec<super::deliveries::DeliveryView>) -> MessageDetail {
    let (payload, request) = (message.payload, message.request);
    MessageDetail {
        received_at: rfc3339(message.received_at),
        deliver_at: message.deliver_at.map(rfc3339),
        endpoint: EndpointRef {
            id: message.endpoint_id,
            name: message.endpoint_name,
        },
        title: payload.title,
        body: payload.body,
        group: payload.group,
        priority: payload.priority,
        tags: payload.tags,
        url: payload.url,
        extras: payload.extras,
        request: RequestMetadata {
            content_type: request.content_type,
            remote_ip: request.remote_ip,
            user_agent: request.user_agent,
            headers: request.headers,
            query: request.query,
            size_bytes: request.size_bytes,
        },
        filter_errors: message.filter_errors,
        deliveries,
        id: message.id,
    }
}

/// Delete one message (soft delete: it disappears from every view).
#[utoipa::path(delete, path = "/api/messages/{id}", tag = "messages", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_message(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    state.messages.delete(&user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete every message older than N days, optionally of one endpoint.
#[utoipa::path(post, path = "/api/messages/batch-delete", tag = "messages", request_body = BatchDelete, security(("bearer" = [])),
    responses((status = 200, body = BatchDeleted), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn batch_delete(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<BatchDelete>,
) -> AppResult<Json<BatchDeleted>> {
    let done = state
        .messages
        .batch_delete(
            &user.id,
            body.older_than_days,
            body.ingest_endpoint_id.as_deref(),
            body.limit,
        )
        .await?;
    Ok(Json(BatchDeleted {
        deleted: done.deleted,
        remaining: done.remaining,
    }))
}
