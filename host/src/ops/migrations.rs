//! `beacon migrate status`, and the refusal to run against a schema newer
//! than this binary.

use anyhow::bail;

use crate::storage::{latest_known_version, MigrationState, MigrationStatus, Store};

/// The status table as printed, and whether the database is at this
/// binary's head with nothing wrong.
pub struct StatusReport {
    pub text: String,
    pub at_head: bool,
    pub summary: String,
}

pub async fn status(store: &Store) -> anyhow::Result<StatusReport> {
    let statuses = store.migration_status().await?;
    Ok(render(&statuses, latest_known_version(store.is_postgres())))
}

fn render(statuses: &[MigrationStatus], latest: i64) -> StatusReport {
    let mut text = String::new();
    text.push_str(&format!(
        "{:>7}  {:<36}  {}\n",
        "version", "description", "state"
    ));
    for status in statuses {
        text.push_str(&format!(
            "{:>7}  {:<36}  {}{}\n",
            status.version,
            status.description,
            status.state.as_str(),
            status
                .note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ));
    }
    let count = |state: MigrationState| statuses.iter().filter(|s| s.state == state).count();
    let (applied, pending, mismatched, failed, unknown) = (
        count(MigrationState::Applied),
        count(MigrationState::Pending),
        count(MigrationState::ChecksumMismatch),
        count(MigrationState::Failed),
        count(MigrationState::Unknown),
    );
    let summary = format!(
        "{applied} applied, {pending} pending, {mismatched} checksum mismatch(es), {failed} failed, {unknown} unknown to this binary (which knows up to {latest})"
    );
    text.push_str(&summary);
    text.push('\n');
    StatusReport {
        text,
        at_head: pending + mismatched + failed + unknown == 0,
        summary,
    }
}

/// Fails when the database records migrations this binary does not have:
/// a newer beacon migrated it, and this one must not write to it.
pub async fn refuse_newer_schema(store: &Store) -> anyhow::Result<()> {
    let unknown = store.unknown_applied_migrations().await?;
    if unknown.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = unknown
        .iter()
        .map(|(version, description)| format!("{version} ({description})"))
        .collect();
    bail!(
        "the database schema is newer than this beacon {}: it has migration(s) {} applied, and this binary knows migrations up to {}. Run the beacon release that applied them (or a newer one), or restore a backup taken before the upgrade (docs/operations.md, \"Upgrades\")",
        env!("CARGO_PKG_VERSION"),
        listed.join(", "),
        latest_known_version(store.is_postgres())
    )
}
