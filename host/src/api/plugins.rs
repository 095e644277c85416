//! `GET /api/plugins`: the installed plugins and their config schemas.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::CurrentUser;
use crate::app::App;
use crate::error::ErrorBody;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_plugins))
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

/// Installed plugins (built-in and operator-installed).
#[utoipa::path(get, path = "/api/plugins", tag = "plugins", security(("bearer" = [])),
    responses((status = 200, body = PluginList), (status = 401, body = ErrorBody)))]
async fn list_plugins(State(state): State<App>, _user: CurrentUser) -> Json<PluginList> {
    let items = state
        .plugins
        .list()
        .into_iter()
        .map(|p| PluginView {
            id: p.info.id,
            name: p.info.name,
            version: p.info.version,
            kind: p.info.kind.as_str().to_string(),
            description: p.info.description,
            config_schema: p.info.config_schema,
            builtin: p.builtin,
            wit_version: p.info.wit_version,
            capabilities: p.info.capabilities,
        })
        .collect();
    Json(PluginList { items })
}
