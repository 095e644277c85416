//! The retry policy of SPEC §7: exponential backoff with jitter, capped, a
//! bounded number of attempts, permanent failures final at once, and a
//! plugin's retry-after honoured (within the cap).

use std::time::Duration;

use super::delivery::NextState;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: i64,
}

/// How an attempt ended, as far as the policy cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Sent,
    Retryable { retry_after_ms: Option<u64> },
    Permanent,
}

impl RetryPolicy {
    /// `attempt_no` counts from 1; `jitter` is uniform in [0, 1).
    pub fn next(&self, attempt_no: i64, ending: Ending, now_ms: i64, jitter: f64) -> NextState {
        match ending {
            Ending::Sent => NextState::Sent,
            Ending::Permanent => NextState::Failed,
            Ending::Retryable { .. } if attempt_no >= self.max_attempts => NextState::Failed,
            Ending::Retryable { retry_after_ms } => {
                let exponent = u32::try_from((attempt_no - 1).clamp(0, 30)).unwrap_or(30);
                let backoff = self
                    .base
                    .saturating_mul(2u32.saturating_pow(exponent))
                    .min(self.max);
                // Up to +20 % so retries of many deliveries do not arrive in lockstep.
                let jittered = backoff.mul_f64(1.0 + 0.2 * jitter.clamp(0.0, 1.0));
                let asked = Duration::from_millis(retry_after_ms.unwrap_or(0)).min(self.max);
                let delay = jittered.max(asked);
                NextState::RetryAt(now_ms + delay.as_millis() as i64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_secs(5),
            max: Duration::from_secs(1800),
            max_attempts: 10,
        }
    }

    fn delay(next: NextState) -> i64 {
        match next {
            NextState::RetryAt(at) => at,
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn exponential_capped_with_jitter() {
        let p = policy();
        let retry = Ending::Retryable {
            retry_after_ms: None,
        };
        assert_eq!(delay(p.next(1, retry, 0, 0.0)), 5_000);
        assert_eq!(delay(p.next(2, retry, 0, 0.0)), 10_000);
        assert_eq!(delay(p.next(4, retry, 0, 0.0)), 40_000);
        assert_eq!(delay(p.next(9, retry, 0, 0.0)), 1_280_000);
        assert_eq!(delay(p.next(3, retry, 0, 0.999_999)), 23_999);
        let capped = RetryPolicy {
            max_attempts: 50,
            ..p.clone()
        };
        assert_eq!(delay(capped.next(20, retry, 0, 0.0)), 1_800_000);
    }

    #[test]
    fn limits_and_retry_after() {
        let p = policy();
        assert_eq!(
            p.next(
                10,
                Ending::Retryable {
                    retry_after_ms: None
                },
                0,
                0.0
            ),
            NextState::Failed
        );
        assert_eq!(p.next(1, Ending::Permanent, 0, 0.0), NextState::Failed);
        assert_eq!(p.next(1, Ending::Sent, 0, 0.0), NextState::Sent);
        assert_eq!(
            delay(p.next(
                1,
                Ending::Retryable {
                    retry_after_ms: Some(60_000)
                },
                0,
                0.0
            )),
            60_000
        );
        assert_eq!(
            delay(p.next(
                1,
                Ending::Retryable {
                    retry_after_ms: Some(u64::MAX)
                },
                0,
                0.0
            )),
            1_800_000
        );
    }
}
