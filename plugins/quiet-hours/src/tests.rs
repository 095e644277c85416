use super::*;
use beacon_plugin_sdk::{harness, PluginKind};
use serde_json::{json, Value};

fn at(received_at: &str) -> Message {
    Message {
        received_at: received_at.into(),
        body: "disk full".into(),
        ..Message::default()
    }
}

fn at_priority(received_at: &str, priority: u8) -> Message {
    Message {
        priority,
        ..at(received_at)
    }
}

fn decide(config: &Value, message: &Message) -> Verdict {
    harness::filter_decide::<QuietHours>(&config.to_string(), message).unwrap()
}

/// `true` when the message is held back (quiet), for a list of instants.
fn quiet(config: &Value, received_at: &str) -> bool {
    let verdict = decide(config, &at(received_at));
    assert_eq!(
        harness::filter_evaluate::<QuietHours>(&config.to_string(), &at(received_at)),
        Ok(verdict.matched),
        "evaluate agrees with decide"
    );
    !verdict.matched
}

fn invalid(config: Value) -> ConfigError {
    let err = harness::filter_validate_config::<QuietHours>(&config.to_string()).unwrap_err();
    // A config validate-config refuses is an error at evaluation too.
    assert!(
        harness::filter_decide::<QuietHours>(&config.to_string(), &at("2026-01-01T00:00:00Z"))
            .is_err(),
        "{config} must not evaluate"
    );
    err
}

fn night(tz: &str) -> Value {
    json!({"timezone": tz, "start": "22:00", "end": "07:00"})
}

#[test]
fn describe() {
    let info = harness::filter_describe::<QuietHours>();
    assert_eq!(info.id, "quiet-hours");
    assert_eq!(info.name, "Quiet hours");
    assert_eq!(info.kind, PluginKind::Filter);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    for key in ["timezone", "start", "end", "days", "min_priority_override"] {
        assert!(
            props[key]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{key} has a description: {schema}"
        );
    }
    assert_eq!(schema["additionalProperties"], false);
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(required, ["end", "start", "timezone"]);
    assert_eq!(props["start"]["type"], "string");
    assert!(props["start"]["pattern"].is_string());
    assert_eq!(props["min_priority_override"]["maximum"], 5);
    assert!(schema.to_string().contains("\"sun\""));
}

#[test]
fn window_across_midnight_utc() {
    let c = night("UTC");
    assert!(!quiet(&c, "2026-01-15T21:59:59Z"));
    assert!(quiet(&c, "2026-01-15T22:00:00Z"), "start is inclusive");
    assert!(quiet(&c, "2026-01-15T23:59:59Z"));
    assert!(quiet(&c, "2026-01-16T00:00:00Z"));
    assert!(quiet(&c, "2026-01-16T06:59:59.999Z"));
    assert!(!quiet(&c, "2026-01-16T07:00:00Z"), "end is exclusive");
    assert!(!quiet(&c, "2026-01-16T12:00:00Z"));
}

#[test]
fn same_day_window() {
    let c = json!({"timezone": "UTC", "start": "09:00", "end": "17:30"});
    assert!(!quiet(&c, "2026-01-15T08:59:59Z"));
    assert!(quiet(&c, "2026-01-15T09:00:00Z"));
    assert!(quiet(&c, "2026-01-15T17:29:59Z"));
    assert!(!quiet(&c, "2026-01-15T17:30:00Z"));
    assert!(!quiet(&c, "2026-01-15T23:00:00Z"));
    assert!(!quiet(&c, "2026-01-15T03:00:00Z"));
}

#[test]
fn received_at_offset_is_honoured() {
    // 23:30+01:00 is 22:30 UTC: quiet in UTC; 21:30 in UTC-1: not quiet there.
    let c = night("UTC");
    assert!(quiet(&c, "2026-01-15T23:30:00+01:00"));
    assert!(!quiet(
        &night("Atlantic/Azores"),
        "2026-01-15T23:30:00+01:00"
    ));
    assert!(
        quiet(&c, "2026-01-15t22:30:00z"),
        "lower-case RFC 3339 letters"
    );
}

#[test]
fn europe_berlin_winter_and_summer() {
    let c = night("Europe/Berlin");
    // Winter, CET = UTC+1.
    assert!(!quiet(&c, "2026-01-15T20:59:00Z")); // 21:59
    assert!(quiet(&c, "2026-01-15T21:00:00Z")); // 22:00
    assert!(quiet(&c, "2026-01-16T05:59:00Z")); // 06:59
    assert!(!quiet(&c, "2026-01-16T06:00:00Z")); // 07:00
                                                 // Summer, CEST = UTC+2: a fixed +1 offset would get these wrong.
    assert!(quiet(&c, "2026-07-15T20:30:00Z")); // 22:30
    assert!(!quiet(&c, "2026-07-15T19:30:00Z")); // 21:30
    assert!(quiet(&c, "2026-07-16T04:59:00Z")); // 06:59
    assert!(!quiet(&c, "2026-07-16T05:00:00Z")); // 07:00
}

#[test]
fn europe_berlin_spring_forward() {
    // 2026-03-29: 02:00 CET (01:00 UTC) jumps to 03:00 CEST.
    let skipped = json!({"timezone": "Europe/Berlin", "start": "02:00", "end": "03:00"});
    // The day before, the hour exists.
    assert!(quiet(&skipped, "2026-03-28T01:30:00Z")); // 02:30 CET
                                                      // On the day it never occurs: nothing is quiet.
    assert!(!quiet(&skipped, "2026-03-29T00:59:59Z")); // 01:59:59 CET
    assert!(!quiet(&skipped, "2026-03-29T01:00:00Z")); // 03:00 CEST
    assert!(!quiet(&skipped, "2026-03-29T01:30:00Z")); // 03:30 CEST
                                                       // The day after, it is back (now CEST).
    assert!(quiet(&skipped, "2026-03-30T00:30:00Z")); // 02:30 CEST

    // A window around the jump is one real hour shorter.
    let around = json!({"timezone": "Europe/Berlin", "start": "01:00", "end": "03:30"});
    assert!(!quiet(&around, "2026-03-28T23:59:59Z")); // 00:59:59 CET
    assert!(quiet(&around, "2026-03-29T00:00:00Z")); // 01:00 CET
    assert!(quiet(&around, "2026-03-29T01:29:59Z")); // 03:29:59 CEST
    assert!(!quiet(&around, "2026-03-29T01:30:00Z")); // 03:30 CEST

    // An overnight window ends at 07:00 on the new offset.
    let c = night("Europe/Berlin");
    assert!(quiet(&c, "2026-03-28T21:00:00Z")); // Sat 22:00 CET
    assert!(quiet(&c, "2026-03-29T04:59:00Z")); // Sun 06:59 CEST
    assert!(!quiet(&c, "2026-03-29T05:00:00Z")); // Sun 07:00 CEST
}

#[test]
fn europe_berlin_fall_back() {
    // 2026-10-25: 03:00 CEST (01:00 UTC) falls back to 02:00 CET, so
    // 02:00-02:59 happens twice; both are inside a 02:00-02:30 window.
    let c = json!({"timezone": "Europe/Berlin", "start": "02:00", "end": "02:30"});
    assert!(!quiet(&c, "2026-10-24T23:59:00Z")); // 01:59 CEST
    assert!(quiet(&c, "2026-10-25T00:15:00Z")); // 02:15 CEST (first)
    assert!(!quiet(&c, "2026-10-25T00:45:00Z")); // 02:45 CEST
    assert!(quiet(&c, "2026-10-25T01:15:00Z")); // 02:15 CET (second)
    assert!(!quiet(&c, "2026-10-25T01:30:00Z")); // 02:30 CET
                                                 // Overnight window on the long night: ends at 07:00 CET.
    let c = night("Europe/Berlin");
    assert!(quiet(&c, "2026-10-25T05:59:00Z")); // 06:59 CET
    assert!(!quiet(&c, "2026-10-25T06:00:00Z")); // 07:00 CET
}

#[test]
fn america_new_york_spring_forward() {
    // 2026-03-08: 02:00 EST (07:00 UTC) jumps to 03:00 EDT.
    let skipped = json!({"timezone": "America/New_York", "start": "02:00", "end": "03:00"});
    assert!(quiet(&skipped, "2026-03-07T07:30:00Z")); // 02:30 EST the day before
    assert!(!quiet(&skipped, "2026-03-08T06:59:59Z")); // 01:59:59 EST
    assert!(!quiet(&skipped, "2026-03-08T07:00:00Z")); // 03:00 EDT
    assert!(quiet(&skipped, "2026-03-09T06:30:00Z")); // 02:30 EDT the day after
    let c = night("America/New_York");
    assert!(quiet(&c, "2026-03-08T10:59:00Z")); // 06:59 EDT
    assert!(!quiet(&c, "2026-03-08T11:00:00Z")); // 07:00 EDT
    assert!(!quiet(&c, "2026-03-08T02:59:00Z")); // Sat 21:59 EST
    assert!(quiet(&c, "2026-03-08T03:00:00Z")); // Sat 22:00 EST
}

#[test]
fn america_new_york_fall_back_0130_happens_twice() {
    // 2026-11-01: 02:00 EDT (06:00 UTC) falls back to 01:00 EST.
    let first = "2026-11-01T05:30:00Z"; // 01:30 EDT
    let second = "2026-11-01T06:30:00Z"; // 01:30 EST
    let c = json!({"timezone": "America/New_York", "start": "01:00", "end": "02:00"});
    assert!(!quiet(&c, "2026-11-01T04:59:00Z")); // 00:59 EDT
    assert!(quiet(&c, first));
    assert!(quiet(&c, "2026-11-01T06:00:00Z")); // 01:00 EST
    assert!(quiet(&c, second));
    assert!(!quiet(&c, "2026-11-01T07:00:00Z")); // 02:00 EST
                                                 // A window ending at 01:30 catches the first half-hour of both passes
                                                 // through the repeated hour, and neither second half.
    let c = json!({"timezone": "America/New_York", "start": "00:00", "end": "01:30"});
    assert!(quiet(&c, "2026-11-01T05:15:00Z")); // 01:15 EDT
    assert!(!quiet(&c, first));
    assert!(quiet(&c, "2026-11-01T06:15:00Z")); // 01:15 EST
    assert!(!quiet(&c, second));
    // The note shows the local time.
    let verdict = decide(
        &json!({"timezone": "America/New_York", "start": "01:00", "end": "02:00"}),
        &at(second),
    );
    assert_eq!(
        verdict.note.as_deref(),
        Some("quiet hours 01:00-02:00 America/New_York (received Sun 01:30)")
    );
}

#[test]
fn days_are_the_day_the_window_starts_on() {
    // 2026-01-16 is a Friday.
    let c = json!({"timezone": "UTC", "start": "22:00", "end": "07:00", "days": ["fri"]});
    assert!(quiet(&c, "2026-01-16T23:00:00Z")); // Fri 23:00
    assert!(quiet(&c, "2026-01-17T03:00:00Z")); // Sat 03:00: Friday's window
    assert!(!quiet(&c, "2026-01-17T07:00:00Z")); // Sat 07:00
    assert!(!quiet(&c, "2026-01-17T23:00:00Z")); // Sat 23:00
    assert!(!quiet(&c, "2026-01-16T03:00:00Z")); // Fri 03:00: Thursday's window
    assert!(!quiet(&c, "2026-01-18T03:00:00Z")); // Sun 03:00

    // Sunday's window runs into Monday (week wrap-around).
    let c = json!({"timezone": "UTC", "start": "22:00", "end": "07:00", "days": ["sun"]});
    assert!(quiet(&c, "2026-01-19T03:00:00Z")); // Mon 03:00
    assert!(!quiet(&c, "2026-01-18T03:00:00Z")); // Sun 03:00: Saturday's

    // Same-day window on working days.
    let c = json!({
        "timezone": "Europe/Berlin", "start": "09:00", "end": "17:00",
        "days": ["mon", "tue", "wed", "thu", "fri"]
    });
    assert!(quiet(&c, "2026-01-19T09:00:00Z")); // Mon 10:00 CET
    assert!(!quiet(&c, "2026-01-17T09:00:00Z")); // Sat 10:00 CET
    assert!(!quiet(&c, "2026-01-19T16:00:00Z")); // Mon 17:00 CET

    // The weekday is the local one: Fri 23:30 UTC is Sat 00:30 in Berlin,
    // which belongs to Friday's window there.
    let c = json!({"timezone": "Europe/Berlin", "start": "23:00", "end": "01:00", "days": ["fri"]});
    assert!(quiet(&c, "2026-01-16T23:30:00Z")); // Sat 00:30 CET
    assert!(quiet(&c, "2026-01-16T22:00:00Z")); // Fri 23:00 CET
    assert!(!quiet(&c, "2026-01-15T23:30:00Z")); // Fri 00:30 CET (Thursday's)
                                                 // Duplicates are harmless.
    let c = json!({"timezone": "UTC", "start": "22:00", "end": "07:00", "days": ["fri", "fri"]});
    assert!(quiet(&c, "2026-01-17T03:00:00Z"));
}

#[test]
fn min_priority_override() {
    let c =
        json!({"timezone": "UTC", "start": "22:00", "end": "07:00", "min_priority_override": 5});
    let t = "2026-01-15T23:00:00Z";
    assert!(decide(&c, &at_priority(t, 5)).matched);
    assert_eq!(decide(&c, &at_priority(t, 5)).note, None);
    assert!(!decide(&c, &at_priority(t, 4)).matched);
    let c4 =
        json!({"timezone": "UTC", "start": "22:00", "end": "07:00", "min_priority_override": 4});
    assert!(decide(&c4, &at_priority(t, 4)).matched);
    assert!(decide(&c4, &at_priority(t, 5)).matched);
    assert!(!decide(&c4, &at_priority(t, 3)).matched);
    // Without the override every priority is held back.
    assert!(!decide(&night("UTC"), &at_priority(t, 5)).matched);
    // Outside quiet hours everything passes, override or not.
    assert!(decide(&c, &at_priority("2026-01-15T12:00:00Z", 1)).matched);
}

#[test]
fn note_names_window_and_zone() {
    let v = decide(&night("Europe/Berlin"), &at("2026-03-28T02:12:00Z"));
    assert_eq!(
        v,
        Verdict::block("quiet hours 22:00-07:00 Europe/Berlin (received Sat 03:12)")
    );
    // Canonical spelling of a zone written in another case.
    let v = decide(&night("europe/berlin"), &at("2026-03-28T02:12:00Z"));
    assert_eq!(
        v.note.as_deref(),
        Some("quiet hours 22:00-07:00 Europe/Berlin (received Sat 03:12)")
    );
    assert_eq!(
        decide(&night("UTC"), &at("2026-03-28T12:00:00Z")),
        Verdict::pass()
    );
}

#[test]
fn accepts_good_configs() {
    for c in [
        night("UTC"),
        night("America/New_York"),
        night("Asia/Kolkata"),
        json!({"timezone": "Europe/Berlin", "start": "00:00", "end": "23:59", "days": ["sat", "sun"], "min_priority_override": 1}),
        json!({"timezone": "UTC", "start": "07:00", "end": "22:00", "days": null, "min_priority_override": null}),
    ] {
        assert_eq!(
            harness::filter_validate_config::<QuietHours>(&c.to_string()),
            Ok(()),
            "{c}"
        );
    }
}

#[test]
fn invalid_configs_name_the_field() {
    let base = |patch: Value| {
        let mut c = night("Europe/Berlin");
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    for (patch, field) in [
        (json!({"timezone": "Mars/Olympus_Mons"}), "timezone"),
        (json!({"timezone": ""}), "timezone"),
        (json!({"timezone": "+02:00"}), "timezone"),
        (json!({"timezone": 1}), "timezone"),
        (json!({"start": "25:00"}), "start"),
        (json!({"start": "7:00"}), "start"),
        (json!({"start": "22:60"}), "start"),
        (json!({"start": "22h00"}), "start"),
        (json!({"start": "22:00:00"}), "start"),
        (json!({"end": "24:00"}), "end"),
        (json!({"end": ""}), "end"),
        (json!({"end": "22:00"}), "end"),
        (json!({"days": ["mon", "funday"]}), "days[1]"),
        (json!({"days": ["mon", "Tue"]}), "days[1]"),
        (json!({"days": []}), "days"),
        (json!({"days": "mon"}), "days"),
        (json!({"min_priority_override": 0}), "min_priority_override"),
        (json!({"min_priority_override": 6}), "min_priority_override"),
        (
            json!({"min_priority_override": -1}),
            "min_priority_override",
        ),
        (json!({"colour": "blue"}), "colour"),
    ] {
        let c = base(patch.clone());
        let err = invalid(c.clone());
        assert_eq!(err.field, field, "{patch} -> {err:?}");
        assert!(!err.message.is_empty());
    }
    assert!(invalid(base(json!({"timezone": "Mars/Olympus_Mons"})))
        .message
        .contains("unknown time zone `Mars/Olympus_Mons`"));
    assert!(invalid(base(json!({"end": "22:00"})))
        .message
        .contains("must differ from start"));
    assert!(invalid(base(json!({"colour": "blue"})))
        .message
        .contains("colour"));
    for missing in ["timezone", "start", "end"] {
        let mut c = night("UTC");
        c.as_object_mut().unwrap().remove(missing);
        assert_eq!(invalid(c).field, missing);
    }
}

#[test]
fn bad_received_at_is_an_error() {
    let err = harness::filter_decide::<QuietHours>(&night("UTC").to_string(), &at("yesterday"))
        .unwrap_err();
    assert!(err.contains("received_at"), "{err}");
}

#[test]
fn clock_time_parsing() {
    assert_eq!(ClockTime::parse("00:00").unwrap().to_string(), "00:00");
    assert_eq!(ClockTime::parse("23:59").unwrap().to_string(), "23:59");
    assert_eq!(ClockTime::parse("07:05").unwrap().to_string(), "07:05");
    for bad in [
        "",
        "7:00",
        "07:0",
        "0700",
        "-1:00",
        "+1:00",
        "1a:00",
        "24:00",
        "12:60",
        "１２:００",
    ] {
        assert!(ClockTime::parse(bad).is_err(), "{bad}");
    }
}
