//! Plugin key-value state: reads, writes, expiry, the atomic add and
//! increment under concurrent callers, the quota count, and cleanup.

use beacon_host::domain::now_ms;
use beacon_host::storage::{KvWrite, Store};

use super::open;
use crate::on_both_databases;

fn write<'a>(user: &'a str, scope: &'a str, key: &'a str, ttl_ms: Option<i64>) -> KvWrite<'a> {
    let now = now_ms();
    KvWrite {
        user_id: user,
        owner: owner_of(scope),
        scope,
        key,
        expires_at: ttl_ms.map(|ttl| now + ttl),
        now_ms: now,
    }
}

/// `rule:<id>` of `rule:<id>:<plugin>`, `channel:<id>` of itself.
fn owner_of(scope: &str) -> &str {
    match scope.match_indices(':').nth(1) {
        Some((at, _)) => &scope[..at],
        None => scope,
    }
}

async fn get(store: &Store, scope: &str, key: &str) -> Option<String> {
    store
        .kv_get(scope, key, now_ms())
        .await
        .expect("get")
        .map(|v| String::from_utf8(v).expect("utf-8"))
}

on_both_databases! {
    async fn values_are_set_read_replaced_and_deleted_per_scope(db: Db) {
        let fx = open(db).await;
        let user = fx.user().await;
        fx.store.kv_set(&write(&user, "rule:a", "k", None), b"one").await.expect("set");
        fx.store.kv_set(&write(&user, "rule:b", "k", None), b"other scope").await.expect("set");
        assert_eq!(get(&fx.store, "rule:a", "k").await.as_deref(), Some("one"));
        fx.store.kv_set(&write(&user, "rule:a", "k", None), b"two").await.expect("replace");
        assert_eq!(get(&fx.store, "rule:a", "k").await.as_deref(), Some("two"));
        assert_eq!(get(&fx.store, "rule:b", "k").await.as_deref(), Some("other scope"));
        assert!(fx.store.kv_delete("rule:a", "k").await.expect("delete"));
        assert!(!fx.store.kv_delete("rule:a", "k").await.expect("delete again"));
        assert_eq!(get(&fx.store, "rule:a", "k").await, None);
        // Binary values come back byte for byte.
        let bytes = [0u8, 255, 10, 13, 0];
        fx.store.kv_set(&write(&user, "rule:a", "bin", None), &bytes).await.expect("set");
        assert_eq!(fx.store.kv_get("rule:a", "bin", now_ms()).await.expect("get"), Some(bytes.to_vec()));
    }

    async fn expired_keys_read_as_absent_and_are_purged(db: Db) {
        let fx = open(db).await;
        let user = fx.user().await;
        fx.store.kv_set(&write(&user, "rule:a", "old", Some(-1)), b"x").await.expect("set");
        fx.store.kv_set(&write(&user, "rule:a", "new", Some(60_000)), b"y").await.expect("set");
        assert_eq!(get(&fx.store, "rule:a", "old").await, None);
        assert_eq!(get(&fx.store, "rule:a", "new").await.as_deref(), Some("y"));
        assert_eq!(fx.store.kv_live_keys("rule:a", now_ms(), 100).await.expect("count"), 1);
        assert_eq!(fx.store.kv_purge_expired(now_ms()).await.expect("purge"), 1);
        assert_eq!(fx.store.kv_purge_expired(now_ms()).await.expect("purge again"), 0);
        assert_eq!(get(&fx.store, "rule:a", "new").await.as_deref(), Some("y"));
    }

    async fn add_sets_only_an_absent_or_expired_key_and_one_concurrent_caller_wins(db: Db) {
        let fx = open(db).await;
        let user = fx.user().await;
        assert!(fx.store.kv_add(&write(&user, "rule:d", "fp", Some(60_000)), b"first").await.expect("add"));
        assert!(!fx.store.kv_add(&write(&user, "rule:d", "fp", Some(60_000)), b"second").await.expect("add"));
        assert_eq!(get(&fx.store, "rule:d", "fp").await.as_deref(), Some("first"));
        fx.store.kv_set(&write(&user, "rule:d", "gone", Some(-1)), b"expired").await.expect("set");
        assert!(fx.store.kv_add(&write(&user, "rule:d", "gone", Some(60_000)), b"again").await.expect("add"));
        assert_eq!(get(&fx.store, "rule:d", "gone").await.as_deref(), Some("again"));

        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (store, user) = (fx.store.clone(), user.clone());
                tokio::spawn(async move {
                    store.kv_add(&write(&user, "rule:d", "race", Some(60_000)), format!("{i}").as_bytes()).await
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.expect("join").expect("add"));
        }
        assert_eq!(winners, 1, "exactly one concurrent add may set the key");
    }

    async fn increments_are_atomic_and_restart_after_their_window(db: Db) {
        let fx = open(db).await;
        let user = fx.user().await;
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (store, user) = (fx.store.clone(), user.clone());
                tokio::spawn(async move { store.kv_increment(&write(&user, "rule:r", "n", Some(60_000)), 1).await })
            })
            .collect();
        let mut seen = Vec::new();
        for task in tasks {
            seen.push(task.await.expect("join").expect("increment"));
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=16).collect::<Vec<i64>>(), "every caller sees its own count");
        assert_eq!(get(&fx.store, "rule:r", "n").await.as_deref(), Some("16"));

        // A window that has ended starts again from the delta.
        fx.store.kv_increment(&write(&user, "rule:r", "w", Some(-1)), 5).await.expect("increment");
        assert_eq!(fx.store.kv_increment(&write(&user, "rule:r", "w", Some(60_000)), 1).await.expect("increment"), 1);
        // Setting a counter key replaces it with bytes; incrementing bytes starts a counter.
        fx.store.kv_set(&write(&user, "rule:r", "n", None), b"text").await.expect("set");
        assert_eq!(get(&fx.store, "rule:r", "n").await.as_deref(), Some("text"));
        assert_eq!(fx.store.kv_increment(&write(&user, "rule:r", "n", None), 2).await.expect("increment"), 2);
    }

    async fn scopes_are_counted_capped_and_dropped_and_go_with_their_user(db: Db) {
        let fx = open(db).await;
        let user = fx.user().await;
        for i in 0..5 {
            fx.store.kv_set(&write(&user, "channel:c", &format!("k{i}"), None), b"v").await.expect("set");
        }
        fx.store.kv_set(&write(&user, "channel:other", "k", None), b"v").await.expect("set");
        fx.store.kv_set(&write(&user, "rule:r:dedupe", "k", None), b"v").await.expect("set");
        fx.store.kv_set(&write(&user, "rule:r:rate-limit", "k", None), b"v").await.expect("set");
        assert_eq!(fx.store.kv_live_keys("channel:c", now_ms(), 100).await.expect("count"), 5);
        assert_eq!(fx.store.kv_live_keys("channel:c", now_ms(), 3).await.expect("capped count"), 3);
        assert_eq!(fx.store.kv_drop_owner("channel:c").await.expect("drop"), 5);
        assert_eq!(fx.store.kv_live_keys("channel:c", now_ms(), 100).await.expect("count"), 0);
        assert_eq!(fx.store.kv_drop_owner("rule:r").await.expect("drop a rule's buckets"), 2);
        assert_eq!(get(&fx.store, "channel:other", "k").await.as_deref(), Some("v"));
        assert!(fx.store.delete_user(&user).await.expect("delete user"));
        assert_eq!(get(&fx.store, "channel:other", "k").await, None, "state goes with its owner");
    }
}
