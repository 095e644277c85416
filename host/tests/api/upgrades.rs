//! Upgrades: `beacon migrate status`, the refusal to run against a schema
//! newer than the binary, and a database made by an earlier release
//! (migrations 0001-0009 as they were at commit ed91a8c, kept as test data
//! in tests/fixtures/schema-0009) upgraded by the current `beacon migrate`
//! with its data intact and usable through the API.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use beacon_host::app::accounts::password::hash_password;
use beacon_host::app::accounts::secrets::{random_token, sha256_hex};
use beacon_host::domain::config_cipher::ConfigCipher;
use beacon_host::domain::{new_id, new_id_with_time, now_ms};
use serde_json::json;

use crate::backup::{base_env, beacon, Place, Run};
use crate::common::receiver::{Answer, Receiver};
use crate::common::services::free_port;
use crate::common::{unique_email, Db, TestEndpoint, TestServer, PASSWORD};
use crate::on_both_databases;

fn fixture_migrations(db: Db) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/schema-0009")
        .join(match db {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        })
}

fn latest(db: Db) -> i64 {
    beacon_host::storage::latest_known_version(db == Db::Postgres)
}

async fn pool(place: &Place) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&place.url())
        .await
        .expect("database")
}

/// A place whose database has the earlier release's schema (0001-0009).
async fn old_place(db: Db) -> (Place, sqlx::AnyPool) {
    let place = Place::fresh(db).await;
    let pool = pool(&place).await;
    let old = sqlx::migrate::Migrator::new(fixture_migrations(db))
        .await
        .expect("fixture migrations");
    assert_eq!(old.iter().map(|m| m.version).max(), Some(9));
    old.run(&pool).await.expect("the old schema");
    (place, pool)
}

/// Runs a command that must refuse to start; fails the test if it keeps running.
async fn refused(args: &[&str], env: &[(String, String)]) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_beacon"));
    command.env_clear().args(args);
    for (key, value) in base_env().iter().chain(env) {
        command.env(key, value);
    }
    command
        .env("BEACON_LISTEN", format!("127.0.0.1:{}", free_port()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("beacon runs");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("beacon {args:?} kept running against a newer schema");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let output = child.wait_with_output().expect("output");
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

on_both_databases! {
    /// `migrate status` on an old database lists the pending steps and
    /// exits non-zero; after `migrate`, all applied and zero. A changed
    /// checksum is reported; a version this binary lacks is listed, and
    /// `serve`, `worker` and `migrate` refuse to run, naming both versions.
    async fn migrate_status_and_a_newer_schema(db: Db) {
        let (place, pool) = old_place(db).await;
        let env = place.env();

        let status = beacon(&["migrate", "status"], &env).await;
        assert!(!status.ok, "{status:?}");
        assert!(status.stdout.contains("9  operators"), "{}", status.stdout);
        for version in 10..=latest(db) {
            let line = status
                .stdout
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{version} ")))
                .unwrap_or_else(|| panic!("{version} missing: {}", status.stdout));
            assert!(line.ends_with("pending"), "{line}");
        }
        assert!(status.stderr.contains("not at this binary's head"), "{}", status.stderr);

        let migrate = beacon(&["migrate"], &env).await;
        assert!(migrate.ok, "{migrate:?}");
        let status = beacon(&["migrate", "status"], &env).await;
        assert!(status.ok, "{status:?}");
        assert!(!status.stdout.contains("pending\n"), "{}", status.stdout);
        assert!(
            status.stdout.contains(&format!("{} applied, 0 pending", latest(db))),
            "{}",
            status.stdout
        );

        // A migration file edited after it was applied.
        let original: Vec<u8> =
            sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = 3")
                .fetch_one(&pool)
                .await
                .expect("checksum");
        sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 3")
            .bind(vec![0u8; 48])
            .execute(&pool)
            .await
            .expect("tamper");
        let status = beacon(&["migrate", "status"], &env).await;
        assert!(!status.ok);
        assert!(
            status.stdout.lines().any(|l| l.trim_start().starts_with("3 ") && l.contains("checksum mismatch")),
            "{}",
            status.stdout
        );
        assert!(status.stderr.contains("1 checksum mismatch"), "{}", status.stderr);
        sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 3")
            .bind(original)
            .execute(&pool)
            .await
            .expect("untamper");

        // A newer release migrated this database.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(9999_i64)
        .bind("from the future")
        .bind(true)
        .bind(vec![1u8; 48])
        .bind(0_i64)
        .execute(&pool)
        .await
        .expect("a future version");
        pool.close().await;
        let status = beacon(&["migrate", "status"], &env).await;
        assert!(!status.ok);
        assert!(status.stdout.contains("9999  from the future"), "{}", status.stdout);
        assert!(status.stdout.contains("unknown (newer than this binary)"), "{}", status.stdout);
        for command in [&["serve"][..], &["worker"][..], &["migrate"][..]] {
            let run = refused(command, &env).await;
            assert!(!run.ok, "{command:?}: {run:?}");
            assert!(
                run.stderr.contains("the database schema is newer than this beacon"),
                "{command:?}: {}",
                run.stderr
            );
            assert!(run.stderr.contains("9999 (from the future)"), "{}", run.stderr);
            assert!(
                run.stderr.contains(&format!("knows migrations up to {}", latest(db))),
                "{}",
                run.stderr
            );
        }
    }

    /// A database filled by the earlier release (a user, an endpoint, a
    /// channel with a sealed config, a rule with an extra filter, tagged
    /// messages, a sent delivery with its attempt and a queued one) is
    /// upgraded by `beacon migrate` and then works: log-in, lists, the
    /// channel config decrypts, the queued delivery is sent, and the old
    /// endpoint key ingests a message that is delivered.
    async fn an_earlier_schema_upgrades_with_its_data(db: Db) {
        let (place, pool) = old_place(db).await;
        let receiver = Receiver::start(vec![], Answer::json(200, json!({"id": "x"}))).await;
        let key_text = ConfigCipher::generate_key_text();
        let cipher = ConfigCipher::from_text(&key_text).expect("key");
        let now = now_ms();

        let (user_id, email) = (new_id(), unique_email("old"));
        let password_hash = hash_password(PASSWORD.to_string()).await.expect("hash");
        sqlx::query(
            "INSERT INTO users (id, email, email_lower, password_hash, email_verified_at, created_at, updated_at, is_admin)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
        )
        .bind(&user_id).bind(&email).bind(email.to_lowercase()).bind(&password_hash)
        .bind(now).bind(now).bind(now)
        .execute(&pool).await.expect("user");

        let (endpoint_id, ingest_key) = (new_id(), random_token());
        sqlx::query(
            "INSERT INTO ingest_endpoints (id, user_id, name, key_hash, created_at) VALUES ($1, $2, 'legacy', $3, $4)",
        )
        .bind(&endpoint_id).bind(&user_id).bind(sha256_hex(&ingest_key)).bind(now)
        .execute(&pool).await.expect("endpoint");

        let channel_id = new_id();
        let config = json!({"server_url": format!("{}/", receiver.base_url), "topic": "legacy"});
        let sealed = cipher.encrypt(&channel_id, &config.to_string()).expect("seal");
        sqlx::query(
            "INSERT INTO channels (id, user_id, name, plugin, config, enabled, created_at, updated_at)
             VALUES ($1, $2, 'old ntfy', 'ntfy', $3, 1, $4, $5)",
        )
        .bind(&channel_id).bind(&user_id).bind(&sealed).bind(now).bind(now)
        .execute(&pool).await.expect("channel");

        let rule_id = new_id();
        sqlx::query(
            "INSERT INTO rules (id, user_id, name, enabled, channel_id, filter, extra_filters, payload_template, created_at, updated_at)
             VALUES ($1, $2, 'everything', 1, $3, '{}', $4, '{}', $5, $6)",
        )
        .bind(&rule_id).bind(&user_id).bind(&channel_id)
        .bind(r#"[{"plugin":"dedupe","config":{"window_seconds":1}}]"#)
        .bind(now).bind(now)
        .execute(&pool).await.expect("rule");

        let mut messages = Vec::new();
        for i in 0..3 {
            let (id, received_at) = new_id_with_time();
            let body = format!("old message {i}");
            sqlx::query(
                "INSERT INTO messages (id, user_id, endpoint_id, received_at, title, body, group_name, priority, tags, url, extras,
                                       content_type, remote_ip, user_agent, headers, query, size_bytes)
                 VALUES ($1, $2, $3, $4, $5, $6, 'ops', 3, '[\"legacy\"]', NULL, '{}', 'application/json', '192.0.2.1', 'curl/8',
                         '{\"content-type\":\"application/json\"}', '{}', $7)",
            )
            .bind(&id).bind(&user_id).bind(&endpoint_id).bind(received_at)
            .bind(format!("title {i}")).bind(&body).bind(body.len() as i64)
            .execute(&pool).await.expect("message");
            sqlx::query("INSERT INTO message_tags (user_id, tag, message_id) VALUES ($1, 'legacy', $2)")
                .bind(&user_id).bind(&id)
                .execute(&pool).await.expect("tag");
            messages.push((id, body));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let (sent_id, queued_id) = (new_id(), new_id());
        sqlx::query(
            "INSERT INTO deliveries (id, user_id, message_id, rule_id, channel_id, status, attempt_count, next_attempt_at, created_at, updated_at, sent_at)
             VALUES ($1, $2, $3, $4, $5, 'sent', 1, $6, $7, $8, $9)",
        )
        .bind(&sent_id).bind(&user_id).bind(&messages[0].0).bind(&rule_id).bind(&channel_id)
        .bind(now).bind(now).bind(now).bind(now)
        .execute(&pool).await.expect("sent delivery");
        sqlx::query(
            "INSERT INTO delivery_attempts (id, delivery_id, attempt_no, started_at, duration_ms, outcome, http_status, response_snippet)
             VALUES ($1, $2, 1, $3, 12, 'sent', 200, '{\"id\":\"old\"}')",
        )
        .bind(new_id()).bind(&sent_id).bind(now)
        .execute(&pool).await.expect("attempt");
        sqlx::query(
            "INSERT INTO deliveries (id, user_id, message_id, rule_id, channel_id, status, attempt_count, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8)",
        )
        .bind(&queued_id).bind(&user_id).bind(&messages[1].0).bind(&rule_id).bind(&channel_id)
        .bind(now).bind(now).bind(now)
        .execute(&pool).await.expect("queued delivery");
        pool.close().await;

        // The current binary upgrades it.
        let migrate = beacon(&["migrate"], &place.env()).await;
        assert!(migrate.ok, "{migrate:?}");
        let status = beacon(&["migrate", "status"], &place.env()).await;
        assert!(status.ok, "{status:?}");

        // And serves it (the in-process worker runs).
        let url = place.url();
        let server = TestServer::start_with(
            db,
            &[
                ("DATABASE_URL", url.as_str()),
                ("CHANNEL_CONFIG_ENCRYPTION_KEY", key_text.as_str()),
                ("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32"),
            ],
        )
        .await;
        let user = server.logged_in(&email).await;
        let me = server.get("/api/auth/me", Some(&user.token)).await;
        assert_eq!(me.json["is_admin"], true, "{}", me.text);

        let listed = server.get("/api/messages?tag=legacy", Some(&user.token)).await;
        listed.assert_status(200);
        let bodies: Vec<&str> = listed.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|m| m["body_preview"].as_str())
            .collect();
        assert_eq!(bodies.len(), 3, "{}", listed.text);
        for (_, body) in &messages {
            assert!(bodies.contains(&body.as_str()), "{body} missing: {}", listed.text);
        }
        let detail = server
            .get(&format!("/api/messages/{}", messages[0].0), Some(&user.token))
            .await;
        detail.assert_status(200);
        assert_eq!(detail.json["title"], "title 0");
        assert_eq!(detail.json["group"], "ops");
        assert_eq!(detail.json["deliveries"][0]["status"], "sent", "{}", detail.text);
        assert_eq!(
            detail.json["deliveries"][0]["attempts"].as_array().map(Vec::len),
            Some(1),
            "{}",
            detail.text
        );

        let channel = server
            .get(&format!("/api/channels/{channel_id}"), Some(&user.token))
            .await;
        channel.assert_status(200);
        assert_eq!(channel.json["config"]["server_url"], config["server_url"], "{}", channel.text);
        assert_eq!(channel.json["config"]["topic"], "legacy");
        let rules = server.get("/api/rules", Some(&user.token)).await;
        rules.assert_status(200);
        assert_eq!(rules.json["items"][0]["id"], rule_id.as_str(), "{}", rules.text);
        assert_eq!(rules.json["items"][0]["extra_filters"][0]["plugin"], "dedupe");

        // The delivery that waited in the old database leaves now.
        wait_for_bodies(&receiver, &["old message 1"]).await;

        // The old endpoint key still ingests, and the rule delivers it.
        let endpoint = TestEndpoint {
            id: endpoint_id.clone(),
            key: ingest_key.clone(),
            url: String::new(),
        };
        server.ingest_ok(&endpoint, json!({"body": "new after upgrade"})).await;
        wait_for_bodies(&receiver, &["old message 1", "new after upgrade"]).await;
    }
}

/// Waits until the receiver got a request mentioning each of `bodies`.
async fn wait_for_bodies(receiver: &Receiver, bodies: &[&str]) {
    let started = Instant::now();
    loop {
        let received: Vec<String> = receiver
            .received()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        if bodies
            .iter()
            .all(|body| received.iter().any(|r| r.contains(body)))
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "expected {bodies:?}, received {received:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
