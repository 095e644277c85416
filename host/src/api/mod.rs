//! The HTTP API: one route table assembled from one router per resource; the
//! OpenAPI 3.1 document is generated from the same handlers, so a route cannot
//! exist without its documentation.

mod auth;
mod channels;
mod compat;
pub mod dashboard;
mod deliveries;
mod endpoints;
mod events;
pub mod extract;
mod ingest;
mod messages;
mod ops;
mod plugins;
mod rules;
mod stats;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request as AxumRequest, State};
use axum::http::header::{REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::Instrument;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::app::App;
use crate::error::AppError;

pub use ingest::INGEST_KEY_HEADER;

#[derive(OpenApi)]
#[openapi(
    info(title = "Beacon Spear API", description = "Self-hosted event router: ingest, rules, channels, deliveries."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "ingest-endpoints", description = "Personal ingest URLs and their keys"),
        (name = "ingest", description = "Sending messages"),
        (name = "messages", description = "Stored messages"),
        (name = "channels", description = "Where deliveries go"),
        (name = "rules", description = "Which messages go to which channel, and what is sent"),
        (name = "deliveries", description = "Delivery attempts and manual retry"),
        (name = "plugins", description = "Installed channel and filter plugins"),
        (name = "events", description = "Live updates for the dashboard (Server-Sent Events)"),
        (name = "stats", description = "Activity over time"),
        (name = "ops", description = "Health and readiness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

fn routes() -> (Router<App>, OpenApiDoc) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(endpoints::router())
        .merge(channels::router())
        .merge(ingest::router())
        .merge(compat::router())
        .merge(messages::router())
        .merge(plugins::router())
        .merge(rules::router())
        .merge(deliveries::router())
        .merge(events::router())
        .merge(stats::router())
        .merge(ops::router())
        .split_for_parts()
}

/// The OpenAPI document (also served at `/api/openapi.json`).
pub fn openapi() -> OpenApiDoc {
    routes().1
}

pub fn router(state: App) -> Router {
    let (router, doc) = routes();
    let doc = Arc::new(doc);
    router
        .route(
            "/api/openapi.json",
            get(move || async move { Json(doc.as_ref().clone()) }),
        )
        .fallback(dashboard::serve)
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe_request,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

/// The ingest protocol a route template belongs to, if it is an ingest route.
fn ingest_protocol(route: &str) -> Option<&'static str> {
    if route.starts_with("/api/ingest/") {
        Some("native")
    } else if route.starts_with("/compat/ntfy") {
        Some("ntfy")
    } else if route.starts_with("/compat/gotify/message") {
        Some("gotify")
    } else if route.starts_with("/compat/bark") {
        Some("bark")
    } else {
        None
    }
}

/// The request id a client sent (`X-Request-Id`, 1-64 visible ASCII
/// characters), else a new one.
fn request_id(request: &AxumRequest) -> String {
    request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(crate::domain::new_id, str::to_string)
}

/// One log line per request (route template, method, status, ms, request
/// id, the client IP as `TRUSTED_PROXIES` decides it: never a path, query,
/// header or body, which may hold keys), the request id echoed as
/// `X-Request-Id` and carried by every line logged while it runs, and the
/// ingest metrics.
async fn observe_request(State(state): State<App>, request: AxumRequest, next: Next) -> Response {
    let client_ip = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(peer)| {
            extract::client_ip(peer.ip(), request.headers(), &state.config.trusted_proxies)
                .to_string()
        })
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = request.method().clone();
    let id = request_id(&request);
    let span = tracing::info_span!("http", route = %route, method = %method, request_id = %id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Some(protocol) = ingest_protocol(&route) {
        crate::metrics::ingest_answered(
            protocol,
            status,
            response.headers().contains_key("idempotent-replayed"),
            elapsed,
        );
    }
    tracing::info!(
        route = %route,
        method = %method,
        status,
        ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        request_id = %id,
        client_ip = %client_ip,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
