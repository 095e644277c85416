use super::*;
use beacon_plugin_sdk::harness;
use beacon_plugin_sdk::http::{FetchError, Response};
use beacon_plugin_sdk::{testing, SendFailure};
use serde_json::json;

const HOOK: &str = "https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstuvwx";

fn cfg(v: Value) -> SlackConfig {
    serde_json::from_value(v).unwrap()
}

fn plain() -> SlackConfig {
    cfg(json!({ "webhook_url": HOOK }))
}

fn config_json() -> String {
    json!({ "webhook_url": HOOK }).to_string()
}

fn msg() -> Message {
    Message {
        title: Some("Disk <sda>".into()),
        ..Message::new("usage > 90% & rising")
    }
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Slack>(&v.to_string())
}

fn build(template: Value, message: &Message) -> Value {
    Value::Object(build_payload(&plain(), &template.to_string(), message).unwrap())
}

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    assert!(validate(json!({ "webhook_url": HOOK })).is_ok());
    // http is allowed (tests use a loopback receiver).
    assert!(validate(json!({ "webhook_url": "http://127.0.0.1:9000/hook" })).is_ok());
    assert!(validate(json!({
        "webhook_url": HOOK,
        "username": "Beacon",
        "icon_emoji": ":rotating_light:",
        "icon_url": "https://example.com/i.png"
    }))
    .is_ok());
    // Blank optional fields (as a form sends them) count as unset.
    assert!(validate(json!({
        "webhook_url": HOOK, "username": "", "icon_emoji": "", "icon_url": " "
    }))
    .is_ok());
}

#[test]
fn config_errors_name_the_field() {
    assert_eq!(validate(json!({})).unwrap_err().field, "webhook_url");
    for url in [
        "",
        "hooks.slack.com/services/x",
        "ftp://x",
        "https://u:p@x/y",
    ] {
        let e = validate(json!({ "webhook_url": url })).unwrap_err();
        assert_eq!(e.field, "webhook_url", "{url}");
        // The (secret) URL is never echoed in the error.
        assert!(url.is_empty() || !e.message.contains(url), "{e:?}");
    }
    assert_eq!(
        validate(json!({ "webhook_url": 5 })).unwrap_err().field,
        "webhook_url"
    );
    let e = validate(json!({ "webhook_url": HOOK, "icon_url": "not a url" })).unwrap_err();
    assert_eq!(e.field, "icon_url");
    for emoji in ["ghost", ":ghost", "::", ":a b:"] {
        let e = validate(json!({ "webhook_url": HOOK, "icon_emoji": emoji })).unwrap_err();
        assert_eq!(e.field, "icon_emoji", "{emoji}");
    }
    let e = validate(json!({ "webhook_url": HOOK, "username": "x".repeat(81) })).unwrap_err();
    assert_eq!(e.field, "username");
    let e = validate(json!({ "webhook_url": HOOK, "channel": "#ops" })).unwrap_err();
    assert_eq!(e.field, "channel");
    assert!(e.message.contains("unknown field"), "{e:?}");
}

#[test]
fn describe_marks_the_webhook_url_secret() {
    let info = harness::channel_describe::<Slack>();
    assert_eq!(info.id, "slack");
    assert_eq!(info.name, "Slack");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["properties"]["webhook_url"]["x-secret"], true);
    assert_eq!(schema["properties"]["webhook_url"]["writeOnly"], true);
    assert!(schema["properties"]["username"].get("x-secret").is_none());
    assert_eq!(schema["required"], json!(["webhook_url"]));
    assert_eq!(schema["additionalProperties"], false);
    for key in ["webhook_url", "username", "icon_emoji", "icon_url"] {
        assert!(
            schema["properties"][key]["description"].is_string(),
            "{key} has no description"
        );
    }
}

// ---- payload --------------------------------------------------------------

#[test]
fn fallback_text_is_escaped_and_bolds_the_title() {
    assert_eq!(
        build(json!({}), &msg()),
        json!({ "text": "*Disk &lt;sda&gt;*\nusage &gt; 90% &amp; rising" })
    );
    assert_eq!(
        build(json!({}), &Message::new("a <b> & c")),
        json!({ "text": "a &lt;b&gt; &amp; c" })
    );
    // An empty title is no title.
    let m = Message {
        title: Some(String::new()),
        ..Message::new("b")
    };
    assert_eq!(build(json!({}), &m), json!({ "text": "b" }));
    // Empty and null template values fall back too.
    assert_eq!(
        build(json!({ "text": "" }), &Message::new("b")),
        json!({ "text": "b" })
    );
    assert_eq!(
        build(json!({ "text": null }), &Message::new("b")),
        json!({ "text": "b" })
    );
    // An empty rendering is `{}`.
    let p = build_payload(&plain(), "  ", &Message::new("b")).unwrap();
    assert_eq!(Value::Object(p), json!({ "text": "b" }));
}

#[test]
fn template_text_is_sent_as_is() {
    assert_eq!(
        build(
            json!({ "text": "<!here> deploy *done* <https://x|link> & more" }),
            &msg()
        ),
        json!({ "text": "<!here> deploy *done* <https://x|link> & more" })
    );
}

#[test]
fn blocks_as_list_or_json_string() {
    let blocks = json!([{ "type": "section", "text": { "type": "mrkdwn", "text": "*hi*" } }]);
    let want =
        json!({ "text": "*Disk &lt;sda&gt;*\nusage &gt; 90% &amp; rising", "blocks": blocks });
    assert_eq!(build(json!({ "blocks": blocks }), &msg()), want);
    assert_eq!(build(json!({ "blocks": blocks.to_string() }), &msg()), want);
    // Empty lists and blank strings are absent.
    assert_eq!(
        build(
            json!({ "blocks": [], "attachments": " " }),
            &Message::new("b")
        ),
        json!({ "text": "b" })
    );
    let attachments = json!([{ "color": "#ff0000", "text": "red" }]);
    assert_eq!(
        build(
            json!({ "text": "t", "attachments": attachments.to_string() }),
            &msg()
        ),
        json!({ "text": "t", "attachments": attachments })
    );
}

#[test]
fn bad_blocks_are_permanent_errors_naming_the_key() {
    for bad in [
        json!("{not json"),
        json!("{\"type\": \"section\"}"),
        json!({ "type": "x" }),
        json!(3),
    ] {
        let e = build_payload(&plain(), &json!({ "blocks": bad }).to_string(), &msg()).unwrap_err();
        assert!(!e.is_retryable());
        assert!(e.message().contains("`blocks`"), "{e:?}");
    }
}

#[test]
fn full_vocabulary_with_string_values() {
    let template = json!({
        "text": "T",
        "username": "Deploy bot",
        "icon_emoji": ":rocket:",
        "thread_ts": "1700000000.123456",
        "unfurl_links": "false",
        "unfurl_media": "1",
        "mrkdwn": "TRUE",
        "channel": "#ops",
        "reply_broadcast": "no"
    });
    assert_eq!(
        build(template, &msg()),
        json!({
            "text": "T",
            "username": "Deploy bot",
            "icon_emoji": ":rocket:",
            "thread_ts": "1700000000.123456",
            "unfurl_links": false,
            "unfurl_media": true,
            "mrkdwn": true,
            "channel": "#ops",
            "reply_broadcast": false
        })
    );
    // Native JSON values work too; a numeric thread_ts becomes a string.
    assert_eq!(
        build(
            json!({ "text": "T", "unfurl_links": true, "mrkdwn": 0, "thread_ts": 1700000000 }),
            &msg()
        ),
        json!({ "text": "T", "unfurl_links": true, "mrkdwn": false, "thread_ts": "1700000000" })
    );
    let e = build_payload(&plain(), r#"{"unfurl_links": "maybe"}"#, &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("`unfurl_links`"), "{e:?}");
    let e = build_payload(&plain(), r#"{"text": ["a"]}"#, &msg()).unwrap_err();
    assert!(e.message().contains("`text`"), "{e:?}");
}

#[test]
fn config_identity_applies_unless_the_template_sets_it() {
    let c = cfg(json!({
        "webhook_url": HOOK, "username": "Beacon", "icon_emoji": ":bell:"
    }));
    let p = build_payload(&c, "{}", &Message::new("b")).unwrap();
    assert_eq!(
        Value::Object(p),
        json!({ "text": "b", "username": "Beacon", "icon_emoji": ":bell:" })
    );
    // A template icon (either kind) replaces the config's icon entirely.
    let p = build_payload(
        &c,
        r#"{"username": "Other", "icon_url": "https://x/i.png"}"#,
        &Message::new("b"),
    )
    .unwrap();
    assert_eq!(
        Value::Object(p),
        json!({ "text": "b", "username": "Other", "icon_url": "https://x/i.png" })
    );
    // Rendered-empty template values leave the config's in place.
    let p = build_payload(
        &c,
        r#"{"username": "", "icon_url": ""}"#,
        &Message::new("b"),
    )
    .unwrap();
    assert_eq!(
        Value::Object(p),
        json!({ "text": "b", "username": "Beacon", "icon_emoji": ":bell:" })
    );
}

#[test]
fn unknown_keys_pass_through_and_empty_ones_are_dropped() {
    assert_eq!(
        build(
            json!({ "text": "T", "icon": "x", "metadata": { "event_type": "e" }, "empty": "", "nothing": null }),
            &msg()
        ),
        json!({ "text": "T", "icon": "x", "metadata": { "event_type": "e" } })
    );
}

#[test]
fn bad_templates_are_permanent() {
    for bad in ["[1,2]", "{nope", "\"text\""] {
        let e = build_payload(&plain(), bad, &msg()).unwrap_err();
        assert!(!e.is_retryable(), "{bad}");
        assert_eq!(e.failure().http_status, None);
    }
}

// ---- responses ------------------------------------------------------------

#[test]
fn ok_answer_is_success() {
    let out = classify_response(200, b"ok", None).unwrap();
    assert_eq!(
        out,
        SendOutcome {
            http_status: Some(200),
            response_snippet: Some("ok".into()),
            response_json: None,
        }
    );
    let out = classify_response(200, br#"{"ok":true}"#, None).unwrap();
    assert_eq!(out.response_json.as_deref(), Some(r#"{"ok":true}"#));
    let e = classify_response(200, br#"{"ok":false,"error":"invalid_blocks"}"#, None).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.message(), "Slack error: invalid_blocks");
    assert_eq!(e.failure().http_status, Some(200));
    let json: Value = serde_json::from_str(e.failure().response_json.as_deref().unwrap()).unwrap();
    assert_eq!(json, json!({"ok": false, "error": "invalid_blocks"}));
}

#[test]
fn slack_error_answers_are_permanent() {
    for (status, code) in [
        (400, "invalid_payload"),
        (400, "user_not_found"),
        (403, "action_prohibited"),
        (403, "invalid_token"),
        (404, "channel_not_found"),
        (404, "no_service"),
        (410, "channel_is_archived"),
    ] {
        let e = classify_response(status, code.as_bytes(), Some(5000)).unwrap_err();
        assert!(!e.is_retryable(), "{status} {code}");
        let f = e.into_failure();
        assert!(
            f.message.starts_with(&format!("HTTP {status}: {code} (")),
            "{status} {code}: {}",
            f.message
        );
        assert_eq!(f.http_status, Some(status));
        assert_eq!(f.response_snippet.as_deref(), Some(code));
        assert_eq!(f.response_json, None);
        assert_eq!(f.retry_after_ms, None);
    }
    let e = classify_response(404, b"channel_not_found", None).unwrap_err();
    assert_eq!(
        e.message(),
        "HTTP 404: channel_not_found (the webhook's channel or user no longer exists)"
    );
    // An unknown code keeps the plain status message.
    let e = classify_response(400, b"something_new", None).unwrap_err();
    assert_eq!(
        e,
        SendError::permanent("HTTP 400: something_new")
            .with_status(400)
            .with_snippet("something_new")
    );
}

#[test]
fn rate_limits_and_server_errors_are_retryable() {
    let e = classify_response(429, b"rate_limited", Some(30_000)).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().retry_after_ms, Some(30_000));
    assert_eq!(e.failure().http_status, Some(429));
    assert!(e.message().starts_with("HTTP 429: rate_limited"), "{e:?}");
    let e = classify_response(500, b"", None).unwrap_err();
    assert_eq!(e, SendError::retryable("HTTP 500").with_status(500));
    let e = classify_response(503, b"<html>busy</html>", Some(2000)).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().retry_after_ms, Some(2000));
}

#[test]
fn redaction_hides_the_webhook_url() {
    let text = format!("error sending request for url ({HOOK}): connection reset");
    let redacted = redact(&text, HOOK);
    assert_eq!(
        redacted,
        "error sending request for url ([REDACTED]): connection reset"
    );
    let path_only = redact(
        "POST /services/T0001/B0002/abcdefghijklmnopqrstuvwx failed",
        HOOK,
    );
    assert_eq!(path_only, "POST [REDACTED] failed");
}

// ---- end to end through the SDK harness ------------------------------------

#[test]
fn send_posts_the_exact_request() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, b"ok".to_vec())));
    let config = json!({
        "webhook_url": HOOK, "username": "Beacon", "icon_emoji": ":bell:"
    })
    .to_string();
    let template = json!({ "text": "{{ignored}} T", "thread_ts": "1700000000.000100", "unfurl_links": "false" });
    let out = harness::channel_send::<Slack>(&config, &template.to_string(), &msg()).unwrap();
    assert_eq!(out.http_status, Some(200));
    assert_eq!(out.response_snippet.as_deref(), Some("ok"));
    let reqs = testing::requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, HOOK);
    assert_eq!(
        req.headers,
        vec![("content-type".to_string(), "application/json".to_string())]
    );
    assert!(!req.follow_redirects);
    let sent: Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({
            "text": "{{ignored}} T",
            "thread_ts": "1700000000.000100",
            "unfurl_links": false,
            "username": "Beacon",
            "icon_emoji": ":bell:"
        })
    );
    // Neither the webhook URL nor the message reaches the log.
    let logs = testing::take_logs();
    assert!(logs
        .iter()
        .all(|(_, l)| !l.contains("abcdefghij") && !l.contains("usage")));
    testing::reset();
}

#[test]
fn send_without_template_uses_the_message() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, b"ok".to_vec())));
    harness::channel_send::<Slack>(&config_json(), "{}", &msg()).unwrap();
    let sent: Value =
        serde_json::from_slice(testing::requests()[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({ "text": "*Disk &lt;sda&gt;*\nusage &gt; 90% &amp; rising" })
    );
    testing::reset();
}

#[test]
fn send_maps_answers_and_transport_failures() {
    let config = config_json();
    testing::reset();

    testing::mock_fetch(|_| {
        Ok(Response::new(429, b"rate_limited".to_vec()).with_header("retry-after", "30"))
    });
    let e = harness::channel_send::<Slack>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "HTTP 429: rate_limited (Slack's rate limit: about one message per second per webhook)".into(),
            retry_after_ms: Some(30_000),
            http_status: Some(429),
            response_snippet: Some("rate_limited".into()),
            response_json: None,
        })
    );

    testing::mock_fetch(|_| Ok(Response::new(410, b"channel_is_archived".to_vec())));
    let e = harness::channel_send::<Slack>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(
        e,
        SendError::Permanent(SendFailure {
            message: "HTTP 410: channel_is_archived (the webhook's channel is archived)".into(),
            retry_after_ms: None,
            http_status: Some(410),
            response_snippet: Some("channel_is_archived".into()),
            response_json: None,
        })
    );

    testing::mock_fetch(|_| Ok(Response::new(502, b"Bad Gateway".to_vec())));
    let e = harness::channel_send::<Slack>(&config, "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().http_status, Some(502));

    testing::mock_fetch(|_| Err(FetchError::Timeout));
    let e = harness::channel_send::<Slack>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(e, SendError::retryable("request timed out"));

    testing::mock_fetch(|req| {
        Err(FetchError::Connection(format!(
            "error sending request for url ({})",
            req.url
        )))
    });
    let e = harness::channel_send::<Slack>(&config, "{}", &msg()).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(
        e.message(),
        "connection error: error sending request for url ([REDACTED])"
    );

    testing::mock_fetch(|_| Err(FetchError::PolicyDenied("10.0.0.1 is private".into())));
    let e = harness::channel_send::<Slack>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(
        e,
        SendError::permanent("refused by outbound policy: 10.0.0.1 is private")
    );
    assert_eq!(testing::requests().len(), 6);
    testing::reset();
}

#[test]
fn send_with_invalid_config_or_template_does_not_fetch() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, b"ok".to_vec())));
    let e = harness::channel_send::<Slack>(r#"{"webhook_url": "nope"}"#, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("webhook_url"), "{e:?}");
    assert!(!e.message().contains("nope"), "{e:?}");
    let e =
        harness::channel_send::<Slack>(&config_json(), r#"{"blocks": "{"}"#, &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(testing::requests().is_empty());
    testing::reset();
}
