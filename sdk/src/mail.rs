//! Mail through the SMTP server the operator configured for the host (the
//! `smtp-send` capability; channel senders only).
//!
//! The host sends from its own address (`EMAIL_FROM`), caps recipients (10),
//! size (256 KiB of subject, text and HTML) and the rate per channel, and
//! answers [`MailError::NotConfigured`] when it has no SMTP server.
//!
//! ```
//! use beacon_plugin_sdk::mail::{self, Mail};
//! use beacon_plugin_sdk::testing;
//!
//! testing::mock_mail(|mail| Ok(format!("250 queued for {}", mail.to.join(","))));
//! let reply = mail::send(&Mail::new(["ops@example.com"], "Disk full", "95% on /volume1")).unwrap();
//! assert_eq!(reply, "250 queued for ops@example.com");
//! assert_eq!(testing::mails()[0].subject, "Disk full");
//! testing::reset();
//! ```

use crate::types::SendError;
pub use crate::values::{Mail, MailError};

impl From<MailError> for SendError {
    /// Unavailable and rate-limited are retryable (the latter with its wait);
    /// everything else is permanent.
    fn from(err: MailError) -> Self {
        match err {
            MailError::Unavailable(_) => SendError::retryable(err.to_string()),
            MailError::RateLimited(ms) => {
                SendError::retryable(err.to_string()).with_retry_after_ms(ms)
            }
            _ => SendError::permanent(err.to_string()),
        }
    }
}

/// Sends one mail; the answer is the SMTP server's reply text.
pub fn send(mail: &Mail) -> Result<String, MailError> {
    crate::host::send_mail(mail)
}
