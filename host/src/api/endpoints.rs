//! `/api/ingest-endpoints`: list, create (key shown once), revoke, archive,
//! and the adapter an endpoint reads its requests through (set, clear, test).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::app::adapters::AdapterSetting;
use crate::app::endpoints::{AdapterView as AppAdapterView, EndpointView as AppEndpointView};
use crate::app::App;
use crate::domain::rfc3339;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::plugins::runtime::InboundRequest;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint))
        .routes(routes!(revoke_endpoint))
        .routes(routes!(archive_endpoint))
        .routes(routes!(set_adapter, clear_adapter))
        .routes(routes!(test_adapter))
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
    /// The adapter that turns this endpoint's requests into messages;
    /// `null`: requests are native ingest bodies.
    adapter: Option<AdapterView>,
}

#[derive(Serialize, ToSchema)]
pub struct AdapterView {
    /// Adapter plugin id, e.g. `alertmanager`, `github`, `json-map`.
    plugin: String,
    /// The pinned version; `null` follows the newest installed.
    plugin_version: Option<String>,
    /// The adapter's config, secrets masked.
    config: Value,
    /// The version requests run through now; `null` when it is not installed
    /// (requests then answer 422 `adapter_unavailable`).
    running_version: Option<String>,
}

impl From<AppEndpointView> for EndpointView {
    fn from(view: AppEndpointView) -> Self {
        let row = view.row;
        EndpointView {
            id: row.id,
            name: row.name,
            created_at: rfc3339(row.created_at),
            revoked_at: row.revoked_at.map(rfc3339),
            archived_at: row.archived_at.map(rfc3339),
            last_used_at: row.last_used_at.map(rfc3339),
            adapter: view.adapter.map(AdapterView::from),
        }
    }
}

impl From<AppAdapterView> for AdapterView {
    fn from(view: AppAdapterView) -> Self {
        AdapterView {
            plugin: view.plugin,
            plugin_version: view.version,
            config: view.config,
            running_version: view.running_version,
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
    let ingest_url = format!("{}/api/ingest/{}", state.config.app_base_url, row.row.id);
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdapterChoice {
    /// An installed adapter plugin id (`GET /api/plugins` lists them with `kind: "adapter"`).
    plugin: String,
    /// Pin an installed version; omit or `null` to follow the newest.
    plugin_version: Option<String>,
    /// The adapter's config (its JSON Schema is in the plugin's `config_schema`);
    /// a masked secret keeps the stored value.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    config: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

impl From<AdapterChoice> for AdapterSetting {
    fn from(choice: AdapterChoice) -> Self {
        AdapterSetting {
            plugin: choice.plugin,
            version: choice.plugin_version,
            config: choice.config,
        }
    }
}

/// Choose the adapter this endpoint's requests go through; `POST
/// /api/ingest/{endpoint_id}` then runs it on every request.
#[utoipa::path(put, path = "/api/ingest-endpoints/{id}/adapter", tag = "ingest-endpoints", params(("id" = String, Path)),
    request_body = AdapterChoice, security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_adapter(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(choice): ApiJson<AdapterChoice>,
) -> AppResult<Json<EndpointView>> {
    let view = state
        .endpoints
        .set_adapter(&user.id, &id, choice.into())
        .await?;
    Ok(Json(view.into()))
}

/// Remove the endpoint's adapter: requests are native ingest bodies again.
#[utoipa::path(delete, path = "/api/ingest-endpoints/{id}/adapter", tag = "ingest-endpoints", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
async fn clear_adapter(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<EndpointView>> {
    Ok(Json(
        state.endpoints.clear_adapter(&user.id, &id).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdapterTestRequest {
    /// A setting to try before saving it; omit to test the endpoint's own.
    adapter: Option<AdapterChoice>,
    /// The sample request body, e.g. a webhook JSON pasted from the sender's docs.
    body: String,
    /// Request headers of the sample (e.g. `X-GitHub-Event`); names are case-insensitive.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// Query parameters of the sample.
    #[serde(default)]
    query: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct AdapterTestResult {
    /// `true` when the sample would be accepted.
    ok: bool,
    /// The messages it would become, as native ingest bodies (nothing is stored).
    #[schema(value_type = Vec<Object>)]
    messages: Vec<Value>,
    /// Why it would be refused: the code and text the sender would get.
    error: Option<ErrorBody>,
    /// The HTTP status the sender would get.
    status: u16,
}

/// Show what a sample request would become through an adapter; stores nothing.
#[utoipa::path(post, path = "/api/ingest-endpoints/{id}/adapter/test", tag = "ingest-endpoints", params(("id" = String, Path)),
    request_body = AdapterTestRequest, security(("bearer" = [])),
    responses((status = 200, body = AdapterTestResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn test_adapter(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(sample): ApiJson<AdapterTestRequest>,
) -> AppResult<Json<AdapterTestResult>> {
    let request = InboundRequest {
        method: "POST".into(),
        query: sample.query.into_iter().collect(),
        headers: sample
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect(),
        body: sample.body.into_bytes(),
        endpoint_id: String::new(),
        endpoint_name: String::new(),
    };
    let proposed = sample.adapter.map(AdapterSetting::from);
    let tested = state
        .endpoints
        .test_adapter(&user.id, &id, proposed.clone(), request)
        .await;
    Ok(Json(match tested {
        Ok(test) => AdapterTestResult {
            ok: true,
            // What ingest answers: 201 with messages, 200 when there are none.
            status: if test.messages.is_empty() { 200 } else { 201 },
            messages: test.messages,
            error: None,
        },
        // The setting itself is at fault (or the endpoint is not the user's):
        // that is this request's own error, not the sample's.
        Err(err @ (AppError::NotFound | AppError::Validation { .. })) if !matches!(&err, AppError::Validation { field, .. } if field.starts_with("messages[")) => {
            return Err(err)
        }
        Err(err @ AppError::Internal { .. }) => return Err(err),
        Err(err) => {
            let (status, body) = err.describe();
            AdapterTestResult {
                ok: false,
                messages: Vec::new(),
                error: Some(body),
                status: status.as_u16(),
            }
        }
    }))
}
