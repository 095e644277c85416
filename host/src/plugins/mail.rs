//! The host side of the `smtp-send` capability: the limits every mail is
//! checked against, and the seam to whatever sends it ([`MailRelay`]: the
//! operator's SMTP server in the server, nothing in the local harness).

use std::future::Future;
use std::pin::Pin;

/// Most recipients of one mail.
pub const MAX_RECIPIENTS: usize = 10;
/// Largest mail, counting subject, text and HTML.
pub const MAX_MAIL_BYTES: usize = 256 * 1024;

/// One mail a plugin asked the host to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub reply_to: Option<String>,
}

/// Why a mail was not sent (mapped to the WIT `mail-error`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    #[error("no SMTP server is configured")]
    NotConfigured,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("rate limited for {0} ms")]
    RateLimited(u64),
}

pub type RelayFuture<'a> = Pin<Box<dyn Future<Output = Result<String, RelayError>> + Send + 'a>>;

/// Sends mail for plugins. `sender` names the channel (its bucket owner,
/// e.g. `channel:<id>`), which the relay's rate limit is kept per.
pub trait MailRelay: Send + Sync {
    /// False when the host has no SMTP server: channels whose plugin
    /// imports `smtp-send` are refused at creation.
    fn is_configured(&self) -> bool;
    fn send<'a>(&'a self, sender: &'a str, mail: OutgoingMail) -> RelayFuture<'a>;
}

/// A relay for hosts without SMTP (the local harness, benches).
pub struct NoMail;

impl MailRelay for NoMail {
    fn is_configured(&self) -> bool {
        false
    }

    fn send<'a>(&'a self, _sender: &'a str, _mail: OutgoingMail) -> RelayFuture<'a> {
        Box::pin(async { Err(RelayError::NotConfigured) })
    }
}

/// The capability's own limits, checked before any relay sees the mail.
pub fn check(mail: &OutgoingMail) -> Result<(), RelayError> {
    if mail.to.is_empty() || mail.to.len() > MAX_RECIPIENTS {
        return Err(RelayError::Invalid(format!(
            "a mail needs 1 to {MAX_RECIPIENTS} recipients (this one has {})",
            mail.to.len()
        )));
    }
    let size = mail.subject.len() + mail.text.len() + mail.html.as_ref().map_or(0, String::len);
    if size > MAX_MAIL_BYTES {
        return Err(RelayError::Invalid(format!(
            "a mail may have at most {MAX_MAIL_BYTES} bytes of subject, text and HTML (this one has {size})"
        )));
    }
    // Headers are built by lettre, which encodes them; a line break in the
    // subject is refused rather than trusted to any encoder.
    if mail.subject.contains(['\r', '\n']) {
        return Err(RelayError::Invalid(
            "the subject must be one line".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: usize, text: usize) -> OutgoingMail {
        OutgoingMail {
            to: (0..to).map(|i| format!("u{i}@example.com")).collect(),
            subject: "s".into(),
            text: "x".repeat(text),
            html: None,
            reply_to: None,
        }
    }

    #[test]
    fn limits() {
        assert!(check(&mail(1, 10)).is_ok());
        assert!(check(&mail(MAX_RECIPIENTS, 10)).is_ok());
        assert!(matches!(check(&mail(0, 10)), Err(RelayError::Invalid(_))));
        assert!(matches!(
            check(&mail(MAX_RECIPIENTS + 1, 10)),
            Err(RelayError::Invalid(_))
        ));
        assert!(matches!(
            check(&mail(1, MAX_MAIL_BYTES)),
            Err(RelayError::Invalid(_))
        ));
        let mut injected = mail(1, 1);
        injected.subject = "hi\r\nBcc: victim@example.com".into();
        assert!(matches!(check(&injected), Err(RelayError::Invalid(_))));
    }
}
