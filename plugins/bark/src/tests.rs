use super::*;
use beacon_plugin_sdk::harness;
use beacon_plugin_sdk::http::{FetchError, Response};
use beacon_plugin_sdk::{testing, SendFailure};
use serde_json::json;

/// The parsed `response_json` of an error.
fn err_json(e: &SendError) -> Value {
    serde_json::from_str(e.failure().response_json.as_deref().expect("response_json")).unwrap()
}

fn cfg(v: Value) -> BarkConfig {
    serde_json::from_value(v).unwrap()
}

fn one_key() -> BarkConfig {
    cfg(json!({"server_base_url": "https://api.day.app/", "device_key": "KEY"}))
}

fn msg() -> Message {
    Message {
        title: Some("Disk".into()),
        ..Message::new("disk full")
    }
}

fn validate(v: Value) -> Result<(), ConfigError> {
    harness::channel_validate_config::<Bark>(&v.to_string())
}

// ---- config -------------------------------------------------------------

#[test]
fn valid_configs() {
    assert!(validate(json!({"server_base_url": "https://api.day.app", "device_key": "k"})).is_ok());
    assert!(validate(
        json!({"server_base_url": "http://bark.lan:8080/", "device_keys": ["a", "b"]})
    )
    .is_ok());
    assert!(validate(json!({
        "server_base_url": "https://api.day.app",
        "device_key": "k",
        "default_payload_json": {"sound": "minuet"}
    }))
    .is_ok());
    assert!(validate(json!({
        "server_base_url": "https://api.day.app",
        "device_key": "k",
        "default_payload_json": "{\"sound\": \"minuet\"}",
        "unknown_option": 1
    }))
    .is_ok());
}

#[test]
fn url_errors_name_the_field() {
    for url in [
        "",
        "api.day.app",
        "ftp://x",
        "https://u:p@x",
        "https://x/?a=1",
    ] {
        let e = validate(json!({"server_base_url": url, "device_key": "k"})).unwrap_err();
        assert_eq!(e.field, "server_base_url", "{url}: {e:?}");
    }
    let e = validate(json!({"device_key": "k"})).unwrap_err();
    assert_eq!(e.field, "server_base_url");
    let e = validate(json!({"server_base_url": 3, "device_key": "k"})).unwrap_err();
    assert_eq!(e.field, "server_base_url");
}

#[test]
fn device_key_errors_name_the_field() {
    let base = "https://api.day.app";
    let e = validate(json!({"server_base_url": base})).unwrap_err();
    assert_eq!(e.field, "device_key");
    let e = validate(json!({"server_base_url": base, "device_key": "  "})).unwrap_err();
    assert_eq!(e.field, "device_key");
    let e = validate(json!({"server_base_url": base, "device_keys": []})).unwrap_err();
    assert_eq!(e.field, "device_keys");
    let e = validate(json!({"server_base_url": base, "device_keys": ["a", ""]})).unwrap_err();
    assert_eq!(e.field, "device_keys[1]");
    let e = validate(json!({"server_base_url": base, "device_keys": ["a", 2]})).unwrap_err();
    assert_eq!(e.field, "device_keys[1]");
    let e = validate(json!({"server_base_url": base, "device_key": "a", "device_keys": ["b"]}))
        .unwrap_err();
    assert_eq!(e.field, "device_keys");
}

#[test]
fn default_payload_errors_name_the_field() {
    let base = "https://api.day.app";
    for bad in [json!("not json"), json!("[1]"), json!(5), json!([1])] {
        let e = validate(
            json!({"server_base_url": base, "device_key": "k", "default_payload_json": bad}),
        )
        .unwrap_err();
        assert_eq!(e.field, "default_payload_json", "{e:?}");
    }
}

#[test]
fn describe_marks_secrets() {
    let info = harness::channel_describe::<Bark>();
    assert_eq!(info.id, "bark");
    assert_eq!(info.kind, beacon_plugin_sdk::PluginKind::Channel);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["properties"]["device_key"]["x-secret"], true);
    assert_eq!(schema["properties"]["device_keys"]["x-secret"], true);
    assert!(schema["properties"]["server_base_url"]
        .get("x-secret")
        .is_none());
    assert_eq!(schema["required"], json!(["server_base_url"]));
}

// ---- payload --------------------------------------------------------------

#[test]
fn template_wins_over_defaults_and_defaults_fill_gaps() {
    let mut c = one_key();
    c.default_payload_json = Some(json!({"sound": "minuet", "group": "ops", "level": "passive"}));
    let p = build_payload(
        &c,
        r#"{"body": "B", "level": "critical", "volume": "5"}"#,
        &msg(),
    )
    .unwrap();
    assert_eq!(p["body"], "B");
    assert_eq!(p["level"], "critical");
    assert_eq!(p["volume"], "5");
    assert_eq!(p["sound"], "minuet");
    assert_eq!(p["group"], "ops");
    assert_eq!(p["device_key"], "KEY");
}

#[test]
fn defaults_as_json_string() {
    let mut c = one_key();
    c.default_payload_json = Some(json!("{\"icon\": \"https://x/i.png\"}"));
    let p = build_payload(&c, "{}", &msg()).unwrap();
    assert_eq!(p["icon"], "https://x/i.png");
}

#[test]
fn channel_device_keys_override_template_and_defaults() {
    let mut c = one_key();
    c.default_payload_json = Some(json!({"device_key": "DEFAULT", "device_keys": ["D"]}));
    let p = build_payload(
        &c,
        r#"{"device_key": "TEMPLATE", "device_keys": ["T"]}"#,
        &msg(),
    )
    .unwrap();
    assert_eq!(p["device_key"], "KEY");
    assert!(p.get("device_keys").is_none());

    let c = cfg(json!({"server_base_url": "https://x", "device_keys": ["a", " b "]}));
    let p = build_payload(&c, r#"{"device_key": "TEMPLATE"}"#, &msg()).unwrap();
    assert_eq!(p["device_keys"], json!(["a", "b"]));
    assert!(p.get("device_key").is_none());
}

#[test]
fn body_and_title_fallbacks() {
    let c = one_key();
    // Neither set: both from the message.
    let p = build_payload(&c, "{}", &msg()).unwrap();
    assert_eq!(p["body"], "disk full");
    assert_eq!(p["title"], "Disk");
    // Empty-rendered and null values count as absent.
    let p = build_payload(&c, r#"{"body": "", "title": null}"#, &msg()).unwrap();
    assert_eq!(p["body"], "disk full");
    assert_eq!(p["title"], "Disk");
    // Template values kept.
    let p = build_payload(&c, r#"{"body": "b", "title": "t"}"#, &msg()).unwrap();
    assert_eq!(p["body"], "b");
    assert_eq!(p["title"], "t");
    // No message title: no title key added.
    let p = build_payload(&c, "{}", &Message::new("x")).unwrap();
    assert!(p.get("title").is_none());
    // Defaults may provide the title.
    let mut c2 = one_key();
    c2.default_payload_json = Some(json!({"title": "From defaults"}));
    let p = build_payload(&c2, "{}", &msg()).unwrap();
    assert_eq!(p["title"], "From defaults");
}

#[test]
fn bark_fields_and_unknown_keys_pass_through() {
    let template = json!({
        "title": "t", "subtitle": "s", "body": "b", "level": "timeSensitive", "volume": "3",
        "badge": 1, "call": "1", "autoCopy": "1", "copy": "c", "sound": "bell", "icon": "i",
        "group": "g", "ciphertext": "x", "isArchive": "1", "url": "https://e", "action": "none",
        "someFutureField": {"nested": true}
    });
    let p = build_payload(&one_key(), &template.to_string(), &msg()).unwrap();
    for (k, v) in template.as_object().unwrap() {
        assert_eq!(&p[k], v, "{k}");
    }
}

#[test]
fn bad_templates_are_permanent() {
    let e = build_payload(&one_key(), "[1,2]", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    let e = build_payload(&one_key(), "{nope", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    // Empty rendering is treated as {}.
    assert!(build_payload(&one_key(), "  ", &msg()).is_ok());
}

// ---- responses ------------------------------------------------------------

#[test]
fn success_response() {
    let body = br#"{"code":200,"message":"success","timestamp":1700000000}"#;
    let out = classify_response(200, body, None, None).unwrap();
    assert_eq!(out.http_status, Some(200));
    assert_eq!(
        out.response_snippet.as_deref(),
        Some(std::str::from_utf8(body).unwrap())
    );
    let parsed: Value = serde_json::from_str(out.response_json.as_deref().unwrap()).unwrap();
    assert_eq!(parsed["code"], 200);
}

#[test]
fn unknown_device_key_is_permanent() {
    let body = br#"{"code":400,"message":"failed to get device token: failed to get [x] device token from database","timestamp":1}"#;
    let e = classify_response(400, body, None, None).unwrap_err();
    assert!(
        matches!(e, SendError::Permanent(ref f) if f.message.contains("HTTP 400") && f.message.contains("device token")),
        "{e:?}"
    );
    // The failed attempt keeps the status, the snippet and the parsed JSON.
    let f = e.failure();
    assert_eq!(f.http_status, Some(400));
    assert_eq!(
        f.response_snippet.as_deref(),
        Some(std::str::from_utf8(body).unwrap())
    );
    assert_eq!(err_json(&e)["code"], 400);
    assert_eq!(
        err_json(&e)["message"],
        "failed to get device token: failed to get [x] device token from database"
    );
    assert_eq!(f.retry_after_ms, None);

    // Same code in a 200 envelope.
    let e = classify_response(200, body, Some(5000), None).unwrap_err();
    assert!(
        matches!(e, SendError::Permanent(ref f) if f.message.contains("code 400")),
        "{e:?}"
    );
    let f = e.failure();
    assert_eq!(f.http_status, Some(200));
    assert_eq!(
        f.response_snippet.as_deref(),
        Some(std::str::from_utf8(body).unwrap())
    );
    assert_eq!(err_json(&e)["code"], 400);
    assert_eq!(f.retry_after_ms, None, "permanent: no retry-after");
}

#[test]
fn long_error_bodies_are_capped_in_the_snippet_only() {
    let body = json!({"code": 400, "message": "x".repeat(5000)}).to_string();
    for status in [200, 400] {
        let e = classify_response(status, body.as_bytes(), None, None).unwrap_err();
        let f = e.failure();
        assert_eq!(f.http_status, Some(status));
        let snippet = f.response_snippet.as_deref().unwrap();
        assert_eq!(
            snippet.chars().count(),
            beacon_plugin_sdk::SNIPPET_MAX_CHARS + 1
        );
        assert!(snippet.ends_with('…'));
        assert_eq!(f.response_json.as_deref(), Some(&body[..]));
    }
}

#[test]
fn server_errors_and_rate_limits_are_retryable() {
    let e =
        classify_response(500, br#"{"code":500,"message":"push failed"}"#, None, None).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.failure().http_status, Some(500));
    assert_eq!(
        e.failure().response_json.as_deref(),
        Some(r#"{"code":500,"message":"push failed"}"#)
    );
    let e = classify_response(503, b"", None, None).unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e, SendError::retryable("HTTP 503").with_status(503));
    let e = classify_response(429, b"slow", Some(30_000), None).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "HTTP 429: slow".into(),
            retry_after_ms: Some(30_000),
            http_status: Some(429),
            response_snippet: Some("slow".into()),
            response_json: None,
        })
    );
    let e =
        classify_response(200, br#"{"code":500,"message":"apns down"}"#, None, None).unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(e.failure().http_status, Some(200));
    assert_eq!(err_json(&e)["message"], "apns down");
    let e = classify_response(200, br#"{"code":429,"message":"x"}"#, Some(1000), None).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "Bark error code 429: x".into(),
            retry_after_ms: Some(1000),
            http_status: Some(200),
            response_snippet: Some(r#"{"code":429,"message":"x"}"#.into()),
            response_json: Some(r#"{"code":429,"message":"x"}"#.into()),
        })
    );
}

#[test]
fn odd_success_bodies_fail_permanently() {
    let e = classify_response(200, b"<html>proxy</html>", None, None).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e,
        SendError::Permanent(SendFailure {
            message: "HTTP 200 but the response is not Bark JSON: <html>proxy</html>".into(),
            retry_after_ms: None,
            http_status: Some(200),
            response_snippet: Some("<html>proxy</html>".into()),
            response_json: None,
        })
    );
    let e = classify_response(204, b"", None, None).unwrap_err();
    assert!(e.message().contains("(empty body)"), "{e:?}");
    assert_eq!(e.failure().http_status, Some(204));
    assert_eq!(e.failure().response_snippet, None);
    let e = classify_response(200, br#"{"ok": true}"#, None, None).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(200));
    assert_eq!(
        e.failure().response_snippet.as_deref(),
        Some(r#"{"ok": true}"#)
    );
    assert_eq!(e.failure().response_json.as_deref(), Some(r#"{"ok":true}"#));
    let e = classify_response(301, b"", None, Some("https://new")).unwrap_err();
    assert!(
        matches!(e, SendError::Permanent(ref f) if f.message.contains("https://new")),
        "{e:?}"
    );
    assert_eq!(e.failure().http_status, Some(301));
    let e = classify_response(404, b"not found", None, None).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.failure().http_status, Some(404));
    assert_eq!(e.failure().response_snippet.as_deref(), Some("not found"));
    assert_eq!(e.failure().response_json, None);
}

// ---- end to end through the SDK harness ------------------------------------

#[test]
fn send_posts_to_push_endpoint() {
    testing::reset();
    testing::mock_fetch(|_| {
        Ok(Response::new(
            200,
            br#"{"code":200,"message":"success","timestamp":1}"#.to_vec(),
        ))
    });
    let config =
        json!({"server_base_url": "https://api.day.app/", "device_key": "KEY"}).to_string();
    let out = harness::channel_send::<Bark>(&config, r#"{"level":"active"}"#, &msg()).unwrap();
    assert_eq!(out.http_status, Some(200));
    let reqs = testing::requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].url, "https://api.day.app/push");
    assert!(reqs[0]
        .header_value("content-type")
        .unwrap()
        .starts_with("application/json"));
    let sent: Value = serde_json::from_slice(reqs[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"level": "active", "device_key": "KEY", "body": "disk full", "title": "Disk"})
    );
    // The device key never reaches the log.
    assert!(testing::take_logs()
        .iter()
        .all(|(_, line)| !line.contains("KEY")));
    testing::reset();
}

#[test]
fn send_maps_transport_failures() {
    let config = one_key_json();
    testing::reset();
    testing::mock_fetch(|_| Err(FetchError::Timeout));
    assert!(harness::channel_send::<Bark>(&config, "{}", &msg())
        .unwrap_err()
        .is_retryable());
    testing::mock_fetch(|_| Err(FetchError::Connection("refused".into())));
    assert!(harness::channel_send::<Bark>(&config, "{}", &msg())
        .unwrap_err()
        .is_retryable());
    testing::mock_fetch(|_| Err(FetchError::PolicyDenied("10.0.0.1 is private".into())));
    let e = harness::channel_send::<Bark>(&config, "{}", &msg()).unwrap_err();
    assert!(matches!(e, SendError::Permanent(ref f) if f.message.contains("private")));
    // No response arrived: nothing but the message.
    assert_eq!(e.failure().http_status, None);
    assert_eq!(e.failure().response_snippet, None);
    testing::mock_fetch(|_| Ok(Response::new(503, Vec::new()).with_header("retry-after", "12")));
    let e = harness::channel_send::<Bark>(&config, "{}", &msg()).unwrap_err();
    assert_eq!(
        e,
        SendError::Retryable(SendFailure {
            message: "HTTP 503".into(),
            retry_after_ms: Some(12_000),
            http_status: Some(503),
            response_snippet: None,
            response_json: None,
        })
    );
    testing::reset();
}

#[test]
fn send_failure_keeps_the_bark_answer() {
    testing::reset();
    testing::mock_fetch(|_| {
        Ok(Response::new(
            400,
            br#"{"code":400,"message":"failed to get device token","timestamp":1}"#.to_vec(),
        )
        .with_header("content-type", "application/json"))
    });
    let e = harness::channel_send::<Bark>(&one_key_json(), "{}", &msg()).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e.into_failure(),
        SendFailure {
            message:
                r#"HTTP 400: {"code":400,"message":"failed to get device token","timestamp":1}"#
                    .into(),
            retry_after_ms: None,
            http_status: Some(400),
            response_snippet: Some(
                r#"{"code":400,"message":"failed to get device token","timestamp":1}"#.into()
            ),
            response_json: Some(
                r#"{"code":400,"message":"failed to get device token","timestamp":1}"#.into()
            ),
        }
    );
    testing::reset();
}

#[test]
fn send_with_invalid_config_is_permanent_and_does_not_fetch() {
    testing::reset();
    let e = harness::channel_send::<Bark>(r#"{"server_base_url":"https://x"}"#, "{}", &msg())
        .unwrap_err();
    assert!(matches!(e, SendError::Permanent(ref f) if f.message.contains("device_key")));
    assert_eq!(e.failure().http_status, None);
    assert!(testing::requests().is_empty());
}

fn one_key_json() -> String {
    json!({"server_base_url": "https://api.day.app", "device_key": "KEY"}).to_string()
}

#[test]
fn device_key_spellings_from_templates_are_removed() {
    // The Bark server lowercases parameter names, so `Device_Key` would
    // otherwise redirect the push to another device.
    let p = build_payload(
        &one_key(),
        r#"{"Device_Key": "OTHER", "DEVICE_KEYS": ["X"], "device_key": "T"}"#,
        &msg(),
    )
    .unwrap();
    assert_eq!(
        Value::Object(p),
        json!({"device_key": "KEY", "body": "disk full", "title": "Disk"})
    );
}

// ---- end-to-end encryption -------------------------------------------------

mod encryption {
    use super::*;
    use crate::encryption::{encrypt, random_iv, seal, Mode};
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockDecryptMut, KeyInit, KeyIvInit};
    use aes_gcm::aead::consts::U12;
    use aes_gcm::aead::Aead;
    use base64::Engine;

    const OK: &[u8] = br#"{"code":200,"message":"success","timestamp":1}"#;

    /// A key of the right length for `alg` (distinct per size).
    fn key_for(alg: Algorithm) -> String {
        "0123456789abcdefGHIJKLMNOPQRSTUV"[..alg.key_len()].to_owned()
    }

    fn enc_config(alg: Algorithm, iv: Option<&str>) -> Value {
        let mut encryption = json!({"algorithm": alg.name(), "key": key_for(alg)});
        if let Some(iv) = iv {
            encryption["iv"] = json!(iv);
        }
        json!({
            "server_base_url": "https://api.day.app",
            "device_key": "DEVKEY",
            "encryption": encryption,
        })
    }

    /// Decrypt independently of the plugin's code path (the crates' decrypt
    /// side) and parse the JSON inside.
    fn decrypt(alg: Algorithm, key: &str, iv: Option<&str>, ciphertext: &str) -> Value {
        let ct = base64::engine::general_purpose::STANDARD
            .decode(ciphertext)
            .expect("ciphertext is standard base64");
        let k = key.as_bytes();
        let iv = iv.map(str::as_bytes);
        let pt = match alg {
            Algorithm::Aes128Cbc => cbc::Decryptor::<aes::Aes128>::new_from_slices(k, iv.unwrap())
                .unwrap()
                .decrypt_padded_vec_mut::<Pkcs7>(&ct),
            Algorithm::Aes192Cbc => cbc::Decryptor::<aes::Aes192>::new_from_slices(k, iv.unwrap())
                .unwrap()
                .decrypt_padded_vec_mut::<Pkcs7>(&ct),
            Algorithm::Aes256Cbc => cbc::Decryptor::<aes::Aes256>::new_from_slices(k, iv.unwrap())
                .unwrap()
                .decrypt_padded_vec_mut::<Pkcs7>(&ct),
            Algorithm::Aes128Ecb => ecb::Decryptor::<aes::Aes128>::new_from_slice(k)
                .unwrap()
                .decrypt_padded_vec_mut::<Pkcs7>(&ct),
            Algorithm::Aes192Ecb => ecb::Decryptor::<aes::Aes192>::new_from_slice(k)
                .unwrap()
                .decrypt_padded_vec_mut::<Pkcs7>(&ct),
            Algorithm::Aes256Ecb => ecb::Decryptor::<aes::Aes256>::new_from_slice(k)
                .unwrap()
                .decrypt_padded_vec_mut::<Pkcs7>(&ct),
            Algorithm::Aes128Gcm => Ok(aes_gcm::AesGcm::<aes::Aes128, U12>::new_from_slice(k)
                .unwrap()
                .decrypt(
                    aes_gcm::Nonce::<U12>::from_slice(iv.unwrap()),
                    ct.as_slice(),
                )
                .expect("GCM tag verifies")),
            Algorithm::Aes192Gcm => Ok(aes_gcm::AesGcm::<aes::Aes192, U12>::new_from_slice(k)
                .unwrap()
                .decrypt(
                    aes_gcm::Nonce::<U12>::from_slice(iv.unwrap()),
                    ct.as_slice(),
                )
                .expect("GCM tag verifies")),
            Algorithm::Aes256Gcm => Ok(aes_gcm::AesGcm::<aes::Aes256, U12>::new_from_slice(k)
                .unwrap()
                .decrypt(
                    aes_gcm::Nonce::<U12>::from_slice(iv.unwrap()),
                    ct.as_slice(),
                )
                .expect("GCM tag verifies")),
        }
        .expect("PKCS#7 padding is valid");
        if alg.mode() == Mode::Gcm {
            // ciphertext || 16-byte tag, no padding.
            assert_eq!(ct.len(), pt.len() + 16);
        } else {
            assert_eq!(ct.len() % 16, 0);
        }
        serde_json::from_slice(&pt).expect("the plaintext is JSON")
    }

    /// Push once through the harness and return the JSON body sent.
    fn push(config: &Value, template: &str) -> Value {
        testing::reset();
        testing::mock_fetch(|_| Ok(Response::new(200, OK.to_vec())));
        let out = harness::channel_send::<Bark>(&config.to_string(), template, &msg())
            .expect("push succeeds");
        assert_eq!(out.http_status, Some(200));
        let reqs = testing::requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].method, "POST");
        assert_eq!(reqs[0].url, "https://api.day.app/push");
        assert!(reqs[0]
            .header_value("content-type")
            .unwrap()
            .starts_with("application/json"));
        let sent = serde_json::from_slice(reqs[0].body.as_ref().unwrap()).unwrap();
        // Neither the key nor the device key reaches the log.
        let key = config["encryption"]["key"].as_str().unwrap().to_owned();
        for (_, line) in testing::take_logs() {
            assert!(!line.contains(&key) && !line.contains("DEVKEY"), "{line}");
        }
        testing::reset();
        sent
    }

    /// The template every round trip uses: Bark fields, a number, a nested
    /// unknown key; `title` comes from the message (fallback), `sound` and
    /// `group` from the channel defaults.
    const TEMPLATE: &str = r#"{
        "body": "Disk /dev/sda1 is 97% full", "subtitle": "db-1", "level": "timeSensitive",
        "badge": 3, "isArchive": "1", "url": "https://grafana.example/d/1",
        "custom": {"nested": [1, "two"]}, "device_key": "FROM-TEMPLATE"
    }"#;

    fn expected_visible() -> Value {
        json!({
            "body": "Disk /dev/sda1 is 97% full", "subtitle": "db-1", "level": "timeSensitive",
            "badge": 3, "isArchive": "1", "url": "https://grafana.example/d/1",
            "custom": {"nested": [1, "two"]},
            "title": "Disk", "sound": "minuet", "group": "ops"
        })
    }

    fn round_trip(alg: Algorithm) {
        let mut config = enc_config(alg, None);
        config["default_payload_json"] = json!({"sound": "minuet", "group": "ops"});
        let sent = push(&config, TEMPLATE);
        let clear = sent.as_object().unwrap();

        // In clear: only what the Bark server needs.
        let mut keys: Vec<&str> = clear.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let iv = clear.get("iv").and_then(Value::as_str);
        match alg.iv_len() {
            Some(len) => {
                assert_eq!(keys, ["ciphertext", "device_key", "iv"], "{alg:?}");
                let iv = iv.unwrap();
                assert_eq!(iv.len(), len, "{alg:?}");
                assert!(iv.bytes().all(|b| b.is_ascii_alphanumeric()), "{iv}");
            }
            None => assert_eq!(keys, ["ciphertext", "device_key"], "{alg:?}"),
        }
        assert_eq!(clear["device_key"], "DEVKEY");
        assert!(clear.get("title").is_none() && clear.get("body").is_none());

        // Inside: the whole visible payload, and no device key.
        let inside = decrypt(
            alg,
            &key_for(alg),
            iv,
            clear["ciphertext"].as_str().unwrap(),
        );
        assert_eq!(inside, expected_visible(), "{alg:?}");
        let text = inside.to_string();
        assert!(!text.contains("DEVKEY") && !text.contains("FROM-TEMPLATE"));
    }

    #[test]
    fn cbc_pushes_decrypt_to_the_visible_payload() {
        for alg in [
            Algorithm::Aes128Cbc,
            Algorithm::Aes192Cbc,
            Algorithm::Aes256Cbc,
        ] {
            round_trip(alg);
        }
    }

    #[test]
    fn ecb_pushes_decrypt_to_the_visible_payload() {
        for alg in [
            Algorithm::Aes128Ecb,
            Algorithm::Aes192Ecb,
            Algorithm::Aes256Ecb,
        ] {
            round_trip(alg);
        }
    }

    #[test]
    fn gcm_pushes_decrypt_to_the_visible_payload() {
        for alg in [
            Algorithm::Aes128Gcm,
            Algorithm::Aes192Gcm,
            Algorithm::Aes256Gcm,
        ] {
            round_trip(alg);
        }
    }

    #[test]
    fn random_iv_is_fresh_for_every_push() {
        for alg in [Algorithm::Aes256Cbc, Algorithm::Aes128Gcm] {
            let config = enc_config(alg, None);
            let a = push(&config, "{}");
            let b = push(&config, "{}");
            assert_ne!(a["iv"], b["iv"], "{alg:?}");
            assert_ne!(a["ciphertext"], b["ciphertext"], "{alg:?}");
            // Both decrypt, each with its own IV, to the same content.
            for sent in [&a, &b] {
                let inside = decrypt(
                    alg,
                    &key_for(alg),
                    sent["iv"].as_str(),
                    sent["ciphertext"].as_str().unwrap(),
                );
                assert_eq!(inside, json!({"body": "disk full", "title": "Disk"}));
            }
        }
    }

    #[test]
    fn configured_iv_is_used_and_sent() {
        for (alg, iv) in [
            (Algorithm::Aes192Cbc, "0000111122223333"),
            (Algorithm::Aes256Gcm, "abcdefghijkl"),
        ] {
            let config = enc_config(alg, Some(iv));
            let a = push(&config, r#"{"body": "same"}"#);
            let b = push(&config, r#"{"body": "same"}"#);
            assert_eq!(a["iv"], iv);
            // Same key, IV and plaintext: same ciphertext (why a fixed GCM
            // IV is unsafe).
            assert_eq!(a["ciphertext"], b["ciphertext"]);
            let inside = decrypt(
                alg,
                &key_for(alg),
                Some(iv),
                a["ciphertext"].as_str().unwrap(),
            );
            assert_eq!(inside, json!({"body": "same", "title": "Disk"}));
        }
        // An empty configured IV counts as none: random per push.
        let config = enc_config(Algorithm::Aes128Gcm, Some(""));
        let a = push(&config, "{}");
        assert_eq!(a["iv"].as_str().unwrap().len(), 12);
    }

    #[test]
    fn server_fields_stay_in_clear() {
        // device_keys for a batch, id (clear and inside), delete and ttl
        // (clear only, any letter case), template ciphertext/iv dropped.
        let config = json!({
            "server_base_url": "https://api.day.app",
            "device_keys": ["A", "B"],
            "encryption": {"algorithm": "aes-128-gcm", "key": "0123456789abcdef"},
        });
        let sent = push(
            &config,
            r#"{"id": "m-1", "TTL": "60", "delete": "0", "ciphertext": "old", "iv": "old",
                "body": "b", "group": "g", "sound": "bell"}"#,
        );
        let iv = sent["iv"].as_str().unwrap().to_owned();
        let ciphertext = sent["ciphertext"].as_str().unwrap().to_owned();
        assert_ne!(ciphertext, "old");
        assert_ne!(iv, "old");
        assert_eq!(
            sent,
            json!({
                "device_keys": ["A", "B"], "id": "m-1", "TTL": "60", "delete": "0",
                "ciphertext": ciphertext, "iv": iv
            })
        );
        let inside = decrypt(
            Algorithm::Aes128Gcm,
            "0123456789abcdef",
            Some(&iv),
            &ciphertext,
        );
        assert_eq!(
            inside,
            json!({"id": "m-1", "body": "b", "group": "g", "sound": "bell", "title": "Disk"})
        );
    }

    #[test]
    fn ecb_sends_no_iv() {
        let sent = push(&enc_config(Algorithm::Aes256Ecb, None), "{}");
        assert!(sent.get("iv").is_none());
        let inside = decrypt(
            Algorithm::Aes256Ecb,
            &key_for(Algorithm::Aes256Ecb),
            None,
            sent["ciphertext"].as_str().unwrap(),
        );
        assert_eq!(inside, json!({"body": "disk full", "title": "Disk"}));
    }

    #[test]
    fn without_encryption_nothing_changes() {
        let config = json!({"server_base_url": "https://api.day.app", "device_key": "K"});
        let c: BarkConfig = serde_json::from_value(config).unwrap();
        let p = build_push(&c, r#"{"ciphertext": "pre-made", "iv": "x"}"#, &msg()).unwrap();
        assert_eq!(
            Value::Object(p),
            json!({"ciphertext": "pre-made", "iv": "x", "device_key": "K",
                   "body": "disk full", "title": "Disk"})
        );
    }

    /// Pins the wire format to OpenSSL:
    /// `printf '%s' '{"body":"test","sound":"birdsong"}' | openssl enc -aes-256-cbc
    ///  -K $(printf %s 0123456789abcdef0123456789abcdef | xxd -ps -c 200)
    ///  -iv $(printf %s fedcba9876543210 | xxd -ps -c 200) | base64 -w0`
    #[test]
    fn known_answer_aes_256_cbc_matches_openssl() {
        let out = encrypt(
            Algorithm::Aes256Cbc,
            b"0123456789abcdef0123456789abcdef",
            b"fedcba9876543210",
            br#"{"body":"test","sound":"birdsong"}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            "fw4eYjtMCg3Uj8aDLywjT9tQziOIvhCwHgSRV+dhPe7VKifBIhVYKNRgYX8ERsl9"
        );
    }

    /// GCM's layout (ciphertext then tag, no padding, no AAD), pinned to
    /// Python `cryptography` (OpenSSL): `base64(AESGCM(key).encrypt(iv, pt, None))`.
    #[test]
    fn known_answer_aes_256_gcm_matches_openssl() {
        let out = encrypt(
            Algorithm::Aes256Gcm,
            b"0123456789abcdef0123456789abcdef",
            b"abcdefghijkl",
            br#"{"body":"test","sound":"birdsong"}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            "Eu6r0K+cT+lBaJdifrt0HS9eznHdolV5fNdM+KEzoI1OtQPIYTcbzjZXYisbC/8/rAc="
        );
    }

    #[test]
    fn encrypt_refuses_wrong_lengths_without_panicking() {
        let pt = b"{}";
        assert!(encrypt(Algorithm::Aes128Cbc, b"short", b"0123456789abcdef", pt).is_err());
        assert!(encrypt(Algorithm::Aes128Cbc, b"0123456789abcdef", b"short", pt).is_err());
        assert!(encrypt(
            Algorithm::Aes128Gcm,
            b"0123456789abcdef",
            b"0123456789abcdef",
            pt
        )
        .is_err());
        assert!(encrypt(Algorithm::Aes256Ecb, b"0123456789abcdef", b"", pt).is_err());
    }

    #[test]
    fn random_iv_shape() {
        let a = random_iv(12).unwrap();
        let b = random_iv(12).unwrap();
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
        assert!(random_iv(16)
            .unwrap()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(random_iv(100).unwrap().len(), 100);
    }

    #[test]
    fn random_source_failure_is_retryable() {
        let c = EncryptionConfig {
            algorithm: Algorithm::Aes128Gcm,
            key: "0123456789abcdef".into(),
            iv: None,
        };
        let e = seal(&c, Map::new(), |_| Err(getrandom::Error::UNSUPPORTED)).unwrap_err();
        assert!(e.is_retryable(), "{e:?}");
        // ECB never asks for one.
        let c = EncryptionConfig {
            algorithm: Algorithm::Aes128Ecb,
            ..c
        };
        assert!(seal(&c, Map::new(), |_| Err(getrandom::Error::UNSUPPORTED)).is_ok());
    }

    // ---- config ----

    fn validate_enc(encryption: Value) -> Result<(), ConfigError> {
        validate(json!({
            "server_base_url": "https://api.day.app",
            "device_key": "k",
            "encryption": encryption,
        }))
    }

    #[test]
    fn valid_encryption_configs() {
        for alg in Algorithm::ALL {
            let key = key_for(alg);
            assert!(validate_enc(json!({"algorithm": alg.name(), "key": key})).is_ok());
            if let Some(len) = alg.iv_len() {
                let iv = "x".repeat(len);
                assert!(
                    validate_enc(json!({"algorithm": alg.name(), "key": key, "iv": iv})).is_ok()
                );
            }
            // An empty IV counts as none, also for ECB.
            assert!(validate_enc(json!({"algorithm": alg.name(), "key": key, "iv": ""})).is_ok());
            assert!(validate_enc(json!({"algorithm": alg.name(), "key": key, "iv": null})).is_ok());
        }
        // Keys may hold any printable ASCII, spaces included.
        assert!(
            validate_enc(json!({"algorithm": "aes-128-gcm", "key": "a b!c#d$e%f&g*h("})).is_ok()
        );
    }

    #[test]
    fn key_errors_name_encryption_key() {
        let cases = [
            json!({"algorithm": "aes-128-cbc", "key": "0123456789abcde"}),
            json!({"algorithm": "aes-128-cbc", "key": "0123456789abcdef0"}),
            json!({"algorithm": "aes-192-gcm", "key": "0123456789abcdef"}),
            json!({"algorithm": "aes-256-ecb", "key": ""}),
            // 16 characters but 32 bytes: the app counts characters.
            json!({"algorithm": "aes-256-gcm", "key": "éééééééééééééééé"}),
            json!({"algorithm": "aes-128-gcm", "key": "0123456789abcd\te"}),
            json!({"algorithm": "aes-128-gcm", "key": 1234567890123456u64}),
            json!({"algorithm": "aes-128-gcm"}),
        ];
        for case in cases {
            let e = validate_enc(case.clone()).unwrap_err();
            assert_eq!(e.field, "encryption.key", "{case}: {e:?}");
        }
        // The message says what is wrong without echoing the key.
        let e = validate_enc(json!({"algorithm": "aes-256-cbc", "key": "SECRET-0123456789"}))
            .unwrap_err();
        assert!(
            e.message.contains("32") && e.message.contains("aes-256-cbc"),
            "{e:?}"
        );
        assert!(!e.message.contains("SECRET"), "{e:?}");
    }

    #[test]
    fn iv_errors_name_encryption_iv() {
        let cases = [
            json!({"algorithm": "aes-128-cbc", "key": "0123456789abcdef", "iv": "0123456789ab"}),
            json!({"algorithm": "aes-128-cbc", "key": "0123456789abcdef", "iv": "0123456789abcdef0"}),
            json!({"algorithm": "aes-256-gcm", "key": "0123456789abcdef0123456789abcdef", "iv": "0123456789abcdef"}),
            json!({"algorithm": "aes-128-gcm", "key": "0123456789abcdef", "iv": "0123456789a"}),
            json!({"algorithm": "aes-128-gcm", "key": "0123456789abcdef", "iv": "ééééééé"}),
            json!({"algorithm": "aes-128-ecb", "key": "0123456789abcdef", "iv": "0123456789abcdef"}),
            json!({"algorithm": "aes-128-gcm", "key": "0123456789abcdef", "iv": 5}),
        ];
        for case in cases {
            let e = validate_enc(case.clone()).unwrap_err();
            assert_eq!(e.field, "encryption.iv", "{case}: {e:?}");
        }
    }

    #[test]
    fn algorithm_errors_name_encryption_algorithm() {
        for case in [
            json!({"algorithm": "aes-256-ctr", "key": "0123456789abcdef"}),
            json!({"algorithm": "AES256", "key": "0123456789abcdef"}),
            json!({"algorithm": 256, "key": "0123456789abcdef"}),
            json!({"key": "0123456789abcdef"}),
        ] {
            let e = validate_enc(case.clone()).unwrap_err();
            assert_eq!(e.field, "encryption.algorithm", "{case}: {e:?}");
        }
        // Unknown keys inside `encryption` are refused (a typo must not
        // silently disable something), and so is a non-object.
        let e = validate_enc(
            json!({"algorithm": "aes-128-gcm", "key": "0123456789abcdef", "mode": "gcm"}),
        )
        .unwrap_err();
        assert_eq!(e.field, "encryption.mode", "{e:?}");
        let e = validate_enc(json!("aes-128-gcm")).unwrap_err();
        assert_eq!(e.field, "encryption", "{e:?}");
    }

    #[test]
    fn invalid_encryption_is_permanent_and_does_not_fetch() {
        testing::reset();
        let mut config = enc_config(Algorithm::Aes256Gcm, None);
        config["encryption"]["key"] = json!("too short");
        let e = harness::channel_send::<Bark>(&config.to_string(), "{}", &msg()).unwrap_err();
        assert!(
            matches!(e, SendError::Permanent(ref f) if f.message.contains("encryption.key")),
            "{e:?}"
        );
        assert!(testing::requests().is_empty());
    }

    #[test]
    fn debug_output_hides_the_key() {
        let c: BarkConfig = serde_json::from_value(enc_config(Algorithm::Aes128Gcm, None)).unwrap();
        let text = format!("{c:?}");
        assert!(
            text.contains("Aes128Gcm") && text.contains("<redacted>"),
            "{text}"
        );
        assert!(!text.contains(&key_for(Algorithm::Aes128Gcm)), "{text}");
    }

    #[test]
    fn schema_marks_the_key_secret() {
        let info = harness::channel_describe::<Bark>();
        let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
        let enc = &schema["properties"]["encryption"];
        assert_eq!(enc["type"], json!(["object", "null"]));
        assert_eq!(enc["properties"]["key"]["x-secret"], true);
        assert_eq!(enc["properties"]["key"]["writeOnly"], true);
        assert!(enc["properties"]["iv"].get("x-secret").is_none());
        assert!(enc["properties"]["algorithm"].get("x-secret").is_none());
        assert_eq!(enc["required"], json!(["algorithm", "key"]));
        let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
        assert_eq!(enc["properties"]["algorithm"]["enum"], json!(names));
        // Still optional at the top level.
        assert_eq!(schema["required"], json!(["server_base_url"]));
    }
}
