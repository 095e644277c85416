//! The JavaScript project: an npm package with the JS SDK vendored
//! (`vendor/plugin-sdk`, installed as a packed copy through `.npmrc`
//! `install-links`), built with componentize-js by `npm run build`.

use super::{fill, Kind};

pub(super) fn files(name: &str, kind: Kind) -> Vec<(&'static str, String)> {
    let (source, test) = match kind {
        // `create` refuses adapters in this language before asking.
        Kind::Channel | Kind::Adapter => (CHANNEL_JS, CHANNEL_TEST),
        Kind::Filter => (FILTER_JS, FILTER_TEST),
    };
    vec![
        ("package.json", fill(PACKAGE_JSON, name, kind)),
        // A `file:` dependency is installed as a packed copy, so the SDK's
        // own dependencies (componentize-js, jco) land in this project.
        (".npmrc", "install-links=true\n".to_string()),
        ("src/plugin.js", fill(source, name, kind)),
        ("test/plugin.test.js", fill(test, name, kind)),
        ("README.md", fill(README, name, kind)),
        (".gitignore", "/node_modules\n/dist\n".to_string()),
    ]
}

const PACKAGE_JSON: &str = r#"{
  "name": "{{name}}",
  "version": "0.1.0",
  "private": true,
  "description": "A Beacon Spear {{kind}} plugin in JavaScript.",
  "type": "module",
  "engines": {
    "node": ">=20"
  },
  "scripts": {
    "build": "beacon-plugin-build src/plugin.js -o dist/{{artifact}}.wasm --wit vendor/wit/plugin.wit",
    "test": "node --test test/"
  },
  "devDependencies": {
    "@beacon-spear/plugin-sdk": "file:vendor/plugin-sdk"
  }
}
"#;

const CHANNEL_JS: &str = r#"// {{name}}: a channel plugin for Beacon Spear. It POSTs the rule's
// rendered payload template as JSON to a URL, with an optional bearer token.

import { checkHttpUrl, defineChannel, log } from '@beacon-spear/plugin-sdk';
import { http } from '@beacon-spear/plugin-sdk/http';

export const VERSION = '0.1.0';

/** The config's JSON Schema: the dashboard draws its form from it. */
export const configSchema = {
  type: 'object',
  properties: {
    url: { type: 'string', description: 'Where to POST, an absolute http(s) URL.' },
    token: {
      type: 'string',
      description: 'Sent as `Authorization: Bearer <token>` when set.',
      'x-secret': true,
      writeOnly: true,
    },
  },
  required: ['url'],
  additionalProperties: false,
};

export const channelApi = defineChannel({
  id: '{{name}}',
  name: '{{name}}',
  version: VERSION,
  description: 'POSTs the rendered payload as JSON to a URL.',
  configSchema,
  validate(config) {
    checkHttpUrl('url', config.url);
  },
  send(config, payloadJson, message) {
    log.debug(`sending message ${message.id}`); // never log the token
    const headers = { 'content-type': 'application/json' };
    if (config.token) headers.authorization = `Bearer ${config.token}`;
    // 2xx sent; 408/425/429/5xx retried (with Retry-After); other answers final.
    return http.request({ method: 'POST', url: config.url, headers, body: payloadJson }).intoOutcome();
  },
});
"#;

const CHANNEL_TEST: &str = r#"// The plugin's logic under plain Node, host calls mocked by the SDK's test
// harness (no component build needed): `npm test`.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import * as testing from '@beacon-spear/plugin-sdk/testing';
import { channelApi } from '../src/plugin.js';

beforeEach(() => testing.reset());

test('posts the payload with the token', async () => {
  testing.mockFetch(() => testing.response(200, '{}'));
  const sent = await testing.send(channelApi, {
    config: { url: 'https://hooks.example.com/in', token: 't0ken' },
    payload: { text: 'hi' },
  });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  const [request] = testing.requests();
  assert.equal(request.url, 'https://hooks.example.com/in');
  assert.equal(request.header('authorization'), 'Bearer t0ken');
  assert.equal(request.text, '{"text":"hi"}');
});

test('server errors are retried and bad URLs refused', async () => {
  testing.mockFetch(() => testing.response(503, ''));
  const failed = await testing.send(channelApi, { config: { url: 'https://h.example/x' }, payload: {} });
  assert.equal(failed.error.kind, 'retryable');
  assert.equal(testing.validateConfig(channelApi, { url: 'ftp://h/x' }).field, 'url');
});
"#;

const FILTER_JS: &str = r#"// {{name}}: a filter plugin for Beacon Spear. A rule using it matches
// messages whose body contains a word (case-insensitive).

import { ConfigError, defineFilter, Verdict } from '@beacon-spear/plugin-sdk';

export const VERSION = '0.1.0';

/** The config's JSON Schema: the dashboard draws its form from it. */
export const configSchema = {
  type: 'object',
  properties: {
    word: { type: 'string', description: 'The word the body must contain.' },
  },
  required: ['word'],
  additionalProperties: false,
};

export const filterApi = defineFilter({
  id: '{{name}}',
  name: '{{name}}',
  version: VERSION,
  description: 'Matches messages whose body contains a word.',
  configSchema,
  validate(config) {
    if (config.word.trim() === '') throw new ConfigError('word', 'must not be empty');
  },
  evaluate(config, message) {
    const found = message.body.toLowerCase().includes(config.word.toLowerCase());
    return found ? Verdict.pass(`the body contains "${config.word}"`) : Verdict.block();
  },
});
"#;

const FILTER_TEST: &str = r#"// The plugin's logic under plain Node (no component build needed): `npm test`.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import * as testing from '@beacon-spear/plugin-sdk/testing';
import { filterApi } from '../src/plugin.js';

beforeEach(() => testing.reset());

test('matches the word in any case', async () => {
  const [hit] = await testing.evaluate(filterApi, [{ word: 'disk' }], { body: 'DISK full' });
  assert.equal(hit.matched, true, JSON.stringify(hit));
  const [miss] = await testing.evaluate(filterApi, [{ word: 'disk' }], { body: 'all good' });
  assert.equal(miss.matched, false);
  assert.equal(testing.validateConfig(filterApi, { word: ' ' }).field, 'word');
});
"#;

const README: &str = r#"# {{name}}

A Beacon Spear {{kind}} plugin in JavaScript, made with `beacon plugin new`.

```sh
npm install && npm test && npm run build   # Node 20+; writes dist/{{artifact}}.wasm
beacon plugin check dist/{{artifact}}.wasm
```

`beacon plugin run dist/{{artifact}}.wasm --config '{...}'` tries it against a
sample message without a server; an operator installs it with `beacon plugin
install` or the dashboard. The SDK (and the WIT it builds against) sits in
`vendor/`; its README explains the config schema and validation, the HTTP
helper, `kv`, logging and the test harness. The component embeds a
JavaScript engine (about 12 MB); the host runs it like any other.
"#;
