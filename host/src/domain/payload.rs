//! Validation of ingest bodies (SPEC §5), pure: bytes in, [`Payload`] or the
//! field at fault out. Parsing goes through a JSON value
//! first so every error can name the exact field at fault.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Invalid;

type Checked<T> = Result<T, Invalid>;

pub const MAX_TITLE_CHARS: usize = 1_000;
pub const MAX_GROUP_CHARS: usize = 200;
pub const MAX_TAGS: usize = 64;
pub const MAX_TAG_CHARS: usize = 128;
pub const MAX_URL_CHARS: usize = 4_096;

/// The structured fields of one message.
#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    pub body: String,
    pub title: Option<String>,
    pub group: Option<String>,
    pub priority: i64,
    pub tags: Vec<String>,
    pub url: Option<String>,
    pub extras: BTreeMap<String, String>,
}

impl Payload {
    /// A canonical text of every field: two requests carry the same message
    /// exactly when their fingerprints are equal, whatever protocol or
    /// formatting they used (what an idempotency key is checked against).
    pub fn fingerprint(&self) -> String {
        serde_json::json!([
            self.body,
            self.title,
            self.group,
            self.priority,
            self.tags,
            self.url,
            self.extras,
        ])
        .to_string()
    }
}

/// When a message's deliveries may leave, as the sender said it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// At this Unix time (ms).
    At(i64),
    /// This long after the message arrives.
    After(std::time::Duration),
}

impl Schedule {
    /// The Unix ms the deliveries leave, for a message received at
    /// `received_at`; refused past `max_ahead` or more than a minute in the
    /// past (errors name `deliver_at` or `delay`, whichever was sent).
    pub fn resolve(self, received_at: i64, max_ahead: std::time::Duration) -> Checked<i64> {
        let field = match self {
            Schedule::At(_) => "deliver_at",
            Schedule::After(_) => "delay",
        };
        let at = match self {
            Schedule::At(at) => at,
            Schedule::After(delay) => received_at.saturating_add(delay.as_millis() as i64),
        };
        if at < received_at - 60_000 {
            return Err(Invalid::field(field, "is in the past"));
        }
        if at > received_at.saturating_add(max_ahead.as_millis() as i64) {
            return Err(Invalid::field(
                field,
                format!(
                    "is more than {} ahead (the server's MAX_DELIVERY_DELAY_SECONDS)",
                    human_duration(max_ahead)
                ),
            ));
        }
        Ok(at.max(received_at))
    }

    /// `30s`, `15m`, `2h`, `1d` (or a bare number of seconds) after arrival.
    pub fn parse_delay(text: &str, field: &str) -> Checked<Schedule> {
        let text = text.trim();
        let invalid = || Invalid::field(field, "must be a duration like 30s, 15m, 2h or 1d");
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| invalid())?;
        let seconds = match unit.trim() {
            "" | "s" | "sec" | "second" | "seconds" => 1,
            "m" | "min" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3_600,
            "d" | "day" | "days" => 86_400,
            _ => return Err(invalid()),
        };
        number
            .checked_mul(seconds)
            .map(|s| Schedule::After(std::time::Duration::from_secs(s)))
            .ok_or_else(invalid)
    }

    /// An RFC 3339 time, or Unix seconds.
    pub fn parse_time(text: &str, field: &str) -> Checked<Schedule> {
        let text = text.trim();
        if let Ok(seconds) = text.parse::<i64>() {
            return Ok(Schedule::At(seconds.saturating_mul(1000)));
        }
        super::time::parse_rfc3339(text, field)
            .map(Schedule::At)
            .map_err(|_| {
                Invalid::field(
                    field,
                    "must be an RFC 3339 time (2026-12-07T18:00:00Z) or Unix seconds",
                )
            })
    }
}

fn human_duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    if seconds % 86_400 == 0 {
        format!("{} days", seconds / 86_400)
    } else if seconds % 3_600 == 0 {
        format!("{} hours", seconds / 3_600)
    } else {
        format!("{seconds} seconds")
    }
}

/// Which body format the request declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Text,
}

impl BodyKind {
    /// Maps a `Content-Type` header to a body kind; anything else is 415.
    pub fn from_content_type(value: Option<&str>) -> Checked<Self> {
        let essence = value
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Ok(BodyKind::Json),
            "text/plain" => Ok(BodyKind::Text),
            "" => Err(Invalid::MediaType {
                message: "Content-Type is missing; use application/json or text/plain".into(),
            }),
            other => Err(Invalid::MediaType {
                message: format!(
                    "Content-Type {other} is not accepted; use application/json or text/plain"
                ),
            }),
        }
    }
}

/// An ingest body with its optional schedule (`deliver_at`, RFC 3339 or
/// Unix seconds, or `delay`, e.g. `15m`; not both).
pub fn parse_submission(kind: BodyKind, bytes: &[u8]) -> Checked<(Payload, Option<Schedule>)> {
    if kind == BodyKind::Text {
        return parse(kind, bytes).map(|payload| (payload, None));
    }
    let mut object = json_body(bytes)?;
    let schedule = take_schedule(&mut object)?;
    if let Some(field) = nul_path(&object) {
        return Err(nul_error(&field));
    }
    Ok((from_object(object)?, schedule))
}

/// Removes `deliver_at` / `delay` from an ingest object and reads them.
pub fn take_schedule(object: &mut Map<String, Value>) -> Checked<Option<Schedule>> {
    let deliver_at = object.remove("deliver_at");
    let delay = object.remove("delay");
    match (deliver_at, delay) {
        (Some(_), Some(_)) => Err(Invalid::field(
            "delay",
            "send deliver_at or delay, not both",
        )),
        (Some(Value::String(at)), None) => Schedule::parse_time(&at, "deliver_at").map(Some),
        (Some(Value::Number(n)), None) => {
            Schedule::parse_time(&n.to_string(), "deliver_at").map(Some)
        }
        (Some(Value::Null), None) | (None, Some(Value::Null)) | (None, None) => Ok(None),
        (Some(_), None) => Err(Invalid::field(
            "deliver_at",
            "must be an RFC 3339 time or Unix seconds",
        )),
        (None, Some(Value::String(delay))) => Schedule::parse_delay(&delay, "delay").map(Some),
        (None, Some(Value::Number(n))) => Schedule::parse_delay(&n.to_string(), "delay").map(Some),
        (None, Some(_)) => Err(Invalid::field(
            "delay",
            "must be a duration like 30s, 15m, 2h or 1d",
        )),
    }
}

/// A JSON body that must be one object.
fn json_body(bytes: &[u8]) -> Checked<Map<String, Value>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Invalid::malformed("invalid_utf8", "the request body is not valid UTF-8"))?;
    let value: Value = serde_json::from_str(text).map_err(|err| {
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

pub fn parse(kind: BodyKind, bytes: &[u8]) -> Checked<Payload> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Invalid::malformed("invalid_utf8", "the request body is not valid UTF-8"))?;
    match kind {
        BodyKind::Text => {
            if text.trim().is_empty() {
                return Err(Invalid::field("body", "must not be empty"));
            }
            if text.contains('\0') {
                return Err(nul_error("body"));
            }
            Ok(Payload {
                body: text.to_string(),
                title: None,
                group: None,
                priority: 3,
                tags: Vec::new(),
                url: None,
                extras: BTreeMap::new(),
            })
        }
        BodyKind::Json => {
            let value: Value = serde_json::from_str(text).map_err(|err| {
                Invalid::malformed(
                    "malformed_json",
                    format!("the request body is not valid JSON: {err}"),
                )
            })?;
            let Value::Object(object) = value else {
                return Err(Invalid::field(
                    "$",
                    "the request body must be a JSON object",
                ));
            };
            if let Some(field) = nul_path(&object) {
                return Err(nul_error(&field));
            }
            from_object(object)
        }
    }
}

/// The path of the first string (or key) holding U+0000, if any.
/// PostgreSQL text cannot store that character while SQLite can, so it is
/// refused everywhere and both databases accept exactly the same input.
pub fn nul_path(object: &Map<String, Value>) -> Option<String> {
    fn walk(value: &Value, path: String) -> Option<String> {
        match value {
            Value::String(text) => text.contains('\0').then_some(path),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().find_map(|(key, item)| {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    return Some(field);
                }
                walk(item, field)
            }),
            _ => None,
        }
    }
    object.iter().find_map(|(key, item)| {
        if key.contains('\0') {
            return Some(key.clone());
        }
        walk(item, key.clone())
    })
}

pub fn nul_error(field: &str) -> Invalid {
    Invalid::field(field, "must not contain the NUL character (U+0000)")
}

/// Validates an ingest object (the JSON form, or what a compatible protocol
/// was translated into); errors name the field.
pub fn from_object(mut object: Map<String, Value>) -> Checked<Payload> {
    const KNOWN: [&str; 7] = [
        "body", "title", "group", "priority", "tags", "url", "extras",
    ];
    if let Some(unknown) = object.keys().find(|key| !KNOWN.contains(&key.as_str())) {
        return Err(Invalid::field(
            unknown.clone(),
            format!(
                "unknown field {unknown:?}; accepted fields are {}",
                KNOWN.join(", ")
            ),
        ));
    }
    let body = match object.remove("body") {
        None | Some(Value::Null) => return Err(Invalid::field("body", "is required")),
        Some(value) => string_field(value, "body")?,
    };
    if body.trim().is_empty() {
        return Err(Invalid::field("body", "must not be empty"));
    }
    let title = optional_string(object.remove("title"), "title", MAX_TITLE_CHARS)?;
    let group = optional_string(object.remove("group"), "group", MAX_GROUP_CHARS)?;
    let priority = match object.remove("priority") {
        None | Some(Value::Null) => 3,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(p @ 1..=5) => p,
            _ => return Err(Invalid::field("priority", "must be an integer from 1 to 5")),
        },
        Some(_) => return Err(Invalid::field("priority", "must be an integer from 1 to 5")),
    };
    let tags = match object.remove("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            if items.len() > MAX_TAGS {
                return Err(Invalid::field(
                    "tags",
                    format!("at most {MAX_TAGS} tags are allowed"),
                ));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let field = format!("tags[{i}]");
                    let tag = string_field(item, &field)?;
                    if tag.trim().is_empty() || tag.chars().count() > MAX_TAG_CHARS {
                        return Err(Invalid::field(
                            field,
                            format!("must be 1 to {MAX_TAG_CHARS} characters"),
                        ));
                    }
                    Ok(tag)
                })
                .collect::<Checked<Vec<_>>>()?
        }
        Some(_) => return Err(Invalid::field("tags", "must be an array of strings")),
    };
    let url = optional_string(object.remove("url"), "url", MAX_URL_CHARS)?;
    if let Some(url) = &url {
        let parsed = url::Url::parse(url)
            .map_err(|_| Invalid::field("url", "must be an absolute http(s) URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Invalid::field("url", "must be an absolute http(s) URL"));
        }
    }
    let extras = match object.remove("extras") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .into_iter()
            .map(|(key, value)| {
                let field = format!("extras.{key}");
                Ok((key, string_field(value, &field)?))
            })
            .collect::<Checked<BTreeMap<_, _>>>()?,
        Some(_) => {
            return Err(Invalid::field(
                "extras",
                "must be an object of string values",
            ))
        }
    };
    Ok(Payload {
        body,
        title,
        group,
        priority,
        tags,
        url,
        extras,
    })
}

fn string_field(value: Value, field: &str) -> Checked<String> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err(Invalid::field(field, "must be a string")),
    }
}

fn optional_string(value: Option<Value>, field: &str, max_chars: usize) -> Checked<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let s = string_field(value, field)?;
            if s.chars().count() > max_chars {
                return Err(Invalid::field(
                    field,
                    format!("must be at most {max_chars} characters"),
                ));
            }
            Ok(Some(s))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Checked<Payload>) -> String {
        match result {
            Err(Invalid::Field { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn json(text: &str) -> Checked<Payload> {
        parse(BodyKind::Json, text.as_bytes())
    }

    #[test]
    fn full_payload() {
        let p = json(r#"{"body":"b","title":"t","group":"g","priority":5,"tags":["a","B"],"url":"https://x.test/p","extras":{"k":"v"}}"#)
            .expect("valid");
        assert_eq!(p.priority, 5);
        assert_eq!(p.tags, vec!["a", "B"]);
        assert_eq!(p.extras.get("k").map(String::as_str), Some("v"));
    }

    #[test]
    fn defaults() {
        let p = json(r#"{"body":"only"}"#).expect("valid");
        assert_eq!((p.priority, p.tags.len(), p.extras.len()), (3, 0, 0));
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_of(json(r#"{}"#)), "body");
        assert_eq!(field_of(json(r#"{"body":""}"#)), "body");
        assert_eq!(field_of(json(r#"{"body":1}"#)), "body");
        assert_eq!(field_of(json(r#"{"body":"x","priority":9}"#)), "priority");
        assert_eq!(field_of(json(r#"{"body":"x","priority":2.5}"#)), "priority");
        assert_eq!(field_of(json(r#"{"body":"x","tags":["ok",3]}"#)), "tags[1]");
        assert_eq!(field_of(json(r#"{"body":"x","url":"ftp://x"}"#)), "url");
        assert_eq!(field_of(json(r#"{"body":"x","url":"/relative"}"#)), "url");
        assert_eq!(
            field_of(json(r#"{"body":"x","extras":{"n":1}}"#)),
            "extras.n"
        );
        assert_eq!(field_of(json(r#"{"body":"x","colour":"red"}"#)), "colour");
        assert_eq!(field_of(json(r#"[1]"#)), "$");
    }

    #[test]
    fn malformed_and_non_utf8_are_400() {
        assert!(matches!(
            json("{"),
            Err(Invalid::Malformed {
                code: "malformed_json",
                ..
            })
        ));
        assert!(matches!(
            parse(BodyKind::Json, &[0xff, 0xfe]),
            Err(Invalid::Malformed {
                code: "invalid_utf8",
                ..
            })
        ));
    }

    #[test]
    fn text_bodies() {
        assert_eq!(
            parse(BodyKind::Text, b"disk full").expect("text").body,
            "disk full"
        );
        assert_eq!(field_of(parse(BodyKind::Text, b"  ")), "body");
        assert_eq!(
            BodyKind::from_content_type(Some("application/json; charset=utf-8")).expect("json"),
            BodyKind::Json
        );
        assert!(BodyKind::from_content_type(Some("application/x-www-form-urlencoded")).is_err());
        assert!(BodyKind::from_content_type(None).is_err());
    }

    #[test]
    fn schedules_parse_and_stay_within_bounds() {
        use std::time::Duration;
        let after = |text| Schedule::parse_delay(text, "delay");
        assert_eq!(after("30s"), Ok(Schedule::After(Duration::from_secs(30))));
        assert_eq!(after("15m"), Ok(Schedule::After(Duration::from_secs(900))));
        assert_eq!(after("2h"), Ok(Schedule::After(Duration::from_secs(7200))));
        assert_eq!(
            after("1d"),
            Ok(Schedule::After(Duration::from_secs(86_400)))
        );
        assert_eq!(after("45"), Ok(Schedule::After(Duration::from_secs(45))));
        assert!(after("soon").is_err() && after("1w").is_err() && after("").is_err());
        let week = Duration::from_secs(7 * 86_400);
        let now = 1_767_225_600_000;
        assert_eq!(
            Schedule::After(Duration::from_secs(60)).resolve(now, week),
            Ok(now + 60_000)
        );
        assert_eq!(
            Schedule::At(now - 30_000).resolve(now, week),
            Ok(now),
            "a moment ago: at once"
        );
        let refused = |schedule: Schedule| match schedule.resolve(now, week) {
            Err(Invalid::Field { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(Schedule::At(now - 120_000)), "deliver_at");
        assert_eq!(
            refused(Schedule::After(Duration::from_secs(8 * 86_400))),
            "delay"
        );
        let (_, schedule) = parse_submission(
            BodyKind::Json,
            br#"{"body":"x","deliver_at":"2026-01-01T00:00:00Z"}"#,
        )
        .expect("valid");
        assert_eq!(schedule, Some(Schedule::At(1_767_225_600_000)));
        assert!(parse_submission(
            BodyKind::Json,
            br#"{"body":"x","delay":"1m","deliver_at":1}"#
        )
        .is_err());
    }
}
