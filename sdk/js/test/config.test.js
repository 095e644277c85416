import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHttpUrl, conform, parseConfig, ConfigError } from '../src/index.js';
import { checkSchema } from '../src/config.js';

const schema = {
  type: 'object',
  properties: {
    url: { type: 'string', minLength: 1 },
    method: { enum: ['POST', 'PUT'], default: 'POST' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    keys: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9]+$' }, minItems: 1 },
    timeout_ms: { type: ['integer', 'null'], minimum: 100, maximum: 120000 },
  },
  required: ['url'],
  additionalProperties: false,
};

function fieldOf(fn) {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return [err.field, err.detail];
  }
  assert.fail('expected a ConfigError');
}

test('defaults are filled in and the input is not modified', () => {
  const input = { url: 'https://x' };
  assert.deepEqual(conform(input, schema), { url: 'https://x', method: 'POST', headers: {} });
  assert.deepEqual(input, { url: 'https://x' });
});

test('errors name the field as a JSON path', () => {
  assert.deepEqual(fieldOf(() => parseConfig('{}', schema)), ['url', 'missing field `url`']);
  assert.deepEqual(fieldOf(() => parseConfig('{"url": 3}', schema)), ['url', 'invalid type: expected string, got integer']);
  assert.deepEqual(fieldOf(() => parseConfig('{"url": ""}', schema)), ['url', 'must not be empty']);
  assert.equal(fieldOf(() => parseConfig('{"url": "u", "nope": 1}', schema))[0], 'nope');
  assert.equal(fieldOf(() => parseConfig('{"url": "u", "method": "GET"}', schema))[0], 'method');
  assert.equal(fieldOf(() => parseConfig('{"url": "u", "headers": {"A": 1}}', schema))[0], 'headers.A');
  assert.equal(fieldOf(() => parseConfig('{"url": "u", "keys": ["ok", "n o"]}', schema))[0], 'keys[1]');
  assert.deepEqual(fieldOf(() => parseConfig('{"url": "u", "keys": []}', schema)), ['keys', 'must not be empty']);
  assert.deepEqual(fieldOf(() => parseConfig('{"url": "u", "timeout_ms": 5}', schema)), ['timeout_ms', 'must be at least 100']);
  assert.deepEqual(fieldOf(() => parseConfig('{"url": "u", "timeout_ms": 1.5}', schema))[0], 'timeout_ms');
  assert.deepEqual(parseConfig('{"url": "u", "timeout_ms": null}', schema).timeout_ms, null);
  assert.deepEqual(fieldOf(() => parseConfig('[]', schema)), ['', 'invalid type: expected object, got array']);
  const [field, message] = fieldOf(() => parseConfig('{"url":', schema));
  assert.equal(field, '');
  assert.match(message, /^config is not valid JSON: /);
});

test('unsupported schema keywords are refused up front', () => {
  assert.throws(() => checkSchema({ type: 'object', properties: { a: { anyOf: [] } } }), /`anyOf` at a/);
  assert.throws(() => checkSchema({ type: 'strin' }), /unknown type/);
  checkSchema(schema);
});

test('checkHttpUrl', () => {
  checkHttpUrl('url', 'https://api.day.app');
  checkHttpUrl('url', 'http://[::1]:8080/x?y=1');
  checkHttpUrl('url', 'HTTPS://example.com:443/');
  for (const [bad, why] of [
    ['', 'must not be empty'],
    ['ftp://x', 'must be an absolute http:// or https:// URL'],
    ['https://u:p@x', 'must not contain a user name or password'],
    ['https:///x', 'must include a host name'],
    ['https://x:99999', 'has an invalid port'],
    ['https://x:', 'has an invalid port'],
    ['https://x/a b', 'must not contain whitespace'],
    ['https://x/a\u0007', 'must not contain whitespace'],
    ['https://x/\u00a0', 'must not contain whitespace'],
    ['https://x/#frag', 'must not contain a fragment (#...)'],
    ['https://[::1', 'has an unterminated IPv6 address'],
  ]) {
    assert.deepEqual(fieldOf(() => checkHttpUrl('hook.url', bad)), ['hook.url', why], bad);
  }
});
