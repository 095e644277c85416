//! Outgoing account mail: SMTP through lettre, or, with no `EMAIL_HOST`, the
//! log plus one `.eml` file per mail in the outbox folder (for first runs).

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailConfig, SmtpSecurity};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(#[from] lettre::address::AddressError),
    #[error("could not build mail: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("outbox: {0}")]
    Outbox(#[from] std::io::Error),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn new(config: &EmailConfig, outbox: PathBuf) -> Result<Self, MailError> {
        let from: Mailbox = config.from.parse()?;
        let transport = match &config.host {
            None => Transport::Outbox(outbox),
            Some(host) => {
                let mut builder = match config.security {
                    SmtpSecurity::Plain => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    }
                    SmtpSecurity::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?
                    }
                    SmtpSecurity::ImplicitTls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                }
                .port(config.port)
                .timeout(Some(config.timeout));
                if !config.user.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        config.user.clone(),
                        config.password.clone(),
                    ));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Mailer { transport, from })
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.parse()?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.clone())?;
        let text = body;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Outbox(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let path = dir.join(format!("{}.eml", crate::domain::new_id()));
                tokio::fs::write(&path, message.formatted()).await?;
                // SPEC §4: without SMTP the mail goes to the log too, so a first
                // local run can follow its links. Only this mode logs a body.
                tracing::info!(to, subject, file = %path.display(), body = %text, "mail not sent: EMAIL_HOST is unset; written to the outbox");
            }
        }
        Ok(())
    }

    /// True when mail goes to an SMTP server (not only to the outbox).
    pub fn has_smtp(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    /// Sends a mail for a plugin through the SMTP server (never to the
    /// outbox) and answers the server's reply, e.g. `250 2.0.0 Ok: queued`.
    pub async fn send_for_plugin(&self, mail: PluginMail<'_>) -> Result<String, PluginMailError> {
        let Transport::Smtp(smtp) = &self.transport else {
            return Err(PluginMailError::NotConfigured);
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject);
        for to in mail.to {
            let address: Mailbox = to
                .parse()
                .map_err(|err| PluginMailError::Invalid(format!("recipient {to:?}: {err}")))?;
            builder = builder.to(address);
        }
        if let Some(reply_to) = mail.reply_to {
            let address: Mailbox = reply_to
                .parse()
                .map_err(|err| PluginMailError::Invalid(format!("reply-to {reply_to:?}: {err}")))?;
            builder = builder.reply_to(address);
        }
        let message = match mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.text.to_string(),
                html.to_string(),
            )),
            None => builder.singlepart(SinglePart::plain(mail.text.to_string())),
        }
        .map_err(|err| PluginMailError::Invalid(err.to_string()))?;
        match smtp.send(message).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(err) if err.is_permanent() => Err(PluginMailError::Rejected(err.to_string())),
            Err(err) => Err(PluginMailError::Unavailable(err.to_string())),
        }
    }

    /// Sends in the background: the request answers at once and a mail failure
    /// is logged (the user can ask again, e.g. resend verification).
    pub fn send_later(&self, to: String, subject: &'static str, body: String) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(err) = mailer.send(&to, subject, body).await {
                tracing::warn!(error = %err, subject, "sending mail failed");
            }
        });
    }
}

/// A mail a plugin sends through the host (see `plugins::mail`).
pub struct PluginMail<'a> {
    pub to: &'a [String],
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
    pub reply_to: Option<&'a str>,
}

/// Why a plugin's mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum PluginMailError {
    #[error("no SMTP server is configured")]
    NotConfigured,
    #[error("{0}")]
    Invalid(String),
    /// A permanent SMTP answer (5xx).
    #[error("{0}")]
    Rejected(String),
    /// Timeouts, connection errors and transient (4xx) answers.
    #[error("{0}")]
    Unavailable(String),
}
