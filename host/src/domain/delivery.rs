//! Deliveries (SPEC §7): the states a delivery moves through and how an
//! attempt ended. Storage maps these to and from its text columns.

use std::fmt;

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its first attempt.
    Queued,
    /// A worker holds its lease and is sending.
    Sending,
    /// Waiting for its next attempt.
    Retry,
    Sent,
    /// Given up (permanent error or out of attempts); a user may retry it.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Queued,
        DeliveryStatus::Sending,
        DeliveryStatus::Retry,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Retry => "retry",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Still to be attempted (queued or waiting for a retry).
    pub fn is_pending(self) -> bool {
        matches!(self, DeliveryStatus::Queued | DeliveryStatus::Retry)
    }

    /// No attempt will follow unless a user asks for one.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryStatus::Sent | DeliveryStatus::Failed)
    }
}

/// A status text no [`DeliveryStatus`] has.
#[derive(Debug, thiserror::Error)]
#[error("unknown delivery status {0:?}")]
pub struct UnknownStatus(pub String);

impl TryFrom<String> for DeliveryStatus {
    type Error = UnknownStatus;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        DeliveryStatus::parse(&text).ok_or(UnknownStatus(text))
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextState {
    Sent,
    RetryAt(i64),
    Failed,
}

impl NextState {
    /// The status the delivery takes.
    pub fn status(self) -> DeliveryStatus {
        match self {
            NextState::Sent => DeliveryStatus::Sent,
            NextState::RetryAt(_) => DeliveryStatus::Retry,
            NextState::Failed => DeliveryStatus::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_text() {
        for status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DeliveryStatus::parse("lost"), None);
        assert_eq!(NextState::RetryAt(5).status(), DeliveryStatus::Retry);
    }
}
