//! Drop-in publishing: the requests the `ntfy` and `gotify` CLIs, `curl`
//! scripts from those projects' docs and Bark's shortcuts send, unchanged,
//! become messages; refusals keep the native codes and error shape.

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Db, Reply, TestEndpoint, TestServer, TestUser};
use crate::on_both_databases;

/// The message detail of the only message of the user.
async fn message(server: &TestServer, user: &TestUser, id: &str) -> Value {
    let detail = server
        .get(&format!("/api/messages/{id}"), Some(&user.token))
        .await;
    detail.assert_status(200);
    detail.json
}

async fn send(server: &TestServer, builder: reqwest::RequestBuilder) -> Reply {
    server.send(builder).await
}

fn raw(server: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
    server.request(method, path, None)
}

async fn setup(db: Db) -> (TestServer, TestUser, TestEndpoint) {
    let server = TestServer::start(db).await;
    let user = server.user().await;
    let endpoint = server.endpoint(&user, "compat").await;
    (server, user, endpoint)
}

on_both_databases! {
    async fn ntfy_cli_and_curl_publishes_become_messages(db: Db) {
        let (server, user, endpoint) = setup(db).await;
        let path = format!("/compat/ntfy/{}", endpoint.id);
        // What `ntfy publish --token KEY --title Backup --priority urgent
        // --tags warning,skull --click URL --markdown SERVER/TOPIC "…"` sends.
        let published = send(&server, raw(&server, Method::POST, &path)
            .header("User-Agent", "ntfy/v2.11.0 (linux; amd64)")
            .header("Authorization", format!("Bearer {}", endpoint.key))
            .header("X-Title", "Backup")
            .header("X-Priority", "urgent")
            .header("X-Tags", "warning,skull")
            .header("X-Click", "https://nas.example.com/backups")
            .header("X-Markdown", "yes")
            .body("**Backup failed** on nas1")).await;
        published.assert_status(200);
        assert_eq!(published.json["event"], "message", "{}", published.text);
        assert_eq!(published.json["topic"], endpoint.id);
        assert_eq!(published.json["priority"], 5);
        let id = published.json["id"].as_str().expect("id").to_string();
        let stored = message(&server, &user, &id).await;
        assert_eq!(stored["title"], "Backup");
        assert_eq!(stored["body"], "**Backup failed** on nas1");
        assert_eq!(stored["priority"], 5);
        assert_eq!(stored["tags"], json!(["warning", "skull"]));
        assert_eq!(stored["url"], "https://nas.example.com/backups");
        assert_eq!(stored["extras"]["markdown"], "true");
        assert_eq!(stored["request"]["headers"]["authorization"], "[REDACTED]");

        // curl -u :KEY -H "Title: Hi" -H "Priority: high" -H "Tags: ok" -d "…" (PUT works too).
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(":{}", endpoint.key));
        let curl = send(&server, raw(&server, Method::PUT, &path)
            .header("Authorization", format!("Basic {basic}"))
            .header("Title", "Hi")
            .header("Priority", "high")
            .header("Tags", "ok")
            .body("from curl")).await;
        curl.assert_status(200);
        let stored = message(&server, &user, curl.json["id"].as_str().expect("id")).await;
        assert_eq!((stored["title"].as_str(), stored["priority"].as_i64()), (Some("Hi"), Some(4)));
        // Options as query parameters, and ntfy's message for an empty body.
        let query = send(&server, raw(&server, Method::POST, &format!("{path}?title=Q&p=2&tags=a,b"))
            .header("Authorization", format!("Bearer {}", endpoint.key))).await;
        query.assert_status(200);
        assert_eq!(query.json["message"], "triggered");
        assert_eq!(query.json["priority"], 2);

        // ntfy's JSON publish to the root.
        let json_publish = send(&server, raw(&server, Method::POST, "/compat/ntfy")
            .header("Authorization", format!("Bearer {}", endpoint.key))
            .json(&json!({"topic": endpoint.id, "message": "Disk 95% full", "title": "NAS",
                          "priority": 4, "tags": ["disk"], "click": "https://nas.example.com/"}))).await;
        json_publish.assert_status(200);
        let stored = message(&server, &user, json_publish.json["id"].as_str().expect("id")).await;
        assert_eq!((stored["body"].as_str(), stored["priority"].as_i64()), (Some("Disk 95% full"), Some(4)));
    }

    async fn ntfy_refusals_keep_the_native_shape(db: Db) {
        let (server, _user, endpoint) = setup(db).await;
        let path = format!("/compat/ntfy/{}", endpoint.id);
        let bearer = format!("Bearer {}", endpoint.key);
        send(&server, raw(&server, Method::POST, &path).header("Authorization", "Bearer wrong").body("x"))
            .await.assert_error(401, "invalid_ingest_credentials", None);
        send(&server, raw(&server, Method::POST, &path).body("x"))
            .await.assert_error(401, "invalid_ingest_credentials", None);
        send(&server, raw(&server, Method::POST, &path).header("Authorization", &bearer).header("Priority", "loud").body("x"))
            .await.assert_error(422, "validation_failed", Some("priority"));
        send(&server, raw(&server, Method::POST, &path).header("Authorization", &bearer).header("Delay", "whenever").body("x"))
            .await.assert_error(422, "validation_failed", Some("delay"));
        send(&server, raw(&server, Method::POST, &path).header("Authorization", &bearer).body(vec![0xff, 0xfe]))
            .await.assert_error(400, "invalid_utf8", None);
        send(&server, raw(&server, Method::POST, &path).header("Authorization", &bearer).body("x".repeat(2 << 20)))
            .await.assert_error(413, "payload_too_large", None);
        send(&server, raw(&server, Method::POST, "/compat/ntfy").header("Authorization", &bearer)
            .json(&json!({"topic": endpoint.id, "priority": "x"})))
            .await.assert_error(422, "validation_failed", Some("priority"));
        send(&server, raw(&server, Method::POST, "/compat/ntfy").header("Authorization", "Bearer wrong")
            .json(&json!({"topic": endpoint.id, "priority": "x"})))
            .await.assert_error(401, "invalid_ingest_credentials", None);
    }

    async fn gotify_cli_and_curl_pushes_become_messages(db: Db) {
        let (server, user, endpoint) = setup(db).await;
        // What `gotify push -p 8 --title Deploy "v2 is live"` sends.
        let pushed = send(&server, raw(&server, Method::POST, "/compat/gotify/message")
            .header("User-Agent", "Go-http-client/1.1")
            .header("X-Gotify-Key", &endpoint.key)
            .json(&json!({"message": "v2 is live", "title": "Deploy", "priority": 8}))).await;
        pushed.assert_status(200);
        assert!(pushed.json["id"].is_u64(), "Gotify clients read a number: {}", pushed.text);
        let id = pushed.json["message_id"].as_str().expect("message_id").to_string();
        let stored = message(&server, &user, &id).await;
        assert_eq!((stored["title"].as_str(), stored["priority"].as_i64()), (Some("Deploy"), Some(4)));
        assert_eq!(stored["request"]["headers"]["x-gotify-key"], "[REDACTED]");

        // The Gotify docs' curl: `curl "…/message?token=KEY" -F title=… -F message=… -F priority=5`.
        let form = reqwest::multipart::Form::new()
            .text("title", "my title")
            .text("message", "my message")
            .text("priority", "5");
        let curl = send(&server, raw(&server, Method::POST, &format!("/compat/gotify/message?token={}", endpoint.key))
            .multipart(form)).await;
        curl.assert_status(200);
        let stored = message(&server, &user, curl.json["message_id"].as_str().expect("id")).await;
        assert_eq!((stored["body"].as_str(), stored["priority"].as_i64()), (Some("my message"), Some(3)));
        assert_eq!(stored["request"]["query"]["token"], "[REDACTED]", "the key in the query is not kept");

        // Extras: the click URL becomes the message's link.
        let extras = send(&server, raw(&server, Method::POST, "/compat/gotify/message")
            .header("X-Gotify-Key", &endpoint.key)
            .json(&json!({"message": "see CI", "extras": {"client::notification": {"click": {"url": "https://ci.example.com/1"}}}}))).await;
        extras.assert_status(200);
        let stored = message(&server, &user, extras.json["message_id"].as_str().expect("id")).await;
        assert_eq!(stored["url"], "https://ci.example.com/1");

        send(&server, raw(&server, Method::POST, "/compat/gotify/message").header("X-Gotify-Key", "nope")
            .json(&json!({"message": "x"}))).await.assert_error(401, "invalid_ingest_credentials", None);
        send(&server, raw(&server, Method::POST, "/compat/gotify/message").header("X-Gotify-Key", &endpoint.key)
            .json(&json!({"title": "no message"}))).await.assert_error(422, "validation_failed", Some("message"));
        send(&server, raw(&server, Method::POST, "/compat/gotify/message").header("X-Gotify-Key", &endpoint.key)
            .header("Content-Type", "application/xml").body("<m/>")).await.assert_error(415, "unsupported_media_type", None);
        let version = server.get("/compat/gotify/version", None).await;
        version.assert_status(200);
        assert!(version.json["version"].is_string());
    }

    async fn bark_paths_shortcuts_and_json_pushes_become_messages(db: Db) {
        let (server, user, endpoint) = setup(db).await;
        let key = &endpoint.key;
        // A Bark URL: /KEY/title/subtitle/body?group=…&level=…&url=…&sound=…
        let pushed = send(&server, raw(&server, Method::GET,
            &format!("/compat/bark/{key}/NAS/Volume%201/Disk%2095%25%20full?group=storage&level=timeSensitive&url=https%3A%2F%2Fnas.example.com%2F&sound=alarm"))).await;
        pushed.assert_status(200);
        assert_eq!(pushed.json["code"], 200, "{}", pushed.text);
        let stored = message(&server, &user, pushed.json["message_id"].as_str().expect("id")).await;
        assert_eq!(stored["title"], "NAS");
        assert_eq!(stored["body"], "Disk 95% full");
        assert_eq!(stored["extras"]["subtitle"], "Volume 1");
        assert_eq!(stored["extras"]["sound"], "alarm");
        assert_eq!((stored["group"].as_str(), stored["priority"].as_i64()), (Some("storage"), Some(4)));
        assert_eq!(stored["url"], "https://nas.example.com/");

        for (path, title, body) in [
            (format!("/compat/bark/{key}/just%20a%20body"), None, "just a body"),
            (format!("/compat/bark/{key}/T/B"), Some("T"), "B"),
        ] {
            let reply = send(&server, raw(&server, Method::POST, &path)).await;
            reply.assert_status(200);
            let stored = message(&server, &user, reply.json["message_id"].as_str().expect("id")).await;
            assert_eq!((stored["title"].as_str(), stored["body"].as_str()), (title, Some(body)));
        }
        // A shortcut posting a form to /KEY, and the JSON push with device_key.
        let form = send(&server, raw(&server, Method::POST, &format!("/compat/bark/{key}"))
            .form(&[("title", "Form"), ("body", "from a shortcut"), ("level", "passive")])).await;
        form.assert_status(200);
        let stored = message(&server, &user, form.json["message_id"].as_str().expect("id")).await;
        assert_eq!((stored["body"].as_str(), stored["priority"].as_i64()), (Some("from a shortcut"), Some(2)));
        let json_push = send(&server, raw(&server, Method::POST, "/compat/bark/push")
            .json(&json!({"device_key": key, "title": "JSON", "body": "pushed", "badge": 1, "group": "g"}))).await;
        json_push.assert_status(200);
        let stored = message(&server, &user, json_push.json["message_id"].as_str().expect("id")).await;
        assert_eq!(stored["extras"]["badge"], "1");
        assert!(stored["extras"].get("device_key").is_none(), "the key is not kept: {stored}");

        send(&server, raw(&server, Method::GET, "/compat/bark/not-a-key/hello")).await
            .assert_error(401, "invalid_ingest_credentials", None);
        send(&server, raw(&server, Method::GET, &format!("/compat/bark/{key}/x?level=loud"))).await
            .assert_error(422, "validation_failed", Some("level"));
        send(&server, raw(&server, Method::POST, "/compat/bark/push").json(&json!({"device_key": key, "title": "no body"})))
            .await.assert_error(422, "validation_failed", Some("body"));
    }
}

/// Alertmanager's `http_config.authorization` and most webhook senders put
/// the key in `Authorization: Bearer`; the native route takes it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_route_takes_a_bearer_key() {
    let (server, user, endpoint) = setup(Db::Sqlite).await;
    let path = format!("/api/ingest/{}", endpoint.id);
    let reply = send(
        &server,
        raw(&server, Method::POST, &path)
            .header("Authorization", format!("Bearer {}", endpoint.key))
            .json(&json!({"body": "bearer"})),
    )
    .await;
    reply.assert_status(201);
    let stored = message(
        &server,
        &user,
        reply.json["message_id"].as_str().expect("id"),
    )
    .await;
    assert_eq!(stored["body"], "bearer");
    send(
        &server,
        raw(&server, Method::POST, &path)
            .header("Authorization", "Bearer wrong")
            .json(&json!({"body": "x"})),
    )
    .await
    .assert_error(401, "invalid_ingest_credentials", None);
    // A revoked key stops working on every protocol.
    server
        .post(
            &format!("/api/ingest-endpoints/{}/revoke", endpoint.id),
            Some(&user.token),
            json!({}),
        )
        .await
        .assert_status(200);
    send(
        &server,
        raw(
            &server,
            Method::GET,
            &format!("/compat/bark/{}/x", endpoint.key),
        ),
    )
    .await
    .assert_error(401, "invalid_ingest_credentials", None);
    send(
        &server,
        raw(&server, Method::POST, "/compat/gotify/message")
            .header("X-Gotify-Key", &endpoint.key)
            .json(&json!({"message": "x"})),
    )
    .await
    .assert_error(401, "invalid_ingest_credentials", None);
}
