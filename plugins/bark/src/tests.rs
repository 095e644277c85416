use super::*;
use beacon_plugin_sdk::harness;
use beacon_plugin_sdk::http::{FetchError, Response};
use beacon_plugin_sdk::{testing, SendFailure};
use serde_json::json;

/// The parsed `response_json` of an error.
fn err_json(e: &SendError) -> Value {
    serde_json::from_str(e.failure().response_json.as_deref().expect("response_json")).unwrap()
}

fn cfg(v: Value) -> BarkConfig {
    serde_json::from_value(v).unwrap()
}

fn one_key() -> BarkConfig {
    cfg(json!({"server_base_url": "https://api.day.app/", "device_key": "KEY"}))
}

fn msg() -> Message {
    Message {
        title: Some("Disk".into()),
        ..Message::new("disk full")
    }
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Bark>(&v.to_string())
}

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    assert!(validate(json!({"server_base_url": "https://api.day.app", "device_key": "k"})).is_ok());
    assert!(validate(
        json!({"server_base_url": "http://bark.lan:8080/", "device_keys": ["a", "b"]})
    )
    .is_ok());
    assert!(validate(json!({
        "server_base_url": "https://api.day.app",
        "device_key": "k",
        "default_payload_json": {"sound": "minuet"}
    }))
    .is_ok());
    assert!(validate(json!({
        "server_base_url": "https://api.day.app",
        "device_key": "k",
        "default_payload_json": "{\"sound\": \"minuet\"}",
        "unknown_option": 1
    }))
    .is_ok());
}

#[test]
fn url_errors_name_the_field() {
    for url in [
        "",
        "api.day.app",
        "ftp://x",
        "https://u:p@x",
        "https://x/?a=1",
    ] {
        let e = validate(json!({"server_base_url": url, "device_key": "k"})).unwrap_err();
        assert_eq!(e.field, "server_base_url", "{url}: {e:?}");
    }
    let e = validate(json!({"device_key": "k"})).unwrap_err();
    assert_eq!(e.field, "server_base_url");
    let e = validate(json!({"server_base_url": 3, "device_key": "k"})).unwrap_err();
    assert_eq!(e.field, "server_base_url");
}

#[test]
fn device_key_errors_name_the_field() {
    let base = "https://api.day.app";
    let e = validate(json!({"server_base_url": base})).unwrap_err();
    assert_eq!(e.field, "device_key");
    let e = validate(json!({"server_base_url": base, "device_key": "  "})).unwrap_err();
    assert_eq!(e.field, "device_key");
    let e = validate(json!({"server_base_url": base, "device_keys": []})).unwrap_err();
    assert_eq!(e.field, "device_keys");
    let e = validate(json!({"server_base_url": base, "device_keys": ["a", ""]})).unwrap_err();
    assert_eq!(e.field, "device_keys[1]");
    let e = validate(json!({"server_base_url": base, "device_keys": ["a", 2]})).unwrap_err();
    assert_eq!(e.field, "device_keys[1]");
    let e = validate(json!({"server_base_url": base, "device_key": "a", "device_keys": ["b"]}))
        .unwrap_err();
    assert_eq!(e.field, "device_keys");
}

#[test]
fn default_payload_errors_name_the_field() {
    let base = "https://api.day.app";
    for bad in [json!("not json"), json!("[1]"), json!(5), json!([1])] {
        let e = validate(
            json!({"server_base_url": base, "device_key": "k", "default_payload_json": bad}),
        )
        .unwrap_err();
        assert_eq!(e.field, "default_payload_json", "{e:?}");
    }
}

#[test]
fn describe_marks_secrets() {
    let info = harness::channel_describe::<Bark>();
    assert_eq!(info.id, "bark");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["properties"]["device_key"]["x-secret"], true);
    assert_eq!(schema["properties"]["device_keys"]["x-secret"], true);
    assert!(schema["properties"]["server_base_url"]
        .get("x-secret")
        .is_none());
    assert_eq!(schema["required"], json!(["server_base_url"]));
}

// ---- payload --------------------------------------------------------------

#[test]
fn template_wins_over_defaults_and_defaults_fill_gaps() {
    let mut c = one_key();
    c.default_payload_json = Some(json!({"sound": "minuet", "group": "ops", "level": "passive"}));
    let p = build_payload(
        &c,
        r#"{"body": "B", "level": "critical", "volume": "5"}"#,
        &msg(),
    )
    .unwrap();
    assert_eq!(p["body"], "B");
    assert_eq!(p["level"], "critical");
    assert_eq!(p["volume"], "5");
    assert_eq!(p["sound"], "minuet");
    assert_eq!(p["group"], "ops");
    assert_eq!(p["device_key"], "KEY");
}

#[test]
fn defaults_as_json_string() {
    let mut c = one_key();
    c.default_payload_json = Some(json!("{\"icon\": \"https://x/i.png\"}"));
    let p = build_payload(&c, "{}", &msg()).unwrap();
    assert_eq!(p["icon"], "https://x/i.png");
}

#[test]
fn channel_device_keys_override_template_and_defaults() {
    let mut c = one_key();
    c.default_payload_json = Some(json!({"device_key": "DEFAULT", "device_keys": ["D"]}));
    let p = build_payload(
        &c,
        r#"{"device_key": "TEMPLATE", "device_keys": ["T"]}"#,
        &msg(),
    )
    .unwrap();
    assert_eq!(p["device_key"], "KEY");
    assert!(p.get("device_keys").is_none());

    let c = cfg(json!({"server_base_url": "https://x", "device_keys": ["a", " b "]}));
    let p = build_payload(&c, r#"{"device_key": "TEMPLATE"}"#, &msg()).unwrap();
    assert_eq!(p["device_keys"], json!(["a", "b"]));
    assert!(p.get("device_key").is_none());
}

#[test]
fn body_and_title_fallbacks() {
    let c = one_key();
    // Neither set: both from the message.
    let p = build_payload(&c, "{}", &msg()).unwrap();
    assert_eq!(p["body"], "disk full");
    assert_eq!(p["title"], "Disk");
    // Empty-rendered and null values count as absent.
    let p = build_payload(&c, r#"{"body": "", "title": null}"#, &msg()).unwrap();
    assert_eq!(p["body"], "disk full");
    assert_eq!(p["title"], "Disk");
    // Template values kept.
    let p = build_payload(&c, r#"{"body": "b", "title": "t"}"#, &msg()).unwrap();
    assert_eq!(p["body"], "b");
    assert_eq!(p["title"], "t");
    // No message title: no title key added.
    let p = build_payload(&c, "{}", &Message::new("x")).unwrap();
    assert!(p.get("title").is_none());
    // Defaults may provide the title.
    let mut c2 = one_key();
    c2.default_payload_json = Some(json!({"title": "From defaults"}));
    let p = build_payload(&c2, "{}", &msg()).unwrap();
    assert_eq!(p["title"], "From defaults");
}

#[test]
fn bark_fields_and_unknown_keys_pass_through() {
    let template = json!({
        "title": "t", "subtitle": "s", "body": "b", "level": "timeSensitive", "volume": "3",
        "badge": 1, "call": "1", "autoCopy": "1", "copy": "c", "sound": "bell", "icon": "i",
        "group": "g", "ciphertext": "x", "isArchive": "1", "url": "https://e", "action": "none",
        "someFutureField": {"nested": true}
    });
    let p = build_payload(&one_key(), &template.to_string(), &msg()).unwrap();
    for (k, v) in template.as_object().unwrap() {
        assert_eq!(&p[k], v, "{k}");
    }
}

#[test]
fn bad_templates_are_permanent() {
    let e = build_payload(&one_key(), "[1,2]", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    let e = build_payload(&one_key(), "{nope", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    // Empty rendering is treated as {}.
    assert!(build_payload(&one_key(), "  ", &msg()).is_ok());
}

// ---- responses ------------------------------------------------------------

#[test]
fn success_response() {
    let body = br#"{"code":200,"message":"success","timestamp":1700000000}"#;
    let out = classify_response(200, body, None, None).unwrap();
    assert_eq!(out.http_status, Some(200));
    assert_eq!(
        out.response_snippet.as_deref(),
        Some(std::str::from_utf8(body).unwrap())
    );
    let parsed: Value = serde_json::from_str(out.response_json.as_deref().unwrap()).unwrap();
    assert_eq!(parsed["code"], 200);
}

#[test]
fn unknown_device_key_is_permanent() {
    let body = br#"{"code":400,"message":"failed to get device token: failed to get [x] device token from database","timestamp":1}"#;
    let e = classify_response(400, body, None, None).unwrap_err();
    assert!(
        matches!(e, SendError::Permanent(ref f) if f.message.contains("HTTP 400") && f.message.contains("device token")),
        "{e:?}"
    );
    // The failed attempt keeps the status, the snippet and the parsed JSON.
    let f = e.failure();
    assert_eq!(f.http_status, Some(400));
    assert_eq!(
        f.response_snippet.as_deref(),
        Some(std::str::from_utf8(body).unwrap())
    );
    assert_eq!(err_json(&e)["code"], 400);
    assert_eq!(
        err_json(&e)["message"],
        "failed to get device token: failed to get [x] device token from database"
    );
    assert_eq!(f.retry_after_ms, None);

    // Same code in a 200 envelope.
    let e = classify_response(200, body, Some(5000), None).unwrap_err();
    assert!(
        matches!(e, SendError::Permanent(ref f) if f.message.contains("code 400")),
        "{e:?}"
    );
    let f = e.failure();
    assert_eq!(f.http_status, Some(200));
    assert_eq!(
        f.response_snippet.as_deref(),
        Some(std::str::from_utf8(body).unwrap())
    );
    assert_eq!(err_json(&e)["code"], 400);
    assert_eq!(f.retry_after_ms, None, "permanent: no retry-after");
}

#[test]
fn long_error_bodies_are_capped_in_the_snippet_only() {
    let body = json!({"code": 400, "message": "x".repeat(5000)}).to_string();
    for status in [200, 400] {
        let e = classify_response(status, body.as_bytes(), None, None).unwrap_err();
        let f = e.failure();
        assert_eq!(f.http_status, Some(status));
        let snippet = f.response_snippet.as_deref().unwrap();
        assert_eq!(
            snippet.chars().count(),
            beacon_plugin_sdk::SNIPPET_MAX_CHARS + 1
        );
        assert!(snippet.ends_with('…'));
        assert_eq!(f.response_json.as_deref(), Some(&body[..]));
    }
}

#[test]
fn server_errors_and_rate_limits_are_retryable() {
    let e =
        classify_response(500, br#"{"code":500,"message":"push failed"}"#, None, None).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().http_status, Some(500));
    assert_eq!(
        e.failure().response_json.as_deref(),
        Some(r#"{"code":500,"message":"push failed"}"#)
    );
    let e = classify_response(503, b"", None, None).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e, SendError::retryable("HTTP 503").with_status(503));
    let e = classify_response(429, b"slow", Some(30_000), None).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "HTTP 429: slow".into(),
            retry_after_ms: Some(30_000),
            http_status: Some(429),
            response_snippet: Some("slow".into()),
            response_json: None,
        })
    );
    let e =
        classify_response(200, br#"{"code":500,"message":"apns down"}"#, None, None).unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(e.failure().http_status, Some(200));
    assert_eq!(err_json(&e)["message"], "apns down");
    let e = classify_response(200, br#"{"code":429,"message":"x"}"#, Some(1000), None).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "Bark error code 429: x".into(),
            retry_after_ms: Some(1000),
            http_status: Some(200),
            response_snippet: Some(r#"{"code":429,"message":"x"}"#.into()),
            response_json: Some(r#"{"code":429,"message":"x"}"#.into()),
        })
    );
}

#[test]
fn odd_success_bodies_fail_permanently() {
    let e = classify_response(200, b"<html>proxy</html>", None, None).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e,
        SendError::Permanent(SendFailure {
            message: "HTTP 200 but the response is not Bark JSON: <html>proxy</html>".into(),
            retry_after_ms: None,
            http_status: Some(200),
            response_snippet: Some("<html>proxy</html>".into()),
            response_json: None,
        })
    );
    let e = classify_response(204, b"", None, None).unwrap_err();
    assert!(e.message().contains("(empty body)"), "{e:?}");
    assert_eq!(e.failure().http_status, Some(204));
    assert_eq!(e.failure().response_snippet, None);
    let e = classify_response(200, br#"{"ok": true}"#, None, None).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(200));
    assert_eq!(
        e.failure().response_snippet.as_deref(),
        Some(r#"{"ok": true}"#)
    );
    assert_eq!(e.failure().response_json.as_deref(), Some(r#"{"ok":true}"#));
    let e = classify_response(301, b"", None, Some("https://new")).unwrap_err();
    assert!(
        matches!(e, SendError::Permanent(ref f) if f.message.contains("https://new")),
        "{e:?}"
    );
    assert_eq!(e.failure().http_status, Some(301));
    let e = classify_response(404, b"not found", None, None).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(404));
    assert_eq!(e.failure().response_snippet.as_deref(), Some("not found"));
    assert_eq!(e.failure().response_json, None);
}

// ---- end to end through the SDK harness ------------------------------------

#[test]
fn send_posts_to_push_endpoint() {
    testing::reset();
    testing::mock_fetch(|_| {
        Ok(Response::new(
            200,
            br#"{"code":200,"message":"success","timestamp":1}"#.to_vec(),
        ))
    });
    let config =
        json!({"server_base_url": "https://api.day.app/", "device_key": "KEY"}).to_string();
    let out = harness::channel_send::<Bark>(&config, r#"{"level":"active"}"#, &msg()).unwrap();
    assert_eq!(out.http_status, Some(200));
    let reqs = testing::requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].url, "https://api.day.app/push");
    assert!(reqs[0]
        .header_value("content-type")
        .unwrap()
        .starts_with("application/json"));
    let sent: Value = serde_json::from_slice(reqs[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"level": "active", "device_key": "KEY", "body": "disk full", "title": "Disk"})
    );
    // The device key never reaches the log.
    assert!(testing::take_logs()
        .iter()
        .all(|(_, line)| !line.contains("KEY")));
    testing::reset();
}

#[test]
fn send_maps_transport_failures() {
    let config = one_key_json();
    testing::reset();
    testing::mock_fetch(|_| Err(FetchError::Timeout));
    assert!(harness::channel_send::<Bark>(&config, "{}", &msg())
        .unwrap_err()
        .is_retryable());
    testing::mock_fetch(|_| Err(FetchError::Connection("refused".into())));
    assert!(harness::channel_send::<Bark>(&config, "{}", &msg())
        .unwrap_err()
        .is_retryable());
    testing::mock_fetch(|_| Err(FetchError::PolicyDenied("10.0.0.1 is private".into())));
    let e = harness::channel_send::<Bark>(&config, "{}", &msg()).unwrap_err();
    assert!(matches!(e, SendError::Permanent(ref f) if f.message.contains("private")));
    // No response arrived: nothing but the message.
    assert_eq!(e.failure().http_status, None);
    assert_eq!(e.failure().response_snippet, None);
    testing::mock_fetch(|_| Ok(Response::new(503, Vec::new()).with_header("retry-after", "12")));
    let e = harness::channel_send::<Bark>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "HTTP 503".into(),
            retry_after_ms: Some(12_000),
            http_status: Some(503),
            response_snippet: None,
            response_json: None,
        })
    );
    testing::reset();
}

#[test]
fn send_failure_keeps_the_bark_answer() {
    testing::reset();
    testing::mock_fetch(|_| {
        Ok(Response::new(
            400,
            br#"{"code":400,"message":"failed to get device token","timestamp":1}"#.to_vec(),
        )
        .with_header("content-type", "application/json"))
    });
    let e = harness::channel_send::<Bark>(&one_key_json(), "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e.into_failure(),
        SendFailure {
            message:
                r#"HTTP 400: {"code":400,"message":"failed to get device token","timestamp":1}"#
                    .into(),
            retry_after_ms: None,
            http_status: Some(400),
            response_snippet: Some(
                r#"{"code":400,"message":"failed to get device token","timestamp":1}"#.into()
            ),
            response_json: Some(
                r#"{"code":400,"message":"failed to get device token","timestamp":1}"#.into()
            ),
        }
    );
    testing::reset();
}

#[test]
fn send_with_invalid_config_is_permanent_and_does_not_fetch() {
    testing::reset();
    let e = harness::channel_send::<Bark>(r#"{"server_base_url":"https://x"}"#, "{}", &msg())
        .unwrap_err();
    assert!(matches!(e, SendError::Permanent(ref f) if f.message.contains("device_key")));
    assert_eq!(e.failure().http_status, None);
    assert!(testing::requests().is_empty());
}

fn one_key_json() -> String {
    json!({"server_base_url": "https://api.day.app", "device_key": "KEY"}).to_string()
}
