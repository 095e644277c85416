//! Request extractors that turn every rejection into the one JSON error shape.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::error::AppError;
use crate::storage::UserRow;

/// Largest JSON body the management API accepts (ingest has its own limit).
const MAX_API_BODY_BYTES: usize = 256 * 1024;

/// A JSON body whose errors name the offending field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
        if !is_json {
            return Err(AppError::UnsupportedMediaType {
                message: "send the body as application/json".into(),
            });
        }
        let bytes = match axum::body::to_bytes(req.into_body(), MAX_API_BODY_BYTES).await {
            Ok(bytes) => bytes,
            Err(err) if is_length_limit(&err) => {
                return Err(AppError::PayloadTooLarge {
                    limit: MAX_API_BODY_BYTES,
                })
            }
            Err(_) => {
                return Err(AppError::bad_request(
                    "unreadable_body",
                    "the request body could not be read",
                ))
            }
        };
        refuse_nul(&bytes)?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A JSON string can carry U+0000 only as the escape `\u0000`; only when the
/// raw text has one is the body walked to name the field (see
/// [`crate::domain::payload::nul_path`]).
fn refuse_nul(bytes: &[u8]) -> Result<(), AppError> {
    if !has_nul_escape(bytes) {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(object)) => match crate::domain::payload::nul_path(&object) {
            Some(field) => Err(crate::domain::payload::nul_error(&field).into()),
            None => Ok(()),
        },
        // Not an object, or not JSON: the typed parse reports it.
        _ => Ok(()),
    }
}

/// True when the text holds `\u0000` whose backslash is not itself escaped.
fn has_nul_escape(bytes: &[u8]) -> bool {
    bytes.windows(6).enumerate().any(|(at, window)| {
        window.eq_ignore_ascii_case(b"\\u0000")
            && bytes[..at]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count()
                % 2
                == 0
    })
}

/// Deserializes JSON: syntax errors are 400, shape errors 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return AppError::bad_request(
                "malformed_json",
                format!("the request body is not valid JSON: {inner}"),
            );
        }
        let message = inner.to_string();
        let field = if path.is_empty() || path == "." {
            quoted_field(&message).unwrap_or_else(|| "$".to_string())
        } else {
            path
        };
        AppError::validation(field, strip_position(&message))
    })?;
    deserializer.end().map_err(|err| {
        AppError::bad_request(
            "malformed_json",
            format!("trailing characters after JSON: {err}"),
        )
    })?;
    Ok(value)
}

/// serde names missing/unknown fields in backticks: "missing field `email`".
fn quoted_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// Query parameters whose errors name the offending parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let field = if path.is_empty() || path == "." {
                    quoted_field(&message).unwrap_or_else(|| "query".into())
                } else {
                    path
                };
                AppError::validation(field, message)
            })
    }
}

/// The logged-in user, from `Authorization: Bearer <access token>`.
pub struct CurrentUser(pub UserRow);

impl FromRequestParts<App> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &App) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::Unauthorized {
                code: "missing_token",
                message: "send Authorization: Bearer <access token>".into(),
            })?;
        Ok(CurrentUser(state.accounts.authenticate(token).await?))
    }
}

/// The logged-in user when an operator; any other user answers 403.
pub struct CurrentOperator(pub UserRow);

impl FromRequestParts<App> for CurrentOperator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &App) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) =
            <CurrentUser as FromRequestParts<App>>::from_request_parts(parts, state).await?;
        if user.is_operator() {
            Ok(CurrentOperator(user))
        } else {
            Err(AppError::Forbidden {
                code: "operators_only",
                message: "only an operator may do this (beacon user promote EMAIL)".into(),
                field: None,
            })
        }
    }
}

/// `Option<CurrentUser>`: `None` without an `Authorization` header, an error for a bad one.
impl axum::extract::OptionalFromRequestParts<App> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &App,
    ) -> Result<Option<Self>, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(None);
        }
        <CurrentUser as FromRequestParts<App>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

impl CurrentUser {
    /// Creating resources needs a verified address (SPEC §4).
    pub fn require_verified(&self) -> Result<&UserRow, AppError> {
        if self.0.email_verified_at.is_none() {
            return Err(AppError::Forbidden {
                code: "email_not_verified",
                message: "verify your e-mail address before creating endpoints, channels or rules"
                    .into(),
                field: None,
            });
        }
        Ok(&self.0)
    }
}

/// The client's address: the peer, or for a trusted proxy the last untrusted
/// hop of `X-Forwarded-For`.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<App> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &App) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| AppError::internal("server started without connection info"))?;
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !is_trusted(hop))
        .unwrap_or(peer)
}

/// The value of a named cookie from the request.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escapes_are_found_but_escaped_backslashes_are_not() {
        assert!(has_nul_escape(br#"{"name":"a\u0000b"}"#));
        assert!(has_nul_escape(br#"{"name":"\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"name":"\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"name":"u0000"}"#));
        assert!(refuse_nul(br#"{"config":{"keys":["ok","x\u0000"]}}"#).is_err());
        assert!(refuse_nul(br#"{"name":"\\u0000 is fine"}"#).is_ok());
    }
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Sample {
        email: String,
        count: u32,
    }

    #[test]
    fn json_errors_name_fields() {
        let missing = parse_json::<Sample>(br#"{"count":1}"#).expect_err("missing");
        assert!(
            matches!(missing, AppError::Validation { ref field, .. } if field == "email"),
            "{missing:?}"
        );
        let wrong = parse_json::<Sample>(br#"{"email":"a","count":"x"}"#).expect_err("type");
        assert!(
            matches!(wrong, AppError::Validation { ref field, .. } if field == "count"),
            "{wrong:?}"
        );
        let bad = parse_json::<Sample>(b"{").expect_err("syntax");
        assert!(matches!(
            bad,
            AppError::BadRequest {
                code: "malformed_json",
                ..
            }
        ));
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 10.1.1.1".parse().expect("header"),
        );
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let stranger: IpAddr = "198.51.100.1".parse().expect("ip");
        assert_eq!(
            client_ip(proxy, &headers, &trusted).to_string(),
            "203.0.113.9"
        );
        assert_eq!(client_ip(stranger, &headers, &trusted), stranger);
    }
}
