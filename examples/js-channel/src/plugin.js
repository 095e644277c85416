// js-webhook: example channel plugin in JavaScript.
//
// POSTs the rule's rendered payload template, unchanged, as the JSON body of
// a request to `config.url` (with an optional bearer token). When the rule
// has no template (it renders to nothing or `{}`), a JSON summary of the
// message is sent instead. Status handling is the SDK default: 2xx ok;
// 408/425/429/5xx retryable (honouring Retry-After); other statuses
// permanent. Built with `npm run build` into dist/js_webhook.wasm.

import { checkHttpUrl, ConfigError, defineChannel, log, SendError } from '@beacon-spear/plugin-sdk';
import { http } from '@beacon-spear/plugin-sdk/http';

export const VERSION = '0.1.0';

/** The config's JSON Schema: the dashboard draws its form from it. */
export const configSchema = {
  type: 'object',
  properties: {
    url: { type: 'string', description: 'Absolute http(s) URL to POST to.' },
    token: {
      type: 'string',
      description: 'Optional bearer token, sent as `Authorization: Bearer <token>`.',
      'x-secret': true,
      writeOnly: true,
    },
    timeout_ms: {
      type: 'integer',
      description: 'Request timeout in milliseconds (the host caps it).',
      minimum: 100,
      maximum: 120000,
    },
  },
  required: ['url'],
  additionalProperties: false,
};

/** Checks beyond the schema (the schema already checked types and ranges). */
export function validate(config) {
  checkHttpUrl('url', config.url);
  if (config.token !== undefined && /[\r\n\0]/.test(config.token)) {
    throw new ConfigError('token', 'must not contain line breaks');
  }
}

/**
 * The JSON text to send (pure): the rendered template, or a description of
 * the message when the rule has no template.
 */
export function bodyFor(payloadJson, message) {
  let template = {};
  if (payloadJson.trim() !== '') {
    try {
      template = JSON.parse(payloadJson);
    } catch (err) {
      throw SendError.permanent(`the payload template did not render to valid JSON: ${err.message}`);
    }
  }
  const empty = template !== null && typeof template === 'object' && !Array.isArray(template) && Object.keys(template).length === 0;
  if (!empty) return JSON.stringify(template);
  return JSON.stringify({
    id: message.id,
    received_at: message.receivedAt,
    title: message.title ?? null,
    body: message.body,
    group: message.group ?? null,
    priority: message.priority,
    tags: message.tags,
    url: message.url ?? null,
    extras: Object.fromEntries(message.extras),
    endpoint: { id: message.endpointId, name: message.endpointName },
  });
}

/** The request to make (pure; `send` only adds the network call). */
export function buildRequest(config, body) {
  const headers = { 'content-type': 'application/json', 'user-agent': `beacon-js-webhook/${VERSION}` };
  if (config.token) headers.authorization = `Bearer ${config.token}`;
  return { method: 'POST', url: config.url, headers, body, timeoutMs: config.timeout_ms };
}

export const channelApi = defineChannel({
  id: 'js-webhook',
  name: 'JS webhook (example)',
  version: VERSION,
  description: 'Example JavaScript plugin: POSTs the rule\'s rendered payload as JSON to a URL (unsigned).',
  configSchema,
  validate,
  send(config, payloadJson, message) {
    log.info(`delivering ${message.id} to ${new URL(config.url).host}`); // never log the token
    const response = http.request(buildRequest(config, bodyFor(payloadJson, message)));
    log.debug(`answer: HTTP ${response.status}`);
    return response.intoOutcome();
  },
});
