//! Black-box integration suite: the real server over HTTP on a loopback port,
//! every storage-touching test on both SQLite and PostgreSQL.

mod common;

mod adapters;
mod auth;
mod backup;
mod channel_plugins;
mod channels;
mod cli;
mod compat;
mod compat_ingest;
mod dashboard;
mod delivery;
mod endpoints;
mod filters;
mod idempotency;
mod ingest;
mod live;
mod logs;
mod messages;
mod metrics;
mod openapi;
mod operators;
mod plugin_versions;
mod plugins;
mod rules;
mod scheduled;
mod storage;
mod upgrades;
mod workers;
