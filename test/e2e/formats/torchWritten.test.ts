/**
 * PyTorch checkpoints that torch.save writes (Debian's python3-torch,
 * test/helpers/writers/torchfiles.py): a state dict, a whole module and an
 * Adam optimizer's state, committed before and after a training step. `diff`
 * names every state-dict entry with its dtype and shape (so mvm read the
 * pickle), checkout restores the files bit for bit, and torch.load of the
 * restored files gives tensors equal to the saved ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok } from '../../helpers/assertions.js';
import { runWriter, TORCH_PYTHON, tensorChanges } from '../../helpers/writers.js';

const FILES = ['module.pt', 'optim.pt', 'state_dict.pt'];
/** torch's dtype names -> mvm's. */
const DTYPES: Record<string, string> = { float32: 'F32', int64: 'I64' };

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('files torch.save writes', () => {
  it('a state dict, a whole module and an optimizer state: diff names their tensors, checkout loads equal', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const run = (args: string[]) => mvm(args, { cwd: t.dir });
    const saved = runWriter<Record<string, Record<string, [string, number[]]>>>(TORCH_PYTHON, 'torchfiles.py', [
      'write',
      t.path('fx'),
    ]);
    expect(readdirSync(t.path('fx/v1')).sort()).toEqual(FILES);
    const put = (v: string) => {
      for (const f of FILES) copyFileSync(t.path(`fx/${v}/${f}`), t.path(`models/${f}`));
    };
    mkdirSync(t.path('models'));
    put('v1');
    ok(run(['init']));
    ok(run(['add', 'models']));
    ok(run(['commit', '-m', 'two steps']));
    put('v2');
    ok(run(['commit', '-m', 'three steps']));

    // a training step changes every tensor (the step counts too): diff lists each under its state-dict name
    const d = json(run(['diff', 'v1', 'v2', '--json']));
    expect(Object.keys(saved['optim.pt']!)).toContain('state.0.exp_avg_sq');
    expect(Object.keys(saved['module.pt']!)).toContain('bn.running_mean');
    for (const f of FILES) {
      const listed = tensorChanges(d, `models/${f}`);
      expect(listed?.format, f).toBe('pytorch');
      const want = Object.fromEntries(
        Object.entries(saved[f]!).map(([name, [dtype, shape]]) => [
          name,
          { status: 'values', dtype: DTYPES[dtype], shape },
        ]),
      );
      expect(listed!.tensors, f).toEqual(want);
    }

    ok(run(['checkout', 'v1']));
    for (const f of FILES)
      expect(readFileSync(t.path(`models/${f}`)).equals(readFileSync(t.path(`fx/v1/${f}`)))).toBe(true);
    const checked = runWriter(TORCH_PYTHON, 'torchfiles.py', ['check', t.path('fx/v1'), t.path('models')]);
    expect(checked).toEqual({ checked: FILES });
    ok(run(['checkout', 'main']));
    for (const f of FILES)
      expect(readFileSync(t.path(`models/${f}`)).equals(readFileSync(t.path(`fx/v2/${f}`)))).toBe(true);
  }, 180_000); // two Python runs that import torch (about 2 s each alone, far more on a loaded machine)
});
