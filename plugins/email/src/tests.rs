use super::*;
use beacon_plugin_sdk::mail::MailError;
use beacon_plugin_sdk::{harness, testing, SendFailure};
use serde_json::{json, Value};

fn cfg(v: Value) -> EmailConfig {
    serde_json::from_value(v).unwrap()
}

fn base() -> EmailConfig {
    cfg(json!({"to": ["ops@example.com"]}))
}

fn msg() -> Message {
    Message {
        title: Some("Disk full".into()),
        body: "95% used on /volume1\nsecond line".into(),
        priority: 4,
        tags: vec!["nas".into(), "disk".into()],
        url: Some("https://nas.example/status?a=1&b=2".into()),
        endpoint_name: "nas-alerts".into(),
        ..Message::default()
    }
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Email>(&v.to_string())
}

fn mail(config: &EmailConfig, template: Value, message: &Message) -> Mail {
    build_mail(config, &template.to_string(), message).unwrap()
}

fn mail_err(template: Value) -> SendError {
    build_mail(&base(), &template.to_string(), &msg()).unwrap_err()
}

/// The text part of a mail built from `msg()` without a template.
const MSG_TEXT: &str = "95% used on /volume1\nsecond line\n\n-- \nPriority: 4 (high)\nTags: nas, disk\nLink: https://nas.example/status?a=1&b=2\nSent by Beacon Spear from endpoint nas-alerts";

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    let ten: Vec<String> = (0..10).map(|i| format!("u{i}@example.com")).collect();
    for ok in [
        json!({"to": ["ops@example.com"]}),
        json!({"to": ten}),
        json!({"to": ["a@b"], "subject_prefix": "[beacon]", "reply_to": "noc@example.com", "html": true}),
        json!({"to": ["first.last+tag@sub.example.co.uk", "ünï@exämple.de"]}),
        json!({"to": [format!("{}@example.com", "x".repeat(242))]}), // 254 characters
        // Forms may send null or blank for fields left empty.
        json!({"to": ["a@b.c"], "subject_prefix": null, "reply_to": "", "html": null}),
        json!({"to": ["a@b.c"], "reply_to": "  "}),
    ] {
        assert!(
            validate(ok.clone()).is_ok(),
            "{ok}: {:?}",
            validate(ok.clone())
        );
    }
}

#[test]
fn to_errors_name_the_field() {
    let e = validate(json!({})).unwrap_err();
    assert_eq!(e.field, "to");
    assert!(e.message.contains("missing field"), "{e:?}");
    let e = validate(json!({"to": []})).unwrap_err();
    assert_eq!(e.field, "to");
    let eleven: Vec<String> = (0..11).map(|i| format!("u{i}@example.com")).collect();
    let e = validate(json!({"to": eleven})).unwrap_err();
    assert_eq!(e.field, "to");
    assert!(e.message.contains("at most 10"), "{e:?}");
    let e = validate(json!({"to": "ops@example.com"})).unwrap_err();
    assert_eq!(e.field, "to");
    let e = validate(json!({"to": ["ok@example.com", 5]})).unwrap_err();
    assert_eq!(e.field, "to[1]");
}

#[test]
fn bad_addresses_name_their_index() {
    for bad in [
        "",
        "ops",
        "@example.com",
        "ops@",
        "a@b@c",
        "ops @example.com",
        " ops@example.com",
        "ops@example.com\r\nBcc: victim@example.com",
        "ops@example.com\nX: y",
        "ops@exa\tmple.com",
        "ops@example.com,evil@example.com",
        "Ops <ops@example.com>",
        "<ops@example.com>",
        "ops@example.com\u{0}",
        &format!("{}@example.com", "x".repeat(243)), // 255 characters
    ] {
        let e = validate(json!({"to": ["fine@example.com", bad]})).unwrap_err();
        assert_eq!(e.field, "to[1]", "{bad:?}: {e:?}");
    }
    assert_eq!(address_problem("ops@example.com"), None);
}

#[test]
fn option_errors_name_the_field() {
    for (config, field) in [
        (json!({"to": ["a@b.c"], "reply_to": "nobody"}), "reply_to"),
        (
            json!({"to": ["a@b.c"], "reply_to": "a@b.c\r\nBcc: x@y.z"}),
            "reply_to",
        ),
        (
            json!({"to": ["a@b.c"], "subject_prefix": "[x]\r\nBcc: x@y.z"}),
            "subject_prefix",
        ),
        (
            json!({"to": ["a@b.c"], "subject_prefix": "x".repeat(101)}),
            "subject_prefix",
        ),
        (
            json!({"to": ["a@b.c"], "subject_prefix": 5}),
            "subject_prefix",
        ),
        (json!({"to": ["a@b.c"], "html": "yes"}), "html"),
    ] {
        let e = validate(config.clone()).unwrap_err();
        assert_eq!(e.field, field, "{config}: {e:?}");
    }
}

#[test]
fn unknown_config_fields_are_refused() {
    let e = validate(json!({"to": ["a@b.c"], "from": "me@example.com"})).unwrap_err();
    assert!(e.message.contains("unknown field"), "{e:?}");
}

#[test]
fn describe_has_schema_and_descriptions() {
    let info = harness::channel_describe::<Email>();
    assert_eq!(info.id, "email");
    assert_eq!(info.name, "E-mail");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    for key in ["to", "subject_prefix", "reply_to", "html"] {
        assert!(props[key].is_object(), "{key} in schema");
        assert!(props[key].get("x-secret").is_none(), "{key} is not secret");
        assert!(
            props[key]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{key} has a description"
        );
    }
    assert_eq!(props["to"]["minItems"], 1);
    assert_eq!(props["to"]["maxItems"], 10);
    assert_eq!(schema["required"], json!(["to"]));
    assert_eq!(schema["additionalProperties"], false);
}

// ---- building the mail ----------------------------------------------------

#[test]
fn no_template_uses_the_message() {
    assert_eq!(
        mail(&base(), json!({}), &msg()),
        Mail {
            to: vec!["ops@example.com".into()],
            subject: "Disk full".into(),
            text: MSG_TEXT.into(),
            html: None,
            reply_to: None,
        }
    );
    // An empty payload is no template too.
    assert_eq!(
        build_mail(&base(), "", &msg()).unwrap(),
        mail(&base(), json!({}), &msg())
    );
}

#[test]
fn footer_leaves_out_missing_tags_and_url() {
    let m = Message {
        endpoint_name: "default".into(),
        ..Message::new("hello")
    };
    let got = mail(&base(), json!({}), &m);
    assert_eq!(
        got.text,
        "hello\n\n-- \nPriority: 3 (normal)\nSent by Beacon Spear from endpoint default"
    );
    assert_eq!(got.subject, "hello");
}

#[test]
fn full_template_vocabulary() {
    let config = cfg(json!({
        "to": ["ops@example.com", "oncall@example.com"],
        "subject_prefix": "[beacon]",
        "reply_to": "noc@example.com",
        "html": true
    }));
    let template = json!({
        "subject": "NAS: {{title}}",
        "text": "Custom text\nline 2",
        "html": "<h1>Custom</h1><script>kept as is</script>",
        "reply_to": "owner@example.com",
        "to": "attacker@example.com",
        "from": "spoof@example.com",
        "bcc": "x@example.com"
    });
    assert_eq!(
        mail(&config, template, &msg()),
        Mail {
            to: vec!["ops@example.com".into(), "oncall@example.com".into()],
            subject: "[beacon] NAS: {{title}}".into(),
            text: "Custom text\nline 2".into(),
            html: Some("<h1>Custom</h1><script>kept as is</script>".into()),
            reply_to: Some("owner@example.com".into()),
        }
    );
}

#[test]
fn body_is_an_alias_for_text_and_text_wins() {
    let got = mail(&base(), json!({"body": "from body"}), &msg());
    assert_eq!(got.text, "from body");
    let got = mail(
        &base(),
        json!({"body": "from body", "text": "from text"}),
        &msg(),
    );
    assert_eq!(got.text, "from text");
    // Blank `text` falls to `body`.
    let got = mail(&base(), json!({"body": "from body", "text": " "}), &msg());
    assert_eq!(got.text, "from body");
}

#[test]
fn empty_template_values_fall_back() {
    let config = cfg(json!({"to": ["a@b.c"], "reply_to": "noc@example.com"}));
    let got = mail(
        &config,
        json!({"subject": "", "text": "  ", "body": null, "html": "", "reply_to": ""}),
        &msg(),
    );
    assert_eq!(
        got,
        Mail {
            to: vec!["a@b.c".into()],
            subject: "Disk full".into(),
            text: MSG_TEXT.into(),
            html: None,
            reply_to: Some("noc@example.com".into()),
        }
    );
}

#[test]
fn subject_falls_back_to_the_first_body_line() {
    let m = Message {
        title: None,
        ..msg()
    };
    assert_eq!(mail(&base(), json!({}), &m).subject, "95% used on /volume1");
    // A blank title counts as none; leading blank lines are skipped.
    let m = Message {
        title: Some("  ".into()),
        body: "\n\n   first real line  \nsecond".into(),
        ..msg()
    };
    assert_eq!(mail(&base(), json!({}), &m).subject, "first real line");
}

#[test]
fn long_first_line_is_cut_to_120_characters() {
    let line = "é".repeat(200);
    let m = Message {
        title: None,
        ..Message::new(format!("{line}\nrest"))
    };
    let subject = mail(&base(), json!({}), &m).subject;
    assert_eq!(subject.chars().count(), 120);
    assert_eq!(subject, format!("{}…", "é".repeat(119)));
    // Exactly 120 is kept whole.
    let exact = "a".repeat(120);
    assert_eq!(subject_from_body(&exact), exact);
    assert_eq!(
        subject_from_body(&"a".repeat(121)),
        format!("{}…", "a".repeat(119))
    );
    // A title is not cut.
    let long_title = "t".repeat(300);
    let m = Message {
        title: Some(long_title.clone()),
        ..msg()
    };
    assert_eq!(mail(&base(), json!({}), &m).subject, long_title);
}

#[test]
fn prefix_goes_in_front_of_every_subject() {
    let config = cfg(json!({"to": ["a@b.c"], "subject_prefix": "[beacon]"}));
    assert_eq!(
        mail(&config, json!({}), &msg()).subject,
        "[beacon] Disk full"
    );
    assert_eq!(
        mail(&config, json!({"subject": "Custom"}), &msg()).subject,
        "[beacon] Custom"
    );
    let no_title = Message {
        title: None,
        ..msg()
    };
    assert_eq!(
        mail(&config, json!({}), &no_title).subject,
        "[beacon] 95% used on /volume1"
    );
    // A blank prefix is no prefix.
    let config = cfg(json!({"to": ["a@b.c"], "subject_prefix": " "}));
    assert_eq!(mail(&config, json!({}), &msg()).subject, "Disk full");
}

#[test]
fn header_injection_in_the_subject_is_neutralised() {
    let attempts = [
        (
            "Hi\r\nBcc: victim@example.com",
            "Hi Bcc: victim@example.com",
        ),
        ("Hi\nBcc: victim@example.com", "Hi Bcc: victim@example.com"),
        ("Hi\rBcc: victim@example.com", "Hi Bcc: victim@example.com"),
        ("Hi\r\n\r\nbody injected", "Hi body injected"),
        ("Hi\u{85}X: y", "Hi X: y"),
        ("Hi\u{2028}X: y\u{2029}", "Hi X: y"),
        ("Tab\there\u{0}nul", "Tab here nul"),
        ("\r\nleading", "leading"),
    ];
    for (evil, expected) in attempts {
        // Through the template …
        let got = mail(&base(), json!({ "subject": evil }), &msg()).subject;
        assert_eq!(got, expected, "template {evil:?}");
        // … through the title …
        let m = Message {
            title: Some(evil.into()),
            ..msg()
        };
        assert_eq!(
            mail(&base(), json!({}), &m).subject,
            expected,
            "title {evil:?}"
        );
        assert!(!got.contains(['\r', '\n']));
    }
    // … and the body's first line only ever is one line.
    let m = Message {
        title: None,
        ..Message::new("Hi\r\nBcc: victim@example.com")
    };
    assert_eq!(mail(&base(), json!({}), &m).subject, "Hi");
}

#[test]
fn a_subject_is_never_empty() {
    let m = Message {
        title: Some("\r\n".into()),
        endpoint_name: "nas".into(),
        ..Message::new(" ")
    };
    assert_eq!(mail(&base(), json!({}), &m).subject, "Message from nas");
}

#[test]
fn html_alternative_is_built_escaped() {
    let config = cfg(json!({"to": ["a@b.c"], "html": true}));
    let m = Message {
        title: Some("<b>Disk</b>".into()),
        body: "5 < 6 & \"quotes\" 'single'\r\n<script>alert(1)</script>".into(),
        priority: 5,
        tags: vec!["<nas>".into()],
        url: Some("https://nas.example/s?a=1&b=\"2\"".into()),
        endpoint_name: "<ep>".into(),
        ..Message::default()
    };
    let got = mail(&config, json!({}), &m);
    assert_eq!(
        got.html.as_deref(),
        Some(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n\
             <div>5 &lt; 6 &amp; &quot;quotes&quot; &#39;single&#39;<br>\n&lt;script&gt;alert(1)&lt;/script&gt;</div>\n\
             <hr>\n<div style=\"color:#666;font-size:small\">Priority: 5 (critical)<br>\n\
             Tags: &lt;nas&gt;<br>\n\
             Link: <a href=\"https://nas.example/s?a=1&amp;b=&quot;2&quot;\">https://nas.example/s?a=1&amp;b=&quot;2&quot;</a><br>\n\
             Sent by Beacon Spear from endpoint &lt;ep&gt;</div>\n</body></html>\n"
        )
    );
    // The text part is unchanged by the HTML switch.
    assert_eq!(
        got.text,
        "5 < 6 & \"quotes\" 'single'\r\n<script>alert(1)</script>\n\n-- \nPriority: 5 (critical)\nTags: <nas>\nLink: https://nas.example/s?a=1&b=\"2\"\nSent by Beacon Spear from endpoint <ep>"
    );
    assert_eq!(got.subject, "<b>Disk</b>");
}

#[test]
fn html_alternative_of_template_text_has_no_footer() {
    let config = cfg(json!({"to": ["a@b.c"], "html": true}));
    let got = mail(&config, json!({"text": "a<b\nc"}), &msg());
    assert_eq!(got.text, "a<b\nc");
    assert_eq!(
        got.html.as_deref(),
        Some(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n\
             <div>a&lt;b<br>\nc</div>\n</body></html>\n"
        )
    );
}

#[test]
fn a_link_that_is_not_http_is_not_clickable() {
    let config = cfg(json!({"to": ["a@b.c"], "html": true}));
    let m = Message {
        url: Some("javascript:alert(1)".into()),
        ..Message::new("x")
    };
    let html = mail(&config, json!({}), &m).html.unwrap();
    assert!(html.contains("Link: javascript:alert(1)<br>"), "{html}");
    assert!(!html.contains("<a "), "{html}");
}

#[test]
fn template_html_wins_and_needs_no_switch() {
    // html off: the template's HTML is still sent.
    let got = mail(&base(), json!({"html": "<p>mine</p>"}), &msg());
    assert_eq!(got.html.as_deref(), Some("<p>mine</p>"));
    assert_eq!(got.text, MSG_TEXT);
    // html on: the template's HTML replaces the built one.
    let config = cfg(json!({"to": ["a@b.c"], "html": true}));
    let got = mail(&config, json!({"html": "<p>mine</p>"}), &msg());
    assert_eq!(got.html.as_deref(), Some("<p>mine</p>"));
    // html explicitly off and no template HTML: none.
    let config = cfg(json!({"to": ["a@b.c"], "html": false}));
    assert_eq!(mail(&config, json!({}), &msg()).html, None);
}

#[test]
fn reply_to_from_template_overrides_config_and_is_checked() {
    let config = cfg(json!({"to": ["a@b.c"], "reply_to": "noc@example.com"}));
    let got = mail(&config, json!({"reply_to": " owner@example.com "}), &msg());
    assert_eq!(got.reply_to.as_deref(), Some("owner@example.com"));
    for bad_reply in [
        "owner",
        "owner@example.com\r\nBcc: victim@example.com",
        "a@b, c@d",
        "Owner <owner@example.com>",
    ] {
        let e =
            build_mail(&config, &json!({"reply_to": bad_reply}).to_string(), &msg()).unwrap_err();
        assert!(!e.is_retryable(), "{bad_reply:?}");
        assert!(e.message().contains("`reply_to`"), "{bad_reply:?}: {e:?}");
    }
}

#[test]
fn text_keys_accept_numbers_and_refuse_structures() {
    let got = mail(&base(), json!({"subject": 42, "text": true}), &msg());
    assert_eq!(got.subject, "42");
    assert_eq!(got.text, "true");
    for key in ["subject", "text", "body", "html", "reply_to"] {
        let e = mail_err(json!({ key: ["x"] }));
        assert!(!e.is_retryable());
        assert!(e.message().contains(&format!("`{key}`")), "{key}: {e:?}");
    }
}

#[test]
fn bad_templates_are_permanent() {
    for payload in ["[1]", "\"text\"", "{nope"] {
        let e = build_mail(&base(), payload, &msg()).unwrap_err();
        assert!(!e.is_retryable(), "{payload}");
    }
}

#[test]
fn helpers() {
    assert_eq!(one_line("  a \r\n\r\n b\t\tc  "), "a b c");
    assert_eq!(
        escape_html("<a href='x'>&\"</a>"),
        "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
    );
    assert_eq!(
        outcome("  250 2.0.0 Ok: queued as 4BXl2d1Z  ")
            .response_snippet
            .as_deref(),
        Some("250 2.0.0 Ok: queued as 4BXl2d1Z")
    );
    assert_eq!(
        outcome("").response_snippet.as_deref(),
        Some("accepted by the SMTP server")
    );
    let long = "9".repeat(5000);
    let capped = outcome(&long).response_snippet.unwrap();
    assert_eq!(
        capped.chars().count(),
        beacon_plugin_sdk::SNIPPET_MAX_CHARS + 1
    );
}

// ---- sending through the host -----------------------------------------------

#[test]
fn send_hands_the_host_the_mail_and_records_the_reply() {
    testing::reset();
    testing::mock_mail(|_| Ok("250 2.0.0 Ok: queued as 4BXl2d1Z".into()));
    let config = json!({
        "to": ["ops@example.com", "oncall@example.com"],
        "subject_prefix": "[beacon]",
        "reply_to": "noc@example.com"
    })
    .to_string();
    let out = harness::channel_send::<Email>(&config, "{}", &msg()).unwrap();
    assert_eq!(
        out,
        SendOutcome {
            http_status: None,
            response_snippet: Some("250 2.0.0 Ok: queued as 4BXl2d1Z".into()),
            response_json: None,
        }
    );
    assert_eq!(
        testing::mails(),
        vec![Mail {
            to: vec!["ops@example.com".into(), "oncall@example.com".into()],
            subject: "[beacon] Disk full".into(),
            text: MSG_TEXT.into(),
            html: None,
            reply_to: Some("noc@example.com".into()),
        }]
    );
    // Neither the message text nor the recipients reach the log.
    for (_, line) in testing::take_logs() {
        assert!(!line.contains("95%"), "{line}");
        assert!(!line.contains("ops@example.com"), "{line}");
    }
    testing::reset();
}

#[test]
fn send_with_template_and_html() {
    testing::reset();
    testing::mock_mail(|_| Ok("250 OK".into()));
    let config = json!({"to": ["ops@example.com"], "html": true}).to_string();
    let template = json!({"subject": "Alert\r\nBcc: victim@example.com", "text": "plain", "reply_to": "r@example.com"});
    harness::channel_send::<Email>(&config, &template.to_string(), &msg()).unwrap();
    let sent = testing::mails();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0],
        Mail {
            to: vec!["ops@example.com".into()],
            subject: "Alert Bcc: victim@example.com".into(),
            text: "plain".into(),
            html: Some(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n<div>plain</div>\n</body></html>\n".into()
            ),
            reply_to: Some("r@example.com".into()),
        }
    );
    testing::reset();
}

#[test]
fn send_maps_mail_errors() {
    let cases: Vec<(MailError, bool, Option<u64>)> = vec![
        (MailError::NotConfigured, false, None),
        (
            MailError::Invalid("too many recipients".into()),
            false,
            None,
        ),
        (
            MailError::Rejected("550 5.1.1 user unknown".into()),
            false,
            None,
        ),
        (
            MailError::Unavailable("451 4.7.1 try later".into()),
            true,
            None,
        ),
        (MailError::Unavailable("timed out".into()), true, None),
        (MailError::RateLimited(42_000), true, Some(42_000)),
    ];
    let config = json!({"to": ["ops@example.com"]}).to_string();
    for (error, retryable, retry_after) in cases {
        testing::reset();
        let answer = error.clone();
        testing::mock_mail(move |_| Err(answer.clone()));
        let e = harness::channel_send::<Email>(&config, "{}", &msg()).unwrap_err();
        assert_eq!(e.is_retryable(), retryable, "{error:?}: {e:?}");
        assert_eq!(
            e.failure(),
            &SendFailure {
                message: error.to_string(),
                retry_after_ms: retry_after,
                http_status: None,
                response_snippet: None,
                response_json: None,
            },
            "{error:?}"
        );
        assert_eq!(testing::mails().len(), 1);
    }
    testing::reset();
}

#[test]
fn without_an_smtp_server_the_failure_is_permanent() {
    // No mock: the native stand-in answers NotConfigured, like a host
    // without EMAIL_HOST.
    testing::reset();
    let config = json!({"to": ["ops@example.com"]}).to_string();
    let e = harness::channel_send::<Email>(&config, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("no SMTP server"), "{e:?}");
    testing::reset();
}

#[test]
fn send_refuses_bad_config_or_template_without_mailing() {
    testing::reset();
    testing::mock_mail(|_| Ok("250 OK".into()));
    let e = harness::channel_send::<Email>(r#"{"to": ["nobody"]}"#, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("to[0]"), "{e:?}");
    let e =
        harness::channel_send::<Email>(r#"{"to": ["a@b.c"]}"#, r#"{"reply_to": "bad"}"#, &msg())
            .unwrap_err();
    assert!(!e.is_retryable());
    let e = harness::channel_send::<Email>(r#"{"to": ["a@b.c"]}"#, "[]", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(testing::mails().is_empty());
    testing::reset();
}
