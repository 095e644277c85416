//! GitHub adapter (built into Beacon Spear): reads repository and
//! organization webhook deliveries, checks their `X-Hub-Signature-256`
//! against the endpoint's secret, and turns each delivery into one message.
//!
//! Endpoint config:
//!
//! ```json
//! {"secret": "the webhook secret set in GitHub", "events": ["push", "workflow_run"]}
//! ```
//!
//! Order of checks (see README.md for every field of the message):
//!
//! 1. `X-Hub-Signature-256: sha256=<hex>` must equal HMAC-SHA256(secret, raw
//!    body), compared in constant time, before anything is parsed; missing
//!    or wrong is `Unauthorized`.
//! 2. `X-GitHub-Event` names the event (missing: `Invalid`). With `events`
//!    set, any other event is accepted and dropped (no message).
//! 3. The JSON is the body, or the `payload` field of an
//!    `application/x-www-form-urlencoded` body (GitHub's "form" content
//!    type; the signature still covers the raw form body).
//! 4. `ping`, `push`, `pull_request`, `issues`, `release`, `workflow_run`
//!    and `check_run` get tailored titles and bodies; every other event a
//!    generic one. Nothing well-signed is refused for its event.

use beacon_plugin_sdk::config::secret;
use beacon_plugin_sdk::{
    export_adapter, AdaptError, AdaptedMessage, Adapter, ConfigError, InboundRequest,
};
use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use std::fmt;

pub use beacon_plugin_sdk::fit::{fit, is_http_url, truncate};

/// Header carrying `sha256=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// Header naming the event.
pub const EVENT_HEADER: &str = "x-github-event";
/// Header carrying the delivery's GUID.
pub const DELIVERY_HEADER: &str = "x-github-delivery";
/// Most commits listed in a push body.
pub const MAX_LISTED_COMMITS: usize = 10;
/// Longest part of a release's notes copied into the body.
pub const MAX_RELEASE_NOTES_CHARS: usize = 3000;

/// The endpoint's adapter config.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// The webhook secret, exactly as entered in GitHub's webhook settings
    /// ("Secret"). Every delivery must carry a matching
    /// `X-Hub-Signature-256`; anything else is refused with 401.
    #[schemars(transform = secret, length(min = 1))]
    pub secret: String,
    /// Only these events become messages, e.g. `["push", "release",
    /// "workflow_run"]` (names as GitHub sends them in `X-GitHub-Event`;
    /// add `ping` to see the connection test). Other events are accepted
    /// and dropped. Leave it out to keep every event.
    #[serde(default)]
    #[schemars(length(min = 1), example = example_events())]
    pub events: Option<Vec<String>>,
}

fn example_events() -> Vec<&'static str> {
    vec!["push", "pull_request", "release"]
}

impl fmt::Debug for GithubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubConfig")
            .field("secret", &"<redacted>")
            .field("events", &self.events)
            .finish()
    }
}

impl GithubConfig {
    /// Whether `event` is one the config keeps.
    pub fn wants(&self, event: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|events| events.iter().any(|e| e.trim() == event))
    }
}

/// Everything `validate-config` checks beyond reading the config; `adapt`
/// runs it too.
pub fn validate_config(config: &GithubConfig) -> Result<(), ConfigError> {
    if config.secret.is_empty() {
        return Err(ConfigError::new(
            "secret",
            "must not be empty: set the same secret here and in GitHub's webhook settings",
        ));
    }
    if let Some(events) = &config.events {
        if events.is_empty() {
            return Err(ConfigError::new(
                "events",
                "must name at least one event (leave it out to keep every event)",
            ));
        }
        for (i, event) in events.iter().enumerate() {
            let event = event.trim();
            if event.is_empty()
                || !event
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(ConfigError::new(
                    format!("events[{i}]"),
                    "must be a GitHub event name such as push, pull_request or workflow_run",
                ));
            }
        }
    }
    Ok(())
}

/// Checks `X-Hub-Signature-256` against HMAC-SHA256(`secret`, `body`) in
/// constant time.
pub fn check_signature(secret: &[u8], request: &InboundRequest) -> Result<(), AdaptError> {
    let header = request
        .header_value(SIGNATURE_HEADER)
        .ok_or_else(|| AdaptError::Unauthorized("missing X-Hub-Signature-256".into()))?;
    let mismatch =
        || AdaptError::Unauthorized("X-Hub-Signature-256 does not match the secret".into());
    let header = header.trim();
    let hex = header
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("sha256="))
        .map(|_| &header[7..])
        .ok_or_else(mismatch)?;
    let given = decode_hex(hex).ok_or_else(mismatch)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| mismatch())?;
    mac.update(&request.body);
    mac.verify_slice(&given).map_err(|_| mismatch())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    hex.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Whether the request declared a form body.
fn is_form(request: &InboundRequest) -> bool {
    request
        .header_value("content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| {
            ct.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The decoded value of field `name` in an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<Vec<u8>> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut parts = pair.splitn(2, |b| *b == b'=');
        let key = percent_decode(parts.next().unwrap_or_default());
        (key == name.as_bytes()).then(|| percent_decode(parts.next().unwrap_or_default()))
    })
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                input.get(i + 1).and_then(|b| hex(*b)),
                input.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The event's JSON payload, from the body or its `payload` form field.
pub fn payload(request: &InboundRequest) -> Result<Value, AdaptError> {
    let parsed = if is_form(request) {
        let field = form_field(&request.body, "payload").ok_or_else(|| {
            AdaptError::Invalid(
                "the form body has no `payload` field (GitHub's form content type puts the JSON there)"
                    .into(),
            )
        })?;
        serde_json::from_slice::<Value>(&field).map_err(|e| {
            AdaptError::Invalid(format!("the `payload` form field is not JSON: {e}"))
        })?
    } else {
        serde_json::from_slice::<Value>(&request.body)
            .map_err(|e| AdaptError::Invalid(format!("the body is not JSON: {e}")))?
    };
    if !parsed.is_object() {
        return Err(AdaptError::Invalid(
            "the payload is not a JSON object".into(),
        ));
    }
    Ok(parsed)
}

/// A non-blank string at a JSON pointer.
fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// A string or number at a JSON pointer, as text.
fn text_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An http(s) URL at a JSON pointer.
fn url_at(v: &Value, pointer: &str) -> Option<String> {
    str_at(v, pointer)
        .filter(|u| is_http_url(u))
        .map(str::to_owned)
}

fn short_sha(sha: &str) -> String {
    sha.chars().take(7).collect()
}

/// What an event becomes, before the common fields are added.
#[derive(Debug, Default)]
struct Parts {
    title: String,
    body: String,
    url: Option<String>,
    priority: Option<u8>,
}

/// The message for one verified delivery of `event`.
pub fn message(event: &str, delivery: Option<&str>, p: &Value) -> AdaptedMessage {
    let repo = str_at(p, "/repository/full_name");
    let org = str_at(p, "/organization/login");
    let sender = str_at(p, "/sender/login");
    let action = str_at(p, "/action");
    let scope = repo.or(org).unwrap_or("GitHub");

    let parts = match event {
        "ping" => ping(p, repo.or(org)),
        "push" => push(p, scope),
        "pull_request" => item(p, scope, "PR", "/pull_request"),
        "issues" => item(p, scope, "issue", "/issue"),
        "release" => release(p, scope),
        "workflow_run" => run(p, scope, "workflow", "/workflow_run"),
        "check_run" => run(p, scope, "check", "/check_run"),
        _ => other(p, event, action, repo.or(org).or(sender)),
    };
    let fallback = format!("GitHub {event}");
    let mut message = AdaptedMessage::new(parts.body).title(parts.title);
    message.priority = parts.priority;
    message.url = parts.url;
    message.group = repo.map(str::to_owned);
    message.tags = vec!["github".into(), event.to_owned()];
    message
        .extras
        .push(("github_event".into(), event.to_owned()));
    if let Some(delivery) = delivery.filter(|d| !d.trim().is_empty()) {
        message
            .extras
            .push(("github_delivery".into(), delivery.to_owned()));
    }
    if let Some(repo) = repo {
        message.extras.push(("repository".into(), repo.to_owned()));
    }
    if let Some(sender) = sender {
        message.extras.push(("sender".into(), sender.to_owned()));
    }
    if let Some(action) = action {
        message.extras.push(("action".into(), action.to_owned()));
    }
    fit(message, &fallback)
}

fn ping(p: &Value, owner: Option<&str>) -> Parts {
    let zen = str_at(p, "/zen").unwrap_or("Webhook ping");
    let mut about: Vec<String> = Vec::new();
    if let Some(hook) = text_at(p, "/hook_id").or_else(|| text_at(p, "/hook/id")) {
        about.push(format!("hook {hook}"));
    }
    if let Some(owner) = owner {
        about.push(owner.to_owned());
    }
    let body = if about.is_empty() {
        zen.to_owned()
    } else {
        format!("{zen} ({})", about.join(", "))
    };
    Parts {
        title: "GitHub webhook connected".into(),
        body,
        url: url_at(p, "/repository/html_url"),
        priority: Some(2),
    }
}

fn commit_line(commit: &Value) -> Option<String> {
    let id = str_at(commit, "/id")?;
    let first = commit
        .pointer("/message")
        .and_then(Value::as_str)
        .and_then(|m| m.lines().next())
        .unwrap_or("")
        .trim();
    let mut line = format!("{} {first}", short_sha(id));
    if let Some(author) = str_at(commit, "/author/name") {
        line.push_str(&format!(" ({author})"));
    }
    Some(line.trim_end().to_owned())
}

fn push(p: &Value, scope: &str) -> Parts {
    let git_ref = str_at(p, "/ref").unwrap_or("");
    let deleted = p.pointer("/deleted").and_then(Value::as_bool) == Some(true);
    let created = p.pointer("/created").and_then(Value::as_bool) == Some(true);
    let commits: &[Value] = p
        .pointer("/commits")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let n = commits.len();
    let title = if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
        if deleted {
            format!("{scope}: branch {branch} deleted")
        } else if created && n == 0 {
            format!("{scope}: branch {branch} created")
        } else {
            let s = if n == 1 { "" } else { "s" };
            format!("{scope}: {n} new commit{s} on {branch}")
        }
    } else if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
        if deleted {
            format!("{scope}: tag {tag} deleted")
        } else {
            format!("{scope}: tag {tag} pushed")
        }
    } else if deleted {
        format!("{scope}: {git_ref} deleted")
    } else {
        format!("{scope}: {git_ref} updated")
    };

    let mut lines: Vec<String> = commits
        .iter()
        .filter_map(commit_line)
        .take(MAX_LISTED_COMMITS)
        .collect();
    if n > MAX_LISTED_COMMITS {
        lines.push(format!("… and {} more", n - MAX_LISTED_COMMITS));
    }
    if lines.is_empty() {
        if deleted {
            lines.push(match str_at(p, "/sender/login") {
                Some(who) => format!("{git_ref} deleted by {who}"),
                None => format!("{git_ref} deleted"),
            });
        } else if let Some(line) = p.pointer("/head_commit").and_then(commit_line) {
            lines.push(line);
        } else if let Some(after) = str_at(p, "/after") {
            lines.push(format!("{git_ref} now at {}", short_sha(after)));
        }
    }
    Parts {
        title,
        body: lines.join("\n"),
        url: url_at(p, "/compare").or_else(|| url_at(p, "/repository/html_url")),
        priority: None,
    }
}

/// `pull_request` and `issues`: "<scope>: <noun> #<n> <action>".
fn item(p: &Value, scope: &str, noun: &str, at: &str) -> Parts {
    let number = text_at(p, "/number")
        .or_else(|| text_at(p, &format!("{at}/number")))
        .unwrap_or_else(|| "?".into());
    let mut action = str_at(p, "/action").unwrap_or("updated");
    if action == "closed"
        && p.pointer(&format!("{at}/merged")).and_then(Value::as_bool) == Some(true)
    {
        action = "merged";
    }
    let item_title = str_at(p, &format!("{at}/title")).unwrap_or("(untitled)");
    let body = match str_at(p, &format!("{at}/user/login")) {
        Some(user) => format!("{item_title} (by {user})"),
        None => item_title.to_owned(),
    };
    Parts {
        title: format!("{scope}: {noun} #{number} {action}"),
        body,
        url: url_at(p, &format!("{at}/html_url")).or_else(|| url_at(p, "/repository/html_url")),
        priority: None,
    }
}

fn release(p: &Value, scope: &str) -> Parts {
    let tag = str_at(p, "/release/tag_name").unwrap_or("(untagged)");
    let action = str_at(p, "/action").unwrap_or("updated");
    let mut body = str_at(p, "/release/name").unwrap_or(tag).to_owned();
    if let Some(notes) = str_at(p, "/release/body") {
        body.push_str("\n\n");
        body.push_str(&truncate(notes.trim(), MAX_RELEASE_NOTES_CHARS));
    }
    Parts {
        title: format!("{scope}: release {tag} {action}"),
        body,
        url: url_at(p, "/release/html_url").or_else(|| url_at(p, "/repository/html_url")),
        priority: None,
    }
}

/// 4 for a failed or timed-out run, 2 while one is requested or running,
/// 3 otherwise.
fn run_priority(conclusion: Option<&str>, action: Option<&str>) -> u8 {
    match (conclusion, action) {
        (Some("failure" | "timed_out"), _) => 4,
        (_, Some("requested" | "in_progress")) => 2,
        _ => 3,
    }
}

/// `workflow_run` and `check_run`.
fn run(p: &Value, scope: &str, noun: &str, at: &str) -> Parts {
    let field = |name: &str| str_at(p, &format!("{at}/{name}"));
    let name = field("name")
        .or_else(|| str_at(p, "/workflow/name"))
        .unwrap_or(noun);
    let conclusion = field("conclusion");
    let state = conclusion.or(field("status")).unwrap_or("updated");
    let body = if noun == "workflow" {
        let branch = field("head_branch");
        let what = field("display_title").or(branch).unwrap_or("run");
        let mut body = what.to_owned();
        if let Some(branch) = branch {
            body.push_str(&format!(" on {branch}"));
        }
        if let Some(number) = text_at(p, &format!("{at}/run_number")) {
            body.push_str(&format!(" (run #{number})"));
        }
        body
    } else {
        str_at(p, &format!("{at}/output/title"))
            .map(str::to_owned)
            .or_else(|| field("head_sha").map(short_sha))
            .unwrap_or_else(|| name.to_owned())
    };
    Parts {
        title: format!("{scope}: {noun} {name} {state}"),
        body,
        url: url_at(p, &format!("{at}/html_url")).or_else(|| url_at(p, "/repository/html_url")),
        priority: Some(run_priority(conclusion, str_at(p, "/action"))),
    }
}

fn other(p: &Value, event: &str, action: Option<&str>, whom: Option<&str>) -> Parts {
    let what = match action {
        Some(action) => format!("{event} {action}"),
        None => event.to_owned(),
    };
    Parts {
        title: format!("GitHub: {what}"),
        body: match whom {
            Some(whom) => format!("{what} on {whom}"),
            None => what,
        },
        url: url_at(p, "/repository/html_url"),
        priority: None,
    }
}

/// The whole adapter: signature, event, filter, payload, message.
pub fn adapt_request(
    config: &GithubConfig,
    request: &InboundRequest,
) -> Result<Vec<AdaptedMessage>, AdaptError> {
    check_signature(config.secret.as_bytes(), request)?;
    let event = request
        .header_value(EVENT_HEADER)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            AdaptError::Invalid(
                "missing X-GitHub-Event header (not a GitHub webhook delivery?)".into(),
            )
        })?;
    if !config.wants(event) {
        return Ok(Vec::new());
    }
    let payload = payload(request)?;
    Ok(vec![message(
        event,
        request.header_value(DELIVERY_HEADER).map(str::trim),
        &payload,
    )])
}

/// The plugin.
pub struct Github;

impl Adapter for Github {
    type Config = GithubConfig;
    const ID: &'static str = "github";
    const NAME: &'static str = "GitHub";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Reads GitHub webhook deliveries signed with your webhook secret (X-Hub-Signature-256): pushes, pull requests, issues, releases, workflow and check runs become one readable message each.";

    fn validate(config: &GithubConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn adapt(
        config: &GithubConfig,
        request: &InboundRequest,
    ) -> Result<Vec<AdaptedMessage>, AdaptError> {
        validate_config(config)
            .map_err(|e| AdaptError::Invalid(format!("invalid adapter config: {e}")))?;
        adapt_request(config, request)
    }
}

export_adapter!(Github);

#[cfg(test)]
mod tests;
