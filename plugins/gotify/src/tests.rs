use super::*;
use beacon_plugin_sdk::harness;
use beacon_plugin_sdk::http::{FetchError, Response};
use beacon_plugin_sdk::{testing, SendFailure};
use serde_json::json;

/// Gotify's answer to a created message.
const CREATED: &[u8] = br#"{"id":25,"appid":5,"message":"disk full","title":"Disk","priority":8,"date":"2026-01-01T00:00:00.5045044+01:00"}"#;

/// Gotify's answer to a wrong or missing token.
const UNAUTHORIZED: &[u8] = br#"{"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide a valid access token or user credentials to access this api"}"#;

fn cfg(v: Value) -> GotifyConfig {
    serde_json::from_value(v).unwrap()
}

fn base() -> GotifyConfig {
    cfg(json!({"server_url": "https://gotify.example.com/", "app_token": "AbCdEf123456789"}))
}

fn msg() -> Message {
    Message {
        title: Some("Disk".into()),
        priority: 4,
        url: Some("https://example.com/disk".into()),
        ..Message::new("disk full")
    }
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Gotify>(&v.to_string())
}

fn body(config: &GotifyConfig, template: Value, message: &Message) -> Value {
    Value::Object(build_body(config, &template.to_string(), message).unwrap())
}

fn body_err(template: Value) -> SendError {
    build_body(&base(), &template.to_string(), &msg()).unwrap_err()
}

fn compact(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body).unwrap().to_string()
}

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    for ok in [
        json!({"server_url": "https://gotify.example.com", "app_token": "AbCdEf123456789"}),
        json!({"server_url": "http://gotify.lan:8080/", "app_token": "A"}),
        json!({"server_url": "https://example.com/gotify", "app_token": "A", "default_priority": 0}),
        json!({"server_url": "https://example.com/gotify/", "app_token": "A", "default_priority": 10, "markdown": true}),
        json!({"server_url": "https://example.com", "app_token": "A", "default_priority": null, "markdown": null}),
    ] {
        assert!(
            validate(ok.clone()).is_ok(),
            "{ok}: {:?}",
            validate(ok.clone())
        );
    }
}

#[test]
fn server_url_errors_name_the_field() {
    for url in [
        "",
        "gotify.example.com",
        "ftp://gotify.example.com",
        "https://user:pw@gotify.example.com",
        "https://gotify.example.com/?token=AbC",
        "https://gotify.example.com/message",
        "https://example.com/gotify/message/",
        "https://gotify.example.com/#x",
    ] {
        let e = validate(json!({"server_url": url, "app_token": "A"})).unwrap_err();
        assert_eq!(e.field, "server_url", "{url}: {e:?}");
    }
    let e = validate(json!({"app_token": "A"})).unwrap_err();
    assert_eq!(e.field, "server_url");
}

#[test]
fn token_and_option_errors_name_the_field() {
    let url = "https://gotify.example.com";
    let cases = [
        (json!({"server_url": url}), "app_token"),
        (json!({"server_url": url, "app_token": ""}), "app_token"),
        (json!({"server_url": url, "app_token": "  "}), "app_token"),
        (
            json!({"server_url": url, "app_token": "Ab Cd"}),
            "app_token",
        ),
        (
            json!({"server_url": url, "app_token": "Ab\r\nX-Evil: 1"}),
            "app_token",
        ),
        (json!({"server_url": url, "app_token": 5}), "app_token"),
        (
            json!({"server_url": url, "app_token": "A", "default_priority": 11}),
            "default_priority",
        ),
        (
            json!({"server_url": url, "app_token": "A", "default_priority": -1}),
            "default_priority",
        ),
        (
            json!({"server_url": url, "app_token": "A", "default_priority": "5"}),
            "default_priority",
        ),
        (
            json!({"server_url": url, "app_token": "A", "markdown": "yes"}),
            "markdown",
        ),
    ];
    for (config, field) in cases {
        let e = validate(config.clone()).unwrap_err();
        assert_eq!(e.field, field, "{config}: {e:?}");
    }
    let e = validate(json!({"server_url": url, "app_token": "A", "priority_map": {}})).unwrap_err();
    assert!(e.message.contains("unknown field"), "{e:?}");
}

#[test]
fn describe_marks_secrets() {
    let info = harness::channel_describe::<Gotify>();
    assert_eq!(info.id, "gotify");
    assert_eq!(info.name, "Gotify");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    assert_eq!(props["app_token"]["x-secret"], true);
    assert_eq!(props["app_token"]["writeOnly"], true);
    for public in ["server_url", "default_priority", "markdown"] {
        assert!(props[public].get("x-secret").is_none(), "{public}");
        assert!(
            props[public]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{public} has a description"
        );
    }
    assert_eq!(schema["required"], json!(["server_url", "app_token"]));
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn message_url_keeps_a_path_prefix() {
    assert_eq!(base().message_url(), "https://gotify.example.com/message");
    let c = cfg(json!({"server_url": "https://example.com/gotify/", "app_token": "A"}));
    assert_eq!(c.message_url(), "https://example.com/gotify/message");
    let c = cfg(json!({"server_url": "http://10.0.0.2:8080", "app_token": "A"}));
    assert_eq!(c.message_url(), "http://10.0.0.2:8080/message");
}

// ---- body -------------------------------------------------------------------

#[test]
fn no_template_uses_the_message() {
    assert_eq!(
        body(&base(), json!({}), &msg()),
        json!({
            "title": "Disk",
            "message": "disk full",
            "priority": 8,
            "extras": {"client::notification": {"click": {"url": "https://example.com/disk"}}}
        })
    );
    // Bare message: no title (Gotify shows the app name), no extras.
    assert_eq!(
        body(&base(), json!({}), &Message::new("hello")),
        json!({"message": "hello", "priority": 5})
    );
    assert_eq!(
        Value::Object(build_body(&base(), "  ", &Message::new("hello")).unwrap()),
        json!({"message": "hello", "priority": 5})
    );
}

#[test]
fn priority_mapping_is_fixed() {
    let expected = [(1, 1), (2, 3), (3, 5), (4, 8), (5, 10)];
    for (beacon, gotify) in expected {
        let m = Message {
            priority: beacon,
            ..msg()
        };
        assert_eq!(body(&base(), json!({}), &m)["priority"], gotify, "{beacon}");
    }
    // Out-of-range Beacon priorities are clamped.
    for (beacon, gotify) in [(0, 1), (9, 10)] {
        let m = Message {
            priority: beacon,
            ..msg()
        };
        assert_eq!(body(&base(), json!({}), &m)["priority"], gotify);
    }
}

#[test]
fn default_priority_replaces_the_default_only() {
    let c =
        cfg(json!({"server_url": "https://g.example", "app_token": "A", "default_priority": 0}));
    let at = |p: u8| {
        let m = Message {
            priority: p,
            ..msg()
        };
        body(&c, json!({}), &m)["priority"].clone()
    };
    assert_eq!(at(3), 0);
    assert_eq!(at(2), 3);
    assert_eq!(at(5), 10);
}

#[test]
fn template_priority_is_gotifys_scale() {
    let p = |v: Value| body(&base(), json!({ "priority": v }), &msg())["priority"].clone();
    assert_eq!(p(json!(0)), 0);
    assert_eq!(p(json!("2")), 2, "not mapped: Gotify's own scale");
    assert_eq!(p(json!(" 7 ")), 7);
    assert_eq!(p(json!(10)), 10);
    assert_eq!(p(json!("9.0")), 9);
    // Sent as a JSON integer: Gotify refuses "7".
    assert!(p(json!("7")).is_u64());
    // Blank falls back to the mapped message priority.
    assert_eq!(p(json!("")), 8);
    for bad in [
        json!(11),
        json!("-1"),
        json!("high"),
        json!(2.5),
        json!([1]),
        json!(false),
    ] {
        let e = body_err(json!({ "priority": bad }));
        assert!(!e.is_retryable());
        assert!(e.message().contains("`priority`"), "{bad}: {e:?}");
    }
}

#[test]
fn message_title_and_body_alias() {
    let b = body(
        &base(),
        json!({"title": "T", "message": "M", "body": "B"}),
        &msg(),
    );
    assert_eq!(b["title"], "T");
    assert_eq!(b["message"], "M");
    let b = body(&base(), json!({"body": "B"}), &msg());
    assert_eq!(b["message"], "B");
    let b = body(&base(), json!({"message": "", "body": ""}), &msg());
    assert_eq!(b["message"], "disk full");
    let b = body(&base(), json!({"title": ""}), &msg());
    assert_eq!(b["title"], "Disk");
    let b = body(&base(), json!({"title": 3}), &msg());
    assert_eq!(b["title"], "3");
    for key in ["title", "message", "body", "click"] {
        let e = body_err(json!({ key: ["x"] }));
        assert!(e.message().contains(&format!("`{key}`")), "{key}: {e:?}");
    }
}

#[test]
fn markdown_and_click_extras() {
    let c = cfg(json!({"server_url": "https://g.example", "app_token": "A", "markdown": true}));
    assert_eq!(
        body(&c, json!({"click": "https://t"}), &msg())["extras"],
        json!({
            "client::display": {"contentType": "text/markdown"},
            "client::notification": {"click": {"url": "https://t"}}
        })
    );
    assert_eq!(
        body(&c, json!({}), &Message::new("x"))["extras"],
        json!({"client::display": {"contentType": "text/markdown"}})
    );
    let c = cfg(json!({"server_url": "https://g.example", "app_token": "A", "markdown": false}));
    assert!(body(&c, json!({}), &Message::new("x"))
        .get("extras")
        .is_none());
}

#[test]
fn template_extras_merge_over_the_plugins() {
    let c = cfg(json!({"server_url": "https://g.example", "app_token": "A", "markdown": true}));
    let extras = json!({
        "client::display": {"contentType": "text/plain"},
        "client::notification": {"bigImageUrl": "https://img.png"},
        "android::action": {"onReceive": {"intentUrl": "https://open"}},
        "home::thermostat": {"temperature": 23}
    });
    let expected = json!({
        "client::display": {"contentType": "text/plain"},
        "client::notification": {
            "click": {"url": "https://example.com/disk"},
            "bigImageUrl": "https://img.png"
        },
        "android::action": {"onReceive": {"intentUrl": "https://open"}},
        "home::thermostat": {"temperature": 23}
    });
    assert_eq!(
        body(&c, json!({ "extras": extras }), &msg())["extras"],
        expected
    );
    // The same as JSON text (e.g. rendered from a message extra).
    assert_eq!(
        body(&c, json!({ "extras": extras.to_string() }), &msg())["extras"],
        expected
    );
    // A template click URL can be overridden by template extras.
    let b = body(
        &base(),
        json!({"click": "https://a", "extras": {"client::notification": {"click": {"url": "https://b"}}}}),
        &msg(),
    );
    assert_eq!(
        b["extras"],
        json!({"client::notification": {"click": {"url": "https://b"}}})
    );
    // Empty extras leave the plugin's.
    for empty in [json!(""), json!("{}"), json!({}), json!(null)] {
        assert_eq!(
            body(&base(), json!({ "extras": empty }), &msg())["extras"],
            json!({"client::notification": {"click": {"url": "https://example.com/disk"}}})
        );
    }
    for bad in [json!("[1]"), json!("not json"), json!([1]), json!(5)] {
        let e = body_err(json!({ "extras": bad }));
        assert!(!e.is_retryable());
        assert!(e.message().contains("`extras`"), "{bad}: {e:?}");
    }
}

#[test]
fn unknown_template_keys_are_ignored() {
    let b = body(
        &base(),
        json!({"appid": 3, "token": "x", "tags": "a", "url": "https://u"}),
        &Message::new("x"),
    );
    assert_eq!(b, json!({"message": "x", "priority": 5}));
}

#[test]
fn bad_templates_are_permanent() {
    for bad in ["[1]", "\"text\"", "{nope", "true"] {
        let e = build_body(&base(), bad, &msg()).unwrap_err();
        assert!(!e.is_retryable(), "{bad}");
        assert_eq!(e.failure().http_status, None);
    }
}

// ---- responses --------------------------------------------------------------

#[test]
fn success_records_the_created_message() {
    let out = classify_response(200, CREATED, None, None).unwrap();
    assert_eq!(out.http_status, Some(200));
    assert_eq!(
        out.response_snippet.as_deref(),
        Some(std::str::from_utf8(CREATED).unwrap())
    );
    assert_eq!(out.response_json, Some(compact(CREATED)));
}

#[test]
fn client_errors_are_permanent_with_gotifys_text() {
    let e = classify_response(401, UNAUTHORIZED, Some(1000), None).unwrap_err();
    assert!(!e.is_retryable());
    let f = e.failure();
    assert!(
        f.message.starts_with(
            "HTTP 401: Unauthorized: you need to provide a valid access token or user credentials"
        ),
        "{}",
        f.message
    );
    assert!(f.message.contains("application token"), "{}", f.message);
    assert_eq!(f.http_status, Some(401));
    assert_eq!(
        f.response_snippet.as_deref(),
        Some(std::str::from_utf8(UNAUTHORIZED).unwrap())
    );
    assert_eq!(f.response_json, Some(compact(UNAUTHORIZED)));
    assert_eq!(f.retry_after_ms, None);

    let forbidden = br#"{"error":"Forbidden","errorCode":403,"errorDescription":"you are not allowed to access this api"}"#;
    let e = classify_response(403, forbidden, None, None).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(403));
    assert!(
        e.message().contains("Forbidden: you are not allowed"),
        "{e:?}"
    );

    let bad = br#"{"error":"Bad Request","errorCode":400,"errorDescription":"Field 'message' is required"}"#;
    let e = classify_response(400, bad, None, None).unwrap_err();
    assert_eq!(
        e,
        SendError::Permanent(SendFailure {
            message: "HTTP 400: Bad Request: Field 'message' is required".into(),
            retry_after_ms: None,
            http_status: Some(400),
            response_snippet: Some(std::str::from_utf8(bad).unwrap().into()),
            response_json: Some(compact(bad)),
        })
    );

    let e = classify_response(404, b"404 page not found", None, None).unwrap_err();
    assert_eq!(
        e,
        SendError::permanent("HTTP 404: 404 page not found")
            .with_status(404)
            .with_snippet("404 page not found")
    );
}

#[test]
fn server_errors_and_rate_limits_are_retryable() {
    let body = br#"{"error":"Internal Server Error","errorCode":500,"errorDescription":"database is locked"}"#;
    let e = classify_response(500, body, None, None).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(
        e.message(),
        "HTTP 500: Internal Server Error: database is locked"
    );
    assert_eq!(e.failure().http_status, Some(500));
    assert_eq!(e.failure().response_json, Some(compact(body)));
    let e = classify_response(503, b"", Some(20_000), None).unwrap_err();
    assert_eq!(
        e,
        SendError::retryable("HTTP 503")
            .with_status(503)
            .with_retry_after_ms(20_000)
    );
    let e = classify_response(429, b"slow down", Some(3000), None).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().retry_after_ms, Some(3000));
}

#[test]
fn redirects_are_permanent_with_a_hint() {
    let e =
        classify_response(308, b"", None, Some("https://gotify.example.com/message")).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e
        .message()
        .contains("redirect to https://gotify.example.com/message"));
    assert_eq!(e.failure().http_status, Some(308));
}

// ---- end to end through the SDK harness ------------------------------------

#[test]
fn send_posts_with_the_token_in_a_header() {
    testing::reset();
    testing::mock_fetch(|_| {
        Ok(Response::new(200, CREATED.to_vec()).with_header("content-type", "application/json"))
    });
    let config = json!({
        "server_url": "https://example.com/gotify/", "app_token": "AsEcReT12345678", "markdown": true
    })
    .to_string();
    let template = json!({"priority": "6", "title": "{{message.title}} on host"});
    let out = harness::channel_send::<Gotify>(&config, &template.to_string(), &msg()).unwrap();
    assert_eq!(out.http_status, Some(200));
    assert_eq!(out.response_json, Some(compact(CREATED)));

    let reqs = testing::requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://example.com/gotify/message");
    assert!(!req.url.contains("AsEcReT12345678"), "token not in the URL");
    assert_eq!(req.header_value("x-gotify-key"), Some("AsEcReT12345678"));
    assert_eq!(req.header_value("content-type"), Some("application/json"));
    assert_eq!(req.header_value("authorization"), None);
    assert!(!req.follow_redirects);
    let sent: Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({
            "title": "{{message.title}} on host",
            "message": "disk full",
            "priority": 6,
            "extras": {
                "client::display": {"contentType": "text/markdown"},
                "client::notification": {"click": {"url": "https://example.com/disk"}}
            }
        })
    );
    for (_, line) in testing::take_logs() {
        assert!(!line.contains("AsEcReT12345678"), "{line}");
        assert!(!line.contains("disk full"), "{line}");
    }
    testing::reset();
}

#[test]
fn send_maps_gotify_errors() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(401, UNAUTHORIZED.to_vec())));
    let e = harness::channel_send::<Gotify>(&base_json(), "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(401));
    assert_eq!(e.failure().response_json, Some(compact(UNAUTHORIZED)));

    testing::mock_fetch(|_| {
        Ok(Response::new(502, b"bad gateway".to_vec()).with_header("Retry-After", "15"))
    });
    let e = harness::channel_send::<Gotify>(&base_json(), "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().retry_after_ms, Some(15_000));
    assert_eq!(e.failure().response_snippet.as_deref(), Some("bad gateway"));
    testing::reset();
}

#[test]
fn send_maps_transport_failures() {
    let config = base_json();
    testing::reset();
    testing::mock_fetch(|_| Err(FetchError::Timeout));
    let e = harness::channel_send::<Gotify>(&config, "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().http_status, None);
    testing::mock_fetch(|_| Err(FetchError::Connection("tls handshake failed".into())));
    assert!(harness::channel_send::<Gotify>(&config, "{}", &msg())
        .unwrap_err()
        .is_retryable());
    testing::mock_fetch(|_| Err(FetchError::PolicyDenied("10.0.0.2 is private".into())));
    let e = harness::channel_send::<Gotify>(&config, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("private"), "{e:?}");
    assert_eq!(e.failure().http_status, None);
    testing::reset();
}

#[test]
fn send_refuses_bad_config_or_payload_without_fetching() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, CREATED.to_vec())));
    let e = harness::channel_send::<Gotify>(
        r#"{"server_url":"https://gotify.example.com"}"#,
        "{}",
        &msg(),
    )
    .unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("app_token"), "{e:?}");
    let e =
        harness::channel_send::<Gotify>(&base_json(), r#"{"priority": "11"}"#, &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(testing::requests().is_empty());
    testing::reset();
}

fn base_json() -> String {
    json!({"server_url": "https://gotify.example.com", "app_token": "AbCdEf123456789"}).to_string()
}
