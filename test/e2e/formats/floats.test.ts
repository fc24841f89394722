/**
 * Float data outside the four model formats: NumPy .npy / .npz files are
 * tensor layouts (chunks restart at each array, diff names the array), and a
 * raw f32 array with no container gets byte planes chosen per chunk.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compress } from 'zstd-napi';
import { groupBytes } from '../../../src/storage/bytegroup.js';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { torchPickle } from '../../helpers/torch.js';
import {
  prng,
  randomBf16,
  writeBundleIndex,
  writeNpy,
  writeNpz,
  writeOnnx,
  writeTflite,
  writeTorchZip,
} from '../../helpers/modelWriters.js';

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
type Repo = ReturnType<typeof repo>;
type PlaneBound = { share: number; planes: number; slack: number };

/** v1 -> v2 changed only the values of `name`, an F32 [32, 1024] tensor of the first file (read as `format`);
 * checkout v1 brings `file` back as `v1`. */
function expectOneF32Change(r: Repo, format: string, name: string, file: string, v1: Buffer): void {
  const d = json(r.run(['diff', 'v1', 'v2', '--json']));
  expect(d.files[0].tensors.format).toBe(format);
  expect(d.files[0].tensors.changes.map((c: any) => [c.name, c.status, c.dtype[1], c.shape[1]])).toEqual([
    [name, 'values', 'F32', [32, 1024]],
  ]);
  ok(r.run(['checkout', 'v1']));
  expect(readFileSync(r.path(file)).equals(v1)).toBe(true);
}

/** `stored` bytes for `file` (`data`): under `share` of zstd -3, within `slack` of `planes`; checkout restores it. */
function expectPlanes(r: Repo, file: string, data: Buffer, stored: number, b: PlaneBound) {
  expect(stored).toBeLessThan(compress(data, { compressionLevel: 3 }).length * b.share);
  expect(stored / data.length).toBeLessThan(b.planes / data.length + b.slack);
  ok(r.run(['checkout', '--force', 'v1']));
  expect(readFileSync(r.path(file)).equals(data)).toBe(true);
}

/** A fine-tune of bf16 weights of spread 0.02: w += N(0, (rel x 0.02)^2), rounded to bf16. */
function tuneBf16(w: Buffer, rel: number, seed: number): Buffer {
  const n = w.length / 2;
  const tuned = Buffer.from(w);
  const noise = randomBf16(n, rel * 0.02, seed);
  const f = new Float32Array(1);
  const bits = new Uint32Array(f.buffer);
  for (let i = 0; i < n; i++) {
    bits[0] = tuned.readUInt16LE(2 * i) << 16;
    const a = f[0]!;
    bits[0] = noise.readUInt16LE(2 * i) << 16;
    f[0] = a + f[0]!;
    tuned.writeUInt16LE((bits[0]! + 0x8000) >>> 16, 2 * i);
  }
  return tuned;
}

describe('float data without a model container', () => {
  it('.npz: each array is a tensor; a change to one is stored and named alone; checkout is bit-exact', () => {
    const a = weights(64 * 1024, 1);
    const b = weights(32 * 1024, 2);
    const v1 = writeNpz([
      { name: 'encoder', npy: writeNpy('<f4', [64, 1024], a) },
      { name: 'decoder', npy: writeNpy('<f4', [32, 1024], b) },
    ]);
    const r = repo({ 'weights.npz': v1 });
    r.commit('v1');
    const v2 = writeNpz([
      { name: 'encoder', npy: writeNpy('<f4', [64, 1024], a) },
      { name: 'decoder', npy: writeNpy('<f4', [32, 1024], weights(32 * 1024, 3)) },
    ]);
    write(r.path('weights.npz'), v2);
    const c2 = r.commit('v2');
    // only the decoder's bytes (and the zip's directory) are new
    expect(c2.newBytes).toBeLessThan(b.length + 4096);
    expectOneF32Change(r, 'numpy', 'decoder', 'weights.npz', v1);
  });

  it('TensorFlow.js shards: model.json places each weight in its shard; a change is named by weight', () => {
    const shards = (enc: Buffer, dec: Buffer) => {
      const all = Buffer.concat([enc, dec]);
      return {
        'web/group1-shard1of2.bin': all.subarray(0, 200 * 1024),
        'web/group1-shard2of2.bin': all.subarray(200 * 1024),
      };
    };
    const model = JSON.stringify({
      format: 'layers-model',
      modelTopology: {},
      weightsManifest: [
        {
          paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
          weights: [
            { name: 'encoder/kernel', shape: [64, 1024], dtype: 'float32' },
            { name: 'decoder/kernel', shape: [32, 1024], dtype: 'float32' },
          ],
        },
      ],
    });
    const enc = weights(64 * 1024, 11);
    const v1 = shards(enc, weights(32 * 1024, 12));
    const r = repo({ 'web/model.json': model, ...v1 });
    r.commit('v1');
    const file = json(r.run(['show', 'v1', '--json'])).version.files['web/group1-shard2of2.bin'];
    expect(file.size).toBe(184 * 1024);
    write(r.path('web/group1-shard2of2.bin'), shards(enc, weights(32 * 1024, 13))['web/group1-shard2of2.bin']);
    r.commit('v2');
    const d = json(r.run(['diff', 'v1', 'v2', '--json']));
    const changed = d.files.filter((f: any) => f.status !== 'unchanged');
    expect(changed.map((f: any) => [f.path, f.status])).toEqual([['web/group1-shard2of2.bin', 'modified']]);
    expect(changed[0].tensors.format).toBe('tfjs');
    expect(changed[0].tensors.changes.map((c: any) => [c.name, c.status, c.dtype[1]])).toEqual([
      ['decoder/kernel', 'values', 'F32'],
    ]);
    ok(r.run(['checkout', 'v1']));
    for (const [p, data] of Object.entries(v1)) expect(readFileSync(r.path(p)).equals(data), p).toBe(true);
  });

  it(
    'SavedModel variables: variables.index places each variable in variables.data-*; a change is named by ' +
      'variable',
    () => {
      const kernel = weights(64 * 1024, 21);
      const bias = weights(1024, 22);
      const vars = [
        {
          name: 'layer/kernel/.ATTRIBUTES/VARIABLE_VALUE',
          dtype: 1,
          shape: [64, 1024],
          offset: 0,
          size: kernel.length,
        },
        {
          name: 'layer/bias/.ATTRIBUTES/VARIABLE_VALUE',
          dtype: 1,
          shape: [1024],
          offset: kernel.length,
          size: bias.length,
        },
      ];
      const r = repo({
        'saved/saved_model.pb': 'graph',
        'saved/variables/variables.index': writeBundleIndex(vars),
        'saved/variables/variables.data-00000-of-00001': Buffer.concat([kernel, bias]),
      });
      r.commit('v1');
      const v1 = readFileSync(r.path('saved/variables/variables.data-00000-of-00001'));
      write(r.path('saved/variables/variables.data-00000-of-00001'), Buffer.concat([kernel, weights(1024, 23)]));
      r.commit('v2');
      const d = json(r.run(['diff', 'v1', 'v2', '--json']));
      const changed = d.files.filter((f: any) => f.status !== 'unchanged');
      expect(changed.map((f: any) => f.path)).toEqual(['saved/variables/variables.data-00000-of-00001']);
      expect(changed[0].tensors.format).toBe('tf-bundle');
      expect(changed[0].tensors.changes.map((c: any) => [c.name, c.status, c.dtype[1], c.shape[1]])).toEqual([
        ['layer/bias/.ATTRIBUTES/VARIABLE_VALUE', 'values', 'F32', [1024]],
      ]);
      ok(r.run(['checkout', 'v1']));
      expect(readFileSync(r.path('saved/variables/variables.data-00000-of-00001')).equals(v1)).toBe(true);
    },
  );

  it('TensorFlow Lite: each constant buffer is a tensor; a change is named by tensor', () => {
    const model = (w2: Buffer) =>
      writeTflite([
        { name: 'serving_default_input:0', type: 0, shape: [1, 1024] },
        { name: 'dense/MatMul', type: 0, shape: [64, 1024], data: weights(64 * 1024, 31) },
        { name: 'dense_1/MatMul', type: 0, shape: [32, 1024], data: w2 },
        { name: 'StatefulPartitionedCall:0', type: 0, shape: [1, 32] },
      ]);
    const v1 = model(weights(32 * 1024, 32));
    const r = repo({ 'model.tflite': v1 });
    const c1 = r.commit('v1');
    expect(c1.newChunks).toBeGreaterThan(2);
    write(r.path('model.tflite'), model(weights(32 * 1024, 33)));
    const c2 = r.commit('v2');
    // the unchanged 256 KiB tensor is not stored again
    expect(c2.newBytes).toBeLessThan(32 * 1024 * 4 + 8192);
    expectOneF32Change(r, 'tflite', 'dense_1/MatMul', 'model.tflite', v1);
  });

  it('ONNX external data: the .onnx model places each tensor in its data file; a change is named by tensor', () => {
    const a = weights(64 * 1024, 41);
    const b = weights(32 * 1024, 42);
    const model = writeOnnx([
      {
        name: 'encoder.weight',
        dataType: 1,
        dims: [64, 1024],
        external: { location: 'model.onnx.data', offset: 0, length: a.length },
      },
      {
        name: 'decoder.weight',
        dataType: 1,
        dims: [32, 1024],
        external: { location: 'model.onnx.data', offset: a.length, length: b.length },
      },
    ]);
    const v1 = Buffer.concat([a, b]);
    const r = repo({ 'm/model.onnx': model, 'm/model.onnx.data': v1 });
    r.commit('v1');
    write(r.path('m/model.onnx.data'), Buffer.concat([a, weights(32 * 1024, 43)]));
    const c2 = r.commit('v2');
    expect(c2.newBytes).toBeLessThan(b.length + 4096);
    const d = json(r.run(['diff', 'v1', 'v2', '--json']));
    const changed = d.files.filter((f: any) => f.status !== 'unchanged');
    expect(changed.map((f: any) => f.path)).toEqual(['m/model.onnx.data']);
    expect(changed[0].tensors.format).toBe('onnx');
    expect(changed[0].tensors.changes.map((c: any) => [c.name, c.status, c.dtype[1], c.shape[1]])).toEqual([
      ['decoder.weight', 'values', 'f32', [32, 1024]],
    ]);
    ok(r.run(['checkout', 'v1']));
    expect(readFileSync(r.path('m/model.onnx.data')).equals(v1)).toBe(true);
  });

  it('.npy: one tensor with its dtype and shape', () => {
    const r = repo({ 'emb.npy': writeNpy('<f2', [256, 64], Buffer.alloc(256 * 64 * 2, 0x3c)) });
    r.commit('v1');
    expect(json(r.run(['diff', '--json'])).files.map((f: any) => [f.path, f.status])).toEqual([
      ['emb.npy', 'unchanged'],
    ]);
    write(r.path('emb.npy'), writeNpy('<f2', [256, 64], Buffer.alloc(256 * 64 * 2, 0x3d)));
    const d = json(r.run(['diff', '--json']));
    expect(d.files[0].tensors.changes.map((c: any) => [c.name, c.dtype[1], c.shape[1]])).toEqual([
      ['array', 'F16', [256, 64]],
    ]);
  });

  it('a raw f32 array is stored as byte planes: below zstd -3, and near planes of width 4', () => {
    const data = weights(1 << 20, 7); // 4 MiB
    const r = repo({ 'shard.bin': data });
    const c = r.commit('v1');
    let planes = 0;
    for (let at = 0; at < data.length; at += 1 << 20)
      planes += compress(groupBytes(data.subarray(at, at + (1 << 20)), 'w4'), { compressionLevel: 3 }).length;
    expectPlanes(r, 'shard.bin', data, c.storedBytes, { share: 0.97, planes, slack: 0.01 });
  });

  it(
    'a PyTorch checkpoint whose pickle names no dtype: its storages get the per-chunk guess, bf16 and f32 planes, ' +
      'below zstd -3',
    () => {
      const bf16 = randomBf16(1 << 20, 0.02, 5); // 2 MiB
      const f32 = weights(1 << 19, 9); // 2 MiB
      const model = writeTorchZip([
        { key: '0', data: bf16 },
        { key: '1', data: f32 },
      ]);
      const r = repo({ 'pytorch_model.bin': model });
      const c = r.commit('v1');
      const planes =
        compress(groupBytes(bf16, 'bf16'), { compressionLevel: 3 }).length +
        compress(groupBytes(f32, 'w4'), { compressionLevel: 3 }).length;
      expectPlanes(r, 'pytorch_model.bin', model, c.storedBytes, { share: 0.93, planes, slack: 0.02 });
    },
  );

  it(
    'a PyTorch checkpoint whose pickle names bf16 storages: a fine-tuned storage is stored as a delta, diff gives ' +
      'its dtype and statistics',
    () => {
      const n = 1 << 20;
      const pickle = torchPickle([
        ['layer.0.weight', 'BFloat16Storage', '0', n],
        ['layer.1.weight', 'BFloat16Storage', '1', n],
      ]);
      const w0 = randomBf16(n, 0.02, 11);
      const w1 = randomBf16(n, 0.02, 12);
      const v1 = writeTorchZip(
        [
          { key: '0', data: w0 },
          { key: '1', data: w1 },
        ],
        { pickle },
      );
      const r = repo({ 'pytorch_model.bin': v1 });
      r.commit('v1');
      const tuned = tuneBf16(w1, 0.1, 13);
      write(
        r.path('pytorch_model.bin'),
        writeTorchZip(
          [
            { key: '0', data: w0 },
            { key: '1', data: tuned },
          ],
          { pickle },
        ),
      );
      const c2 = r.commit('v2');
      // stored whole, the changed storage takes about two thirds of its bytes; as a delta, about half
      expect(c2.storedBytes).toBeLessThan(0.6 * 2 * n);
      const d = json(r.run(['diff', '--stats', 'v1', 'v2', '--json'])).files[0].tensors;
      expect(d.format).toBe('pytorch');
      expect(d.changes.map((c: any) => [c.name, c.dtype[1], c.shape[1]])).toEqual([['layer.1.weight', 'BF16', [n]]]);
      expect(d.changes[0].stats.relL2).toBeGreaterThan(0.05);
      expect(d.changes[0].stats.relL2).toBeLessThan(0.2);
      ok(r.run(['checkout', '--force', 'v1']));
      expect(readFileSync(r.path('pytorch_model.bin')).equals(v1)).toBe(true);
    },
  );

  it.each([
    // unreadable from its first opcode on (as to an mvm that did not read pickles): storages data/<key>, dtype unknown
    ['no pickle read', (p: Buffer) => Buffer.from(p).fill(0xff, 2, 3), ['data/0', 'data/1']],
    // storage classes that name no dtype: storages named after their tensors, dtype unknown
    [
      'no dtype',
      (p: Buffer) => Buffer.from(p.toString('latin1').replaceAll('BFloat16Storage', 'BFloat16Storagf'), 'latin1'),
      ['layer.0.weight', 'layer.1.weight'],
    ],
  ] as const)(
    'a checkpoint first stored without its dtypes (%s) still gets a delta once they are read',
    (_, unreadable, firstNames) => {
      const n = 1 << 20;
      const pickle = torchPickle([
        ['layer.0.weight', 'BFloat16Storage', '0', n],
        ['layer.1.weight', 'BFloat16Storage', '1', n],
      ]);
      // same size as the real pickle, so the storages sit at the same offsets of the file
      const before = unreadable(pickle);
      expect(before.length).toBe(pickle.length);
      const w0 = randomBf16(n, 0.02, 21);
      const w1 = randomBf16(n, 0.02, 22);
      const r = repo({
        'pytorch_model.bin': writeTorchZip(
          [
            { key: '0', data: w0 },
            { key: '1', data: w1 },
          ],
          { pickle: before },
        ),
      });
      r.commit('v1');
      write(
        r.path('pytorch_model.bin'),
        writeTorchZip(
          [
            { key: '0', data: w0 },
            { key: '1', data: tuneBf16(w1, 0.1, 23) },
          ],
          { pickle },
        ),
      );
      const c2 = r.commit('v2');
      // storage 1, tuned, is stored as a delta against v1's storage at the same place: about half of its bytes, not two
      // thirds
      expect(c2.storedBytes).toBeLessThan(0.6 * 2 * n);
      const d = json(r.run(['diff', 'v1', 'v2', '--json'])).files[0].tensors;
      const named = (side: 0 | 1) =>
        d.changes
          .filter((c: any) => c.dtype[side] !== null)
          .map((c: any) => [c.name, c.dtype[side]])
          .sort();
      expect(named(0)).toEqual(firstNames.map((name) => [name, 'unknown']));
      expect(named(1)).toEqual([
        ['layer.0.weight', 'BF16'],
        ['layer.1.weight', 'BF16'],
      ]);
    },
  );

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
