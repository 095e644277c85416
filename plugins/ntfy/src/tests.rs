use super::*;
use beacon_plugin_sdk::harness;
use beacon_plugin_sdk::http::{FetchError, Response};
use beacon_plugin_sdk::{testing, SendFailure};
use serde_json::json;

/// ntfy's answer to a successful publish (as ntfy.sh sends it).
const PUBLISHED: &[u8] = br#"{"id":"sPs71M8A2T","time":1700000000,"expires":1700043200,"event":"message","topic":"alerts","title":"Disk","message":"disk full","priority":4,"tags":["warning"]}"#;

fn cfg(v: Value) -> NtfyConfig {
    serde_json::from_value(v).unwrap()
}

fn base() -> NtfyConfig {
    cfg(json!({"server_url": "https://ntfy.sh/", "topic": "alerts"}))
}

fn msg() -> Message {
    Message {
        title: Some("Disk".into()),
        priority: 4,
        tags: vec!["warning".into()],
        url: Some("https://example.com/disk".into()),
        ..Message::new("disk full")
    }
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Ntfy>(&v.to_string())
}

fn body(config: &NtfyConfig, template: Value, message: &Message) -> Value {
    Value::Object(build_body(config, &template.to_string(), message).unwrap())
}

fn body_err(template: Value) -> SendError {
    build_body(&base(), &template.to_string(), &msg()).unwrap_err()
}

fn sent_json(req: &beacon_plugin_sdk::http::Request) -> Value {
    serde_json::from_slice(req.body.as_ref().unwrap()).unwrap()
}

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    for ok in [
        json!({"server_url": "https://ntfy.sh", "topic": "alerts"}),
        json!({"server_url": "http://ntfy.lan:8080/", "topic": "a-b_C9"}),
        json!({"server_url": "https://ntfy.sh", "topic": "x".repeat(64)}),
        json!({"server_url": "https://ntfy.sh", "topic": "alerts", "token": "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"}),
        json!({"server_url": "https://ntfy.sh", "topic": "alerts", "username": "phil", "password": "pass word"}),
        json!({
            "server_url": "https://ntfy.example.com", "topic": "alerts",
            "default_priority": 2, "default_tags": ["beacon", "robot"], "markdown": true,
            "click": "https://example.com", "icon": "https://example.com/icon.png"
        }),
        // Forms may send null or blank for fields left empty.
        json!({
            "server_url": "https://ntfy.sh", "topic": "alerts", "token": "", "username": null,
            "password": null, "default_priority": null, "default_tags": null, "markdown": null,
            "click": "", "icon": " "
        }),
        // A blank token does not conflict with basic auth.
        json!({"server_url": "https://ntfy.sh", "topic": "alerts", "token": " ", "username": "u", "password": "p"}),
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
        "ntfy.sh",
        "ftp://ntfy.sh",
        "https://user:pw@ntfy.sh",
        "https://ntfy.sh/?auth=x",
        "https://ntfy.sh/#x",
        "https://ntfy.sh/alerts",
        "https://ntfy.sh/alerts/",
    ] {
        let e = validate(json!({"server_url": url, "topic": "alerts"})).unwrap_err();
        assert_eq!(e.field, "server_url", "{url}: {e:?}");
    }
    let e =
        validate(json!({"server_url": "https://ntfy.sh/alerts", "topic": "alerts"})).unwrap_err();
    assert!(e.message.contains("server root"), "{e:?}");
    let e = validate(json!({"topic": "alerts"})).unwrap_err();
    assert_eq!(e.field, "server_url");
    let e = validate(json!({"server_url": 1, "topic": "alerts"})).unwrap_err();
    assert_eq!(e.field, "server_url");
}

#[test]
fn topic_errors_name_the_field() {
    for topic in [
        json!(""),
        json!("has space"),
        json!("slash/topic"),
        json!("dot.topic"),
        json!("ümlaut"),
        json!("x".repeat(65)),
        json!(5),
    ] {
        let e = validate(json!({"server_url": "https://ntfy.sh", "topic": topic})).unwrap_err();
        assert_eq!(e.field, "topic", "{topic}: {e:?}");
    }
    let e = validate(json!({"server_url": "https://ntfy.sh"})).unwrap_err();
    assert_eq!(e.field, "topic");
    assert!(e.message.contains("missing field"));
}

#[test]
fn auth_errors_name_the_field() {
    let url = "https://ntfy.sh";
    let cases = [
        (
            json!({"server_url": url, "topic": "t", "token": "tk_x", "username": "u", "password": "p"}),
            "token",
        ),
        (
            json!({"server_url": url, "topic": "t", "token": "tk_x", "username": "u"}),
            "token",
        ),
        (
            json!({"server_url": url, "topic": "t", "token": "tk_x", "password": "p"}),
            "token",
        ),
        (
            json!({"server_url": url, "topic": "t", "token": "tk x"}),
            "token",
        ),
        (
            json!({"server_url": url, "topic": "t", "token": "tk_x\r\nX-Evil: 1"}),
            "token",
        ),
        (
            json!({"server_url": url, "topic": "t", "username": "u"}),
            "password",
        ),
        (
            json!({"server_url": url, "topic": "t", "username": "u", "password": ""}),
            "password",
        ),
        (
            json!({"server_url": url, "topic": "t", "password": "p"}),
            "username",
        ),
        (
            json!({"server_url": url, "topic": "t", "username": "a:b", "password": "p"}),
            "username",
        ),
        (
            json!({"server_url": url, "topic": "t", "username": "a\nb", "password": "p"}),
            "username",
        ),
    ];
    for (config, field) in cases {
        let e = validate(config.clone()).unwrap_err();
        assert_eq!(e.field, field, "{config}: {e:?}");
    }
    let e = validate(
        json!({"server_url": url, "topic": "t", "token": "tk_x", "username": "u", "password": "p"}),
    )
    .unwrap_err();
    assert!(e.message.contains("not both"), "{e:?}");
}

#[test]
fn option_errors_name_the_field() {
    let url = "https://ntfy.sh";
    let cases = [
        (json!({"default_priority": 0}), "default_priority"),
        (json!({"default_priority": 6}), "default_priority"),
        (json!({"default_priority": 300}), "default_priority"),
        (json!({"default_priority": "high"}), "default_priority"),
        (json!({"default_tags": ["a", ""]}), "default_tags[1]"),
        (json!({"default_tags": ["a,b"]}), "default_tags[0]"),
        (json!({"default_tags": ["a", 3]}), "default_tags[1]"),
        (json!({"default_tags": "a,b"}), "default_tags"),
        (json!({"markdown": "yes"}), "markdown"),
        (json!({"click": "https://x/a b"}), "click"),
        (json!({"icon": "not a url"}), "icon"),
        (json!({"icon": "ftp://x/i.png"}), "icon"),
    ];
    for (extra, field) in cases {
        let mut config = json!({"server_url": url, "topic": "t"});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        let e = validate(config.clone()).unwrap_err();
        assert_eq!(e.field, field, "{config}: {e:?}");
    }
}

#[test]
fn unknown_config_fields_are_refused() {
    let e = validate(json!({"server_url": "https://ntfy.sh", "topic": "t", "priority": 4}))
        .unwrap_err();
    assert!(e.message.contains("unknown field"), "{e:?}");
}

#[test]
fn describe_marks_secrets() {
    let info = harness::channel_describe::<Ntfy>();
    assert_eq!(info.id, "ntfy");
    assert_eq!(info.name, "ntfy");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    assert_eq!(props["token"]["x-secret"], true);
    assert_eq!(props["token"]["writeOnly"], true);
    assert_eq!(props["password"]["x-secret"], true);
    for public in [
        "server_url",
        "topic",
        "username",
        "default_priority",
        "default_tags",
        "markdown",
        "click",
        "icon",
    ] {
        assert!(props[public].is_object(), "{public} in schema");
        assert!(props[public].get("x-secret").is_none(), "{public}");
        assert!(
            props[public]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{public} has a description"
        );
    }
    assert_eq!(schema["required"], json!(["server_url", "topic"]));
    assert_eq!(schema["additionalProperties"], false);
}

// ---- auth -----------------------------------------------------------------

#[test]
fn base64_matches_rfc4648() {
    for (input, expected) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
        ("phil:mypass", "cGhpbDpteXBhc3M="),
    ] {
        assert_eq!(base64(input.as_bytes()), expected, "{input}");
    }
    assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
}

#[test]
fn authorization_header() {
    assert_eq!(base().authorization(), None);
    let c = cfg(json!({"server_url": "https://ntfy.sh", "topic": "t", "token": " tk_abc "}));
    assert_eq!(c.authorization().as_deref(), Some("Bearer tk_abc"));
    // The example from ntfy's docs ("Authentication", basic auth).
    let c = cfg(
        json!({"server_url": "https://ntfy.sh", "topic": "t", "username": "testuser", "password": "fakepassword"}),
    );
    assert_eq!(
        c.authorization().as_deref(),
        Some("Basic dGVzdHVzZXI6ZmFrZXBhc3N3b3Jk")
    );
}

// ---- body -------------------------------------------------------------------

#[test]
fn no_template_uses_the_message() {
    assert_eq!(
        body(&base(), json!({}), &msg()),
        json!({
            "topic": "alerts",
            "message": "disk full",
            "title": "Disk",
            "priority": 4,
            "tags": ["warning"],
            "click": "https://example.com/disk"
        })
    );
    // A bare message: no title, tags or click, priority 3.
    assert_eq!(
        body(&base(), json!({}), &Message::new("hello")),
        json!({"topic": "alerts", "message": "hello", "priority": 3})
    );
    // An empty rendering counts as no template.
    assert_eq!(
        Value::Object(build_body(&base(), "", &Message::new("hello")).unwrap()),
        json!({"topic": "alerts", "message": "hello", "priority": 3})
    );
    assert_eq!(
        Value::Object(build_body(&base(), "null", &Message::new("hello")).unwrap()),
        json!({"topic": "alerts", "message": "hello", "priority": 3})
    );
}

#[test]
fn full_template_vocabulary() {
    let template = json!({
        "title": "T",
        "message": "M",
        "priority": "5",
        "tags": "a, b ,,c",
        "click": "https://click",
        "actions": [{"action": "view", "label": "Open", "url": "https://x", "clear": "true"}],
        "icon": "https://icon.png",
        "attach": "https://file.jpg",
        "filename": "file.jpg",
        "markdown": "true",
        "delay": "30m",
        "email": "ops@example.com",
        "call": "+12223334444"
    });
    assert_eq!(
        body(&base(), template, &msg()),
        json!({
            "topic": "alerts",
            "title": "T",
            "message": "M",
            "priority": 5,
            "tags": ["a", "b", "c"],
            "click": "https://click",
            "actions": [{"action": "view", "label": "Open", "url": "https://x", "clear": true}],
            "icon": "https://icon.png",
            "attach": "https://file.jpg",
            "filename": "file.jpg",
            "markdown": true,
            "delay": "30m",
            "email": "ops@example.com",
            "call": "+12223334444"
        })
    );
}

#[test]
fn body_is_an_alias_for_message() {
    let b = body(&base(), json!({"body": "from body"}), &msg());
    assert_eq!(b["message"], "from body");
    let b = body(
        &base(),
        json!({"message": "from message", "body": "x"}),
        &msg(),
    );
    assert_eq!(b["message"], "from message");
    let b = body(&base(), json!({"message": "", "body": "from body"}), &msg());
    assert_eq!(b["message"], "from body");
}

#[test]
fn empty_template_values_fall_back() {
    // What a template like {"title": "{{message.title}}"} renders to when
    // the message has no title, and the like.
    let template = json!({
        "title": "", "message": "", "body": "", "priority": "", "tags": "",
        "click": "", "icon": "", "actions": "", "markdown": "", "attach": "",
        "filename": "", "delay": "", "email": "", "call": null
    });
    assert_eq!(
        body(&base(), template.clone(), &msg()),
        body(&base(), json!({}), &msg())
    );
    let b = body(&base(), json!({"title": "  "}), &msg());
    assert_eq!(b["title"], "Disk");
}

#[test]
fn priority_numbers_strings_and_names() {
    let p = |v: Value| body(&base(), json!({ "priority": v }), &msg())["priority"].clone();
    assert_eq!(p(json!(1)), 1);
    assert_eq!(p(json!("2")), 2);
    assert_eq!(p(json!(" 3 ")), 3);
    assert_eq!(p(json!(5.0)), 5);
    assert_eq!(p(json!("4.0")), 4);
    for (name, n) in [
        ("min", 1),
        ("low", 2),
        ("default", 3),
        ("high", 4),
        ("max", 5),
        ("urgent", 5),
        ("HIGH", 4),
    ] {
        assert_eq!(p(json!(name)), n, "{name}");
    }
    // Sent as a JSON integer: ntfy's JSON API refuses "4".
    assert!(p(json!("4")).is_u64());
    for bad in [
        json!(0),
        json!(6),
        json!("9"),
        json!(-1),
        json!(2.5),
        json!("loud"),
        json!([4]),
        json!(true),
    ] {
        let e = body_err(json!({ "priority": bad }));
        assert!(!e.is_retryable());
        assert!(e.message().contains("`priority`"), "{bad}: {e:?}");
    }
}

#[test]
fn message_priority_maps_one_to_one() {
    for p in 1..=5u8 {
        let m = Message {
            priority: p,
            ..msg()
        };
        assert_eq!(body(&base(), json!({}), &m)["priority"], p);
    }
    // Out-of-range priorities are clamped rather than sent.
    let m = Message {
        priority: 0,
        ..msg()
    };
    assert_eq!(body(&base(), json!({}), &m)["priority"], 1);
    let m = Message {
        priority: 9,
        ..msg()
    };
    assert_eq!(body(&base(), json!({}), &m)["priority"], 5);
}

#[test]
fn default_priority_replaces_beacons_default_only() {
    let c = cfg(json!({"server_url": "https://ntfy.sh", "topic": "alerts", "default_priority": 2}));
    let at = |p: u8| {
        let m = Message {
            priority: p,
            ..msg()
        };
        body(&c, json!({}), &m)["priority"].clone()
    };
    assert_eq!(at(3), 2);
    assert_eq!(at(1), 1);
    assert_eq!(at(5), 5);
    // The template wins over both.
    let m = Message {
        priority: 3,
        ..msg()
    };
    assert_eq!(body(&c, json!({"priority": "4"}), &m)["priority"], 4);
}

#[test]
fn tags_fallbacks() {
    let c = cfg(
        json!({"server_url": "https://ntfy.sh", "topic": "alerts", "default_tags": ["robot", " beacon "]}),
    );
    // Template list wins (numbers become text, blanks dropped).
    let b = body(&c, json!({"tags": ["x", "", 7, null]}), &msg());
    assert_eq!(b["tags"], json!(["x", "7"]));
    // Then the message's tags.
    assert_eq!(body(&c, json!({}), &msg())["tags"], json!(["warning"]));
    // Then the channel's defaults.
    assert_eq!(
        body(&c, json!({}), &Message::new("x"))["tags"],
        json!(["robot", "beacon"])
    );
    // A template that renders to nothing useful falls back too.
    assert_eq!(
        body(&c, json!({"tags": " , "}), &msg())["tags"],
        json!(["warning"])
    );
    // No tags anywhere: no key.
    assert!(body(&base(), json!({}), &Message::new("x"))
        .get("tags")
        .is_none());
    for bad in [json!({"a": 1}), json!([["x"]]), json!(true)] {
        let e = body_err(json!({ "tags": bad }));
        assert!(e.message().contains("`tags`"), "{e:?}");
    }
}

#[test]
fn click_icon_and_markdown_fallbacks() {
    let c = cfg(json!({
        "server_url": "https://ntfy.sh", "topic": "alerts", "click": "https://default-click",
        "icon": "https://default-icon.png", "markdown": true
    }));
    let b = body(&c, json!({}), &msg());
    assert_eq!(b["click"], "https://example.com/disk", "message url first");
    assert_eq!(b["icon"], "https://default-icon.png");
    assert_eq!(b["markdown"], true);
    let b = body(&c, json!({}), &Message::new("x"));
    assert_eq!(b["click"], "https://default-click");
    let b = body(
        &c,
        json!({"click": "https://t", "icon": "https://t.png", "markdown": "false"}),
        &msg(),
    );
    assert_eq!(b["click"], "https://t");
    assert_eq!(b["icon"], "https://t.png");
    assert!(b.get("markdown").is_none(), "false is not sent");
    for (value, expected) in [
        (json!(true), true),
        (json!("1"), true),
        (json!("Yes"), true),
        (json!(0), false),
        (json!("off"), false),
    ] {
        let b = body(&base(), json!({ "markdown": value }), &msg());
        assert_eq!(b.get("markdown") == Some(&json!(true)), expected, "{value}");
    }
    let e = body_err(json!({"markdown": "maybe"}));
    assert!(e.message().contains("`markdown`"), "{e:?}");
}

#[test]
fn actions_as_list_object_or_json_text() {
    let view = json!({"action": "view", "label": "Open", "url": "https://x"});
    let http = json!({
        "action": "http", "label": "Close", "url": "https://api/close", "method": "PUT",
        "headers": {"Authorization": "Bearer z"}, "body": "{\"a\":1}", "clear": true
    });
    let b = body(&base(), json!({"actions": [view, http]}), &msg());
    assert_eq!(b["actions"], json!([view, http]));
    let b = body(&base(), json!({ "actions": view }), &msg());
    assert_eq!(b["actions"], json!([view]));
    let text = json!([view]).to_string();
    let b = body(&base(), json!({ "actions": text }), &msg());
    assert_eq!(b["actions"], json!([view]));
    let b = body(&base(), json!({"actions": []}), &msg());
    assert!(b.get("actions").is_none());
    for bad in [
        json!("view, Open, https://x"),
        json!([1]),
        json!(["view"]),
        json!("[1]"),
        json!(5),
        json!([{"action": "view", "clear": "sometimes"}]),
    ] {
        let e = body_err(json!({ "actions": bad }));
        assert!(!e.is_retryable());
        assert!(e.message().contains("`actions`"), "{bad}: {e:?}");
    }
}

#[test]
fn topic_comes_from_the_channel_and_unknown_keys_are_ignored() {
    let b = body(
        &base(),
        json!({"topic": "elsewhere", "cache": "no", "sound": "bell", "message": "m"}),
        &msg(),
    );
    assert_eq!(b["topic"], "alerts");
    assert!(b.get("cache").is_none());
    assert!(b.get("sound").is_none());
}

#[test]
fn text_keys_accept_numbers_and_refuse_structures() {
    let b = body(&base(), json!({"title": 42, "message": true}), &msg());
    assert_eq!(b["title"], "42");
    assert_eq!(b["message"], "true");
    for key in [
        "title", "message", "body", "click", "icon", "attach", "filename", "delay", "email", "call",
    ] {
        let e = body_err(json!({ key: {"x": 1} }));
        assert!(!e.is_retryable());
        assert!(e.message().contains(&format!("`{key}`")), "{key}: {e:?}");
    }
}

#[test]
fn bad_templates_are_permanent() {
    for bad in ["[1,2]", "\"text\"", "{nope", "4"] {
        let e = build_body(&base(), bad, &msg()).unwrap_err();
        assert!(!e.is_retryable(), "{bad}");
        assert_eq!(e.failure().http_status, None);
    }
}

// ---- responses --------------------------------------------------------------

#[test]
fn success_records_the_answer() {
    let out = classify_response(200, PUBLISHED, None, None, "alerts").unwrap();
    assert_eq!(out.http_status, Some(200));
    assert_eq!(
        out.response_snippet.as_deref(),
        Some(std::str::from_utf8(PUBLISHED).unwrap())
    );
    let parsed: Value = serde_json::from_str(out.response_json.as_deref().unwrap()).unwrap();
    assert_eq!(parsed["id"], "sPs71M8A2T");
    // Bodies that are not ntfy JSON do not turn a 2xx into a failure.
    let out = classify_response(200, b"", None, None, "alerts").unwrap();
    assert_eq!(out.http_status, Some(200));
}

#[test]
fn success_on_another_topic_is_refused() {
    let answer = br#"{"id":"x","time":1,"event":"message","topic":"alerts","message":"{\"topic\":\"other\"}"}"#;
    let e = classify_response(200, answer, None, None, "other").unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("server root"), "{e:?}");
    assert_eq!(e.failure().http_status, Some(200));
    assert_eq!(
        e.failure().response_snippet.as_deref(),
        Some(std::str::from_utf8(answer).unwrap())
    );
}

#[test]
fn auth_errors_are_permanent() {
    for (status, body) in [
        (
            401,
            r#"{"code":40101,"http":401,"error":"unauthorized","link":"https://ntfy.sh/docs/publish/#authentication"}"#,
        ),
        (
            403,
            r#"{"code":40301,"http":403,"error":"forbidden","link":"https://ntfy.sh/docs/publish/#authentication"}"#,
        ),
    ] {
        let e = classify_response(status, body.as_bytes(), Some(9000), None, "alerts").unwrap_err();
        assert!(!e.is_retryable(), "{status}");
        let f = e.failure();
        assert_eq!(f.http_status, Some(status));
        assert!(
            f.message.starts_with(&format!("HTTP {status}: ")),
            "{}",
            f.message
        );
        assert!(
            f.message.contains(&format!("ntfy error {status}01")),
            "{}",
            f.message
        );
        assert!(f
            .message
            .contains("https://ntfy.sh/docs/publish/#authentication"));
        assert!(f.message.contains("token"), "{}", f.message);
        assert_eq!(f.response_snippet.as_deref(), Some(body));
        let compact: Value = serde_json::from_str(body).unwrap();
        assert_eq!(f.response_json.as_deref(), Some(&compact.to_string()[..]));
        assert_eq!(f.retry_after_ms, None);
    }
}

#[test]
fn bad_request_and_too_large_are_permanent() {
    let body = br#"{"code":40024,"http":400,"error":"invalid request: topic invalid","link":"https://ntfy.sh/docs/publish/"}"#;
    let e = classify_response(400, body, None, None, "alerts").unwrap_err();
    assert_eq!(
        e,
        SendError::Permanent(SendFailure {
            message: "HTTP 400: invalid request: topic invalid (ntfy error 40024, see https://ntfy.sh/docs/publish/)".into(),
            retry_after_ms: None,
            http_status: Some(400),
            response_snippet: Some(std::str::from_utf8(body).unwrap().into()),
            response_json: Some(serde_json::from_slice::<Value>(body).unwrap().to_string()),
        })
    );
    let body = br#"{"code":41301,"http":413,"error":"too large, JSON body too large","link":"https://ntfy.sh/docs/publish/#limitations"}"#;
    let e = classify_response(413, body, None, None, "alerts").unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(413));
    assert!(e.message().contains("too large"));
    // Non-JSON error bodies keep the SDK's message.
    let e = classify_response(404, b"page not found", None, None, "alerts").unwrap_err();
    assert_eq!(
        e,
        SendError::permanent("HTTP 404: page not found")
            .with_status(404)
            .with_snippet("page not found")
    );
}

#[test]
fn rate_limits_and_server_errors_are_retryable() {
    let body = br#"{"code":42901,"http":429,"error":"limit reached: too many requests","link":"https://ntfy.sh/docs/publish/#limitations"}"#;
    let e = classify_response(429, body, Some(60_000), None, "alerts").unwrap_err();
    assert!(e.is_retryable());
    let f = e.failure();
    assert_eq!(f.retry_after_ms, Some(60_000));
    assert_eq!(f.http_status, Some(429));
    assert!(f.message.contains("too many requests"), "{}", f.message);
    assert!(f.response_json.is_some());
    let e = classify_response(429, body, None, None, "alerts").unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().retry_after_ms, None);

    let body = br#"{"code":50001,"http":500,"error":"internal server error","link":"https://ntfy.sh/docs/"}"#;
    let e = classify_response(500, body, None, None, "alerts").unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().http_status, Some(500));
    let e = classify_response(502, b"<html>Bad Gateway</html>", Some(5000), None, "alerts")
        .unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "HTTP 502: <html>Bad Gateway</html>".into(),
            retry_after_ms: Some(5000),
            http_status: Some(502),
            response_snippet: Some("<html>Bad Gateway</html>".into()),
            response_json: None,
        })
    );
}

#[test]
fn redirects_are_permanent_with_a_hint() {
    let e =
        classify_response(301, b"", None, Some("https://ntfy.example.com/"), "alerts").unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("https://ntfy.example.com/"), "{e:?}");
    assert_eq!(e.failure().http_status, Some(301));
}

// ---- end to end through the SDK harness ------------------------------------

#[test]
fn send_publishes_json_to_the_server_root() {
    testing::reset();
    testing::mock_fetch(|_| {
        Ok(Response::new(200, PUBLISHED.to_vec()).with_header("content-type", "application/json"))
    });
    let config = json!({
        "server_url": "https://ntfy.sh/", "topic": "alerts", "token": "tk_secret123"
    })
    .to_string();
    let template = json!({"title": "{{x}} rendered", "priority": "5", "tags": "warning,skull"});
    let out = harness::channel_send::<Ntfy>(&config, &template.to_string(), &msg()).unwrap();
    assert_eq!(out.http_status, Some(200));
    assert!(out.response_json.is_some());

    let reqs = testing::requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://ntfy.sh");
    assert_eq!(req.header_value("content-type"), Some("application/json"));
    assert_eq!(
        req.header_value("authorization"),
        Some("Bearer tk_secret123")
    );
    assert_eq!(
        req.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .count(),
        1
    );
    assert!(!req.follow_redirects);
    assert_eq!(
        sent_json(req),
        json!({
            "topic": "alerts",
            "message": "disk full",
            "title": "{{x}} rendered",
            "priority": 5,
            "tags": ["warning", "skull"],
            "click": "https://example.com/disk"
        })
    );
    // Neither the token nor the message text reaches the log.
    for (_, line) in testing::take_logs() {
        assert!(!line.contains("tk_secret123"), "{line}");
        assert!(!line.contains("disk full"), "{line}");
    }
    testing::reset();
}

#[test]
fn send_with_basic_auth_and_no_template() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, PUBLISHED.to_vec())));
    let config = json!({
        "server_url": "http://ntfy.lan:8080", "topic": "alerts",
        "username": "phil", "password": "mypass", "default_tags": ["robot"], "markdown": true
    })
    .to_string();
    harness::channel_send::<Ntfy>(&config, "{}", &Message::new("hi")).unwrap();
    let req = &testing::requests()[0];
    assert_eq!(req.url, "http://ntfy.lan:8080");
    assert_eq!(
        req.header_value("authorization"),
        Some("Basic cGhpbDpteXBhc3M=")
    );
    assert_eq!(
        sent_json(req),
        json!({"topic": "alerts", "message": "hi", "priority": 3, "tags": ["robot"], "markdown": true})
    );
    testing::reset();
}

#[test]
fn send_without_auth_sends_no_authorization() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, PUBLISHED.to_vec())));
    let config = json!({"server_url": "https://ntfy.sh", "topic": "alerts"}).to_string();
    harness::channel_send::<Ntfy>(&config, "{}", &msg()).unwrap();
    assert_eq!(testing::requests()[0].header_value("authorization"), None);
    testing::reset();
}

#[test]
fn send_maps_ntfy_errors() {
    testing::reset();
    testing::mock_fetch(|_| {
        Ok(Response::new(
            403,
            br#"{"code":40301,"http":403,"error":"forbidden","link":"https://ntfy.sh/docs/publish/#authentication"}"#.to_vec(),
        ))
    });
    let e = harness::channel_send::<Ntfy>(&base_json(), "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(403));
    assert!(e.message().contains("forbidden"));

    testing::mock_fetch(|_| {
        Ok(Response::new(
            429,
            br#"{"code":42901,"http":429,"error":"limit reached: too many requests","link":"https://ntfy.sh/docs/publish/#limitations"}"#.to_vec(),
        )
        .with_header("retry-after", "30"))
    });
    let e = harness::channel_send::<Ntfy>(&base_json(), "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().retry_after_ms, Some(30_000));
    assert_eq!(e.failure().http_status, Some(429));

    testing::mock_fetch(|_| Ok(Response::new(503, Vec::new())));
    let e = harness::channel_send::<Ntfy>(&base_json(), "{}", &msg()).unwrap_err();
    assert_eq!(e, SendError::retryable("HTTP 503").with_status(503));
    testing::reset();
}

#[test]
fn send_maps_transport_failures() {
    let config = base_json();
    testing::reset();
    testing::mock_fetch(|_| Err(FetchError::Timeout));
    let e = harness::channel_send::<Ntfy>(&config, "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().http_status, None);
    testing::mock_fetch(|_| Err(FetchError::Connection("connection refused".into())));
    assert!(harness::channel_send::<Ntfy>(&config, "{}", &msg())
        .unwrap_err()
        .is_retryable());
    testing::mock_fetch(|_| Err(FetchError::PolicyDenied("192.168.1.5 is private".into())));
    let e = harness::channel_send::<Ntfy>(&config, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("private"), "{e:?}");
    assert_eq!(e.failure().http_status, None);
    assert_eq!(e.failure().response_snippet, None);
    testing::reset();
}

#[test]
fn send_refuses_bad_config_or_payload_without_fetching() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, PUBLISHED.to_vec())));
    let e = harness::channel_send::<Ntfy>(
        r#"{"server_url":"https://ntfy.sh","topic":"bad topic"}"#,
        "{}",
        &msg(),
    )
    .unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("topic"), "{e:?}");
    let e =
        harness::channel_send::<Ntfy>(&base_json(), r#"{"priority": "7"}"#, &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(testing::requests().is_empty());
    testing::reset();
}

fn base_json() -> String {
    json!({"server_url": "https://ntfy.sh", "topic": "alerts"}).to_string()
}
