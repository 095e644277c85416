//! Storage conformance: the `Store` called directly, each case on SQLite and
//! on PostgreSQL, so the two backends keep answering alike as tables are
//! added. The HTTP suite covers behaviour; this covers the seam under it
//! (claims and leases, outcomes, unique violations, list filters, ownership).

mod claims;
mod kv;
mod list;
mod outcomes;
mod ownership;
mod plugin_use;
mod unique;

use std::collections::BTreeMap;

use beacon_host::domain::channel::Channel;
use beacon_host::domain::{new_id, now_ms, Message, Payload, RequestFacts, Rule};
use beacon_host::domain::{DeliveryStatus, NextState};
use beacon_host::storage::{AttemptRecord, FinishedAttempt, NewDelivery, NewMessage, Store};
use serde_json::json;

use crate::common::{services, unique_email, Db};

/// A migrated store on a fresh database of the given kind.
pub struct Fixture {
    pub store: Store,
    _dir: tempfile::TempDir,
}

/// A message a fixture stores: its id and its queued deliveries' ids.
pub struct Stored {
    pub id: String,
    pub deliveries: Vec<String>,
}

pub async fn open(db: Db) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = match db {
        Db::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("store.db").display()
        ),
        Db::Postgres => services::postgres().fresh_database().await,
    };
    let store = Store::connect(&url, 8).await.expect("connect");
    store.migrate().await.expect("migrate");
    Fixture { store, _dir: dir }
}

/// A UUIDv7-shaped id carrying `ms`, as ingest makes them (list time
/// filters and batch delete read the time from the id).
pub fn id_at(ms: i64) -> String {
    format!("{ms:012x}7{}", &new_id()[13..])
}

pub fn payload(body: &str) -> Payload {
    Payload {
        body: body.to_string(),
        title: None,
        group: None,
        priority: 3,
        tags: Vec::new(),
        url: None,
        extras: BTreeMap::new(),
    }
}

/// An attempt that ended the given way, as the worker records it.
pub fn finished(delivery_id: &str, attempt_no: i64, next: NextState) -> FinishedAttempt {
    let outcome = next.status();
    FinishedAttempt {
        delivery_id: delivery_id.to_string(),
        attempt: AttemptRecord {
            attempt_no,
            started_at: now_ms(),
            duration_ms: 12,
            outcome,
            http_status: Some(if outcome == DeliveryStatus::Sent {
                200
            } else {
                503
            }),
            error: (outcome != DeliveryStatus::Sent).then(|| "upstream unavailable".to_string()),
            response_snippet: Some("{\"code\":200}".to_string()),
            response_json: None,
        },
        next,
    }
}

impl Fixture {
    pub async fn user(&self) -> String {
        let id = new_id();
        self.store
            .insert_user(&id, &unique_email("store"), "hash", true)
            .await
            .expect("insert user");
        id
    }

    pub async fn endpoint(&self, user_id: &str, name: &str) -> String {
        let id = new_id();
        self.store
            .insert_endpoint(&id, user_id, name, &format!("key-hash-{id}"))
            .await
            .expect("insert endpoint");
        id
    }

    pub async fn channel(&self, user_id: &str) -> String {
        let now = now_ms();
        let channel = Channel {
            id: new_id(),
            user_id: user_id.to_string(),
            name: "phone".into(),
            plugin: "bark".into(),
            plugin_version: None,
            sealed_config: "sealed".into(),
            enabled: true,
            created_at: now,
            updated_at: now,
        };
        self.store
            .insert_channel(&channel)
            .await
            .expect("insert channel");
        channel.id
    }

    pub async fn rule(&self, user_id: &str, channel_id: &str) -> String {
        let now = now_ms();
        let rule = Rule {
            id: new_id(),
            user_id: user_id.to_string(),
            name: "all".into(),
            enabled: true,
            channel_id: channel_id.to_string(),
            filter: json!({}),
            extra_filters: Vec::new(),
            payload_template: json!({"title": "{{title}}"}),
            created_at: now,
            updated_at: now,
        };
        self.store.insert_rule(&rule).await.expect("insert rule");
        rule.id
    }

    /// Stores one message received at `at_ms` with one queued delivery per
    /// `(rule, channel)` pair.
    pub async fn message_at(
        &self,
        user_id: &str,
        endpoint_id: &str,
        payload: Payload,
        at_ms: i64,
        routes: &[(&str, &str)],
    ) -> Stored {
        let message = Message {
            id: id_at(at_ms),
            endpoint_id: endpoint_id.to_string(),
            endpoint_name: String::new(),
            received_at: at_ms,
            payload,
            request: RequestFacts {
                content_type: "application/json".into(),
                headers: BTreeMap::from([("user-agent".into(), "conformance".into())]),
                size_bytes: 42,
                ..RequestFacts::default()
            },
            filter_errors: Vec::new(),
            deliver_at: None,
        };
        let deliveries: Vec<NewDelivery> = routes
            .iter()
            .map(|(rule_id, channel_id)| NewDelivery {
                id: new_id(),
                rule_id: rule_id.to_string(),
                channel_id: channel_id.to_string(),
            })
            .collect();
        let stored = Stored {
            id: message.id.clone(),
            deliveries: deliveries.iter().map(|d| d.id.clone()).collect(),
        };
        let new = NewMessage {
            user_id: user_id.to_string(),
            message,
            deliveries,
        };
        self.store
            .insert_messages(&[new])
            .await
            .expect("insert message");
        stored
    }

    /// A message received now.
    pub async fn message(
        &self,
        user_id: &str,
        endpoint_id: &str,
        body: &str,
        routes: &[(&str, &str)],
    ) -> Stored {
        self.message_at(user_id, endpoint_id, payload(body), now_ms(), routes)
            .await
    }

    /// A user with an endpoint, a channel and a rule: what a delivery needs.
    pub async fn owner(&self) -> Owner {
        let user = self.user().await;
        let endpoint = self.endpoint(&user, "nas").await;
        let channel = self.channel(&user).await;
        let rule = self.rule(&user, &channel).await;
        Owner {
            user,
            endpoint,
            channel,
            rule,
        }
    }

    pub async fn status_of(&self, owner: &Owner, delivery_id: &str) -> DeliveryStatus {
        self.store
            .delivery_for_user(&owner.user, delivery_id)
            .await
            .expect("read delivery")
            .expect("delivery exists")
            .status
    }
}

pub struct Owner {
    pub user: String,
    pub endpoint: String,
    pub channel: String,
    pub rule: String,
}

impl Owner {
    pub fn route(&self) -> (&str, &str) {
        (self.rule.as_str(), self.channel.as_str())
    }
}
