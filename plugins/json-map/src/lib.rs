//! JSON mapping adapter (built into Beacon Spear): turns any JSON webhook
//! body (Grafana, Uptime Kuma, Home Assistant, your own scripts, ...) into
//! messages, with each message field given by a *spec*.
//!
//! ```json
//! {"items": "/alerts", "title": "{{/labels/alertname}}", "body": "/annotations/summary",
//!  "priority": "/labels/severity", "priorities": {"critical": 5, "warning": 4},
//!  "click": "/generatorURL", "extras": {"zone": "/labels/zone"}}
//! ```
//!
//! A spec is either
//!
//! - a **JSON pointer** (RFC 6901): a string starting with `/`, such as
//!   `/monitor/name`, or `""` for the whole item; the field gets the value
//!   there; or
//! - a **template**: any other string. Each `{{/pointer}}` in it is replaced
//!   by the value there (strings as they are, numbers and booleans as text,
//!   null or missing as nothing, objects and arrays as compact JSON); the
//!   rest is literal text, so a spec without `{{` is a constant.
//!
//! With `items` (a pointer to an array) every element becomes one message
//! and the specs resolve against the element; without it the whole body is
//! the one item. See README.md for the field conversions.

use beacon_plugin_sdk::{
    export_adapter, AdaptError, AdaptedMessage, Adapter, ConfigError, InboundRequest,
};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

use beacon_plugin_sdk::fit;
pub use beacon_plugin_sdk::fit::{fit, is_http_url, truncate};

/// Priority used when none can be read (and `default_priority` is unset).
pub const DEFAULT_PRIORITY: u8 = 3;

/// The endpoint's adapter config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonMapConfig {
    /// The message text. A JSON pointer such as `/message`, or a template
    /// such as `{{/monitor/name}}: {{/heartbeat/msg}}`. When it comes out
    /// empty, the item's JSON is stored as the body instead.
    #[schemars(length(min = 1), example = &"/message", example = &"{{/monitor/name}}: {{/msg}}")]
    pub body: String,
    /// The title: a JSON pointer (`/title`) or a template
    /// (`{{/labels/alertname}} on {{/labels/instance}}`). Empty: no title.
    #[serde(default)]
    #[schemars(example = &"{{/labels/alertname}}")]
    pub title: Option<String>,
    /// Where the priority comes from: a number 1-5, numeric text, or a word
    /// looked up in `priorities` (e.g. a pointer to `/labels/severity`).
    /// Anything else gets `default_priority`.
    #[serde(default)]
    #[schemars(example = &"/labels/severity")]
    pub priority: Option<String>,
    /// Tags: a pointer to an array of strings, or a pointer or template that
    /// gives comma-separated text (e.g. `{{/status}},grafana`). Blank
    /// entries are dropped; at most 20 tags of 64 characters are kept.
    #[serde(default)]
    #[schemars(example = &"{{/status}},grafana")]
    pub tags: Option<String>,
    /// The group (messages of one group are shown together), e.g.
    /// `/monitor/name` or a constant such as `Home Assistant`.
    #[serde(default)]
    #[schemars(example = &"/monitor/name")]
    pub group: Option<String>,
    /// The click target; used only when it comes out as an absolute
    /// http(s) URL, e.g. `/generatorURL`.
    #[serde(default)]
    #[schemars(example = &"/generatorURL")]
    pub click: Option<String>,
    /// Extra string fields to keep with the message: name → spec, e.g.
    /// `{"zone": "/labels/zone"}`. Extras that come out empty are left out.
    #[serde(default)]
    #[schemars(extend("maxProperties" = 50))]
    pub extras: BTreeMap<String, String>,
    /// A JSON pointer to an array in the body (e.g. `/alerts`): each
    /// element becomes one message and the other specs are read from the
    /// element. Leave it out to make the whole body one message.
    #[serde(default)]
    #[schemars(example = &"/alerts")]
    pub items: Option<String>,
    /// Priority (1-5) for words the `priority` spec can yield, matched
    /// case-insensitively, e.g. `{"critical": 5, "warning": 4, "down": 5}`.
    /// Checked before numbers, so `{"0": 5}` maps a status code 0.
    #[serde(default)]
    #[schemars(schema_with = "priority_map_schema")]
    pub priorities: BTreeMap<String, u8>,
    /// Priority (1-5) when the `priority` spec is not set or yields nothing
    /// usable. Default: 3.
    #[serde(default = "default_priority")]
    #[schemars(range(min = 1, max = 5))]
    pub default_priority: u8,
}

fn default_priority() -> u8 {
    DEFAULT_PRIORITY
}

fn priority_map_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
        "examples": [{"critical": 5, "warning": 4, "info": 2}]
    })
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A `{{/pointer}}`.
    Pointer(String),
}

/// A parsed spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A JSON pointer (`""` is the whole item).
    Pointer(String),
    /// Text with `{{/pointer}}` placeholders.
    Template(Vec<Piece>),
}

/// What a spec yields for one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered<'a> {
    /// The value a pointer spec points at (`None`: nothing there).
    Value(Option<&'a Value>),
    /// A template's text.
    Text(String),
}

fn check_pointer(pointer: &str) -> Result<(), String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "{pointer:?} is not a JSON pointer: it must start with / (e.g. /monitor/name)"
        ));
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!(
                "{pointer:?} is not a valid JSON pointer: `~` must be followed by 0 (for ~) or 1 (for /)"
            ));
        }
    }
    Ok(())
}

impl Spec {
    /// Parses a spec; the error is a sentence for the field's message.
    pub fn parse(text: &str) -> Result<Spec, String> {
        if text.is_empty() || text.starts_with('/') {
            check_pointer(text)?;
            return Ok(Spec::Pointer(text.to_owned()));
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| "has a `{{` without a closing `}}`".to_owned())?;
            let pointer = after[..end].trim();
            if !pointer.starts_with('/') {
                return Err(format!(
                    "`{{{{{}}}}}` must hold a JSON pointer starting with /, e.g. {{{{/monitor/name}}}}",
                    &after[..end]
                ));
            }
            check_pointer(pointer)?;
            pieces.push(Piece::Pointer(pointer.to_owned()));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Ok(Spec::Template(pieces))
    }

    /// What the spec yields for `item`.
    pub fn render<'a>(&self, item: &'a Value) -> Rendered<'a> {
        match self {
            Spec::Pointer(pointer) => Rendered::Value(item.pointer(pointer)),
            Spec::Template(pieces) => Rendered::Text(
                pieces
                    .iter()
                    .map(|piece| match piece {
                        Piece::Text(text) => text.clone(),
                        Piece::Pointer(pointer) => value_text(item.pointer(pointer)),
                    })
                    .collect(),
            ),
        }
    }

    /// What the spec yields for `item`, as text.
    pub fn text(&self, item: &Value) -> String {
        match self.render(item) {
            Rendered::Value(value) => value_text(value),
            Rendered::Text(text) => text,
        }
    }
}

/// A value as text: strings as they are, numbers and booleans as text,
/// null or missing as "", objects and arrays as compact JSON.
pub fn value_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn parse_field(field: &str, spec: &str) -> Result<Spec, ConfigError> {
    Spec::parse(spec).map_err(|why| ConfigError::new(field, why))
}

fn check_priority(field: &str, priority: u8) -> Result<(), ConfigError> {
    if (1..=5).contains(&priority) {
        Ok(())
    } else {
        Err(ConfigError::new(field, "must be a priority from 1 to 5"))
    }
}

/// The config with its specs parsed.
#[derive(Debug, Clone)]
pub struct Mapping {
    body: Spec,
    title: Option<Spec>,
    priority: Option<Spec>,
    tags: Option<Spec>,
    group: Option<Spec>,
    click: Option<Spec>,
    extras: Vec<(String, Spec)>,
    items: Option<String>,
    priorities: Vec<(String, u8)>,
    default_priority: u8,
}

/// Checks `config` and parses its specs; errors name the field (`title`,
/// `extras.host`, `priorities.down`, ...).
pub fn compile(config: &JsonMapConfig) -> Result<Mapping, ConfigError> {
    if config.body.is_empty() {
        return Err(ConfigError::new(
            "body",
            "must not be empty: give a JSON pointer such as /message or a template",
        ));
    }
    let optional = |field: &str, spec: &Option<String>| {
        spec.as_deref().map(|s| parse_field(field, s)).transpose()
    };
    if config.extras.len() > fit::MAX_EXTRAS {
        return Err(ConfigError::new(
            "extras",
            format!("at most {} extras can be kept", fit::MAX_EXTRAS),
        ));
    }
    let mut extras = Vec::with_capacity(config.extras.len());
    for (name, spec) in &config.extras {
        if name.trim().is_empty() {
            return Err(ConfigError::new("extras", "extra names must not be empty"));
        }
        extras.push((name.clone(), parse_field(&format!("extras.{name}"), spec)?));
    }
    if let Some(items) = &config.items {
        check_pointer(items).map_err(|why| ConfigError::new("items", why))?;
    }
    let mut priorities = Vec::with_capacity(config.priorities.len());
    for (word, priority) in &config.priorities {
        check_priority(&format!("priorities.{word}"), *priority)?;
        priorities.push((word.trim().to_lowercase(), *priority));
    }
    check_priority("default_priority", config.default_priority)?;
    Ok(Mapping {
        body: parse_field("body", &config.body)?,
        title: optional("title", &config.title)?,
        priority: optional("priority", &config.priority)?,
        tags: optional("tags", &config.tags)?,
        group: optional("group", &config.group)?,
        click: optional("click", &config.click)?,
        extras,
        items: config.items.clone(),
        priorities,
        default_priority: config.default_priority,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Mapping {
    /// The priority for what the `priority` spec yields.
    fn priority(&self, item: &Value) -> u8 {
        let Some(spec) = &self.priority else {
            return self.default_priority;
        };
        let text = match spec.render(item) {
            Rendered::Value(Some(Value::String(s))) => s.clone(),
            Rendered::Value(Some(value @ (Value::Number(_) | Value::Bool(_)))) => value.to_string(),
            Rendered::Value(_) => return self.default_priority,
            Rendered::Text(text) => text,
        };
        let word = text.trim().to_lowercase();
        if let Some((_, p)) = self.priorities.iter().find(|(w, _)| *w == word) {
            return *p;
        }
        match word.parse::<f64>() {
            Ok(n) if n.fract() == 0.0 && (1.0..=5.0).contains(&n) => n as u8,
            _ => self.default_priority,
        }
    }

    fn tags(&self, item: &Value) -> Vec<String> {
        let split = |text: &str| -> Vec<String> {
            text.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match self.tags.as_ref().map(|spec| spec.render(item)) {
            None | Some(Rendered::Value(None | Some(Value::Null | Value::Object(_)))) => Vec::new(),
            Some(Rendered::Value(Some(Value::Array(values)))) => values
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.trim().to_owned()),
                    Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
                    _ => None,
                })
                .filter(|t| !t.is_empty())
                .collect(),
            Some(Rendered::Value(Some(Value::String(s)))) => split(s),
            Some(Rendered::Value(Some(other))) => vec![other.to_string()],
            Some(Rendered::Text(text)) => split(&text),
        }
    }

    /// The message for one item.
    pub fn message(&self, item: &Value) -> AdaptedMessage {
        let text = |spec: &Option<Spec>| spec.as_ref().map(|s| s.text(item));
        let fallback = item.to_string();
        let mut message = AdaptedMessage::new(self.body.text(item));
        message.title = text(&self.title);
        message.group = text(&self.group);
        message.priority = Some(self.priority(item));
        message.tags = self.tags(item);
        message.url = text(&self.click)
            .map(|u| u.trim().to_owned())
            .filter(|u| is_http_url(u));
        message.extras = self
            .extras
            .iter()
            .map(|(name, spec)| (name.clone(), spec.text(item)))
            .filter(|(_, value)| !value.trim().is_empty())
            .collect();
        fit(message, &fallback)
    }

    /// The messages for a whole body.
    pub fn adapt(&self, body: &[u8]) -> Result<Vec<AdaptedMessage>, AdaptError> {
        let document: Value = serde_json::from_slice(body)
            .map_err(|e| AdaptError::Invalid(format!("the body is not JSON: {e}")))?;
        let Some(pointer) = &self.items else {
            return Ok(vec![self.message(&document)]);
        };
        match document.pointer(pointer) {
            Some(Value::Array(items)) => Ok(items.iter().map(|item| self.message(item)).collect()),
            Some(other) => Err(AdaptError::Invalid(format!(
                "`items` points at {pointer:?}, which is {} in this body, not an array",
                kind(other)
            ))),
            None => Err(AdaptError::Invalid(format!(
                "`items` points at {pointer:?}, which is not in this body"
            ))),
        }
    }
}

/// Everything `validate-config` checks beyond reading the config.
pub fn validate_config(config: &JsonMapConfig) -> Result<(), ConfigError> {
    compile(config).map(|_| ())
}

/// The plugin.
pub struct JsonMap;

impl Adapter for JsonMap {
    type Config = JsonMapConfig;
    const ID: &'static str = "json-map";
    const NAME: &'static str = "JSON mapping";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Maps any JSON webhook body to messages: each field is a JSON pointer (/monitor/name) or a template ({{/labels/alertname}} is {{/status}}), optionally one message per element of an array.";

    fn validate(config: &JsonMapConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn adapt(
        config: &JsonMapConfig,
        request: &InboundRequest,
    ) -> Result<Vec<AdaptedMessage>, AdaptError> {
        compile(config)
            .map_err(|e| AdaptError::Invalid(format!("invalid adapter config: {e}")))?
            .adapt(&request.body)
    }
}

export_adapter!(JsonMap);

#[cfg(test)]
mod tests;
