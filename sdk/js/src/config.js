// Config parsing against the plugin's JSON Schema, with errors naming the
// field as a JSON path (`url`, `headers.Authorization`, `device_keys[1]`).
//
// The JS SDK enforces a small subset of JSON Schema, enough for plugin
// configs: type, properties, required, additionalProperties, items, enum,
// const, default, minimum/maximum, exclusiveMinimum/exclusiveMaximum,
// minLength/maxLength, pattern, minItems/maxItems. Annotations (title,
// description, examples, x-secret, writeOnly, format, ...) are passed through
// to `describe` untouched. Composition keywords (anyOf, oneOf, allOf, not,
// if/then/else, $ref, ...) are refused by defineChannel/defineFilter: check
// such rules in `validate` instead.

import { ConfigError } from './errors.js';

const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

const UNSUPPORTED = [
  'anyOf', 'oneOf', 'allOf', 'not', 'if', 'then', 'else', '$ref', '$dynamicRef',
  'patternProperties', 'propertyNames', 'dependentRequired', 'dependentSchemas',
  'prefixItems', 'contains', 'unevaluatedProperties', 'unevaluatedItems', 'uniqueItems',
  'multipleOf', 'minProperties', 'maxProperties',
];

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean', 'null']);

/** Append a property name to a JSON path (`''` + `a` = `a`, `x` + `a` = `x.a`). */
export function joinPath(parent, name) {
  return parent ? `${parent}.${name}` : String(name);
}

function indexPath(parent, index) {
  return `${parent}[${index}]`;
}

/**
 * Check that a schema only uses keywords the SDK enforces; throws a TypeError
 * naming the keyword and where it is (a programming error, found by the
 * plugin's own tests).
 */
export function checkSchema(schema, path = '') {
  if (schema === true || schema === false) return;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new TypeError(`configSchema${path ? ` at ${path}` : ''} must be an object`);
  }
  for (const key of UNSUPPORTED) {
    if (key in schema) {
      throw new TypeError(
        `configSchema uses \`${key}\`${path ? ` at ${path}` : ''}, which the JS SDK does not enforce; check it in validate() instead`,
      );
    }
  }
  for (const t of typesOf(schema) ?? []) {
    if (!TYPES.has(t)) throw new TypeError(`configSchema has unknown type \`${t}\`${path ? ` at ${path}` : ''}`);
  }
  for (const [name, sub] of Object.entries(schema.properties ?? {})) checkSchema(sub, joinPath(path, name));
  if (typeof schema.additionalProperties === 'object') checkSchema(schema.additionalProperties, joinPath(path, '*'));
  if (schema.items !== undefined) checkSchema(schema.items, indexPath(path, '*'));
}

/** The schema as `describe` reports it: `$schema` added when missing. */
export function schemaText(schema) {
  const withDialect = schema.$schema ? schema : { $schema: SCHEMA_DIALECT, ...schema };
  return JSON.stringify(withDialect);
}

function typesOf(schema) {
  if (schema.type === undefined) return undefined;
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function typeName(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value, type) {
  switch (type) {
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function describeValue(value) {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Check `value` against `schema` and return it with `default`s filled in
 * (a copy; the input is not modified). Throws ConfigError naming the field.
 */
export function conform(value, schema, path = '') {
  if (schema === true || schema === undefined) return value;
  if (schema === false) throw new ConfigError(path, 'is not allowed');
  const fail = (message) => {
    throw new ConfigError(path, message);
  };
  const types = typesOf(schema);
  if (types && !types.some((t) => matchesType(value, t))) {
    fail(`invalid type: expected ${types.join(' or ')}, got ${typeName(value)}`);
  }
  if ('const' in schema && JSON.stringify(value) !== JSON.stringify(schema.const)) {
    fail(`must be ${describeValue(schema.const)}`);
  }
  if (schema.enum && !schema.enum.some((v) => JSON.stringify(v) === JSON.stringify(value))) {
    fail(`must be one of ${schema.enum.map(describeValue).join(', ')}, got ${describeValue(value)}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) fail(`must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) fail(`must be at most ${schema.maximum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
      fail(`must be greater than ${schema.exclusiveMinimum}`);
    }
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) {
      fail(`must be less than ${schema.exclusiveMaximum}`);
    }
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      fail(schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters long`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      fail(`must be at most ${schema.maxLength} characters long`);
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      fail(`must match the pattern ${schema.pattern}`);
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      fail(schema.minItems === 1 ? 'must not be empty' : `must have at least ${schema.minItems} items`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) fail(`must have at most ${schema.maxItems} items`);
    if (schema.items !== undefined) return value.map((item, i) => conform(item, schema.items, indexPath(path, i)));
    return value.slice();
  }
  if (matchesType(value, 'object') && (schema.properties || schema.required || 'additionalProperties' in schema)) {
    const props = schema.properties ?? {};
    for (const name of schema.required ?? []) {
      if (!(name in value)) throw new ConfigError(joinPath(path, name), `missing field \`${name}\``);
    }
    const out = {};
    for (const [name, sub] of Object.entries(props)) {
      if (name in value) {
        out[name] = conform(value[name], sub, joinPath(path, name));
      } else if (sub && typeof sub === 'object' && 'default' in sub) {
        out[name] = structuredCloneJson(sub.default);
      }
    }
    for (const [name, item] of Object.entries(value)) {
      if (name in props) continue;
      const extra = schema.additionalProperties;
      if (extra === false) {
        const known = Object.keys(props);
        throw new ConfigError(
          joinPath(path, name),
          `unknown field \`${name}\`${known.length ? `, expected one of ${known.map((k) => `\`${k}\``).join(', ')}` : ''}`,
        );
      }
      out[name] = conform(item, extra, joinPath(path, name));
    }
    return out;
  }
  return value;
}

function structuredCloneJson(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * Parse config JSON text and check it against `schema`; returns the config
 * with defaults filled in. Throws ConfigError naming the field.
 */
export function parseConfig(configJson, schema) {
  let value;
  try {
    value = JSON.parse(configJson);
  } catch (err) {
    throw new ConfigError('', `config is not valid JSON: ${err.message}`);
  }
  return conform(value, schema);
}

/**
 * Check that `value` is an absolute `http://` or `https://` URL with a host,
 * no userinfo, no whitespace and no fragment; throws ConfigError naming
 * `field`. (The host re-checks every request against its outbound policy;
 * this only catches mistakes early, in `validateConfig`.)
 */
export function checkHttpUrl(field, value) {
  const fail = (why) => {
    throw new ConfigError(field, why);
  };
  if (typeof value !== 'string') fail('must be a string');
  if (value === '') fail('must not be empty');
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(value)) fail('must not contain whitespace');
  const lower = value.toLowerCase();
  let rest;
  if (lower.startsWith('https://')) rest = value.slice(8);
  else if (lower.startsWith('http://')) rest = value.slice(7);
  else fail('must be an absolute http:// or https:// URL');
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  if (authority.includes('@')) fail('must not contain a user name or password');
  let host;
  let port;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) fail('has an unterminated IPv6 address');
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) fail('has an invalid port');
      port = after.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
    if (colon !== -1) port = authority.slice(colon + 1);
  }
  if (host === '') fail('must include a host name');
  if (port !== undefined && (!/^[0-9]+$/.test(port) || Number(port) > 65535)) fail('has an invalid port');
  if (value.includes('#')) fail('must not contain a fragment (#...)');
}
