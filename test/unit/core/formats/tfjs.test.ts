/** TensorFlow.js weight shards: the layout comes from model.json and the sizes of the shards before. */
import { describe, expect, it } from 'vitest';
import { tfjsManifestGroups, tfjsShardLayout } from '../../../../src/core/formats/tfjs.js';

const manifest = (weights: unknown[], paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin']) =>
  JSON.stringify({ format: 'layers-model', modelTopology: {}, weightsManifest: [{ paths, weights }] });

// 96 + 40 + 24 + 16 = 176 bytes of weights, cut into shards of 100 and 76
const WEIGHTS = [
  { name: 'dense/kernel', shape: [4, 6], dtype: 'float32' },
  { name: 'dense/bias', shape: [10], dtype: 'int32' },
  { name: 'emb', shape: [2, 12], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1, min: -1 } },
  { name: 'norm', shape: [8], dtype: 'float32', quantization: { dtype: 'float16' } },
];
const sizes: Record<string, number> = { 'group1-shard1of2.bin': 100, 'group1-shard2of2.bin': 76 };
const sizeOf = (n: string) => sizes[n] ?? null;

describe('tfjs shards', () => {
  it('places each weight at its bytes in the shard that holds them, split weights in both', () => {
    expect(tfjsShardLayout(manifest(WEIGHTS), 'group1-shard1of2.bin', sizeOf)).toEqual({
      format: 'tfjs',
      tensors: [
        { name: 'dense/kernel', dtype: 'F32', shape: [4, 6], start: 0, end: 96 },
        { name: 'dense/bias', dtype: 'I32', shape: [10], start: 96, end: 100 },
      ],
    });
    expect(tfjsShardLayout(manifest(WEIGHTS), 'group1-shard2of2.bin', sizeOf)).toEqual({
      format: 'tfjs',
      tensors: [
        { name: 'dense/bias', dtype: 'I32', shape: [10], start: 0, end: 36 },
        { name: 'emb', dtype: 'U8', shape: [2, 12], start: 36, end: 60 },
        { name: 'norm', dtype: 'F16', shape: [8], start: 60, end: 76 },
      ],
    });
    // "./name" in the manifest names the same file
    expect(
      tfjsShardLayout(
        manifest(WEIGHTS, ['./group1-shard1of2.bin', './group1-shard2of2.bin']),
        'group1-shard2of2.bin',
        sizeOf,
      )?.tensors,
    ).toHaveLength(3);
    // a string weight has no fixed size: the weights after it are not placed
    const withString = [WEIGHTS[0], { name: 'vocab', shape: [3], dtype: 'string' }, WEIGHTS[1]];
    expect(tfjsShardLayout(manifest(withString), 'group1-shard1of2.bin', sizeOf)?.tensors.map((t) => t.name)).toEqual([
      'dense/kernel',
    ]);
  });

  it('is null for a file the manifest does not list, or a manifest that does not add up', () => {
    const no = (text: string, shard = 'group1-shard1of2.bin', size = sizeOf) =>
      expect(tfjsShardLayout(text, shard, size)).toBeNull();
    no(manifest(WEIGHTS), 'other.bin');
    no('{"weightsManifest": 5}');
    no('not json');
    // a shard missing
    no(manifest(WEIGHTS), 'group1-shard1of2.bin', (n) => (n === 'group1-shard1of2.bin' ? 100 : null));
    no(manifest([...WEIGHTS, { name: 'more', shape: [100], dtype: 'float32' }])); // more weights than bytes
    no(manifest([{ name: 'x', shape: [2], dtype: 'float64' }])); // no such TF.js dtype
    no(manifest([{ name: 'x', shape: [-2], dtype: 'float32' }]));
    no(manifest([{ name: 'x', shape: [2], dtype: 'float32', quantization: { dtype: 'int4' } }]));
    // shard names that would leave the folder are refused, not looked up
    const seen: string[] = [];
    no(
      manifest(WEIGHTS, ['../group1-shard1of2.bin', 'group1-shard1of2.bin']),
      'group1-shard1of2.bin',
      (n) => (seen.push(n), 100),
    );
    expect(seen).toEqual([]);
  });

  it('reads a weights_manifest.json array as model.json reads its weightsManifest', () => {
    const groups = [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: WEIGHTS }];
    const array = JSON.stringify(groups);
    expect(tfjsManifestGroups(array)).toEqual(groups);
    expect(tfjsManifestGroups(manifest(WEIGHTS))).toEqual(groups);
    for (const shard of ['group1-shard1of2.bin', 'group1-shard2of2.bin'])
      expect(tfjsShardLayout(array, shard, sizeOf)).toEqual(tfjsShardLayout(manifest(WEIGHTS), shard, sizeOf));
    expect(tfjsShardLayout(groups, 'group1-shard2of2.bin', sizeOf)?.tensors).toHaveLength(3);
    for (const text of ['{"paths": []}', '5', '"weights"', 'null', '{'])
      expect(tfjsManifestGroups(text), text).toBeNull();
  });
});
