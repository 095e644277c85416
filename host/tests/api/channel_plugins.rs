//! The built-in channel plugins against local receivers that stand in for
//! the real services: each test routes one message through the real server
//! (ingest → rule → worker → Wasm plugin → HTTP) and checks the exact request
//! the service expects, and how its answers map to the delivery's outcome.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::receiver::{Answer, Received, Receiver};
use crate::common::{Db, TestEndpoint, TestServer, TestUser};

struct Routed {
    server: TestServer,
    user: TestUser,
    endpoint: TestEndpoint,
    channel: Value,
}

/// A server allowing loopback, a user with an endpoint, one channel of
/// `plugin` and one rule sending every message to it with `template`.
async fn route(plugin: &str, config: Value, template: Value) -> Routed {
    let server =
        TestServer::start_with(Db::Sqlite, &[("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")]).await;
    let user = server.user().await;
    let endpoint = server.endpoint(&user, "nas").await;
    let channel = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": plugin, "plugin": plugin, "config": config}),
        )
        .await;
    channel.assert_status(201);
    server
        .post(
            "/api/rules",
            Some(&user.token),
            json!({"name": "all", "channel_id": channel.json["id"], "payload_template": template}),
        )
        .await
        .assert_status(201);
    Routed {
        server,
        user,
        endpoint,
        channel: channel.json,
    }
}

impl Routed {
    /// Ingests `message` and waits until its delivery is `status`.
    async fn deliver(&self, message: Value, status: &str) -> Value {
        let id = self.server.ingest_ok(&self.endpoint, message).await;
        let started = std::time::Instant::now();
        loop {
            let detail = self
                .server
                .get(&format!("/api/messages/{id}"), Some(&self.user.token))
                .await;
            let delivery = detail.json["deliveries"][0].clone();
            if delivery["status"] == status {
                return delivery;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "delivery never reached {status}: {}",
                detail.text
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

const DISK: fn() -> Value = || {
    json!({"title": "Disk", "body": "95% full", "priority": 4, "tags": ["nas", "disk"],
           "url": "https://nas.example/status"})
};

fn only(received: &[Received]) -> &Received {
    assert_eq!(received.len(), 1, "{received:?}");
    &received[0]
}

/// The gap between two requests a receiver saw.
fn gap(received: &[Received], first: usize) -> Duration {
    received[first + 1].at.duration_since(received[first].at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ntfy_publishes_json_to_the_server_root() {
    let ntfy = Receiver::start(
        vec![],
        Answer::json(200, json!({"id": "xE73Iyuabi", "event": "message"})),
    )
    .await;
    let routed = route(
        "ntfy",
        json!({"server_url": format!("{}/", ntfy.base_url), "topic": "alerts", "token": "tk_secret"}),
        json!({"title": "[{{ingest_endpoint.name}}] {{message.title}}"}),
    )
    .await;
    assert_eq!(routed.channel["config"]["token"], "********");
    let delivery = routed.deliver(DISK(), "sent").await;
    assert_eq!(delivery["attempts"][0]["http_status"], 200);
    let received = ntfy.received();
    let request = only(&received);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/")
    );
    assert_eq!(request.header("authorization"), Some("Bearer tk_secret"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({"topic": "alerts", "title": "[nas] Disk", "message": "95% full", "priority": 4,
               "tags": ["nas", "disk"], "click": "https://nas.example/status"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gotify_posts_the_message_with_the_app_token_header() {
    let gotify = Receiver::start(
        vec![Answer::json(
            401,
            json!({"error": "Unauthorized", "errorCode": 401, "errorDescription": "you need to provide a valid access token or user credentials to access this api"}),
        )],
        Answer::json(200, json!({"id": 25, "appid": 5, "message": "95% full"})),
    )
    .await;
    let routed = route(
        "gotify",
        json!({"server_url": format!("{}/gotify", gotify.base_url), "app_token": "AQh1x.Gotify"}),
        json!({}),
    )
    .await;
    assert_eq!(routed.channel["config"]["app_token"], "********");
    // A refused token is the user's to fix: failed at once, not retried.
    let refused = routed.deliver(DISK(), "failed").await;
    assert_eq!(refused["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(refused["attempts"][0]["http_status"], 401);
    assert_eq!(refused["attempts"][0]["response_json"]["errorCode"], 401);

    routed.deliver(DISK(), "sent").await;
    let received = gotify.received();
    assert_eq!(received.len(), 2);
    let request = &received[1];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/gotify/message")
    );
    assert_eq!(request.query, None, "the token never goes in the URL");
    assert_eq!(request.header("x-gotify-key"), Some("AQh1x.Gotify"));
    assert_eq!(
        request.json(),
        json!({"title": "Disk", "message": "95% full", "priority": 8,
               "extras": {"client::notification": {"click": {"url": "https://nas.example/status"}}}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_honours_retry_after() {
    let slack = Receiver::start(
        vec![Answer::text(429, "rate_limited").with_header("retry-after", "3")],
        Answer::text(200, "ok"),
    )
    .await;
    let routed = route(
        "slack",
        json!({"webhook_url": format!("{}/services/T0/B0/XXXX", slack.base_url)}),
        json!({}),
    )
    .await;
    assert_eq!(routed.channel["config"]["webhook_url"], "********");
    let delivery = routed
        .deliver(json!({"title": "Disk <1>", "body": "95% & rising"}), "sent")
        .await;
    assert_eq!(delivery["attempts"][0]["outcome"], "retry");
    assert_eq!(delivery["attempts"][0]["http_status"], 429);
    let received = slack.received();
    assert_eq!(received.len(), 2);
    assert!(
        gap(&received, 0) >= Duration::from_millis(2_900),
        "retried after {:?}, before Slack's Retry-After of 3 s",
        gap(&received, 0)
    );
    assert_eq!(received[1].path, "/services/T0/B0/XXXX");
    assert_eq!(
        received[1].json(),
        json!({"text": "*Disk &lt;1&gt;*\n95% &amp; rising"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_waits_for_the_message_and_stops_on_an_unknown_webhook() {
    let discord = Receiver::start(
        vec![
            Answer::json(
                429,
                json!({"message": "You are being rate limited.", "retry_after": 2.5, "global": false}),
            )
            .with_header("retry-after", "1"),
            Answer::json(200, json!({"id": "1", "content": "ok"})),
            Answer::json(404, json!({"code": 10015, "message": "Unknown Webhook"})),
        ],
        Answer::json(200, json!({})),
    )
    .await;
    let routed = route(
        "discord",
        json!({"webhook_url": format!("{}/api/webhooks/1/tok", discord.base_url), "username": "Beacon"}),
        json!({}),
    )
    .await;
    routed.deliver(DISK(), "sent").await;
    let received = discord.received();
    assert_eq!(received.len(), 2);
    assert!(
        gap(&received, 0) >= Duration::from_millis(2_400),
        "the body's retry_after (2.5 s) wins over the header: {:?}",
        gap(&received, 0)
    );
    let request = &received[1];
    assert_eq!(request.path, "/api/webhooks/1/tok");
    assert_eq!(request.query.as_deref(), Some("wait=true"));
    assert_eq!(
        request.json(),
        json!({"content": "**Disk**\n95% full", "username": "Beacon",
               "allowed_mentions": {"parse": []}})
    );

    let failed = routed.deliver(DISK(), "failed").await;
    assert_eq!(failed["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(failed["attempts"][0]["response_json"]["code"], 10015);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_honours_retry_after_and_never_shows_the_token() {
    let telegram = Receiver::start(
        vec![Answer::json(
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3",
                   "parameters": {"retry_after": 3}}),
        )],
        Answer::json(
            200,
            json!({"ok": true, "result": {"message_id": 7, "chat": {"id": -100123}}}),
        ),
    )
    .await;
    let token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";
    let routed = route(
        "telegram",
        json!({"bot_token": token, "chat_id": "-100123", "api_base_url": telegram.base_url,
               "parse_mode": "HTML"}),
        json!({}),
    )
    .await;
    assert_eq!(routed.channel["config"]["bot_token"], "********");
    let delivery = routed
        .deliver(json!({"title": "Disk <sda>", "body": "95% full"}), "sent")
        .await;
    assert!(
        !delivery.to_string().contains(token),
        "the bot token leaked into the delivery: {delivery}"
    );
    let received = telegram.received();
    assert_eq!(received.len(), 2);
    assert!(
        gap(&received, 0) >= Duration::from_millis(2_900),
        "retried after {:?}, before Telegram's retry_after of 3 s",
        gap(&received, 0)
    );
    assert_eq!(received[1].path, format!("/bot{token}/sendMessage"));
    let body = received[1].json();
    assert_eq!(body["chat_id"], "-100123");
    assert_eq!(body["text"], "<b>Disk &lt;sda&gt;</b>\n95% full");
    assert_eq!(body["parse_mode"], "HTML");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_signs_per_standard_webhooks() {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};

    let hook = Receiver::start(vec![], Answer::json(200, json!({"received": true}))).await;
    let key = b"a test key of thirty-two bytes!!";
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    );
    let routed = route(
        "webhook",
        json!({"url": format!("{}/hooks/beacon", hook.base_url), "secret": secret}),
        json!({}),
    )
    .await;
    assert_eq!(routed.channel["config"]["secret"], "********");
    routed.deliver(DISK(), "sent").await;
    let received = hook.received();
    let request = only(&received);
    assert_eq!(request.path, "/hooks/beacon");
    let id = request.header("webhook-id").expect("webhook-id");
    let timestamp = request
        .header("webhook-timestamp")
        .expect("webhook-timestamp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let sent_at: u64 = timestamp.parse().expect("integer seconds");
    assert!(now.abs_diff(sent_at) < 60, "timestamp {sent_at}, now {now}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("key");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(request.header("webhook-signature"), Some(expected.as_str()));
    // No template: the whole message.
    let body = request.json();
    assert_eq!(body["title"], "Disk");
    assert_eq!(body["body"], "95% full");
    assert_eq!(body["tags"], json!(["nas", "disk"]));
    assert_eq!(body["endpoint"]["name"], "nas");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bark_encrypts_the_visible_fields_end_to_end() {
    use aes::cipher::{BlockDecryptMut, KeyIvInit};
    use base64::Engine as _;

    let bark = Receiver::start(
        vec![],
        Answer::json(
            200,
            json!({"code": 200, "message": "success", "timestamp": 1}),
        ),
    )
    .await;
    let key = "0123456789abcdef0123456789abcdef";
    let routed = route(
        "bark",
        json!({"server_base_url": bark.base_url, "device_key": "device-123",
               "encryption": {"algorithm": "aes-256-cbc", "key": key}}),
        json!({"sound": "alarm"}),
    )
    .await;
    assert_eq!(routed.channel["config"]["encryption"]["key"], "********");
    routed.deliver(DISK(), "sent").await;
    let received = bark.received();
    let push = only(&received).json();
    assert_eq!(push["device_key"], "device-123");
    assert!(
        push.get("title").is_none() && push.get("body").is_none(),
        "{push}"
    );
    let iv = push["iv"]
        .as_str()
        .expect("a random iv is sent with the push");
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(push["ciphertext"].as_str().expect("ciphertext"))
        .expect("base64");
    let plain = cbc::Decryptor::<aes::Aes256>::new(key.as_bytes().into(), iv.as_bytes().into())
        .decrypt_padded_vec_mut::<aes::cipher::block_padding::Pkcs7>(&ciphertext)
        .expect("decrypts with the channel's key");
    let visible: Value = serde_json::from_slice(&plain).expect("JSON inside");
    assert_eq!(visible["title"], "Disk");
    assert_eq!(visible["body"], "95% full");
    assert_eq!(visible["sound"], "alarm");
}

/// Every built-in channel is listed with a schema the dashboard can draw,
/// its required keys as SPEC §12 names them and its secrets marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_channels_describe_their_config() {
    let server = TestServer::start(Db::Sqlite).await;
    let user = server.user().await;
    let plugins = server.get("/api/plugins", Some(&user.token)).await;
    plugins.assert_status(200);
    let expected: [(&str, &[&str], &[&str]); 9] = [
        ("bark", &["server_base_url"], &["device_key"]),
        ("ntfy", &["server_url", "topic"], &["token", "password"]),
        ("gotify", &["server_url", "app_token"], &["app_token"]),
        ("webhook", &["url", "secret"], &["secret"]),
        ("slack", &["webhook_url"], &["webhook_url"]),
        ("discord", &["webhook_url"], &["webhook_url"]),
        ("telegram", &["bot_token", "chat_id"], &["bot_token"]),
        ("email", &["to"], &[]),
        ("mqtt", &["broker_url", "topic"], &["password"]),
    ];
    for (id, required, secrets) in expected {
        let plugin = plugins.json["items"]
            .as_array()
            .and_then(|items| items.iter().find(|p| p["id"] == id))
            .unwrap_or_else(|| panic!("{id} is not listed: {}", plugins.text));
        assert_eq!(plugin["kind"], "channel", "{plugin}");
        assert_eq!(plugin["builtin"], true, "{plugin}");
        let schema = &plugin["config_schema"];
        for key in required {
            assert!(
                schema["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!(key))),
                "{id}: {key} is not required: {schema}"
            );
        }
        for key in secrets {
            assert_eq!(
                schema["properties"][key]["x-secret"], true,
                "{id}: {key} is not marked secret: {schema}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_goes_through_the_operators_smtp_server() {
    let to = crate::common::unique_email("ops");
    let routed = route(
        "email",
        json!({"to": [to], "subject_prefix": "[beacon]"}),
        json!({}),
    )
    .await;
    let delivery = routed.deliver(DISK(), "sent").await;
    assert!(
        delivery["attempts"][0]["response_snippet"]
            .as_str()
            .is_some_and(|reply| reply.starts_with("250")),
        "the SMTP server's answer is recorded: {delivery}"
    );
    let mails = crate::common::services::smtp().wait_for(&to, 1).await;
    assert_eq!(mails[0].subject, "[beacon] Disk");
    assert!(mails[0].body.starts_with("95% full"), "{}", mails[0].body);
    assert!(mails[0].body.contains("Priority: 4"), "{}", mails[0].body);
    assert!(
        mails[0].body.contains("https://nas.example/status"),
        "{}",
        mails[0].body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_rate_per_channel_holds_mail_back_without_losing_it() {
    let to = crate::common::unique_email("burst");
    let routed = route("email", json!({"to": [to]}), json!({})).await;
    let mut ids = Vec::new();
    for i in 0..31 {
        ids.push(
            routed
                .server
                .ingest_ok(
                    &routed.endpoint,
                    json!({"title": format!("#{i}"), "body": "burst"}),
                )
                .await,
        );
    }
    // 30 mails per channel per minute reach the SMTP server ...
    let mails = crate::common::services::smtp().wait_for(&to, 30).await;
    assert_eq!(mails.len(), 30);
    // ... and the 31st waits, retryable, with the host's reason recorded.
    let started = std::time::Instant::now();
    let held = loop {
        let mut held = Vec::new();
        for id in &ids {
            let detail = routed
                .server
                .get(&format!("/api/messages/{id}"), Some(&routed.user.token))
                .await;
            let delivery = detail.json["deliveries"][0].clone();
            if delivery["status"] != "sent"
                && !delivery["attempts"].as_array().is_none_or(Vec::is_empty)
            {
                held.push(delivery);
            }
        }
        if !held.is_empty() || started.elapsed() > Duration::from_secs(20) {
            break held;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(held.len(), 1, "{held:?}");
    assert_ne!(
        held[0]["status"], "failed",
        "held back, not dropped: {}",
        held[0]
    );
    assert!(
        held[0]["attempts"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("mail rate exceeded")),
        "{}",
        held[0]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(crate::common::services::smtp().mails_to(&to).len(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_channel_needs_an_smtp_server() {
    let server = TestServer::start_with(Db::Sqlite, &[("EMAIL_HOST", "")]).await;
    let user = server.user().await;
    let refused = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "mail", "plugin": "email", "config": {"to": ["ops@example.com"]}}),
        )
        .await;
    refused.assert_error(422, "validation_failed", Some("plugin"));
    assert!(refused.json["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("EMAIL_HOST")));
}

/// Subscribes to `filter` on the test broker and collects what arrives.
async fn subscribe(filter: &str) -> std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>> {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let broker = crate::common::services::mosquitto();
    let mut options = MqttOptions::new(
        format!("test-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        "127.0.0.1",
        broker.port,
    );
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut events) = AsyncClient::new(options, 16);
    client
        .subscribe(filter, QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => break,
            Ok(Ok(_)) => continue,
            other => panic!("no SUBACK from the test broker: {other:?}"),
        }
    }
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = received.clone();
    tokio::spawn(async move {
        let _client = client;
        while let Ok(event) = events.poll().await {
            if let Event::Incoming(Packet::Publish(publish)) = event {
                if let Ok(mut sink) = sink.lock() {
                    sink.push((publish.topic.clone(), publish.payload.to_vec()));
                }
            }
        }
    });
    received
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_publishes_through_a_real_broker() {
    let broker = crate::common::services::mosquitto();
    let prefix = format!("beacon-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let received = subscribe(&format!("{prefix}/#")).await;
    let routed = route(
        "mqtt",
        json!({"broker_url": format!("mqtt://127.0.0.1:{}", broker.port), "topic": format!("{prefix}/alerts")}),
        json!({"subtopic": "{{message.group}}", "title": "{{message.title}}", "body": "{{message.body}}"}),
    )
    .await;
    let mut message = DISK();
    message["group"] = json!("storage");
    let delivery = routed.deliver(message, "sent").await;
    assert_eq!(
        delivery["attempts"][0]["response_snippet"],
        format!("published to {prefix}/alerts/storage (qos 1)")
    );
    let started = std::time::Instant::now();
    let got = loop {
        let got = received.lock().map(|r| r.clone()).unwrap_or_default();
        if !got.is_empty() || started.elapsed() > Duration::from_secs(10) {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, format!("{prefix}/alerts/storage"));
    let payload: Value = serde_json::from_slice(&got[0].1).expect("JSON payload");
    assert_eq!(payload, json!({"title": "Disk", "body": "95% full"}));

    // A second message reuses the pooled connection and arrives too.
    routed.deliver(DISK(), "sent").await;
}

/// A TCP relay to `target` on a loopback port that counts the connections
/// it accepts (to see how many the host opens).
async fn counting_relay(target: u16) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) =
                    tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (port, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_publishes_share_one_pooled_connection() {
    let broker = crate::common::services::mosquitto();
    let (relay, connections) = counting_relay(broker.port).await;
    let prefix = format!("pool-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let received = subscribe(&format!("{prefix}/#")).await;
    let routed = route(
        "mqtt",
        json!({"broker_url": format!("mqtt://127.0.0.1:{relay}"), "topic": format!("{prefix}/alerts")}),
        json!({}),
    )
    .await;
    for _ in 0..3 {
        routed.deliver(DISK(), "sent").await;
    }
    let started = std::time::Instant::now();
    while received.lock().map(|r| r.len()).unwrap_or(0) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not all three arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "three publishes through one broker connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_on_a_private_address_needs_the_allowlist() {
    let broker = crate::common::services::mosquitto();
    // No BEACON_OUTBOUND_ALLOWLIST: loopback is refused like any private address.
    let server = TestServer::start(Db::Sqlite).await;
    let user = server.user().await;
    let endpoint = server.endpoint(&user, "nas").await;
    let channel = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "mqtt", "plugin": "mqtt", "config": {
                "broker_url": format!("mqtt://127.0.0.1:{}", broker.port), "topic": "beacon/private"}}),
        )
        .await;
    channel.assert_status(201);
    server
        .post(
            "/api/rules",
            Some(&user.token),
            json!({"name": "all", "channel_id": channel.json["id"]}),
        )
        .await
        .assert_status(201);
    let routed = Routed {
        server,
        user,
        endpoint,
        channel: channel.json,
    };
    let failed = routed.deliver(DISK(), "failed").await;
    assert_eq!(
        failed["attempts"].as_array().map(Vec::len),
        Some(1),
        "{failed}"
    );
    let error = failed["attempts"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("127.0.0.1"),
        "the policy names the address: {failed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_credentials_refused_by_the_broker_fail_for_good() {
    let broker = crate::common::services::mosquitto();
    let routed = route(
        "mqtt",
        json!({"broker_url": format!("mqtt://127.0.0.1:{}", broker.auth_port), "topic": "beacon/alerts",
               "username": crate::common::services::MQTT_USER, "password": "wrong"}),
        json!({}),
    )
    .await;
    assert_eq!(routed.channel["config"]["password"], "********");
    let failed = routed.deliver(DISK(), "failed").await;
    assert_eq!(failed["attempts"].as_array().map(Vec::len), Some(1));
    assert!(
        failed["attempts"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("refused")),
        "{failed}"
    );
    // The right password gets through the same listener.
    let routed = route(
        "mqtt",
        json!({"broker_url": format!("mqtt://127.0.0.1:{}", broker.auth_port), "topic": "beacon/alerts",
               "username": crate::common::services::MQTT_USER,
               "password": crate::common::services::MQTT_PASSWORD}),
        json!({}),
    )
    .await;
    routed.deliver(DISK(), "sent").await;
}
