// Unit tests: the plugin's logic under plain Node, host calls mocked by the
// SDK's test harness (no component build needed).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as testing from '@beacon-spear/plugin-sdk/testing';
import { bodyFor, buildRequest, channelApi, VERSION } from '../src/plugin.js';

const URL_OK = 'https://hooks.example.com/beacon';

beforeEach(() => testing.reset());

test('describe matches package.json and marks the token secret', () => {
  const info = testing.describe(channelApi);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(info.id, 'js-webhook');
  assert.equal(info.kind, 'channel');
  assert.equal(info.version, pkg.version);
  assert.equal(VERSION, pkg.version);
  assert.deepEqual(info.schema.required, ['url']);
  assert.equal(info.schema.properties.token['x-secret'], true);
  assert.equal(info.schema.properties.token.writeOnly, true);
});

test('validateConfig accepts good configs and names the bad field', () => {
  assert.equal(testing.validateConfig(channelApi, { url: URL_OK }), null);
  assert.equal(testing.validateConfig(channelApi, { url: URL_OK, token: 't', timeout_ms: 5000 }), null);
  assert.deepEqual(testing.validateConfig(channelApi, {}), { field: 'url', message: 'missing field `url`' });
  assert.deepEqual(testing.validateConfig(channelApi, { url: 'ftp://x' }), {
    field: 'url',
    message: 'must be an absolute http:// or https:// URL',
  });
  assert.deepEqual(testing.validateConfig(channelApi, { url: 'https://user:pw@x.example' }).field, 'url');
  assert.deepEqual(testing.validateConfig(channelApi, { url: URL_OK, timeout_ms: 50 }), {
    field: 'timeout_ms',
    message: 'must be at least 100',
  });
  assert.equal(testing.validateConfig(channelApi, { url: URL_OK, token: 'a\nb' }).field, 'token');
  assert.equal(testing.validateConfig(channelApi, { url: URL_OK, extra: 1 }).field, 'extra');
});

test('bodyFor sends the template unchanged, or a message summary', () => {
  const msg = testing.message({ id: 'a'.repeat(32), title: 'T', extras: { k: 'v' } });
  assert.equal(bodyFor('{"text": "hi", "n": [1, 2]}', msg), '{"text":"hi","n":[1,2]}');
  assert.equal(bodyFor('[1]', msg), '[1]');
  assert.equal(bodyFor('"x"', msg), '"x"');
  for (const empty of ['', '  ', '{}']) {
    const summary = JSON.parse(bodyFor(empty, msg));
    assert.equal(summary.id, 'a'.repeat(32));
    assert.equal(summary.title, 'T');
    assert.equal(summary.group, null);
    assert.deepEqual(summary.extras, { k: 'v' });
  }
  assert.throws(() => bodyFor('{nope', msg), (err) => err.kind === 'permanent' && /valid JSON/.test(err.message));
});

test('buildRequest adds the bearer token and timeout', () => {
  assert.deepEqual(buildRequest({ url: URL_OK, token: 's3cret', timeout_ms: 3000 }, '{}'), {
    method: 'POST',
    url: URL_OK,
    headers: { 'content-type': 'application/json', 'user-agent': `beacon-js-webhook/${VERSION}`, authorization: 'Bearer s3cret' },
    body: '{}',
    timeoutMs: 3000,
  });
  assert.equal(buildRequest({ url: URL_OK }, '{}').headers.authorization, undefined);
});

test('send POSTs the payload and records the answer', async () => {
  testing.mockFetch(() => testing.response(200, '{"received": true}'));
  const r = await testing.send(channelApi, { config: { url: URL_OK, token: 's3cret' }, payload: { a: 1 } });
  assert.deepEqual(r, { ok: true, outcome: { httpStatus: 200, responseSnippet: '{"received": true}', responseJson: '{"received":true}' } });
  const [req] = testing.requests();
  assert.equal(req.method, 'POST');
  assert.equal(req.url, URL_OK);
  assert.equal(req.text, '{"a":1}');
  assert.equal(req.header('authorization'), 'Bearer s3cret');
  assert.equal(req.followRedirects, false);
  const logs = testing.takeLogs();
  assert.ok(logs.some((l) => l.level === 'info' && l.message.includes('hooks.example.com')));
  assert.ok(logs.every((l) => !l.message.includes('s3cret')), 'the token is never logged');
});

test('send classifies failures', async () => {
  testing.mockFetch(() => testing.response(429, 'slow down', { 'Retry-After': '30' }));
  let r = await testing.send(channelApi, { config: { url: URL_OK }, payload: { a: 1 } });
  assert.equal(r.error.kind, 'retryable');
  assert.equal(r.error.retryAfterMs, 30_000);
  assert.equal(r.error.httpStatus, 429);
  assert.equal(r.error.message, 'HTTP 429: slow down');

  testing.mockFetch(() => testing.response(400, '{"code":400,"message":"bad"}'));
  r = await testing.send(channelApi, { config: { url: URL_OK }, payload: { a: 1 } });
  assert.equal(r.error.kind, 'permanent');
  assert.equal(r.error.responseJson, '{"code":400,"message":"bad"}');

  testing.mockFetch(() => {
    throw testing.fetchError('timeout');
  });
  r = await testing.send(channelApi, { config: { url: URL_OK }, payload: { a: 1 } });
  assert.deepEqual([r.error.kind, r.error.message], ['retryable', 'request timed out']);

  r = await testing.send(channelApi, { config: { url: URL_OK }, payload: '{broken' });
  assert.equal(r.error.kind, 'permanent');
  assert.match(r.error.message, /did not render to valid JSON/);

  r = await testing.send(channelApi, { config: {}, payload: { a: 1 } });
  assert.deepEqual([r.error.kind, r.error.message], ['permanent', 'invalid channel config: url: missing field `url`']);
});
