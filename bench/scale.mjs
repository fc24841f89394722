#!/usr/bin/env node
// Scale: a sharded bf16 checkpoint (8 safetensors shards) at 1, 4 and 16 GiB.
// For each size: first commit (init + add + commit), commit of a fine-tune in
// which every tenth tensor changed (w += N(0, (0.1 sigma)^2)), `diff v1 v2`,
// `diff --stats v1 v2`, and a full restore (shards deleted, checkout), each
// with wall time, seconds per GiB and peak RSS (/usr/bin/time %M, worker
// threads included). The bar of issue 11: peak RSS under 300 MB and times
// linear in size (per-GiB figures stated at every size; "linear" is judged
// as the largest size's per-GiB time within 1.25x of the smallest's). `cp -r`
// of the shards, timed the same way, shows what writing the checkpoint out
// costs the disk at each size; the bytes read from disk during diff --stats
// and the restore (/proc/diskstats) show how much of their input came from
// disk rather than the page cache.
// Usage: npm run bench:scale [-- --sizes 1,4,16]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planModel, tuneTensors, writeModel } from './gen.mjs';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'scale' });

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const i = process.argv.indexOf('--sizes');
const sizes = (i >= 0 ? process.argv[i + 1] : '1,4,16').split(',').map(Number);
const SHARDS = 8;
const MiB = 1 << 20;
const GiB = 1 << 30;
const MVM = join(root, 'bin/mvm.js');
const base = mkdtempSync(join(tmpdir(), 'mvm-scale-'));
const env = { ...process.env, MVM_AUTHOR: 'bench' };

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

function timed(args, cwd) {
  const tf = join(base, 'time.txt');
  const read0 = diskReadBytes();
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', tf, process.execPath, MVM, ...args], {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`mvm ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const rssKB = Number(readFileSync(tf, 'utf8').trim().split('\n').pop());
  return { wall, rssKB, out: r.stdout, diskRead: diskReadBytes() - read0 };
}
const sync = () => execFileSync('sync');
const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;

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
    timed(['init'], dir);
    timed(['add', 'ckpt'], dir);
    sync();
    row.commit1 = timed(['commit', '-m', 'v1'], dir);
    for (const n of names) tuneTensors(n.path, n.tuned, { rel: 0.1, seed: 'v2' });
    sync();
    row.commit2 = timed(['commit', '-m', 'v2'], dir);
    row.diff = timed(['diff', 'v1', 'v2'], dir);
    row.stats = timed(['diff', '--stats', 'v1', 'v2'], dir);
    // the plain-tool baseline for writing the checkpoint out: cp of the shards, timed the same way
    sync();
    const t0 = process.hrtime.bigint();
    execFileSync('cp', ['-r', shards, join(dir, 'copy')]);
    row.cp = { wall: Number(process.hrtime.bigint() - t0) / 1e9 };
    rmSync(join(dir, 'copy'), { recursive: true, force: true });
    rmSync(shards, { recursive: true, force: true });
    sync();
    row.restore = timed(['checkout', 'v2', '--force'], dir);
    results.push(row);
    rmSync(dir, { recursive: true, force: true });
  }
  const ops = [
    ['commit1', 'first commit'],
    ['commit2', 'commit of the fine-tune'],
    ['diff', 'diff v1 v2'],
    ['stats', 'diff --stats v1 v2'],
    ['restore', 'full restore (checkout)'],
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
      `before each commit and restore`,
  );
  console.log('');
  console.log(`| operation | ${results.map((r) => `${r.gib} GiB: wall, s/GiB, peak RSS`).join(' | ')} |`);
  console.log(`| --- | ${results.map(() => '---').join(' | ')} |`);
  for (const [k, label] of ops)
    console.log(
      `| ${label} | ${results
        .map((r) => `${r[k].wall.toFixed(2)} s, ${(r[k].wall / r.gib).toFixed(2)} s/GiB, ${mb(r[k].rssKB)}`)
        .join(' | ')} |`,
    );
  console.log(
    `| read from disk during diff --stats / the restore | ${results
      .map((r) => `${(r.stats.diskRead / GiB).toFixed(2)} / ${(r.restore.diskRead / GiB).toFixed(2)} GiB`)
      .join(' | ')} |`,
  );
  console.log(
    `| cp -r of the shards (baseline for the restore) | ${results
      .map(
        (r) =>
          `${r.cp.wall.toFixed(2)} s, ${(r.cp.wall / r.gib).toFixed(2)} s/GiB; ` +
          `restore ${(r.restore.wall / r.cp.wall).toFixed(2)}x cp`,
      )
      .join(' | ')} |`,
  );
  console.log('');
  const maxRss = Math.max(...results.flatMap((r) => ops.map(([k]) => r[k].rssKB)));
  console.log(`- ${maxRss < 300 * 1024 ? 'PASS' : 'MISS'} peak RSS under 300 MB at every size: max ${mb(maxRss)}`);
  const first = results[0];
  const last = results[results.length - 1];
  for (const [k, label] of ops) {
    if (k === 'diff') continue; // manifest-only: constant, not linear, in size
    const ratio = last[k].wall / last.gib / (first[k].wall / first.gib);
    console.log(
      `- ${ratio <= 1.25 ? 'PASS' : 'MISS'} ${label} linear in size: ${(first[k].wall / first.gib).toFixed(2)} ` +
        `s/GiB at ${first.gib} GiB, ${(last[k].wall / last.gib).toFixed(2)} s/GiB at ${last.gib} GiB ` +
        `(${ratio.toFixed(2)}x)`,
    );
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
