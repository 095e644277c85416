// Test harness: run a plugin's exports under plain `node --test`, without
// building a component. Under Node the SDK's host imports resolve to test
// doubles (package.json "imports", condition `default`): `fetch` answers
// from mockFetch's handler, `log` records lines, and `kv` buckets live in
// memory.
//
//   import { test } from 'node:test';
//   import assert from 'node:assert/strict';
//   import * as testing from '@beacon-spear/plugin-sdk/testing';
//   import { channelApi } from '../src/plugin.js';
//
//   test('retries a 503', async () => {
//     testing.reset();
//     testing.mockFetch(() => testing.response(503, '', { 'retry-after': '5' }));
//     const r = await testing.send(channelApi, { config: { url: 'https://example.com/x' }, payload: { a: 1 } });
//     assert.equal(r.error.kind, 'retryable');
//     assert.equal(r.error.retryAfterMs, 5000);
//   });

import { state, resetState } from './state.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------- fetch

function witError(tag, val) {
  const err = new Error(`${tag}${val === undefined ? '' : `: ${val}`} (see error.payload)`);
  Object.defineProperty(err, 'payload', { value: { tag, val } });
  return err;
}

/** A request as the handler and `requests()` see it. */
function viewRequest(req) {
  const body = req.body;
  return {
    ...req,
    header(name) {
      const found = req.headers.find(([n]) => n.toLowerCase() === name.toLowerCase());
      return found ? found[1] : undefined;
    },
    text: body === undefined ? undefined : decoder.decode(body),
    json() {
      return JSON.parse(decoder.decode(body ?? new Uint8Array()));
    },
  };
}

function toWitResponse(res) {
  if (!res || typeof res.status !== 'number') throw new TypeError('a mockFetch handler must return testing.response(status, body, headers)');
  const headers = Array.isArray(res.headers) ? res.headers : Object.entries(res.headers ?? {});
  let body = res.body ?? new Uint8Array();
  if (typeof body === 'string') body = encoder.encode(body);
  else if (!(body instanceof Uint8Array)) body = encoder.encode(JSON.stringify(body));
  return { status: res.status, headers: headers.map(([n, v]) => [String(n).toLowerCase(), String(v)]), body };
}

/**
 * Answer every `fetch` with `handler(request)`. The request has `method`,
 * `url`, `headers` (pairs), `header(name)`, `body` (bytes), `text`, `json()`,
 * `timeoutMs`, `followRedirects`. Return `response(...)` or throw
 * `fetchError(...)`.
 */
export function mockFetch(handler) {
  state.fetchHandler = (req) => toWitResponse(handler(viewRequest(req)));
}

/** A mock response: body as string, bytes or a JSON-able value; headers as object or pairs. */
export function response(status, body = '', headers = {}) {
  return { status, body, headers };
}

/**
 * A fetch failure to throw from a mockFetch handler: `policy-denied`,
 * `timeout`, `connection`, `body-too-large`, `invalid-request`.
 */
export function fetchError(kind, detail) {
  return witError(kind, kind === 'body-too-large' ? BigInt(detail ?? 0) : detail);
}

/** Requests made since the last reset(), oldest first. */
export function requests() {
  return state.requests.map(viewRequest);
}

// ---------------------------------------------------------------- log

/** Log lines (`{level, message}`) since the last call, and forget them. */
export function takeLogs() {
  const logs = state.logs;
  state.logs = [];
  return logs;
}

// ---------------------------------------------------------------- kv

const MAX_KEY_BYTES = 256;
const MAX_VALUE_BYTES = 16 * 1024;
const MAX_KEYS = 10_000;

function now() {
  return Date.now() + state.clockOffsetMs;
}

/** An in-memory `bucket` with the host's rules (key/value sizes, TTLs, counters, quota). */
export class MockBucket {
  constructor() {
    this.entries = new Map();
  }

  live(key) {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt !== undefined && entry.expiresAt <= now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  checkKey(key) {
    const size = encoder.encode(key).length;
    if (size < 1 || size > MAX_KEY_BYTES) throw witError('invalid', `key must be 1-${MAX_KEY_BYTES} bytes, got ${size}`);
  }

  checkValue(value) {
    if (value.length > MAX_VALUE_BYTES) throw witError('invalid', `value must be at most ${MAX_VALUE_BYTES} bytes, got ${value.length}`);
  }

  checkRoom(key) {
    if (this.live(key)) return;
    for (const k of [...this.entries.keys()]) this.live(k);
    if (this.entries.size >= MAX_KEYS) throw witError('quota-exceeded', `bucket holds ${MAX_KEYS} live keys`);
  }

  expiry(ttlSeconds) {
    return ttlSeconds === undefined || ttlSeconds === null ? undefined : now() + ttlSeconds * 1000;
  }

  get(key) {
    this.checkKey(key);
    const entry = this.live(key);
    if (!entry) return undefined;
    return entry.counter !== undefined ? encoder.encode(entry.counter.toString()) : entry.value.slice();
  }

  set(key, value, ttlSeconds) {
    this.checkKey(key);
    this.checkValue(value);
    this.checkRoom(key);
    this.entries.set(key, { value: value.slice(), expiresAt: this.expiry(ttlSeconds) });
  }

  add(key, value, ttlSeconds) {
    this.checkKey(key);
    this.checkValue(value);
    if (this.live(key)) return false;
    this.checkRoom(key);
    this.entries.set(key, { value: value.slice(), expiresAt: this.expiry(ttlSeconds) });
    return true;
  }

  increment(key, delta, ttlSeconds) {
    this.checkKey(key);
    const entry = this.live(key);
    if (!entry) {
      this.checkRoom(key);
      this.entries.set(key, { counter: BigInt(delta), expiresAt: this.expiry(ttlSeconds) });
      return BigInt(delta);
    }
    let current = entry.counter;
    if (current === undefined) {
      const text = decoder.decode(entry.value).trim();
      if (!/^-?[0-9]+$/.test(text)) throw witError('invalid', `key ${key} does not hold a counter`);
      current = BigInt(text);
    }
    entry.counter = BigInt.asIntN(64, current + BigInt(delta));
    delete entry.value;
    return entry.counter;
  }

  delete(key) {
    this.checkKey(key);
    const had = Boolean(this.live(key));
    this.entries.delete(key);
    return had;
  }
}

/** The in-memory bucket of scope `name` (default: the current scope). */
export function bucket(name = state.kvScope) {
  if (!state.buckets.has(name)) state.buckets.set(name, new MockBucket());
  return state.buckets.get(name);
}

/** Switch the bucket `send` / `evaluate` get (like a different channel or rule). */
export function setKvScope(name) {
  state.kvScope = name;
}

/** Age every key by `ms` milliseconds (TTLs expire). */
export function advanceKvClock(ms) {
  state.clockOffsetMs += ms;
}

/** Forget mock fetch handler, requests, logs, buckets, scope and clock. */
export function reset() {
  resetState();
}

// ---------------------------------------------------------------- calls

let counter = 0;
function hexId() {
  counter += 1;
  return (Date.now().toString(16) + counter.toString(16)).padStart(32, '0').slice(-32);
}

/**
 * A complete WIT `message` with defaults (body "Test message", priority 3,
 * no title/group/url, empty tags/extras). `extras` may be an object.
 */
export function message(overrides = {}) {
  const extras = overrides.extras && !Array.isArray(overrides.extras) ? Object.entries(overrides.extras) : overrides.extras ?? [];
  return {
    id: hexId(),
    receivedAt: new Date(now()).toISOString(),
    title: undefined,
    body: 'Test message',
    group: undefined,
    priority: 3,
    tags: [],
    url: undefined,
    endpointId: 'e'.repeat(32),
    endpointName: 'test',
    ...overrides,
    extras,
  };
}

function jsonText(value, fallback) {
  if (value === undefined) return fallback;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function payloadOf(err) {
  if (err && typeof err === 'object' && Object.prototype.hasOwnProperty.call(err, 'payload')) return err.payload;
  throw err; // the export itself broke: a trap in a component
}

/** `describe()`, with `schema` (the parsed configSchema) added. */
export function describe(api) {
  const info = api.describe();
  return { ...info, schema: JSON.parse(info.configSchema) };
}

/**
 * `validateConfig` with a config object (or JSON text): `null` when
 * accepted, else the WIT `config-error` `{field, message}`.
 */
export function validateConfig(api, config) {
  try {
    api.validateConfig(jsonText(config, '{}'));
    return null;
  } catch (err) {
    return payloadOf(err);
  }
}

/**
 * `send` as the host calls it. `config` and `payload` are objects or JSON
 * text (payload default `{}`); `message` is completed with message().
 * Resolves to `{ok: true, outcome}` or `{ok: false, error: {kind, message,
 * retryAfterMs, httpStatus, responseSnippet, responseJson}}`.
 */
export async function send(api, { config = {}, payload, message: msg = {} } = {}) {
  state.fetchAllowed = true;
  try {
    const outcome = await api.send(jsonText(config, '{}'), jsonText(payload, '{}'), message(msg), bucket());
    return { ok: true, outcome };
  } catch (err) {
    const { tag, val } = payloadOf(err);
    return { ok: false, error: { kind: tag, ...val } };
  } finally {
    state.fetchAllowed = false;
  }
}

/**
 * `evaluate` as the host calls it, with one config per rule (objects or JSON
 * text). Each rule gets the bucket of `scopes[i]` (default: the current
 * scope). Resolves to one `{ok: true, matched, note}` or `{ok: false, error}`
 * per config.
 */
export async function evaluate(api, configs, msg = {}, { scopes } = {}) {
  const states = configs.map((_, i) => bucket(scopes?.[i] ?? state.kvScope));
  const results = await api.evaluate(configs.map((c) => jsonText(c, '{}')), states, message(msg));
  return results.map((r) => (r.tag === 'ok' ? { ok: true, ...r.val } : { ok: false, error: r.val }));
}
