use super::*;
use beacon_plugin_sdk::harness;
use serde_json::{json, Value};

const EP1: &str = "0190f0c8a1b27c3d9e4f5a6b7c8d0001";
const EP1_DASHED: &str = "0190F0C8-A1B2-7C3D-9E4F-5A6B7C8D0001";
const EP2: &str = "0190f0c8a1b27c3d9e4f5a6b7c8d0002";

fn msg() -> Message {
    Message {
        body: "Disk FULL on host web-1".into(),
        priority: 4,
        tags: vec!["Prod".into(), "disk".into()],
        group: Some("servers".into()),
        endpoint_id: EP1.into(),
        ..Message::default()
    }
}

fn eval(config: Value, message: &Message) -> bool {
    harness::filter_evaluate::<StandardFilter>(&config.to_string(), message).unwrap()
}

fn invalid(config: Value) -> ConfigError {
    harness::filter_validate_config::<StandardFilter>(&config.to_string()).unwrap_err()
}

#[test]
fn empty_config_matches_everything() {
    assert!(eval(json!({}), &msg()));
    assert!(eval(json!({}), &Message::new("x")));
    let all_empty = json!({
        "ingest_endpoint_ids": [], "body": {"contains": [], "regex": ""},
        "priority": {}, "tags": [], "group": ""
    });
    assert!(harness::filter_validate_config::<StandardFilter>(&all_empty.to_string()).is_ok());
    assert!(eval(all_empty, &msg()));
    assert!(eval(
        json!({"body": null, "priority": null, "tags": null, "group": null}),
        &msg()
    ));
}

#[test]
fn endpoint_ids() {
    assert!(eval(json!({"ingest_endpoint_ids": [EP1]}), &msg()));
    assert!(eval(
        json!({"ingest_endpoint_ids": [EP2, EP1_DASHED]}),
        &msg()
    ));
    assert!(!eval(json!({"ingest_endpoint_ids": [EP2]}), &msg()));
    let mut dashed = msg();
    dashed.endpoint_id = EP1_DASHED.into();
    assert!(eval(json!({"ingest_endpoint_ids": [EP1]}), &dashed));
    assert_eq!(
        invalid(json!({"ingest_endpoint_ids": [EP1, "nope"]})).field,
        "ingest_endpoint_ids[1]"
    );
}

#[test]
fn body_contains_is_case_insensitive_any_of() {
    assert!(eval(json!({"body": {"contains": ["disk full"]}}), &msg()));
    assert!(eval(
        json!({"body": {"contains": ["cpu", "WEB-1"]}}),
        &msg()
    ));
    assert!(!eval(
        json!({"body": {"contains": ["cpu", "memory"]}}),
        &msg()
    ));
    // Unicode case folding.
    assert!(eval(
        json!({"body": {"contains": ["ÜBER"]}}),
        &Message::new("über alles")
    ));
    assert_eq!(
        invalid(json!({"body": {"contains": ["a", ""]}})).field,
        "body.contains[1]"
    );
}

#[test]
fn body_regex() {
    assert!(eval(json!({"body": {"regex": "^Disk\\s+FULL"}}), &msg()));
    assert!(
        !eval(json!({"body": {"regex": "^disk"}}), &msg()),
        "case-sensitive by default"
    );
    assert!(eval(json!({"body": {"regex": "(?i)^disk"}}), &msg()));
    assert!(eval(json!({"body": {"regex": "web-\\d+$"}}), &msg()));
    assert!(!eval(json!({"body": {"regex": "web-\\d{2,}$"}}), &msg()));
}

#[test]
fn invalid_regex_is_rejected_naming_the_field() {
    let e = invalid(json!({"body": {"regex": "(unclosed"}}));
    assert_eq!(e.field, "body.regex");
    assert!(
        e.message.contains("not a valid regular expression"),
        "{}",
        e.message
    );
    // Look-around and backreferences are not supported (linear-time engine).
    assert_eq!(
        invalid(json!({"body": {"regex": "(a)\\1"}})).field,
        "body.regex"
    );
    let long = "a".repeat(MAX_REGEX_CHARS + 1);
    assert_eq!(
        invalid(json!({"body": {"regex": long}})).field,
        "body.regex"
    );
    let huge = "(?:a{1000}){1000}";
    let e = invalid(json!({"body": {"regex": huge}}));
    assert_eq!(e.field, "body.regex");
    // evaluate with a bad config reports an error instead of matching.
    let err = harness::filter_evaluate::<StandardFilter>(r#"{"body":{"regex":"("}}"#, &msg())
        .unwrap_err();
    assert!(err.contains("body.regex"), "{err}");
}

#[test]
fn regex_matching_is_linear_on_pathological_input() {
    // Catastrophic for backtracking engines; instant here.
    let body = format!("{}!", "a".repeat(5000));
    let started = std::time::Instant::now();
    assert!(!eval(
        json!({"body": {"regex": "^(a+)+$"}}),
        &Message::new(body)
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn priority_range() {
    assert!(eval(json!({"priority": {"min": 4}}), &msg()));
    assert!(eval(json!({"priority": {"max": 4}}), &msg()));
    assert!(eval(json!({"priority": {"min": 4, "max": 4}}), &msg()));
    assert!(!eval(json!({"priority": {"min": 5}}), &msg()));
    assert!(!eval(json!({"priority": {"max": 3}}), &msg()));
    assert!(eval(json!({"priority": {"min": 1, "max": 5}}), &msg()));
    assert_eq!(
        invalid(json!({"priority": {"min": 0}})).field,
        "priority.min"
    );
    assert_eq!(
        invalid(json!({"priority": {"max": 6}})).field,
        "priority.max"
    );
    assert_eq!(
        invalid(json!({"priority": {"min": 4, "max": 2}})).field,
        "priority.max"
    );
    assert_eq!(
        invalid(json!({"priority": {"min": -1}})).field,
        "priority.min"
    );
    assert_eq!(
        invalid(json!({"priority": {"min": "high"}})).field,
        "priority.min"
    );
}

#[test]
fn tags_any_of_case_insensitive() {
    assert!(eval(json!({"tags": ["prod"]}), &msg()));
    assert!(eval(json!({"tags": ["staging", "DISK"]}), &msg()));
    assert!(!eval(json!({"tags": ["staging"]}), &msg()));
    assert!(!eval(json!({"tags": ["prod"]}), &Message::new("no tags")));
    assert_eq!(invalid(json!({"tags": ["", "x"]})).field, "tags[0]");
}

#[test]
fn group_equals() {
    assert!(eval(json!({"group": "servers"}), &msg()));
    assert!(!eval(json!({"group": "Servers"}), &msg()), "exact match");
    assert!(!eval(
        json!({"group": "servers"}),
        &Message::new("no group")
    ));
}

#[test]
fn dimensions_are_anded() {
    let all = json!({
        "ingest_endpoint_ids": [EP1],
        "body": {"contains": ["disk"], "regex": "web-\\d"},
        "priority": {"min": 3, "max": 5},
        "tags": ["prod"],
        "group": "servers"
    });
    assert!(eval(all.clone(), &msg()));
    // Breaking any single dimension fails the whole filter.
    let breakers: [fn(&mut Message); 7] = [
        |m| m.endpoint_id = EP2.into(),
        |m| m.body = "CPU high on web-1".into(),
        |m| m.body = "disk full on db".into(),
        |m| m.priority = 2,
        |m| m.tags = vec!["staging".into()],
        |m| m.group = Some("desktops".into()),
        |m| m.group = None,
    ];
    for (i, breaker) in breakers.iter().enumerate() {
        let mut m = msg();
        breaker(&mut m);
        assert!(!eval(all.clone(), &m), "breaker {i}");
    }
    // Contains and regex inside body are ANDed as well.
    assert!(!eval(
        json!({"body": {"contains": ["disk"], "regex": "^CPU"}}),
        &msg()
    ));
}

#[test]
fn unknown_keys_are_rejected() {
    assert_eq!(invalid(json!({"prority": {"min": 1}})).field, "prority");
    let e = invalid(json!({"body": {"regexp": "x"}}));
    assert!(e.field.starts_with("body"), "{e:?}");
    assert_eq!(invalid(json!({"tags": "prod"})).field, "tags");
}

#[test]
fn evaluate_is_pure_across_calls() {
    // Same inputs, same answer, whatever was evaluated before.
    let a = json!({"tags": ["prod"]});
    let b = json!({"group": "other"});
    for _ in 0..3 {
        assert!(eval(a.clone(), &msg()));
        assert!(!eval(b.clone(), &msg()));
    }
}

#[test]
fn describe() {
    let info = harness::filter_describe::<StandardFilter>();
    assert_eq!(info.id, "standard-filter");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Filter);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in ["ingest_endpoint_ids", "body", "priority", "tags", "group"] {
        assert!(props.contains_key(key), "{key}");
    }
}
