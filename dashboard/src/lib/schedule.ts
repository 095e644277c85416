import { useEffect, useState } from "react";

/**
 * Scheduled delivery (`deliver_at` on messages, RFC 3339; absent on older
 * servers, null for messages that were not scheduled).
 */
export type Schedule =
  | { kind: "none" }
  /** Its deliveries wait until `at`, `inMs` from now. */
  | { kind: "future"; at: Date; iso: string; inMs: number }
  /** It was scheduled; the time has come. */
  | { kind: "past"; at: Date; iso: string };

export function scheduleOf(deliverAt: string | null | undefined, now: number = Date.now()): Schedule {
  if (!deliverAt) return { kind: "none" };
  const at = new Date(deliverAt);
  const t = at.getTime();
  if (Number.isNaN(t)) return { kind: "none" };
  return t > now ? { kind: "future", at, iso: deliverAt, inMs: t - now } : { kind: "past", at, iso: deliverAt };
}

/** Whether the message's deliveries still wait for their scheduled time. */
export const isScheduledAhead = (deliverAt: string | null | undefined, now: number = Date.now()) =>
  scheduleOf(deliverAt, now).kind === "future";

/**
 * How far ahead, in words: `in 14 min`, `in 2 h 5 min`, `in 3 days 4 h`.
 * Minutes round up, so a 10-minute delay reads `in 10 min` right after ingest.
 */
export function formatTimeUntil(ms: number): string {
  if (ms < 60_000) return "in less than a minute";
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `in ${minutes} min`;
  if (minutes < 24 * 60) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m === 0 ? `in ${h} h` : `in ${h} h ${m} min`;
  }
  const days = Math.floor(minutes / (24 * 60));
  const h = Math.floor((minutes % (24 * 60)) / 60);
  const d = `${days} ${days === 1 ? "day" : "days"}`;
  return h === 0 ? `in ${d}` : `in ${d} ${h} h`;
}

/**
 * How often a page showing a message should refetch it while deliveries are
 * pending: every 5 s normally, but a scheduled message's deliveries wait
 * until their time, so until then once a minute at most (live updates still
 * refresh it at once), and right after the time comes.
 */
export function pendingRefetchInterval(deliverAt: string | null | undefined, now: number = Date.now()): number {
  const s = scheduleOf(deliverAt, now);
  if (s.kind !== "future") return 5_000;
  return Math.min(60_000, Math.max(5_000, s.inMs + 1_000));
}

/** The current time, updated every `intervalMs` while mounted (for "in 14 min" and badges that expire). */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
