import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { kv, KvError } from '../src/index.js';
import { withBucket } from '../src/kv.js';
import * as testing from '../src/testing/index.js';

beforeEach(() => testing.reset());

const inBucket = (fn) => withBucket(testing.bucket(), fn);

test('no bucket outside send/evaluate', () => {
  assert.throws(() => kv.get('x'), (err) => err instanceof KvError && err.kind === 'unavailable');
});

test('get/set/add/increment/delete with TTLs', () => {
  inBucket(() => {
    assert.equal(kv.get('a'), undefined);
    kv.set('a', 'one');
    assert.equal(kv.getString('a'), 'one');
    assert.equal(kv.add('a', 'two'), false);
    assert.equal(kv.add('b', new Uint8Array([1, 2]), { ttlSeconds: 10 }), true);
    assert.deepEqual([...kv.get('b')], [1, 2]);
    assert.equal(kv.increment('n'), 1);
    assert.equal(kv.increment('n', 5), 6);
    assert.equal(kv.increment('n', -10), -4);
    assert.equal(kv.getString('n'), '-4');
    assert.equal(kv.delete('a'), true);
    assert.equal(kv.delete('a'), false);
  });
  testing.advanceKvClock(10_000);
  inBucket(() => assert.equal(kv.get('b'), undefined));
});

test('host limits surface as KvError', () => {
  inBucket(() => {
    assert.throws(() => kv.set('', 'x'), (e) => e instanceof KvError && e.kind === 'invalid');
    assert.throws(() => kv.set('k'.repeat(257), 'x'), (e) => e.kind === 'invalid');
    assert.throws(() => kv.set('k', 'x'.repeat(16 * 1024 + 1)), (e) => e.kind === 'invalid');
    kv.set('text', 'abc');
    assert.throws(() => kv.increment('text'), (e) => e.kind === 'invalid');
  });
});

test('scopes are separate buckets', () => {
  testing.setKvScope('rule-a');
  inBucket(() => kv.set('k', 'a'));
  testing.setKvScope('rule-b');
  inBucket(() => assert.equal(kv.get('k'), undefined));
});
