//! The message list: every filter, `LIKE` escaping, keyset paging and soft
//! delete, with the same answers on both databases.

use beacon_host::domain::{now_ms, Payload};
use beacon_host::storage::MessageFilter;

use super::{open, payload, Fixture, Owner};
use crate::on_both_databases;

fn filter() -> MessageFilter {
    MessageFilter {
        limit: 50,
        ..MessageFilter::default()
    }
}

/// Ids of the owner's messages the filter lists, in list order.
async fn listed(fx: &Fixture, owner: &Owner, filter: MessageFilter) -> Vec<String> {
    fx.store
        .list_messages(&owner.user, &filter)
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.id)
        .collect()
}

fn text(query: &str) -> MessageFilter {
    MessageFilter {
        text: Some(query.to_string()),
        ..filter()
    }
}

fn with(body: &str, edit: impl FnOnce(&mut Payload)) -> Payload {
    let mut p = payload(body);
    edit(&mut p);
    p
}

on_both_databases! {
    async fn text_search_is_a_literal_substring_of_title_or_body(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let now = now_ms();
        let at = |n: i64| now - 10_000 + n;
        let percent = fx.message_at(&owner.user, &owner.endpoint, payload("disk 100% FULL"), at(1), &[]).await.id;
        let underscore = fx
            .message_at(&owner.user, &owner.endpoint, with("ok", |p| p.title = Some("CI_job".into())), at(2), &[])
            .await
            .id;
        let backslash = fx.message_at(&owner.user, &owner.endpoint, payload(r"path C:\temp"), at(3), &[]).await.id;
        let plain = fx.message_at(&owner.user, &owner.endpoint, payload("CIxjob 1000 fully"), at(4), &[]).await.id;

        assert_eq!(listed(&fx, &owner, text("100%")).await, vec![percent.clone()], "% is literal");
        assert_eq!(listed(&fx, &owner, text("CI_")).await, vec![underscore.clone()], "_ is literal");
        assert_eq!(listed(&fx, &owner, text(r"C:\t")).await, vec![backslash.clone()], "\\ is literal");
        assert_eq!(listed(&fx, &owner, text("full")).await, vec![plain.clone(), percent.clone()], "ASCII case is ignored");
        assert_eq!(listed(&fx, &owner, text("ci_JOB")).await, vec![underscore.clone()], "titles are searched");
        assert!(listed(&fx, &owner, text("%")).await == vec![percent.clone()]);
        assert!(listed(&fx, &owner, text("nothing like this")).await.is_empty());
    }

    async fn structured_filters_combine(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let other_endpoint = fx.endpoint(&owner.user, "ci").await;
        let now = now_ms();
        let backup = fx
            .message_at(&owner.user, &owner.endpoint, with("backup", |p| {
                p.group = Some("nightly".into());
                p.priority = 2;
                p.tags = vec!["Backup".into(), "nas".into()];
            }), now - 3_000, &[])
            .await
            .id;
        let disk = fx
            .message_at(&owner.user, &owner.endpoint, with("disk", |p| {
                p.priority = 5;
                p.tags = vec!["ops".into()];
            }), now - 2_000, &[])
            .await
            .id;
        let deploy = fx
            .message_at(&owner.user, &other_endpoint, with("deploy", |p| {
                p.group = Some("ci".into());
                p.priority = 3;
            }), now - 1_000, &[])
            .await
            .id;

        assert_eq!(listed(&fx, &owner, filter()).await, vec![deploy.clone(), disk.clone(), backup.clone()], "newest first");
        let by = |edit: fn(&mut MessageFilter)| {
            let mut f = filter();
            edit(&mut f);
            f
        };
        let endpoint = MessageFilter { endpoint_id: Some(other_endpoint.clone()), ..filter() };
        assert_eq!(listed(&fx, &owner, endpoint).await, vec![deploy.clone()]);
        assert_eq!(listed(&fx, &owner, by(|f| f.group = Some("nightly".into()))).await, vec![backup.clone()]);
        assert_eq!(listed(&fx, &owner, by(|f| f.priority_min = Some(3))).await, vec![deploy.clone(), disk.clone()]);
        assert_eq!(listed(&fx, &owner, by(|f| f.priority_max = Some(3))).await, vec![deploy.clone(), backup.clone()]);
        assert_eq!(listed(&fx, &owner, by(|f| f.tag = Some("backup".into()))).await, vec![backup.clone()], "tags ignore case");
        assert_eq!(listed(&fx, &owner, by(|f| f.tag = Some("NAS".into()))).await, vec![backup.clone()]);
        assert!(listed(&fx, &owner, by(|f| f.tag = Some("missing".into()))).await.is_empty());
        let combined = by(|f| {
            f.group = Some("nightly".into());
            f.tag = Some("nas".into());
            f.priority_max = Some(2);
        });
        assert_eq!(listed(&fx, &owner, combined).await, vec![backup.clone()]);

        let since = MessageFilter { since_ms: Some(now - 2_000), ..filter() };
        assert_eq!(listed(&fx, &owner, since).await, vec![deploy.clone(), disk.clone()], "since is inclusive");
        let until = MessageFilter { until_ms: Some(now - 2_000), ..filter() };
        assert_eq!(listed(&fx, &owner, until).await, vec![backup.clone()], "until is exclusive");
    }

    async fn keyset_pages_cover_everything_once(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let now = now_ms();
        let mut sent = Vec::new();
        for n in 0..7 {
            sent.push(fx.message_at(&owner.user, &owner.endpoint, payload(&format!("m{n}")), now - 10_000 + n, &[]).await.id);
        }
        sent.reverse();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = MessageFilter { limit: 3, before_id: before.clone(), ..filter() };
            let ids = listed(&fx, &owner, page).await;
            if ids.is_empty() {
                break;
            }
            assert!(ids.len() <= 3);
            before = ids.last().cloned();
            seen.extend(ids);
        }
        assert_eq!(seen, sent);
    }

    async fn soft_deleted_messages_leave_the_list_and_the_detail(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let now = now_ms();
        let old = fx.message_at(&owner.user, &owner.endpoint, payload("old"), now - 86_400_000, &[]).await.id;
        let kept = fx.message(&owner.user, &owner.endpoint, "kept", &[]).await.id;
        let gone = fx.message(&owner.user, &owner.endpoint, "gone", &[]).await.id;

        assert!(fx.store.soft_delete_message(&owner.user, &gone).await.expect("delete"));
        assert!(!fx.store.soft_delete_message(&owner.user, &gone).await.expect("delete"), "already deleted");
        assert!(fx.store.message_for_user(&owner.user, &gone).await.expect("read").is_none());

        let cutoff = now - 3_600_000;
        assert_eq!(fx.store.count_messages_before(&owner.user, cutoff, None).await.expect("count"), 1);
        assert_eq!(fx.store.soft_delete_messages_before(&owner.user, cutoff, None, 100).await.expect("batch"), 1);
        assert_eq!(fx.store.count_messages_before(&owner.user, cutoff, None).await.expect("count"), 0);
        assert!(fx.store.message_for_user(&owner.user, &old).await.expect("read").is_none());
        assert_eq!(listed(&fx, &owner, filter()).await, vec![kept]);
    }

    async fn a_stored_message_reads_back_whole(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let sent = with("body ✓ ünïcode", |p| {
            p.title = Some("Title".into());
            p.group = Some("g".into());
            p.priority = 4;
            p.tags = vec!["a".into(), "b".into()];
            p.url = Some("https://example.test/x".into());
            p.extras = [("host".to_string(), "nas1".to_string())].into();
        });
        let stored = fx.message_at(&owner.user, &owner.endpoint, sent.clone(), now_ms(), &[]).await;
        let message = fx.store.message_for_user(&owner.user, &stored.id).await.expect("read").expect("stored");
        assert_eq!(message.payload, sent);
        assert_eq!(message.endpoint_name, "nas");
        assert_eq!(message.request.size_bytes, 42);
        assert_eq!(message.request.headers.get("user-agent").map(String::as_str), Some("conformance"));
    }
}
