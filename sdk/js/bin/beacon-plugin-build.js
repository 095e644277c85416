#!/usr/bin/env node
// beacon-plugin-build: JS plugin source -> beacon:plugin component (.wasm).
//
//   beacon-plugin-build src/plugin.js -o dist/my_plugin.wasm [--wit ../../wit/plugin.wit] [--keep-temp]
//
// 1. Bundle the entry and its npm imports into one ES module with esbuild
//    (condition `beacon-component`, so the SDK's host imports resolve to the
//    real `beacon:plugin/*` interfaces; those stay external).
// 2. Derive the world from the bundle: `channelApi` export -> channel-api,
//    `filterApi` -> filter-api; imports = exactly the `beacon:plugin/*`
//    interfaces the bundle imports. So a plugin only gets the capabilities it
//    uses (componentize-js would otherwise import every interface of the
//    world, e.g. smtp-send, which the host refuses to use without SMTP).
// 3. componentize-js (StarlingMonkey) with the `http` and `fetch-event`
//    features disabled: no wasi:http imports; the JS `fetch` global is
//    absent, all network goes through beacon:plugin/http.
// 4. Check the result's imports (no wasi:http / wasi:sockets) and print them.

import { mkdtemp, mkdir, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_WIT = resolve(HERE, '../../../wit/plugin.wit');

const ALLOWED = {
  channel: new Set(['types', 'log', 'http', 'kv', 'smtp-send', 'mqtt-publish']),
  filter: new Set(['types', 'log', 'kv']),
};
const EXPORTS = { channelApi: ['channel', 'channel-api'], filterApi: ['filter', 'filter-api'] };

// The build tools are the SDK's own dependencies (installed by `npm ci` in
// the SDK folder; a `file:` link does not install them).
async function tool(name) {
  try {
    return await import(name);
  } catch (err) {
    if (err.code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(`${name} is not installed: run \`npm ci\` in ${resolve(HERE, '..')} first`);
    }
    throw err;
  }
}

function usage(message) {
  if (message) console.error(`beacon-plugin-build: ${message}`);
  console.error('usage: beacon-plugin-build <entry.js> -o <out.wasm> [--wit <plugin.wit>] [--keep-temp]');
  process.exit(2);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      wit: { type: 'string' },
      'keep-temp': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) usage();
  if (positionals.length !== 1) usage('expected one entry file');
  if (!values.out) usage('missing -o <out.wasm>');
  const entry = resolve(positionals[0]);
  const out = resolve(values.out);
  const witFile = resolve(values.wit ?? process.env.BEACON_PLUGIN_WIT ?? DEFAULT_WIT);
  const started = performance.now();

  const witText = await readFile(witFile, 'utf8').catch((err) => {
    throw new Error(`cannot read the beacon:plugin WIT at ${witFile} (${err.code}); pass --wit <path to wit/plugin.wit>`);
  });
  const version = /^\s*package\s+beacon:plugin@([0-9][^;\s]*)\s*;/m.exec(witText)?.[1];
  if (!version) throw new Error(`${witFile} does not declare package beacon:plugin@<version>`);

  // Note: the output is not byte-reproducible (the engine snapshot differs
  // between runs), so a rebuild of unchanged source needs a version bump
  // before the host will install it over the previous build.
  const work = await mkdtemp(join(tmpdir(), 'beacon-plugin-build-'));
  try {
    // 1. bundle
    const esbuild = await tool('esbuild');
    const bundlePath = join(work, 'src', 'plugin.js');
    const result = await esbuild.build({
      entryPoints: [entry],
      outfile: bundlePath,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      conditions: ['beacon-component'],
      mainFields: ['module', 'main'],
      external: ['beacon:*'],
      metafile: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
    const output = Object.values(result.metafile.outputs)[0];

    // 2. world
    const kinds = output.exports.filter((name) => name in EXPORTS);
    if (kinds.length !== 1) {
      throw new Error(
        `${positionals[0]} must export exactly one of \`channelApi\` (defineChannel) or \`filterApi\` (defineFilter); it exports: ${output.exports.join(', ') || 'nothing'}`,
      );
    }
    const [kind, exportIface] = EXPORTS[kinds[0]];
    const imports = new Set();
    for (const imp of output.imports) {
      if (!imp.external) continue;
      const m = /^beacon:plugin\/([a-z-]+)@(.+)$/.exec(imp.path);
      if (!m) throw new Error(`unsupported external import ${JSON.stringify(imp.path)} (only beacon:plugin/<interface>@${version} is available)`);
      if (m[2] !== version) throw new Error(`${imp.path}: this build targets beacon:plugin@${version}`);
      if (!ALLOWED[kind].has(m[1])) throw new Error(`a ${kind} plugin may not import beacon:plugin/${m[1]} (the host refuses it)`);
      if (m[1] !== 'types') imports.add(m[1]);
    }
    const witDir = join(work, 'wit');
    await mkdir(join(witDir, 'deps', 'beacon-plugin'), { recursive: true });
    await writeFile(join(witDir, 'deps', 'beacon-plugin', 'plugin.wit'), witText);
    const world = [
      'package beacon-spear:js-plugin;',
      '',
      'world plugin {',
      ...[...imports].sort().map((i) => `  import beacon:plugin/${i}@${version};`),
      `  export beacon:plugin/${exportIface}@${version};`,
      '}',
      '',
    ].join('\n');
    await writeFile(join(witDir, 'world.wit'), world);

    // 3. componentize
    const { componentize } = await tool('@bytecodealliance/componentize-js');
    const { component } = await componentize({
      sourcePath: bundlePath,
      witPath: witDir,
      worldName: 'plugin',
      disableFeatures: ['http', 'fetch-event'],
    });

    // 4. check imports
    const { componentWit } = await tool('@bytecodealliance/jco');
    const wit = await componentWit(component);
    const componentImports = [...wit.matchAll(/^\s*import ([^;]+);/gm)].map((m) => m[1]);
    const forbidden = componentImports.filter((i) => /^wasi:(http|sockets)\//.test(i));
    if (forbidden.length) throw new Error(`the component imports ${forbidden.join(', ')}, which the host refuses`);

    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, component);
    const size = (await stat(out)).size;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`${values.out}: ${kind} component, ${(size / 1024 / 1024).toFixed(1)} MiB, built in ${seconds} s`);
    console.log(`  world     beacon:plugin ${kind === 'channel' ? 'channel-sender' : 'filter'}@${version} (export ${exportIface})`);
    console.log(`  imports   ${componentImports.filter((i) => i.startsWith('beacon:')).join(', ')}`);
    console.log(`  wasi      ${componentImports.filter((i) => i.startsWith('wasi:')).map((i) => i.replace(/@.*/, '')).join(', ')}`);
  } finally {
    if (values['keep-temp']) console.error(`beacon-plugin-build: kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`beacon-plugin-build: ${err.message ?? err}`);
  process.exit(1);
});
