//! `GET /api/plugins`: the installed plugins and their config schemas;
//! `POST /api/plugins`: an operator uploads a component.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::Json;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{CurrentOperator, CurrentUser};
use crate::app::plugins::MAX_PLUGIN_BYTES;
use crate::app::App;
use crate::error::{AppError, ErrorBody};
use crate::plugins::runtime::PluginInfo;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins, upload_plugin))
        .routes(routes!(remove_plugin))
        // An upload somewhat over the limit is read to its end (and thrown
        // away) so the client gets its 413 instead of a reset connection;
        // beyond twice the limit the connection is cut.
        .layer(DefaultBodyLimit::max(2 * MAX_PLUGIN_BYTES))
}

#[derive(Serialize, ToSchema)]
pub struct PluginView {
    id: String,
    name: String,
    version: String,
    /// `channel` or `filter`.
    kind: String,
    description: String,
    /// JSON Schema of the config; secret fields carry `"x-secret": true`.
    #[schema(value_type = Object)]
    config_schema: serde_json::Value,
    builtin: bool,
    /// The `beacon:plugin` WIT version the component was built against,
    /// e.g. `0.3.0` (the host also runs the previous line, `0.2.x`).
    wit_version: String,
    /// Host capabilities the component imports: `log`, `http`, `kv`, ...
    capabilities: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PluginList {
    items: Vec<PluginView>,
}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PluginUpload {
    /// The component (`.wasm`).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Install a plugin component (operators only). The same checks as
/// `beacon plugin install`; each refusal has its own code and names the
/// `file` field: `not_a_component`, `wrong_world`,
/// `unsupported_wit_version`, `capability_not_granted`, `plugin_refused`
/// (422), `builtin_plugin`, `plugin_version_exists` (409), and 413 for a
/// file over 32 MiB. Installing a newer version of an id upgrades it.
#[utoipa::path(post, path = "/api/plugins", tag = "plugins", security(("bearer" = [])),
    request_body(content = PluginUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = PluginView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn upload_plugin(
    State(state): State<App>,
    operator: Result<CurrentOperator, AppError>,
    request: Request,
) -> Result<(StatusCode, Json<PluginView>), AppError> {
    if let Err(refusal) = operator {
        // Answering before the client has finished sending makes most
        // clients report a reset connection instead of the 401/403.
        discard_body(request).await;
        return Err(refusal);
    }
    let mut form = Multipart::from_request(request, &state)
        .await
        .map_err(|rejection| AppError::BadRequest {
            code: "malformed_multipart",
            message: format!(
                "the upload is not a multipart form: {}",
                rejection.body_text()
            ),
            field: None,
        })?;
    let mut file: Option<Vec<u8>> = None;
    let mut too_large = false;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if bytes.len() + chunk.len() > MAX_PLUGIN_BYTES {
                too_large = true;
            } else if !too_large {
                bytes.extend_from_slice(&chunk);
            }
        }
        file = Some(bytes);
    }
    if too_large {
        return Err(AppError::PayloadTooLarge {
            limit: MAX_PLUGIN_BYTES,
        });
    }
    let bytes = file.ok_or_else(|| AppError::BadRequest {
        code: "missing_file",
        message: "send the component as the multipart field \"file\"".into(),
        field: Some("file".into()),
    })?;
    let info = state.plugins.install(bytes).await?;
    Ok((StatusCode::CREATED, Json(view(info, false))))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RemoveParams {
    /// Remove even though channels or rules use the plugin: those channels
    /// then show it as missing and their deliveries wait with that error.
    #[serde(default)]
    force: bool,
}

/// Remove an installed plugin (operators only). Refused with 409
/// `plugin_in_use` while channels or rules use it, unless `force=true`;
/// built-in plugins answer 409 `builtin_plugin`.
#[utoipa::path(delete, path = "/api/plugins/{id}", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id"), RemoveParams),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_plugin(
    State(state): State<App>,
    _operator: CurrentOperator,
    Path(id): Path<String>,
    Query(params): Query<RemoveParams>,
) -> Result<StatusCode, AppError> {
    state.plugins.remove(&id, params.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads a refused request's body to its end without keeping it; beyond
/// the route's body limit the connection is cut instead.
async fn discard_body(request: Request) {
    let mut stream = request.into_body().into_data_stream();
    let mut seen = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len();
        if seen > 2 * MAX_PLUGIN_BYTES {
            break;
        }
    }
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::PayloadTooLarge {
            limit: MAX_PLUGIN_BYTES,
        };
    }
    AppError::BadRequest {
        code: "malformed_multipart",
        message: format!(
            "the upload is not a readable multipart form: {}",
            err.body_text()
        ),
        field: None,
    }
}

fn view(info: PluginInfo, builtin: bool) -> PluginView {
    PluginView {
        id: info.id,
        name: info.name,
        version: info.version,
        kind: info.kind.as_str().to_string(),
        description: info.description,
        config_schema: info.config_schema,
        builtin,
        wit_version: info.wit_version,
        capabilities: info.capabilities,
    }
}

/// Installed plugins (built-in and operator-installed).
#[utoipa::path(get, path = "/api/plugins", tag = "plugins", security(("bearer" = [])),
    responses((status = 200, body = PluginList), (status = 401, body = ErrorBody)))]
async fn list_plugins(State(state): State<App>, _user: CurrentUser) -> Json<PluginList> {
    let items = state
        .plugins
        .list()
        .into_iter()
        .map(|p| view(p.info, p.builtin))
        .collect();
    Json(PluginList { items })
}
