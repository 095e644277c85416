//! `POST /api/ingest/{endpoint_id}` (SPEC §5): the HTTP half of ingest —
//! headers, the size limit enforced on Content-Length and again while
//! streaming, request metadata — before handing over to [`crate::app::ingest`].

use std::collections::BTreeMap;
use std::net::IpAddr;

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::Json;
use futures_util::StreamExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ClientIp;
use crate::app::ingest::{Accepted, EndpointAuth};
use crate::app::App;
use crate::domain::redact::{is_sensitive, REDACTED};
use crate::domain::{BodyKind, RequestFacts};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::plugins::runtime::InboundRequest;

pub const INGEST_KEY_HEADER: &str = "x-beacon-ingest-key";
/// The query parameter that may carry the ingest key, for senders that can
/// set no header (GitHub webhooks); stored redacted like the headers.
pub const INGEST_KEY_PARAM: &str = "key";

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(ingest))
}

/// The JSON form of an ingest body (a `text/plain` body becomes `body`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IngestBody {
    /// Required, non-empty.
    body: String,
    title: Option<String>,
    group: Option<String>,
    /// 1 (lowest) … 5 (critical); default 3.
    #[schema(minimum = 1, maximum = 5)]
    priority: Option<i64>,
    tags: Option<Vec<String>>,
    /// Absolute http(s) URL.
    url: Option<String>,
    extras: Option<BTreeMap<String, String>>,
    /// Scheduled delivery: RFC 3339 time (or Unix seconds) when the
    /// deliveries leave, at most `MAX_DELIVERY_DELAY_SECONDS` ahead (7 days).
    deliver_at: Option<String>,
    /// Scheduled delivery relative to arrival: `30s`, `15m`, `2h`, `1d`
    /// (not together with `deliver_at`).
    delay: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Ingested {
    /// The new message's id; through an adapter, the first message's
    /// (`null` when the adapter made none).
    message_id: Option<String>,
    /// Through an adapter: every message the request became, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    message_ids: Option<Vec<String>>,
}

/// Send a message to an ingest endpoint.
#[utoipa::path(post, path = "/api/ingest/{endpoint_id}", tag = "ingest",
    params(("endpoint_id" = String, Path, description = "32 hex digits (dashed UUID form accepted)"),
           ("X-Beacon-Ingest-Key" = String, Header, description = "The endpoint's key (or send it as `Authorization: Bearer <key>`, or as `?key=` when the sender can set no header)"),
           ("Idempotency-Key" = Option<String>, Header, description = "Within 24 h the same key on this endpoint answers the first message's id again (with `Idempotent-Replayed: true`) and stores nothing; another message under the same key answers 422 `idempotency_key_reused`")),
    request_body(description = "A native ingest body; on an endpoint with an adapter, whatever that adapter reads (e.g. an Alertmanager or GitHub webhook JSON)",
        content((IngestBody = "application/json"), (String = "text/plain"))),
    responses((status = 201, body = Ingested), (status = 200, description = "An adapter made no message of this request", body = Ingested),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn ingest(
    State(state): State<App>,
    Path(endpoint_id): Path<String>,
    ClientIp(ip): ClientIp,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(StatusCode, HeaderMap, Json<Ingested>)> {
    let query = query_pairs(&uri);
    let key = ingest_key(&headers).or_else(|| {
        query
            .iter()
            .find(|(name, _)| name == INGEST_KEY_PARAM)
            .map(|(_, value)| value.as_str())
    });
    let endpoint = state.ingest.authorize(&endpoint_id, key).await?;
    if endpoint.adapter_plugin.is_some() {
        return ingest_adapted(&state, &endpoint, method, &uri, headers, query, ip, body).await;
    }
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let kind = BodyKind::from_content_type(content_type)?;
    let bytes = read_body(&state, &headers, body).await?;
    let request = request_facts(&headers, &uri, ip, bytes.len());
    let accepted = state
        .ingest
        .accept(&endpoint, kind, &bytes, request, idempotency_key(&headers))
        .await?;
    Ok((
        StatusCode::CREATED,
        replay_headers(&accepted),
        Json(Ingested {
            message_id: Some(accepted.message_id().to_string()),
            message_ids: None,
        }),
    ))
}

/// A request to an endpoint with an adapter: the adapter reads it whatever
/// its content type; the credentials never reach the plugin.
#[allow(clippy::too_many_arguments)]
async fn ingest_adapted(
    state: &App,
    endpoint: &EndpointAuth,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    query: Vec<(String, String)>,
    ip: IpAddr,
    body: Body,
) -> AppResult<(StatusCode, HeaderMap, Json<Ingested>)> {
    let bytes = read_body(state, &headers, body).await?;
    let facts = request_facts(&headers, uri, ip, bytes.len());
    let request = InboundRequest {
        method: method.as_str().to_string(),
        query: query
            .into_iter()
            .filter(|(name, _)| name != INGEST_KEY_PARAM)
            .collect(),
        headers: headers
            .iter()
            .filter(|(name, _)| *name != AUTHORIZATION && name.as_str() != INGEST_KEY_HEADER)
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_string(), value)
            })
            .collect(),
        body: bytes.to_vec(),
        endpoint_id: String::new(),
        endpoint_name: String::new(),
    };
    let accepted = state
        .ingest
        .accept_adapted(endpoint, request, facts, idempotency_key(&headers))
        .await?;
    let replayed = !accepted.is_empty() && accepted.iter().all(Accepted::replayed);
    let mut answer_headers = HeaderMap::new();
    if replayed {
        answer_headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    let ids: Vec<String> = accepted
        .iter()
        .map(|accepted| accepted.message_id().to_string())
        .collect();
    let status = if ids.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        answer_headers,
        Json(Ingested {
            message_id: ids.first().cloned(),
            message_ids: Some(ids),
        }),
    ))
}

/// The `Idempotency-Key` header, when sent.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok())
}

/// `Idempotent-Replayed: true` on an answer that repeats an earlier one.
pub(super) fn replay_headers(accepted: &Accepted) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if accepted.replayed() {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    headers
}

/// The ingest key: `X-Beacon-Ingest-Key`, or `Authorization: Bearer <key>`
/// (what Alertmanager's `http_config` and most webhook senders send).
pub(super) fn ingest_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(INGEST_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .or_else(|| bearer(headers))
}

/// The token of `Authorization: Bearer <token>`.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// How many times the ingest limit an oversized body is read before its 413.
const DRAIN_FACTOR: usize = 4;

/// Reads a refused body to its end without keeping it.
async fn discard(body: Body) {
    let mut stream = body.into_data_stream();
    while let Some(Ok(_)) = stream.next().await {}
}

/// The body, refused with 413 over the ingest limit (declared or streamed).
pub(super) async fn read_body(state: &App, headers: &HeaderMap, body: Body) -> AppResult<Bytes> {
    let limit = state.ingest.max_bytes;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > limit as u64) {
        // Answering before the client has sent its body makes most clients
        // report a broken pipe instead of the 413; read (and drop) a body up
        // to a few times the limit first, cut anything bigger.
        if len <= (DRAIN_FACTOR * limit) as u64 {
            discard(body).await;
        }
        return Err(AppError::PayloadTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            crate::metrics::ingest_body(bytes.len());
            Ok(bytes)
        }
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
            Err(AppError::PayloadTooLarge { limit })
        }
        Err(_) => Err(AppError::bad_request(
            "unreadable_body",
            "the request body could not be read",
        )),
    }
}

/// What is kept of the request beside the message.
pub(super) fn request_facts(
    headers: &HeaderMap,
    uri: &Uri,
    ip: IpAddr,
    size: usize,
) -> RequestFacts {
    RequestFacts {
        content_type: headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        remote_ip: Some(ip.to_string()),
        user_agent: headers
            .get(USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        headers: stored_headers(headers),
        // U+0000 (from `%00`) cannot be stored in PostgreSQL text; these are
        // metadata, so it is replaced rather than refused.
        // Credentials in the query (Gotify's `?token=`) are redacted like headers.
        query: query_pairs(uri)
            .into_iter()
            .map(|(name, value)| {
                let value = if is_sensitive(&name) {
                    REDACTED.to_string()
                } else {
                    value.replace('\0', "\u{fffd}")
                };
                (name.replace('\0', "\u{fffd}"), value)
            })
            .collect(),
        size_bytes: size as i64,
    }
}

/// The query parameters, decoded, in order.
pub(super) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// All request headers, repeated ones joined with ", ", secrets redacted.
fn stored_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = if is_sensitive(name.as_str()) {
            REDACTED.to_string()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        out.entry(name.as_str().to_string())
            .and_modify(|existing| {
                if existing != REDACTED {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
            })
            .or_insert(value);
    }
    out
}
