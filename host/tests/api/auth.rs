//! `/api/auth/*`: sign-up and verification by mail, sessions, password and
//! e-mail changes, account deletion, rate limits.

use serde_json::json;

use crate::common::services::{link_in, smtp, token_of};
use crate::common::{unique_email, TestServer, PASSWORD};
use crate::on_both_databases;

on_both_databases! {
    async fn signup_verify_by_mail_then_create(db: Db) {
        let server = TestServer::start(db).await;
        let email = unique_email("Signup");
        let reply = server.post("/api/auth/signup", None, json!({"email": email, "password": PASSWORD})).await;
        reply.assert_status(201);
        assert_eq!(reply.json["email"], email.as_str());
        assert_eq!(reply.json["email_verified"], false);

        // E-mails are unique case-insensitively.
        server.post("/api/auth/signup", None, json!({"email": email.to_uppercase(), "password": PASSWORD})).await
            .assert_error(409, "email_taken", Some("email"));
        server.post("/api/auth/signup", None, json!({"email": "not-an-address", "password": PASSWORD})).await
            .assert_error(422, "validation_failed", Some("email"));
        server.post("/api/auth/signup", None, json!({"email": unique_email("x"), "password": "short"})).await
            .assert_error(422, "validation_failed", Some("password"));
        server.post("/api/auth/signup", None, json!({"email": unique_email("x")})).await
            .assert_error(422, "validation_failed", Some("password"));

        // Unverified: may log in, may not create.
        let user = server.logged_in(&email).await;
        let me = server.get("/api/auth/me", Some(&user.token)).await;
        assert_eq!(me.json["email_verified"], false);
        server.post("/api/ingest-endpoints", Some(&user.token), json!({"name": "x"})).await
            .assert_error(403, "email_not_verified", None);

        // Follow the link from the mail the SMTP server received.
        let mail = smtp().wait_for(&email, 1).await.remove(0);
        assert_eq!(mail.subject, "Confirm your e-mail address for Beacon Spear");
        let link = link_in(&mail, "/verify-email?token=");
        assert!(link.starts_with(&format!("{}/verify-email?token=", server.base)), "{link}");
        let token = token_of(&link);
        server.post("/api/auth/verify-email", None, json!({"token": token})).await.assert_status(204);
        // One-time: the same link is refused afterwards.
        server.post("/api/auth/verify-email", None, json!({"token": token})).await
            .assert_error(400, "invalid_token", Some("token"));
        server.post("/api/auth/verify-email", None, json!({"token": "forged"})).await
            .assert_error(400, "invalid_token", Some("token"));

        let me = server.get("/api/auth/me", Some(&user.token)).await;
        assert_eq!(me.json["email_verified"], true);
        assert_eq!(me.json["email"], email.as_str());
        server.post("/api/ingest-endpoints", Some(&user.token), json!({"name": "x"})).await.assert_status(201);
    }

    async fn resend_verification(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.unverified_user().await;
        smtp().wait_for(&user.email, 1).await;
        server.post("/api/auth/resend-verification", Some(&user.token), json!({})).await.assert_status(202);
        let mails = smtp().wait_for(&user.email, 2).await;
        // The newest link works.
        let token = token_of(&link_in(&mails[1], "/verify-email?token="));
        server.post("/api/auth/verify-email", None, json!({"token": token})).await.assert_status(204);
        // Anonymous form, unknown address: same answer, no mail.
        server.post("/api/auth/resend-verification", None, json!({"email": unique_email("ghost")})).await.assert_status(202);
        server.post("/api/auth/resend-verification", None, json!({})).await
            .assert_error(422, "validation_failed", Some("email"));
    }

    async fn login_refresh_rotation_and_reuse(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        server.login(&user.email, "wrong password").await.assert_error(401, "invalid_credentials", None);
        server.login(&unique_email("nobody"), PASSWORD).await.assert_error(401, "invalid_credentials", None);

        let login = server.login(&user.email, PASSWORD).await;
        login.assert_status(200);
        assert_eq!(login.json["token_type"], "Bearer");
        assert_eq!(login.json["expires_in"], 900);
        let cookie = login.set_cookie_header();
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth", "Max-Age=2592000"] {
            assert!(cookie.contains(attribute), "{attribute} missing in {cookie}");
        }
        let first = login.cookie("beacon_refresh").expect("cookie");

        let refreshed = server.post_with_cookie("/api/auth/refresh", &first).await;
        refreshed.assert_status(200);
        let second = refreshed.cookie("beacon_refresh").expect("rotated cookie");
        assert_ne!(first, second);
        let token = refreshed.json["access_token"].as_str().expect("token");
        server.get("/api/auth/me", Some(token)).await.assert_status(200);

        // Presenting the rotated token again revokes the whole family...
        server.post_with_cookie("/api/auth/refresh", &first).await.assert_error(401, "refresh_token_reused", None);
        // ...so the newest one is dead too.
        server.post_with_cookie("/api/auth/refresh", &second).await.assert_error(401, "invalid_refresh_token", None);
        // Other devices (families) are untouched.
        server.post_with_cookie("/api/auth/refresh", &user.refresh).await.assert_status(200);

        server.send(server.request(reqwest::Method::POST, "/api/auth/refresh", None)).await
            .assert_error(401, "missing_refresh_token", None);
        server.post_with_cookie("/api/auth/refresh", "garbage").await.assert_error(401, "invalid_refresh_token", None);
    }

    async fn logout_revokes_the_session(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let other_device = server.logged_in(&user.email).await;
        let reply = server.post_with_cookie("/api/auth/logout", &user.refresh).await;
        reply.assert_status(204);
        assert_eq!(reply.cookie("beacon_refresh").as_deref(), Some(""));
        assert!(reply.set_cookie_header().contains("Max-Age=0"));
        server.post_with_cookie("/api/auth/refresh", &user.refresh).await.assert_error(401, "invalid_refresh_token", None);
        server.post_with_cookie("/api/auth/refresh", &other_device.refresh).await.assert_status(200);
    }

    async fn me_requires_a_valid_token(db: Db) {
        let server = TestServer::start(db).await;
        server.get("/api/auth/me", None).await.assert_error(401, "missing_token", None);
        server.get("/api/auth/me", Some("not.a.jwt")).await.assert_error(401, "invalid_token", None);
        // A token signed with another key is refused.
        let foreign = beacon_host::app::accounts::jwt::AccessTokens::new(b"another-key-another-key-another-key-1234", 60)
            .issue("someone").expect("issue");
        server.get("/api/auth/me", Some(&foreign)).await.assert_error(401, "invalid_token", None);
    }

    async fn access_token_expires(db: Db) {
        let server = TestServer::start_with(db, &[("JWT_ACCESS_TTL_SECONDS", "1")]).await;
        let user = server.user().await;
        server.get("/api/auth/me", Some(&user.token)).await.assert_status(200);
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        server.get("/api/auth/me", Some(&user.token)).await.assert_error(401, "token_expired", None);
        // The refresh cookie still gets a fresh access token.
        let refreshed = server.post_with_cookie("/api/auth/refresh", &user.refresh).await;
        refreshed.assert_status(200);
        assert_eq!(refreshed.json["expires_in"], 1);
    }

    async fn password_reset_by_mail(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        // Unknown addresses get the same answer and no mail.
        let ghost = unique_email("ghost");
        server.post("/api/auth/forgot-password", None, json!({"email": ghost})).await.assert_status(202);

        server.post("/api/auth/forgot-password", None, json!({"email": user.email})).await.assert_status(202);
        let mail = smtp().wait_for(&user.email, 1).await.remove(0);
        let link = link_in(&mail, "/reset-password?token=");
        assert!(link.starts_with(&format!("{}/reset-password?token=", server.base)), "{link}");
        let token = token_of(&link);

        server.post("/api/auth/reset-password", None, json!({"token": token, "new_password": "short"})).await
            .assert_error(422, "validation_failed", Some("new_password"));
        server.post("/api/auth/reset-password", None, json!({"token": "forged", "new_password": "a new long password"})).await
            .assert_error(400, "invalid_token", Some("token"));
        server.post("/api/auth/reset-password", None, json!({"token": token, "new_password": "a new long password"})).await
            .assert_status(204);
        server.post("/api/auth/reset-password", None, json!({"token": token, "new_password": "another long password"})).await
            .assert_error(400, "invalid_token", Some("token"));

        server.login(&user.email, PASSWORD).await.assert_error(401, "invalid_credentials", None);
        server.login(&user.email, "a new long password").await.assert_status(200);
        // Every earlier session ended with the reset.
        server.post_with_cookie("/api/auth/refresh", &user.refresh).await.assert_error(401, "invalid_refresh_token", None);
        assert!(smtp().mails_to(&ghost).is_empty());
    }

    async fn expired_mail_tokens_are_refused(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.unverified_user().await;
        let me = server.get("/api/auth/me", Some(&user.token)).await;
        let user_id = me.json["id"].as_str().expect("id");
        let token = "expired-token-for-test";
        let hash = beacon_host::app::accounts::secrets::sha256_hex(token);
        let past = beacon_host::domain::now_ms() - 1;
        server.state.store
            .insert_user_token(user_id, beacon_host::storage::TokenPurpose::VerifyEmail, &hash, None, past)
            .await
            .expect("insert token");
        server.post("/api/auth/verify-email", None, json!({"token": token})).await
            .assert_error(400, "invalid_token", Some("token"));
    }

    async fn change_password(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let other_device = server.logged_in(&user.email).await;
        server.post("/api/auth/change-password", Some(&user.token), json!({"current_password": "nope nope", "new_password": "brand new password"})).await
            .assert_error(403, "wrong_password", Some("current_password"));
        server.post("/api/auth/change-password", Some(&user.token), json!({"current_password": PASSWORD, "new_password": "short"})).await
            .assert_error(422, "validation_failed", Some("new_password"));
        server.post("/api/auth/change-password", None, json!({"current_password": PASSWORD, "new_password": "brand new password"})).await
            .assert_error(401, "missing_token", None);

        let reply = server.send(
            server.request(reqwest::Method::POST, "/api/auth/change-password", Some(&user.token))
                .header("cookie", format!("beacon_refresh={}", user.refresh))
                .json(&json!({"current_password": PASSWORD, "new_password": "brand new password"})),
        ).await;
        reply.assert_status(204);
        server.login(&user.email, "brand new password").await.assert_status(200);
        server.login(&user.email, PASSWORD).await.assert_error(401, "invalid_credentials", None);
        // This device stays logged in; the other one is logged out.
        server.post_with_cookie("/api/auth/refresh", &user.refresh).await.assert_status(200);
        server.post_with_cookie("/api/auth/refresh", &other_device.refresh).await.assert_error(401, "invalid_refresh_token", None);
    }

    async fn change_email_takes_effect_after_verification(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let taken = server.user().await;
        let new_email = unique_email("moved");
        server.post("/api/auth/change-email", Some(&user.token), json!({"new_email": new_email, "password": "wrong pass"})).await
            .assert_error(403, "wrong_password", Some("password"));
        server.post("/api/auth/change-email", Some(&user.token), json!({"new_email": taken.email, "password": PASSWORD})).await
            .assert_error(409, "email_taken", Some("new_email"));
        server.post("/api/auth/change-email", Some(&user.token), json!({"new_email": "bad", "password": PASSWORD})).await
            .assert_error(422, "validation_failed", Some("new_email"));

        server.post("/api/auth/change-email", Some(&user.token), json!({"new_email": new_email, "password": PASSWORD})).await
            .assert_status(202);
        // Nothing changes until the new address is confirmed.
        assert_eq!(server.get("/api/auth/me", Some(&user.token)).await.json["email"], user.email.as_str());
        let mail = smtp().wait_for(&new_email, 1).await.remove(0);
        let token = token_of(&link_in(&mail, "/verify-email?token="));
        server.post("/api/auth/verify-email", None, json!({"token": token})).await.assert_status(204);

        let me = server.get("/api/auth/me", Some(&user.token)).await;
        assert_eq!(me.json["email"], new_email.as_str());
        assert_eq!(me.json["email_verified"], true);
        server.login(&new_email, PASSWORD).await.assert_status(200);
        server.login(&user.email, PASSWORD).await.assert_error(401, "invalid_credentials", None);
    }

    async fn delete_account_removes_everything(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "doomed").await;
        server.ingest_ok(&endpoint, json!({"body": "before", "tags": ["a", "b"]})).await;
        let bystander = server.user().await;
        let their_endpoint = server.endpoint(&bystander, "stays").await;
        server.ingest_ok(&their_endpoint, json!({"body": "kept", "tags": ["a"]})).await;
        let user_id = server.get("/api/auth/me", Some(&user.token)).await.json["id"].as_str().expect("id").to_string();
        let bystander_id = server.get("/api/auth/me", Some(&bystander.token)).await.json["id"].as_str().expect("id").to_string();
        assert_eq!(server.rows_of_user("message_tags", &user_id).await, 2);

        server.post("/api/auth/delete-account", Some(&user.token), json!({"password": "wrong pass"})).await
            .assert_error(403, "wrong_password", Some("password"));
        let reply = server.post("/api/auth/delete-account", Some(&user.token), json!({"password": PASSWORD})).await;
        reply.assert_status(204);
        assert_eq!(reply.cookie("beacon_refresh").as_deref(), Some(""));

        server.get("/api/auth/me", Some(&user.token)).await.assert_error(401, "invalid_token", None);
        server.login(&user.email, PASSWORD).await.assert_error(401, "invalid_credentials", None);
        server.post_with_cookie("/api/auth/refresh", &user.refresh).await.assert_error(401, "invalid_refresh_token", None);
        server.ingest(&endpoint, json!({"body": "after"})).await.assert_error(401, "invalid_ingest_credentials", None);
        // The address is free again.
        server.post("/api/auth/signup", None, json!({"email": user.email, "password": PASSWORD})).await.assert_status(201);
        // Nothing of theirs is left behind, and nobody else's rows went with it.
        for table in ["messages", "message_tags", "ingest_endpoints", "deliveries"] {
            assert_eq!(server.rows_of_user(table, &user_id).await, 0, "{table}");
        }
        assert_eq!(server.rows_of_user("messages", &bystander_id).await, 1);
        assert_eq!(server.rows_of_user("message_tags", &bystander_id).await, 1);
        server.get("/api/messages", Some(&bystander.token)).await.assert_status(200);
    }

    async fn expired_tokens_are_purged_live_ones_kept(db: Db) {
        let server = TestServer::start_with(db, &[("TOKEN_PURGE_INTERVAL_SECONDS", "1")]).await;
        let user = server.user().await;
        let user_id = server.get("/api/auth/me", Some(&user.token)).await.json["id"].as_str().expect("id").to_string();
        let live_refresh = server.rows_of_user("refresh_tokens", &user_id).await;
        assert!(live_refresh >= 1);
        server.execute_for_user(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, rotated_at, created_at)
             VALUES ('expired-refresh', $1, 'old-family', 'expired-refresh-hash', 1000, 500, 100)", &user_id).await;
        server.execute_for_user(
            "INSERT INTO user_tokens (id, user_id, purpose, token_hash, expires_at, created_at)
             VALUES ('expired-reset', $1, 'reset_password', 'expired-reset-hash', 1000, 100)", &user_id).await;
        let one_time = server.rows_of_user("user_tokens", &user_id).await;
        assert!(one_time >= 1);

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while server.rows_of_user("refresh_tokens", &user_id).await > live_refresh
            || server.rows_of_user("user_tokens", &user_id).await >= one_time
        {
            assert!(std::time::Instant::now() < deadline, "expired tokens were not purged");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        // The live session is untouched.
        assert_eq!(server.rows_of_user("refresh_tokens", &user_id).await, live_refresh);
        assert_eq!(server.rows_of_user("user_tokens", &user_id).await, one_time - 1);
        server.post_with_cookie("/api/auth/refresh", &user.refresh).await.assert_status(200);
    }

    async fn auth_rate_limit_per_ip(db: Db) {
        let server = TestServer::start_with(db, &[("AUTH_RATE_LIMIT_PER_IP_PER_MINUTE", "3")]).await;
        for i in 0..3 {
            server.login(&unique_email(&format!("n{i}")), PASSWORD).await.assert_error(401, "invalid_credentials", None);
        }
        let limited = server.login(&unique_email("n4"), PASSWORD).await;
        limited.assert_error(429, "rate_limited", None);
        let retry_after: u64 = limited.headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
            .expect("Retry-After header");
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        // Each action has its own budget.
        server.post("/api/auth/forgot-password", None, json!({"email": unique_email("f")})).await.assert_status(202);
    }

    async fn auth_rate_limit_per_email(db: Db) {
        let server = TestServer::start_with(db, &[("AUTH_RATE_LIMIT_PER_EMAIL_PER_MINUTE", "2")]).await;
        let email = unique_email("target");
        for _ in 0..2 {
            server.post("/api/auth/forgot-password", None, json!({"email": email})).await.assert_status(202);
        }
        server.post("/api/auth/forgot-password", None, json!({"email": email.to_uppercase()})).await
            .assert_error(429, "rate_limited", None);
        server.post("/api/auth/forgot-password", None, json!({"email": unique_email("other")})).await.assert_status(202);
        for _ in 0..2 {
            server.post("/api/auth/signup", None, json!({"email": email, "password": "x"})).await.assert_status(422);
        }
        server.post("/api/auth/signup", None, json!({"email": email, "password": "x"})).await.assert_error(429, "rate_limited", None);
    }
}

on_both_databases! {
    async fn malformed_and_non_json_bodies(db: Db) {
        let server = TestServer::start(db).await;
        let reply = server
            .send(
                server
                    .request(reqwest::Method::POST, "/api/auth/login", None)
                    .header("content-type", "application/json")
                    .body("{\"email\":"),
            )
            .await;
        reply.assert_error(400, "malformed_json", None);
        let reply = server
            .send(
                server
                    .request(reqwest::Method::POST, "/api/auth/login", None)
                    .body("email=a"),
            )
            .await;
        reply.assert_error(415, "unsupported_media_type", None);
        server
            .post(
                "/api/auth/login",
                None,
                json!({"email": 5, "password": PASSWORD}),
            )
            .await
            .assert_error(422, "validation_failed", Some("email"));
        server
            .get("/api/nothing-here", None)
            .await
            .assert_error(404, "not_found", None);
    }
}

on_both_databases! {
    /// Without EMAIL_HOST, mail lands in `<data dir>/outbox` (and the log) so a first run works.
    async fn mail_goes_to_the_outbox_without_smtp(db: Db) {
        let server = TestServer::start_with(db, &[("EMAIL_HOST", "")]).await;
        let email = unique_email("outbox");
        server
            .post(
                "/api/auth/signup",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await
            .assert_status(201);
        let outbox = server.state.config.outbox_dir();
        let start = std::time::Instant::now();
        let mail = loop {
            let found = std::fs::read_dir(&outbox)
                .ok()
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .find_map(|entry| {
                    let raw = std::fs::read_to_string(entry.path()).ok()?;
                    let mail = crate::common::services::parse_mail(&raw);
                    (mail.to == email).then_some(mail)
                });
            if let Some(mail) = found {
                break mail;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "no mail in {}",
                outbox.display()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let token = token_of(&link_in(&mail, "/verify-email?token="));
        server
            .post("/api/auth/verify-email", None, json!({"token": token}))
            .await
            .assert_status(204);
    }
}

/// The per-IP login budget follows the client IP `TRUSTED_PROXIES` decides:
/// an untrusted peer cannot escape it by inventing `X-Forwarded-For` hops;
/// behind a trusted proxy, each forwarded client has its own budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofed_forwarded_for_does_not_escape_the_login_limit() {
    async fn login_from(server: &TestServer, forwarded: &str) -> crate::common::Reply {
        let request = server
            .request(reqwest::Method::POST, "/api/auth/login", None)
            .header("X-Forwarded-For", forwarded.to_string())
            .json(&json!({"email": unique_email("spoof"), "password": PASSWORD}));
        server.send(request).await
    }
    let untrusted = TestServer::start_with(
        crate::common::Db::Sqlite,
        &[("AUTH_RATE_LIMIT_PER_IP_PER_MINUTE", "3")],
    )
    .await;
    for i in 0..3 {
        login_from(&untrusted, &format!("198.51.100.{i}"))
            .await
            .assert_status(401);
    }
    login_from(&untrusted, "198.51.100.99")
        .await
        .assert_error(429, "rate_limited", None);

    let behind_proxy = TestServer::start_with(
        crate::common::Db::Sqlite,
        &[
            ("AUTH_RATE_LIMIT_PER_IP_PER_MINUTE", "3"),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await;
    for _ in 0..3 {
        login_from(&behind_proxy, "198.51.100.1")
            .await
            .assert_status(401);
    }
    login_from(&behind_proxy, "198.51.100.1")
        .await
        .assert_error(429, "rate_limited", None);
    login_from(&behind_proxy, "198.51.100.2")
        .await
        .assert_status(401);
}
