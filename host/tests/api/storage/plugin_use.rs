//! What uses each plugin version: grouped counts for the plugins page and
//! the channels and rules behind them, over one user's or everyone's.

use beacon_host::domain::channel::Channel;
use beacon_host::domain::rule::ExtraFilter;
use beacon_host::domain::{new_id, now_ms, Rule};
use serde_json::json;

use super::{open, Fixture};
use crate::on_both_databases;

async fn channel(fx: &Fixture, user: &str, plugin: &str, version: Option<&str>) -> String {
    let now = now_ms();
    let channel = Channel {
        id: new_id(),
        user_id: user.to_string(),
        name: format!("{plugin} {version:?}"),
        plugin: plugin.to_string(),
        plugin_version: version.map(str::to_string),
        sealed_config: "sealed".into(),
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    fx.store
        .insert_channel(&channel)
        .await
        .expect("insert channel");
    channel.id
}

async fn rule(
    fx: &Fixture,
    user: &str,
    channel_id: &str,
    filters: &[(&str, Option<&str>)],
) -> String {
    let now = now_ms();
    let rule = Rule {
        id: new_id(),
        user_id: user.to_string(),
        name: "filtered".into(),
        enabled: true,
        channel_id: channel_id.to_string(),
        filter: json!({}),
        extra_filters: filters
            .iter()
            .map(|(plugin, version)| ExtraFilter {
                plugin: plugin.to_string(),
                version: version.map(str::to_string),
                config: json!({}),
            })
            .collect(),
        payload_template: json!({}),
        created_at: now,
        updated_at: now,
    };
    fx.store.insert_rule(&rule).await.expect("insert rule");
    rule.id
}

fn count(rows: &[(String, Option<String>, i64)], plugin: &str, version: Option<&str>) -> i64 {
    rows.iter()
        .find(|(p, v, _)| p == plugin && v.as_deref() == version)
        .map(|(_, _, n)| *n)
        .unwrap_or(0)
}

on_both_databases! {
    async fn use_is_counted_per_pinned_version_and_owner(db: Db) {
        let fx = open(db).await;
        let (alice, bob) = (fx.user().await, fx.user().await);
        let hook = format!("hook-{}", &new_id()[..8]);
        let keyword = format!("kw-{}", &new_id()[..8]);
        let a1 = channel(&fx, &alice, &hook, None).await;
        channel(&fx, &alice, &hook, Some("1.0.0")).await;
        let b1 = channel(&fx, &bob, &hook, None).await;
        rule(&fx, &alice, &a1, &[(&keyword, None)]).await;
        // One rule using the same filter twice counts once.
        rule(&fx, &alice, &a1, &[(&keyword, Some("2.0.0")), (&keyword, Some("2.0.0"))]).await;
        rule(&fx, &bob, &b1, &[(&keyword, None)]).await;

        let everyone = fx.store.plugin_use_counts(None).await.expect("counts");
        assert_eq!(count(&everyone.channels, &hook, None), 2);
        assert_eq!(count(&everyone.channels, &hook, Some("1.0.0")), 1);
        assert_eq!(count(&everyone.rules, &keyword, None), 2);
        assert_eq!(count(&everyone.rules, &keyword, Some("2.0.0")), 1);

        let alices = fx.store.plugin_use_counts(Some(&alice)).await.expect("counts");
        assert_eq!(count(&alices.channels, &hook, None), 1, "only Alice's own");
        assert_eq!(count(&alices.rules, &keyword, None), 1);

        let (channels, rules) = fx.store.plugin_usage(&hook, Some(&bob)).await.expect("usage");
        assert_eq!((channels.len(), rules.len()), (1, 0));
        assert_eq!(channels[0].id, b1);
        let (channels, rules) = fx.store.plugin_usage(&keyword, None).await.expect("usage");
        assert_eq!((channels.len(), rules.len()), (0, 3));
        assert!(rules.iter().all(|r| r.extra_filters.iter().all(|f| f.plugin == keyword)));
    }
}
