//! `/api/rules`: CRUD and the rule test endpoints (match + render, nothing sent).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ClientIp, CurrentUser};
use crate::app::rules::{RuleInput, Sample, TestResult};
use crate::app::App;
use crate::domain::{rfc3339, ExtraFilter, Rule};
use crate::error::{AppResult, ErrorBody};

pub fn router() -> OpenApiRouter<App> {
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

impl From<Rule> for RuleView {
    fn from(row: Rule) -> Self {
        RuleView {
            filter: row.filter,
            extra_filters: row.extra_filters,
            payload_template: row.payload_template,
            enabled: row.enabled,
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

impl RuleTest {
    fn into_sample(self, ip: std::net::IpAddr) -> (Option<RuleInput>, Sample) {
        let sample = Sample {
            message: self.message,
            ingest_endpoint_id: self.ingest_endpoint_id,
            remote_ip: ip.to_string(),
        };
        (self.rule.map(RuleBody::into_input), sample)
    }
}

impl From<TestResult> for RuleTestResult {
    fn from(result: TestResult) -> Self {
        RuleTestResult {
            rule_id: result.verdict.rule_id,
            name: result.verdict.rule_name,
            enabled: result.rule.enabled,
            matched: result.verdict.matched,
            error: result.verdict.error,
            payload: result.payload,
        }
    }
}

fn test_results(results: Vec<TestResult>) -> Json<RuleTestResults> {
    Json(RuleTestResults {
        results: results.into_iter().map(RuleTestResult::from).collect(),
    })
}

/// The user's rules, newest first.
#[utoipa::path(get, path = "/api/rules", tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = RuleList), (status = 401, body = ErrorBody)))]
async fn list_rules(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<RuleList>> {
    let items = state
        .rules
        .list(&user.id)
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
    State(state): State<App>,
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
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<RuleView>> {
    Ok(Json(state.rules.get(&user.id, &id).await?.into()))
}

/// Replace a rule.
#[utoipa::path(put, path = "/api/rules/{id}", tag = "rules", params(("id" = String, Path)), request_body = RuleBody, security(("bearer" = [])),
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn replace_rule(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RuleBody>,
) -> AppResult<Json<RuleView>> {
    let row = state
        .rules
        .replace(&user.id, &id, body.into_input())
        .await?;
    Ok(Json(row.into()))
}

/// Delete a rule; its past deliveries stay.
#[utoipa::path(delete, path = "/api/rules/{id}", tag = "rules", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_rule(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    state.rules.delete(&user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which of the user's rules (or the unsaved `rule`) match a sample message, and what each would send. Nothing is sent.
#[utoipa::path(post, path = "/api/rules/test", tag = "rules", request_body = RuleTest, security(("bearer" = [])),
    responses((status = 200, body = RuleTestResults), (status = 422, body = ErrorBody)))]
async fn test_rules(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RuleTest>,
) -> AppResult<Json<RuleTestResults>> {
    let (draft, sample) = body.into_sample(ip);
    Ok(test_results(
        state.rules.test_all(&user.id, draft, sample).await?,
    ))
}

/// One rule against a sample message. Nothing is sent.
#[utoipa::path(post, path = "/api/rules/{id}/test", tag = "rules", params(("id" = String, Path)), request_body = RuleTest,
    security(("bearer" = [])), responses((status = 200, body = RuleTestResults), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn test_rule(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RuleTest>,
) -> AppResult<Json<RuleTestResults>> {
    let (_, sample) = body.into_sample(ip);
    Ok(test_results(
        state.rules.test_one(&user.id, &id, sample).await?,
    ))
}
