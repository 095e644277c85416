use super::*;
use beacon_plugin_sdk::{harness, PluginKind};
use serde_json::json;

const GRAFANA: &str = include_str!("../../../host/tests/fixtures/adapters/grafana.json");
const UPTIME_KUMA: &str = include_str!("../../../host/tests/fixtures/adapters/uptime-kuma.json");
const HOME_ASSISTANT: &str =
    include_str!("../../../host/tests/fixtures/adapters/home-assistant.json");

/// The Grafana config of README.md.
fn grafana_config() -> Value {
    json!({
        "items": "/alerts",
        "title": "{{/labels/alertname}}",
        "body": "/annotations/summary",
        "priority": "/labels/severity",
        "priorities": {"critical": 5, "warning": 4, "info": 2},
        "tags": "{{/status}},grafana",
        "group": "/labels/team",
        "click": "/generatorURL",
        "extras": {
            "zone": "/labels/zone",
            "runbook": "/annotations/runbook_url",
            "silence": "/silenceURL"
        }
    })
}

/// The Uptime Kuma config of README.md.
fn uptime_kuma_config() -> Value {
    json!({
        "title": "/monitor/name",
        "body": "/msg",
        "priority": "/heartbeat/status",
        "priorities": {"0": 5, "1": 2, "2": 3, "3": 1},
        "tags": "uptime-kuma",
        "group": "/monitor/name",
        "click": "/monitor/url",
        "extras": {
            "monitor_type": "/monitor/type",
            "local_time": "/heartbeat/localDateTime",
            "error": "/heartbeat/msg"
        }
    })
}

/// The Home Assistant config of README.md.
fn home_assistant_config() -> Value {
    json!({
        "title": "/title",
        "body": "/message",
        "priority": "/priority",
        "priorities": {"low": 2, "normal": 3, "high": 4, "critical": 5},
        "tags": "/tags",
        "group": "Home Assistant"
    })
}

fn adapt(config: &Value, body: &str) -> Result<Vec<AdaptedMessage>, AdaptError> {
    harness::adapter_adapt::<JsonMap>(&config.to_string(), &InboundRequest::post(body))
}

fn one(config: Value, body: Value) -> AdaptedMessage {
    let mut m = adapt(&config, &body.to_string()).unwrap();
    assert_eq!(m.len(), 1);
    m.remove(0)
}

fn invalid(config: Value) -> ConfigError {
    harness::adapter_validate_config::<JsonMap>(&config.to_string()).unwrap_err()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn extras(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn describe() {
    let info = harness::adapter_describe::<JsonMap>();
    assert_eq!(info.id, "json-map");
    assert_eq!(info.name, "JSON mapping");
    assert_eq!(info.kind, PluginKind::Adapter);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    for key in [
        "body",
        "title",
        "priority",
        "tags",
        "group",
        "click",
        "extras",
        "items",
        "priorities",
        "default_priority",
    ] {
        assert!(
            props[key]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{key}: {schema}"
        );
    }
    assert_eq!(schema["required"], json!(["body"]));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(props["default_priority"]["default"], 3);
    assert_eq!(props["priorities"]["additionalProperties"]["maximum"], 5);
}

#[test]
fn readme_configs_are_valid() {
    for config in [
        grafana_config(),
        uptime_kuma_config(),
        home_assistant_config(),
    ] {
        assert_eq!(
            harness::adapter_validate_config::<JsonMap>(&config.to_string()),
            Ok(()),
            "{config}"
        );
    }
}

#[test]
fn grafana_alerts() {
    let messages = adapt(&grafana_config(), GRAFANA).unwrap();
    assert_eq!(
        messages,
        vec![
            AdaptedMessage {
                title: Some("High memory usage".into()),
                body: "This alert was triggered for zone us-1".into(),
                group: Some("blue".into()),
                priority: Some(5),
                tags: strings(&["firing", "grafana"]),
                url: Some("https://play.grafana.org/alerting/1afz29v7z/edit".into()),
                extras: extras(&[
                    ("runbook", "https://myrunbook.com/runbook/1234"),
                    ("silence", "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1"),
                    ("zone", "us-1"),
                ]),
            },
            AdaptedMessage {
                title: Some("High CPU usage".into()),
                body: "This alert was triggered for zone eu-1".into(),
                group: Some("blue".into()),
                priority: Some(4),
                tags: strings(&["firing", "grafana"]),
                url: Some("https://play.grafana.org/alerting/d1rdpdv7k/edit".into()),
                extras: extras(&[
                    ("runbook", "https://myrunbook.com/runbook/1234"),
                    ("silence", "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1"),
                    ("zone", "eu-1"),
                ]),
            },
        ]
    );
    // dashboardURL is "" in the documented payload: no click target.
    let mut dashboard = grafana_config();
    dashboard["click"] = json!("/dashboardURL");
    assert!(adapt(&dashboard, GRAFANA)
        .unwrap()
        .iter()
        .all(|m| m.url.is_none()));
}

#[test]
fn grafana_whole_notification() {
    // Without `items`: one message for the whole notification, from
    // Grafana's own title and message.
    let config = json!({"title": "/title", "body": "/message", "priority": "/status",
                        "priorities": {"firing": 4, "resolved": 2}, "click": "/externalURL"});
    let m = one(config, serde_json::from_str(GRAFANA).unwrap());
    assert_eq!(m.title.as_deref(), Some("[FIRING:2]  (blue)"));
    assert!(m
        .body
        .starts_with("**Firing**\n\nLabels:\n - alertname = T2"));
    assert_eq!(m.priority, Some(4));
    assert_eq!(m.url.as_deref(), Some("https://play.grafana.org/"));
}

#[test]
fn uptime_kuma_down() {
    assert_eq!(
        adapt(&uptime_kuma_config(), UPTIME_KUMA).unwrap(),
        vec![AdaptedMessage {
            title: Some("Nextcloud".into()),
            body: "[Nextcloud] [🔴 Down] Request failed with status code 503".into(),
            group: Some("Nextcloud".into()),
            priority: Some(5),
            tags: strings(&["uptime-kuma"]),
            url: Some("https://cloud.example.org/status.php".into()),
            extras: extras(&[
                ("error", "Request failed with status code 503"),
                ("local_time", "2026-01-15 10:58:12"),
                ("monitor_type", "http"),
            ]),
        }]
    );
}

#[test]
fn uptime_kuma_up_and_test_notification() {
    let mut up: Value = serde_json::from_str(UPTIME_KUMA).unwrap();
    up["heartbeat"]["status"] = json!(1);
    up["heartbeat"]["msg"] = json!("200 - OK");
    up["msg"] = json!("[Nextcloud] [✅ Up] 200 - OK");
    let m = one(uptime_kuma_config(), up);
    assert_eq!(m.priority, Some(2));
    assert_eq!(m.body, "[Nextcloud] [✅ Up] 200 - OK");

    // What Uptime Kuma's "Test" button sends: no heartbeat, no monitor.
    let test = json!({"heartbeat": null, "monitor": null, "msg": "Beacon Testing"});
    assert_eq!(
        one(uptime_kuma_config(), test),
        AdaptedMessage {
            title: None,
            body: "Beacon Testing".into(),
            group: None,
            priority: Some(3),
            tags: strings(&["uptime-kuma"]),
            url: None,
            extras: vec![],
        }
    );
}

#[test]
fn home_assistant_notify() {
    assert_eq!(
        adapt(&home_assistant_config(), HOME_ASSISTANT).unwrap(),
        vec![AdaptedMessage {
            title: Some("Garage door open".into()),
            body: "The garage door has been open for 10 minutes.".into(),
            group: Some("Home Assistant".into()),
            priority: Some(4),
            tags: strings(&["garage", "door"]),
            url: None,
            extras: vec![],
        }]
    );
    // Only `message` (Home Assistant sends `title` only with title_param_name).
    let m = one(home_assistant_config(), json!({"message": "Hello"}));
    assert_eq!(
        (m.title, m.priority, m.tags, m.group.as_deref()),
        (None, Some(3), vec![], Some("Home Assistant"))
    );
}

#[test]
fn templates_render_every_kind_of_value() {
    let item = json!({"s": "text", "n": 4.5, "i": 7, "b": true, "z": null,
                      "o": {"a": [1, "x"]}, "a/b": "slash", "t~": "tilde"});
    let m = one(
        json!({"body": "s={{/s}} n={{ /n }} i={{/i}} b={{/b}} z=[{{/z}}] m=[{{/missing}}] o={{/o}} {{/a~1b}} {{/t~0}}"}),
        item.clone(),
    );
    assert_eq!(
        m.body,
        r#"s=text n=4.5 i=7 b=true z=[] m=[] o={"a":[1,"x"]} slash tilde"#
    );
    // A spec without `{{` is a constant; a lone `}}` is literal.
    let m = one(
        json!({"body": "constant }} text", "title": "Home Assistant"}),
        item.clone(),
    );
    assert_eq!(
        (m.body.as_str(), m.title.as_deref()),
        ("constant }} text", Some("Home Assistant"))
    );
    // A pointer spec to an object gives its compact JSON.
    assert_eq!(one(json!({"body": "/o"}), item).body, r#"{"a":[1,"x"]}"#);
}

#[test]
fn empty_body_stores_the_item_json() {
    let item = json!({"event": "x", "detail": {"n": 1}});
    let m = one(json!({"body": "/message"}), item.clone());
    assert_eq!(m.body, r#"{"detail":{"n":1},"event":"x"}"#);
    let m = one(json!({"body": "{{/missing}}  "}), item);
    assert_eq!(m.body, r#"{"detail":{"n":1},"event":"x"}"#);
    let big = json!({"x": "y".repeat(9000)});
    let m = one(json!({"body": "/nothing"}), big);
    assert_eq!(m.body.chars().count(), fit::MAX_BODY_CHARS);
    assert!(m.body.ends_with('…'));
}

#[test]
fn priority_conversions() {
    let p = |spec: &str, item: Value| {
        one(
            json!({"body": "b", "priority": spec, "priorities": {"Down": 5, "0": 4},
                   "default_priority": 2}),
            item,
        )
        .priority
    };
    assert_eq!(p("/p", json!({"p": 1})), Some(1));
    assert_eq!(p("/p", json!({"p": 5.0})), Some(5));
    assert_eq!(
        p("/p", json!({"p": 0})),
        Some(4),
        "the map wins over numbers"
    );
    assert_eq!(p("/p", json!({"p": 9})), Some(2));
    assert_eq!(p("/p", json!({"p": 2.5})), Some(2));
    assert_eq!(p("/p", json!({"p": " 3 "})), Some(3));
    assert_eq!(p("/p", json!({"p": "DOWN"})), Some(5));
    assert_eq!(p("/p", json!({"p": "sideways"})), Some(2));
    assert_eq!(p("/p", json!({"p": null})), Some(2));
    assert_eq!(p("/p", json!({"p": {"x": 1}})), Some(2));
    assert_eq!(p("/p", json!({})), Some(2));
    assert_eq!(p("{{/a}}{{/b}}", json!({"a": "do", "b": "wn"})), Some(5));
    assert_eq!(p("4", json!({})), Some(4), "a constant");
    assert_eq!(one(json!({"body": "b"}), json!({})).priority, Some(3));
}

#[test]
fn tags_conversions() {
    let t = |spec: &str, item: Value| one(json!({"body": "b", "tags": spec}), item).tags;
    assert_eq!(
        t(
            "/t",
            json!({"t": ["a", " b ", "", 3, true, null, {"x": 1}]})
        ),
        strings(&["a", "b", "3", "true"])
    );
    assert_eq!(
        t("/t", json!({"t": "a, b,,c ,"})),
        strings(&["a", "b", "c"])
    );
    assert_eq!(t("/t", json!({"t": 42})), strings(&["42"]));
    assert_eq!(t("/t", json!({"t": null})), Vec::<String>::new());
    assert_eq!(t("/t", json!({})), Vec::<String>::new());
    assert_eq!(
        t("{{/s}},static", json!({"s": "firing"})),
        strings(&["firing", "static"])
    );
    let many: Vec<String> = (0..30).map(|i| format!("t{i}")).collect();
    let tags = t("/t", json!({"t": many}));
    assert_eq!(tags.len(), fit::MAX_TAGS);
    let long = t("/t", json!({"t": ["x".repeat(100)]}));
    assert_eq!(long[0].chars().count(), fit::MAX_TAG_CHARS);
}

#[test]
fn click_needs_an_http_url() {
    let c = |item: Value| one(json!({"body": "b", "click": "/u"}), item).url;
    assert_eq!(
        c(json!({"u": "https://x.test/a"})),
        Some("https://x.test/a".into())
    );
    assert_eq!(
        c(json!({"u": " http://x.test "})),
        Some("http://x.test".into())
    );
    assert_eq!(c(json!({"u": "/relative"})), None);
    assert_eq!(c(json!({"u": "mailto:a@b"})), None);
    assert_eq!(c(json!({"u": ""})), None);
    assert_eq!(c(json!({})), None);
    let m = one(
        json!({"body": "b", "click": "https://status.example/{{/id}}"}),
        json!({"id": 7}),
    );
    assert_eq!(m.url.as_deref(), Some("https://status.example/7"));
}

#[test]
fn extras_skip_empty_values_and_are_cut() {
    let m = one(
        json!({"body": "b", "extras": {"host": "/h", "none": "/missing", "blank": "{{/z}} ", "big": "/big"}}),
        json!({"h": "nas1", "z": null, "big": "v".repeat(3000)}),
    );
    assert_eq!(m.extras.len(), 2);
    assert_eq!(m.extras[0].0, "big");
    assert_eq!(m.extras[0].1.chars().count(), fit::MAX_EXTRA_CHARS);
    assert_eq!(m.extras[1], ("host".to_string(), "nas1".to_string()));
}

#[test]
fn items() {
    let config = json!({"items": "/data/rows", "body": "{{/name}} is {{/state}}"});
    let body =
        json!({"data": {"rows": [{"name": "a", "state": "up"}, {"name": "b", "state": "down"}]}});
    let m = adapt(&config, &body.to_string()).unwrap();
    assert_eq!(
        m.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["a is up", "b is down"]
    );
    assert_eq!(adapt(&config, r#"{"data": {"rows": []}}"#), Ok(vec![]));
    // The whole body as the array.
    let m = adapt(
        &json!({"items": "", "body": "/n"}),
        r#"[{"n":"x"},{"n":"y"}]"#,
    )
    .unwrap();
    assert_eq!(m.len(), 2);

    let err = |body: &str| match adapt(&config, body) {
        Err(AdaptError::Invalid(why)) => why,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        err(r#"{"data": {}}"#),
        "`items` points at \"/data/rows\", which is not in this body"
    );
    assert_eq!(
        err(r#"{"data": {"rows": {"a": 1}}}"#),
        "`items` points at \"/data/rows\", which is an object in this body, not an array"
    );
}

#[test]
fn non_json_body_is_invalid() {
    for body in ["", "hello", "{\"a\":"] {
        assert!(
            matches!(adapt(&json!({"body": "/a"}), body), Err(AdaptError::Invalid(why)) if why.starts_with("the body is not JSON")),
            "{body:?}"
        );
    }
    // Any JSON value is an item, even a bare string.
    assert_eq!(
        one(json!({"body": "{{/x}}"}), json!("just text")).body,
        "\"just text\""
    );
    assert_eq!(one(json!({"body": "got {{/x}}"}), json!(5)).body, "got ");
}

#[test]
fn validate_names_the_field() {
    assert_eq!(invalid(json!({})).field, "body");
    assert_eq!(invalid(json!({"body": ""})).field, "body");
    let e = invalid(json!({"body": "/a", "title": "{{/labels/alertname"}));
    assert_eq!(e.field, "title");
    assert!(
        e.message.contains("without a closing `}}`"),
        "{}",
        e.message
    );
    let e = invalid(json!({"body": "/a", "extras": {"host": "{{labels/host}}"}}));
    assert_eq!(e.field, "extras.host");
    assert!(
        e.message
            .contains("must hold a JSON pointer starting with /"),
        "{}",
        e.message
    );
    assert_eq!(
        invalid(json!({"body": "/a", "group": "x {{ }}"})).field,
        "group"
    );
    assert_eq!(invalid(json!({"body": "/a~2"})).field, "body");
    assert_eq!(
        invalid(json!({"body": "/a", "click": "{{/a~}}"})).field,
        "click"
    );
    assert_eq!(
        invalid(json!({"body": "/a", "items": "alerts"})).field,
        "items"
    );
    assert_eq!(
        invalid(json!({"body": "/a", "priorities": {"down": 6}})).field,
        "priorities.down"
    );
    assert_eq!(
        invalid(json!({"body": "/a", "priorities": {"up": 0}})).field,
        "priorities.up"
    );
    assert_eq!(
        invalid(json!({"body": "/a", "default_priority": 0})).field,
        "default_priority"
    );
    assert_eq!(
        invalid(json!({"body": "/a", "extras": {" ": "/x"}})).field,
        "extras"
    );
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("e{i}"), json!("/x"))).collect();
    assert_eq!(
        invalid(json!({"body": "/a", "extras": many})).field,
        "extras"
    );
    assert!(invalid(json!({"body": "/a", "url": "/u"}))
        .message
        .contains("unknown field"));
    assert_eq!(invalid(json!({"body": "/a", "tags": 3})).field, "tags");
    // adapt refuses what validate refuses.
    assert!(matches!(
        adapt(&json!({"body": "/a", "default_priority": 9}), "{}"),
        Err(AdaptError::Invalid(why)) if why.contains("default_priority")
    ));
}

#[test]
fn spec_parsing() {
    assert_eq!(Spec::parse("/a/b"), Ok(Spec::Pointer("/a/b".into())));
    assert_eq!(Spec::parse(""), Ok(Spec::Pointer(String::new())));
    assert_eq!(
        Spec::parse("x {{ /a }} y"),
        Ok(Spec::Template(vec![
            Piece::Text("x ".into()),
            Piece::Pointer("/a".into()),
            Piece::Text(" y".into()),
        ]))
    );
    assert_eq!(
        Spec::parse("plain"),
        Ok(Spec::Template(vec![Piece::Text("plain".into())]))
    );
    assert!(Spec::parse("{{}}").is_err());
    assert!(Spec::parse("a {{/b}} {{").is_err());
}
