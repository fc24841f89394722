import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bundleShardLayout } from '../../../src/core/formats/tfBundle.js';
import { tfjsShardLayout } from '../../../src/core/formats/tfjs.js';
import { onnxExternalData } from '../../../src/core/formats/onnx.js';
import type { Layout } from '../../../src/core/formats/types.js';
import { torchPickle } from '../../helpers/torch.js';
import { torchPickle as scanTorchPickle } from '../../../src/core/formats/torchPickle.js';
import { bufferSource, seededBytes, writeOnnx, writeBundleIndex } from '../../helpers/modelWriters.js';
import { count, mutate, mutation, params, reportCounts } from './harness.js';

afterAll(reportCounts);

/** Every tensor of a layout (in any order: the caller sorts and checks overlaps) lies inside the file. */
function expectInside(layout: Layout, size: number): void {
  for (const t of layout.tensors) {
    expect(Number.isSafeInteger(t.start) && Number.isSafeInteger(t.end)).toBe(true);
    expect(0 <= t.start && t.start <= t.end && t.end <= size).toBe(true);
  }
}

describe('fuzz: files that describe a weight file beside them', () => {
  it('a mutated TensorFlow bundle index gives null or a well-formed layout of the data file, never a ' +
    'throw', async () => {
    const index = writeBundleIndex(
      [
        { name: 'a/kernel', dtype: 1, shape: [4, 8], offset: 0, size: 128 },
        { name: 'b/bias', dtype: 14, shape: [8], offset: 128, size: 16 },
        { name: 'c', dtype: 7, shape: [], offset: 144, size: 20 },
        { name: 'd', dtype: 1, shape: [2], shard: 1, offset: 0, size: 8 },
      ],
      { restartEvery: 2, perBlock: 2 },
    );
    await fc.assert(
      fc.asyncProperty(mutation, fc.integer({ min: 0, max: 400 }), async (m, size) => {
        count('tf-bundle index');
        const layout = bundleShardLayout(mutate(index, m), 0, size);
        if (layout) expectInside(layout, size);
      }),
      params,
    );
  }, 120_000);

  it('a mutated ONNX model lists external tensors with sane ranges, or gives null, never a throw', async () => {
    const model = writeOnnx([
      { name: 'w', dataType: 1, dims: [2, 2], raw: seededBytes(16, 17) },
      { name: 'e1', dataType: 16, dims: [8, 4], external: { location: 'm.onnx.data', offset: 0, length: 64 } },
      { name: 'e2', dataType: 1, dims: [4], external: { location: 'm.onnx.data', offset: 64 } },
    ]);
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        count('onnx external data');
        const ext = await onnxExternalData(bufferSource(mutate(model, m)));
        for (const e of ext ?? []) {
          expect(
            Number.isSafeInteger(e.offset) && e.offset >= 0 && Number.isSafeInteger(e.length) && e.length >= 0,
          ).toBe(true);
          expect(Number.isSafeInteger(e.offset + e.length)).toBe(true);
          expect(e.location.length).toBeGreaterThan(0);
        }
      }),
      params,
    );
  }, 120_000);

  it('a mutated torch.save pickle (a nested training checkpoint, a whole module) gives storages and names, never a ' +
    'throw or a loop', () => {
    const module = torchPickle(
      [
        ['backbone.0.weight', 'BFloat16Storage', '0', 16, [4, 4]],
        ['bn.running_mean', 'FloatStorage', '1', 4],
      ],
      2,
      { module: 'model', extra: { epoch: 1 } },
    );
    const nested = torchPickle(
      [
        [['model', 'fc.weight'], 'BFloat16Storage', '0', 64, [8, 8]],
        [['model', 'tied'], 'BFloat16Storage', '0', 64, [8, 8]],
        [['optimizer', 'state', 0, 'exp_avg'], 'FloatStorage', '1', 64, [8, 8]],
        [['optimizer', 'state', 0, 'step'], 'LongStorage', '2', 1, []],
        [['ema', '#0'], 'HalfStorage', '3', 8],
      ],
      2,
      { extra: { epoch: 3, param_groups: [{ lr: 0.001, params: [0] }] } },
    );
    fc.assert(
      fc.property(mutation, fc.boolean(), (m, whole) => {
        count('torch pickle');
        const bad = mutate(whole ? module : nested, m);
        const { storages, tensors } = scanTorchPickle(bad);
        for (const s of storages.values()) expect(Number.isSafeInteger(s.numel) && s.itemSize > 0).toBe(true);
        // names are strings of at most 1,024 characters, each storage a key the pickle named
        for (const t of tensors)
          expect(typeof t.name === 'string' && t.name.length <= 1024 && typeof t.storage === 'string').toBe(true);
      }),
      params,
    );
  }, 120_000);

  it('a mutated TensorFlow.js model.json gives null or a well-formed layout of the shard, never a throw', async () => {
    const manifest = Buffer.from(
      JSON.stringify({
        weightsManifest: [
          {
            paths: ['s1.bin', 's2.bin'],
            weights: [
              { name: 'k', shape: [4, 6], dtype: 'float32' },
              { name: 'q', shape: [30], dtype: 'float32', quantization: { dtype: 'uint8' } },
            ],
          },
        ],
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        mutation,
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        async (m, a, b) => {
          count('tfjs manifest');
          const sizes: Record<string, number> = { 's1.bin': a, 's2.bin': b };
          const layout = tfjsShardLayout(mutate(manifest, m).toString('utf8'), 's2.bin', (n) => sizes[n] ?? null);
          if (layout) expectInside(layout, b);
        },
      ),
      params,
    );
  }, 120_000);
});
