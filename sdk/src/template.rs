//! Reading the rule's rendered payload template.
//!
//! A channel's `send` receives `payload_json`: the rule's payload template
//! after the host filled in its `{{…}}` placeholders. The host renders the
//! placeholders inside every string, so a value that came from a
//! placeholder is always a string (`"4"`, not `4`; `"true"`, not `true`;
//! a list as its JSON text), while values written literally into the
//! template arrive as they are. A placeholder with nothing to fill renders
//! as `""`.
//!
//! [`Template`] reads such a document key by key and accepts both
//! spellings:
//!
//! - a missing key, `null` and a blank string (empty or only white space)
//!   all count as **not set** (`Ok(None)`), so the plugin's fallback
//!   applies;
//! - [`text`](Template::text): strings as they are, numbers and booleans as
//!   their JSON text;
//! - [`integer`](Template::integer): a JSON number or numeric text (`4`,
//!   `"4"`, `" 4 "`, `"4.0"`);
//! - [`boolean`](Template::boolean): `true`/`false`, the text
//!   `true`/`false`/`1`/`0`/`yes`/`no`/`on`/`off` (any case), or the
//!   numbers 1/0;
//! - [`list`](Template::list), [`object`](Template::object),
//!   [`structured`](Template::structured): the JSON value, or a string
//!   holding its JSON text.
//!
//! A value of the wrong kind is a permanent [`SendError`] naming the key
//! (`` payload template key `priority` must be a whole number, got "high" ``),
//! the same error [`bad`] makes for a plugin's own checks. The `take_*`
//! variants also remove the key, so what is left can pass through to the
//! service ([`Template::into_rest`]).
//!
//! ```
//! use beacon_plugin_sdk::template::{bad, Template};
//! use beacon_plugin_sdk::{Message, SendError};
//! use serde_json::{Map, Value};
//!
//! fn build(payload_json: &str, message: &Message) -> Result<Map<String, Value>, SendError> {
//!     let mut template = Template::parse(payload_json)?;
//!     let mut body = Map::new();
//!     let text = template.take_text("text")?.unwrap_or_else(|| message.body.clone());
//!     body.insert("text".into(), text.into());
//!     if let Some(priority) = template.take_integer("priority")? {
//!         if !(1..=5).contains(&priority) {
//!             return Err(bad("priority", "must be between 1 and 5"));
//!         }
//!         body.insert("priority".into(), priority.into());
//!     }
//!     // Every other key that is set passes through unchanged.
//!     for (key, value) in template.into_rest() {
//!         body.entry(key).or_insert(value);
//!     }
//!     Ok(body)
//! }
//!
//! let body = build(r#"{"text": "", "priority": "4", "color": "red"}"#, &Message::new("disk full"))?;
//! assert_eq!(Value::Object(body), serde_json::json!({"text": "disk full", "priority": 4, "color": "red"}));
//!
//! let err = build(r#"{"priority": "9"}"#, &Message::new("x")).unwrap_err();
//! assert_eq!(err.message(), "payload template key `priority` must be between 1 and 5");
//! assert!(!err.is_retryable());
//! # Ok::<(), SendError>(())
//! ```

use crate::types::SendError;
use serde_json::{Map, Number, Value};
use std::fmt;

/// The rule's rendered payload template, as a JSON object read key by key
/// (see the [module docs](self) for the rules every reader follows).
///
/// ```
/// use beacon_plugin_sdk::template::Template;
///
/// let template = Template::parse(r#"{"title": "Disk", "priority": "4", "silent": "yes", "icon": ""}"#)?;
/// assert_eq!(template.text("title")?.as_deref(), Some("Disk"));
/// assert_eq!(template.integer("priority")?, Some(4));
/// assert_eq!(template.boolean("silent")?, Some(true));
/// assert_eq!(template.text("icon")?, None); // blank: not set
/// assert_eq!(template.text("sound")?, None); // missing: not set
/// # Ok::<(), beacon_plugin_sdk::SendError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    map: Map<String, Value>,
}

impl From<Map<String, Value>> for Template {
    /// Wrap an object that is already parsed.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let mut map = serde_json::Map::new();
    /// map.insert("title".into(), "Disk".into());
    /// assert_eq!(Template::from(map).text("title")?.as_deref(), Some("Disk"));
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    fn from(map: Map<String, Value>) -> Self {
        Template { map }
    }
}

impl Template {
    /// Parse `payload_json`: a JSON object, or no template at all (`""`,
    /// white space, `null` or `{}`, all giving an empty template). Anything
    /// else (a list, a string, a number, text that is not JSON) is a
    /// permanent error: retrying would render the same template again.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// assert!(Template::parse("")?.is_empty());
    /// assert!(Template::parse("null")?.is_empty());
    /// assert_eq!(Template::parse(r#"{"a": 1}"#)?.len(), 1);
    /// let err = Template::parse("[1, 2]").unwrap_err();
    /// assert_eq!(err.message(), "the rule's payload template must render to a JSON object");
    /// assert!(!err.is_retryable());
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn parse(payload_json: &str) -> Result<Template, SendError> {
        match parse_value(payload_json)? {
            None => Ok(Template::default()),
            Some(Value::Object(map)) => Ok(Template { map }),
            Some(_) => Err(SendError::permanent(
                "the rule's payload template must render to a JSON object",
            )),
        }
    }

    /// Whether the template has no keys at all (the rule has no template).
    /// A template whose keys are all unset (`{"title": ""}`) is not empty.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// assert!(Template::parse("{}")?.is_empty());
    /// assert!(!Template::parse(r#"{"title": ""}"#)?.is_empty());
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// How many keys the template has, set or not.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// assert_eq!(Template::parse(r#"{"a": 1, "b": null}"#)?.len(), 2);
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The raw value of `key`, as rendered (`null` and `""` included).
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    /// use serde_json::Value;
    ///
    /// let template = Template::parse(r#"{"title": ""}"#)?;
    /// assert_eq!(template.get("title"), Some(&Value::String(String::new())));
    /// assert_eq!(template.present("title"), None);
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// The value of `key` when it is set: `None` for a missing key, `null`
    /// or a blank string (see [`is_unset`]). For values a plugin reads its
    /// own way.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let template = Template::parse(r#"{"a": " ", "b": null, "c": 0}"#)?;
    /// assert_eq!(template.present("a"), None);
    /// assert_eq!(template.present("b"), None);
    /// assert_eq!(template.present("c"), Some(&serde_json::json!(0)));
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn present(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|value| !is_unset(value))
    }

    /// `key` as text: a string as it is (not trimmed), a number or boolean
    /// as its JSON text. A list or an object is an error.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let template = Template::parse(r#"{"title": " Disk ", "code": 42, "on": true, "tags": ["a"]}"#)?;
    /// assert_eq!(template.text("title")?.as_deref(), Some(" Disk "));
    /// assert_eq!(template.text("code")?.as_deref(), Some("42"));
    /// assert_eq!(template.text("on")?.as_deref(), Some("true"));
    /// assert!(template.text("tags").unwrap_err().message().contains("`tags`"));
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn text(&self, key: &str) -> Result<Option<String>, SendError> {
        self.read(key, read_text)
    }

    /// `key` as a whole number: a JSON number or numeric text (`4`, `"4"`,
    /// `" 4 "`, `4.0`, `"4.0"`); see [`as_integer`]. Anything else, `2.5`
    /// included, is an error. Range checks are the plugin's.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let template = Template::parse(r#"{"a": 4, "b": " 4 ", "c": "4.0", "d": 2.5, "e": "high"}"#)?;
    /// assert_eq!(template.integer("a")?, Some(4));
    /// assert_eq!(template.integer("b")?, Some(4));
    /// assert_eq!(template.integer("c")?, Some(4));
    /// assert!(template.integer("d").is_err());
    /// assert_eq!(
    ///     template.integer("e").unwrap_err().message(),
    ///     r#"payload template key `e` must be a whole number, got "high""#
    /// );
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn integer(&self, key: &str) -> Result<Option<i64>, SendError> {
        self.read(key, read_integer)
    }

    /// `key` as a boolean: `true`/`false`, the text `true`/`false`, `1`/`0`,
    /// `yes`/`no`, `on`/`off` (any case, white space ignored), or the
    /// numbers 1/0; see [`as_boolean`]. Anything else is an error.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let template = Template::parse(r#"{"a": true, "b": "Yes", "c": "0", "d": 1, "e": "maybe"}"#)?;
    /// assert_eq!(template.boolean("a")?, Some(true));
    /// assert_eq!(template.boolean("b")?, Some(true));
    /// assert_eq!(template.boolean("c")?, Some(false));
    /// assert_eq!(template.boolean("d")?, Some(true));
    /// assert_eq!(
    ///     template.boolean("e").unwrap_err().message(),
    ///     r#"payload template key `e` must be true or false, got "maybe""#
    /// );
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, SendError> {
        self.read(key, read_boolean)
    }

    /// `key` as a JSON value that may also arrive as its JSON text (e.g.
    /// rendered from `"{{message.extras.actions}}"`): a string is parsed
    /// (text that is not JSON is an error), anything else is returned as it
    /// is. Text holding `null` counts as not set.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    /// use serde_json::json;
    ///
    /// let template = Template::parse(r#"{"a": [1], "b": "{\"x\": 1}", "c": "null", "d": "{nope"}"#)?;
    /// assert_eq!(template.structured("a")?, Some(json!([1])));
    /// assert_eq!(template.structured("b")?, Some(json!({"x": 1})));
    /// assert_eq!(template.structured("c")?, None);
    /// assert!(template.structured("d").unwrap_err().message().contains("not valid JSON"));
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn structured(&self, key: &str) -> Result<Option<Value>, SendError> {
        self.read(key, read_structured)
    }

    /// `key` as a list: a JSON list, or a string holding one. An empty list
    /// counts as not set. Anything else is an error.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    /// use serde_json::json;
    ///
    /// let template = Template::parse(r#"{"a": [1, 2], "b": "[\"x\"]", "c": [], "d": {"x": 1}}"#)?;
    /// assert_eq!(template.list("a")?, Some(vec![json!(1), json!(2)]));
    /// assert_eq!(template.list("b")?, Some(vec![json!("x")]));
    /// assert_eq!(template.list("c")?, None);
    /// assert!(template.list("d").unwrap_err().message().contains("must be a list"));
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn list(&self, key: &str) -> Result<Option<Vec<Value>>, SendError> {
        self.read(key, read_list)
    }

    /// `key` as an object: a JSON object, or a string holding one. An empty
    /// object is returned as it is (it can mean something, such as "no
    /// mentions"). Anything else is an error.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let template = Template::parse(r#"{"a": {"x": 1}, "b": "{}", "c": "[1]"}"#)?;
    /// assert_eq!(template.object("a")?.map(|o| o.len()), Some(1));
    /// assert_eq!(template.object("b")?.map(|o| o.len()), Some(0));
    /// assert!(template.object("c").unwrap_err().message().contains("must be an object"));
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn object(&self, key: &str) -> Result<Option<Map<String, Value>>, SendError> {
        self.read(key, read_object)
    }

    /// Remove `key` and return its raw value (set or not).
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let mut template = Template::parse(r#"{"chat_id": "@elsewhere", "a": 1}"#)?;
    /// template.remove("chat_id"); // the channel decides where messages go
    /// assert_eq!(template.len(), 1);
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    /// [`text`](Self::text), then remove `key`.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let mut template = Template::parse(r#"{"text": "hi", "color": "red"}"#)?;
    /// assert_eq!(template.take_text("text")?.as_deref(), Some("hi"));
    /// assert_eq!(template.get("text"), None);
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn take_text(&mut self, key: &str) -> Result<Option<String>, SendError> {
        self.take(key, read_text)
    }

    /// [`integer`](Self::integer), then remove `key`.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let mut template = Template::parse(r#"{"thread": "42"}"#)?;
    /// assert_eq!(template.take_integer("thread")?, Some(42));
    /// assert!(template.is_empty());
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn take_integer(&mut self, key: &str) -> Result<Option<i64>, SendError> {
        self.take(key, read_integer)
    }

    /// [`boolean`](Self::boolean), then remove `key`.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let mut template = Template::parse(r#"{"tts": "off"}"#)?;
    /// assert_eq!(template.take_boolean("tts")?, Some(false));
    /// assert!(template.is_empty());
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn take_boolean(&mut self, key: &str) -> Result<Option<bool>, SendError> {
        self.take(key, read_boolean)
    }

    /// [`structured`](Self::structured), then remove `key`.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let mut template = Template::parse(r#"{"actions": "[]"}"#)?;
    /// assert_eq!(template.take_structured("actions")?, Some(serde_json::json!([])));
    /// assert!(template.is_empty());
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn take_structured(&mut self, key: &str) -> Result<Option<Value>, SendError> {
        self.take(key, read_structured)
    }

    /// [`list`](Self::list), then remove `key`.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let mut template = Template::parse(r#"{"blocks": "[{\"type\": \"divider\"}]"}"#)?;
    /// assert_eq!(template.take_list("blocks")?.map(|l| l.len()), Some(1));
    /// assert!(template.is_empty());
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn take_list(&mut self, key: &str) -> Result<Option<Vec<Value>>, SendError> {
        self.take(key, read_list)
    }

    /// [`object`](Self::object), then remove `key`.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let mut template = Template::parse(r#"{"allowed_mentions": {"parse": []}}"#)?;
    /// assert!(template.take_object("allowed_mentions")?.is_some());
    /// assert!(template.is_empty());
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn take_object(&mut self, key: &str) -> Result<Option<Map<String, Value>>, SendError> {
        self.take(key, read_object)
    }

    /// Read the value of `key` with `read` when it is set (a copy: the
    /// template keeps it).
    fn read<T>(&self, key: &str, read: Reader<T>) -> Result<Option<T>, SendError> {
        match self.present(key) {
            None => Ok(None),
            Some(value) => read(key, value.clone()),
        }
    }

    /// Remove `key` and read its value with `read` when it is set (no copy).
    fn take<T>(&mut self, key: &str, read: Reader<T>) -> Result<Option<T>, SendError> {
        match self.map.remove(key) {
            Some(value) if !is_unset(&value) => read(key, value),
            _ => Ok(None),
        }
    }

    /// The whole object, as rendered.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let template = Template::parse(r#"{"a": 1}"#)?;
    /// assert!(template.as_map().contains_key("a"));
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// The whole object, as rendered (unset values included): for plugins
    /// that merge the template into their own body.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    ///
    /// let map = Template::parse(r#"{"a": 1, "b": ""}"#)?.into_map();
    /// assert_eq!(map.len(), 2);
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn into_map(self) -> Map<String, Value> {
        self.map
    }

    /// The keys not taken yet, without the unset ones (`null`, blank
    /// strings), in key order: what a plugin passes through to the service
    /// after taking the keys it handles itself.
    ///
    /// ```
    /// use beacon_plugin_sdk::template::Template;
    /// use serde_json::{json, Map, Value};
    ///
    /// let mut template = Template::parse(r#"{"text": "hi", "flags": 4, "empty": "", "none": null}"#)?;
    /// let mut body = Map::new();
    /// body.insert("text".into(), json!(template.take_text("text")?));
    /// for (key, value) in template.into_rest() {
    ///     body.entry(key).or_insert(value); // the plugin's own keys win
    /// }
    /// assert_eq!(Value::Object(body), json!({"text": "hi", "flags": 4}));
    /// # Ok::<(), beacon_plugin_sdk::SendError>(())
    /// ```
    pub fn into_rest(self) -> impl Iterator<Item = (String, Value)> {
        self.map.into_iter().filter(|(_, value)| !is_unset(value))
    }
}

/// How a [`Template`] reads one set value: `key` is for the error message.
type Reader<T> = fn(&str, Value) -> Result<Option<T>, SendError>;

fn read_text(key: &str, value: Value) -> Result<Option<String>, SendError> {
    match value {
        Value::String(s) => Ok(Some(s)),
        value @ (Value::Number(_) | Value::Bool(_)) => Ok(Some(value.to_string())),
        _ => Err(bad(key, "must be a string, number or boolean")),
    }
}

fn read_integer(key: &str, value: Value) -> Result<Option<i64>, SendError> {
    read_scalar(key, &value, as_integer, "a whole number")
}

fn read_boolean(key: &str, value: Value) -> Result<Option<bool>, SendError> {
    read_scalar(key, &value, as_boolean, "true or false")
}

/// `parse(value)`, or an error that says what was `expected` and shows the
/// value.
fn read_scalar<T>(
    key: &str,
    value: &Value,
    parse: fn(&Value) -> Option<T>,
    expected: &str,
) -> Result<Option<T>, SendError> {
    match parse(value) {
        Some(parsed) => Ok(Some(parsed)),
        None => Err(bad(
            key,
            format!("must be {expected}, got {}", shown(value)),
        )),
    }
}

fn read_structured(key: &str, value: Value) -> Result<Option<Value>, SendError> {
    match value {
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Null) => Ok(None),
            Ok(value) => Ok(Some(value)),
            Err(e) => Err(bad(key, format!("is a string that is not valid JSON: {e}"))),
        },
        value => Ok(Some(value)),
    }
}

fn read_list(key: &str, value: Value) -> Result<Option<Vec<Value>>, SendError> {
    match read_structured(key, value)? {
        None => Ok(None),
        Some(Value::Array(items)) => Ok((!items.is_empty()).then_some(items)),
        Some(_) => Err(bad(key, "must be a list (or a string holding a JSON list)")),
    }
}

fn read_object(key: &str, value: Value) -> Result<Option<Map<String, Value>>, SendError> {
    match read_structured(key, value)? {
        None => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(_) => Err(bad(
            key,
            "must be an object (or a string holding a JSON object)",
        )),
    }
}

/// Parse `payload_json` as any JSON value, for plugins that send the
/// template itself (a list or a string included). `Ok(None)` when the rule
/// has no template: `""`, white space, `null` or `{}`. Text that is not JSON
/// is a permanent error.
///
/// ```
/// use beacon_plugin_sdk::template::parse_value;
/// use serde_json::json;
///
/// assert_eq!(parse_value(" { } ")?, None);
/// assert_eq!(parse_value("null")?, None);
/// assert_eq!(parse_value("[1]")?, Some(json!([1])));
/// assert!(parse_value("{nope").unwrap_err().message().contains("did not render to valid JSON"));
/// # Ok::<(), beacon_plugin_sdk::SendError>(())
/// ```
pub fn parse_value(payload_json: &str) -> Result<Option<Value>, SendError> {
    if payload_json.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(payload_json) {
        Ok(Value::Null) => Ok(None),
        Ok(Value::Object(map)) if map.is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(e) => Err(SendError::permanent(format!(
            "the rule's payload template did not render to valid JSON: {e}"
        ))),
    }
}

/// Whether a template value counts as not set: `null`, or a string that is
/// empty or only white space (what a placeholder with nothing to fill
/// renders to).
///
/// ```
/// use beacon_plugin_sdk::template::is_unset;
/// use serde_json::json;
///
/// assert!(is_unset(&json!(null)));
/// assert!(is_unset(&json!(" ")));
/// assert!(!is_unset(&json!(0)));
/// assert!(!is_unset(&json!([])));
/// ```
pub fn is_unset(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A whole number given as a JSON number or as numeric text (`4`, `4.0`,
/// `"4"`, `" 4 "`, `"+4"`, `"4.0"`, `"4e0"`: an integer, or a number in JSON
/// syntax, around white space). `None` for anything else, fractions and
/// numbers beyond ±10^15 written as floats included, so a caller can try
/// other spellings (such as priority names).
///
/// ```
/// use beacon_plugin_sdk::template::as_integer;
/// use serde_json::json;
///
/// assert_eq!(as_integer(&json!(" 4 ")), Some(4));
/// assert_eq!(as_integer(&json!(4.0)), Some(4));
/// assert_eq!(as_integer(&json!("-3")), Some(-3));
/// assert_eq!(as_integer(&json!(2.5)), None);
/// assert_eq!(as_integer(&json!("high")), None);
/// ```
pub fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => whole_number(n.as_i64(), || n.as_f64()),
        Value::String(s) => {
            let s = s.trim();
            whole_number(s.parse::<i64>().ok(), || json_float(s))
        }
        _ => None,
    }
}

/// `text` read as a JSON number (`4.0`, `4e0`), as a float. serde_json's
/// parser is in every plugin already; `str::parse::<f64>` would add some
/// 20 KB of float parsing to the component.
fn json_float(text: &str) -> Option<f64> {
    serde_json::from_str::<Number>(text).ok()?.as_f64()
}

/// The integer, else the float when it is whole and below 10^15 in size
/// (where the conversion is exact).
fn whole_number(integer: Option<i64>, float: impl FnOnce() -> Option<f64>) -> Option<i64> {
    integer.or_else(|| {
        let f = float()?;
        let whole = f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15;
        // The range check above makes the cast exact.
        whole.then_some(f as i64)
    })
}

/// A boolean given as `true`/`false`, as the text `true`/`false`, `1`/`0`,
/// `yes`/`no`, `on`/`off` (any case, white space ignored), or as the
/// numbers 1/0. `None` for anything else.
///
/// ```
/// use beacon_plugin_sdk::template::as_boolean;
/// use serde_json::json;
///
/// assert_eq!(as_boolean(&json!(" ON ")), Some(true));
/// assert_eq!(as_boolean(&json!("no")), Some(false));
/// assert_eq!(as_boolean(&json!(0)), Some(false));
/// assert_eq!(as_boolean(&json!(2)), None);
/// ```
pub fn as_boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        },
        Value::Number(n) => match whole_number(n.as_i64(), || n.as_f64()) {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A permanent [`SendError`] about one template key:
/// `` payload template key `{key}` {why} ``. Use it for a plugin's own
/// checks so every template error reads alike.
///
/// ```
/// use beacon_plugin_sdk::template::bad;
///
/// let err = bad("priority", "must be between 1 and 5");
/// assert_eq!(err.message(), "payload template key `priority` must be between 1 and 5");
/// assert!(!err.is_retryable());
/// ```
pub fn bad(key: &str, why: impl fmt::Display) -> SendError {
    SendError::permanent(format!("payload template key `{key}` {why}"))
}

/// A value as compact JSON for an error message, cut to 100 characters.
fn shown(value: &Value) -> String {
    const MAX_CHARS: usize = 100;
    let text = value.to_string();
    match text.char_indices().nth(MAX_CHARS) {
        None => text,
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(value: Value) -> Template {
        match value {
            Value::Object(map) => Template::from(map),
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn parse_accepts_objects_and_no_template() {
        for none in ["", "  \n", "null", "{}", " { } "] {
            assert!(Template::parse(none).unwrap().is_empty(), "{none:?}");
        }
        let t = Template::parse(r#"{"a": 1, "b": ""}"#).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.as_map()["a"], 1);
    }

    #[test]
    fn parse_refuses_other_json_and_invalid_text_permanently() {
        for bad in ["[1,2]", "\"text\"", "4", "true"] {
            let e = Template::parse(bad).unwrap_err();
            assert!(!e.is_retryable(), "{bad}");
            assert_eq!(
                e.message(),
                "the rule's payload template must render to a JSON object"
            );
            assert_eq!(e.failure().http_status, None);
        }
        let e = Template::parse("{nope").unwrap_err();
        assert!(!e.is_retryable());
        assert!(
            e.message()
                .starts_with("the rule's payload template did not render to valid JSON: "),
            "{e:?}"
        );
    }

    #[test]
    fn parse_value_keeps_any_json() {
        assert_eq!(parse_value("[1,2]").unwrap(), Some(json!([1, 2])));
        assert_eq!(parse_value("\"x\"").unwrap(), Some(json!("x")));
        assert_eq!(parse_value("0").unwrap(), Some(json!(0)));
        assert_eq!(parse_value(r#"{"a":1}"#).unwrap(), Some(json!({"a": 1})));
        for none in ["", " ", "null", "{}"] {
            assert_eq!(parse_value(none).unwrap(), None, "{none:?}");
        }
        assert!(!parse_value("nope").unwrap_err().is_retryable());
    }

    #[test]
    fn missing_null_and_blank_are_unset_for_every_reader() {
        let t = template(json!({"null": null, "empty": "", "blank": " \t "}));
        for key in ["missing", "null", "empty", "blank"] {
            assert_eq!(t.present(key), None, "{key}");
            assert_eq!(t.text(key).unwrap(), None, "{key}");
            assert_eq!(t.integer(key).unwrap(), None, "{key}");
            assert_eq!(t.boolean(key).unwrap(), None, "{key}");
            assert_eq!(t.structured(key).unwrap(), None, "{key}");
            assert_eq!(t.list(key).unwrap(), None, "{key}");
            assert_eq!(t.object(key).unwrap(), None, "{key}");
        }
        // Zero, false and empty structures are values.
        let t = template(json!({"zero": 0, "no": false, "list": [], "object": {}}));
        for key in ["zero", "no", "list", "object"] {
            assert!(t.present(key).is_some(), "{key}");
        }
    }

    #[test]
    fn text_takes_scalars_as_their_json_text() {
        let t = template(json!({"s": " a ", "n": 4, "f": 1.5, "b": false, "l": ["x"], "o": {}}));
        assert_eq!(t.text("s").unwrap().as_deref(), Some(" a "));
        assert_eq!(t.text("n").unwrap().as_deref(), Some("4"));
        assert_eq!(t.text("f").unwrap().as_deref(), Some("1.5"));
        assert_eq!(t.text("b").unwrap().as_deref(), Some("false"));
        for key in ["l", "o"] {
            let e = t.text(key).unwrap_err();
            assert!(!e.is_retryable());
            assert_eq!(
                e.message(),
                format!("payload template key `{key}` must be a string, number or boolean")
            );
        }
    }

    #[test]
    fn integers_from_numbers_and_numeric_text() {
        for (value, want) in [
            (json!(4), 4),
            (json!(-2), -2),
            (json!(5.0), 5),
            (json!("4"), 4),
            (json!(" 4 "), 4),
            (json!("4.0"), 4),
            (json!("-7"), -7),
            (json!("+7"), 7),
            (json!("1e3"), 1000),
            (json!(i64::MAX), i64::MAX),
        ] {
            assert_eq!(as_integer(&value), Some(want), "{value}");
            assert_eq!(
                template(json!({ "k": value })).integer("k").unwrap(),
                Some(want)
            );
        }
        for value in [
            json!(2.5),
            json!("2.5"),
            json!("high"),
            json!(1e16),
            json!(u64::MAX),
            json!("NaN"),
            json!("inf"),
            json!(true),
            json!([1]),
            json!({"a": 1}),
        ] {
            assert_eq!(as_integer(&value), None, "{value}");
            let e = template(json!({ "k": value })).integer("k").unwrap_err();
            assert!(!e.is_retryable());
            assert!(
                e.message()
                    .starts_with("payload template key `k` must be a whole number, got "),
                "{e:?}"
            );
        }
    }

    #[test]
    fn booleans_in_every_spelling() {
        for (value, want) in [
            (json!(true), true),
            (json!(false), false),
            (json!("true"), true),
            (json!("FALSE"), false),
            (json!(" Yes "), true),
            (json!("no"), false),
            (json!("on"), true),
            (json!("Off"), false),
            (json!("1"), true),
            (json!("0"), false),
            (json!(1), true),
            (json!(0), false),
            (json!(1.0), true),
        ] {
            assert_eq!(as_boolean(&value), Some(want), "{value}");
            assert_eq!(
                template(json!({ "k": value })).boolean("k").unwrap(),
                Some(want)
            );
        }
        for value in [
            json!("maybe"),
            json!(2),
            json!(-1),
            json!("2"),
            json!([true]),
        ] {
            assert_eq!(as_boolean(&value), None, "{value}");
            let e = template(json!({ "k": value })).boolean("k").unwrap_err();
            assert_eq!(
                e.message(),
                format!("payload template key `k` must be true or false, got {value}")
            );
        }
    }

    #[test]
    fn structured_values_and_their_json_text() {
        let t = template(json!({
            "list": [1], "list_text": "[1]", "object_text": "{\"a\": 1}", "number": 3,
            "null_text": "null", "bad": "{nope", "text": "\"x\""
        }));
        assert_eq!(t.structured("list").unwrap(), Some(json!([1])));
        assert_eq!(t.structured("list_text").unwrap(), Some(json!([1])));
        assert_eq!(t.structured("object_text").unwrap(), Some(json!({"a": 1})));
        assert_eq!(t.structured("number").unwrap(), Some(json!(3)));
        assert_eq!(t.structured("text").unwrap(), Some(json!("x")));
        assert_eq!(t.structured("null_text").unwrap(), None);
        let e = t.structured("bad").unwrap_err();
        assert!(!e.is_retryable());
        assert!(
            e.message()
                .starts_with("payload template key `bad` is a string that is not valid JSON: "),
            "{e:?}"
        );
    }

    #[test]
    fn lists_and_objects() {
        let t = template(json!({
            "list": [1, 2], "list_text": " [\"a\"] ", "empty": [], "empty_text": "[]",
            "object": {"a": 1}, "object_text": "{\"a\": 1}", "empty_object": {}, "empty_object_text": "{}",
            "number": 5, "not_json": "[1"
        }));
        assert_eq!(t.list("list").unwrap(), Some(vec![json!(1), json!(2)]));
        assert_eq!(t.list("list_text").unwrap(), Some(vec![json!("a")]));
        assert_eq!(t.list("empty").unwrap(), None);
        assert_eq!(t.list("empty_text").unwrap(), None);
        let object = |v: Value| v.as_object().cloned();
        assert_eq!(t.object("object").unwrap(), object(json!({"a": 1})));
        assert_eq!(t.object("object_text").unwrap(), object(json!({"a": 1})));
        assert_eq!(t.object("empty_object").unwrap(), object(json!({})));
        assert_eq!(t.object("empty_object_text").unwrap(), object(json!({})));
        for key in ["object", "object_text", "number"] {
            assert_eq!(
                t.list(key).unwrap_err().message(),
                format!(
                    "payload template key `{key}` must be a list (or a string holding a JSON list)"
                )
            );
        }
        for key in ["list", "list_text", "number"] {
            assert_eq!(
                t.object(key).unwrap_err().message(),
                format!("payload template key `{key}` must be an object (or a string holding a JSON object)")
            );
        }
        assert!(t
            .list("not_json")
            .unwrap_err()
            .message()
            .contains("`not_json`"));
        assert!(t
            .object("not_json")
            .unwrap_err()
            .message()
            .contains("`not_json`"));
    }

    #[test]
    fn take_reads_then_removes_and_rest_drops_unset_values() {
        let mut t = template(json!({
            "text": "hi", "n": "4", "b": "yes", "l": "[1]", "o": {}, "s": "[]", "keep": 1,
            "bad": {"x": 1}, "gone": "x", "empty": "", "null": null, "blank": "  "
        }));
        assert_eq!(t.take_text("text").unwrap().as_deref(), Some("hi"));
        assert_eq!(t.take_integer("n").unwrap(), Some(4));
        assert_eq!(t.take_boolean("b").unwrap(), Some(true));
        assert_eq!(t.take_list("l").unwrap(), Some(vec![json!(1)]));
        assert_eq!(t.take_object("o").unwrap(), Some(Map::new()));
        assert_eq!(t.take_structured("s").unwrap(), Some(json!([])));
        // A failed read removes the key too.
        assert!(t.take_text("bad").is_err());
        assert_eq!(t.remove("gone"), Some(json!("x")));
        assert_eq!(t.take_text("missing").unwrap(), None);
        assert_eq!(t.len(), 4);
        let rest: Map<String, Value> = t.clone().into_rest().collect();
        assert_eq!(Value::Object(rest), json!({"keep": 1}));
        assert_eq!(
            Value::Object(t.into_map()),
            json!({"keep": 1, "empty": "", "null": null, "blank": "  "})
        );
    }

    #[test]
    fn bad_names_the_key_and_long_values_are_cut() {
        let e = bad("priority", format_args!("must be {}", "1-5"));
        assert_eq!(
            e,
            SendError::permanent("payload template key `priority` must be 1-5")
        );
        let long = "é".repeat(300);
        let e = template(json!({ "k": long })).boolean("k").unwrap_err();
        let shown = format!("\"{}…", "é".repeat(99));
        assert_eq!(
            e.message(),
            format!("payload template key `k` must be true or false, got {shown}")
        );
    }
}
