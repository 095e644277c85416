//! Operations endpoints (SPEC §10): liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// A worker heartbeat older than this makes the service not ready.
const WORKER_STALE_MS: i64 = 30_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worker: Option<&'static str>,
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
    })
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    health("ok", None, None)
}

/// Ready: the database answers, its migrations are at head, and a delivery
/// worker reported in within the last 30 seconds.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let unavailable = StatusCode::SERVICE_UNAVAILABLE;
    match state.store.is_ready().await {
        Ok(true) => {}
        Ok(false) => {
            return (
                unavailable,
                health("unavailable", Some("migrations pending"), None),
            )
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            return (
                unavailable,
                health("unavailable", Some("unreachable"), None),
            );
        }
    }
    match state.store.latest_worker_heartbeat().await {
        Ok(Some(at)) if crate::storage::now_ms() - at <= WORKER_STALE_MS => {
            (StatusCode::OK, health("ok", Some("ok"), Some("ok")))
        }
        Ok(_) => (
            unavailable,
            health("unavailable", Some("ok"), Some("no recent heartbeat")),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                unavailable,
                health("unavailable", Some("unreachable"), None),
            )
        }
    }
}
