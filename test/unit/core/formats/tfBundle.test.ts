/** TensorFlow tensor bundles: a checkpoint's (or SavedModel's) data file laid out from its .index table. */
import { describe, expect, it } from 'vitest';
import { bundleIndexFor, bundleShardLayout, parseBundleIndex } from '../../../../src/core/formats/tfBundle.js';
import { writeBundleIndex, type BundleVar } from '../../../helpers/modelWriters.js';

const VARS: BundleVar[] = [
  { name: 'dense/kernel/.ATTRIBUTES/VARIABLE_VALUE', dtype: 1, shape: [4, 8], offset: 0, size: 128 },
  { name: 'dense/bias/.ATTRIBUTES/VARIABLE_VALUE', dtype: 1, shape: [8], offset: 128, size: 32 },
  { name: 'emb/.ATTRIBUTES/VARIABLE_VALUE', dtype: 14, shape: [16, 4], shard: 1, offset: 0, size: 128 },
  { name: 'save_counter/.ATTRIBUTES/VARIABLE_VALUE', dtype: 9, shape: [], offset: 160, size: 8 },
  { name: '_CHECKPOINTABLE_OBJECT_GRAPH', dtype: 7, shape: [], offset: 168, size: 57 },
];

describe('tensor bundles', () => {
  it('names the index beside a data file', () => {
    expect(bundleIndexFor('variables.data-00000-of-00001')).toEqual({ index: 'variables.index', shard: 0, shards: 1 });
    expect(bundleIndexFor('ckpt-12.data-00001-of-00002')).toEqual({ index: 'ckpt-12.index', shard: 1, shards: 2 });
    expect(bundleIndexFor('ckpt-12.data-00002-of-00002')).toBeNull();
    expect(bundleIndexFor('variables.index')).toBeNull();
  });

  it('reads every entry of the table, across blocks and restart points, and lays out each shard', () => {
    for (const opts of [{}, { restartEvery: 2, perBlock: 2 }, { restartEvery: 1, perBlock: 1 }]) {
      const index = writeBundleIndex(VARS, opts);
      const entries = parseBundleIndex(index);
      expect(entries.map((e) => e.name).sort()).toEqual(VARS.map((v) => v.name).sort());
      expect(entries.find((e) => e.name.startsWith('emb'))).toEqual({
        name: 'emb/.ATTRIBUTES/VARIABLE_VALUE',
        dtype: 'BF16',
        shape: [16, 4],
        shard: 1,
        offset: 0,
        size: 128,
      });
      const s0 = bundleShardLayout(index, 0, 225)!;
      expect(s0.format).toBe('tf-bundle');
      expect(s0.tensors.map((t) => [t.name.split('/')[0], t.dtype, t.start, t.end])).toEqual([
        ['_CHECKPOINTABLE_OBJECT_GRAPH', 'STRING', 168, 225],
        ['dense', 'F32', 128, 160],
        ['dense', 'F32', 0, 128],
        ['save_counter', 'I64', 160, 168],
      ]);
      expect(bundleShardLayout(index, 1, 128)!.tensors.map((t) => t.name)).toEqual(['emb/.ATTRIBUTES/VARIABLE_VALUE']);
    }
    // a sliced variable's whole holds no bytes: only its slices are units
    expect(
      parseBundleIndex(
        writeBundleIndex([...VARS, { name: 'part', dtype: 1, shape: [100], offset: 0, size: 0, sliced: true }]),
      ),
    ).toHaveLength(VARS.length);
  });

  it('refuses a damaged or inconsistent index: no layout', () => {
    const index = writeBundleIndex(VARS);
    expect(bundleShardLayout(index, 0, 200)).toBeNull(); // a tensor past the end of the data file
    expect(bundleShardLayout(index, 5, 225)).toBeNull(); // no tensor in that shard
    for (let cut = 0; cut < index.length; cut += 5)
      expect(bundleShardLayout(index.subarray(0, cut), 0, 225)).toBeNull();
    const flipped = Buffer.from(index);
    flipped[flipped.length - 1] ^= 1; // magic
    expect(bundleShardLayout(flipped, 0, 225)).toBeNull();
    expect(
      bundleShardLayout(writeBundleIndex([{ name: 'x', dtype: 1, shape: [3], offset: 0, size: 16 }]), 0, 16),
    ).toBeNull(); // size != 3 floats
    expect(
      bundleShardLayout(writeBundleIndex([{ name: 'x', dtype: 99, shape: [3], offset: 0, size: 12 }]), 0, 16),
    ).toBeNull(); // unknown dtype
  });
});
