import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { detectLayout } from '../../../../src/core/formats/detect.js';
import { onnxExternalData } from '../../../../src/core/formats/onnx.js';
import {
  bufferSource,
  pbBytes,
  pbVarint,
  randomBf16,
  seededBytes,
  virtualSource,
  writeOnnx,
  onnxConstant,
  onnxIf,
  expectWellFormed,
} from '../../../helpers/modelWriters.js';
import { detect, fuzzMutations } from './layoutChecks.js';
import { onnxFixtures } from '../../../helpers/onnxReal.js';

describe('onnx external data', () => {
  it('lists the tensors a model keeps in other files, with their file and range', async () => {
    const model = writeOnnx([
      { name: 'w', dataType: 1, dims: [4, 8], raw: seededBytes(128, 1) },
      {
        name: 'big.weight',
        dataType: 16,
        dims: [1024, 64],
        external: { location: 'model.onnx.data', offset: 0, length: 131072 },
      },
      { name: 'big.bias', dataType: 1, dims: [64], external: { location: './model.onnx.data', offset: 131072 } },
      { name: 'other', dataType: 1, dims: [16], external: true },
      { name: 'bad-length', dataType: 1, dims: [16], external: { location: 'x.bin', length: 63 } },
      { name: 'no-number', dataType: 1, dims: [16], external: { location: 'x.bin', offset: -1 } },
    ]);
    expect(await onnxExternalData(bufferSource(model))).toEqual([
      { name: 'big.weight', dtype: 'bf16', shape: [1024, 64], location: 'model.onnx.data', offset: 0, length: 131072 },
      { name: 'big.bias', dtype: 'f32', shape: [64], location: './model.onnx.data', offset: 131072, length: 256 },
      { name: 'other', dtype: 'f32', shape: [16], location: 'weights.bin', offset: 0, length: 64 },
    ]);
    // the in-file initializer is still the model file's own layout
    expect((await detect(model))?.tensors.map((t) => t.name)).toEqual(['w']);
    expect(await onnxExternalData(bufferSource(Buffer.from('not a model at all')))).toBeNull();
  });
});

describe('onnx models the onnx package writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-onnx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const expected = onnxFixtures(dir);
  const read = async (file: string) => {
    const buf = readFileSync(join(dir, file));
    const layout = await detect(buf);
    expect(layout?.format).toBe('onnx');
    expectWellFormed(layout!, buf.length);
    return Object.fromEntries(layout!.tensors.map((t) => [t.name, buf.subarray(t.start, t.end).toString('hex')]));
  };

  it('names Constant tensors by their output and subgraph tensors by node and branch, whatever the order', async () => {
    const names = [
      'w',
      'scale',
      // its TensorProto is named const_tensor; the graph calls it shift
      'shift',
      'gate/else_branch/k',
      'gate/else_branch/branch_val',
      'gate/then_branch/k',
      'gate/then_branch/branch_val',
      'trip',
      // the Loop has no name: its output scopes its body
      'z/body/step',
    ];
    const branches = await read('branches.onnx');
    expect(Object.keys(branches).sort()).toEqual([...names].sort());
    expect(branches).toEqual(expected['branches.onnx']);
    expect(Object.keys(branches).some((n) => n.includes('#'))).toBe(false);
    // the branches written the other way round: same names, same bytes
    expect(await read('swapped.onnx')).toEqual(branches);
    // a Constant added in front renames nothing
    const wider = await read('wider.onnx');
    expect(wider).toEqual(expected['wider.onnx']);
    expect(wider).toEqual({ ...branches, extra: wider.extra });
  });
});

describe('onnx', () => {
  const inits = [
    { name: 'conv.weight', dataType: 1, dims: [2, 3], raw: seededBytes(24, 1) },
    { name: 'emb', dataType: 16, dims: [4], raw: randomBf16(4, 0.02, 2) },
    { name: 'scalar', dataType: 7, dims: [], raw: seededBytes(8, 3) },
    { name: 'nibbles', dataType: 21, dims: [3], raw: seededBytes(2, 4) },
    { name: 'floats', dataType: 1, dims: [2], floatData: [1, 2] },
    { name: 'ext', dataType: 1, dims: [1024], external: true },
    { name: 'empty', dataType: 10, dims: [0, 5], raw: Buffer.alloc(0) },
    { name: 'odd', dataType: 99, dims: [3], raw: seededBytes(5, 5) },
  ];

  for (const packedDims of [false, true]) {
    it(`round-trips raw initializers to their exact bytes (${packedDims ? 'packed' : 'unpacked'} dims)`, async () => {
      const buf = writeOnnx(inits, { packedDims });
      const layout = await detect(buf);
      expect(layout?.format).toBe('onnx');
      expect(layout!.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
        ['conv.weight', 'f32', [2, 3]],
        ['emb', 'bf16', [4]],
        ['scalar', 'i64', []],
        ['nibbles', 'u4', [3]],
        ['empty', 'f16', [0, 5]],
        ['odd', 'unknown', [3]],
      ]);
      for (const t of layout!.tensors) {
        const src = inits.find((i) => i.name === t.name)!;
        expect(buf.subarray(t.start, t.end).equals(src.raw!)).toBe(true);
      }
      expectWellFormed(layout!, buf.length);
    });
  }

  it(
    'finds the tensors Constant nodes hold, named by their output, and those of If / Loop / Scan subgraphs, ' +
      'scoped by their node and branch',
    async () => {
      const c1 = seededBytes(16 * 4, 21);
      const c2 = seededBytes(8 * 2, 22);
      const sub = seededBytes(6 * 4, 23);
      const again = seededBytes(4 * 4, 24);
      const buf = writeOnnx([{ name: 'main.w', dataType: 1, dims: [2, 2], raw: seededBytes(16, 20) }], {
        nodes: [
          onnxConstant('fc.weight', { name: '', dataType: 1, dims: [4, 4], raw: c1 }),
          // the tensor's own name is not the one the graph knows it by
          onnxConstant('fc.bias', { name: 'named_inside', dataType: 10, dims: [8], raw: c2 }),
          onnxIf(
            'branch',
            [{ name: 'branch.w', dataType: 1, dims: [6], raw: sub }],
            [onnxConstant('fc.weight', { name: '', dataType: 1, dims: [4], raw: again })],
          ),
        ],
      });
      const layout = await detect(buf);
      expect(layout?.format).toBe('onnx');
      const byName = new Map(layout!.tensors.map((t) => [t.name, t]));
      expect([...byName.keys()].sort()).toEqual(
        ['branch/then_branch/branch.w', 'branch/then_branch/fc.weight', 'fc.bias', 'fc.weight', 'main.w'].sort(),
      );
      const bytes = (n: string) => buf.subarray(byName.get(n)!.start, byName.get(n)!.end);
      expect(bytes('fc.weight').equals(c1)).toBe(true);
      expect(byName.get('fc.weight')).toMatchObject({ dtype: 'f32', shape: [4, 4] });
      expect(bytes('fc.bias').equals(c2)).toBe(true);
      expect(bytes('branch/then_branch/branch.w').equals(sub)).toBe(true);
      expect(bytes('branch/then_branch/fc.weight').equals(again)).toBe(true);
    },
  );

  it('refuses subgraphs nested without end', async () => {
    let node = onnxConstant('deep', { name: '', dataType: 1, dims: [1], raw: seededBytes(4, 1) });
    for (let i = 0; i < 40; i++) node = onnxIf(`n${i}`, [], [node]);
    expect(
      await detect(writeOnnx([{ name: 'w', dataType: 1, dims: [1], raw: seededBytes(4, 2) }], { nodes: [node] })),
    ).toBeNull();
  });

  it('requires ir_version, a graph and a raw initializer', async () => {
    const raw = [{ name: 'w', dataType: 2, dims: [4], raw: seededBytes(4) }];
    expect(await detect(writeOnnx(raw))).not.toBeNull();
    expect(await detect(writeOnnx(raw, { irVersion: null }))).toBeNull();
    expect(await detect(writeOnnx([{ name: 'f', dataType: 1, dims: [2], floatData: [1, 2] }]))).toBeNull();
    expect(await detect(writeOnnx([]))).toBeNull();
    expect(await detect(Buffer.concat([pbVarint(1, 8), pbBytes(2, Buffer.from('producer'))]))).toBeNull();
  });

  it('rejects size mismatches, negative dims, bad wire types and trailing bytes', async () => {
    const ok = writeOnnx([{ name: 'w', dataType: 1, dims: [2], raw: seededBytes(8) }]);
    const bad: [string, Buffer][] = [
      ['raw_data size mismatch', writeOnnx([{ name: 'w', dataType: 1, dims: [3], raw: seededBytes(8) }])],
      [
        'dim of -1',
        Buffer.concat([
          pbVarint(1, 8),
          pbBytes(
            7,
            pbBytes(
              5,
              Buffer.concat([
                Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
                pbVarint(2, 2),
                pbBytes(8, Buffer.from('w')),
                pbBytes(9, seededBytes(4)),
              ]),
            ),
          ),
        ]),
      ],
      ['trailing zero byte', Buffer.concat([ok, Buffer.from([0])])],
      ['trailing partial varint', Buffer.concat([ok, Buffer.from([0x08, 0xff])])],
      ['group wire type', Buffer.concat([ok, Buffer.from([0x0b])])],
      ['wire type 7', Buffer.concat([ok, Buffer.from([0x0f])])],
      ['length past end', Buffer.concat([ok, Buffer.from([0x12, 0x7f])])],
    ];
    for (const [what, buf] of bad) expect(await detect(buf), what).toBeNull();
  });

  it('refuses a huge length prefix without reading it', async () => {
    const head = Buffer.concat([
      pbVarint(1, 8),
      Buffer.from([0x3a]),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
    ]);
    const src = virtualSource(2 ** 33, (o, n) => {
      const b = Buffer.alloc(n);
      if (o < head.length) head.copy(b, 0, o, Math.min(head.length, o + n));
      return b;
    });
    expect(await detectLayout(src)).toBeNull();
    expect(src.bytesRead).toBeLessThan(1024 * 1024);
  });

  it('never throws on truncation (null inside the graph) and survives random corruption', async () => {
    const buf = writeOnnx(inits);
    // The writer ends the model with the opset_import field; any cut before it loses (part of) the graph.
    const graphEnd = buf.length - pbBytes(8, Buffer.concat([pbBytes(1, Buffer.from('')), pbVarint(2, 17)])).length;
    for (let cut = 0; cut < buf.length; cut++) {
      const layout = await detect(buf.subarray(0, cut));
      if (cut < graphEnd) expect(layout, `cut at ${cut}`).toBeNull();
      else if (cut === graphEnd) expect(layout?.tensors).toHaveLength(6);
      if (layout) expectWellFormed(layout, cut);
    }
    await fuzzMutations(buf, 15);
  });
});
