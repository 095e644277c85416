//! Deliveries as users see them: the list across messages, manual retry of a
//! failed one, and activity over time.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::domain::{canonical_id, DeliveryStatus};
use crate::error::{AppError, AppResult};
use crate::events::{EventKind, Events};
use crate::storage::{BucketCount, DeliveryFilter, DeliveryListRow, DeliveryRow, Store, Topic};

/// One page of the delivery list.
pub struct DeliveryPage {
    pub items: Vec<DeliveryListRow>,
    /// `<updated_at ms>_<id>` of the last item; None on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Clone)]
pub struct Deliveries {
    store: Store,
    /// Wakes the in-process worker.
    work_queued: Arc<Notify>,
    events: Events,
}

impl Deliveries {
    pub fn new(store: Store, work_queued: Arc<Notify>, events: Events) -> Self {
        Deliveries {
            store,
            work_queued,
            events,
        }
    }

    /// The user's deliveries, most recently changed first, `limit` per page.
    pub async fn list(
        &self,
        user_id: &str,
        status: Option<DeliveryStatus>,
        cursor: Option<&str>,
        limit: i64,
    ) -> AppResult<DeliveryPage> {
        let before = match cursor.filter(|s| !s.is_empty()) {
            Some(cursor) => Some(parse_cursor(cursor).ok_or_else(|| {
                AppError::validation("cursor", "is not a cursor returned by this API")
            })?),
            None => None,
        };
        let filter = DeliveryFilter {
            status,
            before,
            limit: limit + 1, // one extra row tells whether another page exists
        };
        let mut items = self.store.list_deliveries(user_id, &filter).await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items
                .last()
                .map(|row| format!("{}_{}", row.delivery.updated_at, row.delivery.id))
        } else {
            None
        };
        Ok(DeliveryPage { items, next_cursor })
    }

    /// Queues one of the user's failed deliveries again and wakes the workers.
    pub async fn retry(&self, user_id: &str, raw_id: &str) -> AppResult<DeliveryRow> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        match self.store.retry_delivery(user_id, &id).await? {
            None => return Err(AppError::NotFound),
            Some(false) => {
                return Err(AppError::Conflict {
                    code: "delivery_not_failed",
                    message: "only failed deliveries can be retried by hand".into(),
                    field: None,
                })
            }
            Some(true) => {}
        }
        self.work_queued.notify_one();
        if let Err(err) = self.store.signal(Topic::Work, "").await {
            tracing::warn!(error = %err, "waking other workers after a manual retry failed");
        }
        let row = self
            .store
            .delivery_for_user(user_id, &id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.events.publish(
            user_id,
            EventKind::Delivery {
                id: row.id.clone(),
                message_id: row.message_id.clone(),
                status: row.status.to_string(),
            },
        );
        Ok(row)
    }

    /// Messages received and deliveries finished per bucket since `from_ms`.
    pub async fn activity(
        &self,
        user_id: &str,
        from_ms: i64,
        bucket_ms: i64,
    ) -> AppResult<Vec<BucketCount>> {
        Ok(self.store.activity(user_id, from_ms, bucket_ms).await?)
    }
}

/// `<updated_at ms>_<id>` as written by [`Deliveries::list`].
fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let (at, id) = cursor.split_once('_')?;
    let id = canonical_id(id)?;
    Some((at.parse().ok()?, id))
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = "0192f0c4a1b27c3d8e9f0a1b2c3d4e5f";
        assert_eq!(
            parse_cursor(&format!("1767225600123_{id}")),
            Some((1_767_225_600_123, id.to_string()))
        );
        assert_eq!(parse_cursor("nonsense"), None);
        assert_eq!(parse_cursor(&format!("x_{id}")), None);
        assert_eq!(parse_cursor("1_notanid"), None);
    }
}
