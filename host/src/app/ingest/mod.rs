//! Ingest (SPEC §5): authenticate the endpoint key, enforce the per-endpoint
//! rate limit, validate the body, and store the message durably before the
//! 201. The HTTP details (size limit while streaming, headers) live in
//! `api::ingest`; this module is the use case.

pub mod payload;
pub mod redact;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::auth::secrets::{constant_time_eq, sha256_hex};
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::events::{EventKind, Events};
use crate::ratelimit::KeyedLimiter;
use crate::rules::Rules;
use crate::storage::{
    new_id, new_id_with_time, Backend, EndpointAuth, NewDelivery, NewMessage, Store,
};

pub use payload::{BodyKind, Payload};
use writer::Writer;

/// How long an endpoint's credentials are served from memory. Revocation in
/// this process takes effect at once; other processes see it within this time.
const ENDPOINT_CACHE_TTL: Duration = Duration::from_secs(5);

/// Request facts stored with the message.
pub struct RequestMeta {
    pub content_type: String,
    pub remote_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Header name → value, sensitive values already redacted.
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub size_bytes: usize,
}

#[derive(Clone)]
pub struct Ingest {
    store: Store,
    writer: Writer,
    limiter: KeyedLimiter,
    cache: Arc<RwLock<HashMap<String, (EndpointAuth, Instant)>>>,
    require_verified: bool,
    pub max_bytes: usize,
    rules: Rules,
    /// Wakes the in-process delivery worker when deliveries were queued.
    work_queued: Arc<tokio::sync::Notify>,
    events: Events,
}

impl Ingest {
    pub fn new(
        config: &Config,
        store: Store,
        rules: Rules,
        work_queued: Arc<tokio::sync::Notify>,
        events: Events,
    ) -> Self {
        let writers = config.ingest_writers.unwrap_or(match store.backend() {
            Backend::Sqlite => 1,
            // Measured on 2 cores: more writers cost more CPU per message.
            Backend::Postgres => 2,
        });
        let limiter = KeyedLimiter::per_minute(config.rate_limits.ingest_per_minute);
        limiter.spawn_cleanup();
        Ingest {
            writer: Writer::start(store.clone(), writers),
            store,
            limiter,
            cache: Arc::default(),
            require_verified: config.require_verified_email_for_ingest,
            max_bytes: config.max_ingest_bytes,
            rules,
            work_queued,
            events,
        }
    }

    /// Checks the endpoint and its key (401), the owner (403) and the rate limit (429).
    pub async fn authorize(&self, endpoint_id: &str, key: Option<&str>) -> AppResult<EndpointAuth> {
        let unauthorized = || AppError::Unauthorized {
            code: "invalid_ingest_credentials",
            message: "unknown or revoked endpoint, or wrong ingest key".into(),
        };
        let endpoint_id = canonical_id(endpoint_id).ok_or_else(unauthorized)?;
        let endpoint = self
            .endpoint(&endpoint_id)
            .await?
            .ok_or_else(unauthorized)?;
        let key_matches =
            key.is_some_and(|key| constant_time_eq(&sha256_hex(key.trim()), &endpoint.key_hash));
        if !key_matches || endpoint.revoked_at.is_some() {
            return Err(unauthorized());
        }
        if endpoint.user_disabled_at.is_some() {
            return Err(AppError::Forbidden {
                code: "account_disabled",
                message: "the owner of this endpoint is disabled".into(),
                field: None,
            });
        }
        if self.require_verified && endpoint.user_verified_at.is_none() {
            return Err(AppError::Forbidden {
                code: "email_not_verified",
                message: "the owner of this endpoint has not verified their e-mail address".into(),
                field: None,
            });
        }
        self.limiter.check(&endpoint.endpoint_id)?;
        Ok(endpoint)
    }

    /// Validates and stores one message; returns its id once committed.
    pub async fn accept(
        &self,
        endpoint: &EndpointAuth,
        kind: BodyKind,
        body: &[u8],
        meta: RequestMeta,
    ) -> AppResult<String> {
        let payload = payload::parse(kind, body)?;
        let (id, received_at) = new_id_with_time();
        let (deliveries, filter_errors) = self
            .match_rules(endpoint, &payload, &id, received_at)
            .await?;
        let message = NewMessage {
            id,
            user_id: endpoint.user_id.clone(),
            endpoint_id: endpoint.endpoint_id.clone(),
            received_at,
            title: payload.title,
            body: payload.body,
            group: payload.group,
            priority: payload.priority,
            tags: payload.tags,
            url: payload.url,
            extras_json: to_json(&payload.extras)?,
            content_type: meta.content_type,
            remote_ip: meta.remote_ip,
            user_agent: meta.user_agent,
            headers_json: to_json(&meta.headers)?,
            query_json: to_json(&meta.query)?,
            size_bytes: meta.size_bytes as i64,
            filter_errors,
            deliveries,
        };
        let id = message.id.clone();
        let queued = !message.deliveries.is_empty();
        let live = self.events.wanted().then(|| EventKind::Message {
            id: id.clone(),
            endpoint_id: endpoint.endpoint_id.clone(),
            received_at: crate::timefmt::rfc3339(received_at),
        });
        self.writer
            .write(message)
            .await
            .map_err(AppError::internal)?;
        if queued {
            self.work_queued.notify_one();
        }
        if let Some(live) = live {
            self.events.publish(&endpoint.user_id, live);
        }
        tracing::info!(endpoint_id = %endpoint.endpoint_id, message_id = %id, size = meta.size_bytes, "message ingested");
        Ok(id)
    }

    /// Runs the owner's rules: one queued delivery per match, and the errors of
    /// filters that failed (stored with the message; the ingest still succeeds).
    async fn match_rules(
        &self,
        endpoint: &EndpointAuth,
        payload: &Payload,
        id: &str,
        received_at: i64,
    ) -> AppResult<(Vec<NewDelivery>, Option<String>)> {
        let rules = self.rules.active(&endpoint.user_id).await?;
        if rules.is_empty() {
            return Ok((Vec::new(), None));
        }
        let message = crate::plugins::wit_message(
            payload,
            id,
            &crate::timefmt::rfc3339(received_at),
            &endpoint.endpoint_id,
            &endpoint.endpoint_name,
        );
        let verdicts = self.rules.evaluate(rules.clone(), message).await?;
        let mut deliveries = Vec::new();
        let mut errors = Vec::new();
        for (rule, verdict) in rules.iter().zip(verdicts) {
            if verdict.matched {
                deliveries.push(NewDelivery {
                    id: new_id(),
                    rule_id: rule.row.id.clone(),
                    channel_id: rule.row.channel_id.clone(),
                });
            }
            if verdict.error.is_some() {
                tracing::warn!(rule_id = %verdict.rule_id, error = ?verdict.error, "filter failed; rule treated as not matched");
                errors.push(verdict);
            }
        }
        let errors = (!errors.is_empty()).then(|| to_json(&errors)).transpose()?;
        Ok((deliveries, errors))
    }

    async fn endpoint(&self, id: &str) -> AppResult<Option<EndpointAuth>> {
        if let Ok(cache) = self.cache.read() {
            if let Some((endpoint, at)) = cache.get(id) {
                if at.elapsed() < ENDPOINT_CACHE_TTL {
                    return Ok(Some(endpoint.clone()));
                }
            }
        }
        let found = self.store.endpoint_auth(id).await?;
        if let (Some(endpoint), Ok(mut cache)) = (&found, self.cache.write()) {
            if cache.len() > 100_000 {
                cache.retain(|_, (_, at)| at.elapsed() < ENDPOINT_CACHE_TTL);
            }
            cache.insert(id.to_string(), (endpoint.clone(), Instant::now()));
        }
        Ok(found)
    }

    /// Drops cached credentials of one endpoint (after revoke or archive).
    pub fn forget_endpoint(&self, endpoint_id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(endpoint_id);
        }
    }

    /// Drops cached credentials of every endpoint of a user (account changes).
    pub fn forget_user(&self, user_id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.retain(|_, (endpoint, _)| endpoint.user_id != user_id);
        }
    }
}

/// The canonical 32-hex form of an endpoint id given with or without dashes.
pub fn canonical_id(raw: &str) -> Option<String> {
    if raw.len() != 32 && raw.len() != 36 {
        return None;
    }
    uuid::Uuid::try_parse(raw)
        .ok()
        .map(|id| id.simple().to_string())
}

fn to_json<T: serde::Serialize>(value: &T) -> AppResult<String> {
    serde_json::to_string(value).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::canonical_id;

    #[test]
    fn endpoint_ids_with_and_without_dashes() {
        let simple = "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5";
        assert_eq!(canonical_id(simple).as_deref(), Some(simple));
        assert_eq!(
            canonical_id("0192F0C1-A2B3-7C4D-8E9F-A0B1C2D3E4F5").as_deref(),
            Some(simple)
        );
        assert_eq!(canonical_id("not-an-id"), None);
        assert_eq!(canonical_id("{0192f0c1-a2b3-7c4d-8e9f-a0b1c2d3e4f5}"), None);
    }
}
