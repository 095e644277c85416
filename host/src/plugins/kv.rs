//! The host side of the `kv` capability: what a bucket is (a scope the host
//! chose, never the plugin), the limits every call is checked against, and
//! the seam to whatever persists the values ([`KvBackend`]: the database in
//! the server, memory in the local harness and in rule tests).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Most live keys one bucket may hold.
pub const MAX_KEYS_PER_BUCKET: i64 = 10_000;

/// The resource behind a `bucket` handle: whose state, and which scope.
#[derive(Clone, Debug)]
pub struct KvBucket {
    pub user_id: Arc<str>,
    /// The rule or channel the bucket belongs to: `rule:<id>` or `channel:<id>`.
    pub owner: Arc<str>,
    /// `rule:<rule id>:<plugin id>` or `channel:<channel id>`.
    pub scope: Arc<str>,
}

impl KvBucket {
    /// The bucket of one filter plugin on one rule.
    pub fn for_rule(user_id: &str, rule_id: &str, plugin_id: &str) -> Self {
        let owner = rule_owner(rule_id);
        KvBucket {
            user_id: Arc::from(user_id),
            scope: Arc::from(format!("{owner}:{plugin_id}").as_str()),
            owner: Arc::from(owner.as_str()),
        }
    }

    /// The bucket of one channel.
    pub fn for_channel(user_id: &str, channel_id: &str) -> Self {
        let owner: Arc<str> = Arc::from(channel_owner(channel_id).as_str());
        KvBucket {
            user_id: Arc::from(user_id),
            scope: owner.clone(),
            owner,
        }
    }
}

/// The owner of a rule's buckets (one per filter plugin on it).
pub fn rule_owner(rule_id: &str) -> String {
    format!("rule:{rule_id}")
}

/// The owner (and the one bucket) of a channel.
pub fn channel_owner(channel_id: &str) -> String {
    format!("channel:{channel_id}")
}

/// Why a `kv` call failed (mapped to each world's `kv-error`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("{0}")]
    Unavailable(String),
}

pub type KvFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KvError>> + Send + 'a>>;

/// One write: the bucket, the key, and the expiry asked for.
#[derive(Clone, Copy, Debug)]
pub struct KvWriteRequest<'a> {
    pub bucket: &'a KvBucket,
    pub key: &'a str,
    pub ttl_seconds: Option<u32>,
}

/// Where bucket contents live. Every method is atomic on its own; `add` and
/// `increment` must be atomic across processes sharing the backend.
pub trait KvBackend: Send + Sync {
    fn get<'a>(&'a self, bucket: &'a KvBucket, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>>;
    fn set<'a>(&'a self, write: KvWriteRequest<'a>, value: &'a [u8]) -> KvFuture<'a, ()>;
    fn add<'a>(&'a self, write: KvWriteRequest<'a>, value: &'a [u8]) -> KvFuture<'a, bool>;
    fn increment<'a>(&'a self, write: KvWriteRequest<'a>, delta: i64) -> KvFuture<'a, i64>;
    fn delete<'a>(&'a self, bucket: &'a KvBucket, key: &'a str) -> KvFuture<'a, bool>;
}

/// The size limits of one call, checked before any backend sees it.
pub fn check_key(key: &str) -> Result<(), KvError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(KvError::Invalid(format!(
            "a key must be 1 to {MAX_KEY_BYTES} bytes (this one has {})",
            key.len()
        )));
    }
    Ok(())
}

pub fn check_value(value: &[u8]) -> Result<(), KvError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(KvError::Invalid(format!(
            "a value may have at most {MAX_VALUE_BYTES} bytes (this one has {})",
            value.len()
        )));
    }
    Ok(())
}

/// Buckets in memory, forgotten with the process: the local harness, and
/// rule tests (which must not change the state real messages see).
#[derive(Default)]
pub struct MemoryKv {
    entries: Mutex<HashMap<(Arc<str>, String), MemoryEntry>>,
}

#[derive(Clone)]
struct MemoryEntry {
    value: Option<Vec<u8>>,
    counter: i64,
    expires_at: Option<std::time::Instant>,
}

impl MemoryEntry {
    fn is_live(&self) -> bool {
        self.expires_at
            .is_none_or(|at| at > std::time::Instant::now())
    }
}

fn expiry(ttl_seconds: Option<u32>) -> Option<std::time::Instant> {
    ttl_seconds.map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s.into()))
}

impl MemoryKv {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut HashMap<(Arc<str>, String), MemoryEntry>) -> T,
    ) -> Result<T, KvError> {
        self.entries
            .lock()
            .map(|mut entries| f(&mut entries))
            .map_err(|_| KvError::Unavailable("the in-memory store is poisoned".into()))
    }

    fn live(entry: Option<&MemoryEntry>) -> Option<&MemoryEntry> {
        entry.filter(|e| e.is_live())
    }
}

impl KvBackend for MemoryKv {
    fn get<'a>(&'a self, bucket: &'a KvBucket, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>> {
        let found = self.with(|entries| {
            Self::live(entries.get(&(bucket.scope.clone(), key.to_string()))).map(|e| {
                e.value
                    .clone()
                    .unwrap_or_else(|| e.counter.to_string().into_bytes())
            })
        });
        Box::pin(async move { found })
    }

    fn set<'a>(&'a self, write: KvWriteRequest<'a>, value: &'a [u8]) -> KvFuture<'a, ()> {
        let done = self.with(|entries| {
            entries.insert(
                (write.bucket.scope.clone(), write.key.to_string()),
                MemoryEntry {
                    value: Some(value.to_vec()),
                    counter: 0,
                    expires_at: expiry(write.ttl_seconds),
                },
            );
        });
        Box::pin(async move { done })
    }

    fn add<'a>(&'a self, write: KvWriteRequest<'a>, value: &'a [u8]) -> KvFuture<'a, bool> {
        let done = self.with(|entries| {
            let key = (write.bucket.scope.clone(), write.key.to_string());
            if Self::live(entries.get(&key)).is_some() {
                return false;
            }
            entries.insert(
                key,
                MemoryEntry {
                    value: Some(value.to_vec()),
                    counter: 0,
                    expires_at: expiry(write.ttl_seconds),
                },
            );
            true
        });
        Box::pin(async move { done })
    }

    fn increment<'a>(&'a self, write: KvWriteRequest<'a>, delta: i64) -> KvFuture<'a, i64> {
        let done = self.with(|entries| {
            let key = (write.bucket.scope.clone(), write.key.to_string());
            let entry = match entries.get(&key).filter(|e| e.is_live()) {
                Some(live) => MemoryEntry {
                    value: None,
                    counter: live.counter.saturating_add(delta),
                    expires_at: live.expires_at,
                },
                None => MemoryEntry {
                    value: None,
                    counter: delta,
                    expires_at: expiry(write.ttl_seconds),
                },
            };
            let counter = entry.counter;
            entries.insert(key, entry);
            counter
        });
        Box::pin(async move { done })
    }

    fn delete<'a>(&'a self, bucket: &'a KvBucket, key: &'a str) -> KvFuture<'a, bool> {
        let done = self.with(|entries| {
            entries
                .remove(&(bucket.scope.clone(), key.to_string()))
                .is_some()
        });
        Box::pin(async move { done })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<T>(f: KvFuture<'_, T>) -> Result<T, KvError> {
        futures_executor::block_on(f)
    }

    #[test]
    fn memory_buckets_behave_like_the_database() {
        let kv = MemoryKv::default();
        let a = KvBucket::for_rule("u", "r1", "dedupe");
        let b = KvBucket::for_rule("u", "r2", "dedupe");
        let write = |bucket, key| KvWriteRequest {
            bucket,
            key,
            ttl_seconds: Some(60),
        };
        assert_eq!(block(kv.add(write(&a, "k"), b"1")), Ok(true));
        assert_eq!(block(kv.add(write(&a, "k"), b"2")), Ok(false));
        assert_eq!(
            block(kv.add(write(&b, "k"), b"3")),
            Ok(true),
            "another rule's bucket"
        );
        assert_eq!(block(kv.get(&a, "k")), Ok(Some(b"1".to_vec())));
        assert_eq!(block(kv.increment(write(&a, "n"), 2)), Ok(2));
        assert_eq!(block(kv.increment(write(&a, "n"), 3)), Ok(5));
        assert_eq!(block(kv.get(&a, "n")), Ok(Some(b"5".to_vec())));
        assert_eq!(block(kv.delete(&a, "n")), Ok(true));
        assert_eq!(block(kv.get(&a, "n")), Ok(None));
        let gone = KvWriteRequest {
            bucket: &a,
            key: "old",
            ttl_seconds: Some(0),
        };
        block(kv.set(gone, b"x")).expect("set");
        assert_eq!(
            block(kv.get(&a, "old")),
            Ok(None),
            "a zero TTL is expired at once"
        );
    }

    #[test]
    fn limits() {
        assert!(check_key("").is_err());
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES + 1)).is_err());
        assert!(check_value(&vec![0; MAX_VALUE_BYTES]).is_ok());
        assert!(check_value(&vec![0; MAX_VALUE_BYTES + 1]).is_err());
    }

    #[test]
    fn scopes_keep_rules_and_channels_apart() {
        let rule = KvBucket::for_rule("u", "r1", "dedupe");
        assert_eq!((&*rule.scope, &*rule.owner), ("rule:r1:dedupe", "rule:r1"));
        let channel = KvBucket::for_channel("u", "c1");
        assert_eq!(
            (&*channel.scope, &*channel.owner),
            ("channel:c1", "channel:c1")
        );
    }
}
