#!/usr/bin/env node
// Bundles the compiled CLI (dist/, from tsc) into dist/bundle/ with esbuild,
// which `bin/mvm.js` runs. A short command such as `mvm log -n 10` otherwise
// resolves and links about 45 of mvm's ES modules and a dozen of yargs'
// CommonJS files at every start; bundled, it loads the entry file, the
// command's own file and a few shared chunks. Commands still load on demand
// (code splitting keeps each `import()` of main.ts a separate file).
//
// - The worker scripts are entry points of their own, written beside the
//   chunks under the names the pools ask for (`new URL('./chunkWorker.js',
//   import.meta.url)`), so a bundled pool starts bundled workers.
// - dist/bundle sits at the same depth as dist/cli and dist/repo, so paths
//   taken relative to a module (../../package.json, ../../assets) still hold.
// - Packages mvm depends on stay external (the AWS SDK, the report's browser
//   libraries, zstd-napi, the BLAKE3 addon), except those in BUNDLED: yargs,
//   fastest-levenshtein and the pure-JS BLAKE3 fallback, which every command
//   imports.
// - `yargs/yargs` is taken from yargs' CommonJS build (one file, where its
//   ESM build is a dozen).
// - A bundled CommonJS file that uses __dirname (yargs finds its message
//   catalogues with it) gets its own __dirname: its folder in its package,
//   the package found at run time by require.resolve from mvm, through the
//   dependency of mvm that needs it, so that it holds wherever npm put the package.
import { build } from 'esbuild';
import { ownDirname, packageDirBanner } from './lib/ownDirname.mjs';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
const out = join(dist, 'bundle');
const BUNDLED = new Set(['yargs', 'fastest-levenshtein', '@noble/hashes', 'ignore', 'picomatch']);
const deps = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies ?? {});

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: {
    mvm: join(dist, 'cli/main.js'),
    chunkWorker: join(dist, 'storage/chunkWorker.js'),
    statsWorker: join(dist, 'repo/insight/stats/statsWorker.js'),
  },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  alias: { 'yargs/yargs': createRequire(join(root, 'package.json')).resolve('yargs/yargs') },
  external: deps.filter((d) => !BUNDLED.has(d)).flatMap((d) => [d, `${d}/*`]),
  plugins: [ownDirname(root, BUNDLED)],
  banner: {
    js: [
      "import { createRequire as __mvmCreateRequire } from 'node:module';",
      "import { dirname as __mvmDirname, join as __mvmJoin } from 'node:path';",
      'const require = __mvmCreateRequire(import.meta.url);',
      packageDirBanner('require'),
    ].join('\n'),
  },
  // maps back to src/ through tsc's own maps, for stack traces under node --enable-source-maps
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
for (const name of ['mvm.js', 'chunkWorker.js', 'statsWorker.js']) {
  if (!files.some((f) => f.endsWith(`/${name}`))) throw new Error(`bundle: ${name} was not written`);
}
if (process.argv.includes('--verbose')) console.error(`bundle: ${files.length} files in ${out}`);
