#!/usr/bin/env node
// Fine-tune deltas: a 1 GiB bf16 model A, and A with every tenth tensor
// fine-tuned (w += N(0, (rel * 0.02)^2)) at rel = 10% and 1%. Measures what
// committing the fine-tune stores against its changed bytes, with deltas
// (default) and without (MVM_DELTAS=0), and the full restore of the
// fine-tuned version against zstd -d of it, in the same run.
// Usage: npm run bench:finetune [-- --size-gib N]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planModel, tuneTensors, writeModel } from './gen.mjs';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'finetune' });

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const i = process.argv.indexOf('--size-gib');
const sizeGib = i >= 0 ? Number(process.argv[i + 1]) : 1;
const dir = mkdtempSync(join(tmpdir(), 'mvm-finetune-'));
const MiB = 1 << 20;
const fmt = (n) => `${(n / MiB).toFixed(2)} MiB`;

function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * MiB, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, out: r.stdout };
}
const mvm = (cwd, env, ...args) =>
  timed(process.execPath, [join(root, 'bin/mvm.js'), ...args], {
    cwd,
    env: { ...process.env, MVM_AUTHOR: 'bench', ...env },
  });
const du = (p) => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split(/\s+/)[0]);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

try {
  const tensors = planModel(sizeGib * 1024 * MiB);
  const A = join(dir, 'A.safetensors');
  writeModel(A, tensors, { seedOf: (n) => n });
  const names = tensors.filter((_, k) => k % 10 === 3).map((t) => t.name);
  const rows = [];
  const bars = [];
  for (const rel of [0.1, 0.01]) {
    const B = join(dir, `B${rel}.safetensors`);
    copyFileSync(A, B);
    const changed = tuneTensors(B, names, { rel, seed: `tune${rel}` });
    const result = {};
    for (const deltas of [true, false]) {
      const ws = join(dir, `ws-${rel}-${deltas}`);
      mkdirSync(ws);
      copyFileSync(A, join(ws, 'model.safetensors'));
      const env = deltas ? {} : { MVM_DELTAS: '0' };
      mvm(ws, env, 'init');
      mvm(ws, env, 'add', 'model.safetensors');
      mvm(ws, env, 'commit', '-m', 'A');
      const before = du(join(ws, '.mvm/objects'));
      copyFileSync(B, join(ws, 'model.safetensors'));
      execFileSync('sync');
      const c = mvm(ws, env, 'commit', '-m', `A tuned ${rel * 100}%`);
      const grown = du(join(ws, '.mvm/objects')) - before;
      const restores = [];
      for (let r = 0; r < 3; r++) {
        rmSync(join(ws, 'model.safetensors'));
        execFileSync('sync');
        restores.push(mvm(ws, env, 'checkout', 'main').wall);
      }
      result[deltas] = { grown, commit: c.wall, restore: median(restores) };
      if (!deltas) rmSync(ws, { recursive: true, force: true });
    }
    // zstd -d of the same fine-tuned model, as the restore reference
    execFileSync('zstd', ['-q', '-f', '-3', '-T2', B, '-o', `${B}.zst`]);
    const zd = [];
    for (let r = 0; r < 3; r++) {
      execFileSync('sync');
      zd.push(timed('zstd', ['-q', '-f', '-d', `${B}.zst`, '-o', `${B}.out`]).wall);
      rmSync(`${B}.out`);
    }
    const size = statSync(A).size;
    const d = result.true;
    const w = result.false;
    rows.push(
      `| ${rel * 100}% | ${names.length} tensors, ${fmt(changed)} | ${fmt(d.grown)} ` +
        `(${(d.grown / changed).toFixed(3)}x) | ${fmt(w.grown)} (${(w.grown / changed).toFixed(3)}x) | ` +
        `${d.commit.toFixed(2)} s / ${w.commit.toFixed(2)} s | ${d.restore.toFixed(3)} s ` +
        `(${(size / d.restore / 1e6).toFixed(0)} MB/s) / ${w.restore.toFixed(3)} s | ${median(zd).toFixed(3)} s |`,
    );
    const bound = rel === 0.1 ? 0.55 : 0.33;
    bars.push(
      `- ${d.grown / changed <= bound ? 'PASS' : 'MISS'} a fine-tune at ${rel * 100}% relative change stores <= ` +
        `${bound}x its changed bytes: ${(d.grown / changed).toFixed(3)}x (whole chunks: ` +
        `${(w.grown / changed).toFixed(3)}x)`,
    );
    bars.push(
      `- ${size / d.restore >= 1e9 ? 'PASS' : 'MISS'} full restore of that version >= 1 GB/s: ` +
        `${(size / d.restore / 1e6).toFixed(0)} MB/s (zstd -d ${(size / median(zd) / 1e6).toFixed(0)} MB/s)`,
    );
    rmSync(B, { force: true });
    rmSync(`${B}.zst`, { force: true });
  }
  console.log(
    [
      '# mvm fine-tune benchmark',
      '',
      `- date: ${new Date().toUTCString()}`,
      `- machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; node ` +
        `${process.version}`,
      `- model: ${sizeGib} GiB bf16 safetensors, N(0, 0.02); every tenth tensor fine-tuned: w += N(0, (rel x ` +
        `0.02)^2), rounded to bf16`,
      '- objects growth is du -sb of .mvm/objects after the second commit minus before it; restores are medians of ' +
        '3 (file deleted, checkout), warm page cache',
      '',
      '| relative change | changed | stored with deltas | stored whole (MVM_DELTAS=0) | commit time (deltas / ' +
        'whole) | full restore (deltas / whole) | zstd -d |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      ...bars,
    ].join('\n'),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
