/**
 * An exported version loads and runs in a real serving runtime: an ONNX
 * model (y = x + W) committed twice with different W, deployed with a
 * Triton layout, each numbered folder run with onnxruntime-node.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { initDir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { pbBytes, pbVarint } from '../../helpers/modelWriters.js';
import { servingFlags } from '../../helpers/envRepo.js';

const FLOAT = 1;

/** A typed float[2] value: name and shape, as graph inputs and outputs need. */
function valueInfo(name: string): Buffer {
  const dim = pbBytes(1, pbVarint(1, 2));
  const tensorType = Buffer.concat([pbVarint(1, FLOAT), pbBytes(2, dim)]);
  return Buffer.concat([pbBytes(1, Buffer.from(name)), pbBytes(2, pbBytes(1, tensorType))]);
}

/** An ONNX model computing y = Add(x, W) with W a float[2] initializer. */
function addModel(w: [number, number]): Buffer {
  const raw = Buffer.alloc(8);
  raw.writeFloatLE(w[0], 0);
  raw.writeFloatLE(w[1], 4);
  const init = Buffer.concat([pbVarint(1, 2), pbVarint(2, FLOAT), pbBytes(8, Buffer.from('W')), pbBytes(9, raw)]);
  const node = Buffer.concat([
    pbBytes(1, Buffer.from('x')),
    pbBytes(1, Buffer.from('W')),
    pbBytes(2, Buffer.from('y')),
    pbBytes(3, Buffer.from('add0')),
    pbBytes(4, Buffer.from('Add')),
  ]);
  const graph = Buffer.concat([
    pbBytes(1, node),
    pbBytes(2, Buffer.from('g')),
    pbBytes(5, init),
    pbBytes(11, valueInfo('x')),
    pbBytes(12, valueInfo('y')),
  ]);
  return Buffer.concat([
    pbVarint(1, 8),
    pbBytes(2, Buffer.from('mvm-test')),
    pbBytes(7, graph),
    pbBytes(8, Buffer.concat([pbBytes(1, Buffer.from('')), pbVarint(2, 17)])),
  ]);
}

async function runModel(path: string): Promise<number[]> {
  const session = await ort.InferenceSession.create(readFileSync(path));
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1]), [2]) });
  return Array.from(out.y!.data as Float32Array);
}

describe('serving runtime', () => {
  it('each version exported for Triton runs in onnxruntime and computes with its own weights', async () => {
    const { t, run } = initDir();
    try {
      write(t.path('export/model.onnx'), addModel([1, 2]));
      ok(run(['add', 'export']));
      ok(run(['commit', '-m', 'v1', '--metric', 'accuracy=0.9']));
      write(t.path('export/model.onnx'), addModel([10, 20]));
      ok(run(['commit', '-m', 'v2', '--metric', 'accuracy=0.95']));
      const models = t.path('models');
      write(join(models, 'adder', 'config.pbtxt'), 'name: "adder"\nbackend: "onnxruntime"\n');
      ok(run(['env', 'production', '--create']));
      const d1 = json(
        run(['deploy', 'v1', '--env', 'production', ...servingFlags(models, 'triton', 'adder', 'export'), '--json']),
      );
      expect(d1.export.path).toBe(join(models, 'adder', '1'));
      expect(await runModel(join(models, 'adder', '1', 'model.onnx'))).toEqual([2, 3]);
      ok(run(['deploy', 'v2', '--env', 'production', '--require', 'metrics.accuracy >= 0.9']));
      expect(await runModel(join(models, 'adder', '2', 'model.onnx'))).toEqual([11, 21]);
      expect(readFileSync(join(models, 'adder', 'config.pbtxt'), 'utf8')).toContain('backend: "onnxruntime"');
      // rollback: the folder the server would pick (the highest number) runs v1 again
      ok(run(['rollback', '--env', 'production']));
      expect(readdirSync(join(models, 'adder')).sort()).toEqual(['1', 'config.pbtxt']);
      expect(await runModel(join(models, 'adder', '1', 'model.onnx'))).toEqual([2, 3]);
    } finally {
      t.cleanup();
    }
  });
});
