/**
 * NumPy files that numpy writes (np.save, np.savez, np.savez_compressed;
 * test/helpers/writers/numpyfiles.py): arrays of a dozen dtypes, big-endian,
 * in Fortran order, a 0-d scalar, complex, and strings. Each `.npy` of a
 * numeric array is one tensor, an `.npz` one tensor per numeric array, a
 * compressed `.npz` or an array of strings a plain file; checkout restores
 * every file and numpy loads equal arrays.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok } from '../../helpers/assertions.js';
import { NUMPY_PYTHON, runWriter, tensorChanges, commitFixtureVersions } from '../../helpers/writers.js';

/** NumPy's dtype strings -> mvm's dtypes (FORMAT.md); strings are no tensor. */
const DTYPES: Record<string, string> = {
  '<f2': 'F16',
  '<f4': 'F32',
  '<f8': 'F64',
  '|i1': 'I8',
  '|u1': 'U8',
  '|b1': 'BOOL',
  '<i2': 'I16',
  '<u4': 'U32',
  '<i8': 'I64',
  '>f4': 'F32_BE',
  '>i8': 'I64_BE',
  '<c8': 'C64',
};

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('files numpy writes', () => {
  it('np.save, np.savez, np.savez_compressed: one tensor per numeric array; checkout loads equal', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const run = (args: string[]) => mvm(args, { cwd: t.dir });
    const saved = runWriter<Record<string, [string, number[], boolean]>>(NUMPY_PYTHON, 'numpyfiles.py', [
      'write',
      t.path('fx'),
    ]);
    expect(saved.fortran).toEqual(['<f4', [16, 8], true]);
    expect(saved.labels![0]).toBe('<U8');
    const files = readdirSync(t.path('fx/v1')).sort();
    expect(files).toHaveLength(Object.keys(saved).length + 2);

    commitFixtureVersions(t.path, run, 'every value changed');

    const d = json(run(['diff', 'v1', 'v2', '--json']));
    const numeric = Object.entries(saved).filter(([, [dtype]]) => DTYPES[dtype]);
    expect(numeric).toHaveLength(Object.keys(saved).length - 1);
    for (const [name, [dtype, shape]] of numeric) {
      expect(tensorChanges(d, `models/${name}.npy`), name).toEqual({
        format: 'numpy',
        tensors: { array: { status: 'values', dtype: DTYPES[dtype], shape } },
      });
    }
    expect(tensorChanges(d, 'models/labels.npy')).toBeNull();
    expect(tensorChanges(d, 'models/arrays.npz')).toEqual({
      format: 'numpy',
      tensors: Object.fromEntries(
        numeric.map(([name, [dtype, shape]]) => [name, { status: 'values', dtype: DTYPES[dtype], shape }]),
      ),
    });
    expect(tensorChanges(d, 'models/compressed.npz')).toBeNull();

    ok(run(['checkout', 'v1']));
    expect(readdirSync(t.path('models')).sort()).toEqual(files);
    for (const f of files)
      expect(readFileSync(t.path(`models/${f}`)).equals(readFileSync(t.path(`fx/v1/${f}`))), f).toBe(true);
    expect(runWriter(NUMPY_PYTHON, 'numpyfiles.py', ['check', t.path('fx/v1'), t.path('models')])).toEqual({
      checked: files,
    });
  });
});
