use super::*;
use beacon_plugin_sdk::harness;
use beacon_plugin_sdk::http::FetchError;
use beacon_plugin_sdk::{testing, SendFailure};

/// The Standard Webhooks reference example secret (24-byte key).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const URL: &str = "https://hooks.example.com/beacon";

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Webhook>(&v.to_string())
}

fn config_json() -> String {
    json!({"url": URL, "secret": SECRET}).to_string()
}

fn key() -> SigningKey {
    SigningKey::from_secret(SECRET).unwrap()
}

/// `whsec_` + standard base64 of an `n`-byte key.
fn secret_of_len(n: usize) -> String {
    format!("whsec_{}", BASE64.encode(vec![0x5a_u8; n]))
}

fn msg() -> Message {
    Message {
        id: "0190f0c8a1b27c3d9e4f5a6b7c8d9e0f".into(),
        received_at: "2025-01-02T03:04:05.678Z".into(),
        title: Some("Disk".into()),
        group: Some("ops".into()),
        priority: 4,
        tags: vec!["disk".into(), "prod".into()],
        url: Some("https://status.example.com/disk".into()),
        extras: vec![("host".into(), "db1".into()), ("dc".into(), "fra".into())],
        endpoint_id: "ep_1".into(),
        endpoint_name: "servers".into(),
        ..Message::new("disk full on /var")
    }
}

// ---- an independent HMAC-SHA256 (RFC 2104 over sha2), for verification ----

fn hmac_sha256_by_hand(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block_key.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block_key.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// What a receiver does: decode the secret, sign `{id}.{ts}.{body}`, compare.
fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!("v1,{}", BASE64.encode(hmac_sha256_by_hand(&key, &signed)))
}

#[test]
fn hand_written_hmac_matches_rfc_4231_case_2() {
    // Guards the guard: RFC 4231 test case 2 (key "Jefe").
    let mac = hmac_sha256_by_hand(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

// ---- signing ----------------------------------------------------------------

#[test]
fn signature_matches_the_standard_webhooks_test_vector() {
    // The example published with the Standard Webhooks / Svix reference
    // libraries: a receiver using any of them accepts what we send.
    let signature = key().sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_eq!(
        signature,
        expected_signature(
            SECRET,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#
        )
    );
}

#[test]
fn signature_is_recomputed_independently_for_any_key_length() {
    for n in [24, 32, 48, 64] {
        let secret = secret_of_len(n);
        let key = SigningKey::from_secret(&secret).unwrap();
        let body = "{\"é\":\"ünïcode\",\"n\":[1,2,3]}".as_bytes();
        assert_eq!(
            key.sign("msg_abc_0123456789abcdef", 1_735_689_600, body),
            expected_signature(&secret, "msg_abc_0123456789abcdef", "1735689600", body),
            "{n}-byte key"
        );
    }
}

#[test]
fn signature_changes_with_body_id_timestamp_and_key() {
    let k = key();
    let base = k.sign("msg_1", 1000, b"{\"a\":1}");
    assert_ne!(base, k.sign("msg_1", 1000, b"{\"a\":2}"), "body");
    assert_ne!(base, k.sign("msg_1", 1000, b"{\"a\":1} "), "one more byte");
    assert_ne!(base, k.sign("msg_2", 1000, b"{\"a\":1}"), "id");
    assert_ne!(base, k.sign("msg_1", 1001, b"{\"a\":1}"), "timestamp");
    let other = SigningKey::from_secret(&secret_of_len(24)).unwrap();
    assert_ne!(base, other.sign("msg_1", 1000, b"{\"a\":1}"), "key");
    // Deterministic for equal inputs.
    assert_eq!(base, k.sign("msg_1", 1000, b"{\"a\":1}"));
    // Shape: v1, then base64 of 32 bytes.
    let b64 = base.strip_prefix("v1,").unwrap();
    assert_eq!(BASE64.decode(b64).unwrap().len(), 32);
}

#[test]
fn webhook_id_is_message_id_plus_body_hash() {
    // sha256("{}") = 44136fa355b3678a…; sha256("") = e3b0c44298fc1c14…
    assert_eq!(
        webhook_id("0190f0c8a1b27c3d9e4f5a6b7c8d9e0f", b"{}"),
        "msg_0190f0c8a1b27c3d9e4f5a6b7c8d9e0f_44136fa355b3678a"
    );
    assert_eq!(webhook_id("abc", b""), "msg_abc_e3b0c44298fc1c14");
    // Same body, same id (retries); different body, different id.
    assert_eq!(
        webhook_id("abc", b"{\"x\":1}"),
        webhook_id("abc", b"{\"x\":1}")
    );
    assert_ne!(
        webhook_id("abc", b"{\"x\":1}"),
        webhook_id("abc", b"{\"x\":2}")
    );
    // A `.` (the signature delimiter) never reaches the id.
    assert_eq!(webhook_id("a.b c/d", b""), "msg_abcd_e3b0c44298fc1c14");
}

#[test]
fn secrets_never_show_in_debug_output() {
    let config: WebhookConfig = serde_json::from_value(json!({
        "url": URL, "secret": SECRET, "headers": {"Authorization": "Bearer hunter2"}
    }))
    .unwrap();
    let text = format!("{config:?} {:?}", key());
    assert!(!text.contains("MfKQ9r8G"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("Authorization"), "{text}");
}

// ---- config -----------------------------------------------------------------

#[test]
fn valid_configs() {
    assert_eq!(validate(json!({"url": URL, "secret": SECRET})), Ok(()));
    assert_eq!(
        validate(json!({
            "url": "http://hooks.lan:8080/in?x=1",
            "secret": secret_of_len(64),
            "method": "PUT",
            "headers": {"Authorization": "Bearer t", "X-Env": "prod"},
            "timeout_ms": 15000
        })),
        Ok(())
    );
    assert_eq!(
        validate(json!({"url": URL, "secret": secret_of_len(24), "method": "POST"})),
        Ok(())
    );
}

#[test]
fn url_errors_name_the_field() {
    for url in [
        "",
        "hooks.example.com",
        "ftp://x",
        "https://u:p@x/",
        "https://x/#f",
    ] {
        let e = validate(json!({"url": url, "secret": SECRET})).unwrap_err();
        assert_eq!(e.field, "url", "{url}: {e:?}");
    }
    assert_eq!(
        validate(json!({"secret": SECRET})).unwrap_err().field,
        "url"
    );
    assert_eq!(
        validate(json!({"url": 5, "secret": SECRET}))
            .unwrap_err()
            .field,
        "url"
    );
}

#[test]
fn secret_errors_name_the_field() {
    let bad = [
        json!("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), // no prefix
        json!("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), // prefix is case-sensitive
        json!("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), // asymmetric key prefix
        json!("whsec_"),                           // no key
        json!("whsec_not base64!!"),               // not base64
        json!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"), // bad length/padding
        json!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "), // trailing space
        json!(format!(
            "whsec_{}",
            BASE64.encode([0xff_u8; 24]).replace('/', "_")
        )), // URL-safe alphabet
        json!(secret_of_len(23)),                  // too short
        json!(secret_of_len(65)),                  // too long
        json!(secret_of_len(16)),
        json!(42),
        json!(null),
    ];
    for secret in bad {
        let e = validate(json!({"url": URL, "secret": secret})).unwrap_err();
        assert_eq!(e.field, "secret", "{secret}: {e:?}");
        // The message never echoes the secret.
        assert!(!e.message.contains("MfKQ9r8G"), "{e:?}");
    }
    assert_eq!(validate(json!({"url": URL})).unwrap_err().field, "secret");
    let e = validate(json!({"url": URL, "secret": secret_of_len(23)})).unwrap_err();
    assert!(e.message.contains("24 to 64 bytes"), "{e:?}");
}

#[test]
fn other_option_errors_name_the_field() {
    let with = |extra: Value| {
        let mut v = json!({"url": URL, "secret": SECRET});
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        validate(v).unwrap_err().field
    };
    assert_eq!(with(json!({"method": "GET"})), "method");
    assert_eq!(with(json!({"method": "post"})), "method");
    assert_eq!(with(json!({"timeout_ms": 5})), "timeout_ms");
    assert_eq!(with(json!({"timeout_ms": 120001})), "timeout_ms");
    assert_eq!(with(json!({"timeout_ms": "fast"})), "timeout_ms");
    assert_eq!(
        with(json!({"headers": {"bad name": "x"}})),
        "headers.bad name"
    );
    assert_eq!(with(json!({"headers": {"": "x"}})), "headers.");
    assert_eq!(with(json!({"headers": {"X-A": "a\r\nb"}})), "headers.X-A");
    assert_eq!(with(json!({"headers": {"X-A": 1}})), "headers.X-A");
    assert_eq!(with(json!({"headers": ["x"]})), "headers");
    for reserved in [
        "webhook-id",
        "Webhook-Timestamp",
        "WEBHOOK-SIGNATURE",
        "Content-Type",
        "Host",
        "content-length",
        "Transfer-Encoding",
        "Connection",
    ] {
        assert_eq!(
            with(json!({"headers": {reserved: "x"}})),
            format!("headers.{reserved}")
        );
    }
    assert_eq!(with(json!({"extra": 1})), "extra");
}

#[test]
fn describe_marks_secrets_and_required_keys() {
    let info = harness::channel_describe::<Webhook>();
    assert_eq!(info.id, "webhook");
    assert_eq!(info.name, "Webhook (signed)");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    assert_eq!(props["secret"]["x-secret"], true);
    assert_eq!(props["secret"]["writeOnly"], true);
    assert_eq!(props["headers"]["x-secret"], true);
    assert!(props["url"].get("x-secret").is_none());
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["secret", "url"]);
    assert_eq!(schema["additionalProperties"], false);
    for field in ["url", "secret", "method", "headers", "timeout_ms"] {
        assert!(props[field].is_object(), "{field}");
    }
}

// ---- body ---------------------------------------------------------------------

#[test]
fn body_is_the_rendered_template_as_compact_json() {
    let m = msg();
    // Whitespace is dropped (one key, so no dependence on key order).
    let body = body_for("{ \"text\" : \"Disk: disk full\" }\n", &m).unwrap();
    assert_eq!(body, br#"{"text":"Disk: disk full"}"#);
    let body = body_for(r#"{"text": "t", "priority": "4"}"#, &m).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"text": "t", "priority": "4"})
    );
    assert!(!body.contains(&b' '));
    // Any JSON value passes through; values are not coerced.
    assert_eq!(body_for("[1, \"2\"]", &m).unwrap(), br#"[1,"2"]"#);
    assert_eq!(body_for("\"hi\"", &m).unwrap(), br#""hi""#);
    // Nested objects and unknown keys are kept as they are.
    let body = body_for(r#"{"data": {"a": {"b": []}}, "type": "x.y"}"#, &m).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"data": {"a": {"b": []}}, "type": "x.y"})
    );
}

#[test]
fn no_template_sends_the_whole_message() {
    let m = msg();
    let expected = json!({
        "id": "0190f0c8a1b27c3d9e4f5a6b7c8d9e0f",
        "received_at": "2025-01-02T03:04:05.678Z",
        "title": "Disk",
        "body": "disk full on /var",
        "group": "ops",
        "priority": 4,
        "tags": ["disk", "prod"],
        "url": "https://status.example.com/disk",
        "extras": {"dc": "fra", "host": "db1"},
        "endpoint": {"id": "ep_1", "name": "servers"}
    });
    for template in ["{}", "", "  ", " { } ", "null"] {
        let body = body_for(template, &m).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            expected,
            "{template:?}"
        );
    }
    // A bare message: absent optional fields are null, not missing.
    let body = body_for("{}", &Message::new("hi")).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["title"], Value::Null);
    assert_eq!(v["group"], Value::Null);
    assert_eq!(v["url"], Value::Null);
    assert_eq!(v["priority"], 3);
    assert_eq!(v["tags"], json!([]));
    assert_eq!(v["extras"], json!({}));
}

#[test]
fn invalid_template_is_permanent_and_sends_nothing() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, Vec::new())));
    let e = harness::channel_send::<Webhook>(&config_json(), "{oops", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.message().contains("payload template"), "{e:?}");
    assert!(testing::requests().is_empty());
    testing::reset();
}

// ---- the request ----------------------------------------------------------------

fn header_names(req: &Request) -> Vec<String> {
    let mut names: Vec<String> = req
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names
}

#[test]
fn sends_the_exact_signed_request() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(204, Vec::new())));
    let before = unix_now();
    let out = harness::channel_send::<Webhook>(
        &config_json(),
        r#"{"text": "{{message.title}} rendered", "level": "4"}"#,
        &msg(),
    )
    .unwrap();
    let after = unix_now();
    assert_eq!(out.http_status, Some(204));

    let reqs = testing::requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, URL);
    assert!(!r.follow_redirects);
    assert_eq!(r.timeout_ms, None);
    assert_eq!(
        header_names(r),
        [
            "content-type",
            "user-agent",
            "webhook-id",
            "webhook-signature",
            "webhook-timestamp"
        ]
    );
    assert_eq!(r.header_value("content-type"), Some("application/json"));
    assert_eq!(r.header_value("user-agent"), Some("beacon-webhook/0.1.0"));

    let body = r.body.clone().unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"text": "{{message.title}} rendered", "level": "4"})
    );
    // Compact JSON, signed exactly as sent.
    assert_eq!(
        body,
        serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap()
    );

    let id = r.header_value("webhook-id").unwrap();
    let hash: String = Sha256::digest(&body)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(id, format!("msg_0190f0c8a1b27c3d9e4f5a6b7c8d9e0f_{hash}"));

    let ts = r.header_value("webhook-timestamp").unwrap();
    assert!(ts.bytes().all(|b| b.is_ascii_digit()), "{ts}");
    let ts_n: u64 = ts.parse().unwrap();
    assert!(
        (before..=after).contains(&ts_n),
        "{before} <= {ts} <= {after}"
    );
    assert!(ts_n > 1_700_000_000, "a real wall clock: {ts}");

    // The receiver's check, done independently of the plugin's signer.
    assert_eq!(
        r.header_value("webhook-signature").unwrap(),
        expected_signature(SECRET, id, ts, &body)
    );
    testing::reset();
}

#[test]
fn put_extra_headers_and_timeout() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, b"ok".to_vec())));
    let config = json!({
        "url": "https://h.example/in?k=v",
        "secret": SECRET,
        "method": "PUT",
        "headers": {"Authorization": "Bearer s3", "User-Agent": "custom/1"},
        "timeout_ms": 3000
    })
    .to_string();
    harness::channel_send::<Webhook>(&config, "{}", &Message::new("hi")).unwrap();
    let r = &testing::requests()[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.url, "https://h.example/in?k=v");
    assert_eq!(r.timeout_ms, Some(3000));
    assert_eq!(r.header_value("authorization"), Some("Bearer s3"));
    // user-agent may be replaced (set_header): only one is sent.
    assert_eq!(r.header_value("user-agent"), Some("custom/1"));
    assert_eq!(
        header_names(r),
        [
            "authorization",
            "content-type",
            "user-agent",
            "webhook-id",
            "webhook-signature",
            "webhook-timestamp"
        ]
    );
    let body = r.body.clone().unwrap();
    assert_eq!(
        r.header_value("webhook-signature").unwrap(),
        expected_signature(
            SECRET,
            r.header_value("webhook-id").unwrap(),
            r.header_value("webhook-timestamp").unwrap(),
            &body
        )
    );
    testing::reset();
}

#[test]
fn build_request_is_pure_and_signs_the_bytes_it_sends() {
    let config: WebhookConfig =
        serde_json::from_value(json!({"url": URL, "secret": SECRET})).unwrap();
    let r = build_request(
        &config,
        &key(),
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        br#"{"test": 2432232314}"#.to_vec(),
    );
    assert_eq!(
        r.header_value("webhook-id"),
        Some("msg_p5jXN8AQM9LWM0D4loKWxJek")
    );
    assert_eq!(r.header_value("webhook-timestamp"), Some("1614265330"));
    assert_eq!(
        r.header_value("webhook-signature"),
        Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    );
    assert_eq!(r.body.as_deref(), Some(&br#"{"test": 2432232314}"#[..]));
}

#[test]
fn retries_reuse_the_id_and_other_payloads_get_another() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(503, Vec::new())));
    let m = msg();
    let send = |payload: &str| {
        let e = harness::channel_send::<Webhook>(&config_json(), payload, &m).unwrap_err();
        assert!(e.is_retryable());
    };
    send(r#"{"text": "a"}"#);
    send(r#"{"text": "a"}"#); // the retry of the same delivery
    send(r#"{"text": "b"}"#); // a second rule, another payload
    send("{}"); // a third rule without template
    let reqs = testing::requests();
    let ids: Vec<&str> = reqs
        .iter()
        .map(|r| r.header_value("webhook-id").unwrap())
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[0], ids[2]);
    assert_ne!(ids[0], ids[3]);
    assert_ne!(ids[2], ids[3]);
    for (r, id) in reqs.iter().zip(&ids) {
        assert!(
            id.starts_with("msg_0190f0c8a1b27c3d9e4f5a6b7c8d9e0f_"),
            "{id}"
        );
        assert_eq!(id.len(), "msg_".len() + 32 + 1 + 16);
        let body = r.body.clone().unwrap();
        assert_eq!(
            r.header_value("webhook-signature").unwrap(),
            expected_signature(
                SECRET,
                id,
                r.header_value("webhook-timestamp").unwrap(),
                &body
            )
        );
    }
    testing::reset();
}

// ---- outcomes -------------------------------------------------------------------

fn send_with(response: Result<Response, FetchError>) -> Result<SendOutcome, SendError> {
    testing::reset();
    let mut response = Some(response);
    testing::mock_fetch(move |_| {
        response
            .take()
            .unwrap_or(Err(FetchError::Connection("called twice".into())))
    });
    let result = harness::channel_send::<Webhook>(&config_json(), r#"{"a":"1"}"#, &msg());
    assert_eq!(testing::requests().len(), 1, "exactly one attempt");
    testing::reset();
    result
}

#[test]
fn success_records_status_snippet_and_json() {
    let out = send_with(Ok(Response::new(202, br#"{ "accepted": true }"#.to_vec()))).unwrap();
    assert_eq!(
        out,
        SendOutcome {
            http_status: Some(202),
            response_snippet: Some(r#"{ "accepted": true }"#.into()),
            response_json: Some(r#"{"accepted":true}"#.into()),
        }
    );
    let out = send_with(Ok(Response::new(200, b"OK".to_vec()))).unwrap();
    assert_eq!(out.http_status, Some(200));
    assert_eq!(out.response_snippet.as_deref(), Some("OK"));
    assert_eq!(out.response_json, None);
}

#[test]
fn client_errors_are_permanent_with_details() {
    // A receiver rejecting the signature, as e.g. the reference libraries'
    // servers answer it.
    let body = br#"{"error": "invalid signature"}"#;
    let e = send_with(Ok(Response::new(401, body.to_vec()))).unwrap_err();
    assert_eq!(
        e,
        SendError::Permanent(SendFailure {
            message: r#"HTTP 401: {"error": "invalid signature"}"#.into(),
            retry_after_ms: None,
            http_status: Some(401),
            response_snippet: Some(r#"{"error": "invalid signature"}"#.into()),
            response_json: Some(r#"{"error":"invalid signature"}"#.into()),
        })
    );
    // 410 Gone: the receiver wants no more webhooks.
    let e = send_with(Ok(Response::new(410, b"gone".to_vec()))).unwrap_err();
    assert_eq!(
        e,
        SendError::permanent("HTTP 410: gone")
            .with_status(410)
            .with_snippet("gone")
    );
    // A permanent status ignores Retry-After.
    let e = send_with(Ok(
        Response::new(404, Vec::new()).with_header("retry-after", "9")
    ))
    .unwrap_err();
    assert_eq!(e, SendError::permanent("HTTP 404").with_status(404));
}

#[test]
fn redirects_are_not_followed_and_are_permanent() {
    let e = send_with(Ok(
        Response::new(301, Vec::new()).with_header("location", "https://new.example.com/hook")
    ))
    .unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(301));
    assert_eq!(
        e.message(),
        "HTTP 301 (redirect to https://new.example.com/hook not followed; set url to the final address)"
    );
    let e = send_with(Ok(Response::new(308, Vec::new()))).unwrap_err();
    assert_eq!(e, SendError::permanent("HTTP 308").with_status(308));
}

#[test]
fn rate_limits_and_server_errors_are_retryable() {
    let e = send_with(Ok(
        Response::new(429, b"slow down".to_vec()).with_header("Retry-After", "30")
    ))
    .unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "HTTP 429: slow down".into(),
            retry_after_ms: Some(30_000),
            http_status: Some(429),
            response_snippet: Some("slow down".into()),
            response_json: None,
        })
    );
    let e = send_with(Ok(
        Response::new(503, Vec::new()).with_header("retry-after", "5")
    ))
    .unwrap_err();
    assert_eq!(
        e,
        SendError::retryable("HTTP 503")
            .with_status(503)
            .with_retry_after_ms(5000)
    );
    for status in [408, 425, 500, 502, 504] {
        let e = send_with(Ok(Response::new(status, Vec::new()))).unwrap_err();
        assert!(e.is_retryable(), "{status}");
        assert_eq!(e.failure().http_status, Some(status));
        assert_eq!(e.failure().retry_after_ms, None);
    }
    // A long HTML error page: snippet capped, no JSON.
    let e = send_with(Ok(Response::new(502, "<p>bad gateway</p>".repeat(200)))).unwrap_err();
    let f = e.failure();
    assert_eq!(
        f.response_snippet.as_ref().unwrap().chars().count(),
        beacon_plugin_sdk::SNIPPET_MAX_CHARS + 1
    );
    assert_eq!(f.response_json, None);
}

#[test]
fn transport_errors() {
    let e = send_with(Err(FetchError::Timeout)).unwrap_err();
    assert_eq!(e, SendError::retryable("request timed out"));
    let e = send_with(Err(FetchError::Connection("connection refused".into()))).unwrap_err();
    assert_eq!(
        e,
        SendError::retryable("connection error: connection refused")
    );
    let e = send_with(Err(FetchError::PolicyDenied(
        "private address 10.0.0.5".into(),
    )))
    .unwrap_err();
    assert_eq!(
        e,
        SendError::permanent("refused by outbound policy: private address 10.0.0.5")
    );
    let e = send_with(Err(FetchError::BodyTooLarge(1_048_576))).unwrap_err();
    assert!(!e.is_retryable());
}

#[test]
fn bad_config_at_send_time_is_permanent_and_sends_nothing() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, Vec::new())));
    let config = json!({"url": URL, "secret": "whsec_short"}).to_string();
    let e = harness::channel_send::<Webhook>(&config, "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(
        e.message().starts_with("invalid channel config: secret:"),
        "{e:?}"
    );
    assert!(testing::requests().is_empty());
    testing::reset();
}

#[test]
fn logs_carry_the_message_id_but_no_secret_or_body() {
    testing::reset();
    testing::mock_fetch(|_| Ok(Response::new(200, Vec::new())));
    harness::channel_send::<Webhook>(&config_json(), r#"{"text":"top secret body"}"#, &msg())
        .unwrap();
    let logs = testing::take_logs();
    assert!(!logs.is_empty());
    for (_, line) in &logs {
        assert!(!line.contains("top secret body"), "{line}");
        assert!(!line.contains("MfKQ9r8G"), "{line}");
    }
    assert!(logs
        .iter()
        .any(|(_, l)| l.contains("0190f0c8a1b27c3d9e4f5a6b7c8d9e0f")));
    testing::reset();
}
