use super::*;
use beacon_plugin_sdk::{harness, testing, PluginKind};
use serde_json::{json, Value};

const EP1: &str = "0190f0c8a1b27c3d9e4f5a6b7c8d0001";
const EP2: &str = "0190f0c8a1b27c3d9e4f5a6b7c8d0002";

fn msg() -> Message {
    Message::new("disk full")
}

fn in_group(group: Option<&str>) -> Message {
    Message {
        group: group.map(Into::into),
        ..msg()
    }
}

fn from_endpoint(id: &str, name: &str) -> Message {
    Message {
        endpoint_id: id.into(),
        endpoint_name: name.into(),
        ..msg()
    }
}

fn decide(config: &Value, message: &Message) -> Verdict {
    harness::filter_decide::<RateLimit>(&config.to_string(), message).unwrap()
}

fn passes(config: &Value, message: &Message) -> bool {
    let verdict = decide(config, message);
    assert_eq!(verdict.note.is_some(), !verdict.matched, "{verdict:?}");
    verdict.matched
}

fn config(value: Value) -> RateLimitConfig {
    serde_json::from_value(value).unwrap()
}

fn invalid(value: Value) -> ConfigError {
    let err = harness::filter_validate_config::<RateLimit>(&value.to_string()).unwrap_err();
    assert!(
        harness::filter_decide::<RateLimit>(&value.to_string(), &msg()).is_err(),
        "{value} must not evaluate"
    );
    err
}

#[test]
fn describe() {
    let info = harness::filter_describe::<RateLimit>();
    assert_eq!(info.id, "rate-limit");
    assert_eq!(info.name, "Rate limit");
    assert_eq!(info.kind, PluginKind::Filter);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    for key in ["max", "window_seconds", "key_by"] {
        assert!(
            props[key]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{key}: {schema}"
        );
    }
    assert_eq!(schema["required"], json!(["max", "window_seconds"]));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(props["max"]["minimum"], 1);
    assert_eq!(props["max"]["maximum"], 100000);
    assert_eq!(props["window_seconds"]["maximum"], 604800);
    assert_eq!(props["key_by"]["default"], "none");
    for value in ["none", "group", "endpoint"] {
        assert!(
            schema.to_string().contains(&format!("\"{value}\"")),
            "{value}"
        );
    }
}

#[test]
fn the_max_plus_first_is_blocked_then_a_new_window_passes() {
    testing::reset();
    let c = json!({"max": 3, "window_seconds": 60});
    for _ in 0..3 {
        assert!(passes(&c, &msg()));
    }
    assert_eq!(
        decide(&c, &msg()),
        Verdict::block("rate limit: 3 per 60 s reached (this is message 4 of the window)")
    );
    assert_eq!(
        decide(&c, &msg()).note.as_deref(),
        Some("rate limit: 3 per 60 s reached (this is message 5 of the window)")
    );
    assert_eq!(
        harness::filter_evaluate::<RateLimit>(&c.to_string(), &msg()),
        Ok(false)
    );
    // Fixed window: 59 s after the first message it is still the same one.
    testing::advance_kv_clock(Duration::from_secs(59));
    assert!(!passes(&c, &msg()));
    testing::advance_kv_clock(Duration::from_secs(1));
    for _ in 0..3 {
        assert!(passes(&c, &msg()), "a new window");
    }
    assert!(!passes(&c, &msg()));
    testing::reset();
}

#[test]
fn max_one() {
    testing::reset();
    let c = json!({"max": 1, "window_seconds": 3600});
    assert!(passes(&c, &msg()));
    assert_eq!(
        decide(&c, &msg()).note.as_deref(),
        Some("rate limit: 1 per 3600 s reached (this is message 2 of the window)")
    );
    testing::reset();
}

#[test]
fn key_by_group() {
    testing::reset();
    let c = json!({"max": 1, "window_seconds": 60, "key_by": "group"});
    assert!(passes(&c, &in_group(Some("db"))));
    assert!(passes(&c, &in_group(Some("web"))));
    assert!(passes(&c, &in_group(None)));
    assert!(passes(&c, &in_group(Some(""))), "empty is not absent");
    assert_eq!(
        decide(&c, &in_group(Some("db"))).note.as_deref(),
        Some("rate limit: 1 per 60 s for group \"db\" reached (this is message 2 of the window)")
    );
    assert_eq!(
        decide(&c, &in_group(None)).note.as_deref(),
        Some("rate limit: 1 per 60 s for messages without a group reached (this is message 2 of the window)")
    );
    assert!(!passes(&c, &in_group(Some("web"))));
    // Long names are cut in the note.
    let long = "g".repeat(500);
    assert!(passes(&c, &in_group(Some(&long))));
    let note = decide(&c, &in_group(Some(&long))).note.unwrap();
    assert!(note.contains(&format!("\"{}…\"", "g".repeat(80))), "{note}");
    assert!(note.len() < 200);
    testing::reset();
}

#[test]
fn key_by_endpoint() {
    testing::reset();
    let c = json!({"max": 2, "window_seconds": 60, "key_by": "endpoint"});
    assert!(passes(&c, &from_endpoint(EP1, "nas")));
    assert!(passes(&c, &from_endpoint(EP1, "nas")));
    assert!(passes(&c, &from_endpoint(EP2, "router")));
    assert_eq!(
        decide(&c, &from_endpoint(EP1, "nas")).note.as_deref(),
        Some(
            "rate limit: 2 per 60 s for endpoint \"nas\" reached (this is message 3 of the window)"
        )
    );
    assert!(passes(&c, &from_endpoint(EP2, "router")));
    assert!(!passes(&c, &from_endpoint(EP2, "router")));
    // Without key_by they all count together (in a count of their own).
    let all = json!({"max": 2, "window_seconds": 60});
    assert!(passes(&all, &from_endpoint(EP1, "nas")));
    assert!(passes(&all, &from_endpoint(EP2, "router")));
    assert!(!passes(&all, &in_group(Some("db"))));
    assert!(
        !passes(
            &json!({"max": 2, "window_seconds": 60, "key_by": "none"}),
            &msg()
        ),
        "\"none\" is the default: the same count"
    );
    testing::reset();
}

#[test]
fn per_rule_scopes() {
    testing::reset();
    let c = json!({"max": 1, "window_seconds": 60});
    testing::set_kv_scope("rule-a");
    assert!(passes(&c, &msg()));
    assert!(!passes(&c, &msg()));
    testing::set_kv_scope("rule-b");
    assert!(passes(&c, &msg()), "rule b counts on its own");
    assert!(!passes(&c, &msg()));
    testing::set_kv_scope("rule-a");
    testing::advance_kv_clock(Duration::from_secs(60));
    assert!(passes(&c, &msg()));
    testing::reset();
}

#[test]
fn two_limits_on_one_rule_count_separately() {
    // 2 per minute and 3 per hour on one rule (one bucket): each counts
    // every message once.
    testing::reset();
    let minute = json!({"max": 2, "window_seconds": 60});
    let hour = json!({"max": 3, "window_seconds": 3600});
    let both = |m: &Message| passes(&minute, m) && passes(&hour, m);
    assert!(both(&msg()));
    assert!(both(&msg()));
    assert!(!both(&msg())); // third in the minute (the host stops at the first block)
    testing::advance_kv_clock(Duration::from_secs(60));
    assert!(both(&msg())); // third in the hour
    assert!(!both(&msg())); // fourth in the hour
                            // Same window, different max: separate counts too.
    testing::reset();
    let a = json!({"max": 1, "window_seconds": 60});
    let b = json!({"max": 2, "window_seconds": 60});
    assert!(passes(&a, &msg()));
    assert!(passes(&b, &msg()));
    assert!(passes(&b, &msg()));
    testing::reset();
}

#[test]
fn counter_keys() {
    let m = Message {
        group: Some("db".into()),
        endpoint_id: EP1.into(),
        ..msg()
    };
    let key = |v: Value| counter_key(&config(v), &m);
    assert_eq!(
        key(json!({"max": 10, "window_seconds": 60})),
        "count:60s:10"
    );
    let g = key(json!({"max": 10, "window_seconds": 60, "key_by": "group"}));
    assert!(
        g.starts_with("count:60s:10:group:") && g.len() == 19 + 64,
        "{g}"
    );
    let e = key(json!({"max": 10, "window_seconds": 60, "key_by": "endpoint"}));
    assert!(
        e.starts_with("count:60s:10:endpoint:") && e.len() == 22 + 64,
        "{e}"
    );
    // Dashed/upper-case endpoint ids are the same endpoint.
    let dashed = Message {
        endpoint_id: "0190F0C8-A1B2-7C3D-9E4F-5A6B7C8D0001".into(),
        ..m.clone()
    };
    assert_eq!(
        counter_key(
            &config(json!({"max": 10, "window_seconds": 60, "key_by": "endpoint"})),
            &dashed
        ),
        e
    );
    let longest = counter_key(
        &config(json!({"max": 100000, "window_seconds": 604800, "key_by": "endpoint"})),
        &m,
    );
    assert!(longest.len() <= 100, "{longest}");
}

/// A bucket that never answers.
struct Down;

impl State for Down {
    fn increment(&mut self, _: &str, _: i64, _: Duration) -> Result<i64, KvError> {
        Err(KvError::Unavailable("database timeout".into()))
    }
}

#[test]
fn fails_open_when_state_is_unavailable() {
    let c = config(json!({"max": 1, "window_seconds": 60}));
    let v = decide_with(&c, &msg(), &mut Down).unwrap();
    assert!(v.matched);
    assert_eq!(
        v.note.as_deref(),
        Some("not counted against the rate limit, let through: key-value state unavailable: database timeout")
    );
}

#[test]
fn validation() {
    for ok in [
        json!({"max": 1, "window_seconds": 1}),
        json!({"max": 100000, "window_seconds": 604800, "key_by": "endpoint"}),
        json!({"max": 10, "window_seconds": 60, "key_by": "group"}),
        json!({"max": 10, "window_seconds": 60, "key_by": "none"}),
    ] {
        assert_eq!(
            harness::filter_validate_config::<RateLimit>(&ok.to_string()),
            Ok(()),
            "{ok}"
        );
    }
    for (bad, field) in [
        (json!({"max": 0, "window_seconds": 60}), "max"),
        (json!({"max": 100001, "window_seconds": 60}), "max"),
        (json!({"max": -1, "window_seconds": 60}), "max"),
        (json!({"max": "10", "window_seconds": 60}), "max"),
        (json!({"max": 2.5, "window_seconds": 60}), "max"),
        (json!({"window_seconds": 60}), "max"),
        (json!({"max": 10, "window_seconds": 0}), "window_seconds"),
        (
            json!({"max": 10, "window_seconds": 604801}),
            "window_seconds",
        ),
        (json!({"max": 10}), "window_seconds"),
        (
            json!({"max": 10, "window_seconds": 60, "key_by": "tag"}),
            "key_by",
        ),
        (
            json!({"max": 10, "window_seconds": 60, "key_by": "Group"}),
            "key_by",
        ),
        (
            json!({"max": 10, "window_seconds": 60, "burst": 5}),
            "burst",
        ),
    ] {
        let err = invalid(bad.clone());
        assert_eq!(err.field, field, "{bad}: {err:?}");
    }
    assert!(invalid(json!({"max": 0, "window_seconds": 60}))
        .message
        .contains("between 1 and 100000"));
    assert!(invalid(json!({"max": 1, "window_seconds": 0}))
        .message
        .contains("between 1 and 604800"));
}
