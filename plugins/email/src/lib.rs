//! E-mail channel sender (built into Beacon Spear).
//!
//! Sends one mail per delivery through the SMTP server the operator
//! configured for the host (`EMAIL_*` settings), with the host's `smtp-send`
//! capability: this plugin makes no network connection itself. The sender
//! address is the host's (`DEFAULT_FROM_EMAIL`); the plugin cannot choose it.
//!
//! What the plugin hands the host ([`Mail`]):
//!
//! - `to`: the channel's recipients (1-10), never from the template;
//! - `subject`: the template `subject`, else the message title, else the
//!   first line of the body (at most 120 characters); `subject_prefix` goes
//!   in front with a space. Line breaks and other control characters become
//!   spaces, so no template or message can add a header;
//! - `text`: the template `text` (alias `body`), else the message body
//!   followed by a blank line and a short footer (priority, tags, link,
//!   "Sent by Beacon Spear from endpoint …");
//! - `html`: the template `html` as it is (the user's own template), else,
//!   when the channel's `html` is on, an HTML rendering of the text part with
//!   everything escaped, else none;
//! - `reply_to`: the template `reply_to`, else the channel's.
//!
//! Outcome: the SMTP server's reply (capped) is recorded on success; errors
//! map through `From<MailError> for SendError`: no SMTP server, an unusable
//! mail and a permanent (5xx) refusal are permanent; an unavailable server
//! (timeouts, 4xx) is retryable, and the host's per-channel mail rate limit
//! is retryable after the wait it names.

use beacon_plugin_sdk::mail::{self, Mail};
use beacon_plugin_sdk::template::{bad, Template};
use beacon_plugin_sdk::types::snippet;
use beacon_plugin_sdk::{
    debug, export_channel, Channel, ConfigError, Message, SendError, SendOutcome,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Most recipients one mail may have (the host's cap).
pub const MAX_RECIPIENTS: usize = 10;
/// Longest address accepted, in characters.
pub const MAX_ADDRESS_CHARS: usize = 254;
/// Longest `subject_prefix`, in characters.
pub const MAX_PREFIX_CHARS: usize = 100;
/// A subject taken from the body's first line is cut to this many
/// characters (the last one being `…`).
pub const SUBJECT_FROM_BODY_CHARS: usize = 120;

/// Channel config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Recipient addresses (`user@example.com`), 1 to 10. Every delivery
    /// goes to all of them in one mail; the sender is the server's own
    /// address.
    #[schemars(length(min = 1, max = 10))]
    pub to: Vec<String>,
    /// Text put in front of every subject, followed by a space, e.g.
    /// `[beacon]`.
    #[serde(default)]
    #[schemars(length(max = 100))]
    pub subject_prefix: Option<String>,
    /// Reply-To address, unless the template sets one.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Also send an HTML version of the mail (the text, HTML-escaped).
    /// Off by default: plain text only.
    #[serde(default)]
    pub html: Option<bool>,
}

/// `Some(trimmed)` for text with something in it.
fn nonblank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Why `address` is not a usable mail address, if it is not. A loose check:
/// one `@` with something on both sides, no white space, control
/// characters, commas or angle brackets, at most 254 characters. The SMTP
/// server has the last word.
pub fn address_problem(address: &str) -> Option<&'static str> {
    if address.is_empty() {
        return Some("must not be empty");
    }
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Some("must be at most 254 characters");
    }
    if address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '<' | '>'))
    {
        return Some("must be a bare address (no spaces, commas, angle brackets or line breaks)");
    }
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            None
        }
        _ => Some("must be an address like user@example.com (one @, with text on both sides)"),
    }
}

/// Full config validation (what `validate-config` runs).
pub fn validate_config(config: &EmailConfig) -> Result<(), ConfigError> {
    if config.to.is_empty() {
        return Err(ConfigError::new("to", "needs at least one address"));
    }
    if config.to.len() > MAX_RECIPIENTS {
        return Err(ConfigError::new(
            "to",
            format!("may list at most {MAX_RECIPIENTS} addresses"),
        ));
    }
    for (i, address) in config.to.iter().enumerate() {
        if let Some(why) = address_problem(address) {
            return Err(ConfigError::new(format!("to[{i}]"), why));
        }
    }
    if let Some(prefix) = &config.subject_prefix {
        if prefix.chars().any(char::is_control) {
            return Err(ConfigError::new(
                "subject_prefix",
                "must not contain line breaks or other control characters",
            ));
        }
        if prefix.chars().count() > MAX_PREFIX_CHARS {
            return Err(ConfigError::new(
                "subject_prefix",
                format!("must be at most {MAX_PREFIX_CHARS} characters"),
            ));
        }
    }
    if let Some(reply_to) = nonblank(&config.reply_to) {
        if let Some(why) = address_problem(reply_to) {
            return Err(ConfigError::new("reply_to", why));
        }
    }
    Ok(())
}

/// `text` on one line: every run of line breaks and other control
/// characters (CR, LF, tab, NUL, NEL, U+2028/U+2029 …), with the white space
/// around it, becomes one space, and the ends are trimmed. What makes header
/// injection through the subject impossible.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_break = false;
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            if !in_break {
                out.truncate(out.trim_end().len());
                out.push(' ');
                in_break = true;
            }
        } else if in_break && c.is_whitespace() {
            // Part of the break.
        } else {
            out.push(c);
            in_break = false;
        }
    }
    out.trim().to_owned()
}

/// The first non-blank line of `body`, trimmed and cut to
/// [`SUBJECT_FROM_BODY_CHARS`] characters (ending in `…` when cut).
pub fn subject_from_body(body: &str) -> String {
    let line = body
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    match line.char_indices().nth(SUBJECT_FROM_BODY_CHARS) {
        None => line.to_owned(),
        Some(_) => {
            let cut = line
                .char_indices()
                .nth(SUBJECT_FROM_BODY_CHARS - 1)
                .map_or(line.len(), |(i, _)| i);
            format!("{}…", line[..cut].trim_end())
        }
    }
}

/// The subject: template `subject`, else the title, else the body's first
/// line; the prefix in front; on one line.
fn subject(
    config: &EmailConfig,
    template: &Template,
    message: &Message,
) -> Result<String, SendError> {
    let base = match template.text("subject")? {
        Some(subject) => one_line(&subject),
        None => match nonblank(&message.title) {
            Some(title) => one_line(title),
            None => one_line(&subject_from_body(&message.body)),
        },
    };
    let base = if base.is_empty() {
        format!("Message from {}", one_line(&message.endpoint_name))
    } else {
        base
    };
    Ok(match nonblank(&config.subject_prefix) {
        Some(prefix) => one_line(&format!("{prefix} {base}")),
        None => base,
    })
}

/// Beacon's name for a priority.
fn priority_name(priority: u8) -> &'static str {
    match priority {
        0 | 1 => "lowest",
        2 => "low",
        3 => "normal",
        4 => "high",
        _ => "critical",
    }
}

/// The footer lines of a mail built from the message.
fn footer(message: &Message) -> Vec<FooterLine> {
    let mut lines = vec![FooterLine::Text(format!(
        "Priority: {} ({})",
        message.priority,
        priority_name(message.priority)
    ))];
    let tags: Vec<&str> = message
        .tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if !tags.is_empty() {
        lines.push(FooterLine::Text(format!("Tags: {}", tags.join(", "))));
    }
    if let Some(url) = nonblank(&message.url) {
        lines.push(FooterLine::Link(url.to_owned()));
    }
    lines.push(FooterLine::Text(format!(
        "Sent by Beacon Spear from endpoint {}",
        message.endpoint_name
    )));
    lines
}

/// One footer line.
enum FooterLine {
    /// Plain text.
    Text(String),
    /// `Link: <url>` (a link in the HTML version).
    Link(String),
}

/// The content of a mail: its main text, and the footer when the text is
/// the message's own.
struct Content {
    main: String,
    footer: Vec<FooterLine>,
}

impl Content {
    /// The plain-text part: the main text, then (if any) a blank line, the
    /// signature separator `-- ` and the footer lines.
    fn text(&self) -> String {
        let mut text = self.main.clone();
        if !self.footer.is_empty() {
            text.push_str("\n\n-- \n");
            let lines: Vec<String> = self
                .footer
                .iter()
                .map(|line| match line {
                    FooterLine::Text(t) => t.clone(),
                    FooterLine::Link(url) => format!("Link: {url}"),
                })
                .collect();
            text.push_str(&lines.join("\n"));
        }
        text
    }

    /// The HTML alternative: the same content, every piece of text escaped,
    /// line breaks as `<br>`, the link (http/https only) clickable.
    fn html(&self) -> String {
        let mut html = String::from(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\
             <body style=\"font-family:sans-serif\">\n<div>",
        );
        html.push_str(&escape_lines(&self.main));
        html.push_str("</div>\n");
        if !self.footer.is_empty() {
            html.push_str("<hr>\n<div style=\"color:#666;font-size:small\">");
            let lines: Vec<String> = self
                .footer
                .iter()
                .map(|line| match line {
                    FooterLine::Text(t) => escape_html(t),
                    FooterLine::Link(url) if is_http_url(url) => {
                        let url = escape_html(url);
                        format!("Link: <a href=\"{url}\">{url}</a>")
                    }
                    FooterLine::Link(url) => format!("Link: {}", escape_html(url)),
                })
                .collect();
            html.push_str(&lines.join("<br>\n"));
            html.push_str("</div>\n");
        }
        html.push_str("</body></html>\n");
        html
    }
}

fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text with its line breaks (`\n`, `\r\n`, `\r`) as `<br>`.
fn escape_lines(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    normalised
        .split('\n')
        .map(escape_html)
        .collect::<Vec<_>>()
        .join("<br>\n")
}

/// Build the mail for one delivery (see the crate docs for the template
/// vocabulary and fallbacks).
pub fn build_mail(
    config: &EmailConfig,
    payload_json: &str,
    message: &Message,
) -> Result<Mail, SendError> {
    let template = Template::parse(payload_json)?;

    let subject = subject(config, &template, message)?;

    let main = match template.text("text")? {
        Some(text) => Some(text),
        None => template.text("body")?,
    };
    let content = match main {
        Some(main) => Content {
            main,
            footer: Vec::new(),
        },
        None => Content {
            main: message.body.clone(),
            footer: footer(message),
        },
    };

    let html = match template.text("html")? {
        Some(html) => Some(html),
        None if config.html.unwrap_or(false) => Some(content.html()),
        None => None,
    };

    let reply_to = match template.text("reply_to")? {
        Some(reply_to) => {
            let reply_to = reply_to.trim().to_owned();
            if let Some(why) = address_problem(&reply_to) {
                return Err(bad("reply_to", why));
            }
            Some(reply_to)
        }
        None => nonblank(&config.reply_to).map(str::to_owned),
    };

    Ok(Mail {
        to: config.to.clone(),
        subject,
        text: content.text(),
        html,
        reply_to,
    })
}

/// The outcome recorded for a sent mail: the SMTP server's reply, capped.
pub fn outcome(reply: &str) -> SendOutcome {
    SendOutcome {
        http_status: None,
        response_snippet: Some(
            snippet(reply.trim().as_bytes())
                .unwrap_or_else(|| "accepted by the SMTP server".to_owned()),
        ),
        response_json: None,
    }
}

/// The plugin.
pub struct Email;

impl Channel for Email {
    type Config = EmailConfig;
    const ID: &'static str = "email";
    const NAME: &'static str = "E-mail";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Send each message as an e-mail through this server's SMTP settings.";

    fn validate(config: &EmailConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn send(
        config: EmailConfig,
        payload_json: &str,
        message: &Message,
    ) -> Result<SendOutcome, SendError> {
        let mail = build_mail(&config, payload_json, message)?;
        // Debug only: the host already logs every attempt with its outcome.
        debug!("mail for message {}", message.id);
        let reply = mail::send(&mail)?;
        Ok(outcome(&reply))
    }
}

export_channel!(Email);

#[cfg(test)]
mod tests;
