//! `/api/rules`: CRUD and the rule test endpoints (match + render, nothing sent).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ClientIp, CurrentUser};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::ingest::{canonical_id, BodyKind};
use crate::rules::{prepare, ExtraFilter, RuleInput};
use crate::storage::{new_id_with_time, RuleRow, UserRow};
use crate::templates::{render, ContextSource, TemplateContext};
use crate::timefmt::rfc3339;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, replace_rule, delete_rule))
        .routes(routes!(test_rules))
        .routes(routes!(test_rule))
}

#[derive(Deserialize, ToSchema)]
pub struct RuleBody {
    name: String,
    /// Default true.
    enabled: Option<bool>,
    channel_id: String,
    /// The standard filter's config: `{ingest_endpoint_ids?, body?: {contains?, regex?}, priority?: {min?, max?}, tags?, group?}`.
    #[schema(value_type = Object)]
    filter: Option<serde_json::Value>,
    /// Further filter plugins; all must pass.
    extra_filters: Option<Vec<ExtraFilter>>,
    /// JSON object whose strings may hold `{{path}}` placeholders.
    #[schema(value_type = Object)]
    payload_template: Option<serde_json::Value>,
}

impl RuleBody {
    fn into_input(self) -> RuleInput {
        RuleInput {
            name: self.name,
            enabled: self.enabled.unwrap_or(true),
            channel_id: self.channel_id,
            filter: self.filter.unwrap_or_else(|| serde_json::json!({})),
            extra_filters: self.extra_filters.unwrap_or_default(),
            payload_template: self
                .payload_template
                .unwrap_or_else(|| serde_json::json!({})),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RuleView {
    id: String,
    name: String,
    enabled: bool,
    channel_id: String,
    #[schema(value_type = Object)]
    filter: serde_json::Value,
    extra_filters: Vec<ExtraFilter>,
    #[schema(value_type = Object)]
    payload_template: serde_json::Value,
    created_at: String,
    updated_at: String,
}

impl From<RuleRow> for RuleView {
    fn from(row: RuleRow) -> Self {
        RuleView {
            filter: serde_json::from_str(&row.filter).unwrap_or_default(),
            extra_filters: serde_json::from_str(&row.extra_filters).unwrap_or_default(),
            payload_template: serde_json::from_str(&row.payload_template).unwrap_or_default(),
            enabled: row.enabled != 0,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
            id: row.id,
            name: row.name,
            channel_id: row.channel_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RuleList {
    items: Vec<RuleView>,
}

#[derive(Deserialize, ToSchema)]
pub struct RuleTest {
    /// A sample message, exactly as it would be sent to ingest.
    #[schema(value_type = Object)]
    message: serde_json::Value,
    /// The endpoint the sample arrives on (optional).
    ingest_endpoint_id: Option<String>,
    /// An unsaved rule to test instead of the stored ones (`POST /api/rules/test`
    /// only); validated like a create, errors name `rule.<field>`.
    rule: Option<RuleBody>,
}

#[derive(Serialize, ToSchema)]
pub struct RuleTestResult {
    rule_id: String,
    name: String,
    enabled: bool,
    matched: bool,
    /// Why a filter could not decide (the rule then does not match).
    error: Option<String>,
    /// The rendered payload the channel would receive (also when not matched).
    #[schema(value_type = Object)]
    payload: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct RuleTestResults {
    results: Vec<RuleTestResult>,
}

fn rule_id(raw: &str) -> AppResult<String> {
    canonical_id(raw).ok_or(AppError::NotFound)
}

/// The user's rules, newest first.
#[utoipa::path(get, path = "/api/rules", tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = RuleList), (status = 401, body = ErrorBody)))]
async fn list_rules(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<RuleList>> {
    let items = state
        .store
        .list_rules(&user.id)
        .await?
        .into_iter()
        .map(RuleView::from)
        .collect();
    Ok(Json(RuleList { items }))
}

/// Create a rule; every filter config is validated by its plugin.
#[utoipa::path(post, path = "/api/rules", tag = "rules", request_body = RuleBody, security(("bearer" = [])),
    responses((status = 201, body = RuleView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<RuleBody>,
) -> AppResult<(StatusCode, Json<RuleView>)> {
    let user = user.require_verified()?;
    let row = state.rules.create(&user.id, body.into_input()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// One rule.
#[utoipa::path(get, path = "/api/rules/{id}", tag = "rules", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody)))]
async fn get_rule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<RuleView>> {
    let row = state
        .store
        .rule_for_user(&user.id, &rule_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(row.into()))
}

/// Replace a rule.
#[utoipa::path(put, path = "/api/rules/{id}", tag = "rules", params(("id" = String, Path)), request_body = RuleBody, security(("bearer" = [])),
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn replace_rule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RuleBody>,
) -> AppResult<Json<RuleView>> {
    let row = state
        .rules
        .replace(&user.id, &rule_id(&id)?, body.into_input())
        .await?;
    Ok(Json(row.into()))
}

/// Delete a rule; its past deliveries stay.
#[utoipa::path(delete, path = "/api/rules/{id}", tag = "rules", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_rule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    state.rules.delete(&user.id, &rule_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which of the user's rules (or the unsaved `rule`) match a sample message, and what each would send. Nothing is sent.
#[utoipa::path(post, path = "/api/rules/test", tag = "rules", request_body = RuleTest, security(("bearer" = [])),
    responses((status = 200, body = RuleTestResults), (status = 422, body = ErrorBody)))]
async fn test_rules(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
    ApiJson(mut body): ApiJson<RuleTest>,
) -> AppResult<Json<RuleTestResults>> {
    let rows = match body.rule.take() {
        Some(draft) => {
            let row = state
                .rules
                .draft(&user.id, draft.into_input())
                .await
                .map_err(|err| match err {
                    AppError::Validation { field, message } => {
                        AppError::validation(format!("rule.{field}"), message)
                    }
                    other => other,
                })?;
            vec![row]
        }
        None => state.store.list_rules(&user.id).await?,
    };
    run_tests(&state, &user, rows, body, ip).await
}

/// One rule against a sample message. Nothing is sent.
#[utoipa::path(post, path = "/api/rules/{id}/test", tag = "rules", params(("id" = String, Path)), request_body = RuleTest,
    security(("bearer" = [])), responses((status = 200, body = RuleTestResults), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn test_rule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RuleTest>,
) -> AppResult<Json<RuleTestResults>> {
    let row = state
        .store
        .rule_for_user(&user.id, &rule_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    run_tests(&state, &user, vec![row], body, ip).await
}

async fn run_tests(
    state: &AppState,
    user: &UserRow,
    rows: Vec<RuleRow>,
    body: RuleTest,
    ip: std::net::IpAddr,
) -> AppResult<Json<RuleTestResults>> {
    let payload =
        crate::ingest::payload::parse(BodyKind::Json, body.message.to_string().as_bytes())
            .map_err(|err| match err {
                AppError::Validation { field, message } => AppError::validation(
                    format!("message.{field}").replace("message.$", "message"),
                    message,
                ),
                other => other,
            })?;
    let (endpoint_id, endpoint_name) = match body.ingest_endpoint_id.filter(|s| !s.is_empty()) {
        Some(raw) => {
            let id = canonical_id(&raw)
                .ok_or_else(|| AppError::validation("ingest_endpoint_id", "no such endpoint"))?;
            let endpoint = state
                .store
                .endpoint_for_user(&user.id, &id)
                .await?
                .ok_or_else(|| AppError::validation("ingest_endpoint_id", "no such endpoint"))?;
            (endpoint.id, endpoint.name)
        }
        None => (String::new(), String::new()),
    };
    let (message_id, received_at) = new_id_with_time();
    let received_at = rfc3339(received_at);
    let rules: Vec<_> = rows
        .into_iter()
        .filter_map(|row| prepare(row).ok())
        .collect();
    let message = crate::plugins::wit_message(
        &payload,
        &message_id,
        &received_at,
        &endpoint_id,
        &endpoint_name,
    );
    let verdicts = state
        .rules
        .evaluate(std::sync::Arc::new(rules.clone()), message)
        .await?;

    let headers = BTreeMap::from([("content-type".to_string(), "application/json".to_string())]);
    let query = BTreeMap::new();
    let context = TemplateContext::new(&ContextSource {
        message_id: &message_id,
        received_at: &received_at,
        title: payload.title.as_deref(),
        body: &payload.body,
        group: payload.group.as_deref(),
        priority: payload.priority,
        tags: &payload.tags,
        url: payload.url.as_deref(),
        extras: &payload.extras,
        content_type: "application/json",
        remote_ip: Some(&ip.to_string()),
        user_agent: None,
        headers: &headers,
        query: &query,
        endpoint_id: &endpoint_id,
        endpoint_name: &endpoint_name,
    });
    let results = rules
        .iter()
        .zip(verdicts)
        .map(|(rule, verdict)| RuleTestResult {
            rule_id: verdict.rule_id,
            name: verdict.rule_name,
            enabled: rule.row.enabled != 0,
            matched: verdict.matched,
            error: verdict.error,
            payload: render(&rule.template, &context),
        })
        .collect();
    Ok(Json(RuleTestResults { results }))
}
