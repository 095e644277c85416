//! What the server gives plugins beyond `fetch`: their key-value state in
//! the database (the `kv` backend; the harness and rule tests keep theirs in
//! memory; the bucket quota is checked here, the one place that can count a
//! bucket), and mail through the operator's SMTP server (`smtp-send`, rate
//! limited per channel).

use std::sync::Arc;
use std::time::Duration;

use crate::domain::now_ms;
use crate::error::AppError;
use crate::mail::{Mailer, PluginMail, PluginMailError};
use crate::plugins::kv::{
    channel_owner, rule_owner, KvBackend, KvBucket, KvError, KvFuture, KvWriteRequest,
    MAX_KEYS_PER_BUCKET,
};
use crate::plugins::mail::{MailRelay, OutgoingMail, RelayError, RelayFuture};
use crate::ratelimit::KeyedLimiter;
use crate::storage::{KvWrite, Store, StoreError};

/// Buckets in the database, shared by every process of an installation.
#[derive(Clone)]
pub struct DatabaseKv {
    store: Store,
}

impl DatabaseKv {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(DatabaseKv { store })
    }

    /// A write about to create a key must find room in its bucket; one that
    /// replaces a live key always may.
    async fn room_for(&self, write: &KvWriteRequest<'_>, now: i64) -> Result<(), KvError> {
        let scope = &write.bucket.scope;
        let live = self
            .store
            .kv_live_keys(scope, now, MAX_KEYS_PER_BUCKET)
            .await
            .map_err(unavailable)?;
        if live < MAX_KEYS_PER_BUCKET {
            return Ok(());
        }
        let exists = self
            .store
            .kv_get(scope, write.key, now)
            .await
            .map_err(unavailable)?
            .is_some();
        if exists {
            Ok(())
        } else {
            Err(KvError::QuotaExceeded(format!(
                "this bucket already holds {MAX_KEYS_PER_BUCKET} keys"
            )))
        }
    }

    fn row<'a>(write: &KvWriteRequest<'a>, now: i64) -> KvWrite<'a> {
        KvWrite {
            user_id: &write.bucket.user_id,
            owner: &write.bucket.owner,
            scope: &write.bucket.scope,
            key: write.key,
            expires_at: write
                .ttl_seconds
                .map(|s| now + Duration::from_secs(s.into()).as_millis() as i64),
            now_ms: now,
        }
    }
}

fn unavailable(err: StoreError) -> KvError {
    tracing::warn!(error = %err, "plugin key-value call failed");
    KvError::Unavailable("the state store did not answer".into())
}

impl KvBackend for DatabaseKv {
    fn get<'a>(&'a self, bucket: &'a KvBucket, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            self.store
                .kv_get(&bucket.scope, key, now_ms())
                .await
                .map_err(unavailable)
        })
    }

    fn set<'a>(&'a self, write: KvWriteRequest<'a>, value: &'a [u8]) -> KvFuture<'a, ()> {
        Box::pin(async move {
            let now = now_ms();
            self.room_for(&write, now).await?;
            self.store
                .kv_set(&Self::row(&write, now), value)
                .await
                .map_err(unavailable)
        })
    }

    fn add<'a>(&'a self, write: KvWriteRequest<'a>, value: &'a [u8]) -> KvFuture<'a, bool> {
        Box::pin(async move {
            let now = now_ms();
            self.room_for(&write, now).await?;
            self.store
                .kv_add(&Self::row(&write, now), value)
                .await
                .map_err(unavailable)
        })
    }

    fn increment<'a>(&'a self, write: KvWriteRequest<'a>, delta: i64) -> KvFuture<'a, i64> {
        Box::pin(async move {
            let now = now_ms();
            self.room_for(&write, now).await?;
            self.store
                .kv_increment(&Self::row(&write, now), delta)
                .await
                .map_err(unavailable)
        })
    }

    fn delete<'a>(&'a self, bucket: &'a KvBucket, key: &'a str) -> KvFuture<'a, bool> {
        Box::pin(async move {
            self.store
                .kv_delete(&bucket.scope, key)
                .await
                .map_err(unavailable)
        })
    }
}

/// Forgets the state of a deleted rule (every filter's bucket on it).
pub async fn forget_rule(store: &Store, rule_id: &str) -> Result<u64, StoreError> {
    store.kv_drop_owner(&rule_owner(rule_id)).await
}

/// Forgets the state of a deleted channel.
pub async fn forget_channel(store: &Store, channel_id: &str) -> Result<u64, StoreError> {
    store.kv_drop_owner(&channel_owner(channel_id)).await
}

/// Mails one channel may send per minute.
const MAILS_PER_CHANNEL_PER_MINUTE: u32 = 30;

/// Plugin mail through the operator's SMTP server (`EMAIL_*`), from its
/// `EMAIL_FROM` address; never to the outbox.
pub struct SmtpRelay {
    mailer: Mailer,
    per_channel: KeyedLimiter,
}

impl SmtpRelay {
    pub fn new(mailer: Mailer) -> Arc<Self> {
        let per_channel = KeyedLimiter::per_minute(MAILS_PER_CHANNEL_PER_MINUTE);
        if tokio::runtime::Handle::try_current().is_ok() {
            per_channel.spawn_cleanup();
        }
        Arc::new(SmtpRelay {
            mailer,
            per_channel,
        })
    }
}

impl MailRelay for SmtpRelay {
    fn is_configured(&self) -> bool {
        self.mailer.has_smtp()
    }

    fn send<'a>(&'a self, sender: &'a str, mail: OutgoingMail) -> RelayFuture<'a> {
        Box::pin(async move {
            if let Err(AppError::RateLimited {
                retry_after_seconds,
            }) = self.per_channel.check(sender)
            {
                return Err(RelayError::RateLimited(
                    retry_after_seconds.saturating_mul(1000),
                ));
            }
            let sent = self
                .mailer
                .send_for_plugin(PluginMail {
                    to: &mail.to,
                    subject: &mail.subject,
                    text: &mail.text,
                    html: mail.html.as_deref(),
                    reply_to: mail.reply_to.as_deref(),
                })
                .await;
            sent.map_err(|err| match err {
                PluginMailError::NotConfigured => RelayError::NotConfigured,
                PluginMailError::Invalid(why) => RelayError::Invalid(why),
                PluginMailError::Rejected(why) => RelayError::Rejected(why),
                PluginMailError::Unavailable(why) => RelayError::Unavailable(why),
            })
        })
    }
}
