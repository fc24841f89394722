/**
 * GGUF and safetensors files from writers written from each format's spec in
 * Python (test/helpers/writers/specfiles.py), not from mvm's readers: GGUF v3
 * with metadata of every value type, f32, f16, q8_0 and q4_0 tensors, at the
 * default alignment and at 64; safetensors with six dtypes, `__metadata__`,
 * and a sharded checkpoint. mvm lists each tensor's name, dtype and shape,
 * reads each float and integer tensor at the right bytes (the norm `diff
 * --stats` computes is the writer's), shows the metadata, and checkout
 * restores the bytes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok } from '../../helpers/assertions.js';
import { NUMPY_PYTHON, runWriter, tensorChanges, commitFixtureVersions } from '../../helpers/writers.js';

type Written = Record<
  string,
  { tensors: Record<string, [dtype: string, shape: number[], norm: number | null]>; metadata: object; keys: number }
>;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('GGUF and safetensors written from the spec', () => {
  it('tensors listed with dtype and shape, read at their bytes; metadata shown; checkout restores', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const run = (args: string[]) => mvm(args, { cwd: t.dir });
    const written = runWriter<Written>(NUMPY_PYTHON, 'specfiles.py', [t.path('fx')]);
    const files = readdirSync(t.path('fx/v1')).sort();
    expect(files).toEqual([...Object.keys(written), 'model.safetensors.index.json'].sort());

    commitFixtureVersions(t.path, run, 'every tensor and the metadata changed');

    const d = json(run(['diff', '--stats', 'v1', 'v2', '--json']));
    const shown = json(run(['show', 'v1', '--json'])).models;
    for (const [file, { tensors, metadata, keys }] of Object.entries(written)) {
      const format = file.endsWith('.gguf') ? 'gguf' : 'safetensors';
      const listed = tensorChanges(d, `models/${file}`);
      expect(listed?.format, file).toBe(format);
      // mvm names dtypes in lower case (safetensors writes F32; GGUF's types are f32, q8_0...)
      expect(listed!.tensors, file).toEqual(
        Object.fromEntries(
          Object.entries(tensors).map(([name, [dtype, shape]]) => [
            name,
            { status: 'values', dtype: dtype.toLowerCase(), shape },
          ]),
        ),
      );
      const stats = new Map<string, { normA: number } | undefined>(
        d.files
          .find((f: { path: string }) => f.path === `models/${file}`)
          .tensors.changes.map((c: any) => [c.name, c.stats]),
      );
      for (const [name, [, , norm]] of Object.entries(tensors)) {
        if (norm === null) continue;
        expect(stats.get(name)?.normA, `${file}: ${name}`).toBeCloseTo(norm, 6);
      }
      expect(shown[`models/${file}`].format).toBe(format);
      expect(shown[`models/${file}`].metadata).toMatchObject(metadata);
      expect(Object.keys(shown[`models/${file}`].metadata)).toHaveLength(keys);
    }
    expect(shown['models/llama.gguf'].metadata).toMatchObject({
      'llama.use_parallel_residual': 'true',
      'tokenizer.ggml.tokens': '[4 × string]',
      'tokenizer.ggml.scores': '[4 × f32]',
    });

    ok(run(['checkout', 'v1']));
    expect(readdirSync(t.path('models')).sort()).toEqual(files);
    for (const f of files)
      expect(readFileSync(t.path(`models/${f}`)).equals(readFileSync(t.path(`fx/v1/${f}`))), f).toBe(true);
  });
});
