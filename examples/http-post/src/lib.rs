//! Example channel plugin: a plain, UNSIGNED JSON HTTP POST.
//!
//! Sends the rule's rendered payload template, unchanged, as the JSON body of
//! a `POST` (or `PUT`) to the configured URL, with optional extra headers
//! (marked secret: they usually carry tokens). When the rule has no template
//! (it renders to nothing or to `{}`), a default JSON object describing the
//! message is sent instead.
//!
//! This is a starting point for plugin authors, built only against
//! `beacon-plugin-sdk`; see `../README.md`. It does not sign its requests:
//! the built-in `webhook` plugin (`plugins/webhook` in the repository) sends
//! Standard Webhooks signatures and is what operators should use for
//! webhooks.

use beacon_plugin_sdk::config::{check_http_url, secret};
use beacon_plugin_sdk::http::Request;
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// HTTP method used for the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `POST` (default).
    #[default]
    Post,
    /// `PUT`.
    Put,
}

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpPostConfig {
    /// Absolute http(s) URL to call.
    pub url: String,
    /// `POST` (default) or `PUT`.
    #[serde(default)]
    pub method: Method,
    /// Extra request headers, e.g. `{"Authorization": "Bearer …"}`.
    #[serde(default)]
    #[schemars(transform = secret)]
    pub headers: BTreeMap<String, String>,
    /// Request timeout in milliseconds (the host caps it).
    #[serde(default)]
    #[schemars(range(min = 100, max = 120000))]
    pub timeout_ms: Option<u32>,
}

/// Header names the plugin does not let a config set.
const RESERVED_HEADERS: &[&str] = &["host", "content-length", "transfer-encoding", "connection"];

/// Config checks beyond the JSON shape.
pub fn validate_config(config: &HttpPostConfig) -> Result<(), ConfigError> {
    check_http_url("url", &config.url)?;
    for (name, value) in &config.headers {
        let field = format!("headers.{name}");
        let is_token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !is_token {
            return Err(ConfigError::new(field, "is not a valid header name"));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(ConfigError::new(
                field,
                "is set by the host and cannot be overridden",
            ));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(ConfigError::new(field, "must not contain line breaks"));
        }
    }
    if let Some(ms) = config.timeout_ms {
        if !(100..=120_000).contains(&ms) {
            return Err(ConfigError::new(
                "timeout_ms",
                "must be between 100 and 120000",
            ));
        }
    }
    Ok(())
}

/// The JSON body to send: the rendered template, or a description of the
/// message when the rule has no template (it rendered to nothing or `{}`).
pub fn body_for(payload_json: &str, message: &Message) -> Result<Value, SendError> {
    let template: Value = if payload_json.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(payload_json).map_err(|e| {
            SendError::permanent(format!(
                "the payload template did not render to valid JSON: {e}"
            ))
        })?
    };
    if template != json!({}) {
        return Ok(template);
    }
    Ok(json!({
        "id": message.id,
        "received_at": message.received_at,
        "title": message.title,
        "body": message.body,
        "group": message.group,
        "priority": message.priority,
        "tags": message.tags,
        "url": message.url,
        "extras": message.extras.iter().cloned().collect::<BTreeMap<_, _>>(),
        "endpoint": {"id": message.endpoint_id, "name": message.endpoint_name},
    }))
}

/// Build the request (pure; `send` only adds the network call).
pub fn build_request(config: &HttpPostConfig, body: &Value) -> Request {
    let method = match config.method {
        Method::Post => "POST",
        Method::Put => "PUT",
    };
    let mut request = Request::new(method, config.url.clone()).header(
        "user-agent",
        concat!("beacon-http-post-example/", env!("CARGO_PKG_VERSION")),
    );
    for (name, value) in &config.headers {
        request = request.set_header(name.clone(), value.clone());
    }
    if let Some(ms) = config.timeout_ms {
        request = request.timeout_ms(ms);
    }
    request.json(body)
}

/// The plugin.
pub struct HttpPost;

impl Channel for HttpPost {
    type Config = HttpPostConfig;
    const ID: &'static str = "http-post";
    const NAME: &'static str = "HTTP POST (example)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Example plugin: POSTs the rule's rendered payload as JSON to a URL (unsigned).";

    fn validate(config: &HttpPostConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: HttpPostConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let body = body_for(payload_json, message)?;
        debug!("http-post call for message {}", message.id);
        // Transport errors: timeouts/connection retryable, policy refusals
        // permanent. Status: 2xx ok, 408/425/429/5xx retryable, rest permanent.
        // Success or failure, the status, a capped body snippet and the
        // parsed JSON are recorded with the attempt.
        build_request(&config, &body).send()?.into_outcome()
    }
}

export_channel!(HttpPost);

#[cfg(test)]
mod tests {
    use super::*;
    use beacon_plugin_sdk::harness;
    use beacon_plugin_sdk::http::{FetchError, Response};
    use beacon_plugin_sdk::{testing, SendFailure};

    fn validate(v: Value) -> Result<(), ConfigError> {
        harness::channel_validate_config::<HttpPost>(&v.to_string())
    }

    #[test]
    fn config_validation_names_fields() {
        assert!(validate(json!({"url": "https://hooks.example.com/x"})).is_ok());
        assert!(validate(json!({"url": "https://h/x", "method": "PUT", "headers": {"X-Token": "t"}, "timeout_ms": 5000})).is_ok());
        assert_eq!(validate(json!({})).unwrap_err().field, "url");
        assert_eq!(
            validate(json!({"url": "file:///etc"})).unwrap_err().field,
            "url"
        );
        assert_eq!(
            validate(json!({"url": "https://h", "method": "GET"}))
                .unwrap_err()
                .field,
            "method"
        );
        assert_eq!(
            validate(json!({"url": "https://h", "headers": {"bad name": "x"}}))
                .unwrap_err()
                .field,
            "headers.bad name"
        );
        assert_eq!(
            validate(json!({"url": "https://h", "headers": {"Host": "x"}}))
                .unwrap_err()
                .field,
            "headers.Host"
        );
        assert_eq!(
            validate(json!({"url": "https://h", "headers": {"X-A": "a\r\nb"}}))
                .unwrap_err()
                .field,
            "headers.X-A"
        );
        assert_eq!(
            validate(json!({"url": "https://h", "timeout_ms": 5}))
                .unwrap_err()
                .field,
            "timeout_ms"
        );
        assert_eq!(
            validate(json!({"url": "https://h", "extra": 1}))
                .unwrap_err()
                .field,
            "extra"
        );
    }

    #[test]
    fn schema_marks_headers_secret() {
        let info = harness::channel_describe::<HttpPost>();
        assert_eq!(info.id, "http-post");
        assert_eq!(info.name, "HTTP POST (example)");
        let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
        assert_eq!(schema["properties"]["headers"]["x-secret"], true);
        assert_eq!(schema["properties"]["headers"]["writeOnly"], true);
    }

    #[test]
    fn body_is_template_or_message_summary() {
        let m = Message::new("hello");
        assert_eq!(
            body_for(r#"{"text":"hi"}"#, &m).unwrap(),
            json!({"text": "hi"})
        );
        assert_eq!(
            body_for(r#""just a string""#, &m).unwrap(),
            json!("just a string")
        );
        let summary = body_for("", &m).unwrap();
        assert_eq!(summary["body"], "hello");
        assert_eq!(summary["priority"], 3);
        // `{}` is what the host passes when the rule has no template.
        assert_eq!(body_for(" { } ", &m).unwrap(), summary);
        assert!(!body_for("{oops", &m).unwrap_err().is_retryable());
    }

    #[test]
    fn request_shape() {
        let config: HttpPostConfig = serde_json::from_value(json!({
            "url": "https://h/x", "method": "PUT",
            "headers": {"Content-Type": "application/cloudevents+json", "Authorization": "Bearer s"},
            "timeout_ms": 3000
        }))
        .unwrap();
        let r = build_request(&config, &json!({"a": 1}));
        assert_eq!(r.method, "PUT");
        assert_eq!(r.url, "https://h/x");
        assert_eq!(r.timeout_ms, Some(3000));
        assert_eq!(
            r.header_value("content-type"),
            Some("application/cloudevents+json")
        );
        assert_eq!(r.header_value("authorization"), Some("Bearer s"));
        assert_eq!(r.body.as_deref(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn send_outcomes() {
        let config = json!({"url": "https://h/x"}).to_string();
        let m = Message::new("hello");
        testing::reset();
        testing::mock_fetch(|req| {
            assert_eq!(req.header_value("content-type"), Some("application/json"));
            Ok(Response::new(202, br#"{"accepted":true}"#.to_vec()))
        });
        let out = harness::channel_send::<HttpPost>(&config, r#"{"x":1}"#, &m).unwrap();
        assert_eq!(out.http_status, Some(202));
        assert_eq!(out.response_json.as_deref(), Some(r#"{"accepted":true}"#));

        testing::mock_fetch(|_| Ok(Response::new(410, b"gone".to_vec())));
        let e = harness::channel_send::<HttpPost>(&config, "{}", &m).unwrap_err();
        assert_eq!(
            e,
            SendError::permanent("HTTP 410: gone")
                .with_status(410)
                .with_snippet("gone")
        );

        testing::mock_fetch(|_| Ok(Response::new(429, Vec::new()).with_header("Retry-After", "3")));
        let e = harness::channel_send::<HttpPost>(&config, "{}", &m).unwrap_err();
        assert_eq!(
            e,
            SendError::Retryable(SendFailure {
                message: "HTTP 429".into(),
                retry_after_ms: Some(3000),
                http_status: Some(429),
                response_snippet: None,
                response_json: None,
            })
        );

        testing::mock_fetch(|_| Err(FetchError::Timeout));
        let e = harness::channel_send::<HttpPost>(&config, "{}", &m).unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(e.failure().http_status, None);
        testing::reset();
    }

    #[test]
    fn failed_sends_record_status_snippet_and_json() {
        let config = json!({"url": "https://h/x"}).to_string();
        let m = Message::new("hello");
        testing::reset();

        // A JSON error answer: status, snippet and compact JSON are kept.
        testing::mock_fetch(|_| {
            Ok(Response::new(
                422,
                br#"{ "error": "invalid_payload", "field": "text" }"#.to_vec(),
            ))
        });
        let e = harness::channel_send::<HttpPost>(&config, "{}", &m).unwrap_err();
        assert!(!e.is_retryable());
        assert_eq!(
            e.into_failure(),
            SendFailure {
                message: r#"HTTP 422: { "error": "invalid_payload", "field": "text" }"#.into(),
                retry_after_ms: None,
                http_status: Some(422),
                response_snippet: Some(r#"{ "error": "invalid_payload", "field": "text" }"#.into()),
                response_json: Some(r#"{"error":"invalid_payload","field":"text"}"#.into()),
            }
        );

        // A long non-JSON 5xx page: retryable, snippet capped, no JSON.
        testing::mock_fetch(|_| Ok(Response::new(502, "<p>bad gateway</p>".repeat(200))));
        let e = harness::channel_send::<HttpPost>(&config, "{}", &m).unwrap_err();
        assert!(e.is_retryable());
        let f = e.failure();
        assert_eq!(f.http_status, Some(502));
        assert_eq!(
            f.response_snippet.as_ref().unwrap().chars().count(),
            beacon_plugin_sdk::SNIPPET_MAX_CHARS + 1
        );
        assert_eq!(f.response_json, None);
        assert_eq!(f.retry_after_ms, None);
        testing::reset();
    }
}
