//! Payload templates (SPEC §6): every string inside a rule's template JSON may
//! hold `{{path}}` placeholders (whitespace inside the braces allowed) that are
//! replaced by message and request values. Missing values render as empty
//! strings; there is no logic. Keys are not templated, only string values.

use std::collections::BTreeMap;

use serde_json::Value;

use super::message::Message;
use super::time::rfc3339;

/// Everything a template can refer to, flattened once per message.
#[derive(Clone, Debug, Default)]
pub struct TemplateContext {
    values: BTreeMap<String, String>,
}

/// The fixed variables, for documentation and the dashboard's reference list.
/// `<key>`/`<name>` stand for any extra, header or query parameter.
pub const VARIABLES: &[(&str, &str)] = &[
    ("message.id", "Message id"),
    ("message.received_at", "Time of ingest, RFC 3339"),
    ("message.title", "Title"),
    ("message.body", "Body"),
    ("message.group", "Group"),
    ("message.priority", "Priority 1–5"),
    ("message.tags", "Tags, comma-joined"),
    ("message.url", "URL"),
    ("message.extras.<key>", "One extra value"),
    ("request.content_type", "Content-Type of the ingest request"),
    ("request.remote_ip", "Client address"),
    ("request.user_agent", "User-Agent"),
    (
        "request.headers.<name>",
        "A request header (redacted values stay [REDACTED])",
    ),
    (
        "request.query.<name>",
        "A query parameter of the ingest URL",
    ),
    ("ingest_endpoint.id", "Ingest endpoint id"),
    ("ingest_endpoint.name", "Ingest endpoint name"),
];

impl TemplateContext {
    /// The variables of one message, flattened once.
    pub fn of(message: &Message) -> Self {
        let mut values = BTreeMap::new();
        let mut put = |key: String, value: &str| {
            values.insert(key, value.to_string());
        };
        let (payload, request) = (&message.payload, &message.request);
        put("message.id".into(), &message.id);
        put("message.received_at".into(), &rfc3339(message.received_at));
        put(
            "message.title".into(),
            payload.title.as_deref().unwrap_or(""),
        );
        put("message.body".into(), &payload.body);
        put(
            "message.group".into(),
            payload.group.as_deref().unwrap_or(""),
        );
        put("message.priority".into(), &payload.priority.to_string());
        put("message.tags".into(), &payload.tags.join(","));
        put("message.url".into(), payload.url.as_deref().unwrap_or(""));
        for (key, value) in &payload.extras {
            put(format!("message.extras.{key}"), value);
        }
        put("request.content_type".into(), &request.content_type);
        put(
            "request.remote_ip".into(),
            request.remote_ip.as_deref().unwrap_or(""),
        );
        put(
            "request.user_agent".into(),
            request.user_agent.as_deref().unwrap_or(""),
        );
        for (name, value) in &request.headers {
            // Header names are case-insensitive: store them lower-cased and
            // look placeholders up lower-cased too.
            put(
                format!("request.headers.{}", name.to_ascii_lowercase()),
                value,
            );
        }
        for (name, value) in &request.query {
            put(format!("request.query.{name}"), value);
        }
        put("ingest_endpoint.id".into(), &message.endpoint_id);
        put("ingest_endpoint.name".into(), &message.endpoint_name);
        TemplateContext { values }
    }

    fn lookup(&self, path: &str) -> &str {
        if let Some(value) = self.values.get(path) {
            return value;
        }
        match path.strip_prefix("request.headers.") {
            Some(name) => self
                .values
                .get(&format!("request.headers.{}", name.to_ascii_lowercase()))
                .map(String::as_str)
                .unwrap_or(""),
            None => "",
        }
    }
}

/// Renders every string of `template` (recursively through arrays and objects).
pub fn render(template: &Value, context: &TemplateContext) -> Value {
    match template {
        Value::String(text) => Value::String(render_str(text, context)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| render(item, context)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), render(value, context)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Replaces each `{{ path }}`; text without a closing `}}` is kept as it is.
/// A hand-written scanner: the grammar is one token kind, and a template
/// engine crate would bring logic (conditionals, escaping) the spec excludes.
pub fn render_str(text: &str, context: &TemplateContext) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                out.push_str(context.lookup(after[..end].trim()));
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::sample;
    use serde_json::json;

    fn context() -> TemplateContext {
        TemplateContext::of(&sample::message())
    }

    #[test]
    fn every_variable_renders() {
        let ctx = context();
        for (template, expected) in [
            ("{{message.id}}", "m1"),
            ("{{message.received_at}}", "2026-01-01T00:00:00Z"),
            ("{{message.title}}", "Disk"),
            ("{{message.body}}", "95% full"),
            ("{{message.group}}", ""),
            ("{{message.priority}}", "5"),
            ("{{message.tags}}", "ops,disk"),
            ("{{message.url}}", "https://x.test"),
            ("{{message.extras.host}}", "nas1"),
            ("{{request.content_type}}", "application/json"),
            ("{{request.remote_ip}}", "203.0.113.9"),
            ("{{request.user_agent}}", "curl/8"),
            ("{{request.headers.X-Request-Id}}", "r-7"),
            ("{{request.headers.authorization}}", "[REDACTED]"),
            ("{{request.query.source}}", "cron"),
            ("{{ingest_endpoint.id}}", "e1"),
            ("{{ingest_endpoint.name}}", "nas"),
        ] {
            assert_eq!(render_str(template, &ctx), expected, "{template}");
        }
    }

    #[test]
    fn whitespace_missing_values_and_literals() {
        let ctx = context();
        assert_eq!(
            render_str("[{{  message.title   }}] {{message.body}}", &ctx),
            "[Disk] 95% full"
        );
        assert_eq!(
            render_str("x{{message.extras.nope}}y{{unknown.path}}z", &ctx),
            "xyz"
        );
        assert_eq!(render_str("no placeholders", &ctx), "no placeholders");
        assert_eq!(
            render_str("open {{message.title", &ctx),
            "open {{message.title"
        );
        assert_eq!(render_str("{{}}", &ctx), "");
    }

    #[test]
    fn renders_nested_strings_only() {
        let template = json!({"title": "{{message.title}}", "n": 3, "flag": true, "list": ["{{message.priority}}", null],
                              "nested": {"{{message.id}}": "{{ingest_endpoint.name}}"}});
        let rendered = render(&template, &context());
        assert_eq!(
            rendered,
            json!({"title": "Disk", "n": 3, "flag": true, "list": ["5", null], "nested": {"{{message.id}}": "nas"}})
        );
    }

    #[test]
    fn values_are_not_rendered_twice() {
        let mut message = sample::message();
        message.payload.body = "{{message.id}}".into();
        message
            .payload
            .extras
            .insert("x".into(), "{{message.id}}".into());
        let ctx = TemplateContext::of(&message);
        assert_eq!(
            render_str("{{message.body}}|{{message.extras.x}}", &ctx),
            "{{message.id}}|{{message.id}}"
        );
    }
}
