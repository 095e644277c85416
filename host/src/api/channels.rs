//! `/api/channels`: CRUD and test send (SPEC §7). Secrets come back masked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, CurrentUser};
use crate::app::channels::{ChannelChange, ChannelView as Shown};
use crate::app::App;
use crate::domain::canonical_id;
use crate::domain::rfc3339;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, update_channel, delete_channel))
        .routes(routes!(test_channel))
}

#[derive(Serialize, ToSchema)]
pub struct ChannelView {
    id: String,
    name: String,
    /// Channel plugin id, e.g. `bark`.
    plugin: String,
    /// The pinned plugin version; null follows the newest installed.
    plugin_version: Option<String>,
    /// The installed version deliveries use now; null when the plugin or
    /// the pinned version is not installed (the channel is broken: its
    /// deliveries wait with that error until it is installed again).
    running_version: Option<String>,
    /// The plugin config; fields the plugin marks secret read `********`.
    #[schema(value_type = Object)]
    config: serde_json::Value,
    enabled: bool,
    created_at: String,
    updated_at: String,
}

impl From<Shown> for ChannelView {
    fn from(shown: Shown) -> Self {
        let Shown {
            channel,
            config,
            running_version,
        } = shown;
        ChannelView {
            id: channel.id,
            name: channel.name,
            plugin: channel.plugin,
            plugin_version: channel.plugin_version,
            running_version,
            config,
            enabled: channel.enabled,
            created_at: rfc3339(channel.created_at),
            updated_at: rfc3339(channel.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChannelList {
    items: Vec<ChannelView>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateChannel {
    name: String,
    plugin: String,
    /// Pin an installed version; absent or null follows the newest.
    plugin_version: Option<String>,
    #[schema(value_type = Object)]
    config: serde_json::Value,
    /// Default true.
    enabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateChannel {
    name: Option<String>,
    /// A version pins it, null unpins (follow the newest), absent keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    plugin_version: Option<Option<String>>,
    /// Replaces the config; secret fields sent as `********` keep their stored value.
    #[schema(value_type = Option<Object>)]
    config: Option<serde_json::Value>,
    enabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct TestResult {
    ok: bool,
    http_status: Option<u16>,
    response_snippet: Option<String>,
    error: Option<String>,
}

/// A field that was sent, even as null (`Some(None)`), apart from one
/// that was not (`None`, through `#[serde(default)]`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

fn channel_id(raw: &str) -> AppResult<String> {
    canonical_id(raw).ok_or(AppError::NotFound)
}

/// The user's channels, newest first.
#[utoipa::path(get, path = "/api/channels", tag = "channels", security(("bearer" = [])),
    responses((status = 200, body = ChannelList), (status = 401, body = ErrorBody)))]
async fn list_channels(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<ChannelList>> {
    let items = state
        .channels
        .list(&user.id)
        .await?
        .into_iter()
        .map(ChannelView::from)
        .collect();
    Ok(Json(ChannelList { items }))
}

/// Create a channel; the plugin validates the config.
#[utoipa::path(post, path = "/api/channels", tag = "channels", request_body = CreateChannel, security(("bearer" = [])),
    responses((status = 201, body = ChannelView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_channel(
    State(state): State<App>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CreateChannel>,
) -> AppResult<(StatusCode, Json<ChannelView>)> {
    let user = user.require_verified()?;
    let channel = state
        .channels
        .create(
            &user.id,
            &body.name,
            &body.plugin,
            body.plugin_version,
            body.config,
            body.enabled.unwrap_or(true),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(channel.into())))
}

/// One channel.
#[utoipa::path(get, path = "/api/channels/{id}", tag = "channels", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody)))]
async fn get_channel(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<ChannelView>> {
    Ok(Json(
        state
            .channels
            .get(&user.id, &channel_id(&id)?)
            .await?
            .into(),
    ))
}

/// Change name, config or enabled flag.
#[utoipa::path(patch, path = "/api/channels/{id}", tag = "channels", params(("id" = String, Path)), request_body = UpdateChannel,
    security(("bearer" = [])), responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_channel(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateChannel>,
) -> AppResult<Json<ChannelView>> {
    let channel = state
        .channels
        .update(
            &user.id,
            &channel_id(&id)?,
            ChannelChange {
                name: body.name.as_deref(),
                plugin_version: body.plugin_version,
                config: body.config,
                enabled: body.enabled,
            },
        )
        .await?;
    Ok(Json(channel.into()))
}

/// Delete a channel and the rules that target it; delivery history stays.
#[utoipa::path(delete, path = "/api/channels/{id}", tag = "channels", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_channel(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    state.channels.delete(&user.id, &channel_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a test notification through the channel now.
#[utoipa::path(post, path = "/api/channels/{id}/test", tag = "channels", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = TestResult), (status = 404, body = ErrorBody)))]
async fn test_channel(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<TestResult>> {
    let result = state
        .channels
        .test_send(&user.id, &channel_id(&id)?)
        .await?;
    Ok(Json(TestResult {
        ok: result.ok,
        http_status: result.http_status,
        response_snippet: result.response_snippet,
        error: result.error,
    }))
}
