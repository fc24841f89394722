/** Layouts of headerless weight files from the file that describes them, read from a real folder. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sidecarLayout } from '../../../../src/repo/workspace/sidecarLayout.js';
import { seededBytes } from '../../../helpers/modelWriters.js';

const root = mkdtempSync(join(tmpdir(), 'mvm-sidecar-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder of `files` under the test's root. */
function folder(name: string, files: Record<string, Buffer | string>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [f, data] of Object.entries(files)) writeFileSync(join(dir, f), data);
  return dir;
}

// 64 + 40 = 104 bytes of weights in shards of 80 and 24
const GROUP = {
  paths: ['faces-shard1', 'faces-shard2'],
  weights: [
    { name: 'conv0/filters', shape: [4, 4], dtype: 'float32' },
    { name: 'conv0/bias', shape: [10], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1, min: -1 } },
    { name: 'fc/bias', shape: [30], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1, min: -1 } },
  ],
};
const SHARDS = { 'faces-shard1': seededBytes(80, 1), 'faces-shard2': seededBytes(24, 2) };
const layoutOf = (dir: string, shard: keyof typeof SHARDS) => sidecarLayout(join(dir, shard), SHARDS[shard].length);

describe('TF.js shards beside any weights manifest', () => {
  it('reads a face-api style <name>-weights_manifest.json, a JSON array of groups', async () => {
    const dir = folder('face-api', { 'faces-weights_manifest.json': JSON.stringify([GROUP]), ...SHARDS });
    expect(await layoutOf(dir, 'faces-shard1')).toEqual({
      format: 'tfjs',
      tensors: [
        { name: 'conv0/filters', dtype: 'F32', shape: [4, 4], start: 0, end: 64 },
        { name: 'conv0/bias', dtype: 'U8', shape: [10], start: 64, end: 74 },
        { name: 'fc/bias', dtype: 'U8', shape: [30], start: 74, end: 80 },
      ],
    });
    expect((await layoutOf(dir, 'faces-shard2'))?.tensors).toEqual([
      { name: 'fc/bias', dtype: 'U8', shape: [30], start: 0, end: 24 },
    ]);
    // the manifest itself is not a shard
    expect(await sidecarLayout(join(dir, 'faces-weights_manifest.json'), 10)).toBeNull();
  });

  it('reads the weightsManifest of a model file of another name, past JSON files that are not manifests', async () => {
    const dir = folder('renamed', {
      'config.json': JSON.stringify({ labels: ['cat', 'dog'] }),
      'detector.json': JSON.stringify({ format: 'graph-model', modelTopology: {}, weightsManifest: [GROUP] }),
      'tokenizer.json': '{"paths": "not a manifest"}',
      ...SHARDS,
    });
    expect((await layoutOf(dir, 'faces-shard1'))?.tensors.map((t) => t.name)).toEqual([
      'conv0/filters',
      'conv0/bias',
      'fc/bias',
    ]);
  });

  it('asks model.json first, and a manifest that does not list the file gives it no layout', async () => {
    const other = { ...GROUP, weights: [{ name: 'other', shape: [26], dtype: 'float32' }] };
    const dir = folder('both', {
      'a-weights_manifest.json': JSON.stringify([other]),
      'model.json': JSON.stringify({ weightsManifest: [GROUP] }),
      ...SHARDS,
      'unlisted.bin': seededBytes(80, 3),
    });
    expect((await layoutOf(dir, 'faces-shard1'))?.tensors[0]?.name).toBe('conv0/filters');
    expect(await sidecarLayout(join(dir, 'unlisted.bin'), 80)).toBeNull();
    // a manifest whose weights do not add up to the shards gives way to the next one that does
    const wrong = { ...GROUP, weights: [{ name: 'too-big', shape: [1000], dtype: 'float32' }] };
    const next = folder('next', {
      'a-weights_manifest.json': JSON.stringify([wrong]),
      'b-weights_manifest.json': JSON.stringify([GROUP]),
      ...SHARDS,
    });
    expect((await layoutOf(next, 'faces-shard2'))?.tensors.map((t) => t.name)).toEqual(['fc/bias']);
  });
});
