// Error types shared by the SDK: ConfigError, SendError, FetchError, KvError,
// and the snippet/JSON helpers that record a response with an attempt.

/** Cap on `responseSnippet`, in characters (the Rust SDK's SNIPPET_MAX_CHARS). */
export const SNIPPET_MAX_CHARS = 1024;

const decoder = new TextDecoder('utf-8'); // lossy: invalid bytes become U+FFFD

/** Bytes (Uint8Array) or text as a string. */
export function toText(body) {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  return decoder.decode(body);
}

/** Truncate `text` to `max` characters (code points), adding `…` when cut. */
export function truncateChars(text, max) {
  let count = 0;
  for (let i = 0; i < text.length; ) {
    if (count === max) return `${text.slice(0, i)}…`;
    const cp = text.codePointAt(i);
    i += cp > 0xffff ? 2 : 1;
    count += 1;
  }
  return text;
}

/**
 * The start of a body as text, at most SNIPPET_MAX_CHARS characters (an
 * ellipsis marks the cut); `undefined` for an empty body.
 * @param {Uint8Array|string|undefined} body
 */
export function snippet(body) {
  const text = toText(body);
  return text === '' ? undefined : truncateChars(text, SNIPPET_MAX_CHARS);
}

/**
 * The body re-serialised as compact JSON when it parses as JSON; `undefined`
 * otherwise (including an empty body).
 * @param {Uint8Array|string|undefined} body
 */
export function responseJson(body) {
  const text = toText(body);
  if (text.trim() === '') return undefined;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * A config rejected by validation. `field` is the JSON path of the offending
 * value (`url`, `headers.Authorization`, `device_keys[1]`; `''` for the whole
 * document). Throw it from `validate`.
 */
export class ConfigError extends Error {
  /** @param {string} field @param {string} message */
  constructor(field, message) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'ConfigError';
    this.field = field ?? '';
    this.detail = message;
  }

  /** The WIT `config-error` record. */
  toWit() {
    return { field: this.field, message: this.detail };
  }
}

/** Shorthand for `new ConfigError(field, message)`. */
export function configError(field, message) {
  return new ConfigError(field, message);
}

/**
 * Why a `send` failed: `retryable` (the host retries with backoff, at least
 * `retryAfterMs` later) or permanent. Either way the status, response snippet
 * and JSON are recorded with the attempt.
 */
export class SendError extends Error {
  /**
   * @param {'retryable'|'permanent'} kind
   * @param {string} message
   * @param {{retryAfterMs?: number, httpStatus?: number, responseSnippet?: string, responseJson?: string}} [details]
   */
  constructor(kind, message, details = {}) {
    super(message);
    if (kind !== 'retryable' && kind !== 'permanent') {
      throw new TypeError(`SendError kind must be 'retryable' or 'permanent', got ${kind}`);
    }
    this.name = 'SendError';
    this.kind = kind;
    this.retryAfterMs = details.retryAfterMs;
    this.httpStatus = details.httpStatus;
    this.responseSnippet = details.responseSnippet;
    this.responseJson = details.responseJson;
  }

  /** A failure worth retrying later (timeouts, 5xx, 429, ...). */
  static retryable(message) {
    return new SendError('retryable', message);
  }

  /** A failure retrying will not fix (bad config, most 4xx, bad payload). */
  static permanent(message) {
    return new SendError('permanent', message);
  }

  get retryable() {
    return this.kind === 'retryable';
  }

  withStatus(status) {
    this.httpStatus = status;
    return this;
  }

  /** Set the snippet from text, capped at SNIPPET_MAX_CHARS (empty clears it). */
  withSnippet(text) {
    this.responseSnippet = snippet(text);
    return this;
  }

  withJson(json) {
    this.responseJson = json;
    return this;
  }

  /** Snippet and JSON from a response body. */
  withBody(body) {
    this.responseSnippet = snippet(body);
    this.responseJson = responseJson(body);
    return this;
  }

  /** Only meaningful on retryable errors (ignored by the host otherwise). */
  withRetryAfterMs(ms) {
    if (this.kind === 'retryable' && ms !== undefined && ms !== null) this.retryAfterMs = ms;
    return this;
  }

  /** The WIT `send-error` variant. */
  toWit() {
    return {
      tag: this.kind,
      val: {
        message: this.message,
        retryAfterMs: this.kind === 'retryable' ? this.retryAfterMs : undefined,
        httpStatus: this.httpStatus,
        responseSnippet: this.responseSnippet,
        responseJson: this.responseJson,
      },
    };
  }
}

const FETCH_ERROR_TEXT = {
  'policy-denied': (v) => `refused by outbound policy: ${v}`,
  timeout: () => 'request timed out',
  connection: (v) => `connection error: ${v}`,
  'body-too-large': (v) => `body larger than ${v} bytes`,
  'invalid-request': (v) => `invalid request: ${v}`,
};

/**
 * `fetch` failed without a response. `kind` is the WIT case
 * (`policy-denied`, `timeout`, `connection`, `body-too-large`,
 * `invalid-request`). Thrown out of `send`, it becomes a SendError:
 * retryable for `timeout`/`connection`, permanent otherwise.
 */
export class FetchError extends Error {
  constructor(kind, detail) {
    const text = FETCH_ERROR_TEXT[kind];
    super(text ? text(detail) : `fetch failed: ${kind}`);
    this.name = 'FetchError';
    this.kind = kind;
    this.detail = detail;
  }

  /** From the WIT `fetch-error` variant `{tag, val}`. */
  static fromWit(variant) {
    const val = typeof variant?.val === 'bigint' ? Number(variant.val) : variant?.val;
    return new FetchError(variant?.tag ?? 'connection', val);
  }

  get retryable() {
    return this.kind === 'timeout' || this.kind === 'connection';
  }

  toSendError() {
    return new SendError(this.retryable ? 'retryable' : 'permanent', this.message);
  }
}

/**
 * A `kv` call failed. `kind`: `invalid` (key/value), `quota-exceeded`
 * (bucket full), `unavailable` (no bucket in this call, or the database did
 * not answer).
 */
export class KvError extends Error {
  constructor(kind, detail) {
    super(`${kind === 'quota-exceeded' ? 'quota exceeded' : kind}: ${detail}`);
    this.name = 'KvError';
    this.kind = kind;
    this.detail = detail;
  }
}

/** The `{tag, val}` payload of an error thrown by a WIT import, if any. */
export function witPayload(err) {
  if (err && typeof err === 'object' && Object.prototype.hasOwnProperty.call(err, 'payload')) {
    return err.payload;
  }
  return undefined;
}
