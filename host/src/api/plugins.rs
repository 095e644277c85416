//! `GET /api/plugins`: the installed plugins and their config schemas;
//! `POST /api/plugins`: an operator uploads a component.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
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
        // Room for the multipart framing around the largest component.
        .layer(DefaultBodyLimit::max(MAX_PLUGIN_BYTES + 64 * 1024))
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
    _operator: CurrentOperator,
    mut form: Multipart,
) -> Result<(StatusCode, Json<PluginView>), AppError> {
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") {
            file = Some(field.bytes().await.map_err(multipart_error)?);
        }
    }
    let bytes = file.ok_or_else(|| AppError::BadRequest {
        code: "missing_file",
        message: "send the component as the multipart field \"file\"".into(),
        field: Some("file".into()),
    })?;
    let info = state.plugins.install(bytes.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(view(info, false))))
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
