/**
 * PyTorch checkpoints: the storages' dtypes, read from data.pkl as Python's
 * pickle writes it for torch.save (protocols 2 and 4), and a damaged pickle
 * never throws.
 */
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../../src/core/formats/detect.js';
import { torchPickle as scan } from '../../../../src/core/formats/torchPickle.js';
import { bufferSource, expectWellFormed, randomBf16, writeTorchZip } from '../../../helpers/modelWriters.js';
import { torchPickle, type TorchTensor } from '../../../helpers/torch.js';

const TENSORS: TorchTensor[] = [
  // a view into part of a storage comes first; the tensor that views all of it names the storage
  ['embed.row0', 'BFloat16Storage', '0', 1024, [64], 0],
  ['embed.weight', 'BFloat16Storage', '0', 1024, [16, 64]],
  ['proj.bias', 'FloatStorage', '1', 64],
  ['steps', 'LongStorage', '2', 1, []],
  ['rotary', 'ComplexFloatStorage', '3', 16],
  // tied weights share a storage: the pickle names it again through the memo
  ['head.weight', 'BFloat16Storage', '0', 1024, [16, 64]],
];

/** The opcodes that push one tensor: _rebuild_tensor_v2 of a FloatStorage '0' of 4 elements (protocol 2). */
const TENSOR_OPS = Buffer.from(
  'ctorch._utils\n_rebuild_tensor_v2\nq\x00((X\x07\x00\x00\x00storageq\x01ctorch\nFloatStorage\nq\x02' +
    'X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04\x85K\x01\x85\x89tR',
  'latin1',
);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

describe('torch pickle', () => {
  it.each([2, 4])('protocol %i: each storage key gets the dtype and element count its class names', (protocol) => {
    const found = scan(torchPickle(TENSORS, protocol)).storages;
    expect([...found].sort()).toEqual([
      ['0', { dtype: 'BF16', numel: 1024, itemSize: 2 }],
      ['1', { dtype: 'F32', numel: 64, itemSize: 4 }],
      ['2', { dtype: 'I64', numel: 1, itemSize: 8 }],
    ]);
  });

  it.each([2, 4])(
    'protocol %i: the state dict names the tensors that view each storage, with their offsets and shapes',
    (protocol) => {
      const { tensors } = scan(torchPickle(TENSORS, protocol));
      expect(tensors.map((t) => [t.name, t.storage, t.offset, t.shape])).toEqual([
        ['embed.row0', '0', 0, [64]],
        ['embed.weight', '0', 0, [16, 64]],
        ['proj.bias', '1', 0, [64]],
        ['steps', '2', 0, []],
        ['rotary', '3', 0, [16]],
        ['head.weight', '0', 0, [16, 64]],
      ]);
    },
  );

  it(
    'a checkpoint layout carries those dtypes; a storage whose size disagrees with the pickle stays ' + 'unknown',
    async () => {
      const pickle = torchPickle(TENSORS);
      const zip = writeTorchZip(
        [
          { key: '0', data: randomBf16(1024) },
          { key: '1', data: Buffer.alloc(64 * 4, 1) },
          { key: '2', data: Buffer.alloc(16, 2) }, // the pickle says 1 element of 8 bytes
          { key: '3', data: Buffer.alloc(16 * 8, 3) },
        ],
        { pickle },
      );
      const layout = await detectLayout(bufferSource(zip));
      expect(layout?.format).toBe('pytorch');
      // named after the tensor that views all of the storage, with its shape; the shape is known only with the dtype
      expect(layout!.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
        ['embed.weight', 'BF16', [16, 64]],
        ['proj.bias', 'F32', [64]],
        ['steps', 'unknown', []],
        ['rotary', 'unknown', []],
      ]);
      // with a pickle that names nothing, storages keep their keys
      const bare = await detectLayout(bufferSource(writeTorchZip([{ key: '0', data: randomBf16(8) }])));
      expect(bare!.tensors.map((t) => [t.name, t.dtype])).toEqual([['data/0', 'unknown']]);
    },
  );

  it.each([2, 4])(
    "protocol %i: a training checkpoint names each tensor by its path, so the optimizer's moments of two parameters " +
      'differ',
    (protocol) => {
      const pickle = torchPickle(
        [
          [['model', 'fc.weight'], 'BFloat16Storage', '0', 64, [8, 8]],
          [['model', 'fc.bias'], 'FloatStorage', '1', 8],
          [['optimizer', 'state', 0, 'exp_avg'], 'FloatStorage', '2', 64, [8, 8]],
          [['optimizer', 'state', 0, 'exp_avg_sq'], 'FloatStorage', '3', 64, [8, 8]],
          [['optimizer', 'state', 1, 'exp_avg'], 'FloatStorage', '4', 8],
          [['ema', '#0'], 'FloatStorage', '5', 8],
          [['ema', '#1'], 'FloatStorage', '6', 8],
        ],
        protocol,
        { extra: { epoch: 3, param_groups: [{ lr: 0.001, params: [0, 1] }], note: 'run 7' } },
      );
      const { tensors, storages } = scan(pickle);
      expect(tensors.map((t) => [t.name, t.storage])).toEqual([
        ['model.fc.weight', '0'],
        ['model.fc.bias', '1'],
        ['optimizer.state.0.exp_avg', '2'],
        ['optimizer.state.0.exp_avg_sq', '3'],
        ['optimizer.state.1.exp_avg', '4'],
        ['ema.0', '5'],
        ['ema.1', '6'],
      ]);
      expect(storages.size).toBe(7);
    },
  );

  it(
    "a training checkpoint's layout names every storage by its path (no data/<key> left for a second " + 'exp_avg)',
    async () => {
      const pickle = torchPickle([
        [['model', 'w'], 'FloatStorage', '0', 16],
        [['optimizer', 'state', 0, 'exp_avg'], 'FloatStorage', '1', 16],
        [['optimizer', 'state', 1, 'exp_avg'], 'FloatStorage', '2', 16],
      ]);
      const zip = writeTorchZip(
        ['0', '1', '2'].map((key) => ({ key, data: Buffer.alloc(64, Number(key)) })),
        { pickle },
      );
      const layout = await detectLayout(bufferSource(zip));
      expect(layout!.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
        ['model.w', 'F32', [16]],
        ['optimizer.state.0.exp_avg', 'F32', [16]],
        ['optimizer.state.1.exp_avg', 'F32', [16]],
      ]);
    },
  );

  it.each([2, 4])(
    'protocol %i: a whole nn.Module (torch.save(model), as in YOLO checkpoints) names its tensors as its state dict' +
      ' would',
    (protocol) => {
      const tensors: TorchTensor[] = [
        ['backbone.0.conv.weight', 'BFloat16Storage', '0', 64, [4, 4, 2, 2]],
        ['backbone.0.bn.running_mean', 'FloatStorage', '1', 4],
        ['head.weight', 'BFloat16Storage', '2', 32, [8, 4]],
      ];
      const inDict = scan(
        torchPickle(tensors, protocol, { module: 'model', extra: { epoch: 3, best_fitness: 0.5 } }),
      ).tensors;
      expect(inDict.map((t) => [t.name, t.storage, t.shape])).toEqual([
        ['model.backbone.0.conv.weight', '0', [4, 4, 2, 2]],
        ['model.backbone.0.bn.running_mean', '1', [4]],
        ['model.head.weight', '2', [8, 4]],
      ]);
      const alone = scan(torchPickle(tensors, protocol, { module: '' })).tensors;
      expect(alone.map((t) => t.name)).toEqual(['backbone.0.conv.weight', 'backbone.0.bn.running_mean', 'head.weight']);
    },
  );

  it('a flat state dict keeps its plain names, with tensors saved as nn.Parameter too', () => {
    const tensors = [
      ['a.weight', 'FloatStorage', '0', 4],
      ['b.weight', 'FloatStorage', '1', 4],
    ] as TorchTensor[];
    for (const parameters of [false, true]) {
      expect(scan(torchPickle(tensors, 2, { parameters })).tensors.map((t) => t.name)).toEqual([
        'a.weight',
        'b.weight',
      ]);
    }
  });

  it('a pickle that puts a dict inside itself (through the memo) names its tensors without looping', () => {
    // {'a': d, 'w': tensor} where d is the outer dict again: protocol 2 by hand
    const pkl = Buffer.concat([
      Buffer.from('\x80\x02}q\x10(X\x01\x00\x00\x00ah\x10X\x01\x00\x00\x00w', 'latin1'),
      TENSOR_OPS,
      Buffer.from('u.', 'latin1'),
    ]);
    const { tensors, storages } = scan(pkl);
    expect(storages.get('0')).toEqual({ dtype: 'F32', numel: 4, itemSize: 4 });
    expect(tensors.map((t) => t.name)).toEqual(['w']);
  });

  it('an opcode the scan does not follow stops it with the names found so far', () => {
    // {'w': tensor}, then EMPTY_SET (not followed), then STOP
    const pkl = Buffer.concat([
      Buffer.from('\x80\x02}X\x01\x00\x00\x00w', 'latin1'),
      TENSOR_OPS,
      Buffer.from('s\x8f.', 'latin1'),
    ]);
    expect(scan(pkl).tensors.map((t) => t.name)).toEqual(['w']);
  });

  it('a long key reused down a deep path for many tensors: names stay short and their total bounded, fast', () => {
    // depth dicts nested under the same key, then `count` tensors put in the deepest (key and tensor through the memo)
    const deep = (depth: number, keyLength: number, count: number) => {
      const key = Buffer.alloc(keyLength, 'k');
      const parts = [
        Buffer.from('\x80\x02}', 'latin1'),
        Buffer.from([0x58]),
        u32(keyLength),
        key,
        Buffer.from('q\x0a}', 'latin1'),
      ];
      for (let d = 1; d < depth; d++) parts.push(Buffer.from('h\x0a}', 'latin1'));
      parts.push(Buffer.from('h\x0a', 'latin1'), TENSOR_OPS, Buffer.from('q\x0bs', 'latin1'));
      for (let i = 1; i < count; i++) parts.push(Buffer.from('h\x0ah\x0bs', 'latin1'));
      for (let d = 0; d < depth; d++) parts.push(Buffer.from('s', 'latin1'));
      parts.push(Buffer.from('.', 'latin1'));
      return Buffer.concat(parts);
    };
    const started = performance.now();
    // 40 keys of 20 characters: a path of 839 characters, named until 16 Mi characters of names are spent
    const many = scan(deep(40, 20, 30_000)).tensors;
    expect(many.length).toBeGreaterThan(10_000);
    expect(many.length).toBeLessThan(30_000);
    expect(many.every((t) => t.name === many[0]!.name && t.name.length === 40 * 21 + 20)).toBe(true);
    // 60 keys of 20 characters: over 1,024 characters; 70 levels: too deep; either way unnamed
    expect(scan(deep(60, 20, 100)).tensors).toEqual([]);
    expect(scan(deep(70, 1, 100)).tensors).toEqual([]);
    // a key of 2 MiB at the top: too long to be a name
    expect(scan(deep(1, 2 << 20, 100)).tensors).toEqual([]);
    // a tensor 70 deep leaves unnamed only itself: one put 10 deep in the same chain afterwards is named
    const chain = [Buffer.from('\x80\x02}X\x01\x00\x00\x00kq\x0a}', 'latin1')];
    for (let d = 1; d < 70; d++) chain.push(Buffer.from('h\x0a}', 'latin1'));
    chain.push(
      Buffer.from('h\x0a', 'latin1'),
      TENSOR_OPS,
      Buffer.from('q\x0bs', 'latin1'),
      Buffer.from('s'.repeat(60), 'latin1'),
    );
    chain.push(
      Buffer.from('X\x01\x00\x00\x00w', 'latin1'),
      Buffer.from('h\x0bs', 'latin1'),
      Buffer.from('s'.repeat(10) + '.', 'latin1'),
    );
    expect(scan(Buffer.concat(chain)).tensors.map((t) => t.name)).toEqual([Array(10).fill('k').join('.') + '.w']);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('a truncated or damaged pickle never throws: it names the storages it got to, with the right dtypes', () => {
    const pickle = torchPickle(TENSORS);
    const full = scan(pickle).storages;
    for (let cut = 0; cut <= pickle.length; cut++) {
      for (const [key, s] of scan(pickle.subarray(0, cut)).storages) expect(full.get(key)).toEqual(s);
    }
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let trial = 0; trial < 2000; trial++) {
      const bad = Buffer.from(pickle);
      for (let k = 0; k < 1 + (trial % 3); k++) bad[next() % bad.length] = next() & 0xff;
      const got = scan(bad).storages;
      expect(got).toBeInstanceOf(Map);
      for (const s of got.values()) expect(Number.isSafeInteger(s.numel) && s.itemSize > 0).toBe(true);
    }
  });

  it('a damaged pickle inside a checkpoint still gives a well-formed layout', async () => {
    const pickle = torchPickle(TENSORS);
    const storages = [
      { key: '0', data: randomBf16(1024) },
      { key: '1', data: Buffer.alloc(256, 1) },
    ];
    for (let at = 0; at < pickle.length; at += 7) {
      const bad = Buffer.from(pickle);
      bad[at] ^= 0x5a;
      const zip = writeTorchZip(storages, { pickle: bad });
      const layout = await detectLayout(bufferSource(zip));
      expect(layout?.format).toBe('pytorch');
      expectWellFormed(layout!, zip.length);
    }
  });
});
