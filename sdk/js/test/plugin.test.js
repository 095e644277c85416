import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { defineChannel, defineFilter, checkHttpUrl, kv, log, SendError, Verdict } from '../src/index.js';
import { http } from '../src/http.js';
import * as testing from '../src/testing/index.js';

const hook = defineChannel({
  id: 'test-hook',
  name: 'Test hook',
  version: '1.2.3',
  description: 'Posts things.',
  configSchema: {
    type: 'object',
    properties: {
      url: { type: 'string' },
      token: { type: 'string', 'x-secret': true, writeOnly: true },
    },
    required: ['url'],
    additionalProperties: false,
  },
  validate(config) {
    checkHttpUrl('url', config.url);
  },
  send(config, payloadJson, message) {
    log.info(`delivering ${message.id}`);
    const count = kv.increment('sent');
    const headers = { 'content-type': 'application/json' };
    if (config.token) headers.authorization = `Bearer ${config.token}`;
    if (JSON.parse(payloadJson).boom) throw new TypeError('boom');
    return http.post(config.url, { headers, body: payloadJson, timeoutMs: 5000 + count });
  },
});

beforeEach(() => testing.reset());

test('describe', () => {
  const info = testing.describe(hook);
  assert.equal(info.id, 'test-hook');
  assert.equal(info.kind, 'channel');
  assert.equal(info.version, '1.2.3');
  assert.equal(info.schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(info.schema.properties.token['x-secret'], true);
});

test('validateConfig names the field', () => {
  assert.equal(testing.validateConfig(hook, { url: 'https://example.com/x' }), null);
  assert.deepEqual(testing.validateConfig(hook, {}), { field: 'url', message: 'missing field `url`' });
  assert.deepEqual(testing.validateConfig(hook, { url: 'ftp://x' }), {
    field: 'url',
    message: 'must be an absolute http:// or https:// URL',
  });
  assert.equal(testing.validateConfig(hook, '{nope').field, '');
});

test('send: success records the response, kv and logs work', async () => {
  testing.mockFetch((req) => {
    assert.equal(req.url, 'https://example.com/x');
    assert.equal(req.header('authorization'), 'Bearer s3cret');
    return testing.response(200, '{"ok": true}');
  });
  const r = await testing.send(hook, {
    config: { url: 'https://example.com/x', token: 's3cret' },
    payload: { a: 1 },
    message: { id: 'f'.repeat(32) },
  });
  assert.deepEqual(r, { ok: true, outcome: { httpStatus: 200, responseSnippet: '{"ok": true}', responseJson: '{"ok":true}' } });
  assert.equal(testing.requests()[0].text, '{"a":1}');
  assert.equal(testing.requests()[0].timeoutMs, 5001);
  assert.deepEqual(testing.takeLogs(), [{ level: 'info', message: `delivering ${'f'.repeat(32)}` }]);
  await testing.send(hook, { config: { url: 'https://example.com/x' } });
  assert.equal(testing.bucket().get('sent').toString(), new TextEncoder().encode('2').toString());
});

test('send: status classes, fetch errors, bad config, plugin bugs', async () => {
  testing.mockFetch(() => testing.response(503, 'busy', { 'retry-after': '5' }));
  let r = await testing.send(hook, { config: { url: 'https://example.com/x' } });
  assert.deepEqual(r.error, {
    kind: 'retryable', message: 'HTTP 503: busy', retryAfterMs: 5000, httpStatus: 503, responseSnippet: 'busy', responseJson: undefined,
  });

  testing.mockFetch(() => testing.response(404, ''));
  r = await testing.send(hook, { config: { url: 'https://example.com/x' } });
  assert.equal(r.error.kind, 'permanent');
  assert.equal(r.error.message, 'HTTP 404');

  testing.mockFetch(() => {
    throw testing.fetchError('policy-denied', 'address 127.0.0.1 is loopback');
  });
  r = await testing.send(hook, { config: { url: 'https://example.com/x' } });
  assert.deepEqual(r.error, {
    kind: 'permanent', message: 'refused by outbound policy: address 127.0.0.1 is loopback',
    retryAfterMs: undefined, httpStatus: undefined, responseSnippet: undefined, responseJson: undefined,
  });

  testing.mockFetch(() => {
    throw testing.fetchError('connection', 'reset');
  });
  r = await testing.send(hook, { config: { url: 'https://example.com/x' } });
  assert.equal(r.error.kind, 'retryable');

  r = await testing.send(hook, { config: { url: 'nope' } });
  assert.equal(r.error.kind, 'permanent');
  assert.equal(r.error.message, 'invalid channel config: url: must be an absolute http:// or https:// URL');
  assert.equal(testing.requests().length, 4);

  r = await testing.send(hook, { config: { url: 'https://example.com/x' }, payload: { boom: true } });
  assert.equal(r.error.kind, 'permanent');
  assert.equal(r.error.message, 'plugin error: boom');
  assert.equal(testing.takeLogs().at(-1).level, 'error');
});

test('fetch is refused outside send, as on the host', () => {
  const sneaky = defineChannel({
    id: 'sneaky', name: 'S', version: '0.1.0', description: 'd',
    validate() {
      http.get('https://example.com/');
    },
    send() {},
  });
  testing.mockFetch(() => testing.response(200));
  const err = testing.validateConfig(sneaky, {});
  assert.equal(err.field, '');
  assert.match(err.message, /refused by outbound policy/);
});

test('send may return nothing, a Response or throw SendError', async () => {
  const p = defineChannel({
    id: 'p', name: 'P', version: '0.1.0', description: 'd',
    async send(_config, payloadJson) {
      const { mode } = JSON.parse(payloadJson);
      if (mode === 'throw') throw SendError.retryable('later').withRetryAfterMs(1500.9).withStatus(299);
      return undefined;
    },
  });
  assert.deepEqual(await testing.send(p, {}), { ok: true, outcome: {} });
  const r = await testing.send(p, { payload: { mode: 'throw' } });
  assert.equal(r.error.retryAfterMs, 1500);
  assert.equal(r.error.httpStatus, 299);
});

const dedupe = defineFilter({
  id: 'dedupe',
  name: 'Dedupe',
  version: '0.1.0',
  description: 'Drops repeated bodies.',
  configSchema: { type: 'object', properties: { window_s: { type: 'integer', minimum: 1, default: 60 } }, additionalProperties: false },
  evaluate(config, message) {
    if (message.body === 'explode') throw new Error('cannot decide');
    if (kv.add(`body:${message.body}`, message.id, { ttlSeconds: config.window_s })) return true;
    return Verdict.block(`duplicate within ${config.window_s} s`);
  },
});

test('filter: verdicts, per-rule buckets, errors', async () => {
  const info = testing.describe(dedupe);
  assert.equal(info.kind, 'filter');
  let r = await testing.evaluate(dedupe, [{}, { window_s: 5 }, { window_s: 0 }], { body: 'hi' }, { scopes: ['a', 'b', 'c'] });
  assert.deepEqual(r[0], { ok: true, matched: true, note: undefined });
  assert.deepEqual(r[1], { ok: true, matched: true, note: undefined });
  assert.equal(r[2].ok, false);
  assert.match(r[2].error, /^invalid filter config: window_s: must be at least 1/);
  r = await testing.evaluate(dedupe, [{ window_s: 5 }], { body: 'hi' }, { scopes: ['b'] });
  assert.deepEqual(r[0], { ok: true, matched: false, note: 'duplicate within 5 s' });
  testing.advanceKvClock(6000);
  r = await testing.evaluate(dedupe, [{ window_s: 5 }], { body: 'hi' }, { scopes: ['b'] });
  assert.equal(r[0].matched, true);
  r = await testing.evaluate(dedupe, [{}], { body: 'explode' });
  assert.deepEqual(r, [{ ok: false, error: 'cannot decide' }]);
});

test('definitions are checked', () => {
  assert.throws(() => defineChannel({ id: 'Bad Id', name: 'x', version: '0.1.0', description: 'd', send() {} }), /id must be/);
  assert.throws(() => defineChannel({ id: 'ok', name: 'x', version: '1', description: 'd', send() {} }), /semver/);
  assert.throws(() => defineFilter({ id: 'ok', name: 'x', version: '0.1.0', description: 'd' }), /evaluate must be a function/);
});
