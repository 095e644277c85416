//! `/healthz` and `/readyz` (SPEC §10): liveness and readiness; `/metrics`
//! for Prometheus.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ingest::bearer;
use crate::app::accounts::secrets::constant_time_eq;
use crate::app::health::Readiness;
use crate::app::App;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// Prometheus metrics in the text exposition format: ingest requests by
/// protocol and result, body sizes and latency; delivery attempts by plugin
/// and outcome with their duration; plugin call durations, traps and
/// timeouts; the delivery queue (due, waiting, age of the oldest due); the
/// worker's last round; build info. With `METRICS_TOKEN` set, it wants that
/// bearer token.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    params(("Authorization" = Option<String>, Header, description = "`Bearer <METRICS_TOKEN>` when the operator set one")),
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
              (status = 401, body = ErrorBody)))]
async fn metrics(State(state): State<App>, headers: HeaderMap) -> AppResult<Response> {
    if let Some(token) = &state.config.metrics_token {
        let given = bearer(&headers).unwrap_or_default();
        if !constant_time_eq(given, token) {
            return Err(AppError::Unauthorized {
                code: "invalid_metrics_token",
                message: "GET /metrics wants Authorization: Bearer <METRICS_TOKEN>".into(),
            });
        }
    }
    let queue = state.health.queue().await?;
    let text = crate::metrics::render(queue).map_err(AppError::internal)?;
    Ok(([(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worker: Option<&'static str>,
    /// `/readyz`: `ok`, or `pending` while migrations are not at head.
    #[serde(skip_serializing_if = "Option::is_none")]
    migrations: Option<&'static str>,
    /// `/readyz`: the workers that reported in the last ten minutes, freshest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    workers: Option<Vec<WorkerHealth>>,
    /// `/readyz`: the delivery queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<QueueHealth>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkerHealth {
    id: String,
    heartbeat_age_ms: i64,
    /// Since its last successful database round; null before the first.
    last_round_age_ms: Option<i64>,
    /// Database rounds failed in a row (3 or more: unhealthy).
    consecutive_failures: i64,
}

#[derive(Serialize, ToSchema)]
pub struct QueueHealth {
    due: i64,
    waiting: i64,
    oldest_due_age_ms: i64,
}

fn health(
    status: &'static str,
    database: Option<&'static str>,
    worker: Option<&'static str>,
) -> Json<Health> {
    Json(Health {
        status,
        database,
        worker,
        migrations: None,
        workers: None,
        queue: None,
    })
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    health("ok", None, None)
}

/// Ready: the database answers, its migrations are at head, and a delivery
/// worker reported in within the last 30 seconds without failing its last
/// three database rounds. The body says what each check saw; 503 names the
/// check that failed.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn readyz(State(state): State<App>) -> (StatusCode, Json<Health>) {
    let report = state.health.report().await;
    let (code, status, database, migrations, worker) = match report.verdict {
        Readiness::Ready => (StatusCode::OK, "ok", "ok", Some("ok"), "ok"),
        Readiness::MigrationsPending => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "migrations pending",
            Some("pending"),
            "unknown",
        ),
        Readiness::DatabaseUnreachable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "unreachable",
            None,
            "unknown",
        ),
        Readiness::NoRecentWorker => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "ok",
            Some("ok"),
            "no recent heartbeat",
        ),
        Readiness::WorkersFailing => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "ok",
            Some("ok"),
            "database rounds failing",
        ),
    };
    let reachable = report.verdict != Readiness::DatabaseUnreachable;
    let body = Health {
        status,
        database: Some(database),
        worker: reachable.then_some(worker),
        migrations,
        workers: reachable.then(|| {
            report
                .workers
                .into_iter()
                .map(|w| WorkerHealth {
                    id: w.id,
                    heartbeat_age_ms: w.heartbeat_age_ms,
                    last_round_age_ms: w.last_round_age_ms,
                    consecutive_failures: w.consecutive_failures,
                })
                .collect()
        }),
        queue: report.queue.map(|q| QueueHealth {
            due: q.due,
            waiting: q.waiting,
            oldest_due_age_ms: q.oldest_due_age_ms,
        }),
    };
    (code, Json(body))
}
