#!/usr/bin/env node
// Metadata that scales: a metadata-only history of a large sharded model (default: 1,000 versions of a 140 GB
// model in 24 safetensors shards, 1 MiB chunks, every chunk changed by each fine-tune) on a folder remote, written
// through mvm's own writers (bench/lib/metadataHistory.mjs); then a partial clone of it (`--only config.json`: the
// version's file objects come, no shard's chunks), counting the bytes and requests the remote served; then log,
// log --where, best and compare with the remote renamed away (offline), and a diff of two versions back online
// (it fetches their file objects). Bar (issue 28): the clone moves at most 50 MB and `log --where` works offline.
// Usage: node bench/metadata.mjs [--versions 1000] [--shards 24] [--model-gb 140] [--chunk-mib 1] [--per-push 1]
//        [--chunk-indexes (also the pack indexes the chunks' packs would have: what a remote with weights adds)]
//        [--dir DIR (kept; a remote already built there with the same shape is reused)] [--record]
//        [--baseline DIR (another build, e.g. before this change: its CLI clones the same remote, timed, peak RSS)]
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeMetadataHistory } from './lib/metadataHistory.mjs';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'metadata', command: 'node bench/metadata.mjs' });

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = (p) => import(join(root, 'dist', p));
const { FolderBackend } = await dist('storage/remote/folder.js');
const { clone } = await dist('ops/clone.js');
const { diff } = await dist('ops/diff.js');
const { openRepository } = await dist('repo/transfer/index.js');

const shape = {
  versions: Number(arg('versions', '1000')),
  shards: Number(arg('shards', '24')),
  modelBytes: Math.round(Number(arg('model-gb', '140')) * 1e9),
  chunkSize: Math.round(Number(arg('chunk-mib', '1')) * 1048576),
  perPush: Number(arg('per-push', '1')),
  // the pack indexes of the chunks' packs too (indexes only): what a remote that holds the weights adds
  chunkIndexes: process.argv.includes('--chunk-indexes'),
};
const keep = arg('dir');
const work = keep ?? mkdtempSync(join(tmpdir(), 'mvm-meta-'));
mkdirSync(work, { recursive: true });
const remote = join(work, 'remote');
const MB = 1e6;

// every backend this process opens adds its requests and bytes here when it closes
const served = { requests: 0, bytesDown: 0 };
const close = FolderBackend.prototype.close;
FolderBackend.prototype.close = async function () {
  served.requests += this.stats.requests;
  served.bytesDown += this.stats.bytesDown;
  return close.call(this);
};
const tally = async (fn) => {
  const before = { ...served };
  const t0 = performance.now();
  const value = await fn();
  return {
    value,
    seconds: (performance.now() - t0) / 1000,
    requests: served.requests - before.requests,
    bytes: served.bytesDown - before.bytesDown,
  };
};

/** Bytes of the files under a folder (sizes, not blocks). */
function folderBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return n;
}

// 1. the remote (reused when --dir holds one of this shape)
const shapeFile = join(work, 'shape.json');
let built;
if (existsSync(shapeFile) && readFileSync(shapeFile, 'utf8') === JSON.stringify(shape)) {
  built = JSON.parse(readFileSync(join(work, 'built.json'), 'utf8'));
  console.error(`reusing the remote in ${remote}`);
} else {
  rmSync(remote, { recursive: true, force: true });
  mkdirSync(remote);
  const backend = new FolderBackend(remote, remote);
  const t0 = performance.now();
  const res = await writeMetadataHistory(backend, {
    ...shape,
    onVersion: (n) => n % 50 === 0 && console.error(`  ${n}/${shape.versions} versions written`),
  });
  await backend.close();
  built = { ...res, seconds: (performance.now() - t0) / 1000, remoteBytes: folderBytes(remote) };
  writeFileSync(join(work, 'built.json'), JSON.stringify(built));
  writeFileSync(shapeFile, JSON.stringify(shape));
}
served.requests = 0;
served.bytesDown = 0;

// 2. the partial clone: manifests, the checked-out version's file objects, config.json's chunk
const cloneDir = join(work, 'clone');
rmSync(cloneDir, { recursive: true, force: true });
const cl = await tally(() => clone(remote, { dir: cloneDir, only: ['config.json'] }));

// 3. offline: the remote renamed away
const cli = (args) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin/mvm.js'), ...args], { cwd: cloneDir, encoding: 'utf8' });
  return { ...r, seconds: (performance.now() - t0) / 1000 };
};
const away = `${remote}.away`;
renameSync(remote, away);
const n = shape.versions;
const where = 'metrics.accuracy > 0.9 and params.lr < 0.001';
const offline = [
  ['log -n 10', ['log', '-n', '10', '--oneline']],
  [`log --where '${where}'`, ['log', '--where', where, '--oneline']],
  ['best --metric accuracy', ['best', '--metric', 'accuracy']],
  [`compare v1 v${n}`, ['compare', 'v1', `v${n}`, '--json']],
  ['report --no-pair', ['report', '--no-pair', '-o', join(work, 'report.html')]],
].map(([label, args]) => {
  const r = cli(args);
  const lines = r.stdout.trim() ? r.stdout.trim().split('\n').length : 0;
  return { label, ok: r.status === 0, lines, seconds: r.seconds, err: r.stderr };
});
const diffOffline = cli(['diff', `v${n - 1}`, `v${n}`, '--json']);
renameSync(away, remote);

// 3b. the same clone by another build's CLI, when asked (GNU time gives its peak RSS)
const baseline = arg('baseline');
let base = null;
if (baseline) {
  const dir = join(work, 'baseline-clone');
  rmSync(dir, { recursive: true, force: true });
  const t0 = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'peak-rss-kb %M',
      process.execPath,
      join(baseline, 'bin/mvm.js'),
      'clone',
      remote,
      dir,
      '--only',
      'config.json',
      '--json',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  let out = null;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    /* it failed: the exit code and stderr say how */
  }
  base = {
    status: r.status,
    seconds: (performance.now() - t0) / 1000,
    rssMB: Number(/peak-rss-kb (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024,
    out,
    why: /heap out of memory/.test(r.stderr) ? 'JavaScript heap out of memory' : r.stderr.trim().split('\n')[0],
  };
  rmSync(dir, { recursive: true, force: true });
}

// 4. online again: a diff of two versions fetches the file objects of the one not read yet
const repo = openRepository(cloneDir);
const d = await tally(() => repo.chunks.tally(() => diff(repo, { from: `v${Math.max(1, n - 1)}`, to: `v${n}` })));
const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');

const fmt = (b) => (b >= 0.1 * MB ? `${(b / MB).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const gbModel = (shape.modelBytes / 1e9).toFixed(0);
console.log(`# Metadata that scales: partial clone of a ${n}-version metadata-only history\n`);
console.log(`- date: ${new Date().toISOString()}`);
console.log(`- load: ${load}`);
console.log(
  `- history: ${n} versions of a ${gbModel} GB model, ${shape.shards} shards + config.json, ` +
    `${shape.chunkSize / 1048576} MiB chunks (${built.chunkIdsPerVersion} chunk ids a version, all changed by each ` +
    `fine-tune), ${shape.perPush} version(s) a push`,
);
console.log(`- remote built in: ${built.seconds.toFixed(1)} s (${built.packs} packs)`);
console.log(`- work folder: ${work}\n`);
console.log('## Sizes on the remote\n');
console.log('| what | bytes | per version |');
console.log('| --- | --- | --- |');
console.log(`| manifests (stored) | ${fmt(built.manifestBytes)} | ${fmt(built.manifestBytes / n)} |`);
console.log(`| file objects (stored) | ${fmt(built.fileObjectBytes)} | ${fmt(built.fileObjectBytes / n)} |`);
if (shape.chunkIndexes)
  console.log(
    `| pack indexes of the chunks' packs (${built.chunkIndexes}, marked chunks-only; indexes only, no packs) | ` +
      `${fmt(built.chunkIndexBytes)} | ${fmt(built.chunkIndexBytes / n)} |`,
  );
console.log(`| the whole remote folder | ${fmt(built.remoteBytes)} | ${fmt(built.remoteBytes / n)} |`);
console.log('\n## Partial clone (folder remote)\n');
console.log('| step | seconds | requests | bytes moved |');
console.log('| --- | --- | --- | --- |');
console.log(`| clone --only config.json | ${cl.seconds.toFixed(2)} | ${cl.requests} | ${fmt(cl.bytes)} |`);
console.log(
  `| diff v${n - 1} v${n} after it (fetches one version's file objects) | ${d.seconds.toFixed(2)} | ` +
    `${d.requests} | ${fmt(d.bytes)} |`,
);
if (base)
  console.log(
    `| the same clone by ${baseline} (its own count of object bytes) | ${base.seconds.toFixed(2)} | ` +
      `${base.out?.requests ?? '-'} | ` +
      `${base.out ? fmt(base.out.bytes) : `exit ${base.status}: ${base.why}`} (peak RSS ${base.rssMB.toFixed(0)} MB) |`,
  );
console.log(`\n- clone's own count: ${cl.value.requests} requests, ${fmt(cl.value.bytes)} of objects`);
console.log(`- the clone's .mvm: ${fmt(folderBytes(join(cloneDir, '.mvm')))}`);
console.log('\n## Offline (remote renamed away)\n');
console.log('| command | exit 0 | lines | seconds |');
console.log('| --- | --- | --- | --- |');
for (const o of offline)
  console.log(`| ${o.label} | ${o.ok ? 'yes' : `no: ${o.err.trim()}`} | ${o.lines} | ${o.seconds.toFixed(3)} |`);
console.log(`| diff v${n - 1} v${n} (needs a file object not fetched) | exit ${diffOffline.status} | | |`);
const pass = cl.bytes <= 50 * MB && offline.every((o) => o.ok);
console.log(
  `\n${pass ? 'PASS' : 'MISS'} partial clone moves ${fmt(cl.bytes)} (bar: at most 50 MB); ` +
    `log --where offline: ${offline[1].ok ? 'works' : 'fails'}`,
);
if (!keep) rmSync(work, { recursive: true, force: true });
