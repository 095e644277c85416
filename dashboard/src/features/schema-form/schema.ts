/**
 * The subset of JSON Schema that plugin config schemas use (as emitted by
 * schemars and hand-written schemas): objects with properties, strings,
 * numbers, integers, booleans, enums, string arrays, local `$ref`s and
 * nullable `type: [T, "null"]`. Anything else is edited as raw JSON.
 *
 * Validation here is a convenience for instant feedback; the plugin's own
 * config validation on the server is the authority. (A general validator such
 * as Ajv compiles schemas with `new Function`, which a strict CSP forbids.)
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  writeOnly?: boolean;
  /** Secret markers plugins may use. */
  "x-secret"?: boolean;
  secret?: boolean;
  "x-multiline"?: boolean;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

/** What the API shows instead of a stored secret; sending it back keeps the stored value. */
export const SECRET_MASK = "********";

export type FieldKind = "string" | "secret" | "text" | "number" | "integer" | "boolean" | "enum" | "string-list" | "object" | "json";

/** Follow a local `$ref` ("#/$defs/X", "#/definitions/X") against the root schema. */
export function deref(schema: JsonSchema | boolean | undefined, root: JsonSchema): JsonSchema {
  let s: JsonSchema = typeof schema === "object" && schema ? schema : {};
  for (let hops = 0; s.$ref && hops < 16; hops++) {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref);
    const target = m ? root[m[1] as "$defs" | "definitions"]?.[decodeURIComponent(m[2])] : undefined;
    if (!target) break;
    const { $ref: _ignored, ...rest } = s;
    s = { ...target, ...rest };
  }
  // schemars wraps a referenced type with extra annotations in allOf: [{$ref}]
  if (s.allOf && s.allOf.length === 1 && !s.type && !s.properties) {
    const { allOf, ...rest } = s;
    s = { ...deref(allOf[0], root), ...rest };
  }
  return s;
}

/** The main type, ignoring "null" in `type: [T, "null"]` and `anyOf: [T, {type: null}]`. */
export function mainType(s: JsonSchema, root: JsonSchema): { type?: string; schema: JsonSchema; nullable: boolean } {
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== "null");
    return { type: types.length === 1 ? types[0] : undefined, schema: s, nullable: s.type.includes("null") };
  }
  const alts = s.anyOf ?? s.oneOf;
  if (!s.type && alts) {
    const nonNull = alts.map((a) => deref(a, root)).filter((a) => a.type !== "null");
    if (nonNull.length === 1 && nonNull.length < alts.length) {
      const inner = mainType({ ...nonNull[0], title: s.title ?? nonNull[0].title, description: s.description ?? nonNull[0].description }, root);
      return { ...inner, nullable: true };
    }
    return { type: undefined, schema: s, nullable: false };
  }
  return { type: s.type, schema: s, nullable: false };
}

export function isSecret(s: JsonSchema): boolean {
  return Boolean(s.writeOnly || s["x-secret"] || s.secret || s.format === "password");
}

export function fieldKind(raw: JsonSchema, root: JsonSchema): FieldKind {
  const { type, schema: s } = mainType(deref(raw, root), root);
  if (s.enum && s.enum.every((e) => typeof e === "string" || typeof e === "number")) return "enum";
  switch (type) {
    case "string":
      if (isSecret(s)) return "secret";
      return s["x-multiline"] || s.format === "textarea" ? "text" : "string";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array": {
      const items = s.items ? mainType(deref(s.items, root), root) : undefined;
      return items?.type === "string" && !items.schema.enum ? "string-list" : "json";
    }
    case "object":
      return s.properties ? "object" : "json";
    default:
      return "json";
  }
}

const ACRONYMS = new Set(["url", "uri", "json", "id", "ids", "api", "http", "https", "tls", "ssl", "smtp", "mqtt", "ip"]);

export function labelFor(key: string, s: JsonSchema): string {
  if (s.title) return s.title;
  const words = key
    .replace(/[_-]+/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .trim()
    .split(/\s+/)
    .map((w) => (ACRONYMS.has(w.toLowerCase()) ? (w.toLowerCase() === "ids" ? "IDs" : w.toUpperCase()) : w));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Dotted paths of every input the form draws for this schema (nested objects included). */
export function fieldPaths(schema: JsonSchema, root: JsonSchema = schema, prefix = ""): string[] {
  const s = mainType(deref(schema, root), root).schema;
  const out: string[] = [];
  for (const [key, sub] of Object.entries(s.properties ?? {})) {
    const p = prefix ? `${prefix}.${key}` : key;
    out.push(p);
    if (fieldKind(sub, root) === "object") out.push(...fieldPaths(sub, root, p));
  }
  return out;
}

/**
 * Put each error on the deepest drawn input at or above its path ("device_keys.1"
 * → "device_keys"); errors no input owns (the whole config, unknown keys) come
 * back in `other` with a readable path.
 */
export function foldErrors(
  errors: Record<string, string>,
  paths: readonly string[],
): { byField: Record<string, string>; other: string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const [key, message] of Object.entries(errors)) {
    let p = key;
    while (p && !paths.includes(p)) p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "";
    if (p) {
      const sub = key.slice(p.length + 1);
      byField[p] ??= p === key ? message : /^\d+$/.test(sub) ? `Item ${Number(sub) + 1}: ${message}` : `${sub}: ${message}`;
    } else {
      other.push(key ? `${key}: ${message}` : message);
    }
  }
  return { byField, other };
}

function typeOk(type: string | undefined, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    default:
      return true;
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
};

/**
 * Check `value` against the schema subset; returns messages keyed by dotted
 * path ("device_key", "nested.field", "list.2"). Unknown keys are allowed
 * unless `additionalProperties: false`.
 */
export function validateConfig(schema: JsonSchema, value: unknown, root: JsonSchema = schema, path = ""): Record<string, string> {
  const errors: Record<string, string> = {};
  const at = (k: string | number) => (path ? `${path}.${k}` : String(k));
  const { type, schema: s, nullable } = mainType(deref(schema, root), root);
  if (value === null && nullable) return errors;
  const here = path || "";
  if (type && !typeOk(type, value)) {
    errors[here] = `Must be ${TYPE_NAMES[type] ?? type}.`;
    return errors;
  }
  if (s.enum && !s.enum.some((e) => e === value)) {
    errors[here] = `Must be one of: ${s.enum.map(String).join(", ")}.`;
    return errors;
  }
  if (typeof value === "string") {
    if (s.minLength !== undefined && value.length < s.minLength)
      errors[here] = s.minLength === 1 ? "Must not be empty." : `Use at least ${s.minLength} characters.`;
    else if (s.maxLength !== undefined && value.length > s.maxLength) errors[here] = `Use at most ${s.maxLength} characters.`;
    else if (s.pattern) {
      try {
        if (!new RegExp(s.pattern, "u").test(value)) errors[here] = "Does not have the expected format.";
      } catch {
        // A pattern JS cannot compile: leave it to the server.
      }
    } else if ((s.format === "uri" || s.format === "url") && !/^https?:\/\/[^\s/]+/i.test(value)) {
      errors[here] = "Must be an absolute http(s) URL.";
    }
  }
  if (typeof value === "number") {
    if (s.minimum !== undefined && value < s.minimum) errors[here] = `Must be at least ${s.minimum}.`;
    else if (s.maximum !== undefined && value > s.maximum) errors[here] = `Must be at most ${s.maximum}.`;
  }
  if (Array.isArray(value) && s.items) {
    value.forEach((item, i) => Object.assign(errors, validateConfig(s.items!, item, root, at(i))));
  }
  if (type === "object" || (s.properties && typeOk("object", value))) {
    const obj = value as Record<string, unknown>;
    for (const req of s.required ?? []) {
      if (obj[req] === undefined || obj[req] === null || obj[req] === "") errors[at(req)] = "Required.";
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      if (obj[k] !== undefined && !errors[at(k)]) Object.assign(errors, validateConfig(sub, obj[k], root, at(k)));
    }
    if (s.additionalProperties === false) {
      for (const k of Object.keys(obj)) if (!s.properties?.[k]) errors[at(k)] = "Unknown setting.";
    }
  }
  return errors;
}
