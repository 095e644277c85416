//! Ingest endpoints: a user's ingest URLs and their keys (shown once, stored hashed).

use crate::app::accounts::secrets::{random_token, sha256_hex};
use crate::app::ingest::Ingest;
use crate::domain::{canonical_id, new_id};
use crate::error::{AppError, AppResult};
use crate::storage::{EndpointRow, Store};

/// Prefix that makes leaked keys easy to recognise (e.g. by secret scanners).
const KEY_PREFIX: &str = "bsk_";
const MAX_NAME_CHARS: usize = 100;

/// A new endpoint and its key, which exists only in this answer.
pub struct CreatedEndpoint {
    pub endpoint: EndpointRow,
    pub ingest_key: String,
}

#[derive(Clone)]
pub struct Endpoints {
    store: Store,
    /// Holds cached credentials that a revoke must drop.
    ingest: Ingest,
}

impl Endpoints {
    pub fn new(store: Store, ingest: Ingest) -> Self {
        Endpoints { store, ingest }
    }

    /// The user's endpoints, newest first (archived ones only on request).
    pub async fn list(&self, user_id: &str, include_archived: bool) -> AppResult<Vec<EndpointRow>> {
        Ok(self.store.list_endpoints(user_id, include_archived).await?)
    }

    pub async fn create(&self, user_id: &str, name: &str) -> AppResult<CreatedEndpoint> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AppError::validation(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        let key = format!("{KEY_PREFIX}{}", random_token());
        let endpoint = self
            .store
            .insert_endpoint(&new_id(), user_id, name, &sha256_hex(&key))
            .await?;
        Ok(CreatedEndpoint {
            endpoint,
            ingest_key: key,
        })
    }

    /// One of the user's endpoints; another user's answers not found.
    pub async fn get(&self, user_id: &str, raw_id: &str) -> AppResult<EndpointRow> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        self.store
            .endpoint_for_user(user_id, &id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Revokes (and with `archive`, hides) an endpoint: its key stops working
    /// at once in this process, within the credential cache's lifetime in others.
    pub async fn retire(
        &self,
        user_id: &str,
        raw_id: &str,
        archive: bool,
    ) -> AppResult<EndpointRow> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        let row = self
            .store
            .retire_endpoint(user_id, &id, archive)
            .await?
            .ok_or(AppError::NotFound)?;
        self.ingest.forget_endpoint(&id);
        Ok(row)
    }
}
