//! Per-plugin grants, like an Extism manifest: the hosts a plugin may reach,
//! its memory and time limits and the host capabilities it may use. The
//! operator sets them per plugin id (every installed version); the host
//! enforces them on every call. Stored beside the components as
//! `{id}.grants.json`, so every process sharing the plugins directory sees a
//! change at its next refresh, without reinstalling anything.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::kind::PluginKind;

/// The most memory a grant may give one instance.
pub const MAX_GRANTED_MEMORY_MIB: u32 = 1024;
/// The longest call a grant may allow: within the default worker lease
/// (60 s), so a delivery is never claimed twice while its send runs.
pub const MAX_GRANTED_TIMEOUT_MS: u32 = 50_000;
/// Capabilities a grant can name, as `GET /api/plugins` reports a plugin's
/// imports; `log` can be withheld too (lines are dropped).
pub const CAPABILITIES: [&str; 5] = ["http", "kv", "log", "mqtt-publish", "smtp-send"];

/// What the operator granted. `None` everywhere means the defaults: the
/// global outbound policy, the host's limits, every capability the plugin's
/// kind may have.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Hosts `fetch` and `mqtt-publish` may reach: names (`api.example.com`),
    /// wildcards (`*.example.com`) or IP addresses. Narrows the global
    /// policy; private addresses stay refused unless `allow_private_networks`.
    #[serde(default)]
    pub allowed_hosts: Option<Vec<String>>,
    /// Overrides the global private-network policy for this plugin: `true`
    /// opens private ranges (the operator's explicit word to go wider),
    /// `false` closes them, including what the global allowlist opened.
    #[serde(default)]
    pub allow_private_networks: Option<bool>,
    #[serde(default)]
    pub memory_mib: Option<u32>,
    /// Deadline of one call (`send`, or one filter evaluation).
    #[serde(default)]
    pub timeout_ms: Option<u32>,
    /// Capabilities the plugin may use; a withheld one fails at call time
    /// with a policy error (the component itself need not change).
    #[serde(default)]
    pub capabilities: Option<Vec<String>>,
}

/// A grant that cannot be applied, naming the field (JSON path).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct GrantError {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> GrantError {
    GrantError {
        field: field.into(),
        message: message.into(),
    }
}

impl Grants {
    /// Checks a grant for a plugin of `kind` and normalises host names
    /// (lower case, no trailing dot) and capability order.
    pub fn validated(mut self, kind: PluginKind) -> Result<Grants, GrantError> {
        if let Some(hosts) = &mut self.allowed_hosts {
            if hosts.len() > 100 {
                return Err(invalid("allowed_hosts", "at most 100 hosts"));
            }
            for (index, host) in hosts.iter_mut().enumerate() {
                *host = normalized_host(host)
                    .map_err(|message| invalid(format!("allowed_hosts[{index}]"), message))?;
            }
            if kind == PluginKind::Filter && !hosts.is_empty() {
                return Err(invalid(
                    "allowed_hosts",
                    "filters have no network access to grant",
                ));
            }
        }
        if kind == PluginKind::Filter && self.allow_private_networks.is_some() {
            return Err(invalid(
                "allow_private_networks",
                "filters have no network access to grant",
            ));
        }
        if let Some(mib) = self.memory_mib {
            if !(1..=MAX_GRANTED_MEMORY_MIB).contains(&mib) {
                return Err(invalid(
                    "memory_mib",
                    format!("must be between 1 and {MAX_GRANTED_MEMORY_MIB}"),
                ));
            }
        }
        if let Some(ms) = self.timeout_ms {
            if !(1..=MAX_GRANTED_TIMEOUT_MS).contains(&ms) {
                return Err(invalid(
                    "timeout_ms",
                    format!("must be between 1 and {MAX_GRANTED_TIMEOUT_MS}"),
                ));
            }
        }
        if let Some(capabilities) = &mut self.capabilities {
            for (index, capability) in capabilities.iter().enumerate() {
                if !CAPABILITIES.contains(&capability.as_str()) {
                    return Err(invalid(
                        format!("capabilities[{index}]"),
                        format!(
                            "unknown capability {capability:?} (one of {})",
                            CAPABILITIES.join(", ")
                        ),
                    ));
                }
                if kind == PluginKind::Filter && !matches!(capability.as_str(), "kv" | "log") {
                    return Err(invalid(
                        format!("capabilities[{index}]"),
                        format!("a filter cannot be granted {capability}"),
                    ));
                }
            }
            capabilities.sort();
            capabilities.dedup();
        }
        Ok(self)
    }

    /// May the plugin use `capability` (`http`, `kv`, `log`, `mqtt-publish`, `smtp-send`)?
    pub fn allows(&self, capability: &str) -> bool {
        self.capabilities
            .as_ref()
            .is_none_or(|granted| granted.iter().any(|c| c == capability))
    }

    /// Does `host` (lower case, as in a URL) match one of the granted hosts?
    /// Always true when no host list is granted.
    pub fn allows_host(&self, host: &str) -> bool {
        self.allowed_hosts
            .as_ref()
            .is_none_or(|patterns| host_matches(patterns, host))
    }

    /// Narrows the network: a host list or a private-network override.
    pub fn shapes_network(&self) -> bool {
        self.allowed_hosts.is_some() || self.allow_private_networks.is_some()
    }
}

/// Does `host` match one of `patterns` (exact names or IPs, `*.domain`)?
pub fn host_matches(patterns: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').trim_matches(['[', ']']);
    patterns
        .iter()
        .any(|pattern| match pattern.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1),
            None => pattern == host,
        })
}

/// `api.example.com`, `*.example.com`, `10.0.0.5` or `::1`; no scheme, port or path.
fn normalized_host(host: &str) -> Result<String, String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err("empty host".into());
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(host);
    }
    let name = host.strip_prefix("*.").unwrap_or(&host);
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!(
            "{host:?} is not a host name, *.domain wildcard or IP address (no scheme, port or path)"
        ));
    }
    Ok(host)
}

/// Where the grants of `plugin_id` live in the plugins directory.
pub fn grants_path(dir: &Path, plugin_id: &str) -> PathBuf {
    dir.join(format!("{plugin_id}.grants.json"))
}

/// The stored grants of a plugin; defaults when there is no file. A file
/// that cannot be read or parsed is an error (the registry then keeps the
/// grants it had and logs why).
pub fn read_grants(dir: &Path, plugin_id: &str) -> Result<Grants, String> {
    let path = grants_path(dir, plugin_id);
    match std::fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map_err(|err| format!("{}: {err}", path.display()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Grants::default()),
        Err(err) => Err(format!("{}: {err}", path.display())),
    }
}

/// Writes (atomically) or, for the defaults, deletes the grants file.
pub fn write_grants(dir: &Path, plugin_id: &str, grants: &Grants) -> std::io::Result<()> {
    let path = grants_path(dir, plugin_id);
    if *grants == Grants::default() {
        return match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        };
    }
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{plugin_id}.grants.json.tmp"));
    let text = serde_json::to_vec_pretty(grants).map_err(std::io::Error::other)?;
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> Grants {
        Grants {
            allowed_hosts: Some(list.iter().map(|h| h.to_string()).collect()),
            ..Grants::default()
        }
    }

    #[test]
    fn host_patterns_match_exactly_or_by_subdomain() {
        let grants = hosts(&["api.example.com", "*.hooks.test", "127.0.0.1"])
            .validated(PluginKind::Channel)
            .expect("valid");
        assert!(grants.allows_host("api.example.com"));
        assert!(grants.allows_host("a.hooks.test"));
        assert!(grants.allows_host("deep.a.hooks.test"));
        assert!(grants.allows_host("127.0.0.1"));
        assert!(
            !grants.allows_host("hooks.test"),
            "a wildcard needs a label"
        );
        assert!(!grants.allows_host("evilhooks.test"));
        assert!(!grants.allows_host("example.com"));
        assert!(!grants.allows_host("api.example.com.evil.test"));
        assert!(Grants::default().allows_host("anything.test"));
    }

    #[test]
    fn refusals_name_the_field() {
        let bad = |grants: Grants, kind| grants.validated(kind).expect_err("refused").field;
        assert_eq!(
            bad(hosts(&["ok.test", "https://x.test/"]), PluginKind::Channel),
            "allowed_hosts[1]"
        );
        assert_eq!(bad(hosts(&["x.test"]), PluginKind::Filter), "allowed_hosts");
        let memory = Grants {
            memory_mib: Some(0),
            ..Grants::default()
        };
        assert_eq!(bad(memory, PluginKind::Channel), "memory_mib");
        let timeout = Grants {
            timeout_ms: Some(MAX_GRANTED_TIMEOUT_MS + 1),
            ..Grants::default()
        };
        assert_eq!(bad(timeout, PluginKind::Channel), "timeout_ms");
        let unknown = Grants {
            capabilities: Some(vec!["log".into(), "sockets".into()]),
            ..Grants::default()
        };
        assert_eq!(bad(unknown, PluginKind::Channel), "capabilities[1]");
        let filter_http = Grants {
            capabilities: Some(vec!["http".into()]),
            ..Grants::default()
        };
        assert_eq!(bad(filter_http, PluginKind::Filter), "capabilities[0]");
    }

    #[test]
    fn withheld_capabilities_are_withheld() {
        let grants = Grants {
            capabilities: Some(vec!["log".into()]),
            ..Grants::default()
        };
        assert!(grants.allows("log"));
        assert!(!grants.allows("http"));
        assert!(Grants::default().allows("http"));
    }

    #[test]
    fn grants_files_round_trip_and_defaults_leave_no_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let grants = Grants {
            memory_mib: Some(32),
            ..Grants::default()
        };
        write_grants(dir.path(), "x", &grants).expect("write");
        assert_eq!(read_grants(dir.path(), "x"), Ok(grants));
        write_grants(dir.path(), "x", &Grants::default()).expect("reset");
        assert!(!grants_path(dir.path(), "x").exists());
        assert_eq!(read_grants(dir.path(), "x"), Ok(Grants::default()));
    }
}
