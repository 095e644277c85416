//! Quiet hours filter (built into Beacon Spear): holds back a rule's
//! messages during a daily window of local time.
//!
//! Config (one entry of a rule's `extra_filters`):
//!
//! ```json
//! {
//!   "plugin": "quiet-hours",
//!   "config": {
//!     "timezone": "Europe/Berlin",
//!     "start": "22:00",
//!     "end": "07:00",
//!     "days": ["mon", "tue", "wed", "thu", "fri"],
//!     "min_priority_override": 5
//!   }
//! }
//! ```
//!
//! Semantics (see README.md for the whole story):
//!
//! - The time looked at is the message's `received_at`, converted to
//!   `timezone` with the IANA rules in force on that date (so the decision
//!   is reproducible and DST-correct), never the wall clock of the server.
//! - The window is `[start, end)` on the local wall clock: `start` is
//!   inside, `end` is not. `start > end` crosses midnight (22:00-07:00);
//!   `start < end` is a same-day window; `start == end` is refused.
//! - `days` (optional) lists the weekdays a window *starts* on: with
//!   `["fri"]` and 22:00-07:00, Friday 23:00 and Saturday 03:00 are quiet,
//!   Friday 03:00 (Thursday's window) is not.
//! - DST: a local time skipped by a spring-forward jump never occurs, so a
//!   window entirely inside the skipped hour is empty that day; a local time
//!   repeated by a fall-back is inside the window both times it occurs.
//! - During quiet hours the message does not pass and the verdict carries a
//!   note (`quiet hours 22:00-07:00 Europe/Berlin (received Sat 03:12)`),
//!   unless its priority is at least `min_priority_override`.
//!
//! The filter keeps no state and makes no key-value calls.

use beacon_plugin_sdk::{export_filter, ConfigError, Filter, Message, Verdict};
use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Deserialize;
use std::fmt;

/// The quiet hours config.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursConfig {
    /// IANA time zone the window is read in, e.g. `Europe/Berlin`,
    /// `America/New_York` or `UTC`. Daylight saving time follows the zone's
    /// rules.
    #[schemars(with = "String", length(min = 1), example = "Europe/Berlin")]
    pub timezone: Zone,
    /// Local time the quiet hours begin (inclusive), `HH:MM` 24-hour.
    #[schemars(
        with = "String",
        regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        example = "22:00"
    )]
    pub start: ClockTime,
    /// Local time the quiet hours end (exclusive), `HH:MM` 24-hour. Earlier
    /// than `start` for a window that crosses midnight; must differ from
    /// `start`.
    #[schemars(
        with = "String",
        regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        example = "07:00"
    )]
    pub end: ClockTime,
    /// Weekdays on which a window starts (`mon` … `sun`). The part after
    /// midnight belongs to the day the window started on: `["fri"]` with
    /// 22:00-07:00 also covers Saturday morning. Omit for every day.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub days: Option<Vec<Day>>,
    /// Messages with at least this priority (1-5) pass even during quiet
    /// hours, e.g. 5 so that critical messages always get through. Omit to
    /// hold back every priority.
    #[serde(default)]
    #[schemars(range(min = 1, max = 5))]
    pub min_priority_override: Option<u8>,
}

/// An IANA time zone, looked up in the bundled time zone database when the
/// config is read.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// Look up `name` (e.g. `Europe/Berlin`).
    pub fn get(name: &str) -> Result<Self, String> {
        if name.trim().is_empty() {
            return Err("must be an IANA time zone name such as Europe/Berlin".into());
        }
        let tz = TimeZone::get(name).map_err(|_| {
            format!("unknown time zone `{name}`: expected an IANA name such as Europe/Berlin, America/New_York or UTC")
        })?;
        // The canonical spelling when the database has one (the lookup
        // ignores case), else what was written.
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Zone { name, tz })
    }

    /// The zone's name as the database spells it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Zone::get(&name).map_err(serde::de::Error::custom)
    }
}

/// A local clock time `HH:MM` (24-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime {
    hour: i8,
    minute: i8,
}

impl ClockTime {
    /// Parse exactly `HH:MM`, 00:00 to 23:59.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("must be a 24-hour time HH:MM such as 22:00 or 07:30, got {text:?}");
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(bad());
        }
        let two = |hi: u8, lo: u8| -> Option<i8> {
            if hi.is_ascii_digit() && lo.is_ascii_digit() {
                Some(((hi - b'0') * 10 + (lo - b'0')) as i8)
            } else {
                None
            }
        };
        match (two(bytes[0], bytes[1]), two(bytes[3], bytes[4])) {
            (Some(hour @ 0..=23), Some(minute @ 0..=59)) => Ok(ClockTime { hour, minute }),
            _ => Err(bad()),
        }
    }

    fn time(self) -> Time {
        Time::new(self.hour, self.minute, 0, 0).unwrap_or_default()
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ClockTime::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A weekday, as written in `days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    fn of(date_time: DateTime) -> Day {
        let index = date_time.weekday().to_monday_zero_offset();
        Day::ALL[usize::try_from(index).unwrap_or(0) % 7]
    }

    fn previous(self) -> Day {
        Day::ALL[(self as usize + 6) % 7]
    }

    fn label(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self as usize]
    }
}

/// Everything `validate-config` checks beyond what reading the config does
/// (zone, times and days are checked while deserializing, naming the field).
/// `decide` runs it too: a config it cannot use is an error, not a verdict.
pub fn validate_config(config: &QuietHoursConfig) -> Result<(), ConfigError> {
    if config.start == config.end {
        return Err(ConfigError::new(
            "end",
            format!(
                "must differ from start ({}): an empty or a 24-hour window is ambiguous",
                config.start
            ),
        ));
    }
    if config.days.as_ref().is_some_and(Vec::is_empty) {
        return Err(ConfigError::new(
            "days",
            "must list at least one day (omit it for every day)",
        ));
    }
    if let Some(min) = config.min_priority_override {
        if !(1..=5).contains(&min) {
            return Err(ConfigError::new(
                "min_priority_override",
                "must be between 1 and 5",
            ));
        }
    }
    Ok(())
}

/// Whether the local date-time falls inside the configured window.
pub fn is_quiet(config: &QuietHoursConfig, local: DateTime) -> bool {
    let day_ok = |day: Day| config.days.as_ref().is_none_or(|days| days.contains(&day));
    let (start, end, now) = (config.start.time(), config.end.time(), local.time());
    let today = Day::of(local);
    if start < end {
        // Same-day window.
        start <= now && now < end && day_ok(today)
    } else {
        // Crosses midnight: the evening part started today, the morning
        // part started yesterday.
        (now >= start && day_ok(today)) || (now < end && day_ok(today.previous()))
    }
}

/// The local date-time of `received_at` (RFC 3339) in `zone`.
pub fn local_time(zone: &Zone, received_at: &str) -> Result<DateTime, String> {
    let instant: Timestamp = received_at
        .parse()
        .map_err(|e| format!("cannot read the message's received_at {received_at:?}: {e}"))?;
    Ok(zone.tz.to_datetime(instant))
}

/// The decision for `message` (config assumed read; re-validated here).
pub fn decide(config: &QuietHoursConfig, message: &Message) -> Result<Verdict, String> {
    validate_config(config).map_err(|e| format!("invalid filter config: {e}"))?;
    let local = local_time(&config.timezone, &message.received_at)?;
    if !is_quiet(config, local) {
        return Ok(Verdict::pass());
    }
    if config
        .min_priority_override
        .is_some_and(|min| message.priority >= min)
    {
        return Ok(Verdict::pass());
    }
    Ok(Verdict::block(format!(
        "quiet hours {}-{} {} (received {} {:02}:{:02})",
        config.start,
        config.end,
        config.timezone.name(),
        Day::of(local).label(),
        local.hour(),
        local.minute(),
    )))
}

/// The plugin.
pub struct QuietHours;

impl Filter for QuietHours {
    type Config = QuietHoursConfig;
    const ID: &'static str = "quiet-hours";
    const NAME: &'static str = "Quiet hours";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Holds back messages received during a daily local-time window (e.g. 22:00-07:00 Europe/Berlin), optionally only on some weekdays and letting high priorities through.";

    fn validate(config: &QuietHoursConfig) -> Result<(), ConfigError> {
        validate_config(config)
    }

    fn evaluate(config: &QuietHoursConfig, message: &Message) -> Result<bool, String> {
        Self::decide(config, message).map(|verdict| verdict.matched)
    }

    fn decide(config: &QuietHoursConfig, message: &Message) -> Result<Verdict, String> {
        decide(config, message)
    }
}

export_filter!(QuietHours);

#[cfg(test)]
mod tests;
