// Key-value state that outlives a call, in the bucket the host hands to the
// current call: the channel's bucket during `send`, the rule's bucket during
// a filter's `evaluate` (one per config). `describe` and `validateConfig`
// have none: calls there throw KvError('unavailable').
//
// Keys are 1-256 bytes of UTF-8, values at most 16 KiB (strings are stored
// as UTF-8), at most 10,000 live keys per bucket; TTLs in whole seconds.

import { KvError, witPayload } from './errors.js';

let current; // the borrowed `bucket` resource of the running call

/** @internal Run `fn` with `bucket` as the current bucket (SDK wrappers and harness). */
export function withBucket(bucket, fn) {
  const previous = current;
  current = bucket;
  const restore = () => {
    current = previous;
  };
  let result;
  try {
    result = fn();
  } catch (err) {
    restore();
    throw err;
  }
  if (result && typeof result.then === 'function') return result.finally(restore);
  restore();
  return result;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(value) {
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  throw new TypeError('kv values are strings or Uint8Array');
}

function ttl(options) {
  const seconds = options?.ttlSeconds;
  if (seconds === undefined || seconds === null) return undefined;
  if (!Number.isFinite(seconds) || seconds < 0) throw new TypeError('ttlSeconds must be a non-negative number');
  return Math.min(Math.floor(seconds), 0xffffffff);
}

function call(method, ...args) {
  if (!current) throw new KvError('unavailable', 'no key-value bucket in this call (only send and evaluate get one)');
  try {
    return current[method](...args);
  } catch (err) {
    const payload = witPayload(err);
    if (payload && typeof payload === 'object' && 'tag' in payload) throw new KvError(payload.tag, payload.val);
    throw err;
  }
}

export const kv = {
  /** The value of a live key as bytes, or `undefined`. A counter reads as its decimal text. */
  get(key) {
    return call('get', key) ?? undefined;
  },
  /** The value of a live key as text (lossy UTF-8), or `undefined`. */
  getString(key) {
    const value = call('get', key);
    return value === undefined || value === null ? undefined : decoder.decode(value);
  },
  /** Set a key (replacing a value or counter). `{ttlSeconds}` omitted: kept until deleted. */
  set(key, value, options) {
    call('set', key, bytes(value), ttl(options));
  },
  /** Set a key only when absent or expired; `true` when this call set it. Atomic. */
  add(key, value, options) {
    return call('add', key, bytes(value), ttl(options));
  },
  /**
   * Add `delta` (default 1) to a counter and return the new value (a number).
   * An absent or expired key starts from 0 with the TTL; a live one keeps its
   * expiry (a fixed window opened by the first increment). Atomic.
   */
  increment(key, delta = 1, options) {
    return Number(call('increment', key, BigInt(delta), ttl(options)));
  },
  /** Remove a key; `true` when it was there. */
  delete(key) {
    return call('delete', key);
  },
};
