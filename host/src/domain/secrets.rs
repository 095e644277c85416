//! Secret fields of a plugin config: found from the plugin's JSON Schema
//! (`"x-secret": true` or `"writeOnly": true`, at any depth, through `$ref`
//! and `anyOf`/`oneOf`/`allOf`), masked in every answer, and restored when an
//! update sends the mask back.

use serde_json::Value;

/// What secret values look like in answers; sending it back keeps the stored value.
pub const SECRET_MASK: &str = "********";

/// How deep the schema walk goes (guards against recursive `$ref`s).
const MAX_DEPTH: usize = 8;

/// A secret's place in the config: object keys from the root, e.g.
/// `["encryption", "key"]`.
pub type SecretPath = Vec<String>;

/// The paths of every property the schema marks secret.
pub fn secret_paths(schema: &Value) -> Vec<SecretPath> {
    let mut found = Vec::new();
    walk(schema, schema, &mut Vec::new(), &mut found, 0);
    found.sort();
    found.dedup();
    found
}

fn walk(
    node: &Value,
    root: &Value,
    prefix: &mut Vec<String>,
    found: &mut Vec<SecretPath>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let node = resolve(node, root);
    let marked = node["x-secret"] == Value::Bool(true) || node["writeOnly"] == Value::Bool(true);
    if marked && !prefix.is_empty() {
        found.push(prefix.clone());
        return;
    }
    if let Some(properties) = node["properties"].as_object() {
        for (name, property) in properties {
            prefix.push(name.clone());
            walk(property, root, prefix, found, depth + 1);
            prefix.pop();
        }
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        for branch in node[combinator].as_array().into_iter().flatten() {
            walk(branch, root, prefix, found, depth + 1);
        }
    }
}

/// Follows a local `$ref` (`#/$defs/Name` or `#/definitions/Name`).
fn resolve<'a>(node: &'a Value, root: &'a Value) -> &'a Value {
    let Some(reference) = node["$ref"].as_str() else {
        return node;
    };
    let Some(pointer) = reference.strip_prefix('#') else {
        return node;
    };
    root.pointer(pointer).unwrap_or(node)
}

/// Every top-level key: what to mask when the plugin (and so its schema) is unknown.
pub fn all_top_level(config: &Value) -> Vec<SecretPath> {
    config
        .as_object()
        .map(|m| m.keys().map(|k| vec![k.clone()]).collect())
        .unwrap_or_default()
}

/// Masks every string inside each secret value (strings, lists, objects such
/// as header maps).
pub fn mask(config: &mut Value, secrets: &[SecretPath]) {
    for path in secrets {
        if let Some(value) = at_mut(config, path) {
            mask_value(value);
        }
    }
}

/// Puts stored secret values back where an update sent the mask.
pub fn restore(incoming: &mut Value, stored: &Value, secrets: &[SecretPath]) {
    for path in secrets {
        let old = path.iter().try_fold(stored, |value, key| value.get(key));
        if let (Some(new), Some(old)) = (at_mut(incoming, path), old) {
            restore_value(new, old);
        }
    }
}

fn at_mut<'a>(config: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(config, |value, key| value.as_object_mut()?.get_mut(key))
}

fn mask_value(value: &mut Value) {
    match value {
        Value::String(s) if !s.is_empty() => *s = SECRET_MASK.to_string(),
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        Value::Object(map) => map.values_mut().for_each(mask_value),
        _ => {}
    }
}

fn restore_value(new: &mut Value, old: &Value) {
    match (new, old) {
        (new @ Value::String(_), old) if new.as_str() == Some(SECRET_MASK) => *new = old.clone(),
        (Value::Array(items), Value::Array(old_items)) => {
            for (item, old_item) in items.iter_mut().zip(old_items) {
                restore_value(item, old_item);
            }
        }
        (Value::Object(map), Value::Object(old_map)) => {
            for (key, item) in map.iter_mut() {
                if let Some(old_item) = old_map.get(key) {
                    restore_value(item, old_item);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(list: &[&[&str]]) -> Vec<SecretPath> {
        list.iter()
            .map(|p| p.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn finds_secrets_at_any_depth_through_refs_and_combinators() {
        // The shape schemars 1 gives an `Option<Nested>` field.
        let schema = json!({
            "type": "object",
            "properties": {
                "server_base_url": {"type": "string"},
                "device_key": {"type": ["string", "null"], "x-secret": true, "writeOnly": true},
                "encryption": {"anyOf": [{"$ref": "#/$defs/Encryption"}, {"type": "null"}]},
                "headers": {"type": "object", "writeOnly": true},
            },
            "$defs": {
                "Encryption": {
                    "type": "object",
                    "properties": {
                        "algorithm": {"type": "string"},
                        "key": {"type": "string", "x-secret": true},
                        "inner": {"$ref": "#/$defs/Encryption"},
                    }
                }
            }
        });
        let found = secret_paths(&schema);
        assert!(found.contains(&vec!["device_key".to_string()]));
        assert!(found.contains(&vec!["headers".to_string()]));
        assert!(found.contains(&vec!["encryption".to_string(), "key".to_string()]));
        assert!(!found
            .iter()
            .any(|p| p.last().is_some_and(|k| k == "algorithm")));
        // The recursive reference stops at the depth limit instead of looping.
        assert!(found.len() < 20, "{found:?}");
    }

    #[test]
    fn masking_and_restoring_secrets() {
        let secrets = paths(&[&["device_key"], &["device_keys"], &["encryption", "key"]]);
        let stored = json!({"server_base_url": "https://api.day.app", "device_key": "abc",
            "device_keys": ["k1", "k2"], "encryption": {"algorithm": "aes-256-gcm", "key": "K"}});
        let mut shown = stored.clone();
        mask(&mut shown, &secrets);
        assert_eq!(
            shown,
            json!({"server_base_url": "https://api.day.app", "device_key": SECRET_MASK,
                "device_keys": [SECRET_MASK, SECRET_MASK],
                "encryption": {"algorithm": "aes-256-gcm", "key": SECRET_MASK}})
        );
        let mut update = json!({"server_base_url": "https://bark.example", "device_key": SECRET_MASK,
            "device_keys": [SECRET_MASK, "k3"], "encryption": {"algorithm": "aes-128-gcm", "key": SECRET_MASK}});
        restore(&mut update, &stored, &secrets);
        assert_eq!(
            update,
            json!({"server_base_url": "https://bark.example", "device_key": "abc",
                "device_keys": ["k1", "k3"], "encryption": {"algorithm": "aes-128-gcm", "key": "K"}})
        );
    }

    #[test]
    fn a_new_secret_without_a_stored_one_stays_as_sent() {
        let secrets = paths(&[&["encryption", "key"]]);
        let mut update = json!({"encryption": {"key": "fresh"}});
        restore(&mut update, &json!({}), &secrets);
        assert_eq!(update, json!({"encryption": {"key": "fresh"}}));
    }
}
