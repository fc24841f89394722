/**
 * An exported version loads and runs in a real serving runtime: an ONNX
 * model (y = x + W) committed twice with different W, deployed with a
 * Triton layout, each numbered folder run with onnxruntime-node.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initDir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { addModel, runModel } from '../../helpers/onnxAdd.js';
import { servingFlags } from '../../helpers/envRepo.js';

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
