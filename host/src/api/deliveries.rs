//! Deliveries as the API shows them, and `POST /api/deliveries/{id}/retry`.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiQuery, CurrentUser};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::events::EventKind;
use crate::ingest::canonical_id;
use crate::storage::{AttemptRow, DeliveryFilter, DeliveryListRow, DeliveryRow};
use crate::timefmt::rfc3339;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
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
            outcome: row.outcome,
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
        let pending = matches!(row.status.as_str(), "queued" | "retry");
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
            status: row.status,
            attempt_count: row.attempt_count,
            last_error: row.last_error,
            attempts,
        }
    }
}

/// A message's deliveries with their attempts (two queries, no N+1).
pub async fn of_message(state: &AppState, message_id: &str) -> AppResult<Vec<DeliveryView>> {
    let (deliveries, attempts) = state.store.deliveries_of_message(message_id).await?;
    let mut by_delivery: std::collections::HashMap<String, Vec<AttemptView>> =
        std::collections::HashMap::new();
    for attempt in attempts {
        by_delivery
            .entry(attempt.delivery_id.clone())
            .or_default()
            .push(attempt.into());
    }
    Ok(deliveries
        .into_iter()
        .map(|row| {
            let attempts = by_delivery.remove(&row.id).unwrap_or_default();
            DeliveryView::new(row, attempts)
        })
        .collect())
}

/// Queue a failed delivery again (one more attempt, now).
#[utoipa::path(post, path = "/api/deliveries/{id}/retry", tag = "deliveries", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeliveryView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_delivery(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<DeliveryView>> {
    let id = canonical_id(&id).ok_or(AppError::NotFound)?;
    match state.store.retry_delivery(&user.id, &id).await? {
        None => return Err(AppError::NotFound),
        Some(false) => {
            return Err(AppError::Conflict {
                code: "delivery_not_failed",
                message: "only failed deliveries can be retried by hand".into(),
                field: None,
            })
        }
        Some(true) => {}
    }
    state.work_queued.notify_one();
    let row = state
        .store
        .delivery_for_user(&user.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    state.events.publish(
        &user.id,
        EventKind::Delivery {
            id: row.id.clone(),
            message_id: row.message_id.clone(),
            status: row.status.clone(),
        },
    );
    if let Err(err) = state.store.notify_work().await {
        tracing::warn!(error = %err, "NOTIFY after manual retry failed");
    }
    Ok(Json(DeliveryView::new(row, Vec::new())))
}

const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;
const STATUSES: [&str; 5] = ["queued", "sending", "retry", "sent", "failed"];

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
    State(state): State<AppState>,
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
        Some(status) if STATUSES.contains(&status.as_str()) => Some(status),
        Some(_) => {
            return Err(AppError::validation(
                "status",
                format!("must be one of {}", STATUSES.join(", ")),
            ))
        }
        None => None,
    };
    let before = match params.cursor.filter(|s| !s.is_empty()) {
        Some(cursor) => Some(parse_cursor(&cursor).ok_or_else(|| {
            AppError::validation("cursor", "is not a cursor returned by this API")
        })?),
        None => None,
    };
    let filter = DeliveryFilter {
        status,
        before,
        limit: limit + 1, // one extra row tells whether another page exists
    };
    let mut rows = state.store.list_deliveries(&user.id, &filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|row| format!("{}_{}", row.delivery.updated_at, row.delivery.id))
    } else {
        None
    };
    Ok(Json(DeliveryPage {
        items: rows.into_iter().map(DeliverySummary::from).collect(),
        next_cursor,
    }))
}

/// `<updated_at ms>_<id>` as written by `list_deliveries`.
fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let (at, id) = cursor.split_once('_')?;
    let id = canonical_id(id)?;
    Some((at.parse().ok()?, id))
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = "0192f0c4a1b27c3d8e9f0a1b2c3d4e5f";
        assert_eq!(
            parse_cursor(&format!("1767225600123_{id}")),
            Some((1_767_225_600_123, id.to_string()))
        );
        assert_eq!(parse_cursor("nonsense"), None);
        assert_eq!(parse_cursor(&format!("x_{id}")), None);
        assert_eq!(parse_cursor("1_notanid"), None);
    }
}
