//! The application error type and the one JSON error shape every API answer uses:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::storage::StoreError;

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
    #[error("internal error: {0}")]
    Internal(String),
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

    pub fn internal(err: impl std::fmt::Display) -> Self {
        AppError::Internal(err.to_string())
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorDetail {
        let (code, field): (&str, Option<&String>) = match self {
            AppError::BadRequest { code, field, .. } => (code, field.as_ref()),
            AppError::Validation { field, .. } => ("validation_failed", Some(field)),
            AppError::Unauthorized { code, .. } => (code, None),
            AppError::Forbidden { code, field, .. } => (code, field.as_ref()),
            AppError::NotFound => ("not_found", None),
            AppError::MethodNotAllowed => ("method_not_allowed", None),
            AppError::Conflict { code, field, .. } => (code, field.as_ref()),
            AppError::PayloadTooLarge { .. } => ("payload_too_large", None),
            AppError::UnsupportedMediaType { .. } => ("unsupported_media_type", None),
            AppError::RateLimited { .. } => ("rate_limited", None),
            AppError::Internal(_) => ("internal_error", None),
        };
        let message = match self {
            // The cause goes to the log, never to the client.
            AppError::Internal(_) => "an internal error occurred".to_string(),
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

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        AppError::Internal(err.to_string())
    }
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
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
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
