/**
 * Rule payload template variables (SPEC §6) and a client-side preview
 * renderer with the same rules as the server: `{{ path }}` placeholders in
 * every string of the template JSON, whitespace inside the braces allowed,
 * missing values render as "", no logic. The server's `/api/rules/test` stays
 * the authority; this powers the variable list and instant preview.
 */

export interface TemplateVariable {
  /** Path as written between the braces; `<key>`-style suffix for open-ended maps. */
  path: string;
  description: string;
  /** For map variables: the fixed prefix, e.g. "message.extras." */
  prefix?: string;
}

export const TEMPLATE_VARIABLES: readonly TemplateVariable[] = [
  { path: "message.id", description: "Message ID" },
  { path: "message.received_at", description: "When the message arrived (RFC 3339)" },
  { path: "message.title", description: "Title (may be empty)" },
  { path: "message.body", description: "Body text" },
  { path: "message.group", description: "Group (may be empty)" },
  { path: "message.priority", description: "Priority 1–5" },
  { path: "message.tags", description: "Tags, comma-joined" },
  { path: "message.url", description: "URL sent with the message" },
  { path: "message.extras.<key>", description: "One value from extras", prefix: "message.extras." },
  { path: "request.content_type", description: "Content-Type of the ingest request" },
  { path: "request.remote_ip", description: "Sender's IP address" },
  { path: "request.user_agent", description: "Sender's User-Agent" },
  {
    path: "request.headers.<name>",
    description: "A request header (sensitive ones stay [REDACTED])",
    prefix: "request.headers.",
  },
  { path: "request.query.<name>", description: "A query-string parameter", prefix: "request.query." },
  { path: "ingest_endpoint.id", description: "Ingest endpoint ID" },
  { path: "ingest_endpoint.name", description: "Ingest endpoint name" },
];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** `{{path}}` text to insert for a variable (map variables keep their `<key>` hint). */
export function placeholderFor(v: TemplateVariable): string {
  return `{{${v.path}}}`;
}

export function isKnownPath(path: string): boolean {
  return TEMPLATE_VARIABLES.some((v) =>
    v.prefix ? path.startsWith(v.prefix) && path.length > v.prefix.length && !/[<>]/.test(path) : v.path === path,
  );
}

function walkStrings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === "string") visit(value);
  else if (Array.isArray(value)) value.forEach((v) => walkStrings(v, visit));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => walkStrings(v, visit));
}

/** Every placeholder path used anywhere in a template (strings inside any JSON value). */
export function findPlaceholders(template: unknown): string[] {
  const found = new Set<string>();
  walkStrings(template, (s) => {
    for (const m of s.matchAll(PLACEHOLDER)) found.add(m[1]);
  });
  return [...found];
}

/** Placeholders that name no known variable (typos), for a warning under the editor. */
export function unknownPlaceholders(template: unknown): string[] {
  return findPlaceholders(template).filter((p) => !isKnownPath(p));
}

export interface TemplateContext {
  message: {
    id: string;
    received_at: string;
    title?: string | null;
    body: string;
    group?: string | null;
    priority: number;
    tags: string[];
    url?: string | null;
    extras: Record<string, string>;
  };
  request: {
    content_type?: string | null;
    remote_ip?: string | null;
    user_agent?: string | null;
    headers: Record<string, string>;
    query: Record<string, string>;
  };
  ingest_endpoint: { id: string; name: string };
}

/** The value a path resolves to, or "" when it is missing. */
export function resolvePath(ctx: TemplateContext, path: string): string {
  const m = ctx.message;
  const r = ctx.request;
  const str = (v: string | number | null | undefined) => (v === null || v === undefined ? "" : String(v));
  switch (path) {
    case "message.id":
      return m.id;
    case "message.received_at":
      return m.received_at;
    case "message.title":
      return str(m.title);
    case "message.body":
      return m.body;
    case "message.group":
      return str(m.group);
    case "message.priority":
      return String(m.priority);
    case "message.tags":
      return m.tags.join(",");
    case "message.url":
      return str(m.url);
    case "request.content_type":
      return str(r.content_type);
    case "request.remote_ip":
      return str(r.remote_ip);
    case "request.user_agent":
      return str(r.user_agent);
    case "ingest_endpoint.id":
      return ctx.ingest_endpoint.id;
    case "ingest_endpoint.name":
      return ctx.ingest_endpoint.name;
  }
  const own = (o: Record<string, string>, k: string) => (Object.hasOwn(o, k) ? o[k] : undefined);
  if (path.startsWith("message.extras.")) return str(own(m.extras, path.slice("message.extras.".length)));
  if (path.startsWith("request.query.")) return str(own(r.query, path.slice("request.query.".length)));
  if (path.startsWith("request.headers.")) {
    // HTTP header names are case-insensitive.
    const name = path.slice("request.headers.".length).toLowerCase();
    const hit = Object.keys(r.headers).find((k) => k.toLowerCase() === name);
    return hit === undefined ? "" : r.headers[hit];
  }
  return "";
}

export function renderString(s: string, ctx: TemplateContext): string {
  return s.replace(PLACEHOLDER, (_, path: string) => resolvePath(ctx, path));
}

/** Render every string in a template JSON value (keys are left alone). */
export function renderTemplate(template: unknown, ctx: TemplateContext): unknown {
  if (typeof template === "string") return renderString(template, ctx);
  if (Array.isArray(template)) return template.map((v) => renderTemplate(v, ctx));
  if (template && typeof template === "object") {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderTemplate(v, ctx)]));
  }
  return template;
}
