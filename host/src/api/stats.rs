//! `GET /api/stats/activity`: messages and delivery outcomes per hour, for the home chart.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiQuery, CurrentUser};
use crate::app::App;
use crate::domain::rfc3339;
use crate::domain::{now_ms, DeliveryStatus};
use crate::error::{AppError, AppResult, ErrorBody};

const HOUR_MS: i64 = 3_600_000;
const MAX_HOURS: i64 = 168;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(activity))
}

#[derive(Deserialize, IntoParams)]
pub struct ActivityParams {
    /// Hours to cover, 1–168 (default 24); the last bucket is the current hour.
    hours: Option<i64>,
}

#[derive(Serialize, ToSchema, Default, Clone)]
pub struct ActivityBucket {
    start: String,
    messages: i64,
    sent: i64,
    failed: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Activity {
    bucket_seconds: i64,
    from: String,
    to: String,
    /// Oldest first.
    buckets: Vec<ActivityBucket>,
}

/// Messages received and deliveries sent or failed, per hour.
#[utoipa::path(get, path = "/api/stats/activity", tag = "stats", params(ActivityParams), security(("bearer" = [])),
    responses((status = 200, body = Activity), (status = 422, body = ErrorBody)))]
async fn activity(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ActivityParams>,
) -> AppResult<Json<Activity>> {
    let hours = params.hours.unwrap_or(24);
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(AppError::validation(
            "hours",
            format!("must be from 1 to {MAX_HOURS}"),
        ));
    }
    let now = now_ms();
    let from = (now / HOUR_MS - (hours - 1)) * HOUR_MS;
    let mut buckets: Vec<ActivityBucket> = (0..hours)
        .map(|n| ActivityBucket {
            start: rfc3339(from + n * HOUR_MS),
            ..Default::default()
        })
        .collect();
    for count in state.deliveries.activity(&user.id, from, HOUR_MS).await? {
        let Some(bucket) = usize::try_from(count.bucket)
            .ok()
            .and_then(|index| buckets.get_mut(index))
        else {
            continue; // a clock step put a row past the window
        };
        match DeliveryStatus::parse(&count.status) {
            Some(DeliveryStatus::Sent) => bucket.sent += count.count,
            Some(DeliveryStatus::Failed) => bucket.failed += count.count,
            _ if count.status == "message" => bucket.messages += count.count,
            _ => {}
        }
    }
    Ok(Json(Activity {
        bucket_seconds: HOUR_MS / 1000,
        from: rfc3339(from),
        to: rfc3339(now),
        buckets,
    }))
}
