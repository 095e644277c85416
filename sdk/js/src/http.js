// HTTP over the host's buffered `fetch` (channel senders only). Importing
// this module is what gives a component the `http` capability.
//
//   import { http } from '@beacon-spear/plugin-sdk/http';
//   const response = http.post(config.url, { json: payload, timeoutMs: 10_000 });
//   return response.intoOutcome(); // 2xx ok; 408/425/429/5xx retryable; else permanent
//
// The host enforces the outbound policy (http/https only, no userinfo, no
// loopback/private destinations unless allowed, timeout and body caps). A
// refusal, timeout or connection error is thrown as a FetchError; thrown out
// of `send` it becomes a SendError (timeout/connection retryable, the rest
// permanent).

import { fetch as hostFetch } from '#host/http';
import { FetchError, SendError, responseJson, snippet, toText, truncateChars, witPayload } from './errors.js';

const encoder = new TextEncoder();

/** 2xx `success`; 408/425/429/5xx `retryable`; everything else `permanent`. */
export function classifyStatus(status) {
  if (status >= 200 && status <= 299) return 'success';
  if (status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599)) return 'retryable';
  return 'permanent';
}

/**
 * A `Retry-After` value given as delay-seconds, in milliseconds; `undefined`
 * for anything else (HTTP-date values are not supported).
 */
export function parseRetryAfter(value) {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (!/^[0-9]+$/.test(v)) return undefined;
  return Math.min(Number(v) * 1000, Number.MAX_SAFE_INTEGER);
}

/**
 * The SendError for a non-2xx answer: `HTTP <status>: <first 200 chars>`,
 * with status, snippet (1024 chars) and JSON; retryable ones carry
 * `retryAfterMs`.
 */
export function statusError(cls, status, body, retryAfterMs) {
  const text = truncateChars(toText(body).trim(), 200);
  const message = text === '' ? `HTTP ${status}` : `HTTP ${status}: ${text}`;
  const error = cls === 'retryable' ? SendError.retryable(message).withRetryAfterMs(retryAfterMs) : SendError.permanent(message);
  return error.withStatus(status).withBody(body);
}

function headerPairs(headers) {
  if (!headers) return [];
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  return entries.map(([name, value]) => [String(name), String(value)]);
}

/** A response from the host: status, lower-case header pairs, body bytes. */
export class Response {
  constructor({ status, headers = [], body = new Uint8Array() }) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /** The first value of header `name` (case-insensitive), or `undefined`. */
  header(name) {
    const lower = name.toLowerCase();
    const found = this.headers.find(([n]) => n.toLowerCase() === lower);
    return found ? found[1] : undefined;
  }

  /** The body as text (lossy UTF-8). */
  text() {
    return toText(this.body);
  }

  /** The body parsed as JSON (throws SyntaxError when it is not). */
  json() {
    return JSON.parse(this.text());
  }

  /** `success`, `retryable` or `permanent`; see classifyStatus. */
  class() {
    return classifyStatus(this.status);
  }

  /** `Retry-After` in milliseconds, when given as delay-seconds. */
  retryAfterMs() {
    return parseRetryAfter(this.header('retry-after'));
  }

  /** Status, capped snippet and parsed JSON: the WIT `send-outcome`. */
  outcome() {
    return { httpStatus: this.status, responseSnippet: snippet(this.body), responseJson: responseJson(this.body) };
  }

  /** Returns this response for 2xx; throws the matching SendError otherwise. */
  errorForStatus() {
    const cls = this.class();
    if (cls === 'success') return this;
    throw statusError(cls, this.status, this.body, this.retryAfterMs());
  }

  /** errorForStatus() then outcome(): the usual end of a `send`. */
  intoOutcome() {
    return this.errorForStatus().outcome();
  }
}

/**
 * Perform one request through the host and return a Response (any status).
 * Throws FetchError when no response arrived.
 *
 * @param {{method?: string, url: string, headers?: Record<string,string>|[string,string][],
 *          body?: string|Uint8Array, json?: unknown, timeoutMs?: number, followRedirects?: boolean}} req
 */
export function request(req) {
  const headers = headerPairs(req.headers);
  let body = req.body;
  if (req.json !== undefined) {
    if (body !== undefined) throw new TypeError('give either body or json, not both');
    body = JSON.stringify(req.json);
    if (!headers.some(([n]) => n.toLowerCase() === 'content-type')) headers.push(['content-type', 'application/json']);
  }
  if (typeof body === 'string') body = encoder.encode(body);
  const witRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    url: req.url,
    headers,
    body: body ?? undefined,
    timeoutMs: req.timeoutMs === undefined || req.timeoutMs === null ? undefined : Math.max(0, Math.floor(req.timeoutMs)),
    followRedirects: req.followRedirects ?? false,
  };
  let answer;
  try {
    answer = hostFetch(witRequest);
  } catch (err) {
    const payload = witPayload(err);
    if (payload && typeof payload === 'object' && 'tag' in payload) throw FetchError.fromWit(payload);
    throw err;
  }
  return new Response(answer);
}

/** `request` shorthands: `http.get(url, opts)`, `http.post(url, opts)`, ... */
export const http = {
  request,
  get: (url, opts = {}) => request({ ...opts, method: 'GET', url }),
  post: (url, opts = {}) => request({ ...opts, method: 'POST', url }),
  put: (url, opts = {}) => request({ ...opts, method: 'PUT', url }),
  patch: (url, opts = {}) => request({ ...opts, method: 'PATCH', url }),
  delete: (url, opts = {}) => request({ ...opts, method: 'DELETE', url }),
};

export { FetchError, SendError };
