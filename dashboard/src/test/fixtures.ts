import { screen } from "@testing-library/react";
import type { Channel, Endpoint, Grants, Plugin, Rule } from "../api/types";
import { json, type Handler } from "./http";
import realPlugins from "./plugin-schemas.json";

export const TOKENS = { access_token: "tok", token_type: "Bearer", expires_in: 900 };
export const ME = { id: "u1", email: "ada@example.com", email_verified: true, is_admin: false };
/** An operator (`beacon user promote`): may install and remove plugins. */
export const OPERATOR = { ...ME, is_admin: true };

/** A restored session; `rest` sees every call except refresh, me and the event stream. */
export function signedIn(rest: Handler, me = ME): Handler {
  return (req) => {
    if (req.url === "/api/auth/refresh") return json(200, TOKENS);
    if (req.url === "/api/auth/me") return json(200, me);
    if (req.url === "/api/events") return new Response(null, { status: 204 });
    return rest(req);
  };
}

/** The error paragraph that the input labelled `label` points at. */
export function errorFor(label: string | RegExp): string | null {
  const input = screen.getByLabelText(label);
  const ids = (input.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
  const err = ids.map((id) => document.getElementById(id)).find((el) => el?.classList.contains("field-error"));
  return err?.textContent ?? null;
}

/** The Bark plugin as `GET /api/plugins` describes it (schema as schemars emits it). */
export const BARK: Plugin = {
  id: "bark",
  name: "Bark",
  version: "0.1.0",
  kind: "channel",
  description: "Push notifications to iPhones through a Bark server (API v2, POST /push).",
  builtin: true,
  wit_version: "0.3.0",
  capabilities: ["http", "kv", "log"],
  config_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    description: "Channel config.",
    title: "BarkConfig",
    type: "object",
    required: ["server_base_url"],
    properties: {
      default_payload_json: {
        additionalProperties: true,
        default: null,
        description: "Bark fields applied when the rule's template does not set them.",
        type: ["object", "string", "null"],
      },
      device_key: {
        default: null,
        description: "Device key of one iPhone (use this or `device_keys`).",
        type: ["string", "null"],
        writeOnly: true,
        "x-secret": true,
      },
      device_keys: {
        default: null,
        description: "Device keys for a batch push to several devices.",
        items: { type: "string" },
        type: ["array", "null"],
        writeOnly: true,
        "x-secret": true,
      },
      server_base_url: {
        description: "Base URL of the Bark server, e.g. `https://api.day.app`; `/push` is appended.",
        type: "string",
      },
    },
  },
};

export const WEBHOOK: Plugin = {
  id: "webhook",
  name: "Webhook",
  version: "0.2.0",
  kind: "channel",
  description: "POST JSON to a URL.",
  builtin: false,
  wit_version: "0.2.0",
  capabilities: ["http", "log"],
  config_schema: { type: "object", required: ["url"], properties: { url: { type: "string", format: "uri" } } },
};

export const STANDARD_FILTER: Plugin = {
  id: "standard-filter",
  name: "Standard filter",
  version: "0.1.0",
  kind: "filter",
  description: "Match on ingest endpoint, body text or regex, priority range, tags and group.",
  builtin: true,
  wit_version: "0.3.0",
  capabilities: ["kv"],
  config_schema: { type: "object", additionalProperties: false, properties: { group: { type: ["string", "null"] } } },
};

export const KEYWORD_FILTER: Plugin = {
  id: "keyword",
  name: "Keyword filter",
  version: "1.0.0",
  kind: "filter",
  description: "Drops messages with a keyword.",
  builtin: false,
  wit_version: "0.2.0",
  capabilities: [],
  config_schema: { type: "object", required: ["word"], properties: { word: { type: "string", minLength: 1 } } },
};

export const PLUGINS = [BARK, WEBHOOK, STANDARD_FILTER, KEYWORD_FILTER];

/**
 * `GET /api/plugins` of a real server: every built-in plugin with its real
 * config schema (schemars 1 output), saved from `target/debug/beacon serve`
 * into `plugin-schemas.json`. Refresh that file when a plugin's config changes.
 */
export const REAL_PLUGINS = realPlugins.items as unknown as Plugin[];

export function realPlugin(id: string): Plugin {
  const p = REAL_PLUGINS.find((x) => x.id === id);
  if (!p) throw new Error(`no built-in plugin ${id} in plugin-schemas.json`);
  return p;
}

export const CHANNEL: Channel = {
  id: "c1",
  name: "My iPhone",
  plugin: "bark",
  config: { server_base_url: "https://api.day.app", device_key: "********", sound: "bell" },
  enabled: true,
  created_at: "2025-03-01T10:00:00Z",
  updated_at: "2025-03-01T10:00:00Z",
};

export const ENDPOINTS: Endpoint[] = [
  { id: "e1", name: "backups", created_at: "2025-03-01T10:00:00Z", revoked_at: null, archived_at: null, last_used_at: null },
  { id: "e2", name: "ci", created_at: "2025-03-01T10:00:00Z", revoked_at: null, archived_at: null, last_used_at: null },
];

export const RULE: Rule = {
  id: "r1",
  name: "Disk alerts",
  enabled: true,
  channel_id: "c1",
  filter: { body: { contains: ["disk"] }, priority: { min: 4 } },
  extra_filters: [],
  payload_template: { title: "{{message.title}}", body: "{{message.body}}" },
  created_at: "2025-03-01T10:00:00Z",
  updated_at: "2025-03-01T10:00:00Z",
};

/** The default grants (every field null). */
export const DEFAULT_GRANTS: Grants = { allowed_hosts: null, allow_private_networks: null, memory_mib: null, timeout_ms: null, capabilities: null };

/** A third-party channel plugin in two versions, as `GET /api/plugins` lists it on a server with versions and grants. */
export const HTTP_POST_V2: Plugin = {
  id: "http-post",
  name: "HTTP POST",
  version: "0.2.0",
  kind: "channel",
  description: "POSTs the payload to a URL.",
  builtin: false,
  wit_version: "0.3.0",
  capabilities: ["http", "kv", "log"],
  config_schema: { type: "object", required: ["url"], properties: { url: { type: "string" } } },
  versions: [
    { version: "0.2.0", wit_version: "0.3.0", capabilities: ["http", "kv", "log"], sha256: "b".repeat(64), size_bytes: 315231, newest: true, channels: 2, rules: 0 },
    { version: "0.1.0", wit_version: "0.2.0", capabilities: ["http"], sha256: "a".repeat(64), size_bytes: 314640, newest: false, channels: 1, rules: 0 },
  ],
  grants: DEFAULT_GRANTS,
  limits: { memory_mib: 64, timeout_ms: 10000 },
};

/** The built-in adapters with their real config schemas (from plugin-schemas.json). */
export const JSON_MAP = realPlugin("json-map");
export const GITHUB = realPlugin("github");
export const ALERTMANAGER = realPlugin("alertmanager");

/** An endpoint whose requests go through the GitHub adapter (its secret masked, as the API shows it). */
export const GITHUB_ENDPOINT: Endpoint = {
  id: "e1",
  name: "repo hooks",
  created_at: "2025-03-01T10:00:00Z",
  revoked_at: null,
  archived_at: null,
  last_used_at: null,
  adapter: { plugin: "github", plugin_version: null, config: { secret: "********", events: ["push"] }, running_version: "0.1.0" },
};
