/**
 * The subset of JSON Schema that plugin config schemas use (as emitted by
 * schemars 1 and hand-written schemas): objects with properties (nested ones
 * too), strings, numbers, integers, booleans, enums (`enum`, or `oneOf` /
 * `anyOf` of `const`s as schemars writes documented enum variants), string
 * arrays, arrays of enum values, string maps (`additionalProperties:
 * {type: string}`), local `$ref`s and optional values (`type: [T, "null"]`,
 * `anyOf: [T, {type: null}]`). Anything else is edited as raw JSON.
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
  examples?: unknown[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
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

export type FieldKind =
  | "string"
  | "secret"
  | "text"
  | "number"
  | "integer"
  | "boolean"
  | "enum"
  | "string-list"
  | "secret-list"
  | "enum-list"
  | "string-map"
  | "object"
  | "json";

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

const isScalar = (v: unknown): v is string | number => typeof v === "string" || typeof v === "number";

function typeOfValues(values: (string | number)[]): string {
  if (values.every((v) => typeof v === "string")) return "string";
  return values.every((v) => typeof v === "number" && Number.isInteger(v)) ? "integer" : "number";
}

/**
 * The main type, ignoring "null" in `type: [T, "null"]`, `enum: [..., null]` and
 * `anyOf: [T, {type: null}]`. Alternatives that are all `const`s (schemars'
 * shape for enum variants with doc comments) become an `enum`.
 */
export function mainType(s: JsonSchema, root: JsonSchema): { type?: string; schema: JsonSchema; nullable: boolean } {
  if (s.enum && s.enum.includes(null)) {
    return { ...mainType({ ...s, enum: s.enum.filter((e) => e !== null) }, root), nullable: true };
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== "null");
    return { type: types.length === 1 ? types[0] : undefined, schema: s, nullable: s.type.includes("null") };
  }
  const alts = s.anyOf ?? s.oneOf;
  if (!s.type && alts) {
    const resolved = alts.map((a) => deref(a, root));
    const isNull = (a: JsonSchema) => a.type === "null" || (a.const === null && a.type === undefined);
    const nonNull = resolved.filter((a) => !isNull(a));
    const nullable = nonNull.length < resolved.length;
    const { anyOf: _a, oneOf: _o, ...outer } = s;
    if (nonNull.length > 0 && nonNull.every((a) => isScalar(a.const))) {
      const values = nonNull.map((a) => a.const as string | number);
      const type = typeOfValues(values);
      return { type, schema: { ...outer, type, enum: values }, nullable };
    }
    if (nonNull.length === 1 && nullable) {
      // The field's own annotations (description, default, secret markers) win over the referenced type's.
      const inner = mainType({ ...nonNull[0], ...outer }, root);
      return { ...inner, nullable: true };
    }
    return { type: undefined, schema: s, nullable: false };
  }
  return { type: s.type, schema: s, nullable: false };
}

export function isSecret(s: JsonSchema): boolean {
  return Boolean(s.writeOnly || s["x-secret"] || s.secret || s.format === "password");
}

/** The schema of a map's values when it is an object of free keys (`additionalProperties: {…}`), else undefined. */
function mapValues(s: JsonSchema, root: JsonSchema): JsonSchema | undefined {
  if (s.properties || typeof s.additionalProperties !== "object") return undefined;
  return mainType(deref(s.additionalProperties, root), root).schema;
}

export function fieldKind(raw: JsonSchema, root: JsonSchema): FieldKind {
  const { type, schema: s } = mainType(deref(raw, root), root);
  if (s.enum && s.enum.length > 0 && s.enum.every(isScalar)) return "enum";
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
      if (items?.schema.enum && items.schema.enum.length > 0 && items.schema.enum.every(isScalar)) return "enum-list";
      if (items?.type !== "string") return "json";
      return isSecret(s) || isSecret(items.schema) ? "secret-list" : "string-list";
    }
    case "object": {
      if (s.properties) return "object";
      const values = mapValues(s, root);
      return values && values.type === "string" && !values.enum ? "string-map" : "json";
    }
    default:
      return "json";
  }
}

const ACRONYMS = new Set(["url", "uri", "json", "id", "api", "http", "https", "tls", "ssl", "smtp", "mqtt", "ip", "iv", "html", "ttl", "tcp"]);
/** Words with their own spelling. */
const SPELLINGS: Record<string, string> = { ids: "IDs", qos: "QoS", ms: "ms" };

export function labelFor(key: string, s: JsonSchema): string {
  if (s.title) return s.title;
  const words = key
    .replace(/[_-]+/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .trim()
    .split(/\s+/)
    .map((w) => SPELLINGS[w.toLowerCase()] ?? (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : w));
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
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems)
      errors[here] = s.minItems === 1 ? "Add at least one." : `Add at least ${s.minItems}.`;
    else if (s.maxItems !== undefined && value.length > s.maxItems) errors[here] = `Use at most ${s.maxItems}.`;
    if (s.items) value.forEach((item, i) => Object.assign(errors, validateConfig(s.items!, item, root, at(i))));
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
    } else if (typeof s.additionalProperties === "object" && typeOk("object", value)) {
      for (const [k, v] of Object.entries(obj)) {
        if (!s.properties?.[k]) Object.assign(errors, validateConfig(s.additionalProperties, v, root, at(k)));
      }
    }
  }
  return errors;
}
