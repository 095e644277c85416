//! Drop-in publishing for the clients of ntfy, Gotify and Bark: their
//! requests, unchanged, become messages of the endpoint whose ingest key
//! they carry. The HTTP half (credentials, body, answer in the shape each
//! client reads); the translation is [`crate::domain::compat`], the rest
//! the same ingest as `POST /api/ingest/{endpoint_id}`. Refusals keep the
//! native status codes and error shape.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Uri};
use axum::Json;
use base64::Engine;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ClientIp;
use super::ingest::{
    bearer, idempotency_key, ingest_key, query_pairs, read_body, replay_headers, request_facts,
};
use crate::app::ingest::{EndpointAuth, Submission};
use crate::app::App;
use crate::domain::compat::{self, Params};
use crate::domain::payload::{Payload, Schedule};
use crate::domain::{now_ms, rfc3339, Invalid};
use crate::error::{AppError, AppResult, ErrorBody};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(ntfy_json))
        .routes(routes!(ntfy_publish_put, ntfy_publish_post))
        .routes(routes!(gotify_message))
        .routes(routes!(gotify_version))
        .routes(routes!(gotify_health))
        .routes(routes!(bark_push))
        .routes(routes!(bark_key))
        .routes(routes!(bark_body))
        .routes(routes!(bark_title))
        .routes(routes!(bark_subtitle))
}

/// What ntfy answers a publish with (its message model), plus our id.
#[derive(Serialize, ToSchema)]
pub struct NtfyMessage {
    /// The Beacon message id.
    id: String,
    /// Unix seconds.
    time: i64,
    /// Always `message`.
    event: String,
    /// The endpoint id.
    topic: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    priority: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    click: Option<String>,
}

/// What Gotify answers a message with (its message model), plus our id.
#[derive(Serialize, ToSchema)]
pub struct GotifyMessage {
    /// A number, as Gotify clients read it (derived from the message id).
    id: u64,
    /// The Beacon message id.
    message_id: String,
    appid: u64,
    message: String,
    title: String,
    /// On Beacon's scale, 1-5.
    priority: i64,
    /// RFC 3339.
    date: String,
}

/// What Bark answers a push with, plus our id.
#[derive(Serialize, ToSchema)]
pub struct BarkAnswer {
    code: u16,
    message: String,
    /// Unix seconds.
    timestamp: i64,
    message_id: String,
}

/// The request as the translators and the message's stored facts need it.
struct Incoming {
    headers: HeaderMap,
    uri: Uri,
    ip: std::net::IpAddr,
}

impl Incoming {
    fn params(&self) -> Params {
        Params {
            headers: self
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            query: query_pairs(&self.uri),
        }
    }

    /// Stores the message (or finds the one its idempotency key stands for).
    async fn submit(
        &self,
        state: &App,
        endpoint: &EndpointAuth,
        (payload, schedule): (Payload, Option<Schedule>),
        size: usize,
    ) -> AppResult<(String, HeaderMap)> {
        let submission = Submission {
            payload,
            schedule,
            request: request_facts(&self.headers, &self.uri, self.ip, size),
            idempotency_key: idempotency_key(&self.headers),
        };
        let accepted = state.ingest.accept_payload(endpoint, submission).await?;
        Ok((accepted.message_id().to_string(), replay_headers(&accepted)))
    }
}

/// ntfy's credential: `Authorization: Bearer <key>`, or basic auth with the
/// key as the password (the user name is ignored), or the native header.
fn ntfy_key(headers: &HeaderMap) -> Option<String> {
    if let Some(key) = ingest_key(headers) {
        return Some(key.to_string());
    }
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':')
        .map(|(_, password)| password.to_string())
}

fn ntfy_answer(id: String, topic: String, payload: &Payload) -> Json<NtfyMessage> {
    Json(NtfyMessage {
        id,
        time: now_ms() / 1000,
        event: "message".into(),
        topic,
        message: payload.body.clone(),
        title: payload.title.clone(),
        priority: payload.priority,
        tags: payload.tags.clone(),
        click: payload.url.clone(),
    })
}

async fn ntfy_topic(
    state: App,
    topic: String,
    incoming: Incoming,
    body: Body,
) -> AppResult<(HeaderMap, Json<NtfyMessage>)> {
    let key = ntfy_key(&incoming.headers);
    let endpoint = state.ingest.authorize(&topic, key.as_deref()).await?;
    let bytes = read_body(&state, &incoming.headers, body).await?;
    let (payload, schedule) = compat::ntfy_publish(&incoming.params(), &bytes)?;
    let (id, replayed) = incoming
        .submit(&state, &endpoint, (payload.clone(), schedule), bytes.len())
        .await?;
    Ok((replayed, ntfy_answer(id, endpoint.endpoint_id, &payload)))
}

/// ntfy publish (`curl -d`, `ntfy publish`): the body is the message;
/// `Title`, `Priority` (1-5 or `min`…`urgent`), `Tags`, `Click`, `Markdown`
/// and their `X-` and one-letter aliases as headers or query parameters.
/// The topic is the endpoint id; the key is `Authorization: Bearer` or the
/// basic-auth password. `Delay`/`At` are refused (422) for now.
#[utoipa::path(put, path = "/compat/ntfy/{endpoint_id}", tag = "compat",
    params(("endpoint_id" = String, Path, description = "The endpoint id (ntfy's topic)")),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = NtfyMessage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
async fn ntfy_publish_put(
    State(state): State<App>,
    Path(topic): Path<String>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<NtfyMessage>)> {
    ntfy_topic(state, topic, Incoming { headers, uri, ip }, body).await
}

/// ntfy publish by POST (what `ntfy publish` and `curl -d` send).
#[utoipa::path(post, path = "/compat/ntfy/{endpoint_id}", tag = "compat",
    params(("endpoint_id" = String, Path, description = "The endpoint id (ntfy's topic)")),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = NtfyMessage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
async fn ntfy_publish_post(
    State(state): State<App>,
    Path(topic): Path<String>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<NtfyMessage>)> {
    ntfy_topic(state, topic, Incoming { headers, uri, ip }, body).await
}

/// ntfy's JSON publish: `{"topic": "<endpoint id>", "message", "title",
/// "priority", "tags", "click", "markdown", "actions", ...}`.
#[utoipa::path(post, path = "/compat/ntfy", tag = "compat",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = NtfyMessage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
async fn ntfy_json(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<NtfyMessage>)> {
    let bytes = read_body(&state, &headers, body).await?;
    let key = ntfy_key(&headers);
    // The topic names the endpoint, so it is read before the key is checked;
    // a body that cannot name one answers 401 like a wrong key would.
    let (topic, payload, schedule) = match compat::ntfy_json(&bytes) {
        Ok(parsed) => parsed,
        Err(invalid) => {
            let topic = compat::json_object(&bytes)
                .ok()
                .and_then(|o| o.get("topic").and_then(Value::as_str).map(str::to_string));
            state
                .ingest
                .authorize(topic.as_deref().unwrap_or(""), key.as_deref())
                .await?;
            return Err(invalid.into());
        }
    };
    let endpoint = state.ingest.authorize(&topic, key.as_deref()).await?;
    let incoming = Incoming { headers, uri, ip };
    let (id, replayed) = incoming
        .submit(&state, &endpoint, (payload.clone(), schedule), bytes.len())
        .await?;
    Ok((replayed, ntfy_answer(id, endpoint.endpoint_id, &payload)))
}

/// A message id as the number Gotify clients expect (its first 52 bits, so
/// it survives JavaScript clients too).
fn gotify_id(message_id: &str) -> u64 {
    u64::from_str_radix(message_id.get(..13).unwrap_or("0"), 16).unwrap_or_default()
}

/// Gotify's create-message: the app token (the ingest key) as
/// `X-Gotify-Key`, `?token=` or `Authorization: Bearer`; `message`,
/// `title`, `priority` (0-10) and `extras` as JSON or form fields. Answers
/// 200 with Gotify's message model, as Gotify does.
#[utoipa::path(post, path = "/compat/gotify/message", tag = "compat",
    params(("token" = Option<String>, Query, description = "The ingest key (or send X-Gotify-Key)")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = GotifyMessage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn gotify_message(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<GotifyMessage>)> {
    let query = query_pairs(&uri);
    let key = headers
        .get("x-gotify-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            query
                .iter()
                .find(|(name, _)| name == "token")
                .map(|(_, v)| v.clone())
        })
        .or_else(|| ingest_key(&headers).map(str::to_string));
    let endpoint = state.ingest.authorize_key(key.as_deref()).await?;
    let bytes = read_body(&state, &headers, body).await?;
    let fields = body_fields(&headers, &bytes).await?;
    let payload = compat::gotify_message(fields)?;
    let incoming = Incoming { headers, uri, ip };
    let (id, replayed) = incoming
        .submit(&state, &endpoint, (payload.clone(), None), bytes.len())
        .await?;
    Ok((
        replayed,
        Json(GotifyMessage {
            id: gotify_id(&id),
            message_id: id,
            appid: 1,
            message: payload.body,
            title: payload.title.unwrap_or_default(),
            priority: payload.priority,
            date: rfc3339(now_ms()),
        }),
    ))
}

/// A JSON, URL-encoded or multipart form body as fields (Gotify's docs
/// send `curl -F`, Bark's shortcuts a form); other content types answer 415.
async fn body_fields(headers: &HeaderMap, bytes: &Bytes) -> AppResult<Map<String, Value>> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(compat::json_object(bytes)?),
        "application/x-www-form-urlencoded" => Ok(compat::form_object(bytes)),
        "multipart/form-data" => multipart_fields(content_type, bytes.clone()).await,
        _ if bytes.is_empty() => Ok(Map::new()),
        other => Err(Invalid::MediaType {
            message: format!(
                "Content-Type {other:?} is not accepted here; use application/json, application/x-www-form-urlencoded or multipart/form-data"
            ),
        }
        .into()),
    }
}

/// The text fields of a multipart form.
async fn multipart_fields(content_type: &str, bytes: Bytes) -> AppResult<Map<String, Value>> {
    let malformed = |err: multer::Error| {
        AppError::bad_request(
            "malformed_multipart",
            format!("the form cannot be read: {err}"),
        )
    };
    let boundary = multer::parse_boundary(content_type).map_err(malformed)?;
    let body = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut form = multer::Multipart::new(body, boundary);
    let mut fields = Map::new();
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_string();
        let text = field.text().await.map_err(malformed)?;
        fields.insert(name, Value::String(text));
    }
    Ok(fields)
}

/// Gotify's version probe, which some clients call before sending.
#[utoipa::path(get, path = "/compat/gotify/version", tag = "compat",
    responses((status = 200, body = Object)))]
async fn gotify_version() -> Json<Value> {
    Json(json!({
        "version": concat!("2.0.0+beacon-spear.", env!("CARGO_PKG_VERSION")),
        "commit": "beacon-spear",
        "buildDate": "",
    }))
}

/// Gotify's health probe.
#[utoipa::path(get, path = "/compat/gotify/health", tag = "compat",
    responses((status = 200, body = Object)))]
async fn gotify_health() -> Json<Value> {
    Json(json!({"health": "green", "database": "green"}))
}

/// Bark's JSON push: `device_key` is the ingest key; `title`, `subtitle`,
/// `body`, `group`, `level`, `url`, `sound`, `icon`, ... as Bark reads them.
#[utoipa::path(post, path = "/compat/bark/push", tag = "compat",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = BarkAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn bark_push(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<BarkAnswer>)> {
    bark(state, None, Vec::new(), Incoming { headers, uri, ip }, body).await
}

/// Bark's push in any of its forms: the key first in the path (or
/// `device_key` in the parameters), texts from the path, parameters from the
/// query and then a JSON or form body.
async fn bark(
    state: App,
    key: Option<String>,
    texts: Vec<String>,
    incoming: Incoming,
    body: Body,
) -> AppResult<(HeaderMap, Json<BarkAnswer>)> {
    let bytes = read_body(&state, &incoming.headers, body).await?;
    let mut params: BTreeMap<String, String> = query_pairs(&incoming.uri).into_iter().collect();
    params.extend(compat::flat_params(
        body_fields(&incoming.headers, &bytes).await?,
    ));
    let key = key
        .or_else(|| params.get("device_key").cloned())
        .or_else(|| bearer(&incoming.headers).map(str::to_string));
    let endpoint = state.ingest.authorize_key(key.as_deref()).await?;
    let payload = compat::bark_push(&texts, &params)?;
    let (id, replayed) = incoming
        .submit(&state, &endpoint, (payload, None), bytes.len())
        .await?;
    Ok((
        replayed,
        Json(BarkAnswer {
            code: 200,
            message: "success".into(),
            timestamp: now_ms() / 1000,
            message_id: id,
        }),
    ))
}

/// Bark's path forms: the key, then up to three texts (each segment
/// percent-decoded, as Bark's own server reads them). Read from the URI
/// rather than a `Path` extractor so one handler serves each form for GET
/// and POST.
async fn bark_path(
    state: App,
    incoming: Incoming,
    body: Body,
) -> AppResult<(HeaderMap, Json<BarkAnswer>)> {
    let mut parts = incoming
        .uri
        .path()
        .strip_prefix("/compat/bark/")
        .unwrap_or_default()
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect::<Vec<_>>()
        .into_iter();
    let key = parts.next();
    bark(state, key, parts.collect(), incoming, body).await
}

/// Bark push with the key alone in the path; the texts come as parameters.
#[utoipa::path(method(get, post), path = "/compat/bark/{key}", tag = "compat",
    responses((status = 200, body = BarkAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn bark_key(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<BarkAnswer>)> {
    bark_path(state, Incoming { headers, uri, ip }, body).await
}

/// Bark push: `/{key}/{body}`, parameters (`group`, `level`, `url`, `sound`, ...) in the query, a form or a JSON body.
#[utoipa::path(method(get, post), path = "/compat/bark/{key}/{body}", tag = "compat",
    responses((status = 200, body = BarkAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn bark_body(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<BarkAnswer>)> {
    bark_path(state, Incoming { headers, uri, ip }, body).await
}

/// Bark push: `/{key}/{title}/{body}`.
#[utoipa::path(method(get, post), path = "/compat/bark/{key}/{title}/{body}", tag = "compat",
    responses((status = 200, body = BarkAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn bark_title(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<BarkAnswer>)> {
    bark_path(state, Incoming { headers, uri, ip }, body).await
}

/// Bark push: `/{key}/{title}/{subtitle}/{body}`.
#[utoipa::path(method(get, post), path = "/compat/bark/{key}/{title}/{subtitle}/{body}", tag = "compat",
    responses((status = 200, body = BarkAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn bark_subtitle(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(HeaderMap, Json<BarkAnswer>)> {
    bark_path(state, Incoming { headers, uri, ip }, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntfy_credentials_from_bearer_or_basic_password() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer bsk_abc".parse().expect("header"));
        assert_eq!(ntfy_key(&headers).as_deref(), Some("bsk_abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("anyone:bsk_xyz");
        headers.insert(
            AUTHORIZATION,
            format!("Basic {basic}").parse().expect("header"),
        );
        assert_eq!(ntfy_key(&headers).as_deref(), Some("bsk_xyz"));
        headers.insert(AUTHORIZATION, "Digest x".parse().expect("header"));
        assert_eq!(ntfy_key(&headers), None);
    }

    #[test]
    fn gotify_ids_are_numbers_javascript_can_hold() {
        let id = gotify_id("0192f0c1a2b37c4d8e9fa0b1c2d3e4f5");
        assert!(id < (1 << 53));
        assert_eq!(id, 0x0192f0c1a2b37);
        assert_eq!(gotify_id("x"), 0);
    }
}
