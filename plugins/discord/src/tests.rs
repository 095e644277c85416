use super::*;
use beacon_plugin_sdk::harness;
use beacon_plugin_sdk::http::{FetchError, Response};
use beacon_plugin_sdk::{testing, SendFailure};
use serde_json::json;

const TOKEN: &str = "k3yT0k3nAbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefghijklmnopqrstu";

fn hook() -> String {
    format!("https://discord.com/api/webhooks/123456789012345678/{TOKEN}")
}

fn cfg(v: Value) -> DiscordConfig {
    serde_json::from_value(v).unwrap()
}

fn plain() -> DiscordConfig {
    cfg(json!({ "webhook_url": hook() }))
}

fn config_json() -> String {
    json!({ "webhook_url": hook() }).to_string()
}

fn msg() -> Message {
    Message {
        title: Some("Disk".into()),
        ..Message::new("usage @everyone > 90%")
    }
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Discord>(&v.to_string())
}

fn build_with(config: &DiscordConfig, template: Value, message: &Message) -> Value {
    Value::Object(build_payload(config, &template.to_string(), message).unwrap())
}

fn build(template: Value, message: &Message) -> Value {
    build_with(&plain(), template, message)
}

fn no_mentions() -> Value {
    json!({ "parse": [] })
}

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    assert!(validate(json!({ "webhook_url": hook() })).is_ok());
    assert!(validate(json!({ "webhook_url": "http://127.0.0.1:9000/hook?thread_id=5" })).is_ok());
    assert!(validate(json!({
        "webhook_url": hook(),
        "username": "Beacon",
        "avatar_url": "https://example.com/a.png",
        "allow_mentions": true
    }))
    .is_ok());
    assert!(validate(json!({ "webhook_url": hook(), "username": "", "avatar_url": "" })).is_ok());
}

#[test]
fn config_errors_name_the_field() {
    assert_eq!(validate(json!({})).unwrap_err().field, "webhook_url");
    for url in [
        "",
        "discord.com/api/webhooks/1/x",
        "ftp://x",
        "https://x/#frag",
    ] {
        let e = validate(json!({ "webhook_url": url })).unwrap_err();
        assert_eq!(e.field, "webhook_url", "{url}");
    }
    let e = validate(json!({ "webhook_url": hook(), "avatar_url": "nope" })).unwrap_err();
    assert_eq!(e.field, "avatar_url");
    for name in ["My Discord Bot", "clyde", "x".repeat(81).as_str()] {
        let e = validate(json!({ "webhook_url": hook(), "username": name })).unwrap_err();
        assert_eq!(e.field, "username", "{name}");
    }
    let e = validate(json!({ "webhook_url": hook(), "allow_mentions": "yes" })).unwrap_err();
    assert_eq!(e.field, "allow_mentions");
    let e = validate(json!({ "webhook_url": hook(), "content": "x" })).unwrap_err();
    assert_eq!(e.field, "content");
    assert!(e.message.contains("unknown field"), "{e:?}");
}

#[test]
fn describe_marks_the_webhook_url_secret() {
    let info = harness::channel_describe::<Discord>();
    assert_eq!(info.id, "discord");
    assert_eq!(info.name, "Discord");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["properties"]["webhook_url"]["x-secret"], true);
    assert_eq!(schema["properties"]["webhook_url"]["writeOnly"], true);
    assert!(schema["properties"]["avatar_url"].get("x-secret").is_none());
    assert_eq!(schema["properties"]["allow_mentions"]["type"], "boolean");
    assert_eq!(schema["properties"]["allow_mentions"]["default"], false);
    assert_eq!(schema["required"], json!(["webhook_url"]));
    for key in ["webhook_url", "username", "avatar_url", "allow_mentions"] {
        assert!(
            schema["properties"][key]["description"].is_string(),
            "{key} has no description"
        );
    }
}

#[test]
fn execute_url_adds_wait_and_keeps_the_query() {
    assert_eq!(
        execute_url("https://discord.com/api/webhooks/1/t"),
        "https://discord.com/api/webhooks/1/t?wait=true"
    );
    assert_eq!(
        execute_url("https://discord.com/api/webhooks/1/t?thread_id=99"),
        "https://discord.com/api/webhooks/1/t?thread_id=99&wait=true"
    );
    assert_eq!(
        execute_url("https://discord.com/api/webhooks/1/t?wait=false&thread_id=99&"),
        "https://discord.com/api/webhooks/1/t?thread_id=99&wait=true"
    );
    assert_eq!(
        execute_url("https://discord.com/api/webhooks/1/t?"),
        "https://discord.com/api/webhooks/1/t?wait=true"
    );
    // A parameter that merely starts with "wait" is kept.
    assert_eq!(
        execute_url("https://h/x?waiting=1"),
        "https://h/x?waiting=1&wait=true"
    );
}

// ---- payload --------------------------------------------------------------

#[test]
fn fallback_content_bolds_the_title_and_blocks_mentions() {
    assert_eq!(
        build(json!({}), &msg()),
        json!({ "content": "**Disk**\nusage @everyone > 90%", "allowed_mentions": no_mentions() })
    );
    assert_eq!(
        build(json!({ "content": "" }), &Message::new("b")),
        json!({ "content": "b", "allowed_mentions": no_mentions() })
    );
    let p = build_payload(&plain(), "", &Message::new("b")).unwrap();
    assert_eq!(
        Value::Object(p),
        json!({ "content": "b", "allowed_mentions": no_mentions() })
    );
}

#[test]
fn content_is_capped_at_2000_chars() {
    let long = "é".repeat(2500);
    let p = build(json!({}), &Message::new(long.clone()));
    let content = p["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), 2000);
    assert!(content.ends_with('…'));
    assert_eq!(content, format!("{}…", "é".repeat(1999)));
    // Template content too.
    let p = build(json!({ "content": "a".repeat(2001) }), &msg());
    assert_eq!(p["content"], format!("{}…", "a".repeat(1999)));
    // Exactly 2000 is left alone.
    let p = build(json!({ "content": "a".repeat(2000) }), &msg());
    assert_eq!(p["content"], "a".repeat(2000));
    assert_eq!(truncate("abc", 3), "abc");
    assert_eq!(truncate("abcd", 3), "ab…");
}

#[test]
fn embeds_as_list_or_json_string() {
    let embeds = json!([{ "title": "Disk", "description": "full", "color": 15158332 }]);
    // Embeds without content: no fallback content is added.
    let want = json!({ "embeds": embeds, "allowed_mentions": no_mentions() });
    assert_eq!(build(json!({ "embeds": embeds }), &msg()), want);
    assert_eq!(build(json!({ "embeds": embeds.to_string() }), &msg()), want);
    // With content, both are sent.
    assert_eq!(
        build(
            json!({ "content": "c", "embeds": embeds.to_string() }),
            &msg()
        ),
        json!({ "content": "c", "embeds": embeds, "allowed_mentions": no_mentions() })
    );
    // An empty list is no embeds, so the message becomes the content.
    assert_eq!(
        build(json!({ "embeds": "[]" }), &Message::new("b")),
        json!({ "content": "b", "allowed_mentions": no_mentions() })
    );
    for bad in [
        json!("{\"title\": \"x\"}"),
        json!("[oops"),
        json!(7),
        json!({ "title": "x" }),
    ] {
        let e = build_payload(&plain(), &json!({ "embeds": bad }).to_string(), &msg()).unwrap_err();
        assert!(!e.is_retryable());
        assert!(e.message().contains("`embeds`"), "{e:?}");
    }
}

#[test]
fn vocabulary_with_string_values_and_pass_through() {
    let template = json!({
        "content": "c",
        "username": "Deploys",
        "avatar_url": "https://x/a.png",
        "tts": "true",
        "thread_name": "Incident 42",
        "flags": 4096,
        "empty": ""
    });
    assert_eq!(
        build(template, &msg()),
        json!({
            "content": "c",
            "username": "Deploys",
            "avatar_url": "https://x/a.png",
            "tts": true,
            "thread_name": "Incident 42",
            "flags": 4096,
            "allowed_mentions": no_mentions()
        })
    );
    assert_eq!(
        build(json!({ "content": "c", "tts": "0" }), &msg())["tts"],
        false
    );
    assert_eq!(
        build(json!({ "content": "c", "tts": false }), &msg())["tts"],
        false
    );
    let e = build_payload(&plain(), r#"{"tts": "loud"}"#, &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("`tts`"), "{e:?}");
}

#[test]
fn config_identity_applies_unless_the_template_sets_it() {
    let c = cfg(json!({
        "webhook_url": hook(), "username": "Beacon", "avatar_url": "https://x/b.png"
    }));
    assert_eq!(
        build_with(&c, json!({}), &Message::new("b")),
        json!({
            "content": "b", "username": "Beacon", "avatar_url": "https://x/b.png",
            "allowed_mentions": no_mentions()
        })
    );
    assert_eq!(
        build_with(
            &c,
            json!({ "username": "T", "avatar_url": "" }),
            &Message::new("b")
        ),
        json!({
            "content": "b", "username": "T", "avatar_url": "https://x/b.png",
            "allowed_mentions": no_mentions()
        })
    );
}

#[test]
fn mentions_follow_the_channel_setting() {
    // Off: the template cannot turn them on.
    assert_eq!(
        build(
            json!({ "content": "@here", "allowed_mentions": { "parse": ["everyone"] } }),
            &msg()
        ),
        json!({ "content": "@here", "allowed_mentions": no_mentions() })
    );
    // On: Discord's default unless the template refines it.
    let on = cfg(json!({ "webhook_url": hook(), "allow_mentions": true }));
    assert_eq!(
        build_with(&on, json!({ "content": "@here" }), &msg()),
        json!({ "content": "@here" })
    );
    assert_eq!(
        build_with(
            &on,
            json!({ "content": "<@&1>", "allowed_mentions": "{\"roles\": [\"1\"]}" }),
            &msg()
        ),
        json!({ "content": "<@&1>", "allowed_mentions": { "roles": ["1"] } })
    );
    let e = build_payload(&on, r#"{"allowed_mentions": "[1]"}"#, &msg()).unwrap_err();
    assert!(e.message().contains("`allowed_mentions`"), "{e:?}");
}

#[test]
fn bad_templates_are_permanent() {
    for bad in ["[1,2]", "{nope", "3"] {
        let e = build_payload(&plain(), bad, &msg()).unwrap_err();
        assert!(!e.is_retryable(), "{bad}");
    }
    let e = build_payload(&plain(), r#"{"content": {"a": 1}}"#, &msg()).unwrap_err();
    assert!(e.message().contains("`content`"), "{e:?}");
}

// ---- responses ------------------------------------------------------------

#[test]
fn success_answers() {
    let body = br#"{"id":"1200000000000000000","type":0,"content":"b","channel_id":"1100000000000000000","webhook_id":"123456789012345678"}"#;
    let out = classify_response(200, body, None).unwrap();
    assert_eq!(out.http_status, Some(200));
    let json: Value = serde_json::from_str(out.response_json.as_deref().unwrap()).unwrap();
    assert_eq!(json["id"], "1200000000000000000");
    let out = classify_response(204, b"", None).unwrap();
    assert_eq!(
        out,
        SendOutcome {
            http_status: Some(204),
            response_snippet: None,
            response_json: None
        }
    );
}

#[test]
fn rate_limit_hint_from_body_then_header() {
    let body =
        br#"{"message": "You are being rate limited.", "retry_after": 1.234, "global": false}"#;
    let e = classify_response(429, body, Some(2000)).unwrap_err();
    assert!(e.is_retryable());
    let f = e.failure();
    assert_eq!(f.retry_after_ms, Some(1234));
    assert_eq!(f.http_status, Some(429));
    assert_eq!(f.message, "HTTP 429: You are being rate limited.");
    let json: Value = serde_json::from_str(f.response_json.as_deref().unwrap()).unwrap();
    assert_eq!(json["global"], false);
    // Rounded up to whole milliseconds.
    let e =
        classify_response(429, br#"{"message": "x", "retry_after": 0.0001}"#, None).unwrap_err();
    assert_eq!(e.failure().retry_after_ms, Some(1));
    // A Cloudflare page without a body hint: the header.
    let e = classify_response(429, b"<html>error 1015</html>", Some(60_000)).unwrap_err();
    assert_eq!(e.failure().retry_after_ms, Some(60_000));
    assert_eq!(seconds_to_ms(1.234), Some(1234));
    assert_eq!(seconds_to_ms(0.5), Some(500));
    assert_eq!(seconds_to_ms(2.0), Some(2000));
    assert_eq!(seconds_to_ms(-1.0), None);
    assert_eq!(seconds_to_ms(f64::NAN), None);
}

#[test]
fn client_errors_are_permanent_with_discords_message() {
    let cases: [(u16, &[u8], &str); 5] = [
        (
            400,
            br#"{"message": "Cannot send an empty message", "code": 50006}"#,
            "HTTP 400: Cannot send an empty message (Discord error 50006)",
        ),
        (
            400,
            br#"{"message": "Invalid Form Body", "code": 50035, "errors": {"embeds": {"0": {"description": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}]}}}}}"#,
            "HTTP 400: Invalid Form Body (Discord error 50035): embeds.0.description: Must be 4096 or fewer in length.",
        ),
        (
            401,
            br#"{"message": "Invalid Webhook Token", "code": 50027}"#,
            "HTTP 401: Invalid Webhook Token (Discord error 50027)",
        ),
        (
            403,
            br#"{"message": "Missing Permissions", "code": 50013}"#,
            "HTTP 403: Missing Permissions (Discord error 50013)",
        ),
        (
            404,
            br#"{"message": "Unknown Webhook", "code": 10015}"#,
            "HTTP 404: Unknown Webhook (Discord error 10015)",
        ),
    ];
    for (status, body, message) in cases {
        let e = classify_response(status, body, Some(1000)).unwrap_err();
        assert!(!e.is_retryable(), "{status}");
        let f = e.into_failure();
        assert_eq!(f.message, message);
        assert_eq!(f.http_status, Some(status));
        assert_eq!(
            f.response_snippet.as_deref(),
            Some(std::str::from_utf8(body).unwrap())
        );
        assert!(f.response_json.is_some());
        assert_eq!(f.retry_after_ms, None);
    }
    // The older field-error shape.
    let e = classify_response(
        400,
        br#"{"content": ["Must be 2000 or fewer in length."]}"#,
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.message(),
        "HTTP 400: content: Must be 2000 or fewer in length."
    );
    // Not JSON: the SDK's standard text.
    let e = classify_response(405, b"405: Method Not Allowed", None).unwrap_err();
    assert_eq!(
        e,
        SendError::permanent("HTTP 405: 405: Method Not Allowed")
            .with_status(405)
            .with_snippet("405: Method Not Allowed")
    );
}

#[test]
fn server_errors_are_retryable() {
    let e = classify_response(502, b"", Some(3000)).unwrap_err();
    assert_eq!(
        e,
        SendError::retryable("HTTP 502")
            .with_status(502)
            .with_retry_after_ms(3000)
    );
    let e = classify_response(
        500,
        br#"{"message": "500: Internal Server Error", "code": 0}"#,
        None,
    )
    .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.message(), "HTTP 500: 500: Internal Server Error");
}

#[test]
fn header_retry_after_accepts_fractions() {
    let r = Response::new(429, Vec::new()).with_header("Retry-After", "1.5");
    assert_eq!(header_retry_after_ms(&r), Some(1500));
    let r = Response::new(429, Vec::new()).with_header("retry-after", "3");
    assert_eq!(header_retry_after_ms(&r), Some(3000));
    assert_eq!(header_retry_after_ms(&Response::new(429, Vec::new())), None);
}

#[test]
fn redaction_hides_the_token() {
    let url = execute_url(&hook());
    let text = format!("error sending request for url ({url}): dns error");
    assert_eq!(
        redact(&text, &[&url, &hook()]),
        "error sending request for url ([REDACTED]): dns error"
    );
    let text =
        format!("POST /api/webhooks/123456789012345678/{TOKEN}?wait=true: 5xx; token {TOKEN}");
    let out = redact(&text, &[&url, &hook()]);
    assert!(!out.contains(TOKEN), "{out}");
    assert_eq!(out, "POST [REDACTED]: 5xx; token [REDACTED]");
}

// ---- end to end through the SDK harness ------------------------------------

#[test]
fn send_posts_the_exact_request() {
    testing::reset();
    testing::mock_fetch(|_| {
        Ok(Response::new(
            200,
            br#"{"id":"1200000000000000000","content":"**Disk**"}"#.to_vec(),
        ))
    });
    let config = json!({
        "webhook_url": format!("{}?thread_id=42", hook()),
        "username": "Beacon"
    })
    .to_string();
    let out = harness::channel_send::<Discord>(&config, r#"{"tts": "false"}"#, &msg()).unwrap();
    assert_eq!(out.http_status, Some(200));
    let reqs = testing::requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, format!("{}?thread_id=42&wait=true", hook()));
    assert_eq!(
        req.headers,
        vec![("content-type".to_string(), "application/json".to_string())]
    );
    let sent: Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({
            "content": "**Disk**\nusage @everyone > 90%",
            "username": "Beacon",
            "tts": false,
            "allowed_mentions": { "parse": [] }
        })
    );
    let logs = testing::take_logs();
    assert!(logs
        .iter()
        .all(|(_, l)| !l.contains(TOKEN) && !l.contains("usage")));
    testing::reset();
}

#[test]
fn send_maps_answers_and_transport_failures() {
    let config = config_json();
    testing::reset();

    testing::mock_fetch(|_| {
        Ok(Response::new(
            429,
            br#"{"message": "You are being rate limited.", "retry_after": 0.35, "global": false}"#
                .to_vec(),
        )
        .with_header("retry-after", "1")
        .with_header("x-ratelimit-scope", "user"))
    });
    let e = harness::channel_send::<Discord>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "HTTP 429: You are being rate limited.".into(),
            retry_after_ms: Some(350),
            http_status: Some(429),
            response_snippet: Some(
                r#"{"message": "You are being rate limited.", "retry_after": 0.35, "global": false}"#
                    .into()
            ),
            response_json: Some(
                r#"{"global":false,"message":"You are being rate limited.","retry_after":0.35}"#
                    .into()
            ),
        })
    );

    testing::mock_fetch(|_| {
        Ok(Response::new(
            404,
            br#"{"message": "Unknown Webhook", "code": 10015}"#.to_vec(),
        ))
    });
    let e = harness::channel_send::<Discord>(&config, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e.message(),
        "HTTP 404: Unknown Webhook (Discord error 10015)"
    );

    testing::mock_fetch(|_| Ok(Response::new(204, Vec::new())));
    let out = harness::channel_send::<Discord>(&config, "{}", &msg()).unwrap();
    assert_eq!(out.http_status, Some(204));

    testing::mock_fetch(|_| {
        Ok(Response::new(503, b"upstream".to_vec()).with_header("retry-after", "4"))
    });
    let e = harness::channel_send::<Discord>(&config, "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().retry_after_ms, Some(4000));

    testing::mock_fetch(|_| Err(FetchError::Timeout));
    let e = harness::channel_send::<Discord>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(e, SendError::retryable("request timed out"));

    testing::mock_fetch(|req| {
        Err(FetchError::Connection(format!(
            "error sending request for url ({})",
            req.url
        )))
    });
    let e = harness::channel_send::<Discord>(&config, "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(
        e.message(),
        "connection error: error sending request for url ([REDACTED])"
    );

    testing::mock_fetch(|_| Err(FetchError::PolicyDenied("127.0.0.1 is loopback".into())));
    let e = harness::channel_send::<Discord>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(
        e,
        SendError::permanent("refused by outbound policy: 127.0.0.1 is loopback")
    );
    testing::reset();
}

#[test]
fn send_with_invalid_config_or_template_does_not_fetch() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(204, Vec::new())));
    let e = harness::channel_send::<Discord>(r#"{"webhook_url": "x"}"#, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("webhook_url"), "{e:?}");
    let e =
        harness::channel_send::<Discord>(&config_json(), r#"{"embeds": "{"}"#, &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(testing::requests().is_empty());
    testing::reset();
}
