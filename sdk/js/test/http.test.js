import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyStatus, parseRetryAfter, statusError, Response, http } from '../src/http.js';
import { FetchError, snippet, SNIPPET_MAX_CHARS } from '../src/index.js';
import * as testing from '../src/testing/index.js';

const enc = (s) => new TextEncoder().encode(s);

function caught(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}

test('classifier', () => {
  assert.equal(classifyStatus(200), 'success');
  assert.equal(classifyStatus(204), 'success');
  for (const s of [408, 425, 429, 500, 502, 503, 599]) assert.equal(classifyStatus(s), 'retryable', String(s));
  for (const s of [400, 401, 403, 404, 410, 413, 422, 301, 302, 100]) assert.equal(classifyStatus(s), 'permanent', String(s));
});

test('retry-after', () => {
  assert.equal(parseRetryAfter('120'), 120000);
  assert.equal(parseRetryAfter(' 0 '), 0);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT'), undefined);
  assert.equal(parseRetryAfter('-1'), undefined);
  assert.equal(parseRetryAfter(''), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test('errorForStatus classifies and records the response', () => {
  const ok = new Response({ status: 200, headers: [], body: enc('{"a": 1}') }).intoOutcome();
  assert.deepEqual(ok, { httpStatus: 200, responseSnippet: '{"a": 1}', responseJson: '{"a":1}' });

  const err = caught(() => new Response({ status: 429, headers: [['retry-after', '7']], body: enc('slow down') }).errorForStatus());
  assert.deepEqual(err.toWit(), {
    tag: 'retryable',
    val: { message: 'HTTP 429: slow down', retryAfterMs: 7000, httpStatus: 429, responseSnippet: 'slow down', responseJson: undefined },
  });

  const e503 = statusError('retryable', 503, new Uint8Array(), undefined);
  assert.equal(e503.message, 'HTTP 503');
  assert.equal(e503.retryable, true);

  const body = enc('{"code": 400, "message": "failed to get device token"}');
  const e400 = statusError('permanent', 400, body, 5000);
  assert.deepEqual(e400.toWit(), {
    tag: 'permanent',
    val: {
      message: 'HTTP 400: {"code": 400, "message": "failed to get device token"}',
      retryAfterMs: undefined,
      httpStatus: 400,
      responseSnippet: '{"code": 400, "message": "failed to get device token"}',
      responseJson: '{"code":400,"message":"failed to get device token"}',
    },
  });

  const long = 'x'.repeat(1000);
  const e = statusError('permanent', 400, enc(long));
  assert.ok(e.message.length < 220);
  assert.equal(e.responseSnippet, long);
});

test('snippet caps on characters', () => {
  assert.equal(snippet(new Uint8Array()), undefined);
  const long = 'é'.repeat(SNIPPET_MAX_CHARS + 10);
  const s = snippet(enc(long));
  assert.equal([...s].length, SNIPPET_MAX_CHARS + 1);
  assert.ok(s.endsWith('…'));
  assert.equal(snippet(new Uint8Array([0xff, 0x61])), '\ufffda');
  assert.equal(snippet('😀'.repeat(SNIPPET_MAX_CHARS)), '😀'.repeat(SNIPPET_MAX_CHARS));
});

test('request goes through the mocked host fetch', () => {
  testing.reset();
  testing.mockFetch((req) => {
    assert.equal(req.method, 'POST');
    assert.equal(req.header('Content-Type'), 'application/json');
    assert.deepEqual(req.json(), { a: 1 });
    assert.equal(req.timeoutMs, 1500);
    assert.equal(req.followRedirects, false);
    return testing.response(201, { id: 'x' }, { 'X-Thing': 'y' });
  });
  // fetch is only allowed inside send (as on the host): open it for this test.
  return import('../src/testing/state.js').then(({ state }) => {
    state.fetchAllowed = true;
    const res = http.post('https://example.com/hook', { json: { a: 1 }, timeoutMs: 1500.7 });
    assert.equal(res.status, 201);
    assert.equal(res.header('x-thing'), 'y');
    assert.deepEqual(res.json(), { id: 'x' });
    assert.equal(testing.requests().length, 1);

    testing.mockFetch(() => {
      throw testing.fetchError('timeout');
    });
    const e = caught(() => http.get('https://example.com/'));
    assert.ok(e instanceof FetchError);
    assert.equal(e.kind, 'timeout');
    assert.equal(e.retryable, true);
    assert.equal(e.message, 'request timed out');
    testing.reset();
  });
});
