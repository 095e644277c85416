// defineChannel / defineFilter: turn a plain plugin definition into the
// object a `beacon:plugin@0.3.0` world exports (`channel-api` or
// `filter-api`: describe, validateConfig, send / evaluate).
//
//   export const channelApi = defineChannel({ id, name, version, description,
//                                             configSchema, validate, send });
//   export const filterApi = defineFilter({ ..., evaluate });
//
// The export name matters: componentize-js binds the `channel-api`
// interface to the module export `channelApi` and `filter-api` to
// `filterApi`.

import { checkSchema, parseConfig, schemaText } from './config.js';
import { ConfigError, FetchError, KvError, SendError } from './errors.js';
import { withBucket } from './kv.js';
import { log } from './log.js';
import '#host/runtime';

/** Where the original definition hangs on the exported object (for the test harness). */
export const DEFINITION = Symbol.for('beacon-spear.plugin-definition');

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

function checkDefinition(def, kind, fn) {
  if (!def || typeof def !== 'object') throw new TypeError(`define${kind}: expected a definition object`);
  if (typeof def.id !== 'string' || !ID.test(def.id)) {
    throw new TypeError(`define${kind}: id must be lowercase ASCII letters, digits and '-', got ${JSON.stringify(def.id)}`);
  }
  if (typeof def.version !== 'string' || !SEMVER.test(def.version)) {
    throw new TypeError(`define${kind}: version must be a semver string such as 1.2.0, got ${JSON.stringify(def.version)}`);
  }
  for (const key of ['name', 'description']) {
    if (typeof def[key] !== 'string' || def[key].trim() === '') throw new TypeError(`define${kind}: ${key} must be a non-empty string`);
  }
  if (typeof def[fn] !== 'function') throw new TypeError(`define${kind}: ${fn} must be a function`);
  if (def.validate !== undefined && typeof def.validate !== 'function') throw new TypeError(`define${kind}: validate must be a function`);
  const schema = def.configSchema ?? { type: 'object' };
  checkSchema(schema);
  return schema;
}

function info(def, kind, schema) {
  return {
    id: def.id,
    name: def.name,
    version: def.version,
    kind,
    description: def.description,
    configSchema: schemaText(schema),
  };
}

function errorText(err) {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

function describeThrown(err) {
  if (!(err instanceof Error)) return errorText(err);
  return err.stack ? `${err.name}: ${err.message}\n${err.stack}` : `${err.name}: ${err.message}`;
}

function toConfigError(err) {
  if (err instanceof ConfigError) return err;
  log.error(`validate threw ${describeThrown(err)}`);
  return new ConfigError('', `config rejected: ${errorText(err)}`);
}

function u16(n) {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : undefined;
}

function u64(n) {
  if (typeof n === 'bigint') return n >= 0n ? n : undefined;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

function optText(s) {
  return typeof s === 'string' ? s : undefined;
}

/** Any thrown value -> WIT `send-error`. */
export function toSendError(err) {
  let error;
  if (err instanceof SendError) error = err;
  else if (err instanceof FetchError) error = err.toSendError();
  else if (err instanceof ConfigError) error = SendError.permanent(`invalid channel config: ${err.message}`);
  else if (err instanceof KvError) error = new SendError(err.kind === 'unavailable' ? 'retryable' : 'permanent', `state: ${err.message}`);
  else {
    log.error(`send threw ${describeThrown(err)}`);
    error = SendError.permanent(err instanceof Error ? `plugin error: ${err.message}` : errorText(err));
  }
  const wit = error.toWit();
  wit.val.message = String(wit.val.message);
  wit.val.retryAfterMs = u64(wit.val.retryAfterMs);
  wit.val.httpStatus = u16(wit.val.httpStatus);
  wit.val.responseSnippet = optText(wit.val.responseSnippet);
  wit.val.responseJson = optText(wit.val.responseJson);
  return wit;
}

/** What `send` returned -> WIT `send-outcome`. */
function toOutcome(result) {
  if (result === undefined || result === null) return {};
  if (typeof result.intoOutcome === 'function') result = result.intoOutcome(); // a Response
  return {
    httpStatus: u16(result.httpStatus),
    responseSnippet: optText(result.responseSnippet),
    responseJson: optText(result.responseJson),
  };
}

// Thrown out of an export, an object with an own `payload` property becomes
// the `err` case of the WIT result (componentize-js convention).
function witErr(payload) {
  return { payload };
}

/**
 * Define a channel sender (world `channel-sender`). Export the result as
 * `channelApi`.
 *
 * - `configSchema`: JSON Schema (draft 2020-12) of the config object; see
 *   config.js for the enforced subset. Mark secrets with
 *   `"x-secret": true, "writeOnly": true`.
 * - `validate(config)`: optional checks beyond the schema; throw
 *   `new ConfigError(field, message)`. Runs in validateConfig and before
 *   every send.
 * - `send(config, payloadJson, message)`: deliver; return a send-outcome
 *   (`{httpStatus, responseSnippet, responseJson}`, e.g. from
 *   `response.intoOutcome()`), a Response, or nothing; throw SendError (or
 *   let a FetchError/ConfigError escape). May be async. `kv` reaches the
 *   channel's bucket.
 */
export function defineChannel(def) {
  const schema = checkDefinition(def, 'Channel', 'send');
  const parse = (configJson) => {
    const config = parseConfig(configJson, schema);
    def.validate?.(config);
    return config;
  };
  return {
    describe() {
      return info(def, 'channel', schema);
    },
    validateConfig(configJson) {
      try {
        parse(configJson);
      } catch (err) {
        throw witErr(toConfigError(err).toWit());
      }
    },
    async send(configJson, payloadJson, message, state) {
      try {
        let config;
        try {
          config = parse(configJson);
        } catch (err) {
          throw toConfigError(err);
        }
        return toOutcome(await withBucket(state, () => def.send(config, payloadJson, message)));
      } catch (err) {
        throw witErr(toSendError(err));
      }
    },
    [DEFINITION]: def,
  };
}

/** Verdict helpers for filters: `return Verdict.block('duplicate of ...')`. */
export const Verdict = {
  pass(note) {
    return { matched: true, note };
  },
  block(note) {
    return { matched: false, note };
  },
};

function toVerdict(result) {
  if (typeof result === 'boolean') return { matched: result, note: undefined };
  if (result && typeof result === 'object' && typeof result.matched === 'boolean') {
    return { matched: result.matched, note: optText(result.note) };
  }
  throw new TypeError(`evaluate must return a boolean or {matched, note}, got ${errorText(result)}`);
}

/**
 * Define a filter (world `filter`; no network). Export the result as
 * `filterApi`.
 *
 * - `evaluate(config, message)`: return a boolean or a verdict
 *   (`Verdict.pass(note?)`, `Verdict.block(note)`); throw to say "could not
 *   decide" (the rule does not match and the user sees the message). Called
 *   once per rule; `kv` reaches that rule's bucket. May be async. Keep
 *   nothing in module state between calls.
 * - `validate(config)`: optional; runs in validateConfig only (as in the Rust
 *   SDK); evaluate gets configs that passed the schema.
 */
export function defineFilter(def) {
  const schema = checkDefinition(def, 'Filter', 'evaluate');
  return {
    describe() {
      return info(def, 'filter', schema);
    },
    validateConfig(configJson) {
      try {
        def.validate?.(parseConfig(configJson, schema));
      } catch (err) {
        throw witErr(toConfigError(err).toWit());
      }
    },
    async evaluate(configJsons, states, message) {
      const results = [];
      for (let i = 0; i < configJsons.length; i += 1) {
        try {
          let config;
          try {
            config = parseConfig(configJsons[i], schema);
          } catch (err) {
            throw new Error(`invalid filter config: ${errorText(err)}`);
          }
          const verdict = await withBucket(states[i], () => def.evaluate(config, message));
          results.push({ tag: 'ok', val: toVerdict(verdict) });
        } catch (err) {
          if (!(err instanceof Error) || err.name === 'TypeError' || err.name === 'ReferenceError') {
            log.error(`evaluate threw ${describeThrown(err)}`);
          }
          results.push({ tag: 'err', val: errorText(err) });
        }
      }
      return results;
    },
    [DEFINITION]: def,
  };
}
