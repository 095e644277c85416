use super::*;
use beacon_plugin_sdk::harness;
use beacon_plugin_sdk::http::{FetchError, Response};
use beacon_plugin_sdk::{testing, SendFailure};
use serde_json::json;

const TOKEN: &str = "123456789:AAHk7_Zx-Q2wErTyUiOpAsDfGhJkLzXcVbN";
const SECRET_HALF: &str = "AAHk7_Zx-Q2wErTyUiOpAsDfGhJkLzXcVbN";

fn cfg(v: Value) -> TelegramConfig {
    serde_json::from_value(v).unwrap()
}

fn plain() -> TelegramConfig {
    cfg(json!({ "bot_token": TOKEN, "chat_id": "-1001234567890" }))
}

fn with(extra: Value) -> TelegramConfig {
    let mut v = json!({ "bot_token": TOKEN, "chat_id": "-1001234567890" });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    cfg(v)
}

fn config_json() -> String {
    json!({ "bot_token": TOKEN, "chat_id": "-1001234567890" }).to_string()
}

fn msg() -> Message {
    Message {
        title: Some("Disk <sda> 1.5".into()),
        ..Message::new("usage > 90% & rising_fast (see *log*)")
    }
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Telegram>(&v.to_string())
}

fn build_with(config: &TelegramConfig, template: Value, message: &Message) -> Value {
    Value::Object(build_payload(config, &template.to_string(), message).unwrap())
}

fn build(template: Value, message: &Message) -> Value {
    build_with(&plain(), template, message)
}

fn assert_no_token(text: &str) {
    assert!(!text.contains(SECRET_HALF), "token leaked: {text}");
}

fn assert_failure_has_no_token(e: &SendError) {
    let f = e.failure();
    assert_no_token(&f.message);
    assert_no_token(f.response_snippet.as_deref().unwrap_or(""));
    assert_no_token(f.response_json.as_deref().unwrap_or(""));
}

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    assert!(validate(json!({ "bot_token": TOKEN, "chat_id": "-1001234567890" })).is_ok());
    assert!(validate(json!({ "bot_token": TOKEN, "chat_id": -1001234567890_i64 })).is_ok());
    assert!(validate(json!({ "bot_token": TOKEN, "chat_id": 42 })).is_ok());
    assert!(validate(json!({ "bot_token": TOKEN, "chat_id": "@beacon_alerts" })).is_ok());
    assert!(validate(json!({
        "bot_token": "1:a",
        "chat_id": "123",
        "api_base_url": "http://127.0.0.1:8081/",
        "parse_mode": "MarkdownV2",
        "disable_notification": true,
        "message_thread_id": 7,
        "silent_below_priority": 1,
        "disable_web_page_preview": true,
        "protect_content": false
    }))
    .is_ok());
    assert!(validate(json!({ "bot_token": TOKEN, "chat_id": "1", "parse_mode": null })).is_ok());
    let c = plain();
    assert_eq!(c.api_base_url, "https://api.telegram.org");
    assert_eq!(c.silent_below_priority, 3);
    assert_eq!(c.parse_mode, None);
    assert_eq!(
        cfg(json!({ "bot_token": TOKEN, "chat_id": 42 })).chat_id,
        ChatId("42".into())
    );
}

#[test]
fn config_errors_name_the_field_and_never_echo_the_token() {
    let e = validate(json!({ "chat_id": "1" })).unwrap_err();
    assert_eq!(e.field, "bot_token");
    let e = validate(json!({ "bot_token": TOKEN })).unwrap_err();
    assert_eq!(e.field, "chat_id");
    for bad in [
        "",
        "123456789",
        ":AAH",
        "12a:AAH",
        "123:",
        "123:AA H",
        "123:AA/H",
        " 123:AAH",
    ] {
        let e = validate(json!({ "bot_token": bad, "chat_id": "1" })).unwrap_err();
        assert_eq!(e.field, "bot_token", "{bad:?}");
        assert!(
            bad.trim().is_empty() || !e.message.contains(bad.trim()),
            "{e:?}"
        );
    }
    for bad in [
        json!(""),
        json!("abc"),
        json!("@"),
        json!("@bad name"),
        json!("--1"),
        json!(1.5),
        json!(true),
        json!("99999999999999999999"),
    ] {
        let e = validate(json!({ "bot_token": TOKEN, "chat_id": bad })).unwrap_err();
        assert_eq!(e.field, "chat_id", "{bad}");
        assert_no_token(&e.message);
    }
    for bad in ["", "api.telegram.org", "ftp://x", "https://x/?a=1"] {
        let e = validate(json!({ "bot_token": TOKEN, "chat_id": "1", "api_base_url": bad }))
            .unwrap_err();
        assert_eq!(e.field, "api_base_url", "{bad}");
    }
    let e =
        validate(json!({ "bot_token": TOKEN, "chat_id": "1", "parse_mode": "html" })).unwrap_err();
    assert_eq!(e.field, "parse_mode");
    for p in [0, 7] {
        let e = validate(json!({ "bot_token": TOKEN, "chat_id": "1", "silent_below_priority": p }))
            .unwrap_err();
        assert_eq!(e.field, "silent_below_priority");
    }
    let e = validate(json!({ "bot_token": TOKEN, "chat_id": "1", "message_thread_id": 0 }))
        .unwrap_err();
    assert_eq!(e.field, "message_thread_id");
    let e = validate(json!({ "bot_token": TOKEN, "chat_id": "1", "disable_notification": "yes" }))
        .unwrap_err();
    assert_eq!(e.field, "disable_notification");
    let e = validate(json!({ "bot_token": TOKEN, "chat_id": "1", "token": "x" })).unwrap_err();
    assert_eq!(e.field, "token");
    assert!(e.message.contains("unknown field"), "{e:?}");
}

#[test]
fn describe_marks_the_token_secret() {
    let info = harness::channel_describe::<Telegram>();
    assert_eq!(info.id, "telegram");
    assert_eq!(info.name, "Telegram");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    assert_eq!(props["bot_token"]["x-secret"], true);
    assert_eq!(props["bot_token"]["writeOnly"], true);
    assert!(props["chat_id"].get("x-secret").is_none());
    assert_eq!(props["chat_id"]["type"], "string");
    assert_eq!(props["parse_mode"]["anyOf"][1], json!({ "type": "null" }));
    assert_eq!(
        schema["$defs"]["ParseMode"]["enum"],
        json!(["HTML", "MarkdownV2", "Markdown"])
    );
    assert_eq!(props["api_base_url"]["default"], "https://api.telegram.org");
    assert_eq!(props["silent_below_priority"]["default"], 3);
    assert_eq!(schema["required"], json!(["bot_token", "chat_id"]));
    assert_eq!(schema["additionalProperties"], false);
    for (key, _) in props.as_object().unwrap() {
        assert!(
            props[key]["description"].is_string(),
            "{key} has no description"
        );
    }
    let modes = schema.to_string();
    for mode in ["\"HTML\"", "\"MarkdownV2\"", "\"Markdown\""] {
        assert!(modes.contains(mode), "{mode} missing from the schema");
    }
}

#[test]
fn url_appends_the_method_to_the_base() {
    assert_eq!(
        send_message_url(&plain()),
        format!("https://api.telegram.org/bot{TOKEN}/sendMessage")
    );
    let c = with(json!({ "api_base_url": "http://127.0.0.1:8081/tg/" }));
    assert_eq!(
        send_message_url(&c),
        format!("http://127.0.0.1:8081/tg/bot{TOKEN}/sendMessage")
    );
}

// ---- payload --------------------------------------------------------------

#[test]
fn plain_fallback_and_chat_ids() {
    assert_eq!(
        build(json!({}), &msg()),
        json!({
            "chat_id": "-1001234567890",
            "text": "Disk <sda> 1.5\nusage > 90% & rising_fast (see *log*)"
        })
    );
    assert_eq!(
        build(json!({}), &Message::new("b")),
        json!({ "chat_id": "-1001234567890", "text": "b" })
    );
    // A chat id configured as a JSON number is sent as its string.
    let c = with(json!({ "chat_id": -1001234567890_i64 }));
    assert_eq!(
        build_with(&c, json!({}), &Message::new("b")),
        json!({ "chat_id": "-1001234567890", "text": "b" })
    );
    let c = with(json!({ "chat_id": "@beacon_alerts" }));
    assert_eq!(
        build_with(&c, json!({}), &Message::new("b")),
        json!({ "chat_id": "@beacon_alerts", "text": "b" })
    );
    let p = build_payload(&plain(), "", &Message::new("b")).unwrap();
    assert_eq!(p["text"], "b");
}

#[test]
fn html_fallback_escapes_and_bolds_the_title() {
    let c = with(json!({ "parse_mode": "HTML" }));
    assert_eq!(
        build_with(&c, json!({}), &msg()),
        json!({
            "chat_id": "-1001234567890",
            "text": "<b>Disk &lt;sda&gt; 1.5</b>\nusage &gt; 90% &amp; rising_fast (see *log*)",
            "parse_mode": "HTML"
        })
    );
    assert_eq!(
        build_with(&c, json!({}), &Message::new("a<b"))["text"],
        "a&lt;b"
    );
}

#[test]
fn markdown_v2_fallback_escapes_per_telegram_rules() {
    let c = with(json!({ "parse_mode": "MarkdownV2" }));
    assert_eq!(
        build_with(&c, json!({}), &msg()),
        json!({
            "chat_id": "-1001234567890",
            "text": "*Disk <sda\\> 1\\.5*\nusage \\> 90% & rising\\_fast \\(see \\*log\\*\\)",
            "parse_mode": "MarkdownV2"
        })
    );
    assert_eq!(
        escape_markdown_v2("_*[]()~`>#+-=|{}.!\\ ok"),
        "\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\ ok"
    );
}

#[test]
fn legacy_markdown_fallback() {
    let c = with(json!({ "parse_mode": "Markdown" }));
    assert_eq!(
        build_with(&c, json!({}), &msg())["text"],
        "*Disk <sda> 1.5*\nusage > 90% & rising\\_fast (see \\*log\\*)"
    );
    // A title that would need escaping is not bolded (legacy Markdown
    // cannot escape inside an entity).
    let m = Message {
        title: Some("a_b".into()),
        ..Message::new("c")
    };
    assert_eq!(build_with(&c, json!({}), &m)["text"], "a\\_b\nc");
}

#[test]
fn template_text_and_parse_mode_are_sent_as_is() {
    let c = with(json!({ "parse_mode": "HTML" }));
    assert_eq!(
        build_with(&c, json!({ "text": "<i>raw</i> & more" }), &msg()),
        json!({ "chat_id": "-1001234567890", "text": "<i>raw</i> & more", "parse_mode": "HTML" })
    );
    // The template's parse mode wins over the config's and shapes the fallback.
    assert_eq!(
        build_with(
            &c,
            json!({ "parse_mode": "markdownv2" }),
            &Message::new("a.b")
        ),
        json!({ "chat_id": "-1001234567890", "text": "a\\.b", "parse_mode": "MarkdownV2" })
    );
    // "none" turns the config's parse mode off.
    assert_eq!(
        build_with(&c, json!({ "parse_mode": "none" }), &Message::new("a<b")),
        json!({ "chat_id": "-1001234567890", "text": "a<b" })
    );
    // An empty rendering leaves the config's in place.
    assert_eq!(
        build_with(
            &c,
            json!({ "parse_mode": "", "text": "" }),
            &Message::new("a<b")
        ),
        json!({ "chat_id": "-1001234567890", "text": "a&lt;b", "parse_mode": "HTML" })
    );
    let e = build_payload(&plain(), r#"{"parse_mode": "BBCode"}"#, &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("`parse_mode`"), "{e:?}");
}

#[test]
fn text_is_capped_at_4096() {
    // Plain fallback.
    let p = build(json!({}), &Message::new("x".repeat(5000)));
    assert_eq!(p["text"], format!("{}…", "x".repeat(4095)));
    // With a title: title + newline + body within the limit.
    let m = Message {
        title: Some("T".into()),
        ..Message::new("y".repeat(5000))
    };
    let text = build(json!({}), &m)["text"].as_str().unwrap().to_owned();
    assert_eq!(text, format!("T\n{}…", "y".repeat(4093)));
    assert_eq!(text.chars().count(), 4096);
    // HTML: the visible text is cut before escaping, so markup stays whole.
    let c = with(json!({ "parse_mode": "HTML" }));
    let m = Message {
        title: Some("T".into()),
        ..Message::new("<".repeat(5000))
    };
    let text = build_with(&c, json!({}), &m)["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(text, format!("<b>T</b>\n{}…", "&lt;".repeat(4093)));
    // Telegram counts UTF-16 units: an astral character counts twice.
    let p = build(json!({}), &Message::new("😀".repeat(3000)));
    assert_eq!(p["text"], format!("{}…", "😀".repeat(2047)));
    // Plain template text is cut too; marked-up template text is sent whole.
    let p = build(json!({ "text": "z".repeat(4097) }), &msg());
    assert_eq!(p["text"], format!("{}…", "z".repeat(4095)));
    let long_html = format!("<b>{}</b>", "z".repeat(4096));
    let p = build_with(&c, json!({ "text": long_html }), &msg());
    assert_eq!(p["text"], long_html);
    // Exactly at the limit: untouched.
    let p = build(json!({ "text": "z".repeat(4096) }), &msg());
    assert_eq!(p["text"], "z".repeat(4096));
}

#[test]
fn silence_follows_priority_config_and_template() {
    let at = |priority: u8| Message {
        priority,
        ..Message::new("b")
    };
    for (priority, silent) in [(1, true), (2, true), (3, false), (4, false), (5, false)] {
        let p = build(json!({}), &at(priority));
        assert_eq!(
            p.get("disable_notification") == Some(&json!(true)),
            silent,
            "priority {priority}: {p}"
        );
    }
    let never = with(json!({ "silent_below_priority": 1 }));
    assert!(build_with(&never, json!({}), &at(1))
        .get("disable_notification")
        .is_none());
    let always = with(json!({ "silent_below_priority": 6 }));
    assert_eq!(
        build_with(&always, json!({}), &at(5))["disable_notification"],
        true
    );
    let config_silent = with(json!({ "disable_notification": true }));
    assert_eq!(
        build_with(&config_silent, json!({}), &at(5))["disable_notification"],
        true
    );
    // The template decides when it says so (strings as rendered).
    assert!(build(json!({ "disable_notification": "false" }), &at(1))
        .get("disable_notification")
        .is_none());
    assert_eq!(
        build(json!({ "disable_notification": "1" }), &at(5))["disable_notification"],
        true
    );
    let e =
        build_payload(&plain(), r#"{"disable_notification": "sometimes"}"#, &at(3)).unwrap_err();
    assert!(e.message().contains("`disable_notification`"), "{e:?}");
}

#[test]
fn link_previews_threads_and_protection() {
    assert_eq!(
        build(
            json!({ "disable_web_page_preview": "true", "message_thread_id": "42", "protect_content": "yes" }),
            &Message::new("b")
        ),
        json!({
            "chat_id": "-1001234567890",
            "text": "b",
            "link_preview_options": { "is_disabled": true },
            "message_thread_id": 42,
            "protect_content": true
        })
    );
    let c = with(
        json!({ "disable_web_page_preview": true, "message_thread_id": 7, "protect_content": true }),
    );
    assert_eq!(
        build_with(&c, json!({}), &Message::new("b")),
        json!({
            "chat_id": "-1001234567890",
            "text": "b",
            "link_preview_options": { "is_disabled": true },
            "message_thread_id": 7,
            "protect_content": true
        })
    );
    // The template overrides the config both ways.
    assert_eq!(
        build_with(
            &c,
            json!({ "disable_web_page_preview": false, "message_thread_id": 9 }),
            &Message::new("b")
        ),
        json!({ "chat_id": "-1001234567890", "text": "b", "message_thread_id": 9, "protect_content": true })
    );
    // A template's own link_preview_options are kept and completed.
    assert_eq!(
        build(
            json!({ "disable_web_page_preview": "1", "link_preview_options": "{\"url\": \"https://x\"}" }),
            &Message::new("b")
        )["link_preview_options"],
        json!({ "url": "https://x", "is_disabled": true })
    );
    for bad in [json!("0"), json!("-3"), json!("x"), json!(1.5)] {
        let e = build_payload(
            &plain(),
            &json!({ "message_thread_id": bad }).to_string(),
            &msg(),
        )
        .unwrap_err();
        assert!(e.message().contains("`message_thread_id`"), "{e:?}");
    }
}

#[test]
fn unknown_keys_pass_through_but_chat_id_is_the_channels() {
    let markup = json!({ "inline_keyboard": [[{ "text": "Open", "url": "https://x" }]] });
    assert_eq!(
        build(
            json!({ "chat_id": "@elsewhere", "reply_markup": markup, "empty": "", "message_effect_id": "5104841245755180586" }),
            &Message::new("b")
        ),
        json!({
            "chat_id": "-1001234567890",
            "text": "b",
            "reply_markup": markup,
            "message_effect_id": "5104841245755180586"
        })
    );
}

#[test]
fn bad_templates_are_permanent() {
    for bad in ["[1]", "{nope", "\"x\""] {
        let e = build_payload(&plain(), bad, &msg()).unwrap_err();
        assert!(!e.is_retryable(), "{bad}");
    }
}

// ---- responses ------------------------------------------------------------

const OK_BODY: &[u8] = br#"{"ok":true,"result":{"message_id":42,"from":{"id":123456789,"is_bot":true,"first_name":"Beacon","username":"beacon_bot"},"chat":{"id":-1001234567890,"title":"Ops","type":"supergroup"},"date":1700000000,"text":"b"}}"#;

#[test]
fn ok_answer_is_success() {
    let out = classify_response(200, OK_BODY, None, TOKEN).unwrap();
    assert_eq!(out.http_status, Some(200));
    assert_eq!(
        out.response_snippet.as_deref(),
        Some(std::str::from_utf8(OK_BODY).unwrap())
    );
    let json: Value = serde_json::from_str(out.response_json.as_deref().unwrap()).unwrap();
    assert_eq!(json["result"]["message_id"], 42);
    // Success texts are redacted too.
    let body = format!(r#"{{"ok":true,"result":{{"text":"{TOKEN}"}}}}"#);
    let out = classify_response(200, body.as_bytes(), None, TOKEN).unwrap();
    assert_eq!(
        out.response_snippet.as_deref(),
        Some(r#"{"ok":true,"result":{"text":"[REDACTED]"}}"#)
    );
    assert_eq!(
        out.response_json.as_deref(),
        Some(r#"{"ok":true,"result":{"text":"[REDACTED]"}}"#)
    );
}

#[test]
fn telegram_client_errors_are_permanent() {
    let cases: [(u16, &[u8], &str); 4] = [
        (
            400,
            br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
            "Telegram error 400: Bad Request: chat not found (check chat_id, and that the bot was added to the chat)",
        ),
        (
            401,
            br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            "Telegram error 401: Unauthorized (check bot_token)",
        ),
        (
            403,
            br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
            "Telegram error 403: Forbidden: bot was blocked by the user",
        ),
        (
            404,
            br#"{"ok":false,"error_code":404,"description":"Not Found"}"#,
            "Telegram error 404: Not Found",
        ),
    ];
    for (status, body, message) in cases {
        let e = classify_response(status, body, Some(5000), TOKEN).unwrap_err();
        assert!(!e.is_retryable(), "{status}");
        let f = e.into_failure();
        assert_eq!(f.message, message);
        assert_eq!(f.http_status, Some(status));
        assert_eq!(
            f.response_snippet.as_deref(),
            Some(std::str::from_utf8(body).unwrap())
        );
        let json: Value = serde_json::from_str(f.response_json.as_deref().unwrap()).unwrap();
        assert_eq!(json["error_code"], status);
        assert_eq!(f.retry_after_ms, None);
    }
}

#[test]
fn migrated_group_is_permanent_and_names_the_new_chat_id() {
    let body = br#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001987654321}}"#;
    let e = classify_response(400, body, None, TOKEN).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e.message(),
        "Telegram error 400: Bad Request: group chat was upgraded to a supergroup chat (the group became a supergroup: set chat_id to -1001987654321)"
    );
    assert_eq!(e.failure().http_status, Some(400));
}

#[test]
fn rate_limit_uses_the_body_hint() {
    let body = br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#;
    let e = classify_response(429, body, Some(9000), TOKEN).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "Telegram error 429: Too Many Requests: retry after 7".into(),
            retry_after_ms: Some(7000),
            http_status: Some(429),
            response_snippet: Some(std::str::from_utf8(body).unwrap().into()),
            response_json: Some(serde_json::from_slice::<Value>(body).unwrap().to_string()),
        })
    );
    // Without a body hint, the header's.
    let e = classify_response(
        429,
        br#"{"ok":false,"error_code":429,"description":"Too Many Requests"}"#,
        Some(9000),
        TOKEN,
    )
    .unwrap_err();
    assert_eq!(e.failure().retry_after_ms, Some(9000));
}

#[test]
fn server_errors_are_retryable() {
    let e = classify_response(
        500,
        br#"{"ok":false,"error_code":500,"description":"Internal Server Error: restart"}"#,
        None,
        TOKEN,
    )
    .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(
        e.message(),
        "Telegram error 500: Internal Server Error: restart"
    );
    let html = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n";
    let e = classify_response(502, html, Some(4000), TOKEN).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().http_status, Some(502));
    assert_eq!(e.failure().retry_after_ms, Some(4000));
    assert!(e.message().starts_with("HTTP 502: <html>"), "{e:?}");
    assert_eq!(e.failure().response_json, None);
}

#[test]
fn ok_false_in_a_200_is_a_failure() {
    let body =
        br#"{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}"#;
    let e = classify_response(200, body, None, TOKEN).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e.message(),
        "Telegram error 400: Bad Request: message text is empty"
    );
    assert_eq!(e.failure().http_status, Some(200));
    assert!(e.failure().response_json.is_some());
    // A 200 that is not Telegram's JSON is not a success either.
    let e = classify_response(200, b"<html>captive portal</html>", None, TOKEN).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e.message(),
        "HTTP 200 but the answer is not Telegram's JSON: <html>captive portal</html>"
    );
    let e = classify_response(204, b"", None, TOKEN).unwrap_err();
    assert!(e.message().contains("(empty body)"), "{e:?}");
}

#[test]
fn response_texts_are_redacted() {
    // A self-hosted server or proxy echoing the path in an error page.
    let page = format!("Cannot POST /bot{TOKEN}/sendMessage");
    let e = classify_response(404, page.as_bytes(), None, TOKEN).unwrap_err();
    assert_failure_has_no_token(&e);
    assert_eq!(
        e.message(),
        "HTTP 404: Cannot POST /bot[REDACTED]/sendMessage"
    );
    assert_eq!(
        e.failure().response_snippet.as_deref(),
        Some("Cannot POST /bot[REDACTED]/sendMessage")
    );
    let body =
        format!(r#"{{"ok":false,"error_code":400,"description":"bad token {SECRET_HALF}"}}"#);
    let e = classify_response(400, body.as_bytes(), None, TOKEN).unwrap_err();
    assert_failure_has_no_token(&e);
    let json: Value = serde_json::from_str(e.failure().response_json.as_deref().unwrap()).unwrap();
    assert_eq!(json["description"], "bad token [REDACTED]");
    assert_eq!(redact(&format!("x {TOKEN} y"), TOKEN), "x [REDACTED] y");
}

// ---- end to end through the SDK harness ------------------------------------

#[test]
fn send_posts_the_exact_request() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, OK_BODY.to_vec())));
    let config = json!({
        "bot_token": TOKEN,
        "chat_id": "-1001234567890",
        "parse_mode": "HTML",
        "message_thread_id": 3
    })
    .to_string();
    let m = Message {
        priority: 2,
        ..msg()
    };
    let out =
        harness::channel_send::<Telegram>(&config, r#"{"disable_web_page_preview": "true"}"#, &m)
            .unwrap();
    assert_eq!(out.http_status, Some(200));
    let reqs = testing::requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.url,
        format!("https://api.telegram.org/bot{TOKEN}/sendMessage")
    );
    assert_eq!(
        req.headers,
        vec![("content-type".to_string(), "application/json".to_string())]
    );
    let sent: Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({
            "chat_id": "-1001234567890",
            "text": "<b>Disk &lt;sda&gt; 1.5</b>\nusage &gt; 90% &amp; rising_fast (see *log*)",
            "parse_mode": "HTML",
            "disable_notification": true,
            "message_thread_id": 3,
            "link_preview_options": { "is_disabled": true }
        })
    );
    for (_, line) in testing::take_logs() {
        assert_no_token(&line);
        assert!(!line.contains("usage"), "{line}");
    }
    testing::reset();
}

#[test]
fn send_maps_answers_and_redacts_transport_failures() {
    let config = config_json();
    testing::reset();

    testing::mock_fetch(|_| {
        Ok(Response::new(
            429,
            br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#.to_vec(),
        )
        .with_header("retry-after", "7"))
    });
    let e = harness::channel_send::<Telegram>(&config, "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().retry_after_ms, Some(7000));
    assert_eq!(e.failure().http_status, Some(429));

    testing::mock_fetch(|_| {
        Ok(Response::new(
            400,
            br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#
                .to_vec(),
        ))
    });
    let e = harness::channel_send::<Telegram>(&config, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("chat not found"), "{e:?}");

    testing::mock_fetch(|_| Ok(Response::new(503, Vec::new()).with_header("retry-after", "3")));
    let e = harness::channel_send::<Telegram>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(
        e,
        SendError::retryable("HTTP 503")
            .with_status(503)
            .with_retry_after_ms(3000)
    );

    testing::mock_fetch(|_| Err(FetchError::Timeout));
    let e = harness::channel_send::<Telegram>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(e, SendError::retryable("request timed out"));

    testing::mock_fetch(|req| {
        Err(FetchError::Connection(format!(
            "error sending request for url ({}): tcp connect error",
            req.url
        )))
    });
    let e = harness::channel_send::<Telegram>(&config, "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(
        e.message(),
        "connection error: error sending request for url (https://api.telegram.org/bot[REDACTED]/sendMessage): tcp connect error"
    );
    assert_failure_has_no_token(&e);

    testing::mock_fetch(|req| {
        Err(FetchError::PolicyDenied(format!(
            "{} resolves to a private address",
            req.url
        )))
    });
    let e = harness::channel_send::<Telegram>(&config, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert_failure_has_no_token(&e);
    assert!(
        e.message().starts_with("refused by outbound policy"),
        "{e:?}"
    );

    testing::mock_fetch(|_| Err(FetchError::InvalidRequest(format!("bad url /bot{TOKEN}/x"))));
    let e = harness::channel_send::<Telegram>(&config, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert_failure_has_no_token(&e);
    testing::reset();
}

#[test]
fn send_with_invalid_config_or_template_does_not_fetch() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, OK_BODY.to_vec())));
    let bad_token = "123456789 AAHk7_Zx-Q2wErTyUiOpAsDfGhJkLzXcVbN";
    let e = harness::channel_send::<Telegram>(
        &json!({ "bot_token": bad_token, "chat_id": "1" }).to_string(),
        "{}",
        &msg(),
    )
    .unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("bot_token"), "{e:?}");
    assert_failure_has_no_token(&e);
    let e = harness::channel_send::<Telegram>(&config_json(), r#"{"text": {"a": 1}}"#, &msg())
        .unwrap_err();
    assert!(!e.is_retryable());
    assert!(testing::requests().is_empty());
    testing::reset();
}
