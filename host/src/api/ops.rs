//! `/healthz` and `/readyz` (SPEC §10): liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::health::Readiness;
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
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
async fn readyz(State(state): State<App>) -> (StatusCode, Json<Health>) {
    let unavailable = StatusCode::SERVICE_UNAVAILABLE;
    match state.health.readiness().await {
        Readiness::Ready => (StatusCode::OK, health("ok", Some("ok"), Some("ok"))),
        Readiness::MigrationsPending => (
            unavailable,
            health("unavailable", Some("migrations pending"), None),
        ),
        Readiness::DatabaseUnreachable => (
            unavailable,
            health("unavailable", Some("unreachable"), None),
        ),
        Readiness::NoRecentWorker => (
            unavailable,
            health("unavailable", Some("ok"), Some("no recent heartbeat")),
        ),
    }
}
