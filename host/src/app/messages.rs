//! Stored messages: the filtered list with delivery counts, one message with
//! its deliveries, soft delete one, and batch delete in bounded steps.

use std::collections::HashMap;

use crate::domain::{canonical_id, now_ms, Message};
use crate::error::{AppError, AppResult};
use crate::storage::{AttemptRow, DeliveryRow, DeliverySummary, MessageFilter, Store};

/// Rows soft-deleted per statement by batch delete, so no transaction grows unbounded.
const DELETE_CHUNK: i64 = 1_000;
const MAX_DELETE_DAYS: u32 = 36_500;
const MAX_DELETE_LIMIT: u32 = 100_000;

/// One page of the message list.
pub struct MessagePage {
    /// Each message (body cut to a preview) with its delivery counts.
    pub items: Vec<(Message, DeliverySummary)>,
    /// The id to continue after; None on the last page.
    pub next_cursor: Option<String>,
}

/// One message in full, with its deliveries and all their attempts.
pub struct MessageDetail {
    pub message: Message,
    pub deliveries: Vec<DeliveryRow>,
    pub attempts: Vec<AttemptRow>,
}

/// What a batch delete did.
pub struct BatchDeleted {
    pub deleted: u64,
    /// Messages the same request would still delete (0 without a limit).
    pub remaining: u64,
}

#[derive(Clone)]
pub struct Messages {
    store: Store,
}

impl Messages {
    pub fn new(store: Store) -> Self {
        Messages { store }
    }

    /// The user's messages, newest first, `filter.limit` per page.
    pub async fn list(&self, user_id: &str, filter: &MessageFilter) -> AppResult<MessagePage> {
        let limit = filter.limit;
        let mut one_more = filter.clone();
        one_more.limit = limit + 1; // one extra row tells whether another page exists
        let mut messages = self.store.list_messages(user_id, &one_more).await?;
        let next_cursor = if messages.len() as i64 > limit {
            messages.truncate(limit as usize);
            messages.last().map(|message| message.id.clone())
        } else {
            None
        };
        let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
        let mut counts: HashMap<String, DeliverySummary> = self
            .store
            .delivery_summaries(&ids)
            .await?
            .into_iter()
            .map(|summary| (summary.message_id.clone(), summary))
            .collect();
        let items = messages
            .into_iter()
            .map(|message| {
                let counts = counts.remove(&message.id).unwrap_or_default();
                (message, counts)
            })
            .collect();
        Ok(MessagePage { items, next_cursor })
    }

    /// One of the user's messages; another user's answers not found.
    pub async fn get(&self, user_id: &str, raw_id: &str) -> AppResult<MessageDetail> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        let message = self
            .store
            .message_for_user(user_id, &id)
            .await?
            .ok_or(AppError::NotFound)?;
        let (deliveries, attempts) = self.store.deliveries_of_message(&message.id).await?;
        Ok(MessageDetail {
            message,
            deliveries,
            attempts,
        })
    }

    /// Soft delete: the message disappears from every view.
    pub async fn delete(&self, user_id: &str, raw_id: &str) -> AppResult<()> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        if self.store.soft_delete_message(user_id, &id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Deletes the user's messages older than `older_than_days` (optionally of
    /// one endpoint), at most `limit` of them, in chunks.
    pub async fn batch_delete(
        &self,
        user_id: &str,
        older_than_days: u32,
        endpoint: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<BatchDeleted> {
        if older_than_days > MAX_DELETE_DAYS {
            return Err(AppError::validation(
                "older_than_days",
                format!("must be at most {MAX_DELETE_DAYS}"),
            ));
        }
        let endpoint_id = match endpoint.filter(|s| !s.is_empty()) {
            Some(raw) => {
                let id = canonical_id(raw).ok_or(AppError::NotFound)?;
                self.store
                    .endpoint_for_user(user_id, &id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                Some(id)
            }
            None => None,
        };
        if limit.is_some_and(|limit| !(1..=MAX_DELETE_LIMIT).contains(&limit)) {
            return Err(AppError::validation(
                "limit",
                format!("must be between 1 and {MAX_DELETE_LIMIT}"),
            ));
        }
        let cutoff = now_ms() - i64::from(older_than_days) * 86_400_000;
        let endpoint_id = endpoint_id.as_deref();
        let mut left = limit.map(u64::from);
        let mut deleted = 0;
        while left != Some(0) {
            let chunk = left.map_or(DELETE_CHUNK, |left| DELETE_CHUNK.min(left as i64));
            let n = self
                .store
                .soft_delete_messages_before(user_id, cutoff, endpoint_id, chunk)
                .await?;
            deleted += n;
            left = left.map(|left| left.saturating_sub(n));
            if n == 0 {
                break;
            }
        }
        let remaining = match limit {
            Some(_) => {
                self.store
                    .count_messages_before(user_id, cutoff, endpoint_id)
                    .await?
            }
            None => 0,
        };
        Ok(BatchDeleted { deleted, remaining })
    }
}
