//! Reading the rule's rendered payload template.
//!
//! The host fills the `{{…}}` placeholders of every string in the template,
//! so values that came from placeholders are always strings (`"4"`, not
//! `4`); literal non-string values written into the template arrive as they
//! are. These helpers accept both, and treat a missing key, `null` and a
//! blank string alike: as "not set", so the fallback applies.

use beacon_plugin_sdk::SendError;
use serde_json::{Map, Value};

/// Parse the rendered template: a JSON object, or nothing (`""`, `null`,
/// `{}`) when the rule has no template.
pub fn parse(payload_json: &str) -> Result<Map<String, Value>, SendError> {
    if payload_json.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(payload_json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(SendError::permanent(
            "the rule's payload template must render to a JSON object",
        )),
        Err(e) => Err(SendError::permanent(format!(
            "the rule's payload template did not render to valid JSON: {e}"
        ))),
    }
}

/// A permanent error about one template key.
pub fn bad(key: &str, why: impl std::fmt::Display) -> SendError {
    SendError::permanent(format!("payload template key `{key}` {why}"))
}

/// The value of `key` unless it is missing, `null` or a blank string.
pub fn present<'a>(template: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    match template.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(value) => Some(value),
    }
}

/// A text value: strings as they are, numbers and booleans as their JSON
/// text; arrays and objects are refused.
pub fn text(template: &Map<String, Value>, key: &str) -> Result<Option<String>, SendError> {
    match present(template, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
        Some(_) => Err(bad(key, "must be a string")),
    }
}

/// An integral number given as a JSON number or as numeric text (`4`,
/// `"4"`, `" 4 "`, `"4.0"`). `None` when the value is text that is not a
/// number (the caller may try other spellings).
pub fn integer(value: &Value) -> Option<i64> {
    fn from_f64(f: f64) -> Option<i64> {
        let in_range = f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15;
        // The range check above makes the cast exact.
        in_range.then_some(f as i64)
    }
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(from_f64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(from_f64))
        }
        _ => None,
    }
}

/// A structured value that may also arrive as JSON text (e.g. rendered from
/// `"{{message.extras.actions}}"`): text is parsed, anything else is
/// returned as it is.
pub fn structured(template: &Map<String, Value>, key: &str) -> Result<Option<Value>, SendError> {
    match present(template, key) {
        None => Ok(None),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .map(Some)
            .map_err(|e| bad(key, format!("is text that is not valid JSON: {e}"))),
        Some(value) => Ok(Some(value.clone())),
    }
}
