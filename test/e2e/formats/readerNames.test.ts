/**
 * Tensor names that survive the edits models go through, seen through `diff`: a TFLite layer added in front
 * of its metadata buffers, ONNX If branches written in the other order, face-api style TF.js shards.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { json, ok, write } from '../../helpers/assertions.js';
import { mvm, testdir } from '../../helpers/cli.js';
import { seededBytes, writeTflite } from '../../helpers/modelWriters.js';
import { onnxFixtures } from '../../helpers/onnxReal.js';

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

/** A repository holding `files`, committed as v1. */
function repo(files: Record<string, Buffer | string>) {
  const t = testdir(files);
  cleanups.push(t.cleanup);
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  ok(run(['init']));
  ok(run(['add', ...Object.keys(files)]));
  ok(run(['commit', '-m', 'v1']));
  /** Commits the tree as it is now as v2 and returns diff v1 v2 of `path`: its format and tensor changes. */
  const next = (path: string) => {
    ok(run(['add', path]));
    ok(run(['commit', '-m', 'v2']));
    const f = json(run(['diff', 'v1', 'v2', '--json'])).files.find((x: any) => x.path === path);
    return { format: f.tensors?.format, changes: f.tensors?.changes.map((c: any) => [c.name, c.status]) };
  };
  return { ...t, run, next };
}

describe('tensor names through diff', () => {
  it('TFLite: a layer added in front of the metadata buffers is the only change', () => {
    const model = (layers: number) =>
      writeTflite(
        [
          ...Array.from({ length: layers }, (_, i) => ({
            name: `block${i}/conv/weights`,
            type: 18,
            shape: [64, 64],
            data: seededBytes(8192, 10 + i),
          })),
          { name: 'head/weights', type: 0, shape: [1024], data: seededBytes(4096, 20) },
        ],
        {
          metadata: [
            { name: 'min_runtime_version', data: Buffer.from('2.3.0\0') },
            { name: 'CONVERSION_METADATA', data: seededBytes(48, 21) },
          ],
          unused: [seededBytes(64, 22)],
        },
      );
    const r = repo({ 'model.tflite': model(1) });
    write(r.path('model.tflite'), model(2));
    expect(r.next('model.tflite')).toEqual({ format: 'tflite', changes: [['block1/conv/weights', 'added']] });
    ok(r.run(['checkout', 'v1']));
    expect(readFileSync(r.path('model.tflite')).equals(model(1))).toBe(true);
  });

  it('ONNX from the onnx package: If branches swapped change no tensor; a Constant in front adds one', () => {
    const t = testdir({});
    cleanups.push(t.cleanup);
    onnxFixtures(t.dir);
    const model = (f: string) => readFileSync(t.path(f));
    const r = repo({ 'model.onnx': model('branches.onnx') });
    write(r.path('model.onnx'), model('swapped.onnx'));
    expect(r.next('model.onnx')).toEqual({ format: 'onnx', changes: [] });
    write(r.path('model.onnx'), model('wider.onnx'));
    ok(r.run(['add', 'model.onnx']));
    ok(r.run(['commit', '-m', 'v3']));
    const d = json(r.run(['diff', 'v2', 'v3', '--json'])).files[0].tensors;
    expect(d.changes.map((c: any) => [c.name, c.status])).toEqual([['extra', 'added']]);
  });

  it('TF.js: face-api style shards beside <name>-weights_manifest.json; a change is named by weight', () => {
    const manifest = JSON.stringify([
      {
        paths: ['faces-shard1', 'faces-shard2'],
        weights: [
          { name: 'conv0/filters', shape: [64, 256], dtype: 'float32' },
          { name: 'fc/weights', shape: [32, 256], dtype: 'float32' },
        ],
      },
    ]);
    const conv = seededBytes(64 * 1024, 31);
    const shards = (fc: Buffer) => {
      const all = Buffer.concat([conv, fc]);
      return { 'web/faces-shard1': all.subarray(0, 80 * 1024), 'web/faces-shard2': all.subarray(80 * 1024) };
    };
    const r = repo({ 'web/faces-weights_manifest.json': manifest, ...shards(seededBytes(32 * 1024, 32)) });
    write(r.path('web/faces-shard2'), shards(seededBytes(32 * 1024, 33))['web/faces-shard2']);
    expect(r.next('web/faces-shard2')).toEqual({ format: 'tfjs', changes: [['fc/weights', 'values']] });
  });
});
