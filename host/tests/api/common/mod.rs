//! Test harness: each test starts the real server on a loopback port against a
//! fresh SQLite file or a fresh PostgreSQL database, with mail going to a real
//! SMTP server, and talks to it over HTTP.

pub mod bark;
pub mod fixtures;
pub mod receiver;
pub mod services;
pub mod sse;

use std::collections::HashMap;

use beacon_host::config::Config;
use beacon_host::AppState;
use reqwest::header::{HeaderMap, CONTENT_TYPE, SET_COOKIE};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

/// Runs each listed test once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($(#[$meta:meta])* async fn $name:ident($db:ident: Db) $body:block)*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::common::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::common::Db::Postgres).await
            }
            async fn run($db: $crate::common::Db) $body
        }
    )*};
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub const PASSWORD: &str = "correct horse battery";
/// Pass `(WEB_ONLY, "1")` to start the API without its in-process worker.
pub const WEB_ONLY: &str = "TEST_WEB_ONLY";

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// An answer: status, headers and the body as JSON (Null when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Reply {
    /// Asserts the one error shape: `{"error": {"code", "message", "field"?}}`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        let error = &self.json["error"];
        assert_eq!(error["code"], code, "body: {}", self.text);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error without message: {}",
            self.text
        );
        match field {
            Some(field) => assert_eq!(error["field"], field, "body: {}", self.text),
            None => assert!(
                error.get("field").is_none(),
                "unexpected field: {}",
                self.text
            ),
        }
        assert_eq!(
            self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// The value of a cookie set by this answer (empty string when cleared).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let (pair, _) = v.split_once(';').unwrap_or((v, ""));
                let (n, value) = pair.split_once('=')?;
                (n.trim() == name).then(|| value.trim().to_string())
            })
    }

    pub fn set_cookie_header(&self) -> String {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub struct TestUser {
    pub email: String,
    pub token: String,
    pub refresh: String,
}

pub struct TestEndpoint {
    pub id: String,
    pub key: String,
    pub url: String,
}

pub fn unique_email(prefix: &str) -> String {
    format!(
        "{prefix}-{}@example.test",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

impl TestServer {
    pub async fn start(db: Db) -> Self {
        Self::start_with(db, &[]).await
    }

    /// Starts a server; `env` overrides the test defaults.
    pub async fn start_with(db: Db, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let database_url = match db {
            Db::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("beacon.db").display()
            ),
            Db::Postgres => services::postgres().fresh_database().await,
        };
        let smtp_port = services::smtp().port.to_string();
        let mut vars: HashMap<String, String> = [
            ("BEACON_DATA_DIR", dir.path().display().to_string()),
            ("BEACON_LISTEN", addr.to_string()),
            ("APP_BASE_URL", format!("http://{addr}")),
            ("DATABASE_URL", database_url),
            ("DATABASE_MAX_CONNECTIONS", "8".into()),
            (
                "JWT_SIGNING_KEY",
                "test-signing-key-test-signing-key-0123456789".into(),
            ),
            ("EMAIL_HOST", "127.0.0.1".into()),
            ("EMAIL_PORT", smtp_port),
            ("AUTH_RATE_LIMIT_PER_IP_PER_MINUTE", "100000".into()),
            ("AUTH_RATE_LIMIT_PER_EMAIL_PER_MINUTE", "100000".into()),
            ("INGEST_RATE_LIMIT_PER_MINUTE", "0".into()),
            ("DELIVERY_BACKOFF_BASE_SECONDS", "1".into()),
            ("WORKER_POLL_INTERVAL_MS", "100".into()),
            ("BARK_REQUEST_TIMEOUT_SECONDS", "2".into()),
            ("WORKER_LEASE_SECONDS", "10".into()),
            // Plugins compiled once for the whole run instead of once per test.
            (
                "BEACON_PLUGIN_CACHE_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-plugin-cache").to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (key, value) in env {
            vars.insert(key.to_string(), value.to_string());
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
        let state = AppState::build(config, true).await.expect("server state");
        let server_state = state.clone();
        tokio::spawn(async move {
            let _ = beacon_host::serve(server_state, listener, std::future::pending()).await;
        });
        // Like `beacon serve`: the delivery worker runs beside the API, unless
        // the test runs its workers as separate processes (`beacon web`).
        if !env.iter().any(|(k, _)| *k == WEB_ONLY) {
            tokio::spawn(state.worker().run(std::future::pending()));
        }
        TestServer {
            base: format!("http://{addr}"),
            state,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    pub fn database_url(&self) -> &str {
        &self.state.config.database_url
    }

    /// Rows of `table` whose `user_id` is the given one, read straight from
    /// the server's database (for checks the API cannot show, like deletion).
    pub async fn rows_of_user(&self, table: &str, user_id: &str) -> i64 {
        let pool = self.database().await;
        let count: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1"))
                .bind(user_id)
                .fetch_one(&pool)
                .await
                .expect("count rows");
        pool.close().await;
        count
    }

    /// Runs one statement with `$1` bound to `user_id` on the server's
    /// database (to plant rows the API cannot create, like expired tokens).
    pub async fn execute_for_user(&self, statement: &str, user_id: &str) {
        let pool = self.database().await;
        sqlx::query(statement)
            .bind(user_id)
            .execute(&pool)
            .await
            .expect("statement");
        pool.close().await;
    }

    async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(self.database_url())
            .await
            .expect("database")
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.state.config.data_dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn send(&self, builder: RequestBuilder) -> Reply {
        let response = builder.send().await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(Method::GET, path, token)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(self.request(Method::POST, path, token).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(Method::DELETE, path, token)).await
    }

    /// POST with the refresh cookie (and nothing else).
    pub async fn post_with_cookie(&self, path: &str, refresh: &str) -> Reply {
        let cookie = format!("{}={refresh}", "beacon_refresh");
        self.send(
            self.request(Method::POST, path, None)
                .header("cookie", cookie),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// A verified user (created as an operator would), logged in over HTTP.
    pub async fn user(&self) -> TestUser {
        let email = unique_email("user");
        self.state
            .app
            .accounts
            .create_user(&email, PASSWORD, true)
            .await
            .expect("create user");
        self.logged_in(&email).await
    }

    /// A user who signed up over HTTP and has not verified yet.
    pub async fn unverified_user(&self) -> TestUser {
        let email = unique_email("new");
        self.post(
            "/api/auth/signup",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await
        .assert_status(201);
        self.logged_in(&email).await
    }

    pub async fn logged_in(&self, email: &str) -> TestUser {
        let reply = self.login(email, PASSWORD).await;
        reply.assert_status(200);
        TestUser {
            email: email.to_string(),
            token: reply.json["access_token"]
                .as_str()
                .expect("token")
                .to_string(),
            refresh: reply.cookie("beacon_refresh").expect("refresh cookie"),
        }
    }

    pub async fn endpoint(&self, user: &TestUser, name: &str) -> TestEndpoint {
        let reply = self
            .post(
                "/api/ingest-endpoints",
                Some(&user.token),
                json!({"name": name}),
            )
            .await;
        reply.assert_status(201);
        TestEndpoint {
            id: reply.json["endpoint"]["id"]
                .as_str()
                .expect("id")
                .to_string(),
            key: reply.json["ingest_key"].as_str().expect("key").to_string(),
            url: reply.json["ingest_url"].as_str().expect("url").to_string(),
        }
    }

    pub async fn ingest(&self, endpoint: &TestEndpoint, body: Value) -> Reply {
        self.send(
            self.request(Method::POST, &format!("/api/ingest/{}", endpoint.id), None)
                .header("x-beacon-ingest-key", &endpoint.key)
                .json(&body),
        )
        .await
    }

    /// Ingests and returns the message id, asserting 201.
    pub async fn ingest_ok(&self, endpoint: &TestEndpoint, body: Value) -> String {
        let reply = self.ingest(endpoint, body).await;
        reply.assert_status(201);
        reply.json["message_id"]
            .as_str()
            .expect("message_id")
            .to_string()
    }

    /// All message ids the user can list (walking every page), newest first.
    pub async fn message_ids(&self, user: &TestUser, query: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/messages?limit=200{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let reply = self.get(&path, Some(&user.token)).await;
            reply.assert_status(200);
            ids.extend(
                reply.json["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|m| m["id"].as_str().expect("id").to_string()),
            );
            match reply.json["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return ids,
            }
        }
    }
}
