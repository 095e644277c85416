// @beacon-spear/plugin-sdk — the JavaScript SDK for Beacon Spear plugins.
//
// Core (every world): defineChannel, defineFilter, Verdict, config helpers,
// errors, log and kv. HTTP lives in '@beacon-spear/plugin-sdk/http' so that
// only plugins that import it get the `http` capability. See ../README.md.

export { defineChannel, defineFilter, Verdict } from './plugin.js';
export { checkHttpUrl, conform, joinPath, parseConfig } from './config.js';
export {
  ConfigError,
  FetchError,
  KvError,
  SNIPPET_MAX_CHARS,
  SendError,
  configError,
  responseJson,
  snippet,
} from './errors.js';
export { kv } from './kv.js';
export { log } from './log.js';
