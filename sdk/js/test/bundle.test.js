// The component build bundles with the `beacon-component` condition: host
// imports must become `beacon:plugin/*` imports, and only the modules a
// plugin uses may appear (they decide the component's capabilities).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK = fileURLToPath(new URL('../src/', import.meta.url));

async function externalImports(source) {
  const esbuild = await import('esbuild');
  const dir = await mkdtemp(join(tmpdir(), 'beacon-sdk-test-'));
  try {
    const entry = join(dir, 'entry.js');
    await writeFile(entry, source.replaceAll('SDK/', SDK));
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      conditions: ['beacon-component'],
      external: ['beacon:*'],
      metafile: true,
      logLevel: 'silent',
    });
    const [output] = Object.values(result.metafile.outputs);
    return { imports: output.imports.filter((i) => i.external).map((i) => i.path).sort(), exports: output.exports };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a filter bundle imports log only (no http)', async () => {
  const { imports, exports } = await externalImports(`
    import { defineFilter, kv } from 'SDK/index.js';
    export const filterApi = defineFilter({ id: 'f', name: 'F', version: '0.1.0', description: 'd',
      evaluate: (c, m) => kv.add(m.id, 'x') });
  `);
  assert.deepEqual(imports, ['beacon:plugin/log@0.3.0']);
  assert.deepEqual(exports, ['filterApi']);
});

test('a channel using http imports http and log', async () => {
  const { imports } = await externalImports(`
    import { defineChannel } from 'SDK/index.js';
    import { http } from 'SDK/http.js';
    export const channelApi = defineChannel({ id: 'c', name: 'C', version: '0.1.0', description: 'd',
      send: (c) => http.post(c.url, { body: '{}' }) });
  `);
  assert.deepEqual(imports, ['beacon:plugin/http@0.3.0', 'beacon:plugin/log@0.3.0']);
});
