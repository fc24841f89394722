#!/usr/bin/env node
// Float data that no model parser recognises: a raw little-endian f32 array
// with no container, and the same array as a NumPy .npy file. Compares what
// mvm stores with plain zstd -3 and with byte planes of width 4 (+ zstd -3)
// of the same bytes, in the same run. Usage: npm run bench:floats [-- --size-mib N]
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillF32, randomStream } from './gen.mjs';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'floats' });

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { groupBytes } = await import(join(root, 'dist/storage/bytegroup.js'));
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const sizeMiB = arg('--size-mib', 256);
const dir = mkdtempSync(join(tmpdir(), 'mvm-floats-'));
const env = { ...process.env, MVM_AUTHOR: 'bench', NO_COLOR: '1' };
const MiB = 1 << 20;
const pct = (a, b) => `${((100 * a) / b).toFixed(1)}%`;

function mvm(cwd, ...args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'bin/mvm.js'), ...args], {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  if (r.status !== 0) throw new Error(`mvm ${args.join(' ')}: ${r.stderr}`);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, out: r.stdout };
}
function zstdSize(path) {
  execFileSync('zstd', ['-q', '-f', '-3', path, '-o', `${path}.zst`]);
  const n = statSync(`${path}.zst`).size;
  rmSync(`${path}.zst`);
  return n;
}
/**
 * Byte planes of width 4 (optionally with the sign rotated to bit 0, as mvm's f32 kind does), 1 MiB blocks,
 * then zstd -3 of the whole.
 */
function planesSize(path, data, kind) {
  const out = Buffer.alloc(data.length);
  for (let at = 0; at < data.length; at += MiB)
    groupBytes(data.subarray(at, Math.min(data.length, at + MiB)), kind, out.subarray(at));
  writeFileSync(`${path}.${kind}`, out);
  const n = zstdSize(`${path}.${kind}`);
  rmSync(`${path}.${kind}`);
  return n;
}

try {
  // "trained-like": rows of 4096 N(0, sigma) values, sigma log-uniform in [0.004, 0.1] per row, a few
  // rows of near-constant values (norm scales), and true f32 mantissas (not derived from bf16)
  const n = (sizeMiB * MiB) / 4;
  const data = new Float32Array(n);
  const next = randomStream('floats');
  const row = new Float32Array(4096);
  const pick = randomStream('scales');
  for (let at = 0; at < n; at += 4096) {
    const u = pick(4).readUInt32LE(0) / 4294967296;
    const sigma = Math.exp(Math.log(0.004) + u * (Math.log(0.1) - Math.log(0.004)));
    fillF32(row, next, sigma);
    if ((at / 4096) % 97 === 0) for (let i = 0; i < row.length; i++) row[i] = 1 + row[i] * 0.01;
    data.set(row.subarray(0, Math.min(4096, n - at)), at);
  }
  const bytes = Buffer.from(data.buffer);
  const raw = join(dir, 'work/shard.bin');
  const npy = join(dir, 'work/shard.npy');
  execFileSync('mkdir', ['-p', join(dir, 'work')]);
  writeFileSync(raw, bytes);
  // the same array as .npy: version 1 header padded to 64 bytes
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n},), }`;
  header = header.padEnd(64 * Math.ceil((10 + header.length + 1) / 64) - 10 - 1, ' ') + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  const fd = openSync(npy, 'w');
  writeSync(fd, Buffer.concat([pre, Buffer.from(header, 'latin1')]));
  writeSync(fd, bytes);
  closeSync(fd);

  const zstd3 = zstdSize(raw);
  const w4 = planesSize(raw, bytes, 'w4');
  const f32 = planesSize(raw, bytes, 'f32');
  const results = [];
  for (const file of ['shard.bin', 'shard.npy']) {
    const ws = join(dir, file.replace('.', '-'));
    execFileSync('mkdir', ['-p', ws]);
    execFileSync('cp', [join(dir, 'work', file), ws]);
    mvm(ws, 'init');
    mvm(ws, 'add', file);
    const c = mvm(ws, 'commit', '-m', 'x', '--json');
    const stored = JSON.parse(c.out).storedBytes;
    results.push({ file, stored, wall: c.wall });
  }
  const size = bytes.length;
  const lines = [
    `# mvm float benchmark`,
    ``,
    `- date: ${new Date().toUTCString()}`,
    `- machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; node ` +
      `${process.version}`,
    `- data: ${sizeMiB} MiB of little-endian f32, rows of 4096 N(0, sigma) with sigma log-uniform in [0.004, 0.1], ` +
      `every 97th row near 1 (norm-like), true f32 mantissas`,
    ``,
    `| stored as | bytes | of the data |`,
    `| --- | ---: | ---: |`,
    `| zstd -3 | ${zstd3} | ${pct(zstd3, size)} |`,
    `| byte planes w4 + zstd -3 | ${w4} | ${pct(w4, size)} |`,
    `| byte planes w4, sign rotated + zstd -3 | ${f32} | ${pct(f32, size)} |`,
    ...results.map(
      (r) => `| mvm commit of ${r.file} (${r.wall.toFixed(2)} s) | ${r.stored} | ${pct(r.stored, size)} |`,
    ),
    ``,
  ];
  const rawStored = results[0].stored;
  const bar1 = (100 * rawStored) / size - (100 * w4) / size <= 1;
  const bar2 = rawStored <= zstd3;
  lines.push(
    `- ${bar1 ? 'PASS' : 'MISS'} raw f32 stores within 1 point of byte planes w4 + zstd -3: ` +
      `${pct(rawStored, size)} vs ${pct(w4, size)}`,
  );
  lines.push(
    `- ${bar2 ? 'PASS' : 'MISS'} raw f32 never above plain zstd -3: ${pct(rawStored, size)} vs ${pct(zstd3, size)}`,
  );
  console.log(lines.join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
