//! HTTP over the host's buffered `fetch` (channel senders only).
//!
//! ```no_run
//! use beacon_plugin_sdk::http::Request;
//! use beacon_plugin_sdk::{SendError, SendOutcome};
//!
//! fn deliver(url: &str, payload: &serde_json::Value) -> Result<SendOutcome, SendError> {
//!     let response = Request::post(url)
//!         .header("user-agent", "my-plugin/1.0")
//!         .json(payload)
//!         .timeout_ms(10_000)
//!         .send()?; // FetchError -> SendError (timeouts and connection errors retryable)
//!     // 2xx -> Ok(outcome); 408/425/429/5xx -> retryable (honours Retry-After);
//!     // other statuses -> permanent. Success or failure, the status, a capped
//!     // body snippet and the parsed JSON are recorded with the attempt.
//!     response.into_outcome()
//! }
//! ```
//!
//! The host enforces the outbound policy: only `http`/`https`, no userinfo,
//! no loopback/link-local/private destinations unless the operator allows
//! them, a timeout cap and body size caps. A refusal arrives as
//! [`FetchError::PolicyDenied`] and becomes a permanent [`SendError`].

pub use crate::values::{FetchError, Request, Response};

use crate::types::{response_json, snippet, SendError, SendOutcome};

// `Request`, `Response` and `FetchError` are defined in the leaf module
// `values` (so `host` can use them without importing this module back);
// these are their methods that call the host or need `types`.

impl Request {
    /// Perform the request through the host.
    pub fn send(&self) -> Result<Response, FetchError> {
        if let Some(err) = &self.build_error {
            return Err(FetchError::InvalidRequest(err.clone()));
        }
        crate::host::fetch(self)
    }
}

impl Response {
    /// How the status should be treated; see [`classify_status`].
    pub fn class(&self) -> StatusClass {
        classify_status(self.status)
    }

    /// `Retry-After` in milliseconds, when given as delay-seconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after").and_then(parse_retry_after)
    }

    /// Status, capped snippet and parsed JSON, for recording with the attempt.
    pub fn outcome(&self) -> SendOutcome {
        SendOutcome {
            http_status: Some(self.status),
            response_snippet: snippet(&self.body),
            response_json: response_json(&self.body),
        }
    }

    /// `Ok(self)` for 2xx, otherwise the matching [`SendError`]:
    /// retryable for 408/425/429/5xx (with `Retry-After`), permanent for the
    /// rest. See [`status_error`] for what the error carries.
    pub fn error_for_status(self) -> Result<Self, SendError> {
        match self.class() {
            StatusClass::Success => Ok(self),
            class => Err(status_error(
                class,
                self.status,
                &self.body,
                self.retry_after_ms(),
            )),
        }
    }

    /// [`error_for_status`](Self::error_for_status) then
    /// [`outcome`](Self::outcome): the usual end of a `send`.
    pub fn into_outcome(self) -> Result<SendOutcome, SendError> {
        self.error_for_status().map(|r| r.outcome())
    }
}

/// The error for a non-success status in class `class` (Retryable or
/// Permanent; Success is treated as Permanent here, callers filter it out).
///
/// The message is `HTTP <status>` plus the first 200 characters of the
/// trimmed body; the [`SendFailure`](crate::types::SendFailure) also holds
/// the status, the body snippet (capped at
/// [`SNIPPET_MAX_CHARS`](crate::SNIPPET_MAX_CHARS)), the compact JSON when
/// the body parses, and, for retryable errors, `retry_after_ms`.
pub fn status_error(
    class: StatusClass,
    status: u16,
    body: &[u8],
    retry_after_ms: Option<u64>,
) -> SendError {
    const SHORT: usize = 200;
    let mut text = String::from_utf8_lossy(body).trim().to_owned();
    if let Some((cut, _)) = text.char_indices().nth(SHORT) {
        text.truncate(cut);
        text.push('…');
    }
    let message = if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {text}")
    };
    let error = match class {
        StatusClass::Retryable => SendError::retryable(message).with_retry_after_ms(retry_after_ms),
        _ => SendError::permanent(message),
    };
    error.with_status(status).with_body(body)
}

/// How a response status is treated by a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// 2xx.
    Success,
    /// 408, 425, 429 and 5xx: try again later.
    Retryable,
    /// Every other status (other 4xx, unfollowed 3xx, 1xx).
    Permanent,
}

/// 2xx success; 408/425/429/5xx retryable; everything else permanent.
pub fn classify_status(status: u16) -> StatusClass {
    match status {
        200..=299 => StatusClass::Success,
        408 | 425 | 429 | 500..=599 => StatusClass::Retryable,
        _ => StatusClass::Permanent,
    }
}

/// Parse a `Retry-After` value given as delay-seconds into milliseconds.
/// HTTP-date values are not supported and give `None`.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = value.parse().unwrap_or(u64::MAX);
    Some(secs.saturating_mul(1000))
}

impl From<FetchError> for SendError {
    /// Timeouts and connection errors are retryable; policy refusals, body
    /// caps and invalid requests will not get better by retrying. No
    /// response arrived, so only the message is set (no status, snippet or
    /// JSON).
    fn from(err: FetchError) -> Self {
        if err.is_retryable() {
            SendError::retryable(err.to_string())
        } else {
            SendError::permanent(err.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use crate::types::SendFailure;

    #[test]
    fn classifier() {
        assert_eq!(classify_status(200), StatusClass::Success);
        assert_eq!(classify_status(204), StatusClass::Success);
        for s in [408, 425, 429, 500, 502, 503, 599] {
            assert_eq!(classify_status(s), StatusClass::Retryable, "{s}");
        }
        for s in [400, 401, 403, 404, 410, 413, 422, 301, 302, 100] {
            assert_eq!(classify_status(s), StatusClass::Permanent, "{s}");
        }
    }

    #[test]
    fn retry_after() {
        assert_eq!(parse_retry_after("120"), Some(120_000));
        assert_eq!(parse_retry_after(" 0 "), Some(0));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after("99999999999999999999999"), Some(u64::MAX));
    }

    #[test]
    fn error_for_status_classifies() {
        let ok = Response::new(200, b"{\"a\":1}".to_vec());
        let out = ok.into_outcome().unwrap();
        assert_eq!(out.http_status, Some(200));
        assert_eq!(out.response_json.as_deref(), Some("{\"a\":1}"));

        let e = Response::new(429, b"slow down".to_vec())
            .with_header("Retry-After", "7")
            .error_for_status()
            .unwrap_err();
        assert_eq!(
            e,
            SendError::Retryable(SendFailure {
                message: "HTTP 429: slow down".into(),
                retry_after_ms: Some(7000),
                http_status: Some(429),
                response_snippet: Some("slow down".into()),
                response_json: None,
            })
        );
        let e = Response::new(503, Vec::new())
            .error_for_status()
            .unwrap_err();
        assert_eq!(e, SendError::retryable("HTTP 503").with_status(503));
        let e = Response::new(404, b"nope".to_vec())
            .error_for_status()
            .unwrap_err();
        assert_eq!(
            e,
            SendError::permanent("HTTP 404: nope")
                .with_status(404)
                .with_snippet("nope")
        );
        let long = "x".repeat(1000);
        let e = Response::new(400, long.clone().into_bytes())
            .error_for_status()
            .unwrap_err();
        assert!(e.message().chars().count() < 220);
        // The snippet keeps the full 1024-char cap, not the message's 200.
        assert_eq!(e.failure().response_snippet.as_deref(), Some(&long[..]));
    }

    #[test]
    fn failed_responses_carry_status_snippet_and_json() {
        // Bark's answer to an unknown device key.
        let body = br#"{"code": 400, "message": "failed to get device token"}"#;
        let e = Response::new(400, body.to_vec())
            .into_outcome()
            .unwrap_err();
        assert!(!e.is_retryable());
        let f = e.failure();
        assert_eq!(f.http_status, Some(400));
        assert_eq!(
            f.response_snippet.as_deref(),
            Some(std::str::from_utf8(body).unwrap())
        );
        assert_eq!(
            f.response_json.as_deref(),
            Some(r#"{"code":400,"message":"failed to get device token"}"#)
        );
        assert_eq!(f.retry_after_ms, None);

        // A permanent status ignores Retry-After.
        let e = Response::new(404, Vec::new())
            .with_header("retry-after", "5")
            .into_outcome()
            .unwrap_err();
        assert_eq!(e.failure().retry_after_ms, None);
        assert_eq!(e.failure().response_snippet, None);

        // Snippet capped at SNIPPET_MAX_CHARS, JSON kept whole.
        let big = serde_json::json!({ "detail": "z".repeat(3000) }).to_string();
        let e = Response::new(502, big.clone().into_bytes())
            .with_header("Retry-After", "2")
            .into_outcome()
            .unwrap_err();
        let f = e.failure();
        assert!(e.is_retryable());
        assert_eq!(f.retry_after_ms, Some(2000));
        assert_eq!(f.http_status, Some(502));
        assert_eq!(
            f.response_snippet.as_ref().unwrap().chars().count(),
            crate::SNIPPET_MAX_CHARS + 1
        );
        assert_eq!(f.response_json.as_deref(), Some(&big[..]));
    }

    #[test]
    fn outcome_of_non_json() {
        let out = Response::new(200, b"plain".to_vec()).outcome();
        assert_eq!(out.response_snippet.as_deref(), Some("plain"));
        assert_eq!(out.response_json, None);
    }

    #[test]
    fn fetch_errors_map_to_send_errors() {
        assert_eq!(
            SendError::from(FetchError::Timeout),
            SendError::retryable("request timed out")
        );
        assert_eq!(
            SendError::from(FetchError::PolicyDenied("private".into())),
            SendError::permanent("refused by outbound policy: private")
        );
        assert!(SendError::from(FetchError::Timeout).is_retryable());
        assert!(SendError::from(FetchError::Connection("reset".into())).is_retryable());
        assert!(!SendError::from(FetchError::PolicyDenied("private".into())).is_retryable());
        assert!(!SendError::from(FetchError::BodyTooLarge(10)).is_retryable());
        assert!(!SendError::from(FetchError::InvalidRequest("bad".into())).is_retryable());
    }

    #[test]
    fn builder_and_mock() {
        testing::reset();
        testing::mock_fetch(|req| {
            assert_eq!(req.method, "POST");
            assert_eq!(req.header_value("Content-Type"), Some("application/json"));
            Ok(Response::new(201, req.body.clone().unwrap()))
        });
        let resp = Request::new("post", "https://example.com/x")
            .json(&serde_json::json!({"a": 1}))
            .timeout_ms(5000)
            .send()
            .unwrap();
        assert_eq!(resp.status, 201);
        assert_eq!(resp.text(), "{\"a\":1}");
        let reqs = testing::requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].timeout_ms, Some(5000));
        assert!(!reqs[0].follow_redirects);
        testing::reset();
        assert!(Request::get("https://x").send().is_err());
    }

    #[test]
    fn json_keeps_explicit_content_type_and_reports_errors() {
        let r = Request::post("u")
            .header("Content-Type", "application/vnd.x+json")
            .json(&1);
        assert_eq!(r.headers.len(), 1);
        let r = Request::post("u").set_header("a", "1").set_header("A", "2");
        assert_eq!(r.headers, vec![("A".to_string(), "2".to_string())]);

        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1u8], 1);
        let err = Request::post("u").json(&bad).send().unwrap_err();
        assert!(matches!(err, FetchError::InvalidRequest(_)));
    }
}
