#!/usr/bin/env node
// Turns the bundled command line, dist/snapshot/mvm.cjs, into the start-up snapshot bin/mvm starts Node from:
// `node --snapshot-blob dist/snapshot/mvm.blob --build-snapshot dist/snapshot/mvm.cjs`, written under a temporary
// name and renamed when whole, and dist/snapshot/mvm.blob.node: the version of the Node.js that built it, its
// binary and the package folder, a line each (a blob loads only in that binary, and holds the folders of the
// packages it bundles; bin/mvm runs bin/mvm.js anywhere else).
//
// scripts/snapshot.mjs runs it after bundling (`npm run build`). It is also npm's postinstall: the package ships
// mvm.cjs, which finds its package from its own location, but no blob, since a blob loads only in the Node.js
// that built it. With --postinstall it never fails an install: a Node.js that cannot build a blob (or
// MVM_NO_SNAPSHOT=1) leaves none, and bin/mvm runs bin/mvm.js as before; in a checkout (src/ is there) it leaves
// the blob to the build, which runs next.
// Only Node's own modules: it runs where mvm is installed, without mvm's development tools.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = realpathSync(dirname(dirname(fileURLToPath(import.meta.url))));
const out = join(root, 'dist', 'snapshot');
const entry = join(out, 'mvm.cjs');
const blob = join(out, 'mvm.blob');
const stamp = `${blob}.node`;
const postinstall = process.argv.includes('--postinstall');

// a checkout's blob is the build's business (npm runs prepare next): left as it is
if (postinstall && existsSync(join(root, 'src'))) process.exit(0);
rmSync(blob, { force: true });
rmSync(stamp, { force: true });
if (process.env.MVM_NO_SNAPSHOT === '1') {
  console.error('snapshot: MVM_NO_SNAPSHOT=1, no start-up snapshot built (bin/mvm runs bin/mvm.js)');
  process.exit(0);
}
if (!existsSync(entry)) {
  console.error(`snapshot: ${entry} is missing (npm run build makes it); bin/mvm will run bin/mvm.js`);
  process.exit(0);
}

const tmp = `${blob}.${process.pid}.tmp`;
const r = spawnSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', entry], {
  encoding: 'utf8',
  env: { ...process.env, NODE_OPTIONS: '' },
});
// Node warns that some built-in modules are "not yet fully verified" in snapshots; the tests run the CLI from it
const problems = (r.stderr ?? '')
  .split('\n')
  .filter((l) => l.trim() && !/not yet fully verified|It may still work|To request support|--trace-warnings/.test(l));
if (r.status !== 0 || problems.length) {
  rmSync(tmp, { force: true });
  console.error(
    `snapshot: node ${process.version} could not build the start-up snapshot (exit ${r.status}); ` +
      `bin/mvm will run bin/mvm.js\n${problems.join('\n')}`,
  );
  process.exit(0);
}
renameSync(tmp, blob);
writeFileSync(stamp, `${process.version}\n${realpathSync(process.execPath)}\n${root}\n`);
if (process.argv.includes('--verbose'))
  console.error(`snapshot: ${blob} (${readFileSync(blob).length} bytes) for node ${process.version}`);
