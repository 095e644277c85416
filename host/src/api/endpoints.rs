//! `/api/ingest-endpoints`: list, create (key shown once), revoke, archive.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::app::App;
use crate::domain::rfc3339;
use crate::error::{AppResult, ErrorBody};
use crate::storage::EndpointRow;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint))
        .routes(routes!(revoke_endpoint))
        .routes(routes!(archive_endpoint))
}

#[derive(Serialize, ToSchema)]
pub struct EndpointView {
    /// 32 hex digits.
    id: String,
    name: String,
    created_at: String,
    revoked_at: Option<String>,
    archived_at: Option<String>,
    last_used_at: Option<String>,
}

impl From<EndpointRow> for EndpointView {
    fn from(row: EndpointRow) -> Self {
        EndpointView {
            id: row.id,
            name: row.name,
            created_at: rfc3339(row.created_at),
            revoked_at: row.revoked_at.map(rfc3339),
            archived_at: row.archived_at.map(rfc3339),
            last_used_at: row.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    items: Vec<EndpointView>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateEndpoint {
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedEndpoint {
    endpoint: EndpointView,
    /// Shown only in this answer; only a hash is stored.
    ingest_key: String,
    ingest_url: String,
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// Include archived endpoints.
    include_archived: Option<bool>,
}

/// The user's endpoints, newest first (archived ones only on request).
#[utoipa::path(get, path = "/api/ingest-endpoints", tag = "ingest-endpoints", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = EndpointList), (status = 401, body = ErrorBody)))]
async fn list_endpoints(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> AppResult<Json<EndpointList>> {
    let rows = state
        .endpoints
        .list(&user.id, params.include_archived.unwrap_or(false))
        .await?;
    Ok(Json(EndpointList {
        items: rows.into_iter().map(EndpointView::from).collect(),
    }))
}

/// Create an endpoint; the answer holds its key and full URL, shown only once.
#[utoipa::path(post, path = "/api/ingest-endpoints", tag = "ingest-endpoints", request_body = CreateEndpoint, security(("bearer" = [])),
    responses((status = 201, body = CreatedEndpoint), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_endpoint(
    State(state): State<App>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CreateEndpoint>,
) -> AppResult<(StatusCode, Json<CreatedEndpoint>)> {
    let user = user.require_verified()?;
    let created = state.endpoints.create(&user.id, &body.name).await?;
    let row = created.endpoint;
    let ingest_url = format!("{}/api/ingest/{}", state.config.app_base_url, row.id);
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint {
            endpoint: row.into(),
            ingest_key: created.ingest_key,
            ingest_url,
        }),
    ))
}

/// One endpoint.
#[utoipa::path(get, path = "/api/ingest-endpoints/{id}", tag = "ingest-endpoints", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
async fn get_endpoint(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<EndpointView>> {
    Ok(Json(state.endpoints.get(&user.id, &id).await?.into()))
}

/// Revoke: the key stops working at once; messages stay.
#[utoipa::path(post, path = "/api/ingest-endpoints/{id}/revoke", tag = "ingest-endpoints", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
async fn revoke_endpoint(
    state: State<App>,
    user: CurrentUser,
    id: Path<String>,
) -> AppResult<Json<EndpointView>> {
    retire(state, user, id, false).await
}

/// Archive: revoked and hidden from the default list; messages stay.
#[utoipa::path(post, path = "/api/ingest-endpoints/{id}/archive", tag = "ingest-endpoints", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
async fn archive_endpoint(
    state: State<App>,
    user: CurrentUser,
    id: Path<String>,
) -> AppResult<Json<EndpointView>> {
    retire(state, user, id, true).await
}

async fn retire(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    archive: bool,
) -> AppResult<Json<EndpointView>> {
    Ok(Json(
        state.endpoints.retire(&user.id, &id, archive).await?.into(),
    ))
}
