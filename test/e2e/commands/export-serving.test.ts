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

  it(
    'export for Triton: the one model file where Triton looks, a config.pbtxt when there is none, --path of a ' +
      'file, and no higher folder left behind (unless --keep-newer)',
    async () => {
      const { t, run } = initDir();
      try {
        write(t.path('export/model.onnx'), addModel([1, 2]));
        write(t.path('export/labels.txt'), 'a\nb\n');
        ok(run(['add', 'export']));
        ok(run(['commit', '-m', 'v1']));
        write(t.path('export/model.onnx'), addModel([10, 20]));
        ok(run(['commit', '-m', 'v2']));
        const models = t.path('models');
        // no --path: the model file's folder is served, beside what it needs, and Triton gets a config
        const e2 = json(run(['export', 'v2', models, '--layout', 'triton', '--name', 'adder', '--json']));
        expect(e2).toMatchObject({ written: true, config: join(models, 'adder', 'config.pbtxt'), above: [] });
        expect(readdirSync(join(models, 'adder', '2')).sort()).toEqual([
          '.mvm-export.json',
          'labels.txt',
          'model.onnx',
        ]);
        expect(readFileSync(join(models, 'adder', 'config.pbtxt'), 'utf8')).toBe(
          'name: "adder"\nbackend: "onnxruntime"\n',
        );
        expect(await runModel(join(models, 'adder', '2', 'model.onnx'))).toEqual([11, 21]);
        // an older version: the folder above it goes, so the server serves this one
        const e1 = json(run(['export', 'v1', models, '--layout', 'triton', '--name', 'adder', '--json']));
        expect(e1).toMatchObject({ written: true, removed: [2], above: [], config: null });
        expect(readdirSync(join(models, 'adder')).sort()).toEqual(['1', 'config.pbtxt']);
        ok(run(['export', 'v2', models, '--layout', 'triton', '--name', 'adder']));
        const kept = run(['export', 'v1', models, '--layout', 'triton', '--name', 'adder', '--keep-newer']);
        expect(ok(kept).stdout).toContain('warning: 2 above it remains');
        // --path naming one file: that file alone, under its own name
        const one = t.path('one');
        const f = json(
          run(['export', 'v1', one, '--layout', 'tf-serving', '--name', 'm', '--path', 'export/labels.txt', '--json']),
        );
        expect(f.files).toBe(1);
        expect(readdirSync(join(one, 'm', '1')).sort()).toEqual(['.mvm-export.json', 'labels.txt']);
      } finally {
        t.cleanup();
      }
    },
  );
});
