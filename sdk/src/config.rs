//! Typed plugin configuration: parsing with field paths, and JSON Schema.
//!
//! A plugin's config is a Rust type deriving [`serde::Deserialize`] and
//! [`schemars::JsonSchema`]. The SDK derives the JSON Schema that `describe`
//! reports from it, and `validate-config` deserializes it, naming the
//! offending field as a JSON path when that fails.
//!
//! Mark secret fields (tokens, device keys, passwords) with [`secret`]:
//!
//! ```
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Config {
//!     url: String,
//!     #[schemars(transform = beacon_plugin_sdk::config::secret)]
//!     token: String,
//! }
//!
//! let schema: serde_json::Value =
//!     serde_json::from_str(&beacon_plugin_sdk::config::schema_json::<Config>()).unwrap();
//! assert_eq!(schema["properties"]["token"]["x-secret"], true);
//! assert_eq!(schema["properties"]["token"]["writeOnly"], true);
//! ```
//!
//! (`#[schemars(extend("x-secret" = true, "writeOnly" = true))]` is the
//! equivalent spelled out.)

use crate::types::ConfigError;
use schemars::{JsonSchema, Schema};
use serde::de::DeserializeOwned;

/// Schemars transform that marks a field as secret: adds `"x-secret": true`
/// and `"writeOnly": true`. Use as
/// `#[schemars(transform = beacon_plugin_sdk::config::secret)]`.
pub fn secret(schema: &mut Schema) {
    schema.insert("x-secret".to_owned(), true.into());
    schema.insert("writeOnly".to_owned(), true.into());
}

/// The JSON Schema (draft 2020-12) of `C`, as compact JSON text.
pub fn schema_json<C: JsonSchema>() -> String {
    let schema = schemars::schema_for!(C);
    serde_json::to_string(&schema).expect("a JSON Schema always serialises")
}

/// Parse a config document into `C`.
///
/// On failure the [`ConfigError::field`] is the JSON path of the offending
/// value (`""` for the document as a whole); for a missing required field it
/// is the path the field should have had.
pub fn parse<C: DeserializeOwned>(config_json: &str) -> Result<C, ConfigError> {
    // Fast path: filters parse their config on every evaluation. Only a
    // failure pays for the path-tracking second pass that names the field.
    if let Ok(config) = serde_json::from_str(config_json) {
        return Ok(config);
    }
    let de = &mut serde_json::Deserializer::from_str(config_json);
    match serde_path_to_error::deserialize::<_, C>(de) {
        Ok(config) => Ok(config),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let message = strip_position(&inner.to_string());
            let mut field = if path == "." { String::new() } else { path };
            if inner.is_syntax() || inner.is_eof() {
                return Err(ConfigError::new(
                    field,
                    format!("config is not valid JSON: {message}"),
                ));
            }
            if let Some(name) = quoted_after(&message, "missing field `") {
                field = join_path(&field, name);
            }
            Err(ConfigError::new(field, message))
        }
    }
}

/// Parse and then run a validation hook on the typed value.
pub fn parse_and_validate<C: DeserializeOwned>(
    config_json: &str,
    validate: impl FnOnce(&C) -> Result<(), ConfigError>,
) -> Result<C, ConfigError> {
    let config = parse::<C>(config_json)?;
    validate(&config)?;
    Ok(config)
}

/// Append `name` to a JSON path (`""` + `a` = `a`, `x` + `a` = `x.a`).
pub fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// Check that `value` is an absolute `http://` or `https://` URL with a
/// host, no userinfo, no whitespace and no fragment; errors name `field`.
/// (The host re-checks every request against its outbound policy; this only
/// catches mistakes early, in `validate-config`.)
///
/// ```
/// use beacon_plugin_sdk::config::check_http_url;
/// assert!(check_http_url("url", "https://api.day.app").is_ok());
/// assert_eq!(check_http_url("url", "ftp://x").unwrap_err().field, "url");
/// ```
pub fn check_http_url(field: &str, value: &str) -> Result<(), ConfigError> {
    let err = |why: &str| Err(ConfigError::new(field, why));
    if value.is_empty() {
        return err("must not be empty");
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err("must not contain whitespace");
    }
    let lower = value.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &value[8..]
    } else if lower.starts_with("http://") {
        &value[7..]
    } else {
        return err("must be an absolute http:// or https:// URL");
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.contains('@') {
        return err("must not contain a user name or password");
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => match v6.find(']') {
            Some(end) => &v6[..end],
            None => return err("has an unterminated IPv6 address"),
        },
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() {
        return err("must include a host name");
    }
    if let Some((_, port)) = authority
        .rsplit_once(':')
        .filter(|_| !authority.ends_with(']'))
    {
        if port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err()
        {
            return err("has an invalid port");
        }
    }
    if value.contains('#') {
        return err("must not contain a fragment (#...)");
    }
    Ok(())
}

fn quoted_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let start = text.find(prefix)? + prefix.len();
    let rest = &text[start..];
    rest.find('`').map(|end| &rest[..end])
}

/// serde_json appends " at line L column C"; that is noise for a form field.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(idx) if message[idx..].contains(" column ") => message[..idx].to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        regex: Option<String>,
        min: Option<u8>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Cfg {
        url: String,
        #[schemars(transform = secret)]
        token: Option<String>,
        #[serde(default)]
        keys: Vec<String>,
        body: Option<Inner>,
    }

    #[test]
    fn http_urls() {
        for ok in [
            "http://bark.lan",
            "https://api.day.app/",
            "HTTPS://Api.Day.App:8443/prefix",
            "http://[::1]:8080",
            "http://10.0.0.1/x?y=1",
        ] {
            assert!(check_http_url("u", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "api.day.app",
            "ftp://x",
            "https://",
            "https:///path",
            "https://user:pw@host",
            "https://host:port",
            "https://host:99999",
            "https://host/a b",
            "https://host/#frag",
            "http://[::1",
            "javascript:alert(1)",
        ] {
            let e = check_http_url("server_base_url", bad).unwrap_err();
            assert_eq!(e.field, "server_base_url", "{bad}");
        }
    }

    #[test]
    fn parses_valid() {
        let c: Cfg = parse(r#"{"url":"http://x","keys":["a"]}"#).unwrap();
        assert_eq!(c.url, "http://x");
        assert_eq!(c.keys, vec!["a"]);
    }

    #[test]
    fn reports_paths() {
        let e = parse::<Cfg>(r#"{"url":"u","keys":["a", 3]}"#).unwrap_err();
        assert_eq!(e.field, "keys[1]");
        let e = parse::<Cfg>(r#"{"url":"u","body":{"min":"x"}}"#).unwrap_err();
        assert_eq!(e.field, "body.min");
        let e = parse::<Cfg>(r#"{"url":"u","body":{"min":900}}"#).unwrap_err();
        assert_eq!(e.field, "body.min");
        assert!(!e.message.contains("line"), "{}", e.message);
    }

    #[test]
    fn missing_field_names_the_field() {
        let e = parse::<Cfg>(r#"{}"#).unwrap_err();
        assert_eq!(e.field, "url");
        assert!(e.message.contains("missing field"));
    }

    #[test]
    fn unknown_field_is_reported() {
        let e = parse::<Cfg>(r#"{"url":"u","body":{"regexp":"x"}}"#).unwrap_err();
        assert!(e.field.starts_with("body"), "{e:?}");
        assert!(e.message.contains("unknown field"));
    }

    #[test]
    fn syntax_errors() {
        let e = parse::<Cfg>("{").unwrap_err();
        assert!(e.message.starts_with("config is not valid JSON"), "{e:?}");
        let e = parse::<Cfg>("[]").unwrap_err();
        assert_eq!(e.field, "");
    }

    #[test]
    fn validate_hook_runs() {
        let e = parse_and_validate::<Cfg>(r#"{"url":""}"#, |c| {
            if c.url.is_empty() {
                Err(ConfigError::new("url", "must not be empty"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!(e, ConfigError::new("url", "must not be empty"));
    }

    #[test]
    fn schema_marks_secrets() {
        let s: serde_json::Value = serde_json::from_str(&schema_json::<Cfg>()).unwrap();
        assert_eq!(s["properties"]["token"]["x-secret"], true);
        assert_eq!(s["properties"]["token"]["writeOnly"], true);
        assert!(s["properties"]["url"].get("x-secret").is_none());
        assert_eq!(s["required"], serde_json::json!(["url"]));
        assert!(s["$schema"].as_str().unwrap().contains("2020-12"));
    }
}
