//! Keyed rate limits (governor's GCRA) shared by auth and ingest. A refusal
//! carries the wait in whole seconds for the `Retry-After` header.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;

#[derive(Clone)]
pub struct KeyedLimiter {
    inner: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

impl KeyedLimiter {
    /// `per_minute` requests per key per minute, bursting up to the same count; 0 = unlimited.
    pub fn per_minute(per_minute: u32) -> Self {
        let inner = NonZeroU32::new(per_minute)
            .map(|n| Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))));
        KeyedLimiter { inner }
    }

    pub fn check(&self, key: &str) -> Result<(), AppError> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited {
                retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Forgets keys whose state is back to full, so memory stays bounded.
    pub fn spawn_cleanup(&self) {
        if let Some(limiter) = self.inner.clone() {
            let weak = Arc::downgrade(&limiter);
            drop(limiter);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    let Some(limiter) = weak.upgrade() else { break };
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            });
        }
    }
}
