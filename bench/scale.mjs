#!/usr/bin/env node
// Scale: a sharded bf16 checkpoint (8 safetensors shards) at 1, 4, 16 and 32 GiB (issue 28).
// For each size: first commit (init + add + commit), commit of a fine-tune in which every tenth tensor
// changed (w += N(0, (0.1 sigma)^2)), `diff v1 v2`, `diff --stats v1 v2`, a switch back to v1 (10% of
// the bytes differ) and a full restore of v2 (shards deleted, checkout), each with wall time, seconds per
// GiB and peak RSS (/usr/bin/time %M, worker threads included).
// Every operation that reads or writes the checkpoint also has a baseline of the same size, taken right
// before it so the disk and the page cache are in the same state on both sides: `b3sum --num-threads 2`
// of the shards before each commit (reading and hashing them: the floor of a commit), `cp -r` of the
// shards before the switch and the restore (writing them out: the floor of a checkout). Where the disk
// has no room for a second copy beside the store, the cp baseline is taken before the first commit instead,
// and the output says so.
// Bars of issue 28: peak RSS under 300 MB everywhere; at the largest size, every operation's seconds per
// GiB within 1.25x of its figure at the smallest size, or within 1.0x of its same-size baseline.
// The bytes read from disk (/proc/diskstats) show how much of each input came from disk rather than the
// page cache.
// Usage: npm run bench:scale [-- --sizes 1,4,16,32]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planModel, tuneTensors, writeModel } from './gen.mjs';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'scale' });

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const i = process.argv.indexOf('--sizes');
const sizes = (i >= 0 ? process.argv[i + 1] : '1,4,16,32').split(',').map(Number);
const SHARDS = 8;
const MiB = 1 << 20;
const GiB = 1 << 30;
const MVM = join(root, 'bin/mvm');
const base = mkdtempSync(join(tmpdir(), 'mvm-scale-'));
const env = { ...process.env, MVM_AUTHOR: 'bench' };
// b3sum is Debian's package of the same name: installed when missing and running as root, as the other benches do
if (spawnSync('sh', ['-c', 'command -v b3sum']).status !== 0 && process.getuid?.() === 0)
  spawnSync('apt-get', ['install', '-y', '-q', 'b3sum'], { stdio: 'ignore' });

/**
 * Bytes read from the machine's disks so far (/proc/diskstats, whole disks
 * only, 512-byte sectors): how much of a command's input came from disk
 * rather than the page cache. 0 where the file is missing.
 */
function diskReadBytes() {
  try {
    return readFileSync('/proc/diskstats', 'utf8')
      .split('\n')
      .reduce((sum, line) => {
        const f = line.trim().split(/\s+/);
        return /^(vd[a-z]+|sd[a-z]+|xvd[a-z]+|nvme\d+n\d+)$/.test(f[2] ?? '') ? sum + Number(f[5]) * 512 : sum;
      }, 0);
  } catch {
    return 0;
  }
}

/** One process under /usr/bin/time: wall seconds, peak RSS (KB), bytes read from disk, stdout. */
function timedCmd(cmd, args, cwd) {
  const tf = join(base, 'time.txt');
  const read0 = diskReadBytes();
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', tf, cmd, ...args], {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const rssKB = Number(readFileSync(tf, 'utf8').trim().split('\n').pop());
  return { wall, rssKB, out: r.stdout, diskRead: diskReadBytes() - read0 };
}
const timed = (args, cwd) => timedCmd(MVM, args, cwd);
const sync = () => execFileSync('sync');
const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
const shardFiles = (dir) => readdirSync(dir).map((f) => join(dir, f));
/** `b3sum --num-threads 2` of the shards: the floor of reading and hashing them. */
const b3sum = (shards, cwd) => (sync(), timedCmd('b3sum', ['--num-threads', '2', ...shardFiles(shards)], cwd));
/** `cp -r` of the shards into a new folder (removed after): the floor of writing them out. */
function cpBaseline(shards, cwd) {
  sync();
  const r = timedCmd('cp', ['-r', shards, join(cwd, 'copy')], cwd);
  rmSync(join(cwd, 'copy'), { recursive: true, force: true });
  sync();
  return r;
}
const freeBytes = (dir) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

const results = [];
try {
  for (const gib of sizes) {
    const dir = join(base, `ws-${gib}`);
    const shards = join(dir, 'ckpt');
    mkdirSync(shards, { recursive: true });
    console.error(`${gib} GiB: writing ${SHARDS} shards`);
    const per = planModel((gib * GiB) / SHARDS);
    const names = [];
    for (let s = 0; s < SHARDS; s++) {
      const tensors = per.map((t) => ({ ...t, name: `s${s}.${t.name}` }));
      const path = join(
        shards,
        `model-${String(s + 1).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.safetensors`,
      );
      writeModel(path, tensors, { seedOf: (n) => n });
      names.push({ path, tuned: tensors.filter((_, k) => k % 10 === 3).map((t) => t.name) });
    }
    sync();
    const row = { gib };
    // the store of a bf16 checkpoint takes about 0.7x its size: a second copy fits beside both only with room
    const roomForCopy = () => freeBytes(dir) > gib * GiB * 1.2 + 4 * GiB;
    // the copy is timed before the first commit when there will be no room for it beside the store
    row.cpEarly = freeBytes(dir) < gib * GiB * 2 + 4 * GiB;
    if (row.cpEarly) row.cpBase = cpBaseline(shards, dir);
    console.error(`${gib} GiB: first commit`);
    timed(['init'], dir);
    timed(['add', 'ckpt'], dir);
    row.b3sum1 = b3sum(shards, dir);
    sync();
    row.commit1 = timed(['commit', '-m', 'v1'], dir);
    for (const n of names) tuneTensors(n.path, n.tuned, { rel: 0.1, seed: 'v2' });
    row.b3sum2 = b3sum(shards, dir);
    sync();
    row.commit2 = timed(['commit', '-m', 'v2'], dir);
    row.diff = timed(['diff', 'v1', 'v2'], dir);
    row.stats = timed(['diff', '--stats', 'v1', 'v2'], dir);
    if (!row.cpEarly) row.cpBase = cpBaseline(shards, dir);
    console.error(`${gib} GiB: switch and restore`);
    sync();
    // a checkout keeps every replaced file until HEAD moves (so a failure can put the workspace back): switching
    // every shard needs room for a second copy of the checkpoint
    if (roomForCopy()) row.switch = timed(['checkout', 'v1'], dir);
    else row.noSwitch = true;
    rmSync(shards, { recursive: true, force: true });
    sync();
    row.restore = timed(['checkout', 'v2', '--force'], dir);
    results.push(row);
    rmSync(dir, { recursive: true, force: true });
  }
  // [key, label, baseline key (null: none)]
  const ops = [
    ['commit1', 'first commit', 'b3sum1'],
    ['commit2', 'commit of the fine-tune (10% of tensors changed)', 'b3sum2'],
    ['diff', 'diff v1 v2', null],
    ['stats', 'diff --stats v1 v2', null],
    ['switch', 'switch v2 -> v1 (checkout, 10% of bytes differ)', 'cpBase'],
    ['restore', 'full restore of v2 (shards deleted, checkout)', 'cpBase'],
  ];
  const baselines = [
    ['b3sum1', 'b3sum --num-threads 2, before the first commit'],
    ['b3sum2', 'b3sum --num-threads 2, before the fine-tune commit'],
    ['cpBase', 'cp -r of the shards'],
  ];
  console.log('# mvm scale benchmark');
  console.log(`- date: ${new Date().toUTCString()}`);
  console.log(
    `- machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / GiB).toFixed(1)} GiB RAM; ` +
      `load average at end ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  console.log(
    `- node ${process.version}; ${SHARDS} bf16 safetensors shards per checkpoint; one run per size; \`sync\` ` +
      'before each measurement; mvm runs through bin/mvm',
  );
  for (const r of results)
    if (r.cpEarly)
      console.log(`- ${r.gib} GiB: no room for a copy beside the store: cp -r was timed before the first commit`);
  console.log('');
  console.log(`| operation | ${results.map((r) => `${r.gib} GiB: wall, s/GiB, x baseline, peak RSS`).join(' | ')} |`);
  console.log(`| --- | ${results.map(() => '---').join(' | ')} |`);
  const cell = (r, k, b) =>
    !r[k]
      ? 'not run: no room for a second copy'
      : `${r[k].wall.toFixed(2)} s, ${(r[k].wall / r.gib).toFixed(2)} s/GiB, ` +
        `${b ? `${(r[k].wall / r[b].wall).toFixed(2)}x, ` : ''}${mb(r[k].rssKB)}`;
  for (const [k, label, b] of ops) console.log(`| ${label} | ${results.map((r) => cell(r, k, b)).join(' | ')} |`);
  for (const [k, label] of baselines)
    console.log(
      `| baseline: ${label} | ${results
        .map((r) => `${r[k].wall.toFixed(2)} s, ${(r[k].wall / r.gib).toFixed(2)} s/GiB`)
        .join(' | ')} |`,
    );
  console.log(
    `| read from disk: first commit / diff --stats / restore | ${results
      .map(
        (r) =>
          `${(r.commit1.diskRead / GiB).toFixed(2)} / ${(r.stats.diskRead / GiB).toFixed(2)} / ` +
          `${(r.restore.diskRead / GiB).toFixed(2)} GiB`,
      )
      .join(' | ')} |`,
  );
  console.log('');
  const maxRss = Math.max(...results.flatMap((r) => ops.map(([k]) => r[k]?.rssKB ?? 0)));
  console.log(`- ${maxRss < 300 * 1024 ? 'PASS' : 'MISS'} peak RSS under 300 MB at every size: max ${mb(maxRss)}`);
  const first = results[0];
  const last = results[results.length - 1];
  for (const [k, label, b] of ops) {
    if (k === 'diff') continue; // manifest-only: constant, not linear, in size
    if (!last[k] || !first[k]) {
      console.log(`- MISS ${label}: not measured at ${last.gib} GiB (no room for a second copy of the checkpoint)`);
      continue;
    }
    const ratio = last[k].wall / last.gib / (first[k].wall / first.gib);
    const vsBase = b ? last[k].wall / last[b].wall : null;
    const pass = ratio <= 1.25 || (vsBase !== null && vsBase <= 1.0);
    console.log(
      `- ${pass ? 'PASS' : 'MISS'} ${label}: ${(first[k].wall / first.gib).toFixed(2)} s/GiB at ${first.gib} GiB, ` +
        `${(last[k].wall / last.gib).toFixed(2)} s/GiB at ${last.gib} GiB (${ratio.toFixed(2)}x, bar 1.25x)` +
        (vsBase !== null ? `; ${vsBase.toFixed(2)}x its same-size baseline at ${last.gib} GiB (bar 1.0x)` : ''),
    );
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
