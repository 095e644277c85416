use super::*;
use beacon_plugin_sdk::fit;
use beacon_plugin_sdk::{harness, PluginKind};
use serde_json::json;

const FIXTURE: &str = include_str!("../../../host/tests/fixtures/adapters/alertmanager.json");

fn adapt(config: Value, body: &str) -> Result<Vec<AdaptedMessage>, AdaptError> {
    harness::adapter_adapt::<Alertmanager>(&config.to_string(), &InboundRequest::post(body))
}

fn invalid(config: Value) -> ConfigError {
    harness::adapter_validate_config::<Alertmanager>(&config.to_string()).unwrap_err()
}

fn extras(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn fixture_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(FIXTURE).unwrap();
    edit(&mut v);
    v.to_string()
}

#[test]
fn describe() {
    let info = harness::adapter_describe::<Alertmanager>();
    assert_eq!(info.id, "alertmanager");
    assert_eq!(info.name, "Alertmanager");
    assert_eq!(info.kind, PluginKind::Adapter);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    for key in [
        "severity_label",
        "priorities",
        "default_priority",
        "resolved_priority",
        "send_resolved",
    ] {
        assert!(
            props[key]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{key}: {schema}"
        );
    }
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema.get("required").is_none_or(|r| r == &json!([])));
    assert_eq!(props["priorities"]["additionalProperties"]["maximum"], 5);
    assert_eq!(props["default_priority"]["minimum"], 1);
    assert_eq!(props["default_priority"]["maximum"], 5);
}

#[test]
fn fixture_becomes_one_message_per_alert() {
    let messages = adapt(json!({}), FIXTURE).unwrap();
    assert_eq!(
        messages,
        vec![
            AdaptedMessage {
                title: Some("InstanceDown".into()),
                body: "Instance web-1:9100 down\nweb-1:9100 of job node has been down for more than 5 minutes.".into(),
                group: Some("{}:{job=\"node\"}".into()),
                priority: Some(5),
                tags: vec!["firing".into()],
                url: Some("http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1".into()),
                extras: extras(&[
                    ("alertname", "InstanceDown"),
                    ("instance", "web-1:9100"),
                    ("job", "node"),
                    ("severity", "critical"),
                ]),
            },
            AdaptedMessage {
                title: Some("DiskSpaceLow".into()),
                body: "Disk space low on web-2:9100 (/var)".into(),
                group: Some("{}:{job=\"node\"}".into()),
                priority: Some(4),
                tags: vec!["resolved".into()],
                url: Some("http://prometheus.example.org:9090/graph?g0.expr=node_filesystem_avail_bytes%7Bmountpoint%3D%22%2Fvar%22%7D+%2F+node_filesystem_size_bytes+%3C+0.1&g0.tab=1".into()),
                extras: extras(&[
                    ("alertname", "DiskSpaceLow"),
                    ("instance", "web-2:9100"),
                    ("job", "node"),
                    ("mountpoint", "/var"),
                    ("severity", "warning"),
                ]),
            },
        ]
    );
}

#[test]
fn resolved_priority_and_send_resolved() {
    let m = adapt(json!({"resolved_priority": 1}), FIXTURE).unwrap();
    assert_eq!(
        m.iter().map(|m| m.priority).collect::<Vec<_>>(),
        [Some(5), Some(1)]
    );
    let m = adapt(json!({"send_resolved": false}), FIXTURE).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].title.as_deref(), Some("InstanceDown"));
}

#[test]
fn priorities_are_configurable_and_case_insensitive() {
    let body = fixture_with(|v| v["alerts"][0]["labels"]["severity"] = json!("CRITICAL"));
    let m = adapt(json!({"priorities": {"Critical": 2}}), &body).unwrap();
    // The map replaces the default one: `warning` is no longer mapped.
    assert_eq!(m[0].priority, Some(2));
    assert_eq!(m[1].priority, Some(3));
    let m = adapt(
        json!({"priorities": {"critical": 4}, "default_priority": 1}),
        &body,
    )
    .unwrap();
    assert_eq!((m[0].priority, m[1].priority), (Some(4), Some(1)));
}

#[test]
fn custom_severity_label() {
    let body = fixture_with(|v| {
        v["alerts"][0]["labels"]
            .as_object_mut()
            .unwrap()
            .insert("level".into(), json!("info"));
    });
    let m = adapt(json!({"severity_label": "level"}), &body).unwrap();
    // alert 0 has level=info (2); alert 1 has no `level` label (default 3).
    assert_eq!((m[0].priority, m[1].priority), (Some(2), Some(3)));
}

#[test]
fn title_and_body_fallbacks() {
    let body = fixture_with(|v| {
        let alert = &mut v["alerts"][0];
        alert["labels"].as_object_mut().unwrap().remove("alertname");
        alert["annotations"] = json!({});
        v["commonLabels"]["alertname"] = json!("GroupName");
        let alert = &mut v["alerts"][1];
        alert["labels"] = json!({});
        alert["annotations"] = json!({"description": "only a description"});
    });
    let m = adapt(json!({}), &body).unwrap();
    assert_eq!(m[0].title.as_deref(), Some("GroupName"));
    assert_eq!(m[0].body, "GroupName is firing");
    assert_eq!(m[1].title.as_deref(), Some("GroupName"));
    assert_eq!(m[1].body, "only a description");
    assert_eq!(m[1].extras, vec![]);
    assert_eq!(m[1].priority, Some(3));

    let body = fixture_with(|v| {
        v["commonLabels"] = json!({});
        v["alerts"][1]["labels"] = json!({});
        v["alerts"][1]["annotations"] = json!({});
    });
    let m = adapt(json!({}), &body).unwrap();
    assert_eq!(m[1].title.as_deref(), Some(DEFAULT_TITLE));
    assert_eq!(m[1].body, "Alertmanager alert is resolved");
}

#[test]
fn url_falls_back_to_external_url_and_skips_non_http() {
    let body = fixture_with(|v| {
        v["alerts"][0]["generatorURL"] = json!("");
        v["alerts"][1]["generatorURL"] = json!("/graph?relative");
    });
    let m = adapt(json!({}), &body).unwrap();
    assert_eq!(
        m[0].url.as_deref(),
        Some("http://alertmanager.example.org:9093")
    );
    assert_eq!(
        m[1].url.as_deref(),
        Some("http://alertmanager.example.org:9093")
    );
    let body = fixture_with(|v| {
        v["alerts"][0]["generatorURL"] = json!("ftp://x");
        v["externalURL"] = json!("alertmanager:9093");
    });
    assert_eq!(adapt(json!({}), &body).unwrap()[0].url, None);
}

#[test]
fn long_values_are_cut_to_the_limits() {
    let body = fixture_with(|v| {
        v["alerts"][0]["annotations"]["description"] = json!("d".repeat(10_000));
        v["alerts"][0]["labels"]["alertname"] = json!("n".repeat(400));
        v["alerts"][0]["labels"]["big"] = json!("v".repeat(2_000));
        v["groupKey"] = json!("g".repeat(500));
    });
    let m = &adapt(json!({}), &body).unwrap()[0];
    assert_eq!(m.body.chars().count(), fit::MAX_BODY_CHARS);
    assert!(m.body.ends_with('…'));
    assert_eq!(
        m.title.as_ref().unwrap().chars().count(),
        fit::MAX_TITLE_CHARS
    );
    assert_eq!(
        m.group.as_ref().unwrap().chars().count(),
        fit::MAX_GROUP_CHARS
    );
    let big = &m.extras.iter().find(|(k, _)| k == "big").unwrap().1;
    assert_eq!(big.chars().count(), fit::MAX_EXTRA_CHARS);
}

#[test]
fn zero_alerts_is_no_message() {
    let body = fixture_with(|v| v["alerts"] = json!([]));
    assert_eq!(adapt(json!({}), &body), Ok(vec![]));
}

#[test]
fn refuses_what_is_not_a_v4_payload() {
    let err = |body: &str| match adapt(json!({}), body) {
        Err(AdaptError::Invalid(why)) => why,
        other => panic!("{body}: {other:?}"),
    };
    assert_eq!(
        err(&fixture_with(|v| v["version"] = json!("3"))),
        "unsupported Alertmanager webhook version \"3\" (expected \"4\")"
    );
    assert_eq!(
        err(&fixture_with(|v| v["version"] = json!(4))),
        "unsupported Alertmanager webhook version 4 (expected \"4\")"
    );
    assert!(err(&fixture_with(|v| {
        v.as_object_mut().unwrap().remove("version");
    }))
    .contains("no `version`"));
    assert!(err(&fixture_with(|v| {
        v.as_object_mut().unwrap().remove("alerts");
    }))
    .contains("no `alerts` list"));
    assert!(err(&fixture_with(|v| v["alerts"] = json!({}))).contains("`alerts` is not a list"));
    assert_eq!(
        err(&fixture_with(|v| v["alerts"][1] = json!("x"))),
        "alerts[1] is not an object"
    );
    assert!(err("not json").starts_with("the body is not JSON"));
    assert!(err("[1,2]").starts_with("the body is not a JSON object"));
    assert!(err("").starts_with("the body is not JSON"));
}

#[test]
fn validate_names_the_field() {
    assert!(harness::adapter_validate_config::<Alertmanager>("{}").is_ok());
    assert!(harness::adapter_validate_config::<Alertmanager>(
        r#"{"severity_label":"level","priorities":{"p1":5,"p5":1},"default_priority":2,"resolved_priority":1,"send_resolved":false}"#
    )
    .is_ok());
    assert_eq!(
        invalid(json!({"priorities": {"critical": 6}})).field,
        "priorities.critical"
    );
    assert_eq!(
        invalid(json!({"priorities": {"info": 0}})).field,
        "priorities.info"
    );
    assert_eq!(
        invalid(json!({"default_priority": 0})).field,
        "default_priority"
    );
    assert_eq!(
        invalid(json!({"resolved_priority": 9})).field,
        "resolved_priority"
    );
    assert_eq!(
        invalid(json!({"severity_label": " "})).field,
        "severity_label"
    );
    assert!(invalid(json!({"send_resolve": true}))
        .message
        .contains("unknown field"));
    // A config that would be refused is refused by adapt too.
    assert!(matches!(
        adapt(json!({"default_priority": 7}), FIXTURE),
        Err(AdaptError::Invalid(why)) if why.contains("default_priority")
    ));
}
