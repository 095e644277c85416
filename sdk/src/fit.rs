//! Keeps an adapter's message within what the host accepts (conservatively:
//! the host's own caps are looser in places), so a long field from a sender
//! is cut rather than the whole request refused. The built-in adapters pass
//! every message through [`fit`].

use crate::adapter::AdaptedMessage;

/// Longest body kept, in characters (longer ones end in "…").
pub const MAX_BODY_CHARS: usize = 4000;
/// Longest title kept.
pub const MAX_TITLE_CHARS: usize = 256;
/// Longest group kept.
pub const MAX_GROUP_CHARS: usize = 200;
/// Most tags kept.
pub const MAX_TAGS: usize = 20;
/// Longest tag kept.
pub const MAX_TAG_CHARS: usize = 64;
/// Most extras kept.
pub const MAX_EXTRAS: usize = 50;
/// Longest extra value kept.
pub const MAX_EXTRA_CHARS: usize = 1000;
/// Longest extra key kept.
pub const MAX_EXTRA_KEY_CHARS: usize = 256;
/// Longest URL kept (a longer one is dropped, not cut).
pub const MAX_URL_CHARS: usize = 4096;

/// `text` without NUL characters, cut to `max` characters; a cut text ends
/// in "…" (which counts towards `max`).
pub fn truncate(text: &str, max: usize) -> String {
    let clean = text.replace('\0', "");
    if clean.chars().count() <= max {
        return clean;
    }
    let mut out: String = clean.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// True for an absolute `http://` or `https://` URL with a host and
/// without whitespace or control characters.
pub fn is_http_url(url: &str) -> bool {
    if url.is_empty() || url.chars().count() > MAX_URL_CHARS {
        return false;
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        rest
    } else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    !host.is_empty() && !host.starts_with(':')
}

/// `message` within the limits: body, title, group, tags and extras cut,
/// blank optional fields dropped, priority clamped to 1-5, a URL that is
/// not absolute http(s) dropped. A blank body becomes `fallback_body`.
pub fn fit(message: AdaptedMessage, fallback_body: &str) -> AdaptedMessage {
    let mut body = truncate(&message.body, MAX_BODY_CHARS);
    if body.trim().is_empty() {
        body = truncate(fallback_body, MAX_BODY_CHARS);
    }
    let title = message
        .title
        .map(|t| truncate(&t, MAX_TITLE_CHARS))
        .filter(|t| !t.trim().is_empty());
    let group = message
        .group
        .map(|g| truncate(&g, MAX_GROUP_CHARS))
        .filter(|g| !g.trim().is_empty());
    let mut tags: Vec<String> = Vec::new();
    for tag in message.tags {
        let tag = truncate(tag.trim(), MAX_TAG_CHARS);
        if !tag.trim().is_empty() && !tags.contains(&tag) && tags.len() < MAX_TAGS {
            tags.push(tag);
        }
    }
    let url = message.url.filter(|u| is_http_url(u));
    let extras = message
        .extras
        .into_iter()
        .filter(|(key, _)| !key.trim().is_empty())
        .take(MAX_EXTRAS)
        .map(|(key, value)| {
            (
                truncate(&key, MAX_EXTRA_KEY_CHARS),
                truncate(&value, MAX_EXTRA_CHARS),
            )
        })
        .collect();
    AdaptedMessage {
        title,
        body,
        group,
        priority: message.priority.map(|p| p.clamp(1, 5)),
        tags,
        url,
        extras,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_by_characters_with_an_ellipsis() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("ééééé", 4), "ééé…");
        assert_eq!(truncate("a\0b", 5), "ab");
    }

    #[test]
    fn http_urls() {
        for ok in [
            "http://x",
            "https://play.grafana.org/alerting/1afz29v7z/edit",
            "HTTPS://Example.org:8443/a?b#c",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https:///x",
            "/relative",
            "https://a b",
            "javascript:alert(1)",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn fit_enforces_every_limit() {
        let mut m = AdaptedMessage::new("x".repeat(5000))
            .title("t".repeat(300))
            .group("  ")
            .priority(9)
            .url("ftp://nope");
        m.tags = (0..30).map(|i| format!("tag{i}")).collect();
        m.tags.push("y".repeat(100));
        m.extras = (0..60)
            .map(|i| (format!("k{i}"), "v".repeat(1200)))
            .collect();
        let m = fit(m, "fallback");
        assert_eq!(m.body.chars().count(), MAX_BODY_CHARS);
        assert!(m.body.ends_with('…'));
        assert_eq!(m.title.as_deref().map(|t| t.chars().count()), Some(256));
        assert_eq!(m.group, None);
        assert_eq!(m.priority, Some(5));
        assert_eq!(m.url, None);
        assert_eq!(m.tags.len(), MAX_TAGS);
        assert_eq!(m.extras.len(), MAX_EXTRAS);
        assert!(m
            .extras
            .iter()
            .all(|(_, v)| v.chars().count() == MAX_EXTRA_CHARS));
        assert_eq!(fit(AdaptedMessage::new(" "), "fallback").body, "fallback");
    }
}
