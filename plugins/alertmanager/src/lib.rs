//! Alertmanager adapter (built into Beacon Spear): reads the JSON that
//! Prometheus Alertmanager's `webhook_config` receiver POSTs (payload
//! version "4") and turns every alert in it into one message.
//!
//! Endpoint config (all optional):
//!
//! ```json
//! {"severity_label": "severity",
//!  "priorities": {"critical": 5, "error": 4, "warning": 4, "info": 2},
//!  "default_priority": 3, "resolved_priority": 2, "send_resolved": true}
//! ```
//!
//! Per alert (see README.md for the whole story):
//!
//! - title: the alert's `alertname` label, else `commonLabels.alertname`,
//!   else "Alertmanager alert";
//! - body: `annotations.summary` and `annotations.description` joined by a
//!   newline (whichever exist), else "<alertname> is <status>";
//! - priority: `resolved_priority` for a resolved alert when set, else the
//!   severity label mapped through `priorities` (case-insensitively), else
//!   `default_priority`;
//! - tags: `[status]`; group: `groupKey`; url: the alert's `generatorURL`,
//!   else `externalURL` (only absolute http(s) URLs); extras: the alert's
//!   labels.

use beacon_plugin_sdk::{
    export_adapter, AdaptError, AdaptedMessage, Adapter, ConfigError, InboundRequest,
};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub use beacon_plugin_sdk::fit::{fit, is_http_url, truncate};

/// The only payload version this adapter reads.
pub const SUPPORTED_VERSION: &str = "4";

/// Title used when neither the alert nor the group has an `alertname`.
pub const DEFAULT_TITLE: &str = "Alertmanager alert";

/// The endpoint's adapter config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// Name of the alert label that holds the severity (looked up on each
    /// alert's own labels). Default: `severity`.
    #[schemars(length(min = 1), example = &"severity")]
    pub severity_label: String,
    /// Priority (1 lowest … 5 critical) for each severity value; values are
    /// matched case-insensitively. Setting this replaces the whole default
    /// map `{"critical": 5, "error": 4, "warning": 4, "info": 2}`.
    #[schemars(schema_with = "priority_map_schema")]
    pub priorities: BTreeMap<String, u8>,
    /// Priority (1-5) of an alert without the severity label, or whose
    /// severity is not in `priorities`. Default: 3.
    #[schemars(range(min = 1, max = 5))]
    pub default_priority: u8,
    /// When set (1-5), every resolved alert gets this priority instead of
    /// the one its severity maps to, e.g. 2 so recoveries stay quiet.
    #[schemars(range(min = 1, max = 5))]
    pub resolved_priority: Option<u8>,
    /// Whether resolved alerts become messages too. Default: true; false
    /// drops them (Alertmanager's own `send_resolved` can also stop them
    /// at the source).
    pub send_resolved: bool,
}

impl Default for AlertmanagerConfig {
    fn default() -> Self {
        Self {
            severity_label: "severity".into(),
            priorities: default_priorities(),
            default_priority: 3,
            resolved_priority: None,
            send_resolved: true,
        }
    }
}

/// `{"critical": 5, "error": 4, "warning": 4, "info": 2}`.
pub fn default_priorities() -> BTreeMap<String, u8> {
    [("critical", 5), ("error", 4), ("warning", 4), ("info", 2)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn priority_map_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
        "default": {"critical": 5, "error": 4, "warning": 4, "info": 2},
        "examples": [{"critical": 5, "high": 4, "warning": 3, "info": 1}]
    })
}

impl AlertmanagerConfig {
    /// The priority for a severity value (case-insensitive), if mapped.
    pub fn priority_of(&self, severity: &str) -> Option<u8> {
        let wanted = severity.trim().to_lowercase();
        self.priorities
            .iter()
            .find(|(name, _)| name.trim().to_lowercase() == wanted)
            .map(|(_, p)| *p)
    }
}

/// Everything `validate-config` checks beyond reading the config; `adapt`
/// runs it too.
pub fn validate_config(config: &AlertmanagerConfig) -> Result<(), ConfigError> {
    if config.severity_label.trim().is_empty() {
        return Err(ConfigError::new(
            "severity_label",
            "must name a label (omit it for `severity`)",
        ));
    }
    for (name, priority) in &config.priorities {
        if !(1..=5).contains(priority) {
            return Err(ConfigError::new(
                format!("priorities.{name}"),
                "must be a priority from 1 to 5",
            ));
        }
    }
    if !(1..=5).contains(&config.default_priority) {
        return Err(ConfigError::new(
            "default_priority",
            "must be a priority from 1 to 5",
        ));
    }
    if let Some(p) = config.resolved_priority {
        if !(1..=5).contains(&p) {
            return Err(ConfigError::new(
                "resolved_priority",
                "must be a priority from 1 to 5 (or left out)",
            ));
        }
    }
    Ok(())
}

/// A JSON value as label text: strings as they are, anything else compact.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A non-blank string field of an object.
fn string_at<'a>(object: Option<&'a Map<String, Value>>, key: &str) -> Option<&'a str> {
    object
        .and_then(|o| o.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The messages for one webhook body.
pub fn adapt_body(
    config: &AlertmanagerConfig,
    body: &[u8],
) -> Result<Vec<AdaptedMessage>, AdaptError> {
    let payload: Value = serde_json::from_slice(body).map_err(|e| {
        AdaptError::Invalid(format!(
            "the body is not JSON ({e}); expected an Alertmanager webhook payload"
        ))
    })?;
    let Value::Object(payload) = payload else {
        return Err(AdaptError::Invalid(
            "the body is not a JSON object; expected an Alertmanager webhook payload".into(),
        ));
    };
    match payload.get("version") {
        Some(Value::String(v)) if v == SUPPORTED_VERSION => {}
        Some(Value::String(v)) => {
            return Err(AdaptError::Invalid(format!(
                "unsupported Alertmanager webhook version {} (expected \"{SUPPORTED_VERSION}\")",
                Value::String(v.clone())
            )))
        }
        Some(other) => {
            return Err(AdaptError::Invalid(format!(
                "unsupported Alertmanager webhook version {other} (expected \"{SUPPORTED_VERSION}\")"
            )))
        }
        None => {
            return Err(AdaptError::Invalid(format!(
                "the body has no `version`; expected an Alertmanager webhook payload (version \"{SUPPORTED_VERSION}\")"
            )))
        }
    }
    let alerts = match payload.get("alerts") {
        Some(Value::Array(alerts)) => alerts,
        Some(_) => {
            return Err(AdaptError::Invalid(
                "`alerts` is not a list; expected an Alertmanager webhook payload".into(),
            ))
        }
        None => {
            return Err(AdaptError::Invalid(
                "the body has no `alerts` list; expected an Alertmanager webhook payload".into(),
            ))
        }
    };
    let common_labels = payload.get("commonLabels").and_then(Value::as_object);
    let group = string_at(Some(&payload), "groupKey").map(str::to_owned);
    let group_status = string_at(Some(&payload), "status");
    let external_url = string_at(Some(&payload), "externalURL").filter(|u| is_http_url(u));

    let mut messages = Vec::with_capacity(alerts.len());
    for (i, alert) in alerts.iter().enumerate() {
        let Value::Object(alert) = alert else {
            return Err(AdaptError::Invalid(format!("alerts[{i}] is not an object")));
        };
        let labels = alert.get("labels").and_then(Value::as_object);
        let annotations = alert.get("annotations").and_then(Value::as_object);
        let status = string_at(Some(alert), "status")
            .or(group_status)
            .unwrap_or("firing")
            .trim()
            .to_owned();
        let resolved = status.eq_ignore_ascii_case("resolved");
        if resolved && !config.send_resolved {
            continue;
        }
        let alertname =
            string_at(labels, "alertname").or_else(|| string_at(common_labels, "alertname"));
        let title = alertname.unwrap_or(DEFAULT_TITLE).to_owned();
        let body_text = [
            string_at(annotations, "summary"),
            string_at(annotations, "description"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
        let fallback = format!("{title} is {status}");
        let severity = labels.and_then(|l| l.get(&config.severity_label)).map(text);
        let priority = match (resolved, config.resolved_priority) {
            (true, Some(p)) => p,
            _ => severity
                .as_deref()
                .and_then(|s| config.priority_of(s))
                .unwrap_or(config.default_priority),
        };
        let url = string_at(Some(alert), "generatorURL")
            .filter(|u| is_http_url(u))
            .or(external_url);

        let mut message = AdaptedMessage::new(if body_text.is_empty() {
            fallback.clone()
        } else {
            body_text
        })
        .title(title)
        .priority(priority)
        .tag(status.to_lowercase());
        message.group = group.clone();
        message.url = url.map(str::to_owned);
        message.extras = labels
            .map(|l| l.iter().map(|(k, v)| (k.clone(), text(v))).collect())
            .unwrap_or_default();
        messages.push(fit(message, &fallback));
    }
    Ok(messages)
}

/// The plugin.
pub struct Alertmanager;

impl Adapter for Alertmanager {
    type Config = AlertmanagerConfig;
    const ID: &'static str = "alertmanager";
    const NAME: &'static str = "Alertmanager";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Reads Prometheus Alertmanager webhook notifications (payload version 4): one message per alert, titled by its alertname, with its summary and description as the body and its severity as the priority.";

    fn validate(config: &AlertmanagerConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn adapt(
        config: &AlertmanagerConfig,
        request: &InboundRequest,
    ) -> Result<Vec<AdaptedMessage>, AdaptError> {
        validate_config(config)
            .map_err(|e| AdaptError::Invalid(format!("invalid adapter config: {e}")))?;
        adapt_body(config, &request.body)
    }
}

export_adapter!(Alertmanager);

#[cfg(test)]
mod tests;
