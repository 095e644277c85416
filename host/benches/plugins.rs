//! Plugin cost (issue target: one message against 10 standard-filter rules in
//! ≤ 50 µs). Run with `cargo bench -p beacon-host --bench plugins`.

use std::collections::BTreeMap;
use std::time::Duration;

use beacon_host::app::rules::{evaluate_blocking, ActiveRule};
use beacon_host::config::PluginConfig;
use beacon_host::domain::{Message, Payload, Rule};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

fn rule(i: usize, filter: serde_json::Value) -> Rule {
    Rule {
        id: format!("rule{i:02}"),
        user_id: "u".into(),
        name: format!("rule {i}"),
        enabled: true,
        channel_id: "c".into(),
        filter,
        extra_filters: Vec::new(),
        payload_template: json!({}),
        created_at: 0,
        updated_at: 0,
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = PluginConfig {
        dir: dir.path().join("plugins"),
        reload_every: None,
        cache_dir: dir.path().join("cache"),
        outbound_allowlist: Vec::new(),
        block_private_networks: true,
        block_private_overrides: Vec::new(),
        request_timeout: Duration::from_secs(10),
        max_body_bytes: 1 << 20,
        filter_timeout: Duration::from_millis(50),
        memory_bytes: 64 << 20,
    };
    let registry = beacon_host::plugins::start(&config).expect("plugins");
    // Ten realistic rules over every dimension; two of them use a regex.
    let filters = [
        json!({"priority": {"min": 4}}),
        json!({"tags": ["ops", "disk"]}),
        json!({"group": "backups"}),
        json!({"body": {"contains": ["full", "error"]}}),
        json!({"body": {"regex": "disk \\d+% full"}}),
        json!({"ingest_endpoint_ids": ["0192f0c1a2b37c4d8e9fa0b1c2d3e4f5"]}),
        json!({"priority": {"min": 2, "max": 5}, "tags": ["nas"]}),
        json!({"body": {"contains": ["warning"]}, "priority": {"max": 3}}),
        json!({"body": {"regex": "(?i)backup (ok|failed)"}, "group": "backups"}),
        json!({}),
    ];
    let rules: Vec<_> = filters
        .iter()
        .enumerate()
        .map(|(i, f)| ActiveRule::new(rule(i, f.clone())))
        .collect();
    let payload = Payload {
        body: "disk 95% full on /volume1".into(),
        title: Some("NAS".into()),
        group: Some("storage".into()),
        priority: 5,
        tags: vec!["ops".into(), "nas".into()],
        url: None,
        extras: BTreeMap::from([("host".to_string(), "nas1".to_string())]),
    };
    let message = beacon_host::plugins::wit_message(&Message {
        id: "0192f0c1a2b37c4d8e9fa0b1c2d3e4f6".into(),
        endpoint_id: "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5".into(),
        endpoint_name: "nas".into(),
        received_at: 1_795_305_600_000,
        payload,
        request: Default::default(),
        filter_errors: Vec::new(),
    });
    let verdicts = evaluate_blocking(&registry, &rules, &message);
    assert!(verdicts.iter().all(|v| v.error.is_none()), "{verdicts:?}");

    c.bench_function("one message against 10 standard-filter rules", |b| {
        b.iter(|| evaluate_blocking(&registry, &rules, &message))
    });
    let plain: Vec<_> = rules
        .iter()
        .filter(|r| !r.rule.filter.to_string().contains("regex"))
        .cloned()
        .collect();
    c.bench_function("one message against 8 rules without regex", |b| {
        b.iter(|| evaluate_blocking(&registry, &plain, &message))
    });
    let standard = registry.get("standard-filter").expect("standard filter");
    c.bench_function("fresh standard-filter instance (no call)", |b| {
        b.iter(|| {
            registry
                .runtime()
                .filter_session(&standard)
                .expect("instance")
        })
    });
    let mut session = registry
        .runtime()
        .filter_session(&standard)
        .expect("instance");
    let config = rules[0].rule.filter.to_string();
    c.bench_function("one evaluate on a live instance", |b| {
        b.iter(|| session.evaluate(&config, &message).expect("call"))
    });
    let regex = r#"{"body":{"regex":"disk \\d+% full"}}"#;
    c.bench_function("one regex evaluate on a live instance", |b| {
        b.iter(|| session.evaluate(regex, &message).expect("call"))
    });
    c.bench_function("one message against 1 standard-filter rule", |b| {
        b.iter(|| evaluate_blocking(&registry, &rules[..1], &message))
    });

    // One bark `send` without the HTTP exchange: the server is a loopback
    // address the outbound policy refuses, so the call runs everything up to
    // the host's fetch (fresh instance, config parse, payload merge, request
    // building, policy check) and returns the refusal.
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    let _entered = runtime.enter();
    let bark = registry.get("bark").expect("bark");
    let bark_config = json!({"server_base_url": "http://127.0.0.1:9", "device_key": "device-123",
                             "default_payload_json": {"sound": "bell"}})
    .to_string();
    let payload = json!({"title": "NAS", "body": "disk 95% full on /volume1", "group": "storage"})
        .to_string();
    let refused = registry
        .runtime()
        .send_blocking(&bark, &bark_config, &payload, &message)
        .expect("call");
    assert!(refused.is_err(), "the policy must refuse loopback here");
    c.bench_function("one bark send, HTTP excluded", |b| {
        b.iter(|| {
            registry
                .runtime()
                .send_blocking(&bark, &bark_config, &payload, &message)
                .expect("call")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
