import { describe, expect, it } from "vitest";
import { formatTimeUntil, isScheduledAhead, pendingRefetchInterval, scheduleOf } from "./schedule";

const NOW = Date.parse("2025-03-01T12:00:00Z");
const MIN = 60_000;

describe("scheduleOf", () => {
  it("is none without a time (not scheduled, or an older server) or with an unreadable one", () => {
    expect(scheduleOf(null, NOW)).toEqual({ kind: "none" });
    expect(scheduleOf(undefined, NOW)).toEqual({ kind: "none" });
    expect(scheduleOf("", NOW)).toEqual({ kind: "none" });
    expect(scheduleOf("next tuesday", NOW)).toEqual({ kind: "none" });
  });

  it("is future while the time is ahead, with how far, and past from the time on", () => {
    expect(scheduleOf("2025-03-01T12:14:00Z", NOW)).toMatchObject({ kind: "future", iso: "2025-03-01T12:14:00Z", inMs: 14 * MIN });
    // Offsets other than Z are the same instant.
    expect(scheduleOf("2025-03-01T13:14:00+01:00", NOW)).toMatchObject({ kind: "future", inMs: 14 * MIN });
    expect(scheduleOf("2025-03-01T12:00:00Z", NOW).kind).toBe("past");
    expect(scheduleOf("2025-03-01T11:59:59.999Z", NOW).kind).toBe("past");
    expect(isScheduledAhead("2025-03-01T12:00:00.001Z", NOW)).toBe(true);
    expect(isScheduledAhead("2025-03-01T12:00:00Z", NOW)).toBe(false);
    expect(isScheduledAhead(null, NOW)).toBe(false);
  });
});

describe("formatTimeUntil", () => {
  it("says minutes (rounded up), hours and minutes, or days and hours", () => {
    expect(formatTimeUntil(20_000)).toBe("in less than a minute");
    expect(formatTimeUntil(MIN)).toBe("in 1 min");
    expect(formatTimeUntil(MIN + 1)).toBe("in 2 min");
    // A 10-minute delay, looked at two seconds later.
    expect(formatTimeUntil(10 * MIN - 2_000)).toBe("in 10 min");
    expect(formatTimeUntil(14 * MIN)).toBe("in 14 min");
    expect(formatTimeUntil(59 * MIN)).toBe("in 59 min");
    expect(formatTimeUntil(60 * MIN)).toBe("in 1 h");
    expect(formatTimeUntil(125 * MIN)).toBe("in 2 h 5 min");
    expect(formatTimeUntil(24 * 60 * MIN)).toBe("in 1 day");
    expect(formatTimeUntil((24 + 3) * 60 * MIN + 10 * MIN)).toBe("in 1 day 3 h");
    expect(formatTimeUntil(7 * 24 * 60 * MIN)).toBe("in 7 days");
  });
});

describe("pendingRefetchInterval", () => {
  it("polls every 5 s normally, at most once a minute while a schedule is far ahead, and just after it comes", () => {
    expect(pendingRefetchInterval(null, NOW)).toBe(5_000);
    expect(pendingRefetchInterval("2025-03-01T11:00:00Z", NOW)).toBe(5_000);
    expect(pendingRefetchInterval("2025-03-02T12:00:00Z", NOW)).toBe(60_000);
    expect(pendingRefetchInterval("2025-03-01T12:00:20Z", NOW)).toBe(21_000);
    expect(pendingRefetchInterval("2025-03-01T12:00:01Z", NOW)).toBe(5_000);
  });
});
