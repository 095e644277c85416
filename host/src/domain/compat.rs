//! The publishing protocols of ntfy, Gotify and Bark, translated into a
//! native ingest object (`body`, `title`, `priority`, `tags`, `url`,
//! `group`, `extras`) that [`payload::from_object`](super::payload) then
//! validates like any other ingest body, so every protocol gets the same
//! limits and the same field-named errors. Pure: no I/O, no HTTP types.
//!
//! Each translator follows what the original server accepts from its own
//! clients (ntfy's `server/server.go` header and query aliases, Gotify's
//! message model, Bark's path and parameter forms).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::payload::{self, Payload, Schedule};
use super::Invalid;

type Checked<T> = Result<T, Invalid>;

/// Header names (lower case) and query parameters of a request, in order.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

impl Params {
    /// The first header among `headers`, else the first query parameter
    /// among `query` (ntfy reads every option either way).
    fn first(&self, headers: &[&str], query: &[&str]) -> Option<&str> {
        let header = headers.iter().find_map(|name| {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        });
        header.or_else(|| {
            query.iter().find_map(|name| {
                self.query
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            })
        })
    }
}

/// ntfy's message when the body is empty.
const NTFY_EMPTY_MESSAGE: &str = "triggered";

/// ntfy priorities by number or name (`urgent` and `max` are the same).
fn ntfy_priority(raw: &str) -> Checked<i64> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "min" => Ok(1),
        "2" | "low" => Ok(2),
        "" | "3" | "default" => Ok(3),
        "4" | "high" => Ok(4),
        "5" | "max" | "urgent" => Ok(5),
        _ => Err(Invalid::field(
            "priority",
            "must be 1-5 or min, low, default, high, max, urgent",
        )),
    }
}

fn is_yes(raw: &str) -> bool {
    matches!(
        raw.trim().to_ascii_lowercase().as_str(),
        "1" | "yes" | "true"
    )
}

/// The ntfy options kept as extras when a client sends them.
const NTFY_EXTRAS: [(&str, &[&str], &[&str]); 5] = [
    ("icon", &["x-icon", "icon"], &["icon"]),
    ("attach", &["x-attach", "attach", "a"], &["attach", "a"]),
    (
        "filename",
        &["x-filename", "filename", "file", "f"],
        &["filename", "file", "f"],
    ),
    (
        "actions",
        &["x-actions", "actions", "action"],
        &["actions", "action"],
    ),
    (
        "email",
        &["x-email", "x-e-mail", "email", "e-mail", "mail", "e"],
        &["email", "e-mail", "mail", "e"],
    ),
];

/// `PUT|POST /compat/ntfy/{topic}`: the body is the message, options come
/// as headers (`Title`/`X-Title`/`t`, `Priority`/`X-Priority`/`p`,
/// `Tags`/`X-Tags`/`ta`, `Click`, `Markdown`, `Delay`/`At`/`In`, ...) or
/// query parameters.
pub fn ntfy_publish(params: &Params, body: &[u8]) -> Checked<(Payload, Option<Schedule>)> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Invalid::malformed("invalid_utf8", "the request body is not valid UTF-8"))?;
    let message = match params.first(&["x-message", "message", "m"], &["message", "m"]) {
        Some(message) if text.trim().is_empty() => message.to_string(),
        _ if text.trim().is_empty() => NTFY_EMPTY_MESSAGE.to_string(),
        _ => text.to_string(),
    };
    let mut object = Map::new();
    object.insert("body".into(), json!(message));
    if let Some(title) = params.first(&["x-title", "title", "ti", "t"], &["title", "ti", "t"]) {
        object.insert("title".into(), json!(title));
    }
    if let Some(priority) = params.first(
        &["x-priority", "priority", "prio", "p"],
        &["priority", "prio", "p"],
    ) {
        object.insert("priority".into(), json!(ntfy_priority(priority)?));
    }
    if let Some(tags) = params.first(&["x-tags", "tags", "tag", "ta"], &["tags", "tag", "ta"]) {
        object.insert("tags".into(), json!(split_list(tags)));
    }
    if let Some(click) = params.first(&["x-click", "click"], &["click"]) {
        object.insert("url".into(), json!(click));
    }
    let schedule = params
        .first(
            &["x-delay", "delay", "x-at", "at", "x-in", "in"],
            &["delay", "at", "in"],
        )
        .map(ntfy_time)
        .transpose()?;
    let mut extras = Map::new();
    if params
        .first(&["x-markdown", "markdown", "md"], &["markdown", "md"])
        .is_some_and(is_yes)
        || params
            .first(&["content-type"], &[])
            .is_some_and(|t| t.starts_with("text/markdown"))
    {
        extras.insert("markdown".into(), json!("true"));
    }
    for (extra, headers, query) in NTFY_EXTRAS {
        if let Some(value) = params.first(headers, query) {
            extras.insert(extra.into(), json!(value));
        }
    }
    if !extras.is_empty() {
        object.insert("extras".into(), Value::Object(extras));
    }
    Ok((from_object(object)?, schedule))
}

/// ntfy's `Delay`/`At`/`In`: a duration (`30m`, `2h`, `1d`), Unix seconds,
/// or an RFC 3339 time. (ntfy's natural-language times are not read.)
fn ntfy_time(text: &str) -> Checked<Schedule> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Schedule::parse_time(text, "delay");
    }
    Schedule::parse_delay(text, "delay")
        .or_else(|_| Schedule::parse_time(text, "delay"))
        .map_err(|_| {
            Invalid::field(
                "delay",
                "must be a duration (30m, 2h, 1d), Unix seconds or an RFC 3339 time",
            )
        })
}

/// `POST /compat/ntfy` with ntfy's JSON publish body: the topic (the
/// endpoint id) and the message. Returns the topic and the payload.
pub fn ntfy_json(body: &[u8]) -> Checked<(String, Payload, Option<Schedule>)> {
    let mut object = json_object(body)?;
    let topic = match object.remove("topic") {
        Some(Value::String(topic)) if !topic.is_empty() => topic,
        _ => return Err(Invalid::field("topic", "is required (the endpoint id)")),
    };
    let mut native = Map::new();
    let message = match object.remove("message") {
        Some(Value::String(message)) if !message.trim().is_empty() => message,
        None | Some(Value::Null) => NTFY_EMPTY_MESSAGE.to_string(),
        Some(Value::String(_)) => NTFY_EMPTY_MESSAGE.to_string(),
        Some(_) => return Err(Invalid::field("message", "must be a string")),
    };
    native.insert("body".into(), json!(message));
    move_field(&mut object, "title", &mut native, "title");
    match object.remove("priority") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => {
            native.insert("priority".into(), json!(ntfy_priority(&n.to_string())?));
        }
        Some(_) => return Err(Invalid::field("priority", "must be an integer from 1 to 5")),
    }
    move_field(&mut object, "tags", &mut native, "tags");
    move_field(&mut object, "click", &mut native, "url");
    let schedule = match object.remove("delay") {
        None | Some(Value::Null) => None,
        Some(Value::String(delay)) => Some(ntfy_time(&delay)?),
        Some(Value::Number(n)) => Some(ntfy_time(&n.to_string())?),
        Some(_) => return Err(Invalid::field("delay", "must be a string")),
    };
    let mut extras = Map::new();
    if object.remove("markdown") == Some(Value::Bool(true)) {
        extras.insert("markdown".into(), json!("true"));
    }
    for key in ["icon", "attach", "filename", "email", "call", "actions"] {
        if let Some(value) = object.remove(key) {
            extras.insert(key.into(), json!(as_text(value)));
        }
    }
    if !extras.is_empty() {
        native.insert("extras".into(), Value::Object(extras));
    }
    Ok((topic, from_object(native)?, schedule))
}

/// Gotify priorities (0-10) on Beacon's 1-5 scale, as Gotify's own clients
/// group them: 0 silent, 1-3 low, 4-7 normal, 8-9 high, 10 the loudest.
fn gotify_priority(priority: i64) -> i64 {
    match priority {
        i64::MIN..=0 => 1,
        1..=3 => 2,
        4..=7 => 3,
        8..=9 => 4,
        _ => 5,
    }
}

/// `POST /compat/gotify/message`: Gotify's message model (`message`,
/// `title`, `priority` 0-10, `extras` by namespace) as JSON or form fields.
/// `extras.client::notification.click.url` becomes the message URL; each
/// extras namespace is kept as JSON text.
pub fn gotify_message(fields: Map<String, Value>) -> Checked<Payload> {
    let mut fields = fields;
    let mut native = Map::new();
    match fields.remove("message") {
        Some(Value::String(message)) => {
            native.insert("body".into(), json!(message));
        }
        None | Some(Value::Null) => return Err(Invalid::field("message", "is required")),
        Some(_) => return Err(Invalid::field("message", "must be a string")),
    }
    move_field(&mut fields, "title", &mut native, "title");
    match fields.remove("priority") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_i64().is_some() => {
            native.insert(
                "priority".into(),
                json!(gotify_priority(n.as_i64().unwrap_or_default())),
            );
        }
        Some(Value::String(text)) if text.trim().parse::<i64>().is_ok() => {
            native.insert(
                "priority".into(),
                json!(gotify_priority(text.trim().parse().unwrap_or_default())),
            );
        }
        Some(_) => return Err(Invalid::field("priority", "must be an integer")),
    }
    match fields.remove("extras") {
        None | Some(Value::Null) => {}
        Some(Value::Object(extras)) => {
            let click = extras
                .get("client::notification")
                .and_then(|n| n.pointer("/click/url"))
                .and_then(Value::as_str);
            if let Some(url) = click {
                native.insert("url".into(), json!(url));
            }
            let flat: Map<String, Value> = extras
                .into_iter()
                .map(|(key, value)| (key, json!(as_text(value))))
                .collect();
            native.insert("extras".into(), Value::Object(flat));
        }
        Some(_) => return Err(Invalid::field("extras", "must be an object")),
    }
    from_object(native)
}

/// Bark levels on Beacon's priority scale.
fn bark_priority(level: &str) -> Checked<i64> {
    match level {
        "passive" => Ok(2),
        "active" => Ok(3),
        "timeSensitive" | "timesensitive" => Ok(4),
        "critical" => Ok(5),
        _ => Err(Invalid::field(
            "level",
            "must be active, timeSensitive, passive or critical",
        )),
    }
}

/// Bark's push: the texts from the path (`/{key}/{body}`,
/// `/{key}/{title}/{body}`, `/{key}/{title}/{subtitle}/{body}`) and the
/// parameters from the query, a form or a JSON body (later wins: path,
/// then query, then body, as Bark reads them). `device_key`/`key` are
/// the credential, not message fields.
pub fn bark_push(path: &[String], params: &BTreeMap<String, String>) -> Checked<Payload> {
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    match path {
        [] => {}
        [body] => {
            fields.insert("body", body.clone());
        }
        [title, body] => {
            fields.insert("title", title.clone());
            fields.insert("body", body.clone());
        }
        [title, subtitle, body, ..] => {
            fields.insert("title", title.clone());
            fields.insert("subtitle", subtitle.clone());
            fields.insert("body", body.clone());
        }
    }
    for (name, value) in params {
        if !matches!(name.as_str(), "device_key" | "device_keys" | "key") {
            fields.insert(name.as_str(), value.clone());
        }
    }
    let mut native = Map::new();
    let mut extras = Map::new();
    for (name, value) in fields {
        match name {
            "body" | "title" | "group" | "url" => {
                native.insert(name.into(), json!(value));
            }
            "level" => {
                native.insert("priority".into(), json!(bark_priority(&value)?));
            }
            other => {
                extras.insert(other.into(), json!(value));
            }
        }
    }
    if !extras.is_empty() {
        native.insert("extras".into(), Value::Object(extras));
    }
    from_object(native)
}

/// A JSON or form body as flat text parameters (Bark's POST forms).
pub fn flat_params(value: Map<String, Value>) -> BTreeMap<String, String> {
    value
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k, as_text(v)))
        .collect()
}

/// A request body that must be one JSON object.
pub fn json_object(body: &[u8]) -> Checked<Map<String, Value>> {
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        Invalid::malformed(
            "malformed_json",
            format!("the request body is not valid JSON: {err}"),
        )
    })?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(Invalid::field(
            "$",
            "the request body must be a JSON object",
        )),
    }
}

/// `application/x-www-form-urlencoded` fields as a JSON object of strings.
pub fn form_object(body: &[u8]) -> Map<String, Value> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_string)
        .collect()
}

fn move_field(from: &mut Map<String, Value>, key: &str, to: &mut Map<String, Value>, as_key: &str) {
    if let Some(value) = from.remove(key) {
        if !value.is_null() {
            to.insert(as_key.into(), value);
        }
    }
}

fn as_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

fn from_object(object: Map<String, Value>) -> Checked<Payload> {
    if let Some(field) = payload::nul_path(&object) {
        return Err(payload::nul_error(&field));
    }
    payload::from_object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(headers: &[(&str, &str)], query: &[(&str, &str)]) -> Params {
        Params {
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn field_of<T: std::fmt::Debug>(result: Checked<T>) -> String {
        match result {
            Err(Invalid::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn ntfy_headers_and_their_aliases() {
        let (p, _) = ntfy_publish(
            &params(
                &[
                    ("X-Title", "Backup"),
                    ("Priority", "urgent"),
                    ("Tags", "warning, skull ,"),
                    ("Click", "https://nas.example.com/"),
                    ("Markdown", "yes"),
                    ("X-Icon", "https://x.example/i.png"),
                ],
                &[],
            ),
            b"Backup failed",
        )
        .expect("valid");
        assert_eq!(p.body, "Backup failed");
        assert_eq!(p.title.as_deref(), Some("Backup"));
        assert_eq!(p.priority, 5);
        assert_eq!(p.tags, ["warning", "skull"]);
        assert_eq!(p.url.as_deref(), Some("https://nas.example.com/"));
        assert_eq!(p.extras["markdown"], "true");
        assert_eq!(p.extras["icon"], "https://x.example/i.png");
        let (short, _) =
            ntfy_publish(&params(&[("t", "T"), ("p", "2")], &[]), b"x").expect("valid");
        assert_eq!((short.title.as_deref(), short.priority), (Some("T"), 2));
        let (query, _) = ntfy_publish(&params(&[], &[("title", "Q"), ("priority", "high")]), b"")
            .expect("valid");
        assert_eq!(
            (query.title.as_deref(), query.priority, query.body.as_str()),
            (Some("Q"), 4, "triggered")
        );
    }

    #[test]
    fn ntfy_refusals_name_the_field() {
        assert_eq!(
            field_of(ntfy_publish(&params(&[("Priority", "loud")], &[]), b"x")),
            "priority"
        );
        assert_eq!(
            field_of(ntfy_publish(&params(&[("Delay", "soon-ish")], &[]), b"x")),
            "delay"
        );
        let (_, delayed) = ntfy_publish(&params(&[("Delay", "30m")], &[]), b"x").expect("valid");
        assert_eq!(
            delayed,
            Some(Schedule::After(std::time::Duration::from_secs(1800)))
        );
        let (_, at) = ntfy_publish(&params(&[("At", "1767225600")], &[]), b"x").expect("valid");
        assert_eq!(at, Some(Schedule::At(1_767_225_600_000)));
        assert_eq!(
            field_of(ntfy_publish(&params(&[("Click", "ftp://x")], &[]), b"x")),
            "url"
        );
    }

    #[test]
    fn ntfy_json_publish() {
        let (topic, p, _) = ntfy_json(
            br#"{"topic":"0192f0c1a2b37c4d8e9fa0b1c2d3e4f5","message":"Disk full","title":"NAS",
                 "priority":4,"tags":["disk"],"click":"https://nas.example.com/","markdown":true,
                 "actions":[{"action":"view","label":"Open","url":"https://x.example/"}]}"#,
        )
        .expect("valid");
        assert_eq!(topic, "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5");
        assert_eq!((p.body.as_str(), p.priority), ("Disk full", 4));
        assert_eq!(p.extras["markdown"], "true");
        assert!(p.extras["actions"].starts_with("[{"));
        assert_eq!(field_of(ntfy_json(br#"{"message":"x"}"#)), "topic");
        assert_eq!(
            field_of(ntfy_json(br#"{"topic":"t","priority":9}"#)),
            "priority"
        );
    }

    #[test]
    fn gotify_messages() {
        let p = gotify_message(
            json_object(
                br#"{"title":"Deploy","message":"v2 is live","priority":8,
                     "extras":{"client::display":{"contentType":"text/markdown"},
                               "client::notification":{"click":{"url":"https://ci.example.com/1"}}}}"#,
            )
            .expect("json"),
        )
        .expect("valid");
        assert_eq!((p.title.as_deref(), p.priority), (Some("Deploy"), 4));
        assert_eq!(p.url.as_deref(), Some("https://ci.example.com/1"));
        assert_eq!(
            p.extras["client::display"],
            r#"{"contentType":"text/markdown"}"#
        );
        let form = gotify_message(form_object(b"message=hi&priority=0")).expect("valid");
        assert_eq!((form.body.as_str(), form.priority), ("hi", 1));
        assert_eq!(field_of(gotify_message(form_object(b"title=x"))), "message");
        assert_eq!(
            field_of(gotify_message(form_object(b"message=x&priority=high"))),
            "priority"
        );
    }

    #[test]
    fn bark_paths_and_parameters() {
        let path = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let query: BTreeMap<String, String> = [
            ("group", "nas"),
            ("level", "timeSensitive"),
            ("sound", "alarm"),
            ("url", "https://nas.example.com/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = bark_push(&path(&["Title", "Sub", "Body text"]), &query).expect("valid");
        assert_eq!(p.title.as_deref(), Some("Title"));
        assert_eq!(p.body, "Body text");
        assert_eq!(p.extras["subtitle"], "Sub");
        assert_eq!(p.extras["sound"], "alarm");
        assert_eq!((p.group.as_deref(), p.priority), (Some("nas"), 4));
        let only_body = bark_push(&path(&["hello"]), &BTreeMap::new()).expect("valid");
        assert_eq!((only_body.body.as_str(), only_body.title), ("hello", None));
        let json = flat_params(
            json_object(br#"{"device_key":"k","title":"T","body":"B","badge":1}"#).expect("json"),
        );
        let pushed = bark_push(&[], &json).expect("valid");
        assert_eq!(
            pushed.extras.get("device_key"),
            None,
            "the key is not a field"
        );
        assert_eq!(pushed.extras["badge"], "1");
        let bad_level: BTreeMap<String, String> = [("level".to_string(), "loud".to_string())]
            .into_iter()
            .collect();
        assert_eq!(field_of(bark_push(&path(&["x"]), &bad_level)), "level");
        assert_eq!(field_of(bark_push(&[], &BTreeMap::new())), "body");
    }
}
