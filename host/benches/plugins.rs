//! Plugin cost: one message against 10 standard-filter rules (target
//! ≤ 50 µs), one send of each built-in channel plugin up to the network, one
//! `adapt` of each built-in ingest adapter on a captured payload, and
//! the same webhook-style channel written in Rust, JavaScript and Python:
//! component size, compile time, instantiation and one send.
//! Run with `cargo bench -p beacon-host --bench plugins`; the language
//! figures need the examples built (`scripts/build-examples.sh`), else they
//! are skipped with a note.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use beacon_host::app::rules::{evaluate_blocking, ActiveRule};
use beacon_host::config::PluginConfig;
use beacon_host::domain::{Message, Payload, Rule};
use beacon_host::plugins::kv::{KvBackend, KvBucket, MemoryKv};
use beacon_host::plugins::runtime::{CallState, InboundRequest, SendError};
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
    let config = bench_config(dir.path());
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
        deliver_at: None,
    });
    // Filters here are stateless; the benches keep any state in memory.
    let kv: Arc<dyn KvBackend> = Arc::new(MemoryKv::default());
    let bucket = KvBucket::for_rule("bench", "bench", "standard-filter");
    let verdicts = evaluate_blocking(&registry, &rules, &message, kv.clone());
    assert!(verdicts.iter().all(|v| v.error.is_none()), "{verdicts:?}");

    c.bench_function("one message against 10 standard-filter rules", |b| {
        b.iter(|| evaluate_blocking(&registry, &rules, &message, kv.clone()))
    });
    let plain: Vec<_> = rules
        .iter()
        .filter(|r| !r.rule.filter.to_string().contains("regex"))
        .cloned()
        .collect();
    c.bench_function("one message against 8 rules without regex", |b| {
        b.iter(|| evaluate_blocking(&registry, &plain, &message, kv.clone()))
    });
    let standard = registry.get("standard-filter").expect("standard filter");
    c.bench_function("fresh standard-filter instance (no call)", |b| {
        b.iter(|| {
            registry
                .runtime()
                .filter_session(&standard, kv.clone())
                .expect("instance")
        })
    });
    let mut session = registry
        .runtime()
        .filter_session(&standard, kv.clone())
        .expect("instance");
    let config = rules[0].rule.filter.to_string();
    c.bench_function("one evaluate on a live instance", |b| {
        b.iter(|| {
            session
                .evaluate(&config, bucket.clone(), &message)
                .expect("call")
        })
    });
    let regex = r#"{"body":{"regex":"disk \\d+% full"}}"#;
    c.bench_function("one regex evaluate on a live instance", |b| {
        b.iter(|| {
            session
                .evaluate(regex, bucket.clone(), &message)
                .expect("call")
        })
    });
    c.bench_function("one message against 1 standard-filter rule", |b| {
        b.iter(|| evaluate_blocking(&registry, &rules[..1], &message, kv.clone()))
    });

    // One `send` of each built-in channel without the network: the server
    // (or MQTT broker) is a loopback address the outbound policy refuses, so
    // the call runs everything up to the host's fetch or publish (fresh
    // instance, config parse, payload building, signing or encryption, policy
    // check) and returns the refusal; e-mail runs up to the host's relay,
    // which has no SMTP server here.
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    let _entered = runtime.enter();
    let loopback = "http://127.0.0.1:9";
    let channels = [
        (
            "bark",
            json!({"server_base_url": loopback, "device_key": "device-123",
                        "default_payload_json": {"sound": "bell"}}),
        ),
        (
            "bark",
            json!({"server_base_url": loopback, "device_key": "device-123",
                        "encryption": {"algorithm": "aes-256-gcm", "key": "0123456789abcdef0123456789abcdef"}}),
        ),
        (
            "ntfy",
            json!({"server_url": loopback, "topic": "alerts", "token": "tk_bench"}),
        ),
        (
            "gotify",
            json!({"server_url": loopback, "app_token": "AbCdEf.123"}),
        ),
        (
            "webhook",
            json!({"url": format!("{loopback}/hook"),
                           "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
        ),
        (
            "slack",
            json!({"webhook_url": format!("{loopback}/services/T/B/X")}),
        ),
        (
            "discord",
            json!({"webhook_url": format!("{loopback}/api/webhooks/1/t")}),
        ),
        (
            "telegram",
            json!({"bot_token": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
                            "chat_id": "-100123", "api_base_url": loopback}),
        ),
        (
            "email",
            json!({"to": ["ops@example.com"], "subject_prefix": "[beacon]"}),
        ),
        (
            "mqtt",
            json!({"broker_url": "mqtt://127.0.0.1:1883", "topic": "beacon/alerts"}),
        ),
    ];
    let payload = json!({"title": "NAS", "body": "disk 95% full on /volume1", "group": "storage"})
        .to_string();
    for (id, config) in channels {
        let plugin = registry.get(id).expect("built-in channel");
        let config = config.to_string();
        let encrypted = config.contains("encryption");
        let state = || CallState {
            kv: kv.clone(),
            bucket: KvBucket::for_channel("bench", id),
            mail: Arc::new(beacon_host::plugins::mail::NoMail),
        };
        let refused = registry
            .runtime()
            .send_blocking(&plugin, &config, &payload, &message, state())
            .expect("call");
        let reached_the_host = match &refused {
            Err(SendError::Permanent(failure) | SendError::Retryable(failure)) => {
                let text = failure.message.to_lowercase();
                text.contains("127.0.0.1") || text.contains("loopback") || text.contains("smtp")
            }
            Ok(_) => false,
        };
        assert!(
            reached_the_host,
            "{id}: the host must refuse the network here: {refused:?}"
        );
        let name = format!(
            "one {id}{} send, network excluded",
            if encrypted { " (encrypted)" } else { "" }
        );
        c.bench_function(&name, |b| {
            b.iter(|| {
                registry
                    .runtime()
                    .send_blocking(&plugin, &config, &payload, &message, state())
                    .expect("call")
            })
        });
    }
}

/// One `adapt` of each built-in adapter on a payload from the sender's docs:
/// what an ingest request through it costs beyond a native one (a fresh
/// instance, the JSON parse, the mapping, the signature check for GitHub).
fn adapters(c: &mut Criterion) {
    use hmac::{Hmac, Mac};
    let dir = tempfile::tempdir().expect("tempdir");
    let registry = beacon_host::plugins::start(&bench_config(dir.path())).expect("plugins");
    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/tests/fixtures/adapters/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture")
    };
    let secret = "bench-webhook-secret";
    let push = fixture("github-push.json");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(&push);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let grafana = json!({"items": "/alerts", "title": "{{/labels/alertname}}",
        "body": "/annotations/summary", "priority": "/labels/severity",
        "priorities": {"critical": 5, "warning": 4}, "click": "/generatorURL"});
    let cases = [
        (
            "alertmanager",
            json!({}),
            fixture("alertmanager.json"),
            vec![],
        ),
        (
            "github",
            json!({"secret": secret}),
            push,
            vec![
                ("x-github-event".to_string(), "push".to_string()),
                ("x-hub-signature-256".to_string(), signature),
            ],
        ),
        ("json-map", grafana, fixture("grafana.json"), vec![]),
    ];
    for (id, config, body, headers) in cases {
        let plugin = registry.get(id).expect("built-in adapter");
        let config = config.to_string();
        let request = InboundRequest {
            method: "POST".into(),
            query: Vec::new(),
            headers,
            body,
            endpoint_id: "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5".into(),
            endpoint_name: "bench".into(),
        };
        let made = registry
            .runtime()
            .adapt(&plugin, &config, &request)
            .expect("call")
            .expect("adapted");
        assert!(!made.is_empty(), "{id} made no message");
        c.bench_function(&format!("one {id} adapt of a captured payload"), |b| {
            b.iter(|| {
                registry
                    .runtime()
                    .adapt(&plugin, &config, &request)
                    .expect("call")
            })
        });
    }
}

/// The same channel (POST the payload with a bearer token) per language.
const LANGUAGES: [(&str, &str, &str); 3] = [
    (
        "rust",
        "http-post",
        "target/test-http-post/wasm32-wasip2/release/http_post.wasm",
    ),
    (
        "javascript",
        "js-webhook",
        "examples/js-channel/dist/js_webhook.wasm",
    ),
    (
        "python",
        "py-webhook",
        "examples/python-channel/dist/py_webhook.wasm",
    ),
];

fn languages(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    let _entered = runtime.enter();
    let kv: Arc<dyn KvBackend> = Arc::new(MemoryKv::default());
    let message = beacon_host::plugins::wit_message(&Message {
        id: "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5".into(),
        endpoint_id: "e".into(),
        endpoint_name: "bench".into(),
        received_at: 0,
        payload: Payload {
            body: "disk 95% full".into(),
            title: Some("NAS".into()),
            group: None,
            priority: 4,
            tags: Vec::new(),
            url: None,
            extras: BTreeMap::new(),
        },
        request: Default::default(),
        filter_errors: Vec::new(),
        deliver_at: None,
    });
    let payload = json!({"text": "disk 95% full"}).to_string();
    for (language, id, path) in LANGUAGES {
        let Ok(bytes) = std::fs::read(root.join(path)) else {
            eprintln!(
                "{language}: {path} is missing; build it (scripts/build-examples.sh) to measure it"
            );
            continue;
        };
        // Compile time: a fresh cache directory, so nothing is reused.
        let plugins = PluginConfig {
            dir: dir.path().join(format!("{language}-plugins")),
            cache_dir: dir.path().join(format!("{language}-cache")),
            ..bench_config(dir.path())
        };
        let registry = beacon_host::plugins::start(&plugins).expect("plugins");
        let started = std::time::Instant::now();
        let plugin = registry.runtime().load(&bytes).expect("loads");
        let compiled = started.elapsed();
        assert_eq!(plugin.info.id, id);
        // The same request in each: a URL and a bearer token.
        let config = if language == "rust" {
            json!({"url": "http://127.0.0.1:9/hook", "headers": {"Authorization": "Bearer bench-token"}})
        } else {
            json!({"url": "http://127.0.0.1:9/hook", "token": "bench-token"})
        }
        .to_string();
        eprintln!(
            "{language}: {id} component {:.1} MiB, compile + check + describe {:.2} s (first load; later loads use the compiled cache)",
            bytes.len() as f64 / (1024.0 * 1024.0),
            compiled.as_secs_f64()
        );
        c.bench_function(&format!("{language}: instantiate + validate-config"), |b| {
            b.iter(|| {
                registry
                    .runtime()
                    .validate_config(&plugin, &config)
                    .expect("call")
                    .expect("valid")
            })
        });
        let state = || CallState {
            kv: kv.clone(),
            bucket: KvBucket::for_channel("bench", id),
            mail: Arc::new(beacon_host::plugins::mail::NoMail),
        };
        c.bench_function(&format!("{language}: one send, network excluded"), |b| {
            b.iter(|| {
                registry
                    .runtime()
                    .send_blocking(&plugin, &config, &payload, &message, state())
                    .expect("call")
            })
        });
    }
}

fn bench_config(dir: &std::path::Path) -> PluginConfig {
    PluginConfig {
        dir: dir.join("plugins"),
        reload_every: None,
        cache_dir: dir.join("cache"),
        outbound_allowlist: Vec::new(),
        block_private_networks: true,
        block_private_overrides: Vec::new(),
        request_timeout: Duration::from_secs(10),
        max_body_bytes: 1 << 20,
        filter_timeout: Duration::from_millis(50),
        adapter_timeout: Duration::from_millis(1000),
        memory_bytes: 64 << 20,
    }
}

criterion_group!(benches, bench, adapters, languages);
criterion_main!(benches);
