// How show --tensors and diff shorten, group and cut lists of tensor names.
import { describe, expect, it } from 'vitest';
import {
  commonPrefix,
  groupByLayer,
  RowBudget,
  rowLimit,
  shortName,
  shownLayer,
} from '../../../src/cli/format/tensorGroups.js';

describe('tensor names in text output', () => {
  it('says a long shared prefix once, cut at a separator; a short one stays', () => {
    const scope = 'a_rather_long_model_scope/encoder/';
    expect(commonPrefix([`${scope}block_1/w`, `${scope}block_2/w`])).toBe(scope);
    expect(commonPrefix([`${scope}x`, `${scope}x`])).toBe(scope);
    expect(commonPrefix(['model.layers.1.w', 'model.layers.2.w'])).toBe('');
    expect(commonPrefix(['onnx::MatMul_with_a_long_name_1:0', 'onnx::MatMul_with_a_long_name_2:0'])).toBe('');
    expect(commonPrefix(['a.very.long.prefix.of.names.x', 'a.very.long.prefix.of.names.y'])).toBe(
      'a.very.long.prefix.of.names.',
    );
    expect(commonPrefix([`${scope}only`])).toBe('');
    expect(commonPrefix(['x', 'y'])).toBe('');
  });

  it('names a tensor after its layer, and a layer after the shared prefix', () => {
    expect(shortName('model.layers.3.mlp.weight', 'model.layers.3.*')).toBe('mlp.weight');
    expect(shortName('a/b/kernel', 'a/b/*')).toBe('kernel');
    expect(shortName('bias', 'bias')).toBe('bias');
    expect(shortName('12.', '12.*')).toBe('12.');
    expect(shownLayer('scope/long/enough/x/*', 'scope/long/enough/')).toBe('…x/*');
    expect(shownLayer('other/*', 'scope/long/enough/')).toBe('other/*');
    expect(shownLayer('x/*', '')).toBe('x/*');
  });

  it('groups by layer in the order layers first appear', () => {
    const g = groupByLayer(['l.1.a', 'l.2.a', 'l.1.b', 'norm'], (n) => n);
    expect(g).toEqual([
      { layer: 'l.1.*', items: ['l.1.a', 'l.1.b'] },
      { layer: 'l.2.*', items: ['l.2.a'] },
      { layer: 'norm', items: ['norm'] },
    ]);
  });

  it('shares a row budget across groups and files, and says what it left out', () => {
    const b = new RowBudget(3);
    expect(b.take([1, 2])).toEqual([1, 2]);
    expect(b.take([3, 4, 5])).toEqual([3]);
    expect(b.take([6, 7])).toEqual([]);
    expect(b.flush('  ', 'tensor(s)')).toEqual([
      '  ... and 4 more tensor(s) (1 more layer(s)): --limit N shows more, --json lists all',
    ]);
    expect(b.take([8])).toEqual([]);
    expect(b.flush('', 'rows')).toEqual([
      '... and 1 more rows (1 more layer(s)): --limit N shows more, --json lists all',
    ]);
    expect(b.flush('', 'rows')).toEqual([]);
    const all = new RowBudget(Number.POSITIVE_INFINITY);
    expect(all.take([1, 2, 3])).toEqual([1, 2, 3]);
    expect(all.flush('', 'x')).toEqual([]);
  });

  it('takes --limit as a whole number of 1 or more', () => {
    expect(rowLimit(undefined, 50)).toBe(50);
    expect(rowLimit(7, 50)).toBe(7);
    for (const bad of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => rowLimit(bad, 50)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});
