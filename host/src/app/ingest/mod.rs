//! Ingest (SPEC §5): authenticate the endpoint key, enforce the per-endpoint
//! rate limit, validate the body, and store the message durably before the
//! 201. The HTTP details (size limit while streaming, headers) live in
//! `api::ingest`; this module is the use case.

mod writer;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::app::accounts::secrets::{constant_time_eq, sha256_hex};
use crate::app::adapters::Adapters;
use crate::app::rules::Rules;
use crate::config::Config;
use crate::domain::payload::{self, BodyKind, Payload, Schedule};
use crate::domain::{canonical_id, new_id, new_id_with_time, rfc3339, Message, RequestFacts};
use crate::error::{AppError, AppResult, OrInternal};
use crate::events::{EventKind, Events};
use crate::plugins::runtime::InboundRequest;
use crate::ratelimit::KeyedLimiter;
pub use crate::storage::EndpointAuth;
use crate::storage::{KeyClaim, NewDelivery, NewMessage, Store};

use writer::Writer;

/// How long an idempotency key stands for its first message.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// One message as a request submitted it.
pub struct Submission<'a> {
    pub payload: Payload,
    /// When its deliveries may leave (`None`: at once).
    pub schedule: Option<Schedule>,
    pub request: RequestFacts,
    pub idempotency_key: Option<&'a str>,
}

/// What an ingest request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// A new message, stored under this id.
    New(String),
    /// The idempotency key's first message, stored earlier under this id.
    Replayed(String),
}

impl Accepted {
    pub fn message_id(&self) -> &str {
        match self {
            Accepted::New(id) | Accepted::Replayed(id) => id,
        }
    }

    pub fn replayed(&self) -> bool {
        matches!(self, Accepted::Replayed(_))
    }
}

/// 1-255 visible ASCII characters (what senders put there: UUIDs, hashes).
fn valid_idempotency_key(key: &str) -> AppResult<&str> {
    let key = key.trim();
    let visible = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_CHARS || !visible {
        return Err(AppError::validation(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"),
        ));
    }
    Ok(key)
}

/// The idempotency key of the `index`-th message of one adapted request.
fn derived_key(key: &str, index: usize) -> String {
    if index == 0 {
        return key.to_string();
    }
    let derived = format!("{key}#{index}");
    if derived.len() <= MAX_IDEMPOTENCY_KEY_CHARS {
        derived
    } else {
        format!("{}#{index}", &sha256_hex(key)[..32])
    }
}

/// How long an endpoint's credentials are served from memory. Revocation in
/// this process takes effect at once; other processes see it within this time.
const ENDPOINT_CACHE_TTL: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Ingest {
    store: Store,
    writer: Writer,
    limiter: KeyedLimiter,
    cache: Arc<RwLock<HashMap<String, (EndpointAuth, Instant)>>>,
    require_verified: bool,
    pub max_bytes: usize,
    max_delivery_delay: Duration,
    rules: Rules,
    /// Wakes the in-process delivery worker when deliveries were queued.
    work_queued: Arc<tokio::sync::Notify>,
    events: Events,
    adapters: Adapters,
}

impl Ingest {
    pub fn new(
        config: &Config,
        store: Store,
        rules: Rules,
        work_queued: Arc<tokio::sync::Notify>,
        events: Events,
        adapters: Adapters,
    ) -> Self {
        let writers = config
            .ingest_writers
            .unwrap_or_else(|| store.default_writer_count());
        let limiter = KeyedLimiter::per_minute(config.rate_limits.ingest_per_minute);
        limiter.spawn_cleanup();
        Ingest {
            writer: Writer::start(store.clone(), writers),
            store,
            limiter,
            cache: Arc::default(),
            require_verified: config.require_verified_email_for_ingest,
            max_bytes: config.max_ingest_bytes,
            max_delivery_delay: config.max_delivery_delay,
            rules,
            work_queued,
            events,
            adapters,
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
        self.admit(endpoint)
    }

    /// [`Ingest::authorize`] for protocols that send only the key (Bark's
    /// device key, Gotify's app token): the endpoint is found by the key's
    /// hash. Keys are random 32-byte secrets, so looking one up by its
    /// SHA-256 reveals nothing a constant-time compare would protect.
    pub async fn authorize_key(&self, key: Option<&str>) -> AppResult<EndpointAuth> {
        let unauthorized = || AppError::Unauthorized {
            code: "invalid_ingest_credentials",
            message: "unknown or revoked ingest key".into(),
        };
        let key = key
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(unauthorized)?;
        let endpoint = self
            .store
            .endpoint_auth_by_key_hash(&sha256_hex(key))
            .await?
            .ok_or_else(unauthorized)?;
        if endpoint.revoked_at.is_some() {
            return Err(unauthorized());
        }
        self.admit(endpoint)
    }

    /// The owner checks (403) and the rate limit (429) of an endpoint whose key matched.
    fn admit(&self, endpoint: EndpointAuth) -> AppResult<EndpointAuth> {
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
        request: RequestFacts,
        idempotency_key: Option<&str>,
    ) -> AppResult<Accepted> {
        let (payload, schedule) = payload::parse_submission(kind, body)?;
        self.accept_payload(
            endpoint,
            Submission {
                payload,
                schedule,
                request,
                idempotency_key,
            },
        )
        .await
    }

    /// Runs a request to an endpoint that chose an adapter (see
    /// [`EndpointAuth::adapter_plugin`]) and stores every message it made,
    /// in order; nothing is stored when the adapter refuses, fails or makes
    /// a message that does not validate. An idempotency key covers the whole
    /// request: the first message claims it, later ones `key#1`, `key#2`, …
    pub async fn accept_adapted(
        &self,
        endpoint: &EndpointAuth,
        mut request: InboundRequest,
        facts: RequestFacts,
        idempotency_key: Option<&str>,
    ) -> AppResult<Vec<Accepted>> {
        let (Some(plugin_id), Some(sealed)) = (&endpoint.adapter_plugin, &endpoint.adapter_config)
        else {
            return Err(AppError::internal(
                "accept_adapted on an endpoint without an adapter",
            ));
        };
        let key = idempotency_key.map(valid_idempotency_key).transpose()?;
        let plugin = self
            .adapters
            .running(plugin_id, endpoint.adapter_version.as_deref())
            .ok_or_else(|| AppError::Unprocessable {
                code: "adapter_unavailable",
                message: format!(
                    "this endpoint reads its requests through the {plugin_id} adapter, which is not installed on this server"
                ),
                field: None,
            })?;
        let config = self.adapters.open(&endpoint.endpoint_id, sealed)?;
        request.endpoint_id = endpoint.endpoint_id.clone();
        request.endpoint_name = endpoint.endpoint_name.clone();
        let payloads = self.adapters.run(plugin, &config, request).await?;
        let mut accepted = Vec::with_capacity(payloads.len());
        for (index, payload) in payloads.into_iter().enumerate() {
            let message_key = key.map(|key| derived_key(key, index));
            accepted.push(
                self.accept_payload(
                    endpoint,
                    Submission {
                        payload,
                        schedule: None,
                        request: facts.clone(),
                        idempotency_key: message_key.as_deref(),
                    },
                )
                .await?,
            );
        }
        Ok(accepted)
    }

    /// Stores a message already validated (a compatible protocol's request
    /// translated by [`crate::domain::compat`]); returns its id once
    /// committed. With an idempotency key already used on this endpoint
    /// within [`IDEMPOTENCY_WINDOW`], nothing is stored: the same message
    /// answers the first id, another message is refused (422).
    pub async fn accept_payload(
        &self,
        endpoint: &EndpointAuth,
        submission: Submission<'_>,
    ) -> AppResult<Accepted> {
        let Submission {
            payload,
            schedule,
            request,
            idempotency_key,
        } = submission;
        let (id, received_at) = new_id_with_time();
        let deliver_at = schedule
            .map(|schedule| schedule.resolve(received_at, self.max_delivery_delay))
            .transpose()?;
        let message = Message {
            id,
            endpoint_id: endpoint.endpoint_id.clone(),
            endpoint_name: endpoint.endpoint_name.clone(),
            received_at,
            payload,
            request,
            filter_errors: Vec::new(),
            deliver_at,
        };
        let Some(key) = idempotency_key else {
            return self
                .store_message(endpoint, message)
                .await
                .map(Accepted::New);
        };
        let id = message.id.clone();
        let key = valid_idempotency_key(key)?;
        let fingerprint = sha256_hex(&message.payload.fingerprint());
        let claim = self
            .store
            .claim_idempotency_key(
                &endpoint.endpoint_id,
                key,
                &fingerprint,
                &id,
                received_at,
                received_at - IDEMPOTENCY_WINDOW.as_millis() as i64,
            )
            .await?;
        match claim {
            KeyClaim::Claimed => {}
            KeyClaim::Taken {
                body_sha256,
                message_id,
            } if constant_time_eq(&body_sha256, &fingerprint) => {
                return Ok(Accepted::Replayed(message_id))
            }
            KeyClaim::Taken { .. } => return Err(AppError::Unprocessable {
                code: "idempotency_key_reused",
                message:
                    "this Idempotency-Key was used for another message on this endpoint within 24 h"
                        .into(),
                field: Some("Idempotency-Key".into()),
            }),
        }
        let stored = self.store_message(endpoint, message).await;
        if stored.is_err() {
            // A retry with the key must not be answered with an id that was never stored.
            if let Err(err) = self
                .store
                .release_idempotency_key(&endpoint.endpoint_id, key, &id)
                .await
            {
                tracing::warn!(error = %err, "releasing an idempotency key failed");
            }
        }
        stored.map(Accepted::New)
    }

    async fn store_message(
        &self,
        endpoint: &EndpointAuth,
        mut message: Message,
    ) -> AppResult<String> {
        let received_at = message.received_at;
        let deliveries = self.match_rules(&endpoint.user_id, &mut message).await?;
        let id = message.id.clone();
        let size = message.request.size_bytes;
        let queued = !deliveries.is_empty();
        let live = self.events.wanted().then(|| EventKind::Message {
            id: id.clone(),
            endpoint_id: endpoint.endpoint_id.clone(),
            received_at: rfc3339(received_at),
        });
        self.writer
            .write(NewMessage {
                user_id: endpoint.user_id.clone(),
                message,
                deliveries,
            })
            .await
            .or_internal()?;
        if queued {
            self.work_queued.notify_one();
        }
        if let Some(live) = live {
            self.events.publish(&endpoint.user_id, live);
        }
        tracing::info!(endpoint_id = %endpoint.endpoint_id, message_id = %id, size, "message ingested");
        Ok(id)
    }

    /// Runs the owner's rules: one queued delivery per match; the errors of
    /// filters that failed are kept with the message (the ingest still succeeds).
    async fn match_rules(
        &self,
        user_id: &str,
        message: &mut Message,
    ) -> AppResult<Vec<NewDelivery>> {
        let rules = self.rules.active(user_id).await?;
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let verdicts = self.rules.evaluate(rules.clone(), message).await?;
        let mut deliveries = Vec::new();
        for (rule, verdict) in rules.iter().zip(verdicts) {
            if verdict.matched {
                deliveries.push(NewDelivery {
                    id: new_id(),
                    rule_id: rule.rule.id.clone(),
                    channel_id: rule.rule.channel_id.clone(),
                });
            }
            if verdict.error.is_some() {
                tracing::warn!(rule_id = %verdict.rule_id, error = ?verdict.error, "filter failed; rule treated as not matched");
                message.filter_errors.push(verdict);
            } else if verdict.note.is_some() {
                // Kept beside errors so the user sees why a rule did not fire.
                message.filter_errors.push(verdict);
            }
        }
        Ok(deliveries)
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
