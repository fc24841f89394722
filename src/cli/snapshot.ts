/**
 * The entry of the start-up snapshot (scripts/snapshot.mjs bundles it into dist/snapshot/mvm.cjs and runs
 * `node --snapshot-blob dist/snapshot/mvm.blob --build-snapshot` on it; bin/mvm starts Node from the blob).
 *
 * Building evaluates every module of the command line (main, each command's module, the query engine), so
 * a process started from the blob begins with them in its heap instead of reading, compiling and linking
 * them. Native addons (zstd, BLAKE3) and the AWS SDK stay out: modules load them on first use, after
 * deserialisation. What a module reads at load is read when the blob is built, so no module reads the
 * environment, the working folder or its own path at load (settings.ts, hash.ts, faults.ts read on use).
 *
 * The bundle replaces `import.meta.url` with `globalThis.__mvmBundleUrl`: the URL of dist/bundle/mvm.js in the
 * package the blob was started from, set here before main runs, so paths taken relative to a module
 * (package.json, assets, the worker scripts beside the bundle) resolve where the package is at run time.
 */
import { startupSnapshot } from 'node:v8';
// modules commands import on demand, evaluated here so the blob holds them too
import '../core/query/index.js';
import '../repo/workspace/index.js';
import '../storage/chunkPool.js';
import { loadCommands, main } from './main.js';
import { blobPath, bundleUrlFor } from './snapshotPaths.js';

declare global {
  var __mvmBundleUrl: string | undefined;
}

/**
 * Built-in modules the blob must not hold (scripts/snapshot.mjs loads them on first use): a worker started from a
 * process whose blob holds node:crypto aborts on Node 24 when it loads it, and node:worker_threads' state does
 * not survive. A module that imported one at load would bring it back unseen: the build fails instead.
 */
const LATE_BUILTINS = ['NativeModule crypto', 'NativeModule worker_threads'];

if (startupSnapshot.isBuildingSnapshot()) {
  loadCommands()
    .then(() => {
      const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
      const early = LATE_BUILTINS.filter((m) => loaded.includes(m));
      if (early.length) throw new Error(`built-in modules loaded while building: ${early.join(', ')}`);
      startupSnapshot.setDeserializeMainFunction(() => {
        const blob = blobPath(process.execArgv);
        if (blob) globalThis.__mvmBundleUrl = bundleUrlFor(blob);
        // process.argv is [node, ...arguments] in a process started from a blob: no script name
        return main(process.argv.slice(1));
      });
    })
    .then(undefined, (e: unknown) => {
      process.stderr.write(`snapshot: building the blob failed: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    });
}
