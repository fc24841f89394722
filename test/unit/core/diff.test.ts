import { describe, it, expect } from 'vitest';
import { diffVersions, diffTensors, layerOf } from '../../../src/core/diff.js';
import type { FileEntry, FileObject, TensorEntry } from '../../../src/core/objects.js';

/** A fake 64-hex id from a short label. */
const id = (label: string) => Buffer.from(label).toString('hex').padEnd(64, '0').slice(0, 64);

function fileObj(chunks: [string, number][], tensors?: TensorEntry[]): FileObject {
  const size = chunks.reduce((s, [, n]) => s + n, 0);
  return {
    type: 'file',
    format: 1,
    size,
    chunkSize: 64,
    chunks: chunks.map(([l, n]) => ({ id: id(l), size: n })),
    ...(tensors ? { layout: { format: 'safetensors', tensors } } : {}),
  };
}

function lookupOf(files: Record<string, FileObject>) {
  return (fid: string): FileObject => {
    const f = files[fid];
    if (!f) throw new Error(`unexpected lookup of ${fid}`);
    return f;
  };
}

const entry = (fileLabel: string, size: number, mode = 0o644): FileEntry => ({ file: id(fileLabel), mode, size });

/** The diff of one file, `m`, whose chunks go from `before` to `after`. */
function diffOneFile(before: [string, number][], after: [string, number][]) {
  const [x, y] = [fileObj(before), fileObj(after)];
  const d = diffVersions(
    { files: { m: entry('old', x.size) } },
    { files: { m: entry('neu', y.size) } },
    lookupOf({ [id('old')]: x, [id('neu')]: y }),
  );
  return d.files[0]!;
}

describe('diffVersions', () => {
  const F1 = fileObj([
    ['c1', 64],
    ['c2', 64],
    ['c3', 10],
  ]);
  const F1b = fileObj([
    ['c1', 64],
    ['c9', 64],
    ['c3', 10],
  ]);
  const G = fileObj([
    ['g1', 64],
    ['g2', 30],
  ]);
  const H = fileObj([['h1', 20]]);
  const files = { [id('F1')]: F1, [id('F1b')]: F1b, [id('G')]: G, [id('H')]: H };

  const a = {
    files: {
      'same.bin': entry('G', 94),
      'mod.bin': entry('F1', 138),
      'gone.bin': entry('H', 20),
      'exec.sh': entry('H', 20, 0o644),
    },
  };
  const b = {
    files: {
      'same.bin': entry('G', 94),
      'mod.bin': entry('F1b', 138),
      'new.bin': entry('G', 94),
      'exec.sh': entry('H', 20, 0o755),
    },
  };

  it('classifies every path and sorts by path', () => {
    const d = diffVersions(a, b, lookupOf(files));
    expect(d.files.map((f) => [f.path, f.status])).toEqual([
      ['exec.sh', 'mode'],
      ['gone.bin', 'removed'],
      ['mod.bin', 'modified'],
      ['new.bin', 'added'],
      ['same.bin', 'unchanged'],
    ]);
  });

  it('reports sizes, modes and chunk counts per file', () => {
    const d = diffVersions(a, b, lookupOf(files));
    const by = Object.fromEntries(d.files.map((f) => [f.path, f]));
    expect(by['exec.sh']).toMatchObject({
      oldMode: 0o644,
      newMode: 0o755,
      chunksChanged: 0,
      chunksTotal: 1,
      bytesNew: 0,
    });
    expect(by['gone.bin']).toMatchObject({
      oldSize: 20,
      newSize: null,
      oldMode: 0o644,
      newMode: null,
      chunksChanged: 0,
      bytesNew: 0,
    });
    expect(by['mod.bin']).toMatchObject({ oldSize: 138, newSize: 138, chunksChanged: 1, chunksTotal: 3, bytesNew: 64 });
    expect(by['new.bin']).toMatchObject({ oldSize: null, newSize: 94, chunksChanged: 2, chunksTotal: 2, bytesNew: 94 });
    expect(by['same.bin']).toMatchObject({ chunksChanged: 0, chunksTotal: 2, bytesNew: 0 });
    expect(by['mod.bin']!.tensors).toBeUndefined();
  });

  it('sums the totals', () => {
    const d = diffVersions(a, b, lookupOf(files));
    expect(d.totals).toEqual({
      added: 1,
      removed: 1,
      modified: 2,
      unchanged: 1,
      chunksChanged: 3,
      chunksTotal: 8,
      bytesNew: 158,
    });
  });

  it('treats a null side as an empty version', () => {
    const all = diffVersions(null, b, lookupOf(files));
    expect(all.files.every((f) => f.status === 'added')).toBe(true);
    const none = diffVersions(a, null, lookupOf(files));
    expect(none.files.every((f) => f.status === 'removed')).toBe(true);
    expect(diffVersions(null, null, lookupOf(files))).toEqual({
      files: [],
      totals: { added: 0, removed: 0, modified: 0, unchanged: 0, chunksChanged: 0, chunksTotal: 0, bytesNew: 0 },
    });
  });

  it('counts a repeated new chunk in chunksChanged per occurrence but its bytes once', () => {
    // new chunk n1 appears three times; k1 is reused
    const f = diffOneFile(
      [
        ['k1', 64],
        ['k2', 64],
      ],
      [
        ['k1', 64],
        ['n1', 64],
        ['n1', 64],
        ['n1', 64],
        ['n2', 8],
      ],
    );
    expect(f.status).toBe('modified');
    expect(f.chunksTotal).toBe(5);
    expect(f.chunksChanged).toBe(4);
    expect(f.bytesNew).toBe(72); // 64 (n1, once) + 8 (n2)
  });

  it('an added file with repeated chunks counts their bytes once too (what storing it costs)', () => {
    const zeros = fileObj([
      ['z', 64],
      ['z', 64],
      ['z', 64],
      ['t', 5],
    ]);
    const d = diffVersions(null, { files: { zeros: entry('zeros', 197) } }, lookupOf({ [id('zeros')]: zeros }));
    const f = d.files[0]!;
    expect(f.status).toBe('added');
    expect(f.chunksTotal).toBe(4);
    expect(f.bytesNew).toBe(69);
  });

  it('a file whose chunks only moved has no new bytes', () => {
    const f = diffOneFile(
      [
        ['p', 64],
        ['q', 64],
      ],
      [
        ['q', 64],
        ['p', 64],
      ],
    );
    expect(f).toMatchObject({ status: 'modified', chunksChanged: 0, bytesNew: 0, chunksTotal: 2 });
  });
});

/** A tensor entry over chunk range [cs, ce). */
function t(name: string, dtype: string, shape: number[], cs: number, ce: number): TensorEntry {
  return { name, dtype, shape, start: cs * 64, end: ce * 64, chunkStart: cs, chunkEnd: ce };
}

describe('diffTensors', () => {
  const before = fileObj(
    [
      ['hdr', 64],
      ['e1', 64],
      ['e2', 64],
      ['q1', 64],
      ['k1', 64],
      ['old1', 64],
      ['n1', 64],
      ['n2', 64],
    ],
    [
      t('model.embed.weight', 'BF16', [2, 64], 1, 3),
      t('model.layers.12.attn.q.weight', 'BF16', [32], 3, 4),
      t('model.layers.12.attn.k.weight', 'BF16', [32], 4, 5),
      t('model.layers.3.old.weight', 'F32', [16], 5, 6),
      t('model.norm.weight', 'F32', [16], 6, 7),
      t('lm_head.weight', 'F32', [16], 7, 8),
    ],
  );
  const after = fileObj(
    [
      ['hdr2', 64],
      ['e1', 64],
      ['e2x', 64],
      ['q1', 64],
      ['k1b', 64],
      ['n1', 64],
      ['n2', 64],
      ['new1', 64],
      ['new2', 64],
    ],
    [
      t('model.embed.weight', 'BF16', [2, 64], 1, 3), // values: 1 of 2 chunks changed
      t('model.layers.12.attn.q.weight', 'F16', [32], 3, 4), // retyped (same bytes)
      t('model.layers.12.attn.k.weight', 'BF16', [16, 2], 4, 5), // reshaped
      t('model.norm.weight', 'F32', [16], 5, 6), // unchanged (moved)
      t('lm_head.weight', 'F32', [16], 6, 7), // unchanged (moved)
      t('model.layers.13.mlp.weight', 'F32', [32], 7, 9), // added
    ],
  );

  it('returns undefined unless both sides have a layout', () => {
    expect(diffTensors(fileObj([['a', 1]]), after)).toBeUndefined();
    expect(diffTensors(before, fileObj([['a', 1]]))).toBeUndefined();
  });

  it('classifies added, removed, retyped, reshaped and values changes', () => {
    const d = diffTensors(before, after)!;
    expect(d.format).toBe('safetensors');
    const by = Object.fromEntries(d.changes.map((c) => [c.name, c]));
    expect(Object.keys(by).sort()).toEqual([
      'model.embed.weight',
      'model.layers.12.attn.k.weight',
      'model.layers.12.attn.q.weight',
      'model.layers.13.mlp.weight',
      'model.layers.3.old.weight',
    ]);
    expect(by['model.embed.weight']).toMatchObject({
      status: 'values',
      chunksChanged: 1,
      chunksTotal: 2,
      bytes: 64,
      dtype: ['BF16', 'BF16'],
    });
    expect(by['model.layers.12.attn.q.weight']).toMatchObject({
      status: 'retyped',
      dtype: ['BF16', 'F16'],
      chunksChanged: 0,
      bytes: 0,
    });
    expect(by['model.layers.12.attn.k.weight']).toMatchObject({
      status: 'reshaped',
      shape: [[32], [16, 2]],
      chunksChanged: 1,
      chunksTotal: 1,
      bytes: 64,
    });
    expect(by['model.layers.13.mlp.weight']).toMatchObject({
      status: 'added',
      dtype: [null, 'F32'],
      shape: [null, [32]],
      chunksChanged: 2,
      chunksTotal: 2,
      bytes: 128,
    });
    expect(by['model.layers.3.old.weight']).toMatchObject({
      status: 'removed',
      dtype: ['F32', null],
      shape: [[16], null],
      chunksChanged: 1,
      chunksTotal: 0,
      bytes: 0,
    });
  });

  it('counts unchanged tensors, even when their chunks moved', () => {
    expect(diffTensors(before, after)!.unchanged).toBe(2);
  });

  it('summarises changed layers with changed/total counts, leaving out untouched layers', () => {
    const layers = diffTensors(before, after)!.layers;
    const by = Object.fromEntries(layers.map((l) => [l.layer, l]));
    expect(by['model.layers.12.*']).toEqual({ layer: 'model.layers.12.*', changed: 2, total: 2 });
    expect(by['model.layers.13.*']).toEqual({ layer: 'model.layers.13.*', changed: 1, total: 1 });
    expect(by['model.layers.3.*']).toEqual({ layer: 'model.layers.3.*', changed: 1, total: 1 });
    expect(by['model.embed.*']).toEqual({ layer: 'model.embed.*', changed: 1, total: 1 });
    expect(by['model.norm.*']).toBeUndefined();
    expect(by['lm_head.*']).toBeUndefined();
  });

  it('reports a tensor whose chunk count changed by the chunks it does not share', () => {
    const x = fileObj(
      [
        ['a', 64],
        ['b', 64],
      ],
      [t('w', 'F32', [32], 0, 2)],
    );
    const y = fileObj(
      [
        ['a', 64],
        ['b', 64],
        ['c', 64],
      ],
      [t('w', 'F32', [32], 0, 3)],
    );
    const d = diffTensors(x, y)!;
    expect(d.changes).toEqual([
      {
        name: 'w',
        status: 'values',
        dtype: ['F32', 'F32'],
        shape: [[32], [32]],
        chunksChanged: 1,
        chunksTotal: 3,
        bytes: 64,
      },
    ]);
  });

  it('is empty for identical layouts', () => {
    const d = diffTensors(before, before)!;
    expect(d.changes).toEqual([]);
    expect(d.unchanged).toBe(6);
    expect(d.layers).toEqual([]);
  });

  it('is attached by diffVersions to modified model files', () => {
    const d = diffVersions(
      { files: { m: entry('before', 512) } },
      { files: { m: entry('after', 576) } },
      lookupOf({ [id('before')]: before, [id('after')]: after }),
    );
    expect(d.files[0]!.tensors?.changes.length).toBe(5);
  });
});

describe('layerOf', () => {
  it('cuts at the first all-digit part', () => {
    expect(layerOf('model.layers.12.self_attn.q_proj.weight')).toBe('model.layers.12.*');
    expect(layerOf('blk.0.attn_q.weight')).toBe('blk.0.*');
    expect(layerOf('h.3.mlp.c_fc.0.weight')).toBe('h.3.*');
  });

  it('groups path-like names without dots (Keras, HDF5) by the group that holds them', () => {
    expect(layerOf('layers/dense_2/vars/0')).toBe('layers/dense_2/vars/*');
    expect(layerOf('layers/dense_2/vars/1')).toBe('layers/dense_2/vars/*');
    expect(layerOf('model_weights/dense_1/dense_1/kernel:0')).toBe('model_weights/dense_1/dense_1/*');
    expect(layerOf('/x')).toBe('/x');
    // a dotted name keeps the dotted rule, slashes and all
    expect(layerOf('layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE')).toBe('layer_with_weights-0/kernel/.*');
  });

  it('drops the last part when there is no numeric part', () => {
    expect(layerOf('model.embed_tokens.weight')).toBe('model.embed_tokens.*');
    expect(layerOf('lm_head.weight')).toBe('lm_head.*');
  });

  it('groups a name that joins several with ; (TFLite fused ops) by its first', () => {
    expect(layerOf('model/dense_1/MatMul;model/dense_1/BiasAdd')).toBe('model/dense_1/*');
    expect(layerOf('blk.3.w;blk.4.w')).toBe('blk.3.*');
    expect(layerOf(';x')).toBe(';x');
  });

  it('keeps a single-part name whole', () => {
    expect(layerOf('bias')).toBe('bias');
    expect(layerOf('12')).toBe('12.*');
  });

  it('does not treat mixed parts like "layer12" as numeric', () => {
    expect(layerOf('layer12.w.bias')).toBe('layer12.w.*');
  });
});
