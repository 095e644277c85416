//! Payload templates (SPEC §6): every string inside a rule's template JSON may
//! hold `{{path}}` placeholders (whitespace inside the braces allowed) that are
//! replaced by message and request values. Missing values render as empty
//! strings; there is no logic. Keys are not templated, only string values.

use std::collections::BTreeMap;

use serde_json::Value;

/// Everything a template can refer to, flattened once per message.
#[derive(Clone, Debug, Default)]
pub struct TemplateContext {
    values: BTreeMap<String, String>,
}

/// The message and request facts a context is built from.
pub struct ContextSource<'a> {
    pub message_id: &'a str,
    pub received_at: &'a str,
    pub title: Option<&'a str>,
    pub body: &'a str,
    pub group: Option<&'a str>,
    pub priority: i64,
    pub tags: &'a [String],
    pub url: Option<&'a str>,
    pub extras: &'a BTreeMap<String, String>,
    pub content_type: &'a str,
    pub remote_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// Already redacted; names in any case.
    pub headers: &'a BTreeMap<String, String>,
    pub query: &'a BTreeMap<String, String>,
    pub endpoint_id: &'a str,
    pub endpoint_name: &'a str,
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
    pub fn new(source: &ContextSource<'_>) -> Self {
        let mut values = BTreeMap::new();
        let mut put = |key: String, value: &str| {
            values.insert(key, value.to_string());
        };
        put("message.id".into(), source.message_id);
        put("message.received_at".into(), source.received_at);
        put("message.title".into(), source.title.unwrap_or(""));
        put("message.body".into(), source.body);
        put("message.group".into(), source.group.unwrap_or(""));
        put("message.priority".into(), &source.priority.to_string());
        put("message.tags".into(), &source.tags.join(","));
        put("message.url".into(), source.url.unwrap_or(""));
        for (key, value) in source.extras {
            put(format!("message.extras.{key}"), value);
        }
        put("request.content_type".into(), source.content_type);
        put("request.remote_ip".into(), source.remote_ip.unwrap_or(""));
        put("request.user_agent".into(), source.user_agent.unwrap_or(""));
        for (name, value) in source.headers {
            // Header names are case-insensitive: store them lower-cased and
            // look placeholders up lower-cased too.
            put(
                format!("request.headers.{}", name.to_ascii_lowercase()),
                value,
            );
        }
        for (name, value) in source.query {
            put(format!("request.query.{name}"), value);
        }
        put("ingest_endpoint.id".into(), source.endpoint_id);
        put("ingest_endpoint.name".into(), source.endpoint_name);
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
    use serde_json::json;

    fn context() -> TemplateContext {
        let tags = vec!["ops".to_string(), "disk".to_string()];
        let extras = BTreeMap::from([("host".to_string(), "nas1".to_string())]);
        let headers = BTreeMap::from([
            ("x-request-id".to_string(), "r-7".to_string()),
            ("authorization".to_string(), "[REDACTED]".to_string()),
        ]);
        let query = BTreeMap::from([("source".to_string(), "cron".to_string())]);
        TemplateContext::new(&ContextSource {
            message_id: "m1",
            received_at: "2026-01-01T00:00:00Z",
            title: Some("Disk"),
            body: "95% full",
            group: None,
            priority: 5,
            tags: &tags,
            url: Some("https://x.test"),
            extras: &extras,
            content_type: "application/json",
            remote_ip: Some("203.0.113.9"),
            user_agent: Some("curl/8"),
            headers: &headers,
            query: &query,
            endpoint_id: "e1",
            endpoint_name: "nas",
        })
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
        let extras = BTreeMap::from([("x".to_string(), "{{message.id}}".to_string())]);
        let empty = BTreeMap::new();
        let ctx = TemplateContext::new(&ContextSource {
            message_id: "m1",
            received_at: "",
            title: None,
            body: "{{message.id}}",
            group: None,
            priority: 3,
            tags: &[],
            url: None,
            extras: &extras,
            content_type: "",
            remote_ip: None,
            user_agent: None,
            headers: &empty,
            query: &empty,
            endpoint_id: "",
            endpoint_name: "",
        });
        assert_eq!(
            render_str("{{message.body}}|{{message.extras.x}}", &ctx),
            "{{message.id}}|{{message.id}}"
        );
    }
}
