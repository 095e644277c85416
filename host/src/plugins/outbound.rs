//! The outbound policy of the host's `fetch` (SPEC §8), as pure decisions:
//! which URLs are acceptable and which resolved addresses may be connected to.
//! The HTTP client applies it to every address it resolves and every redirect hop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Why a destination was refused; the text is shown to the plugin and the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    /// Refuse RFC 1918, CGNAT and ULA destinations.
    pub block_private: bool,
    /// Host names (lower-case) the operator opened.
    pub allow_hosts: Vec<String>,
    /// Networks the operator opened.
    pub allow_nets: Vec<IpNet>,
    /// The only hosts this plugin was granted (`None`: any host the rest of
    /// the policy allows).
    pub only_hosts: Option<Vec<String>>,
}

/// A URL that passed the syntactic checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The host was an IP literal.
    pub literal: Option<IpAddr>,
}

impl OutboundPolicy {
    /// Parses `BEACON_OUTBOUND_ALLOWLIST`-style entries: host names or CIDRs/IPs.
    pub fn with_allowlist(block_private: bool, entries: &[String]) -> Self {
        let mut policy = OutboundPolicy {
            block_private,
            ..Default::default()
        };
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.allow_nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.allow_nets.push(IpNet::from(ip));
            } else {
                policy.allow_hosts.push(entry.to_ascii_lowercase());
            }
        }
        policy
    }

    /// Scheme, userinfo and host checks that need no DNS.
    pub fn check_url(&self, url: &url::Url) -> Result<Target, Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused(format!(
                "scheme {:?} is not allowed (only http and https)",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused(
                "URLs with user names or passwords are not allowed".into(),
            ));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Refused("the URL has no port".into()))?;
        let (host, literal) = match url.host() {
            Some(url::Host::Domain(name)) => {
                (name.trim_end_matches('.').to_ascii_lowercase(), None)
            }
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            None => return Err(Refused("the URL has no host".into())),
        };
        self.check_granted(&host)?;
        if literal.is_none()
            && !self.host_allowed(&host)
            && (host == "localhost" || host.ends_with(".localhost"))
        {
            return Err(Refused(format!("host {host} is a loopback name")));
        }
        Ok(Target {
            host,
            port,
            literal,
        })
    }

    /// Refuses a host outside the plugin's granted hosts.
    pub fn check_granted(&self, host: &str) -> Result<(), Refused> {
        match &self.only_hosts {
            Some(patterns) if !super::grants::host_matches(patterns, host) => Err(Refused(
                format!("host {host} is not among the hosts this plugin is granted"),
            )),
            _ => Ok(()),
        }
    }

    pub fn host_allowed(&self, host: &str) -> bool {
        self.allow_hosts.iter().any(|allowed| allowed == host)
    }

    /// May the host connect to `ip` on behalf of a request for `host`?
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        let ip = canonical(ip);
        if let Some(reason) = never_a_destination(ip) {
            return Err(Refused(format!("address {ip} is {reason}")));
        }
        if self.host_allowed(host) || self.allow_nets.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        if let Some(reason) = always_refused(ip) {
            return Err(Refused(format!("address {ip} is {reason}")));
        }
        if self.block_private {
            if let Some(reason) = private(ip) {
                return Err(Refused(format!(
                    "address {ip} is in a private range ({reason}); the operator can allow it"
                )));
            }
        }
        Ok(())
    }
}

/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) and NAT64
/// (`64:ff9b::a.b.c.d`) addresses are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let segments = v6.segments();
    let embedded = Ipv4Addr::from(((u32::from(segments[6])) << 16) | u32::from(segments[7]));
    let is_compatible =
        segments[..6].iter().all(|s| *s == 0) && !matches!(u32::from(embedded), 0 | 1);
    let is_nat64 =
        segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6].iter().all(|s| *s == 0);
    if is_compatible || is_nat64 {
        IpAddr::V4(embedded)
    } else {
        ip
    }
}

/// Addresses nobody can be at, even with an allowlist entry.
fn never_a_destination(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() || v4.octets()[0] == 0 => Some("unspecified"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("broadcast"),
        IpAddr::V4(v4) if v4.is_multicast() => Some("multicast"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("unspecified"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("multicast"),
        _ => None,
    }
}

/// Refused unless allowlisted: loopback and link-local (cloud metadata lives there).
fn always_refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() => Some("loopback"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("link-local (e.g. cloud metadata)"),
        IpAddr::V6(v6) if v6.is_loopback() => Some("loopback"),
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => Some("link-local"),
        _ => None,
    }
}

fn private(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_private() => Some("RFC 1918"),
        IpAddr::V4(v4) if v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 => {
            Some("carrier-grade NAT 100.64.0.0/10")
        }
        IpAddr::V6(v6) if is_unique_local(v6) => Some("IPv6 unique local fc00::/7"),
        _ => None,
    }
}

fn is_unique_local(v6: Ipv6Addr) -> bool {
    (v6.segments()[0] & 0xfe00) == 0xfc00
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> OutboundPolicy {
        OutboundPolicy::with_allowlist(true, &[])
    }

    fn refused(policy: &OutboundPolicy, ip: &str) -> bool {
        policy
            .check_ip("example.com", ip.parse().expect("ip"))
            .is_err()
    }

    #[test]
    fn refused_ranges() {
        let policy = strict();
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "ff02::1",
            "255.255.255.255",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "fd00::1",
            "fc12::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "0.1.2.3",
        ] {
            assert!(refused(&policy, ip), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert!(!refused(&policy, ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn private_ranges_open_when_not_blocking() {
        let policy = OutboundPolicy::with_allowlist(false, &[]);
        assert!(!refused(&policy, "10.0.0.5"));
        assert!(!refused(&policy, "fd00::5"));
        assert!(refused(&policy, "127.0.0.1"), "loopback stays refused");
        assert!(
            refused(&policy, "169.254.169.254"),
            "metadata stays refused"
        );
    }

    #[test]
    fn allowlist_opens_hosts_and_networks() {
        let policy = OutboundPolicy::with_allowlist(
            true,
            &[
                "bark.lan".into(),
                "127.0.0.0/8".into(),
                "192.168.1.20".into(),
            ],
        );
        assert!(policy
            .check_ip("bark.lan", "10.0.0.9".parse().expect("ip"))
            .is_ok());
        assert!(!refused(&policy, "127.0.0.1"));
        assert!(!refused(&policy, "192.168.1.20"));
        assert!(refused(&policy, "192.168.1.21"));
        assert!(
            refused(&policy, "0.0.0.0"),
            "never a destination, even allowlisted"
        );
    }

    #[test]
    fn url_checks() {
        let policy = strict();
        let check = |url: &str| policy.check_url(&url::Url::parse(url).expect("url"));
        assert!(check("https://api.day.app/push").is_ok());
        assert_eq!(check("http://example.com:8080/x").expect("ok").port, 8080);
        assert!(check("ftp://example.com/").is_err());
        assert!(check("file:///etc/passwd").is_err());
        assert!(check("https://user:pw@example.com/").is_err());
        assert!(check("http://localhost:9/").is_err());
        assert!(check("http://api.localhost/").is_err());
        assert_eq!(
            check("http://[::1]:8080/").expect("syntax ok").literal,
            Some("::1".parse().expect("ip"))
        );
        let opened = OutboundPolicy::with_allowlist(true, &["localhost".into()]);
        assert!(opened
            .check_url(&url::Url::parse("http://localhost:9/").expect("url"))
            .is_ok());
    }
}
