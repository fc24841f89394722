/**
 * ONNX models that onnx.save writes (Debian's python3-onnx,
 * test/helpers/writers/onnxfiles.py): initializers, Constant nodes, an `If`
 * whose branches hold Constants, saved whole, with external data in one
 * file, and with a file per tensor. mvm recognises the models and the
 * external-data files, lists every tensor (initializers by name; Constants
 * by count, dtype and shape, since how they are named is FORMAT.md's
 * business), and checkout restores every file so that onnx.checker passes
 * and onnx.load gives the saved tensors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok } from '../../helpers/assertions.js';
import { ONNX_PYTHON, runWriter, tensorChanges, commitFixtureVersions } from '../../helpers/writers.js';

type Inside = [name: string, kind: 'initializer' | 'constant', dtype: string, shape: number[]];
type Outside = [name: string, dtype: string, shape: number[], offset: number, length: number];
type Saved = Record<string, { inside: Inside[]; external: Record<string, Outside[]> }>;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(dir, p)).isFile())
    .sort();
}

describe('files onnx.save writes', () => {
  it('inline, one external file, a file per tensor: tensors listed; checkout passes onnx.checker', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const run = (args: string[]) => mvm(args, { cwd: t.dir });
    const saved = runWriter<Saved>(ONNX_PYTHON, 'onnxfiles.py', ['write', t.path('fx')]);
    const files = filesUnder(t.path('fx/v1'));
    expect(files).toEqual([
      'many/W1',
      'many/W2',
      'many/model.onnx',
      'one/model.onnx',
      'one/weights.bin',
      'plain/model.onnx',
    ]);
    // what onnx.save wrote: the big initializers go out, the Constants (two in the If's branches) stay in
    expect(saved.one!.external).toEqual({
      'weights.bin': [
        ['W1', 'f32', [64, 64], 0, 16384],
        ['W2', 'f32', [64, 32], 16384, 8192],
      ],
    });
    expect(saved.plain!.inside.filter((x) => x[1] === 'constant')).toHaveLength(4);

    commitFixtureVersions(t.path, run, 'every weight moved');

    const d = json(run(['diff', 'v1', 'v2', '--json']));
    for (const [variant, { inside, external }] of Object.entries(saved)) {
      const model = tensorChanges(d, `models/${variant}/model.onnx`);
      expect(model?.format, variant).toBe('onnx');
      const listed = Object.entries(model!.tensors);
      expect(listed.every(([, x]) => x.status === 'values')).toBe(true);
      // every tensor inside the model is a unit: initializers under their names
      const initializers = inside.filter((x) => x[1] === 'initializer');
      for (const [name, , dtype, shape] of initializers) {
        expect(model!.tensors[name], `${variant}: ${name}`).toEqual({ status: 'values', dtype, shape });
      }
      // and each Constant (those of both If branches too) under a name of its own
      const key = (dtype: string | null, shape: number[] | null) => `${dtype} ${JSON.stringify(shape)}`;
      const constants = inside.filter((x) => x[1] === 'constant').map(([, , dtype, shape]) => key(dtype, shape));
      const others = listed.filter(([name]) => !initializers.some((x) => x[0] === name));
      expect(others.map(([, x]) => key(x.dtype, x.shape)).sort(), variant).toEqual(constants.sort());
      // external data files take their layout from the model beside them
      for (const [file, tensors] of Object.entries(external)) {
        const ext = tensorChanges(d, `models/${variant}/${file}`);
        expect(ext?.format, file).toBe('onnx');
        expect(ext!.tensors).toEqual(
          Object.fromEntries(tensors.map(([name, dtype, shape]) => [name, { status: 'values', dtype, shape }])),
        );
      }
    }

    ok(run(['checkout', 'v1']));
    expect(filesUnder(t.path('models'))).toEqual(files);
    for (const f of files)
      expect(readFileSync(t.path(`models/${f}`)).equals(readFileSync(t.path(`fx/v1/${f}`))), f).toBe(true);
    const checked = runWriter(ONNX_PYTHON, 'onnxfiles.py', ['check', t.path('fx/v1'), t.path('models')]);
    expect(checked).toEqual({ checked: ['plain', 'one', 'many'] });
  });
});
