//! The application error type and the one JSON error shape every API answer uses:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Invalid;
use crate::storage::StoreError;

/// The cause of an internal error, kept whole for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors raised by the use cases (auth, endpoints, ingest, messages).
/// Each variant maps to exactly one HTTP status at the API edge.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("{message}")]
    Validation { field: String, message: String },
    /// Well-formed input the server will not take, with a code naming why
    /// (e.g. a plugin upload of the wrong world).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    #[error("too many requests")]
    RateLimited { retry_after_seconds: u64 },
    /// Something failed that the client cannot fix. The cause and where it
    /// was raised go to the log once, at the edge; the client gets an opaque 500.
    #[error("internal error at {location}: {cause}")]
    Internal {
        #[source]
        cause: Cause,
        location: &'static std::panic::Location<'static>,
    },
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// An internal error raised here (the caller's location is kept).
    #[track_caller]
    pub fn internal(cause: impl Into<Cause>) -> Self {
        AppError::Internal {
            cause: cause.into(),
            location: std::panic::Location::caller(),
        }
    }

    /// The status and body a client gets for this error (an internal one stays opaque).
    pub fn describe(&self) -> (StatusCode, ErrorBody) {
        (self.status(), ErrorBody { error: self.body() })
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } | AppError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorDetail {
        let (code, field): (&str, Option<&String>) = match self {
            AppError::BadRequest { code, field, .. } => (code, field.as_ref()),
            AppError::Validation { field, .. } => ("validation_failed", Some(field)),
            AppError::Unprocessable { code, field, .. } => (code, field.as_ref()),
            AppError::Unauthorized { code, .. } => (code, None),
            AppError::Forbidden { code, field, .. } => (code, field.as_ref()),
            AppError::NotFound => ("not_found", None),
            AppError::MethodNotAllowed => ("method_not_allowed", None),
            AppError::Conflict { code, field, .. } => (code, field.as_ref()),
            AppError::PayloadTooLarge { .. } => ("payload_too_large", None),
            AppError::UnsupportedMediaType { .. } => ("unsupported_media_type", None),
            AppError::RateLimited { .. } => ("rate_limited", None),
            AppError::Internal { .. } => ("internal_error", None),
        };
        let message = match self {
            // The cause goes to the log, never to the client.
            AppError::Internal { .. } => "an internal error occurred".to_string(),
            AppError::NotFound => "the requested resource does not exist".to_string(),
            other => other.to_string(),
        };
        ErrorDetail {
            code: code.to_string(),
            message,
            field: field.cloned(),
        }
    }
}

/// `result.or_internal()?`: any failure as [`AppError::Internal`], with the
/// location of this call (a `map_err(AppError::internal)` would record a
/// line inside the standard library instead).
pub trait OrInternal<T> {
    fn or_internal(self) -> AppResult<T>;
}

impl<T, E: Into<Cause>> OrInternal<T> for Result<T, E> {
    #[track_caller]
    fn or_internal(self) -> AppResult<T> {
        match self {
            Ok(value) => Ok(value),
            Err(err) => Err(AppError::internal(err)),
        }
    }
}

impl From<StoreError> for AppError {
    /// `?` on a store call records the line of the `?`.
    #[track_caller]
    fn from(err: StoreError) -> Self {
        AppError::internal(err)
    }
}

impl From<Invalid> for AppError {
    fn from(invalid: Invalid) -> Self {
        match invalid {
            Invalid::Field { field, message } => AppError::Validation { field, message },
            Invalid::Malformed { code, message } => AppError::BadRequest {
                code,
                message,
                field: None,
            },
            Invalid::MediaType { message } => AppError::UnsupportedMediaType { message },
        }
    }
}

/// The cause and each error it wraps, outermost first, for the log.
fn chain(cause: &(dyn std::error::Error + 'static)) -> String {
    let mut text = cause.to_string();
    let mut next = cause.source();
    while let Some(inner) = next {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        next = inner.source();
    }
    text
}

/// The error envelope of every non-2xx answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `validation_failed`.
    pub code: String,
    /// Human-readable sentence.
    pub message: String,
    /// JSON path of the offending field, when one field is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal { cause, location } = &self {
            tracing::error!(error = %chain(cause.as_ref()), %location, "request failed");
        }
        let retry_after = match &self {
            AppError::RateLimited {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        };
        let mut response = (status, axum::Json(ErrorBody { error: self.body() })).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Refused;

    #[derive(Debug, thiserror::Error)]
    #[error("query failed")]
    struct QueryFailed(#[source] Refused);

    #[test]
    fn an_internal_error_keeps_where_it_was_raised_and_its_whole_cause() {
        #[rustfmt::skip]
        let (error, line) = (Err::<(), _>(QueryFailed(Refused)).or_internal(), line!());
        let AppError::Internal { cause, location } = error.expect_err("fails") else {
            panic!("not internal");
        };
        // The line of the `or_internal` call, not a line inside std.
        assert_eq!((location.file(), location.line()), (file!(), line));
        assert_eq!(chain(cause.as_ref()), "query failed: connection refused");
    }

    #[test]
    fn a_store_error_records_the_line_of_the_question_mark() {
        fn read() -> AppResult<()> {
            Err(StoreError::Stopped("writer"))?;
            Ok(())
        }
        let expected = line!() - 3;
        let AppError::Internal { location, .. } = read().expect_err("fails") else {
            panic!("not internal");
        };
        assert_eq!((location.file(), location.line()), (file!(), expected));
    }

    #[test]
    fn an_internal_error_answers_an_opaque_500() {
        let error = AppError::internal(QueryFailed(Refused));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = error.body();
        assert_eq!(body.code, "internal_error");
        assert!(!body.message.contains("refused"), "{}", body.message);
    }
}
