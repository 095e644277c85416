//! One message in one shape: what the sender said ([`Payload`]), how it
//! arrived ([`RequestFacts`]) and where. Ingest builds it from a request,
//! storage from its row (JSON columns parsed once, at that edge); templates
//! and plugins take their views of it from here.

use std::collections::BTreeMap;

use super::payload::Payload;
use super::rule::Verdict;

/// A message as the host works with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: String,
    pub endpoint_id: String,
    pub endpoint_name: String,
    /// Unix ms; equals the time carried by `id`.
    pub received_at: i64,
    pub payload: Payload,
    pub request: RequestFacts,
    /// Filters that failed while the message was matched (the rules did not match).
    pub filter_errors: Vec<Verdict>,
    /// Unix ms before which its deliveries do not leave (scheduled delivery).
    pub deliver_at: Option<i64>,
}

/// The request a message arrived with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestFacts {
    pub content_type: String,
    pub remote_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Header name → value, sensitive values already redacted.
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub size_bytes: i64,
}

#[cfg(test)]
pub(crate) mod sample {
    use super::*;

    /// A message with every field set, for tests of the views.
    pub fn message() -> Message {
        Message {
            id: "m1".into(),
            endpoint_id: "e1".into(),
            endpoint_name: "nas".into(),
            received_at: 1_767_225_600_000,
            payload: Payload {
                body: "95% full".into(),
                title: Some("Disk".into()),
                group: None,
                priority: 5,
                tags: vec!["ops".into(), "disk".into()],
                url: Some("https://x.test".into()),
                extras: BTreeMap::from([("host".into(), "nas1".into())]),
            },
            request: RequestFacts {
                content_type: "application/json".into(),
                remote_ip: Some("203.0.113.9".into()),
                user_agent: Some("curl/8".into()),
                headers: BTreeMap::from([
                    ("x-request-id".into(), "r-7".into()),
                    ("authorization".into(), "[REDACTED]".into()),
                ]),
                query: BTreeMap::from([("source".into(), "cron".into())]),
                size_bytes: 42,
            },
            filter_errors: Vec::new(),
            deliver_at: None,
        }
    }
}
