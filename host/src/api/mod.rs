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

use axum::extract::MatchedPath;
use axum::http::header::{REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, Request};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
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
        .layer(
            // Method, route template and status only: never bodies, queries or headers.
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str)
                    .unwrap_or("unmatched");
                tracing::info_span!("http", method = %request.method(), route)
            }),
        )
        .with_state(state)
}
