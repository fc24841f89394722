/**
 * Keras files end to end through the real CLI: a `.keras` archive saved
 * again with one weight changed (and new metadata, which shifts every offset
 * in the zip) stores only that weight's chunks and the archive's own bytes;
 * `diff` names the weight and the changed metadata.json entry, `show` lists
 * that metadata, `diff --stats` measures the weight, checkout restores both
 * versions bit for bit. Fixtures come from h5py (test/helpers/h5fixtures.py).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { h5Fixtures } from '../../helpers/h5.js';
import { json, ok } from '../../helpers/assertions.js';

const CHANGED = 'layers/dense_2/vars/0';
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('keras', () => {
  it('a .keras saved again with one weight changed stores that weight; diff names it; checkout is bit-exact', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const run = (args: string[]) => mvm(args, { cwd: t.dir });
    for (const v of ['a', 'b']) mkdirSync(t.path(v));
    h5Fixtures(t.path('a'), 0);
    h5Fixtures(t.path('b'), 0, CHANGED);
    const v1 = readFileSync(t.path('a/model.keras'));
    const v2 = readFileSync(t.path('b/model.keras'));
    expect(v2.length).not.toBe(v1.length);

    mkdirSync(t.path('models'));
    copyFileSync(t.path('a/model.keras'), t.path('models/model.keras'));
    ok(run(['init', '--chunk-size', '4096']));
    ok(run(['add', 'models']));
    const c1 = json(run(['commit', '-m', 'v1', '--json']));
    expect(c1.newBytes).toBe(v1.length);

    copyFileSync(t.path('b/model.keras'), t.path('models/model.keras'));
    const c2 = json(run(['commit', '-m', 'v2', '--json']));
    // the changed weight (96 x 64 f32 = 6 chunks), the zip's header and metadata, the tail after the weights
    expect(c2.newChunks).toBeGreaterThanOrEqual(6);
    expect(c2.newBytes).toBeLessThan(96 * 64 * 4 + 16 * 1024);

    const f = json(run(['diff', 'v1', 'v2', '--json'])).files[0];
    expect(f.tensors.format).toBe('keras');
    expect(f.tensors.changes.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([
      [CHANGED, 'values'],
    ]);
    expect(f.tensors.changes[0]).toMatchObject({
      dtype: ['F32', 'F32'],
      shape: [
        [96, 64],
        [96, 64],
      ],
      bytes: 96 * 64 * 4,
    });
    expect(f.tensors.unchanged).toBe(19);
    expect(f.tensors.layers).toEqual([{ layer: 'layers/dense_2/vars/*', changed: 1, total: 2 }]);
    // the archive's metadata.json, as Keras writes it, is the model's metadata
    expect(f.metadata).toEqual([{ key: 'date_saved', from: 'seed 0, changed None', to: `seed 0, changed ${CHANGED}` }]);
    const shown = json(run(['show', 'v1', '--json'])).models['models/model.keras'];
    expect(shown).toEqual({
      format: 'keras',
      metadata: { keras_version: '3.0.0', date_saved: 'seed 0, changed None' },
    });

    const stats = json(run(['diff', '--stats', 'v1', 'v2', '--json'])).files[0].tensors.changes[0].stats;
    // two independent N(0, 0.05^2) draws: every element differs, with a spread about sqrt(2) * 0.05
    expect(stats).toMatchObject({ elements: 96 * 64, changed: 96 * 64 });
    expect(stats.maxAbsDelta).toBeGreaterThan(0.1);
    expect(stats.maxAbsDelta).toBeLessThan(1);
    expect(stats.relL2).toBeGreaterThan(1.2);
    expect(stats.relL2).toBeLessThan(1.6);

    ok(run(['checkout', 'v1']));
    expect(readFileSync(t.path('models/model.keras')).equals(v1)).toBe(true);
    ok(run(['checkout', 'main']));
    expect(readFileSync(t.path('models/model.keras')).equals(v2)).toBe(true);
    const text = ok(run(['diff', 'v1', 'v2'])).stdout;
    // under its layer, named after the layer's prefix
    expect(text).toContain(`    layer layers/dense_2/vars/*: 1 of 2 tensor(s) changed\n      0: values`);
  });
});
