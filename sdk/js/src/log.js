// Logging over the host's `log` import. Lines end up in the host's
// structured log, tagged with the plugin id and the call. Never log secrets.
//
//   import { log } from '@beacon-spear/plugin-sdk';
//   log.info(`delivering ${message.id}`);
//   log('warn', 'something odd');

import { log as hostLog } from '#host/log';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

function text(parts) {
  return parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : safeJson(p))).join(' ');
}

function safeJson(value) {
  try {
    return typeof value === 'bigint' ? String(value) : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `log(level, ...parts)`; parts that are not strings are JSON-encoded. */
export function log(level, ...parts) {
  if (!LEVELS.includes(level)) throw new TypeError(`unknown log level ${level}`);
  hostLog(level, text(parts));
}

for (const level of LEVELS) {
  log[level] = (...parts) => hostLog(level, text(parts));
}
