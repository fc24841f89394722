/**
 * Float data outside the four model formats: NumPy .npy / .npz files are
 * tensor layouts (chunks restart at each array, diff names the array), and a
 * raw f32 array with no container gets byte planes chosen per chunk.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compress } from 'zstd-napi';
import { groupBytes } from '../../src/storage/bytegroup.js';
import { mvm, testdir } from '../helpers/cli.js';
import { json, ok, write } from '../helpers/assertions.js';
import { prng, writeNpy, writeNpz } from '../helpers/modelWriters.js';

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

/** Rows of 1024 N(0, sigma) f32 values, sigma varying from row to row, as trained weights look. */
function weights(count: number, seed: number): Buffer {
  const r = prng(seed);
  const out = new Float32Array(count);
  let sigma = 0.02;
  for (let i = 0; i < count; i++) {
    if (i % 1024 === 0) sigma = 0.004 * Math.exp(r() * 3);
    out[i] = sigma * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  }
  return Buffer.from(out.buffer);
}

function repo(files: Record<string, Buffer | string>) {
  const t = testdir(files);
  cleanups.push(t.cleanup);
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  ok(run(['init']));
  ok(run(['add', ...Object.keys(files)]));
  return { ...t, run, commit: (m: string) => json(run(['commit', '-m', m, '--json'])) };
}

describe('float data without a model container', () => {
  it('.npz: each array is a tensor; a change to one is stored and named alone; checkout is bit-exact', () => {
    const a = weights(64 * 1024, 1);
    const b = weights(32 * 1024, 2);
    const v1 = writeNpz([{ name: 'encoder', npy: writeNpy('<f4', [64, 1024], a) }, { name: 'decoder', npy: writeNpy('<f4', [32, 1024], b) }]);
    const r = repo({ 'weights.npz': v1 });
    r.commit('v1');
    const v2 = writeNpz([{ name: 'encoder', npy: writeNpy('<f4', [64, 1024], a) }, { name: 'decoder', npy: writeNpy('<f4', [32, 1024], weights(32 * 1024, 3)) }]);
    write(r.path('weights.npz'), v2);
    const c2 = r.commit('v2');
    // only the decoder's bytes (and the zip's directory) are new
    expect(c2.newBytes).toBeLessThan(b.length + 4096);
    const d = json(r.run(['diff', 'v1', 'v2', '--json']));
    expect(d.files[0].tensors.format).toBe('numpy');
    expect(d.files[0].tensors.changes.map((c: any) => [c.name, c.status, c.dtype[1], c.shape[1]])).toEqual([['decoder', 'values', 'F32', [32, 1024]]]);
    ok(r.run(['checkout', 'v1']));
    expect(readFileSync(r.path('weights.npz')).equals(v1)).toBe(true);
  });

  it('.npy: one tensor with its dtype and shape', () => {
    const r = repo({ 'emb.npy': writeNpy('<f2', [256, 64], Buffer.alloc(256 * 64 * 2, 0x3c)) });
    r.commit('v1');
    expect(json(r.run(['diff', '--json'])).files.map((f: any) => [f.path, f.status])).toEqual([['emb.npy', 'unchanged']]);
    write(r.path('emb.npy'), writeNpy('<f2', [256, 64], Buffer.alloc(256 * 64 * 2, 0x3d)));
    const d = json(r.run(['diff', '--json']));
    expect(d.files[0].tensors.changes.map((c: any) => [c.name, c.dtype[1], c.shape[1]])).toEqual([['array', 'F16', [256, 64]]]);
  });

  it('a raw f32 array is stored as byte planes: below zstd -3, and near planes of width 4', () => {
    const data = weights(1 << 20, 7); // 4 MiB
    const r = repo({ 'shard.bin': data });
    const c = r.commit('v1');
    const zstd3 = compress(data, { compressionLevel: 3 }).length;
    let planes = 0;
    for (let at = 0; at < data.length; at += 1 << 20) planes += compress(groupBytes(data.subarray(at, at + (1 << 20)), 'w4'), { compressionLevel: 3 }).length;
    expect(c.storedBytes).toBeLessThan(zstd3 * 0.97);
    expect(c.storedBytes / data.length).toBeLessThan(planes / data.length + 0.01);
    ok(r.run(['checkout', '--force', 'v1']));
    expect(readFileSync(r.path('shard.bin')).equals(data)).toBe(true);
  });

  it('text and random bytes keep plain zstd (or raw): the guess never makes them larger', () => {
    const text = Array.from({ length: 40_000 }, (_, i) => `line ${i}: loss=${(1 / (i + 1)).toFixed(6)}`).join('\n');
    const random = Buffer.from(Array.from({ length: 1 << 19 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff));
    const r = repo({ 'train.log': text, 'blob.bin': random });
    const c = r.commit('v1');
    const zstdText = compress(Buffer.from(text), { compressionLevel: 3 }).length;
    const zstdRandom = Math.min(random.length, compress(random, { compressionLevel: 3 }).length);
    expect(c.storedBytes).toBeLessThanOrEqual((zstdText + zstdRandom) * 1.01 + 256);
  });
});
