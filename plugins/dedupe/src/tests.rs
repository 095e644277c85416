use super::*;
use beacon_plugin_sdk::{harness, testing, PluginKind};
use serde_json::json;

fn msg(id: &str, body: &str) -> Message {
    Message {
        id: id.into(),
        received_at: format!("2026-01-15T10:00:{}Z", &id[id.len() - 2..]),
        title: Some("Disk".into()),
        body: body.into(),
        group: Some("servers".into()),
        priority: 4,
        tags: vec!["prod".into(), "disk".into()],
        url: None,
        extras: vec![("host".into(), "nas1".into())],
        ..Message::default()
    }
}

const ID1: &str = "0190f0c8a1b27c3d9e4f5a6b7c8d0a01";
const ID2: &str = "0190f0c8a1b27c3d9e4f5a6b7c8d0a02";
const ID3: &str = "0190f0c8a1b27c3d9e4f5a6b7c8d0a03";
const ID4: &str = "0190f0c8a1b27c3d9e4f5a6b7c8d0a04";

fn decide(config: &Value, message: &Message) -> Verdict {
    harness::filter_decide::<Dedupe>(&config.to_string(), message).unwrap()
}

fn config(value: Value) -> DedupeConfig {
    serde_json::from_value(value).unwrap()
}

fn fp(fields: Value, message: &Message) -> String {
    fingerprint(
        &config(json!({"window_seconds": 300, "fields": fields})),
        message,
    )
}

fn invalid(value: Value) -> ConfigError {
    let err = harness::filter_validate_config::<Dedupe>(&value.to_string()).unwrap_err();
    assert!(
        harness::filter_decide::<Dedupe>(&value.to_string(), &msg(ID1, "x")).is_err(),
        "{value} must not evaluate"
    );
    err
}

#[test]
fn describe() {
    let info = harness::filter_describe::<Dedupe>();
    assert_eq!(info.id, "dedupe");
    assert_eq!(info.name, "Deduplicate");
    assert_eq!(info.kind, PluginKind::Filter);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    for key in ["window_seconds", "fields"] {
        assert!(
            props[key]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{key}: {schema}"
        );
    }
    assert_eq!(schema["required"], json!(["window_seconds"]));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(props["window_seconds"]["minimum"], 1);
    assert_eq!(props["window_seconds"]["maximum"], 604800);
    assert_eq!(props["fields"]["items"]["type"], "string");
    assert!(props["fields"]["items"]["pattern"].is_string());
}

#[test]
fn first_passes_repeat_is_blocked_with_note_then_window_ends() {
    testing::reset();
    let c = json!({"window_seconds": 300});
    assert_eq!(decide(&c, &msg(ID1, "disk full")), Verdict::pass());
    let v = decide(&c, &msg(ID2, "disk full"));
    assert_eq!(
        v,
        Verdict::block(format!(
            "duplicate of message {ID1} (received 2026-01-15T10:00:01Z), within 300 s"
        ))
    );
    assert_eq!(
        harness::filter_evaluate::<Dedupe>(&c.to_string(), &msg(ID3, "disk full")),
        Ok(false)
    );
    // Another body is another fingerprint.
    assert_eq!(decide(&c, &msg(ID3, "cpu hot")), Verdict::pass());

    // The window is fixed from the first message: the repeats at +0 s did not
    // extend it, so 301 s after the first one it has ended.
    testing::advance_kv_clock(Duration::from_secs(299));
    assert!(!decide(&c, &msg(ID4, "disk full")).matched);
    testing::advance_kv_clock(Duration::from_secs(2));
    assert_eq!(decide(&c, &msg(ID4, "disk full")), Verdict::pass());
    // … and the one that passed opens a new window.
    let v = decide(&c, &msg(ID2, "disk full"));
    assert_eq!(
        v.note.as_deref(),
        Some(
            format!("duplicate of message {ID4} (received 2026-01-15T10:00:04Z), within 300 s")
                .as_str()
        )
    );
    testing::reset();
}

#[test]
fn a_message_is_not_a_duplicate_of_itself() {
    testing::reset();
    let c = json!({"window_seconds": 60});
    assert!(decide(&c, &msg(ID1, "x")).matched);
    assert_eq!(decide(&c, &msg(ID1, "x")), Verdict::pass());
    assert!(!decide(&c, &msg(ID2, "x")).matched);
    testing::reset();
}

#[test]
fn per_rule_scopes() {
    testing::reset();
    let c = json!({"window_seconds": 300});
    testing::set_kv_scope("rule-a");
    assert!(decide(&c, &msg(ID1, "x")).matched);
    testing::set_kv_scope("rule-b");
    assert!(
        decide(&c, &msg(ID1, "x")).matched,
        "rule b has its own state"
    );
    assert!(!decide(&c, &msg(ID2, "x")).matched);
    testing::set_kv_scope("rule-a");
    let v = decide(&c, &msg(ID3, "x"));
    assert!(!v.matched);
    assert!(v.note.unwrap().contains(ID1));
    testing::reset();
}

#[test]
fn two_windows_on_one_rule_do_not_collide() {
    // Two dedupe filters on one rule share the rule's bucket; each keeps
    // its own keys, so the second does not see the first one's key.
    testing::reset();
    let short = json!({"window_seconds": 60});
    let long = json!({"window_seconds": 3600});
    assert!(decide(&short, &msg(ID1, "x")).matched);
    assert!(decide(&long, &msg(ID1, "x")).matched);
    testing::advance_kv_clock(Duration::from_secs(61));
    assert!(decide(&short, &msg(ID2, "x")).matched);
    assert!(!decide(&long, &msg(ID2, "x")).matched);
    testing::reset();
}

#[test]
fn fields_choose_the_fingerprint() {
    testing::reset();
    let base = msg(ID1, "disk full");
    let default = fp(json!(["title", "body", "endpoint"]), &base);
    assert_eq!(
        fingerprint(&config(json!({"window_seconds": 300})), &base),
        default,
        "default fields"
    );
    assert_eq!(default.len(), 64);
    assert!(default
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    // Ids and times never count; only the chosen fields do.
    let mut other = msg(ID2, "disk full");
    other.priority = 1;
    other.tags.clear();
    other.group = None;
    assert_eq!(fp(json!(["title", "body", "endpoint"]), &other), default);
    assert_ne!(
        fp(json!(["title", "body", "priority"]), &other),
        fp(json!(["title", "body", "priority"]), &base)
    );
    assert_ne!(fp(json!(["group"]), &other), fp(json!(["group"]), &base));

    // Endpoint.
    let mut elsewhere = base.clone();
    elsewhere.endpoint_id = "0190f0c8a1b27c3d9e4f5a6b7c8d9999".into();
    assert_ne!(
        fp(json!(["body", "endpoint"]), &elsewhere),
        fp(json!(["body", "endpoint"]), &base)
    );
    assert_eq!(fp(json!(["body"]), &elsewhere), fp(json!(["body"]), &base));
    let mut dashed = base.clone();
    dashed.endpoint_id = "0190F0C8-A1B2-7C3D-9E4F-5A6B7C8D0000".into();
    assert_eq!(
        fp(json!(["endpoint"]), &dashed),
        fp(json!(["endpoint"]), &base)
    );

    // Absent differs from empty; title and body do not run together.
    let mut no_title = base.clone();
    no_title.title = None;
    let mut empty_title = base.clone();
    empty_title.title = Some(String::new());
    assert_ne!(
        fp(json!(["title"]), &no_title),
        fp(json!(["title"]), &empty_title)
    );
    let mut a = base.clone();
    (a.title, a.body) = (Some("ab".into()), "c".into());
    let mut b = base.clone();
    (b.title, b.body) = (Some("a".into()), "bc".into());
    assert_ne!(
        fp(json!(["title", "body"]), &a),
        fp(json!(["title", "body"]), &b)
    );
    // The field names are encoded too: the same text in title vs group differs.
    let mut t = base.clone();
    (t.title, t.group) = (Some("x".into()), None);
    let mut g = base.clone();
    (g.title, g.group) = (None, Some("x".into()));
    assert_ne!(
        fp(json!(["title", "group"]), &t),
        fp(json!(["title", "group"]), &g)
    );

    // Tags are a set, case-insensitive.
    let mut reordered = base.clone();
    reordered.tags = vec!["DISK".into(), "prod".into(), "disk".into()];
    assert_eq!(fp(json!(["tags"]), &reordered), fp(json!(["tags"]), &base));
    reordered.tags.push("new".into());
    assert_ne!(fp(json!(["tags"]), &reordered), fp(json!(["tags"]), &base));

    // URL and extras: absent vs empty vs set.
    let mut with_url = base.clone();
    with_url.url = Some("https://example.com/a".into());
    let mut empty_url = base.clone();
    empty_url.url = Some(String::new());
    let urls = [&base, &with_url, &empty_url].map(|m| fp(json!(["url"]), m));
    assert!(urls[0] != urls[1] && urls[1] != urls[2] && urls[0] != urls[2]);
    let mut other_host = base.clone();
    other_host.extras = vec![("host".into(), "nas2".into())];
    let mut no_host = base.clone();
    no_host.extras.clear();
    let mut empty_host = base.clone();
    empty_host.extras = vec![("host".into(), String::new())];
    let hosts = [&base, &other_host, &no_host, &empty_host].map(|m| fp(json!(["extras.host"]), m));
    for i in 0..hosts.len() {
        for j in i + 1..hosts.len() {
            assert_ne!(hosts[i], hosts[j], "{i} vs {j}");
        }
    }
    assert_eq!(
        fp(json!(["extras.host"]), &other_host),
        fp(json!(["extras.host"]), &other_host.clone())
    );
    // An extra's key with a dot in it is fine.
    let mut dotted = base.clone();
    dotted.extras = vec![("a.b".into(), "1".into())];
    assert_ne!(
        fp(json!(["extras.a.b"]), &dotted),
        fp(json!(["extras.a.b"]), &base)
    );

    // The window is part of the key (see two_windows_on_one_rule_do_not_collide).
    assert_ne!(
        fingerprint(&config(json!({"window_seconds": 60})), &base),
        fingerprint(&config(json!({"window_seconds": 61})), &base)
    );
}

#[test]
fn fields_decide_what_is_a_repeat() {
    testing::reset();
    let by_host = json!({"window_seconds": 600, "fields": ["extras.host"]});
    assert!(decide(&by_host, &msg(ID1, "disk full")).matched);
    // Different body, same host: a repeat under this config.
    assert!(!decide(&by_host, &msg(ID2, "cpu hot")).matched);
    let mut other = msg(ID3, "cpu hot");
    other.extras = vec![("host".into(), "nas2".into())];
    assert!(decide(&by_host, &other).matched);
    testing::reset();
}

/// A bucket that never answers.
struct Down;

impl State for Down {
    fn add(&mut self, _: &str, _: &str, _: Duration) -> Result<bool, KvError> {
        Err(KvError::Unavailable("database timeout".into()))
    }
    fn get_string(&mut self, _: &str) -> Result<Option<String>, KvError> {
        Err(KvError::Unavailable("database timeout".into()))
    }
}

/// A bucket where every key is taken but nothing can be read back.
struct Unreadable;

impl State for Unreadable {
    fn add(&mut self, _: &str, _: &str, _: Duration) -> Result<bool, KvError> {
        Ok(false)
    }
    fn get_string(&mut self, _: &str) -> Result<Option<String>, KvError> {
        Err(KvError::Unavailable("database timeout".into()))
    }
}

#[test]
fn fails_open_when_state_is_unavailable() {
    let c = config(json!({"window_seconds": 300}));
    let v = decide_with(&c, &msg(ID1, "x"), &mut Down).unwrap();
    assert!(v.matched);
    assert_eq!(
        v.note.as_deref(),
        Some("not checked for duplicates, let through: key-value state unavailable: database timeout")
    );
    // Quota exhaustion is the same: the message passes, with a note.
    struct Full;
    impl State for Full {
        fn add(&mut self, _: &str, _: &str, _: Duration) -> Result<bool, KvError> {
            Err(KvError::QuotaExceeded("10000 keys".into()))
        }
        fn get_string(&mut self, _: &str) -> Result<Option<String>, KvError> {
            Ok(None)
        }
    }
    let v = decide_with(&c, &msg(ID1, "x"), &mut Full).unwrap();
    assert!(v.matched);
    assert!(v.note.unwrap().contains("quota"));

    // A repeat whose first message cannot be read back is still a repeat.
    let v = decide_with(&c, &msg(ID1, "x"), &mut Unreadable).unwrap();
    assert_eq!(
        v,
        Verdict::block("duplicate of an earlier message, within 300 s")
    );
}

#[test]
fn stored_value_shapes() {
    // What another version might have stored: just an id.
    struct Legacy;
    impl State for Legacy {
        fn add(&mut self, _: &str, _: &str, _: Duration) -> Result<bool, KvError> {
            Ok(false)
        }
        fn get_string(&mut self, _: &str) -> Result<Option<String>, KvError> {
            Ok(Some(ID2.into()))
        }
    }
    let c = config(json!({"window_seconds": 5}));
    assert_eq!(
        decide_with(&c, &msg(ID1, "x"), &mut Legacy).unwrap(),
        Verdict::block(format!("duplicate of message {ID2}, within 5 s"))
    );
}

#[test]
fn key_and_value_fit_the_kv_limits() {
    testing::reset();
    let c = json!({"window_seconds": 604800, "fields": ["title", "body", "group", "priority", "tags", "url", "endpoint", "extras.host"]});
    let mut huge = msg(ID1, &"x".repeat(100_000));
    huge.title = Some("t".repeat(10_000));
    assert!(decide(&c, &huge).matched);
    huge.id = ID2.into();
    assert!(!decide(&c, &huge).matched);
    testing::reset();
}

#[test]
fn window_bounds() {
    for ok in [1, 300, 604_800] {
        assert_eq!(
            harness::filter_validate_config::<Dedupe>(&json!({"window_seconds": ok}).to_string()),
            Ok(())
        );
    }
    for bad in [
        json!(0),
        json!(604_801),
        json!(-5),
        json!(1.5),
        json!("300"),
        json!(null),
    ] {
        let err = invalid(json!({"window_seconds": bad}));
        assert_eq!(err.field, "window_seconds", "{bad}: {err:?}");
    }
    assert_eq!(invalid(json!({})).field, "window_seconds");
    assert!(invalid(json!({"window_seconds": 0}))
        .message
        .contains("between 1 and 604800"));
}

#[test]
fn fields_validation_names_the_entry() {
    let err = invalid(json!({"window_seconds": 60, "fields": ["title", "body", "colour"]}));
    assert_eq!(err.field, "fields[2]");
    assert!(err.message.contains("unknown field `colour`"), "{err:?}");
    assert_eq!(
        invalid(json!({"window_seconds": 60, "fields": ["title", "extras."]})).field,
        "fields[1]"
    );
    assert_eq!(
        invalid(json!({"window_seconds": 60, "fields": ["extras"]})).field,
        "fields[0]"
    );
    assert_eq!(
        invalid(json!({"window_seconds": 60, "fields": ["Title"]})).field,
        "fields[0]"
    );
    assert_eq!(
        invalid(json!({"window_seconds": 60, "fields": ["title", 3]})).field,
        "fields[1]"
    );
    assert_eq!(
        invalid(json!({"window_seconds": 60, "fields": []})).field,
        "fields"
    );
    assert_eq!(
        invalid(json!({"window_seconds": 60, "fields": "title"})).field,
        "fields"
    );
    assert_eq!(
        invalid(json!({"window_seconds": 60, "extra": 1})).field,
        "extra"
    );
    for ok in [
        json!({"window_seconds": 60, "fields": ["title", "body", "group", "priority", "tags", "url", "endpoint", "extras.host", "extras.a b"]}),
        json!({"window_seconds": 60, "fields": null}),
        json!({"window_seconds": 60, "fields": ["body", "body"]}),
    ] {
        assert_eq!(
            harness::filter_validate_config::<Dedupe>(&ok.to_string()),
            Ok(()),
            "{ok}"
        );
    }
}

#[test]
fn field_names_round_trip() {
    for name in [
        "title",
        "body",
        "group",
        "priority",
        "tags",
        "url",
        "endpoint",
        "extras.host",
    ] {
        assert_eq!(Field::parse(name).unwrap().name(), name);
    }
}
