#!/usr/bin/env node
// Builds the start-up snapshot of the command line: dist/snapshot/mvm.blob, which bin/mvm starts Node from
// (`node --snapshot-blob dist/snapshot/mvm.blob ARGS`), and dist/snapshot/mvm.blob.node: the version of the
// Node.js that built it, its binary and the folder it was built in, a line each (a blob loads only in that
// binary, and holds the folders of the packages it bundles, yargs' message catalogues among them; bin/mvm runs
// bin/mvm.js instead anywhere else).
//
// 1. esbuild bundles dist/cli/snapshot.js (from src/cli/snapshot.ts: main, every command's module, the query
//    engine) into one CommonJS file, dist/snapshot/mvm.cjs: a snapshot's entry must be one script, and its
//    `require` knows only Node's built-in modules.
//    - Pure-JS packages are bundled in (yargs, ignore, picomatch, re2js, ...). Packages with native code or
//      too large to hold in every start (zstd-napi, the BLAKE3 addon, the AWS SDK) and those read as files
//      (chart.js, cytoscape) stay out: each becomes a stub that requires the real package when first used,
//      after deserialisation, from where mvm is installed.
//    - `import.meta.url` becomes `globalThis.__mvmBundleUrl`, the URL of dist/bundle/mvm.js: set from the
//      bundle's own path when the blob is built (so the same mvm.cjs builds a blob wherever the package is),
//      and again from the blob's path when a process starts from it (src/cli/snapshot.ts).
// 2. scripts/snapshot-blob.mjs runs `node --snapshot-blob ... --build-snapshot dist/snapshot/mvm.cjs`, which
//    evaluates it and writes the blob. npm runs the same script after installing the package (postinstall), for
//    the Node.js there: the package ships mvm.cjs, not a blob.
// A Node.js that cannot build one (or MVM_NO_SNAPSHOT=1 at build time) leaves no blob, and bin/mvm runs
// bin/mvm.js as before: the snapshot only makes start-up faster.
import { build } from 'esbuild';
import { ownDirname, packageDirBanner } from './lib/ownDirname.mjs';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = realpathSync(dirname(dirname(fileURLToPath(import.meta.url))));
const out = join(root, 'dist', 'snapshot');
const EXTERNAL = ['zstd-napi', '@napi-rs/blake-hash', '@aws-sdk/client-s3', 'chart.js', 'cytoscape'];
const deps = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies ?? {});
const BUNDLED = deps.filter((d) => !EXTERNAL.includes(d));

rmSync(out, { recursive: true, force: true });
if (process.env.MVM_NO_SNAPSHOT === '1') {
  console.error('snapshot: MVM_NO_SNAPSHOT=1, no start-up snapshot built (bin/mvm runs bin/mvm.js)');
  process.exit(0);
}
mkdirSync(out, { recursive: true });

/**
 * Packages left out of the blob become stubs that require them at run time, from the installed package.
 * Built-in modules whose state does not survive a snapshot are loaded at run time too, through a stub with a
 * getter per export:
 * - node:worker_threads, whose cwd counter (a SharedArrayBuffer made when it loads) a deserialised process no
 *   longer shares with the workers it starts;
 * - node:crypto: on Node 24, a worker started from a process whose blob had it loaded aborts when it loads it in
 *   turn (an assertion in crypto_keys.cc: the key object class is made twice).
 */
const lateRequire = {
  name: 'late-require',
  setup(b) {
    const filter = new RegExp(`^(${EXTERNAL.map((e) => e.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})(/.*)?$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'late-require' }));
    b.onLoad({ filter: /.*/, namespace: 'late-require' }, (args) => ({
      contents: `module.exports = __mvmLateRequire(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^(node:)?(worker_threads|crypto)$/ }, (args) => ({
      path: `node:${args.path.replace(/^node:/, '')}`,
      namespace: 'late-builtin',
    }));
    b.onLoad({ filter: /.*/, namespace: 'late-builtin' }, async (args) => {
      const names = Object.keys(await import(args.path)).filter((k) => k !== 'default');
      // __mvmBuiltin (the banner's) rather than require, which esbuild would resolve to this stub again
      const load = `const load = () => __mvmBuiltin(${JSON.stringify(args.path)});`;
      const getters = names.map((n) => `  get ${n}() { return load().${n}; },`).join('\n');
      return { contents: `${load}\nmodule.exports = {\n${getters}\n};\n`, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(root, 'dist', 'cli', 'snapshot.js')],
  outfile: join(out, 'mvm.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  alias: { 'yargs/yargs': createRequire(join(root, 'package.json')).resolve('yargs/yargs') },
  define: { 'import.meta.url': 'globalThis.__mvmBundleUrl' },
  plugins: [lateRequire, ownDirname(root, BUNDLED)],
  banner: {
    js: [
      // the package the blob is built in: dist/bundle/mvm.js beside this file's folder (__filename is absolute)
      "globalThis.__mvmBundleUrl = require('node:url').pathToFileURL(" +
        "require('node:path').join(__dirname, '..', 'bundle', 'mvm.js')).href;",
      'const __mvmBuiltin = require;',
      "const { createRequire: __mvmCreateRequire } = require('node:module');",
      "const { dirname: __mvmDirname, join: __mvmJoin } = require('node:path');",
      // evaluated when a bundled package asks for its folder, at build time: a blob holds the folders of the
      // package it was built in, so bin/mvm uses a blob only where it was built (mvm.blob.node says where)
      packageDirBanner('__mvmCreateRequire(globalThis.__mvmBundleUrl)'),
      'const __mvmLateRequire = (id) => __mvmCreateRequire(globalThis.__mvmBundleUrl)(id);',
    ].join('\n'),
  },
  logLevel: 'warning',
});

// 2. the blob, from the bundle, by the script npm also runs at install
const r = spawnSync(process.execPath, [join(root, 'scripts', 'snapshot-blob.mjs'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
