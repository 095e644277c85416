//! Deliveries as the API shows them, and `POST /api/deliveries/{id}/retry`.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::ingest::canonical_id;
use crate::storage::{AttemptRow, DeliveryRow};
use crate::timefmt::rfc3339;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(retry_delivery))
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
    if let Err(err) = state.store.notify_work().await {
        tracing::warn!(error = %err, "NOTIFY after manual retry failed");
    }
    let row = state
        .store
        .delivery_for_user(&user.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(DeliveryView::new(row, Vec::new())))
}
