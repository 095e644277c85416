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

use super::extract::{ApiJson, CurrentOperator, CurrentUser};
use crate::app::plugins::{Grants, ListedPlugin, PluginListing, MAX_PLUGIN_BYTES};
use crate::app::App;
use crate::error::{AppError, ErrorBody};
use crate::storage::UserRow;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins, upload_plugin))
        .routes(routes!(get_plugin, remove_plugin))
        .routes(routes!(set_grants))
        .routes(routes!(remove_plugin_version))
        // An upload somewhat over the limit is read to its end (and thrown
        // away) so the client gets its 413 instead of a reset connection;
        // beyond twice the limit the connection is cut.
        .layer(DefaultBodyLimit::max(2 * MAX_PLUGIN_BYTES))
}

#[derive(Serialize, ToSchema)]
pub struct PluginView {
    id: String,
    name: String,
    /// The newest installed version (what channels and rules that pin no
    /// version run).
    version: String,
    /// `channel`, `filter` or `adapter`.
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
    /// Every installed version, newest first.
    versions: Vec<PluginVersionView>,
    /// What the operator granted (null fields: the defaults).
    grants: GrantsView,
    /// The limits the plugin runs under now.
    limits: LimitsView,
}

#[derive(Serialize, ToSchema)]
pub struct PluginVersionView {
    version: String,
    wit_version: String,
    capabilities: Vec<String>,
    sha256: String,
    size_bytes: usize,
    newest: bool,
    /// Channels running this version now (an operator counts everyone's,
    /// anyone else their own).
    channels: i64,
    /// Rules running this version as an extra filter now.
    rules: i64,
}

/// Per-plugin grants, like an Extism manifest; null means the default.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantsView {
    /// The only hosts `fetch` and `mqtt-publish` may reach: names
    /// (`api.example.com`), wildcards (`*.example.com`) or IP addresses.
    /// Null: any host the global outbound policy allows.
    #[serde(default)]
    allowed_hosts: Option<Vec<String>>,
    /// Overrides the global private-network block for this plugin.
    #[serde(default)]
    allow_private_networks: Option<bool>,
    /// Memory one instance may grow to (1-1024 MiB).
    #[serde(default)]
    memory_mib: Option<u32>,
    /// Deadline of one call (1-50000 ms).
    #[serde(default)]
    timeout_ms: Option<u32>,
    /// Capabilities it may use (`http`, `kv`, `log`, `mqtt-publish`,
    /// `smtp-send`: the names plugins' `capabilities` list); a
    /// withheld one fails at call time with a policy error. Null: all its
    /// kind may have.
    #[serde(default)]
    capabilities: Option<Vec<String>>,
}

impl From<Grants> for GrantsView {
    fn from(grants: Grants) -> Self {
        GrantsView {
            allowed_hosts: grants.allowed_hosts,
            allow_private_networks: grants.allow_private_networks,
            memory_mib: grants.memory_mib,
            timeout_ms: grants.timeout_ms,
            capabilities: grants.capabilities,
        }
    }
}

impl From<GrantsView> for Grants {
    fn from(view: GrantsView) -> Self {
        Grants {
            allowed_hosts: view.allowed_hosts,
            allow_private_networks: view.allow_private_networks,
            memory_mib: view.memory_mib,
            timeout_ms: view.timeout_ms,
            capabilities: view.capabilities,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LimitsView {
    memory_mib: u32,
    timeout_ms: u32,
}

/// A plugin and the channels and rules that use it.
#[derive(Serialize, ToSchema)]
pub struct PluginDetail {
    #[serde(flatten)]
    plugin: PluginView,
    used_by: Vec<PluginUseView>,
}

#[derive(Serialize, ToSchema)]
pub struct PluginUseView {
    /// `channel`, `rule` or `endpoint` (an ingest endpoint whose adapter it is).
    kind: String,
    id: String,
    name: String,
    /// The version it pins; null follows the newest.
    pinned_version: Option<String>,
    /// The version it runs now; null when that is not installed (broken).
    running_version: Option<String>,
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
/// file over 32 MiB. Another version of an installed id is added beside
/// the others: channels and rules following the newest move to it when it
/// is the newest (an upgrade); pinned ones stay.
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
    let (listing, _) = state.plugins.get(&info.id, None).await?;
    Ok((StatusCode::CREATED, Json(view(listing))))
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

fn view(listing: PluginListing) -> PluginView {
    let PluginListing { plugin, versions } = listing;
    let ListedPlugin {
        info,
        builtin,
        versions: installed,
        grants,
        limits,
        ..
    } = plugin;
    let newest = info.version.clone();
    PluginView {
        versions: installed
            .into_iter()
            .zip(versions)
            .map(|(v, used)| PluginVersionView {
                newest: v.info.version == newest,
                version: v.info.version,
                wit_version: v.info.wit_version,
                capabilities: v.info.capabilities,
                sha256: v.sha256,
                size_bytes: v.size_bytes,
                channels: used.channels,
                rules: used.rules,
            })
            .collect(),
        id: info.id,
        name: info.name,
        version: info.version,
        kind: info.kind.as_str().to_string(),
        description: info.description,
        config_schema: info.config_schema,
        builtin,
        wit_version: info.wit_version,
        capabilities: info.capabilities,
        grants: grants.into(),
        limits: LimitsView {
            memory_mib: limits.memory_mib,
            timeout_ms: limits.timeout_ms,
        },
    }
}

/// Whose channels and rules a user's answers count: an operator's everyone's.
fn scope(user: &UserRow) -> Option<&str> {
    (!user.is_operator()).then_some(user.id.as_str())
}

/// Installed plugins (built-in and operator-installed).
#[utoipa::path(get, path = "/api/plugins", tag = "plugins", security(("bearer" = [])),
    responses((status = 200, body = PluginList), (status = 401, body = ErrorBody)))]
async fn list_plugins(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<PluginList>, AppError> {
    let items = state
        .plugins
        .list(scope(&user))
        .await?
        .into_iter()
        .map(view)
        .collect();
    Ok(Json(PluginList { items }))
}

/// One plugin: its versions, grants and limits, and the channels and rules
/// that use it (an operator sees everyone's, anyone else their own).
#[utoipa::path(get, path = "/api/plugins/{id}", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, body = PluginDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_plugin(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PluginDetail>, AppError> {
    let (listing, used_by) = state.plugins.get(&id, scope(&user)).await?;
    Ok(Json(PluginDetail {
        plugin: view(listing),
        used_by: used_by
            .into_iter()
            .map(|u| PluginUseView {
                kind: u.kind.to_string(),
                id: u.id,
                name: u.name,
                pinned_version: u.pinned_version,
                running_version: u.running_version,
            })
            .collect(),
    }))
}

/// Set a plugin's grants (operators only): the hosts it may reach, its
/// memory and time limits, the capabilities it may use. In force for the
/// next call of every version, without reinstalling. Refusals answer 422
/// `invalid_grant` naming the field (`allowed_hosts[0]`, `memory_mib`, ...).
#[utoipa::path(put, path = "/api/plugins/{id}/grants", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")), request_body = GrantsView,
    responses((status = 200, body = PluginView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_grants(
    State(state): State<App>,
    _operator: CurrentOperator,
    Path(id): Path<String>,
    ApiJson(grants): ApiJson<GrantsView>,
) -> Result<Json<PluginView>, AppError> {
    Ok(Json(view(
        state.plugins.set_grants(&id, grants.into()).await?,
    )))
}

/// Remove one installed version (operators only). Refused with 409
/// `plugin_in_use` while a channel or rule pins it (or, for the only
/// version, uses the plugin) unless `force=true`; followers of the newest
/// move to the next newest.
#[utoipa::path(delete, path = "/api/plugins/{id}/versions/{version}", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id"), ("version" = String, Path), RemoveParams),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_plugin_version(
    State(state): State<App>,
    _operator: CurrentOperator,
    Path((id, version)): Path<(String, String)>,
    Query(params): Query<RemoveParams>,
) -> Result<StatusCode, AppError> {
    state
        .plugins
        .remove_version(&id, &version, params.force)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
