use super::*;
use beacon_plugin_sdk::mqtt::MqttError;
use beacon_plugin_sdk::{harness, testing, SendFailure};
use serde_json::{json, Value};

fn cfg(v: Value) -> MqttConfig {
    serde_json::from_value(v).unwrap()
}

fn base() -> MqttConfig {
    cfg(json!({"broker_url": "mqtt://broker.example.com", "topic": "home/alerts"}))
}

fn msg() -> Message {
    Message {
        id: "0190f0c8a1b27c3d9e4f5a6b7c8d9e0f".into(),
        received_at: "2026-03-01T12:00:00Z".into(),
        title: Some("Disk full".into()),
        body: "95% used on /volume1".into(),
        group: Some("nas".into()),
        priority: 4,
        tags: vec!["disk".into(), "nas".into()],
        url: Some("https://nas.example/status".into()),
        extras: vec![
            ("host".into(), "nas1".into()),
            ("volume".into(), "/volume1".into()),
            ("host".into(), "ignored duplicate".into()),
        ],
        endpoint_id: "0190f0c8a1b27c3d9e4f5a6b7c8d0000".into(),
        endpoint_name: "nas-alerts".into(),
    }
}

/// `msg()` as the JSON payload sent without a template.
fn msg_json() -> Value {
    json!({
        "id": "0190f0c8a1b27c3d9e4f5a6b7c8d9e0f",
        "received_at": "2026-03-01T12:00:00Z",
        "title": "Disk full",
        "body": "95% used on /volume1",
        "group": "nas",
        "priority": 4,
        "tags": ["disk", "nas"],
        "url": "https://nas.example/status",
        "extras": {"host": "nas1", "volume": "/volume1"},
        "endpoint": {"id": "0190f0c8a1b27c3d9e4f5a6b7c8d0000", "name": "nas-alerts"}
    })
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Mqtt>(&v.to_string())
}

fn publish(config: &MqttConfig, template: Value, message: &Message) -> Publish {
    build_publish(config, &template.to_string(), message).unwrap()
}

fn publish_err(config: &MqttConfig, template: Value) -> SendError {
    build_publish(config, &template.to_string(), &msg()).unwrap_err()
}

fn payload_json(p: &Publish) -> Value {
    serde_json::from_slice(&p.payload).unwrap()
}

fn text_config() -> MqttConfig {
    cfg(
        json!({"broker_url": "mqtt://broker.example.com", "topic": "home/alerts", "payload_format": "text"}),
    )
}

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    for ok in [
        json!({"broker_url": "mqtt://broker.example.com", "topic": "t"}),
        json!({"broker_url": "mqtts://broker.example.com:8883", "topic": "home/alerts"}),
        json!({"broker_url": "MQTT://10.0.0.5:1883/", "topic": "/leading/slash"}),
        json!({"broker_url": "mqtt://[fd00::5]:1883", "topic": "a b/ü/$x"}),
        json!({"broker_url": "mqtts://[::1]", "topic": "$aws/things/x/shadow/update"}),
        json!({"broker_url": "mqtt://broker_1.lan", "topic": "x".repeat(1024)}),
        json!({
            "broker_url": "mqtts://broker.example.com", "topic": "t", "qos": 0, "retain": true,
            "username": "beacon", "password": "s3cret", "payload_format": "text"
        }),
        json!({"broker_url": "mqtt://b", "topic": "t", "qos": 1, "payload_format": "json"}),
        // A user name alone is allowed by MQTT.
        json!({"broker_url": "mqtt://b", "topic": "t", "username": "beacon"}),
        // Forms may send null or blank for fields left empty.
        json!({
            "broker_url": "mqtt://b", "topic": "t", "qos": null, "retain": null,
            "username": "", "password": "", "payload_format": null
        }),
    ] {
        assert!(
            validate(ok.clone()).is_ok(),
            "{ok}: {:?}",
            validate(ok.clone())
        );
    }
}

#[test]
fn broker_url_errors_name_the_field() {
    for url in [
        "",
        "broker.example.com",
        "tcp://broker.example.com",
        "http://broker.example.com",
        "ws://broker.example.com",
        "mqtt://",
        "mqtt://:1883",
        "mqtt://user:pw@broker.example.com",
        "mqtt://broker.example.com/path",
        "mqtt://broker.example.com//",
        "mqtt://broker.example.com?x=1",
        "mqtt://broker.example.com#frag",
        "mqtt://broker.example.com:0",
        "mqtt://broker.example.com:65536",
        "mqtt://broker.example.com:",
        "mqtt://broker.example.com:abc",
        "mqtt://broker.example.com:1883:1",
        "mqtt://bro ker.example.com",
        "mqtt://broker.example.com\n",
        "mqtt://[fd00::5",
        "mqtt://[fd00::5]x",
        "mqtt://[zz]",
        "mqtt://brökör.example.com",
    ] {
        let e = validate(json!({"broker_url": url, "topic": "t"})).unwrap_err();
        assert_eq!(e.field, "broker_url", "{url:?}: {e:?}");
    }
    let e = validate(json!({"topic": "t"})).unwrap_err();
    assert_eq!(e.field, "broker_url");
    assert!(e.message.contains("missing field"), "{e:?}");
    let e = validate(json!({"broker_url": 5, "topic": "t"})).unwrap_err();
    assert_eq!(e.field, "broker_url");
}

#[test]
fn topic_errors_name_the_field() {
    for topic in [
        json!(""),
        json!("home/+/alerts"),
        json!("home/#"),
        json!("#"),
        json!("home\u{0}alerts"),
        json!("home/alerts\n"),
        json!("x".repeat(1025)),
        json!("é".repeat(513)), // 1026 bytes
        json!(["a"]),
    ] {
        let e = validate(json!({"broker_url": "mqtt://b", "topic": topic})).unwrap_err();
        assert_eq!(e.field, "topic", "{topic}: {e:?}");
    }
    let e = validate(json!({"broker_url": "mqtt://b"})).unwrap_err();
    assert_eq!(e.field, "topic");
}

#[test]
fn option_errors_name_the_field() {
    for (config, field) in [
        (json!({"qos": 2}), "qos"),
        (json!({"qos": -1}), "qos"),
        (json!({"qos": "1"}), "qos"),
        (json!({"retain": "yes"}), "retain"),
        (json!({"password": "s3cret"}), "password"),
        (json!({"username": " ", "password": "s3cret"}), "password"),
        (
            json!({"username": "a\u{0}b", "password": "s3cret"}),
            "username",
        ),
        (json!({"payload_format": "xml"}), "payload_format"),
        (json!({"payload_format": "JSON"}), "payload_format"),
    ] {
        let mut full = json!({"broker_url": "mqtt://b", "topic": "t"});
        for (k, v) in config.as_object().unwrap() {
            full[k] = v.clone();
        }
        let e = validate(full.clone()).unwrap_err();
        assert_eq!(e.field, field, "{full}: {e:?}");
    }
    let e = validate(json!({"broker_url": "mqtt://b", "topic": "t", "password": "p"})).unwrap_err();
    assert!(e.message.contains("username"), "{e:?}");
}

#[test]
fn unknown_config_fields_are_refused() {
    let e =
        validate(json!({"broker_url": "mqtt://b", "topic": "t", "client_id": "x"})).unwrap_err();
    assert!(e.message.contains("unknown field"), "{e:?}");
}

#[test]
fn describe_marks_the_password_secret() {
    let info = harness::channel_describe::<Mqtt>();
    assert_eq!(info.id, "mqtt");
    assert_eq!(info.name, "MQTT");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    assert_eq!(props["password"]["x-secret"], true);
    assert_eq!(props["password"]["writeOnly"], true);
    for public in [
        "broker_url",
        "topic",
        "qos",
        "retain",
        "username",
        "payload_format",
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
    assert_eq!(props["qos"]["minimum"], 0);
    assert_eq!(props["qos"]["maximum"], 1);
    // The format's choices are in the schema, wherever schemars put them.
    let text = info.config_schema;
    assert!(
        text.contains(r#""json""#) && text.contains(r#""text""#),
        "{text}"
    );
    assert_eq!(schema["required"], json!(["broker_url", "topic"]));
    assert_eq!(schema["additionalProperties"], false);
}

// ---- building the publish ---------------------------------------------------

#[test]
fn no_template_publishes_the_whole_message_as_json() {
    let got = publish(&base(), json!({}), &msg());
    assert_eq!(payload_json(&got), msg_json());
    assert_eq!(
        Publish {
            payload: Vec::new(),
            ..got.clone()
        },
        Publish {
            broker_url: "mqtt://broker.example.com".into(),
            topic: "home/alerts".into(),
            payload: Vec::new(),
            qos: 1,
            retain: false,
            username: None,
            password: None,
            timeout_ms: None,
        }
    );
    // Compact JSON: no spaces or line breaks outside strings.
    let text = String::from_utf8(got.payload).unwrap();
    assert!(!text.contains(": ") && !text.contains('\n'), "{text}");
    // An empty payload is no template too.
    assert_eq!(
        payload_json(&build_publish(&base(), "", &msg()).unwrap()),
        msg_json()
    );
}

#[test]
fn message_json_has_nulls_for_missing_values() {
    let m = Message::new("hi");
    assert_eq!(
        message_json(&m),
        json!({
            "id": m.id, "received_at": m.received_at, "title": null, "body": "hi",
            "group": null, "priority": 3, "tags": [], "url": null, "extras": {},
            "endpoint": {"id": m.endpoint_id, "name": "default"}
        })
    );
}

#[test]
fn json_template_is_sent_as_rendered() {
    let template = json!({
        "event": "alert",
        "priority": "4",
        "nested": {"a": [1, 2]},
        "empty": "",
        "none": null
    });
    let got = publish(&base(), template.clone(), &msg());
    assert_eq!(payload_json(&got), template);
    assert_eq!(
        String::from_utf8(got.payload).unwrap(),
        serde_json::to_string(&template).unwrap()
    );
    assert_eq!(got.topic, "home/alerts");
}

#[test]
fn subtopic_is_appended_and_removed_from_json() {
    let got = publish(
        &base(),
        json!({"subtopic": "nas", "event": "alert", "title": "Disk"}),
        &msg(),
    );
    assert_eq!(got.topic, "home/alerts/nas");
    assert_eq!(
        payload_json(&got),
        json!({"event": "alert", "title": "Disk"})
    );
    // Surrounding white space is trimmed; inner levels are kept.
    let got = publish(&base(), json!({"subtopic": " nas/disk ", "a": 1}), &msg());
    assert_eq!(got.topic, "home/alerts/nas/disk");
    // A subtopic alone leaves no template: the whole message is sent.
    let got = publish(&base(), json!({"subtopic": "nas"}), &msg());
    assert_eq!(got.topic, "home/alerts/nas");
    assert_eq!(payload_json(&got), msg_json());
    // Numbers render as their text.
    let got = publish(&base(), json!({"subtopic": 4}), &msg());
    assert_eq!(got.topic, "home/alerts/4");
}

#[test]
fn empty_subtopic_means_none() {
    for subtopic in [json!(""), json!("  "), json!(null)] {
        let got = publish(&base(), json!({"subtopic": subtopic, "a": 1}), &msg());
        assert_eq!(got.topic, "home/alerts", "{subtopic}");
        assert_eq!(payload_json(&got), json!({"a": 1}), "{subtopic}");
    }
    // Only an unset subtopic: no template left, the whole message goes.
    let got = publish(&base(), json!({"subtopic": ""}), &msg());
    assert_eq!(payload_json(&got), msg_json());
}

#[test]
fn bad_subtopics_are_permanent_and_named() {
    for subtopic in [
        json!("+"),
        json!("a/#"),
        json!("a\u{0}b"),
        json!("a\nb"),
        json!("x".repeat(1025)),
        json!(["nas"]),
    ] {
        let e = publish_err(&base(), json!({ "subtopic": subtopic }));
        assert!(!e.is_retryable(), "{subtopic}");
        assert!(e.message().contains("`subtopic`"), "{subtopic}: {e:?}");
    }
    // Valid alone, but too long together with the configured topic.
    let e = publish_err(
        &base(),
        json!({"subtopic": "x".repeat(1024 - "home/alerts".len())}),
    );
    assert!(
        e.message().contains("`subtopic`") && e.message().contains("1024"),
        "{e:?}"
    );
    let got = publish(
        &base(),
        json!({"subtopic": "x".repeat(1024 - "home/alerts/".len())}),
        &msg(),
    );
    assert_eq!(got.topic.len(), 1024);
}

#[test]
fn text_format_uses_template_text_or_body() {
    let config = text_config();
    let got = publish(&config, json!({}), &msg());
    assert_eq!(got.payload, b"95% used on /volume1");
    let got = publish(&config, json!({"text": "Disk: {{x}} ü"}), &msg());
    assert_eq!(String::from_utf8(got.payload).unwrap(), "Disk: {{x}} ü");
    let got = publish(&config, json!({"body": "from body"}), &msg());
    assert_eq!(got.payload, b"from body");
    let got = publish(
        &config,
        json!({"body": "from body", "text": "from text"}),
        &msg(),
    );
    assert_eq!(got.payload, b"from text");
    // Blank values fall back; other keys are ignored in text mode.
    let got = publish(
        &config,
        json!({"text": " ", "body": "", "event": "x"}),
        &msg(),
    );
    assert_eq!(got.payload, b"95% used on /volume1");
    // Subtopic works the same.
    let got = publish(&config, json!({"subtopic": "nas", "text": "t"}), &msg());
    assert_eq!(
        (got.topic.as_str(), got.payload.as_slice()),
        ("home/alerts/nas", &b"t"[..])
    );
    let e = publish_err(&config, json!({"text": {"a": 1}}));
    assert!(e.message().contains("`text`"), "{e:?}");
}

#[test]
fn qos_retain_and_credentials_are_handed_over() {
    let config = cfg(json!({
        "broker_url": "mqtts://broker.example.com:8883/",
        "topic": "t",
        "qos": 0,
        "retain": true,
        "username": "beacon",
        "password": "s3cret"
    }));
    let got = publish(&config, json!({"a": 1}), &msg());
    assert_eq!(
        got,
        Publish {
            broker_url: "mqtts://broker.example.com:8883".into(),
            topic: "t".into(),
            payload: br#"{"a":1}"#.to_vec(),
            qos: 0,
            retain: true,
            username: Some("beacon".into()),
            password: Some("s3cret".into()),
            timeout_ms: None,
        }
    );
    // Username alone; an empty password is none.
    let config = cfg(
        json!({"broker_url": "mqtt://b", "topic": "t", "username": " beacon ", "password": ""}),
    );
    let got = publish(&config, json!({}), &msg());
    assert_eq!(got.username.as_deref(), Some("beacon"));
    assert_eq!(got.password, None);
}

#[test]
fn bad_templates_are_permanent() {
    for payload in ["[1]", "\"text\"", "{nope"] {
        let e = build_publish(&base(), payload, &msg()).unwrap_err();
        assert!(!e.is_retryable(), "{payload}");
    }
}

// ---- publishing through the host --------------------------------------------

#[test]
fn send_hands_the_host_the_publish_and_records_it() {
    testing::reset();
    testing::mock_mqtt(|_| Ok(()));
    let config = json!({
        "broker_url": "mqtts://broker.example.com",
        "topic": "home/alerts",
        "username": "beacon",
        "password": "s3cret",
        "retain": true
    })
    .to_string();
    let template = json!({"subtopic": "{{group}}-x", "title": "Disk", "priority": "4"});
    let out = harness::channel_send::<Mqtt>(&config, &template.to_string(), &msg()).unwrap();
    assert_eq!(
        out,
        SendOutcome {
            http_status: None,
            response_snippet: Some("published to home/alerts/{{group}}-x (qos 1)".into()),
            response_json: None,
        }
    );
    assert_eq!(
        testing::published(),
        vec![Publish {
            broker_url: "mqtts://broker.example.com".into(),
            topic: "home/alerts/{{group}}-x".into(),
            payload: br#"{"priority":"4","title":"Disk"}"#.to_vec(),
            qos: 1,
            retain: true,
            username: Some("beacon".into()),
            password: Some("s3cret".into()),
            timeout_ms: None,
        }]
    );
    for (_, line) in testing::take_logs() {
        assert!(!line.contains("s3cret"), "{line}");
        assert!(!line.contains("95%"), "{line}");
    }
    testing::reset();
}

#[test]
fn send_without_template_at_qos_0() {
    testing::reset();
    testing::mock_mqtt(|_| Ok(()));
    let config = json!({"broker_url": "mqtt://10.0.0.5:1883", "topic": "t", "qos": 0}).to_string();
    let out = harness::channel_send::<Mqtt>(&config, "{}", &msg()).unwrap();
    assert_eq!(
        out.response_snippet.as_deref(),
        Some("published to t (qos 0)")
    );
    let sent = testing::published();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].broker_url, "mqtt://10.0.0.5:1883");
    assert_eq!(sent[0].qos, 0);
    assert_eq!(payload_json(&sent[0]), msg_json());
    testing::reset();
}

#[test]
fn send_maps_mqtt_errors() {
    let cases = [
        (MqttError::Timeout, true),
        (MqttError::Connection("connection refused".into()), true),
        (MqttError::Connection("TLS handshake failed".into()), true),
        (MqttError::PolicyDenied("10.0.0.5 is private".into()), false),
        (
            MqttError::Refused("bad user name or password".into()),
            false,
        ),
        (MqttError::Refused("not authorised".into()), false),
        (MqttError::InvalidRequest("topic too long".into()), false),
    ];
    let config = json!({"broker_url": "mqtt://b", "topic": "t"}).to_string();
    for (error, retryable) in cases {
        testing::reset();
        let answer = error.clone();
        testing::mock_mqtt(move |_| Err(answer.clone()));
        let e = harness::channel_send::<Mqtt>(&config, "{}", &msg()).unwrap_err();
        assert_eq!(e.is_retryable(), retryable, "{error:?}: {e:?}");
        assert_eq!(
            e.failure(),
            &SendFailure {
                message: error.to_string(),
                retry_after_ms: None,
                http_status: None,
                response_snippet: None,
                response_json: None,
            },
            "{error:?}"
        );
        assert_eq!(testing::published().len(), 1);
    }
    testing::reset();
}

#[test]
fn send_refuses_bad_config_or_template_without_publishing() {
    testing::reset();
    testing::mock_mqtt(|_| Ok(()));
    let e =
        harness::channel_send::<Mqtt>(r#"{"broker_url": "http://b", "topic": "t"}"#, "{}", &msg())
            .unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("broker_url"), "{e:?}");
    let e = harness::channel_send::<Mqtt>(
        r#"{"broker_url": "mqtt://b", "topic": "t"}"#,
        r##"{"subtopic": "#"}"##,
        &msg(),
    )
    .unwrap_err();
    assert!(!e.is_retryable());
    assert!(testing::published().is_empty());
    testing::reset();
}
