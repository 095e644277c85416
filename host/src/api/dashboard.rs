//! The dashboard (dashboard/dist) served at `/`: files by path, the SPA's
//! index.html for any other GET outside `/api/` (deep links, links in
//! e-mails), with a strict Content-Security-Policy. Release builds embed the
//! files; debug builds read them from disk so a rebuilt dashboard shows at once.

use axum::body::Body;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::{Embed, EmbeddedFile};

use crate::error::AppError;

#[derive(Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../dashboard/dist/"]
#[allow_missing = true]
struct Assets;

/// Rebuilds this module when the dashboard's files change (see build.rs).
const _STAMP: &str = env!("BEACON_DASHBOARD_STAMP");

/// No inline scripts or styles, no third-party origins, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

const INDEX: &str = "index.html";
const NOT_BUILT: &str = "The dashboard is not built into this server. Build it with \
     `npm --prefix dashboard ci && npm --prefix dashboard run build`, then rebuild the host \
     (scripts/serve.sh does both). The API is served under /api/.\n";

/// Whether the dashboard's files are present (reported at start-up).
pub fn is_built() -> bool {
    Assets::get(INDEX).is_some()
}

/// The router's fallback: `/api/*` keeps the JSON 404; everything else is the dashboard.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return AppError::NotFound.into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return AppError::MethodNotAllowed.into_response();
    }
    let relative = path.trim_start_matches('/');
    if let Some(file) = Assets::get(relative).filter(|_| !relative.is_empty()) {
        let immutable = relative.starts_with("assets/");
        return file_response(relative, file, immutable, &headers);
    }
    // A missing hashed asset is a real 404: a stale tab must not get HTML for a script.
    if relative.starts_with("assets/") {
        return with_security_headers((StatusCode::NOT_FOUND, "not found\n").into_response());
    }
    match Assets::get(INDEX) {
        Some(index) => file_response(INDEX, index, false, &headers),
        None => with_security_headers(
            (
                StatusCode::NOT_FOUND,
                [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                NOT_BUILT,
            )
                .into_response(),
        ),
    }
}

fn file_response(
    _path: &str,
    file: EmbeddedFile,
    immutable: bool,
    request: &HeaderMap,
) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = request
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = file.metadata.mimetype().to_string();
        let mut response = Response::new(Body::from(file.data.into_owned()));
        if let Ok(value) = HeaderValue::from_str(&mime) {
            response.headers_mut().insert(CONTENT_TYPE, value);
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    with_security_headers(response)
}

fn with_security_headers(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}
