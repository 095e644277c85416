const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const short = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export function formatShort(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : short.format(d);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export const PRIORITY_LABELS: Record<number, string> = {
  1: "lowest",
  2: "low",
  3: "normal",
  4: "high",
  5: "critical",
};

/** Only http(s) URLs become links; anything else is shown as text. */
export function safeHttpUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** `datetime-local` input value → RFC 3339 (UTC), or undefined when empty/invalid. */
export function localInputToRfc3339(v: string | null | undefined): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The URL an ingest endpoint answers at, as seen from this browser. */
export function ingestUrlFor(endpointId: string, origin = window.location.origin): string {
  return `${origin}/api/ingest/${endpointId}`;
}

/** A copy-pasteable curl command (POSIX shell quoting). */
export function curlExample(ingestUrl: string, key: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `curl -X POST ${q(ingestUrl)} \\`,
    `  -H ${q(`X-Beacon-Ingest-Key: ${key}`)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '{"title":"Hello","body":"Beacon Spear works","priority":3,"tags":["test"]}'`,
  ].join("\n");
}
