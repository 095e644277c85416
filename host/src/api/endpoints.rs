//! `/api/ingest-endpoints`: list, create (key shown once), revoke, archive.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::auth::secrets::{random_token, sha256_hex};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::ingest::canonical_id;
use crate::storage::{new_id, EndpointRow};
use crate::timefmt::rfc3339;
use crate::AppState;

/// Prefix that makes leaked keys easy to recognise (e.g. by secret scanners).
const KEY_PREFIX: &str = "bsk_";
const MAX_NAME_CHARS: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
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
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> AppResult<Json<EndpointList>> {
    let rows = state
        .store
        .list_endpoints(&user.id, params.include_archived.unwrap_or(false))
        .await?;
    Ok(Json(EndpointList {
        items: rows.into_iter().map(EndpointView::from).collect(),
    }))
}

/// Create an endpoint; the answer holds its key and full URL, shown only once.
#[utoipa::path(post, path = "/api/ingest-endpoints", tag = "ingest-endpoints", request_body = CreateEndpoint, security(("bearer" = [])),
    responses((status = 201, body = CreatedEndpoint), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_endpoint(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CreateEndpoint>,
) -> AppResult<(StatusCode, Json<CreatedEndpoint>)> {
    let user = user.require_verified()?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::validation(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let key = format!("{KEY_PREFIX}{}", random_token());
    let row = state
        .store
        .insert_endpoint(&new_id(), &user.id, name, &sha256_hex(&key))
        .await?;
    let ingest_url = format!("{}/api/ingest/{}", state.config.app_base_url, row.id);
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint {
            endpoint: row.into(),
            ingest_key: key,
            ingest_url,
        }),
    ))
}

/// One endpoint.
#[utoipa::path(get, path = "/api/ingest-endpoints/{id}", tag = "ingest-endpoints", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
async fn get_endpoint(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<EndpointView>> {
    let id = canonical_id(&id).ok_or(AppError::NotFound)?;
    let row = state
        .store
        .endpoint_for_user(&user.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(row.into()))
}

/// Revoke: the key stops working at once; messages stay.
#[utoipa::path(post, path = "/api/ingest-endpoints/{id}/revoke", tag = "ingest-endpoints", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
async fn revoke_endpoint(
    state: State<AppState>,
    user: CurrentUser,
    id: Path<String>,
) -> AppResult<Json<EndpointView>> {
    retire(state, user, id, false).await
}

/// Archive: revoked and hidden from the default list; messages stay.
#[utoipa::path(post, path = "/api/ingest-endpoints/{id}/archive", tag = "ingest-endpoints", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
async fn archive_endpoint(
    state: State<AppState>,
    user: CurrentUser,
    id: Path<String>,
) -> AppResult<Json<EndpointView>> {
    retire(state, user, id, true).await
}

async fn retire(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    archive: bool,
) -> AppResult<Json<EndpointView>> {
    let id = canonical_id(&id).ok_or(AppError::NotFound)?;
    let row = state
        .store
        .retire_endpoint(&user.id, &id, archive)
        .await?
        .ok_or(AppError::NotFound)?;
    state.ingest.forget_endpoint(&id);
    Ok(Json(row.into()))
}
