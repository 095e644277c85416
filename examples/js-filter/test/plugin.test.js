// Unit tests: the filter's logic under plain Node, host calls mocked by the
// SDK's test harness (no component build needed).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as testing from '@beacon-spear/plugin-sdk/testing';
import { filterApi, firstMatch, VERSION } from '../src/plugin.js';

beforeEach(() => testing.reset());

const config = (c) => ({ fields: ['title', 'body'], case_sensitive: false, ...c });

test('describe matches package.json', () => {
  const info = testing.describe(filterApi);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(info.id, 'js-keyword');
  assert.equal(info.kind, 'filter');
  assert.equal(info.version, pkg.version);
  assert.equal(VERSION, pkg.version);
  assert.deepEqual(info.schema.required, ['keywords']);
  assert.deepEqual(info.schema.properties.fields.default, ['title', 'body']);
});

test('validateConfig names the bad field', () => {
  const v = (c) => testing.validateConfig(filterApi, c);
  assert.equal(v({ keywords: ['disk full'] }), null);
  assert.equal(v({ keywords: ['a', 'A'], case_sensitive: true }), null);
  assert.deepEqual(v({}), { field: 'keywords', message: 'missing field `keywords`' });
  assert.deepEqual(v({ keywords: [] }), { field: 'keywords', message: 'must not be empty' });
  assert.deepEqual(v({ keywords: ['ok', ''] }), { field: 'keywords[1]', message: 'must not be empty' });
  assert.deepEqual(v({ keywords: ['ok', '  '] }), { field: 'keywords[1]', message: 'must not be blank' });
  assert.deepEqual(v({ keywords: ['Disk', 'disk'] }), { field: 'keywords[1]', message: 'repeats "disk"' });
  assert.equal(v({ keywords: ['x'], fields: ['url'] }).field, 'fields[0]');
  assert.equal(v({ keywords: ['x'], case_sensitive: 'yes' }).field, 'case_sensitive');
  assert.equal(v({ keywords: ['x'], other: 1 }).field, 'other');
});

test('firstMatch', () => {
  const msg = testing.message({ title: 'Backup FAILED', body: 'disk is full' });
  assert.deepEqual(firstMatch(config({ keywords: ['failed'] }), msg), ['title', 'failed']);
  assert.equal(firstMatch(config({ keywords: ['failed'], case_sensitive: true }), msg), undefined);
  assert.deepEqual(firstMatch(config({ keywords: ['nope', 'full'] }), msg), ['body', 'full']);
  assert.equal(firstMatch(config({ keywords: ['failed'], fields: ['body'] }), msg), undefined);
});

test('one verdict per rule, with a note', async () => {
  const r = await testing.evaluate(
    filterApi,
    [{ keywords: ['disk'] }, { keywords: ['cpu'] }, { keywords: ['DISK'], case_sensitive: true }, { keywords: [] }],
    { title: 'Alert', body: 'disk almost full' },
  );
  assert.deepEqual(r[0], { ok: true, matched: true, note: 'the body contains "disk"' });
  assert.deepEqual(r[1], { ok: true, matched: false, note: 'no keyword in the title or body' });
  assert.equal(r[2].matched, false);
  assert.deepEqual(r[3], { ok: false, error: 'invalid filter config: keywords: must not be empty' });
});

test('a message without a title', async () => {
  const r = await testing.evaluate(filterApi, [{ keywords: ['x'], fields: ['title'] }], { body: 'x' });
  assert.deepEqual(r, [{ ok: true, matched: false, note: 'no keyword in the title' }]);
});
