import type { MessageFilters } from "../../api/types";
import { localInputToRfc3339 } from "../../lib/format";
import type { MessageFilterValues } from "../../lib/schemas";

/** URL search params ⇄ filter form values ⇄ API query. The URL is the source of truth. */
export const FILTER_KEYS = ["endpoint_id", "q", "group", "tag", "priority_min", "priority_max", "since", "until"] as const;

/** The *Scheduled* switch: `scheduled=true` in the URL and in the API query; absent when off. */
export const SCHEDULED_KEY = "scheduled";

const scheduledIn = (params: URLSearchParams) => params.get(SCHEDULED_KEY) === "true";

export function formValuesFromParams(params: URLSearchParams): MessageFilterValues {
  const v = Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) ?? ""])) as Record<
    (typeof FILTER_KEYS)[number],
    string
  >;
  return { ...v, scheduled: scheduledIn(params) };
}

export function paramsFromFormValues(values: MessageFilterValues): URLSearchParams {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const raw = values[k];
    const v = raw === undefined || raw === null ? "" : String(raw).trim();
    if (v !== "") params.set(k, v);
  }
  if (values.scheduled) params.set(SCHEDULED_KEY, "true");
  return params;
}

/** since/until are kept in the URL as `datetime-local` values and sent as RFC 3339. */
export function apiFiltersFromParams(params: URLSearchParams): MessageFilters {
  const num = (k: string) => {
    const v = params.get(k);
    if (!v) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= 1 && n <= 5 ? n : undefined;
  };
  const str = (k: string) => params.get(k)?.trim() || undefined;
  return {
    endpoint_id: str("endpoint_id"),
    q: str("q"),
    group: str("group"),
    tag: str("tag"),
    priority_min: num("priority_min"),
    priority_max: num("priority_max"),
    since: localInputToRfc3339(params.get("since")),
    until: localInputToRfc3339(params.get("until")),
    scheduled: scheduledIn(params) || undefined,
  };
}

/** Only the *Scheduled* switch is on (the list's empty state says so). */
export function onlyScheduled(f: MessageFilters): boolean {
  return f.scheduled === true && activeFilterCount(f) === 1;
}

export function hasActiveFilters(f: MessageFilters): boolean {
  return Object.values(f).some((v) => v !== undefined);
}

/** How many filters are applied (each input counts once). */
export function activeFilterCount(f: MessageFilters): number {
  return Object.values(f).filter((v) => v !== undefined).length;
}
