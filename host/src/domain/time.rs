//! Time: every stored time is Unix milliseconds; the API speaks RFC 3339 in
//! UTC with millisecond precision.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Invalid;

/// Current time in Unix milliseconds, the unit of every stored time.
pub fn now_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 time from a request into Unix ms; the error names `field`.
pub fn parse_rfc3339(value: &str, field: &str) -> Result<i64, Invalid> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            Invalid::field(
                field,
                "must be an RFC 3339 time such as 2026-01-31T12:00:00Z",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ms = 1_767_225_600_123;
        assert_eq!(rfc3339(ms), "2026-01-01T00:00:00.123Z");
        assert_eq!(parse_rfc3339(&rfc3339(ms), "t").expect("parse"), ms);
        assert!(parse_rfc3339("yesterday", "since").is_err());
    }
}
