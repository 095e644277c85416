/**
 * The rule editor's draft (strings as the inputs hold them) and its mapping
 * to and from the rules API body (SPEC §11):
 * `{name, enabled, channel_id, filter, extra_filters, payload_template}`,
 * where `filter` is the standard filter's config
 * `{ingest_endpoint_ids?, body?: {contains?, regex?}, priority?: {min?, max?}, tags?, group?}`.
 */
import type { ExtraFilter, Plugin, Rule, RuleInput, StandardFilter } from "../../api/types";
import { validateConfig, type JsonSchema } from "../../features/schema-form/schema";
import { unknownPlaceholders, type TemplateContext } from "../../features/templates/variables";

export interface FilterDraft {
  endpointIds: string[];
  /** One substring per line. */
  contains: string;
  regex: string;
  /** "" or "1".."5" */
  priorityMin: string;
  priorityMax: string;
  /** Comma- or newline-separated. */
  tags: string;
  group: string;
}

export interface ExtraFilterDraft {
  /** Stable React key. */
  key: string;
  plugin: string;
  /** "" follows the plugin's newest version; a version pins it. */
  version: string;
  config: Record<string, unknown>;
}

export interface RuleDraft {
  name: string;
  enabled: boolean;
  channelId: string;
  filter: FilterDraft;
  extraFilters: ExtraFilterDraft[];
  /** The payload template as JSON text. */
  template: string;
}

export const STANDARD_FILTER_ID = "standard-filter";
export const MAX_REGEX_CHARS = 1024;
export const MAX_EXTRA_FILTERS = 8;

export const DEFAULT_TEMPLATE = `{
  "title": "{{message.title}}",
  "body": "{{message.body}}"
}`;

export const EMPTY_FILTER: FilterDraft = {
  endpointIds: [],
  contains: "",
  regex: "",
  priorityMin: "",
  priorityMax: "",
  tags: "",
  group: "",
};

let keySeq = 0;
export function newKey(): string {
  keySeq += 1;
  return `xf-${keySeq}`;
}

export function emptyDraft(channelId = ""): RuleDraft {
  return { name: "", enabled: true, channelId, filter: { ...EMPTY_FILTER }, extraFilters: [], template: DEFAULT_TEMPLATE };
}

const lines = (s: string) =>
  s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");

export const splitTags = (s: string) =>
  s
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter((t) => t !== "");

export function filterToDraft(f: StandardFilter | null | undefined): FilterDraft {
  const v = f ?? {};
  return {
    endpointIds: v.ingest_endpoint_ids ?? [],
    contains: (v.body?.contains ?? []).join("\n"),
    regex: v.body?.regex ?? "",
    priorityMin: v.priority?.min != null ? String(v.priority.min) : "",
    priorityMax: v.priority?.max != null ? String(v.priority.max) : "",
    tags: (v.tags ?? []).join(", "),
    group: v.group ?? "",
  };
}

/** The standard filter config; unset dimensions are left out (`{}` matches everything). */
export function draftToFilter(d: FilterDraft): StandardFilter {
  const f: StandardFilter = {};
  if (d.endpointIds.length) f.ingest_endpoint_ids = [...d.endpointIds];
  const contains = lines(d.contains);
  const regex = d.regex.trim() === "" ? "" : d.regex;
  if (contains.length || regex) {
    f.body = {};
    if (contains.length) f.body.contains = contains;
    if (regex) f.body.regex = regex;
  }
  if (d.priorityMin || d.priorityMax) {
    f.priority = {};
    if (d.priorityMin) f.priority.min = Number(d.priorityMin);
    if (d.priorityMax) f.priority.max = Number(d.priorityMax);
  }
  const tags = splitTags(d.tags);
  if (tags.length) f.tags = tags;
  if (d.group.trim()) f.group = d.group.trim();
  return f;
}

export function ruleToDraft(rule: Rule): RuleDraft {
  return {
    name: rule.name,
    enabled: rule.enabled,
    channelId: rule.channel_id,
    filter: filterToDraft(rule.filter),
    extraFilters: (rule.extra_filters ?? []).map((x) => ({
      key: newKey(),
      plugin: x.plugin,
      version: x.version ?? "",
      config: x.config ?? {},
    })),
    template: JSON.stringify(rule.payload_template ?? {}, null, 2),
  };
}

export type ParsedJson = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/** Parse text that must hold a JSON object. */
export function parseJsonObject(text: string): ParsedJson {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== "object" || Array.isArray(v)) return { ok: false, error: "Must be a JSON object ({ … })." };
    return { ok: true, value: v as Record<string, unknown> };
  } catch (e) {
    return { ok: false, error: `Invalid JSON: ${(e as Error).message}` };
  }
}

/** The API body; call after {@link validateDraft} found nothing. */
export function draftToInput(d: RuleDraft): RuleInput {
  const tpl = parseJsonObject(d.template);
  return {
    name: d.name.trim(),
    enabled: d.enabled,
    channel_id: d.channelId,
    filter: draftToFilter(d.filter),
    // `version` only when pinned: absent follows the newest (and older servers never see the key).
    extra_filters: d.extraFilters.map<ExtraFilter>((x) =>
      x.version ? { plugin: x.plugin, version: x.version, config: x.config } : { plugin: x.plugin, config: x.config },
    ),
    payload_template: tpl.ok ? tpl.value : {},
  };
}

/**
 * Client-side checks, keyed by the API's field paths ("name", "channel_id",
 * "filter.priority.max", "payload_template", "extra_filters.0.config.url", …).
 * The server (and each filter plugin) remains the authority.
 */
export function validateDraft(d: RuleDraft, plugins: Plugin[] = []): Record<string, string> {
  const e: Record<string, string> = {};
  const name = d.name.trim();
  if (!name) e.name = "Give the rule a name.";
  else if ([...name].length > 100) e.name = "Use at most 100 characters.";
  if (!d.channelId) e.channel_id = "Choose the channel to send to.";
  const { priorityMin: min, priorityMax: max } = d.filter;
  if (min && max && Number(min) > Number(max)) e["filter.priority.max"] = "Must be at least the lowest priority.";
  if ([...d.filter.regex].length > MAX_REGEX_CHARS) e["filter.body.regex"] = `Use at most ${MAX_REGEX_CHARS} characters.`;
  const tpl = parseJsonObject(d.template);
  if (!tpl.ok) e.payload_template = tpl.error;
  if (d.extraFilters.length > MAX_EXTRA_FILTERS) e.extra_filters = `At most ${MAX_EXTRA_FILTERS} extra filters.`;
  d.extraFilters.forEach((x, i) => {
    const plugin = plugins.find((p) => p.id === x.plugin);
    if (!x.plugin) {
      e[`extra_filters.${i}.plugin`] = "Choose a filter plugin.";
      return;
    }
    if (!plugin) return; // not installed: the server says so
    for (const [path, msg] of Object.entries(validateConfig(plugin.config_schema as JsonSchema, x.config))) {
      e[path ? `extra_filters.${i}.config.${path}` : `extra_filters.${i}.config`] = msg;
    }
  });
  return e;
}

/** Warnings that do not block saving (typos in placeholders). */
export function templateWarnings(template: string): string[] {
  const tpl = parseJsonObject(template);
  if (!tpl.ok) return [];
  return unknownPlaceholders(tpl.value).map((p) => `{{${p}}} is not a known variable and will render as empty text.`);
}

/** A one-line description of a standard filter config, for lists. */
export function describeFilter(f: StandardFilter | null | undefined, endpointName: (id: string) => string = (id) => id): string {
  const v = f ?? {};
  const parts: string[] = [];
  if (v.ingest_endpoint_ids?.length) parts.push(`from ${v.ingest_endpoint_ids.map(endpointName).join(" or ")}`);
  if (v.body?.contains?.length) parts.push(`body contains ${v.body.contains.map((s) => `“${s}”`).join(" or ")}`);
  if (v.body?.regex) parts.push(`body matches /${v.body.regex}/`);
  const { min, max } = v.priority ?? {};
  if (min != null && max != null) parts.push(min === max ? `priority ${min}` : `priority ${min}–${max}`);
  else if (min != null) parts.push(`priority ≥ ${min}`);
  else if (max != null) parts.push(`priority ≤ ${max}`);
  if (v.tags?.length) parts.push(`tagged ${v.tags.join(" or ")}`);
  if (v.group) parts.push(`group “${v.group}”`);
  return parts.length ? parts.join(", ") : "every message";
}

// ---------- sample messages and the in-browser preview ----------

export interface SampleMessage {
  title?: string | null;
  body: string;
  group?: string | null;
  priority?: number;
  tags?: string[];
  url?: string | null;
  extras?: Record<string, string>;
}

export const DEFAULT_SAMPLE = `{
  "title": "Disk almost full",
  "body": "/dev/sda1 on nas is 91% full",
  "priority": 4,
  "tags": ["ops", "disk"],
  "group": "servers",
  "extras": { "host": "nas" }
}`;

export type ParsedSample = { ok: true; value: SampleMessage; raw: Record<string, unknown> } | { ok: false; error: string };

/** Check a sample message the way ingest would (the shapes, not every rule). */
export function parseSample(text: string): ParsedSample {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const v = parsed.value;
  if (typeof v.body !== "string" || v.body === "") return { ok: false, error: "The sample needs a non-empty \"body\" string." };
  if (v.priority !== undefined && (!Number.isInteger(v.priority) || (v.priority as number) < 1 || (v.priority as number) > 5))
    return { ok: false, error: "\"priority\" must be a whole number from 1 to 5." };
  if (v.tags !== undefined && (!Array.isArray(v.tags) || v.tags.some((t) => typeof t !== "string")))
    return { ok: false, error: "\"tags\" must be a list of strings." };
  for (const k of ["title", "group", "url"] as const) {
    if (v[k] !== undefined && v[k] !== null && typeof v[k] !== "string") return { ok: false, error: `"${k}" must be a string.` };
  }
  if (
    v.extras !== undefined &&
    (!v.extras || typeof v.extras !== "object" || Array.isArray(v.extras) || Object.values(v.extras).some((x) => typeof x !== "string"))
  )
    return { ok: false, error: "\"extras\" must be an object of strings." };
  return { ok: true, value: v as unknown as SampleMessage, raw: v };
}

export function sampleContext(m: SampleMessage, endpoint: { id: string; name: string } = { id: "", name: "" }): TemplateContext {
  return {
    message: {
      id: "preview",
      received_at: new Date().toISOString(),
      title: m.title ?? null,
      body: m.body,
      group: m.group ?? null,
      priority: m.priority ?? 3,
      tags: m.tags ?? [],
      url: m.url ?? null,
      extras: m.extras ?? {},
    },
    request: {
      content_type: "application/json",
      remote_ip: null,
      user_agent: null,
      headers: { "content-type": "application/json" },
      query: {},
    },
    ingest_endpoint: endpoint,
  };
}

const canonicalId = (id: string) => id.trim().replace(/-/g, "").toLowerCase();

/** regex-lite → JS RegExp for the preview; undefined when the browser cannot run it faithfully. */
export function toJsRegex(pattern: string): RegExp | undefined {
  let flags = "u";
  let rest = pattern;
  const m = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (m) {
    for (const f of m[1]) {
      if (f === "i" || f === "m" || f === "s") flags += flags.includes(f) ? "" : f;
      else return undefined; // x, U, R…: no JS equivalent
    }
    rest = pattern.slice(m[0].length);
  }
  if (/\(\?[a-zA-Z-]+[:)]/.test(rest)) return undefined; // inline flag groups
  try {
    return new RegExp(rest, flags);
  } catch {
    return undefined;
  }
}

export interface FilterPreview {
  /** null: the browser cannot decide (the regex needs the server). */
  matched: boolean | null;
  /** Why it does not match (or why it cannot tell). */
  reasons: string[];
}

/** The standard filter's semantics (plugins/standard-filter), evaluated in the browser for instant feedback. */
export function previewStandardFilter(f: StandardFilter, m: SampleMessage, endpointId = ""): FilterPreview {
  const reasons: string[] = [];
  let undecided = false;
  const ids = f.ingest_endpoint_ids ?? [];
  if (ids.length && !ids.some((id) => canonicalId(id) === canonicalId(endpointId)))
    reasons.push(endpointId ? "It arrives on an endpoint the filter does not list." : "The filter lists endpoints, and the sample arrives on none.");
  const contains = f.body?.contains ?? [];
  if (contains.length) {
    const hay = m.body.toLowerCase();
    if (!contains.some((n) => hay.includes(n.toLowerCase()))) reasons.push("The body contains none of the listed texts.");
  }
  if (f.body?.regex) {
    const re = toJsRegex(f.body.regex);
    if (!re) {
      undecided = true;
      reasons.push("The regular expression cannot be checked in the browser; use the server test.");
    } else if (!re.test(m.body)) reasons.push("The body does not match the regular expression.");
  }
  const p = m.priority ?? 3;
  if (f.priority?.min != null && p < f.priority.min) reasons.push(`Priority ${p} is below ${f.priority.min}.`);
  if (f.priority?.max != null && p > f.priority.max) reasons.push(`Priority ${p} is above ${f.priority.max}.`);
  const tags = f.tags ?? [];
  if (tags.length) {
    const have = new Set((m.tags ?? []).map((t) => t.toLowerCase()));
    if (!tags.some((t) => have.has(t.toLowerCase()))) reasons.push("The message has none of the listed tags.");
  }
  if (f.group && (m.group ?? null) !== f.group) reasons.push(`The group is not “${f.group}”.`);
  const failed = reasons.length > (undecided ? 1 : 0);
  return { matched: failed ? false : undecided ? null : true, reasons };
}
