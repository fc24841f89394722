#!/usr/bin/env node
// A model file with a million tiny tensors: peak RSS of commit, status, diff,
// diff --stats, checkout and fsck against the < 300 MB bar, with `cp` and
// `zstd -3` of the same file timed in the same run for scale. Every measured
// command runs under /usr/bin/time (peak RSS from %M).
//
//   node bench/tensors.mjs [--tensors 1000000]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'tensors' });

const MVM = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'bin', 'mvm.js');
const i = process.argv.indexOf('--tensors');
const N = i > 0 ? Number(process.argv[i + 1]) : 1_000_000;
const TMP = mkdtempSync('/tmp/mvm-tensors-');
const ENV = { ...process.env, MVM_AUTHOR: 'bench', NO_COLOR: '1' };

/** Writes a safetensors file of N tensors of two F32 values each; `seed` changes one value in a thousand. */
function writeModel(path, seed) {
  const parts = ['{"__metadata__":{"format":"pt"}'];
  for (let k = 0; k < N; k++)
    parts.push(`,"layer.${k}.bias":{"dtype":"F32","shape":[2],"data_offsets":[${k * 8},${k * 8 + 8}]}`);
  parts.push('}');
  let header = parts.join('');
  header += ' '.repeat((8 - (Buffer.byteLength(header) % 8)) % 8);
  const data = new Float32Array(N * 2);
  for (let k = 0; k < data.length; k++) data[k] = Math.sin(k * 0.001) * 0.02 + (k % 1000 === 0 ? seed : 0);
  const fd = openSync(path, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(header));
  writeSync(fd, Buffer.from(data.buffer));
  closeSync(fd);
}

function timed(cmd, args, cwd) {
  const tf = join(TMP, 'time.txt');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', tf, cmd, ...args], {
    cwd,
    env: ENV,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return { wall, rssKB: Number(readFileSync(tf, 'utf8').trim().split('\n').pop()) };
}
const mvm = (cwd, ...args) => timed(process.execPath, [MVM, ...args], cwd);

try {
  const ws = join(TMP, 'ws');
  spawnSync('mkdir', ['-p', ws]);
  spawnSync('git', ['init', '-q'], { cwd: ws });
  const model = join(ws, 'model.safetensors');
  writeModel(model, 0);
  const size = readFileSync(model).length;
  const rows = [];
  const note = (op, r) => rows.push([op, r.wall.toFixed(2) + ' s', (r.rssKB / 1024).toFixed(1) + ' MB']);
  note('cp', timed('cp', [model, join(TMP, 'copy')], TMP));
  note('zstd -3', timed('zstd', ['-q', '-3', '-f', '-o', join(TMP, 'copy.zst'), model], TMP));
  mvm(ws, 'init');
  mvm(ws, 'add', 'model.safetensors');
  note('mvm commit v1', mvm(ws, 'commit', '-m', 'v1'));
  writeModel(model, 1);
  note('mvm status', mvm(ws, 'status'));
  note('mvm commit v2', mvm(ws, 'commit', '-m', 'v2'));
  note('mvm diff v1 v2', mvm(ws, 'diff', 'v1', 'v2'));
  note('mvm diff --stats v1 v2', mvm(ws, 'diff', '--stats', 'v1', 'v2'));
  note('mvm checkout v1', mvm(ws, 'checkout', 'v1'));
  note('mvm fsck', mvm(ws, 'fsck'));
  const peak = Math.max(...rows.filter((r) => r[0].startsWith('mvm')).map((r) => parseFloat(r[2])));
  console.log(
    `## ${N} tensors in one safetensors file (${(size / 2 ** 20).toFixed(1)} MiB, header ` +
      `${((size - N * 8) / 2 ** 20).toFixed(1)} MiB)\n`,
  );
  console.log('| operation | wall | peak RSS |\n| --- | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\nbar: peak RSS of every mvm command < 300 MB: ${peak < 300 ? 'PASS' : 'MISS'} (${peak.toFixed(1)} MB)`);
} finally {
  rmSync(TMP, { recursive: true, force: true });
}
