//! `GET /metrics`: the Prometheus text format, behind `METRICS_TOKEN` when
//! set; ingest, delivery, plugin and queue figures move with real traffic.
//! (The figures are per process and the suite runs many servers in one
//! process, so the checks look for lines and lower bounds, not exact totals.)

use std::time::Duration;

use serde_json::json;

use crate::common::bark::BarkReceiver;
use crate::common::{Db, Reply, TestServer};
use crate::delivery::{wait_for_status, Pipeline};
use crate::on_both_databases;

const TOKEN: &str = "scrape-token-for-tests";

async fn scrape(server: &TestServer, token: Option<&str>) -> Reply {
    server.get("/metrics", token).await
}

/// The value of the first sample line that starts with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

on_both_databases! {
    async fn metrics_follow_ingest_delivery_and_the_queue(db: Db) {
        let receiver = BarkReceiver::start(vec![]).await;
        let server = TestServer::start_with(db, &[
            ("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32"),
            ("METRICS_TOKEN", TOKEN),
        ]).await;
        // The token is required, and compared exactly.
        scrape(&server, None).await.assert_error(401, "invalid_metrics_token", None);
        scrape(&server, Some("scrape-token-for-test")).await.assert_error(401, "invalid_metrics_token", None);

        let user = server.user().await;
        let endpoint = server.endpoint(&user, "nas").await;
        let channel = server.post("/api/channels", Some(&user.token), json!({"name": "phone", "plugin": "bark",
            "config": {"server_base_url": receiver.base_url, "device_key": "device-123"}})).await;
        channel.assert_status(201);
        server.post("/api/rules", Some(&user.token), json!({"name": "all", "channel_id": channel.json["id"]}))
            .await.assert_status(201);
        let p = Pipeline { server, user, endpoint };
        let id = p.server.ingest_ok(&p.endpoint, json!({"body": "disk full"})).await;
        wait_for_status(&p, &id, "sent", Duration::from_secs(20)).await;
        // One refused and one scheduled message.
        let refused = p.server.send(p.server
            .request(reqwest::Method::POST, &format!("/api/ingest/{}", p.endpoint.id), None)
            .header("X-Beacon-Ingest-Key", "bsk_wrong")
            .json(&json!({"body": "x"}))).await;
        refused.assert_status(401);
        p.server.ingest_ok(&p.endpoint, json!({"body": "later", "delay": "1h"})).await;

        let scraped = scrape(&p.server, Some(TOKEN)).await;
        scraped.assert_status(200);
        assert_eq!(
            scraped.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        let text = &scraped.text;
        for (prefix, at_least) in [
            ("beacon_ingest_requests_total{protocol=\"native\",result=\"accepted\"}", 2.0),
            ("beacon_ingest_requests_total{protocol=\"native\",result=\"unauthorized\"}", 1.0),
            ("beacon_ingest_body_bytes_count", 2.0),
            ("beacon_ingest_duration_seconds_count", 3.0),
            ("beacon_delivery_attempts_total{plugin=\"bark\",outcome=\"sent\"}", 1.0),
            ("beacon_delivery_attempt_duration_seconds_count{plugin=\"bark\"}", 1.0),
            ("beacon_plugin_call_duration_seconds_count{plugin=\"bark\",call=\"send\"}", 1.0),
            ("beacon_delivery_queue_waiting", 1.0),
            ("beacon_delivery_queue_due", 0.0),
            ("beacon_delivery_oldest_due_age_seconds", 0.0),
            ("beacon_worker_last_round_timestamp_seconds", 1.0),
            ("beacon_build_info{version=\"", 1.0),
        ] {
            let value = sample(text, prefix).unwrap_or_else(|| panic!("no {prefix} in\n{text}"));
            assert!(value >= at_least, "{prefix} = {value}, expected at least {at_least}");
        }
        // Nothing of a request reaches the page: no key, no body.
        assert!(!text.contains(&p.endpoint.key) && !text.contains("disk full"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_open_without_a_token() {
    let server = TestServer::start(Db::Sqlite).await;
    let scraped = scrape(&server, None).await;
    scraped.assert_status(200);
    assert!(
        scraped
            .text
            .contains("# TYPE beacon_delivery_queue_due gauge"),
        "{}",
        scraped.text
    );
}
