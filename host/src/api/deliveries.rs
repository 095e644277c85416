//! Deliveries as the API shows them, and `POST /api/deliveries/{id}/retry`.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiQuery, CurrentUser};
use crate::app::App;
use crate::domain::rfc3339;
use crate::domain::DeliveryStatus;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::storage::{AttemptRow, DeliveryListRow, DeliveryRow};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    attempt_no: i64,
    started_at: String,
    duration_ms: i64,
    /// `sent`, `retry` or `failed`.
    outcome: String,
    http_status: Option<i64>,
    error: Option<String>,
    response_snippet: Option<String>,
    #[schema(value_type = Option<Object>)]
    response_json: Option<serde_json::Value>,
}

impl From<AttemptRow> for AttemptView {
    fn from(row: AttemptRow) -> Self {
        AttemptView {
            attempt_no: row.attempt_no,
            started_at: rfc3339(row.started_at),
            duration_ms: row.duration_ms,
            outcome: row.outcome.to_string(),
            http_status: row.http_status,
            error: row.error,
            response_snippet: row.response_snippet,
            response_json: row
                .response_json
                .and_then(|text| serde_json::from_str(&text).ok()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    id: String,
    message_id: String,
    rule_id: Option<String>,
    rule_name: Option<String>,
    channel_id: Option<String>,
    channel_name: Option<String>,
    /// `queued`, `sending`, `sent`, `retry` or `failed`.
    status: String,
    attempt_count: i64,
    /// When the next attempt is due (queued and retry only).
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
    sent_at: Option<String>,
    attempts: Vec<AttemptView>,
}

impl DeliveryView {
    pub fn new(row: DeliveryRow, attempts: Vec<AttemptView>) -> Self {
        let pending = row.status.is_pending();
        DeliveryView {
            next_attempt_at: pending.then(|| rfc3339(row.next_attempt_at)),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
            sent_at: row.sent_at.map(rfc3339),
            id: row.id,
            message_id: row.message_id,
            rule_id: row.rule_id,
            rule_name: row.rule_name,
            channel_id: row.channel_id,
            channel_name: row.channel_name,
            status: row.status.to_string(),
            attempt_count: row.attempt_count,
            last_error: row.last_error,
            attempts,
        }
    }
}

/// A message's deliveries, each with its attempts.
pub fn views(deliveries: Vec<DeliveryRow>, attempts: Vec<AttemptRow>) -> Vec<DeliveryView> {
    let mut by_delivery: std::collections::HashMap<String, Vec<AttemptView>> =
        std::collections::HashMap::new();
    for attempt in attempts {
        by_delivery
            .entry(attempt.delivery_id.clone())
            .or_default()
            .push(attempt.into());
    }
    deliveries
        .into_iter()
        .map(|row| {
            let attempts = by_delivery.remove(&row.id).unwrap_or_default();
            DeliveryView::new(row, attempts)
        })
        .collect()
}

/// Queue a failed delivery again (one more attempt, now).
#[utoipa::path(post, path = "/api/deliveries/{id}/retry", tag = "deliveries", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeliveryView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_delivery(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<DeliveryView>> {
    let row = state.deliveries.retry(&user.id, &id).await?;
    Ok(Json(DeliveryView::new(row, Vec::new())))
}

const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;

#[derive(Deserialize, IntoParams)]
pub struct DeliveryListParams {
    /// `queued`, `sending`, `retry`, `sent` or `failed`; all when absent.
    status: Option<String>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliverySummary {
    id: String,
    message_id: String,
    message_title: Option<String>,
    /// The start of the message body.
    message_preview: String,
    rule_id: Option<String>,
    rule_name: Option<String>,
    channel_id: Option<String>,
    channel_name: Option<String>,
    status: String,
    attempt_count: i64,
    last_error: Option<String>,
    next_attempt_at: Option<String>,
    created_at: String,
    updated_at: String,
    sent_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    items: Vec<DeliverySummary>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: Option<String>,
}

impl From<DeliveryListRow> for DeliverySummary {
    fn from(row: DeliveryListRow) -> Self {
        let view = DeliveryView::new(row.delivery, Vec::new());
        DeliverySummary {
            id: view.id,
            message_id: view.message_id,
            message_title: row.message_title,
            message_preview: row.message_preview,
            rule_id: view.rule_id,
            rule_name: view.rule_name,
            channel_id: view.channel_id,
            channel_name: view.channel_name,
            status: view.status,
            attempt_count: view.attempt_count,
            last_error: view.last_error,
            next_attempt_at: view.next_attempt_at,
            created_at: view.created_at,
            updated_at: view.updated_at,
            sent_at: view.sent_at,
        }
    }
}

/// The user's deliveries, most recently changed first (e.g. recent failures).
#[utoipa::path(get, path = "/api/deliveries", tag = "deliveries", params(DeliveryListParams), security(("bearer" = [])),
    responses((status = 200, body = DeliveryPage), (status = 422, body = ErrorBody)))]
async fn list_deliveries(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<DeliveryListParams>,
) -> AppResult<Json<DeliveryPage>> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::validation(
            "limit",
            format!("must be from 1 to {MAX_PAGE}"),
        ));
    }
    let status = match params.status.filter(|s| !s.is_empty()) {
        Some(status) => Some(DeliveryStatus::parse(&status).ok_or_else(|| {
            let all: Vec<&str> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
            AppError::validation("status", format!("must be one of {}", all.join(", ")))
        })?),
        None => None,
    };
    let page = state
        .deliveries
        .list(&user.id, status, params.cursor.as_deref(), limit)
        .await?;
    Ok(Json(DeliveryPage {
        items: page.items.into_iter().map(DeliverySummary::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
