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

use std::fmt;

use crate::types::SendError;

/// One mail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mail {
    /// Recipient addresses (`user@example.com`); at most 10.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body, always sent.
    pub text: String,
    /// Optional HTML alternative (sent as `multipart/alternative`).
    pub html: Option<String>,
    /// Optional Reply-To address.
    pub reply_to: Option<String>,
}

impl Mail {
    /// A plain-text mail.
    pub fn new(
        to: impl IntoIterator<Item = impl Into<String>>,
        subject: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Mail {
            to: to.into_iter().map(Into::into).collect(),
            subject: subject.into(),
            text: text.into(),
            html: None,
            reply_to: None,
        }
    }
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The host has no SMTP server configured.
    NotConfigured,
    /// The mail is unusable (bad address, too many recipients, too large).
    Invalid(String),
    /// The SMTP server refused it permanently (5xx).
    Rejected(String),
    /// Timeout, connection error or a transient (4xx) answer.
    Unavailable(String),
    /// Over the channel's mail rate; retry after this many milliseconds.
    RateLimited(u64),
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailError::NotConfigured => f.write_str("this server has no SMTP server configured"),
            MailError::Invalid(why) => write!(f, "mail refused: {why}"),
            MailError::Rejected(why) => write!(f, "the SMTP server rejected the mail: {why}"),
            MailError::Unavailable(why) => write!(f, "SMTP unavailable: {why}"),
            MailError::RateLimited(ms) => write!(f, "mail rate exceeded; retry in {ms} ms"),
        }
    }
}

impl std::error::Error for MailError {}

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
