//! Which request headers are stored as `[REDACTED]` (SPEC §5).

pub const REDACTED: &str = "[REDACTED]";

const ALWAYS: [&str; 8] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-csrf-token",
    "x-beacon-ingest-key",
];
const FRAGMENTS: [&str; 5] = ["token", "secret", "password", "auth", "key"];

/// True for header names whose values must never be stored or shown.
pub fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ALWAYS.contains(&name.as_str()) || FRAGMENTS.iter().any(|fragment| name.contains(fragment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_names() {
        for name in [
            "Authorization",
            "Cookie",
            "Set-Cookie",
            "X-CSRF-Token",
            "X-Beacon-Ingest-Key",
            "X-My-Secret",
            "Api-Passwords",
            "X-Keyring",
            "X-OAuth",
        ] {
            assert!(is_sensitive(name), "{name}");
        }
        for name in ["User-Agent", "Content-Type", "X-Request-Id", "Accept"] {
            assert!(!is_sensitive(name), "{name}");
        }
    }
}
