import { describe, it, expect } from 'vitest';
import { detectLayout, validateLayout } from '../../../src/core/formats/detect.js';
import { parseSafetensorsIndex } from '../../../src/core/formats/safetensors.js';
import { onnxExternalData } from '../../../src/core/formats/onnx.js';
import type { ByteSource, Layout } from '../../../src/core/formats/types.js';
import {
  GGML,
  bufferSource,
  pbBytes,
  pbVarint,
  prng,
  randomBf16,
  safetensorsFromHeader,
  seededBytes,
  virtualSource,
  writeGguf,
  writeOnnx,
  onnxConstant,
  onnxIf,
  writeSafetensors,
  writeTorchZip,
  type GgufOptions,
  expectWellFormed,
} from '../../helpers/modelWriters.js';

const detect = (buf: Buffer): Promise<Layout | null> => detectLayout(bufferSource(buf));

/**
 * Every prefix of `buf` shorter than `validFrom` (all when small, else a spread) must be rejected; longer ones stay
 * well-formed.
 */
async function expectTruncationsNull(buf: Buffer, validFrom = buf.length): Promise<void> {
  const step = Math.max(1, Math.floor(buf.length / 400));
  for (let cut = 0; cut < buf.length; cut += step) {
    const layout = await detect(buf.subarray(0, cut));
    if (cut < validFrom) expect(layout, `cut at ${cut}`).toBeNull();
    else expectWellFormed(layout!, cut);
  }
  expect(await detect(buf.subarray(0, validFrom - 1))).toBeNull();
}

/** Random single- and multi-byte corruptions must never throw and must yield null or a well-formed layout. */
async function fuzzMutations(buf: Buffer, seed: number, rounds = 300): Promise<void> {
  const rnd = prng(seed);
  for (let i = 0; i < rounds; i++) {
    const m = Buffer.from(buf);
    const flips = 1 + Math.floor(rnd() * 3);
    for (let f = 0; f < flips; f++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
    const layout = await detect(m);
    if (layout) expectWellFormed(layout, m.length);
  }
}

describe('safetensors', () => {
  const tensors = [
    { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [4, 8], data: randomBf16(32, 0.02, 7) },
    { name: 'lm_head.bias', dtype: 'F32', shape: [3] },
    { name: 'ids', dtype: 'I64', shape: [2, 2] },
    { name: 'mask', dtype: 'BOOL', shape: [5] },
    { name: 'fp8', dtype: 'F8_E4M3', shape: [2, 3] },
    { name: 'packed4', dtype: 'F4', shape: [6], data: seededBytes(3, 9) },
    { name: 'empty', dtype: 'F16', shape: [0, 4] },
    { name: 'u16', dtype: 'U16', shape: [3] },
  ];
  const file = writeSafetensors(tensors, { format: 'pt' });
  const headerEnd = 8 + Number(file.readBigUInt64LE(0));

  it('round-trips names, dtypes, shapes and exact data offsets', async () => {
    const layout = await detect(file);
    expect(layout?.format).toBe('safetensors');
    expect(layout!.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    expect(layout!.tensors.map((t) => t.dtype)).toEqual(['bf16', 'f32', 'i64', 'bool', 'f8_e4m3', 'f4', 'f16', 'u16']);
    expect(layout!.tensors.map((t) => t.shape)).toEqual(tensors.map((t) => t.shape));
    expect(layout!.tensors[0]!.start).toBe(headerEnd);
    expect(layout!.tensors.at(-1)!.end).toBe(file.length);
    const header = JSON.parse(file.toString('utf8', 8, headerEnd)) as Record<
      string,
      { data_offsets: [number, number] }
    >;
    for (const t of layout!.tensors) {
      const [b, e] = header[t.name]!.data_offsets;
      expect([t.start, t.end]).toEqual([headerEnd + b, headerEnd + e]);
    }
    expect(file.subarray(layout!.tensors[0]!.start, layout!.tensors[0]!.end).equals(tensors[0]!.data!)).toBe(true);
    expect(file.subarray(layout!.tensors[5]!.start, layout!.tensors[5]!.end).equals(tensors[5]!.data!)).toBe(true);
    const empty = layout!.tensors.find((t) => t.name === 'empty')!;
    expect(empty.end).toBe(empty.start);
    expectWellFormed(layout!, file.length);
  });

  it('sorts tensors by data offset whatever the header order', async () => {
    const a = seededBytes(8, 1);
    const b = seededBytes(4, 2);
    const buf = safetensorsFromHeader(
      { b: { dtype: 'U8', shape: [4], data_offsets: [8, 12] }, a: { dtype: 'U8', shape: [8], data_offsets: [0, 8] } },
      Buffer.concat([a, b]),
    );
    const layout = await detect(buf);
    expect(layout!.tensors.map((t) => t.name)).toEqual(['a', 'b']);
    expect(buf.subarray(layout!.tensors[1]!.start, layout!.tensors[1]!.end).equals(b)).toBe(true);
  });

  it('accepts files made only of zero-size tensors, and an empty tensor map', async () => {
    const z = await detect(
      safetensorsFromHeader(
        {
          a: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
          b: { dtype: 'F32', shape: [2, 0], data_offsets: [0, 0] },
        },
        Buffer.alloc(0),
      ),
    );
    expect(z?.tensors.map((t) => t.end - t.start)).toEqual([0, 0]);
    expect((await detect(safetensorsFromHeader({ __metadata__: { x: 'y' } }, Buffer.alloc(0))))?.tensors).toEqual([]);
  });

  it('keeps unknown dtypes (lower-cased) without a size check', async () => {
    const layout = await detect(
      safetensorsFromHeader({ w: { dtype: 'X9', shape: [3], data_offsets: [0, 5] } }, seededBytes(5)),
    );
    expect(layout?.tensors[0]).toMatchObject({ dtype: 'x9', shape: [3] });
  });

  it('rejects malformed headers', async () => {
    const data = seededBytes(16);
    const bad: [string, Buffer][] = [
      ['offsets out of range', safetensorsFromHeader({ w: { dtype: 'U8', shape: [32], data_offsets: [0, 32] } }, data)],
      [
        'overlap',
        safetensorsFromHeader(
          {
            a: { dtype: 'U8', shape: [8], data_offsets: [0, 8] },
            b: { dtype: 'U8', shape: [8], data_offsets: [4, 12] },
          },
          data,
        ),
      ],
      ['size != shape x dtype', safetensorsFromHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data)],
      ['end before begin', safetensorsFromHeader({ w: { dtype: 'U8', shape: [0], data_offsets: [8, 4] } }, data)],
      ['negative dim', safetensorsFromHeader({ w: { dtype: 'U8', shape: [-4], data_offsets: [0, 4] } }, data)],
      ['fractional offset', safetensorsFromHeader({ w: { dtype: 'U8', shape: [4], data_offsets: [0.5, 4.5] } }, data)],
      ['missing offsets', safetensorsFromHeader({ w: { dtype: 'U8', shape: [4] } }, data)],
      ['non-object entry', safetensorsFromHeader({ w: 5 }, data)],
      ['not JSON', safetensorsFromHeader('{not json at all', data)],
      ['JSON array', safetensorsFromHeader('[1,2,3]', data)],
      ['JSON null', safetensorsFromHeader('null', data)],
      [
        'invalid UTF-8',
        Buffer.concat([
          Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]),
          Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x20]),
          data,
        ]),
      ],
      [
        'header length larger than file',
        (() => {
          const b = Buffer.from(file);
          b.writeBigUInt64LE(BigInt(file.length), 0);
          return b;
        })(),
      ],
      [
        'header length shorter than JSON',
        (() => {
          const b = Buffer.from(file);
          b.writeBigUInt64LE(BigInt(headerEnd - 8 - 16), 0);
          return b;
        })(),
      ],
      [
        'header length 2^64-1',
        (() => {
          const b = Buffer.from(file);
          b.writeBigUInt64LE(2n ** 64n - 1n, 0);
          return b;
        })(),
      ],
    ];
    for (const [what, buf] of bad) expect(await detect(buf), what).toBeNull();
  });

  it('refuses headers over 100 MiB without reading them', async () => {
    const src = virtualSource(2 ** 31, (offset, n) => {
      const b = Buffer.alloc(n, 0x20);
      if (offset === 0 && n >= 9) {
        b.writeBigUInt64LE(BigInt(200 * 1024 * 1024), 0);
        b[8] = 0x7b;
      }
      return b;
    });
    expect(await detectLayout(src)).toBeNull();
    expect(src.bytesRead).toBeLessThan(1024 * 1024);
  });

  it('rejects every truncation and survives random corruption', async () => {
    await expectTruncationsNull(file);
    await fuzzMutations(file, 11);
  });

  it('parses model.safetensors.index.json weight maps', () => {
    const index =
      '{"metadata": {"total_size": 10}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors", "__proto__": ' +
      '"x.safetensors"}}';
    const map = parseSafetensorsIndex(index);
    expect(map?.['a.weight']).toBe('model-00001-of-00002.safetensors');
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    expect(Object.hasOwn(map!, '__proto__')).toBe(true);
    expect(parseSafetensorsIndex('not json')).toBeNull();
    expect(parseSafetensorsIndex('{"weight_map": []}')).toBeNull();
    expect(parseSafetensorsIndex('{"weight_map": {"a": 1}}')).toBeNull();
    expect(parseSafetensorsIndex('{}')).toBeNull();
  });
});

describe('gguf', () => {
  const q40 = seededBytes(2 * 18 * 2, 3);
  const opts: GgufOptions = {
    alignment: 64,
    metadata: {
      'general.architecture': 'llama',
      'general.name': 'tiny',
      'llama.block_count': 1,
      'general.flag': true,
      'general.big': { type: 'u64', value: 2n ** 40n },
      'general.neg': { type: 'i64', value: -5n },
      'general.pi': { type: 'f64', value: 3.14 },
      'general.i8': { type: 'i8', value: -1 },
      'general.u16': { type: 'u16', value: 7 },
      'tokenizer.ggml.tokens': ['<s>', '</s>', 'hello', 'wörld', ''],
      'tokenizer.ggml.scores': { type: 'array', itemType: 'f32', values: [0, -1, -2.5, 3, 4] },
      'tokenizer.ggml.token_type': { type: 'array', itemType: 'i32', values: [1, 1, 2, 2, 2] },
      nested: {
        type: 'array',
        itemType: 'array',
        values: [['a', 'b'], { type: 'array', itemType: 'u8', values: [1, 2, 3] }],
      },
    },
    tensors: [
      { name: 'token_embd.weight', type: GGML.Q4_0, dims: [64, 2], data: q40 },
      { name: 'blk.0.attn_q.weight', type: GGML.Q8_0, dims: [32, 3] },
      { name: 'blk.0.ffn_down.weight', type: GGML.Q4_K, dims: [256, 1] },
      { name: 'output_norm.weight', type: GGML.F32, dims: [5] },
      { name: 'rope_freqs', type: GGML.BF16, dims: [7, 3] },
      { name: 'empty', type: GGML.F16, dims: [0] },
      { name: 'blk.0.q6', type: GGML.Q6_K, dims: [256, 2] },
      { name: 'ids', type: GGML.I32, dims: [4] },
    ],
  };
  const file = writeGguf(opts);

  it('round-trips a v3 file with custom alignment and rich metadata', async () => {
    const layout = await detect(file);
    expect(layout?.format).toBe('gguf');
    expect(layout!.tensors.map((t) => t.name)).toEqual(opts.tensors.map((t) => t.name));
    expect(layout!.tensors.map((t) => t.dtype)).toEqual(['q4_0', 'q8_0', 'q4_k', 'f32', 'bf16', 'f16', 'q6_k', 'i32']);
    expect(layout!.tensors.map((t) => t.shape)).toEqual(opts.tensors.map((t) => t.dims));
    expect(layout!.tensors.map((t) => t.end - t.start)).toEqual([72, 3 * 34, 144, 20, 42, 0, 420, 16]);
    for (const t of layout!.tensors) expect(t.start % 64).toBe(0);
    expect(file.subarray(layout!.tensors[0]!.start, layout!.tensors[0]!.end).equals(q40)).toBe(true);
    expect(layout!.tensors.at(-1)!.end).toBeLessThanOrEqual(file.length);
    expectWellFormed(layout!, file.length);
  });

  it('round-trips a v2 file with the default alignment and exact data bytes', async () => {
    const data = [randomBf16(8, 0.02, 1), seededBytes(34, 2)];
    const buf = writeGguf({
      version: 2,
      metadata: { 'general.architecture': 'x' },
      tensors: [
        { name: 'a', type: GGML.BF16, dims: [8], data: data[0] },
        { name: 'b', type: GGML.Q8_0, dims: [32], data: data[1] },
      ],
    });
    const layout = await detect(buf);
    expect(layout?.tensors.map((t) => [t.name, t.dtype, t.start % 32])).toEqual([
      ['a', 'bf16', 0],
      ['b', 'q8_0', 0],
    ]);
    layout!.tensors.forEach((t, i) => expect(buf.subarray(t.start, t.end).equals(data[i]!)).toBe(true));
  });

  it('accepts a file with no tensors', async () => {
    expect((await detect(writeGguf({ metadata: { a: 'b' }, tensors: [] })))?.tensors).toEqual([]);
  });

  it('rejects unknown types, bad blocks, versions, alignments and overlaps', async () => {
    const bad: [string, Buffer][] = [
      ['unknown ggml type', writeGguf({ tensors: [{ name: 'w', type: 99, dims: [4], data: seededBytes(16) }] })],
      ['removed Q4_2 type', writeGguf({ tensors: [{ name: 'w', type: 4, dims: [32], data: seededBytes(20) }] })],
      [
        'row not a whole block',
        writeGguf({ tensors: [{ name: 'w', type: GGML.Q4_0, dims: [48, 2], data: seededBytes(64) }] }),
      ],
      ['version 1', writeGguf({ version: 1, tensors: [{ name: 'w', type: GGML.F32, dims: [4] }] })],
      ['version 4', writeGguf({ version: 4, tensors: [{ name: 'w', type: GGML.F32, dims: [4] }] })],
      [
        'alignment not a power of two',
        writeGguf({ alignment: 48, tensors: [{ name: 'w', type: GGML.F32, dims: [4] }] }),
      ],
      [
        'alignment zero',
        writeGguf({
          metadata: { 'general.alignment': { type: 'u32', value: 0 } },
          tensors: [{ name: 'w', type: GGML.F32, dims: [4] }],
        }),
      ],
      [
        'alignment as string',
        writeGguf({ metadata: { 'general.alignment': '32' }, tensors: [{ name: 'w', type: GGML.F32, dims: [4] }] }),
      ],
      [
        'overlapping tensors',
        writeGguf({
          tensors: [
            { name: 'a', type: GGML.F32, dims: [8] },
            { name: 'b', type: GGML.F32, dims: [8], offset: 0 },
          ],
        }),
      ],
      ['tensor past end of file', writeGguf({ tensors: [{ name: 'a', type: GGML.F32, dims: [8], offset: 4096 }] })],
      [
        'bad metadata value type',
        (() => {
          const b = writeGguf({ metadata: { k: { type: 'u8', value: 1 } }, tensors: [] });
          b.writeUInt32LE(13, 24 + 8 + 1);
          return b;
        })(),
      ],
      [
        'too many dims',
        writeGguf({
          tensors: [{ name: 'w', type: GGML.F32, dims: [1, 1, 1, 1, 1, 1, 1, 1, 1], data: seededBytes(4) }],
        }),
      ],
    ];
    for (const [what, buf] of bad) expect(await detect(buf), what).toBeNull();
  });

  it('refuses absurd counts and lengths without reading much', async () => {
    const header = (tensorCount: bigint, kvCount: bigint, rest: Buffer): ((o: number, n: number) => Buffer) => {
      const h = Buffer.alloc(24);
      h.write('GGUF', 0, 'latin1');
      h.writeUInt32LE(3, 4);
      h.writeBigUInt64LE(tensorCount, 8);
      h.writeBigUInt64LE(kvCount, 16);
      const head = Buffer.concat([h, rest]);
      return (o, n) => {
        const b = Buffer.alloc(n);
        if (o < head.length) head.copy(b, 0, o, Math.min(head.length, o + n));
        return b;
      };
    };
    const u64 = (v: bigint): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      return b;
    };
    const u32 = (v: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v);
      return b;
    };
    const cases = [
      header(2n ** 40n, 0n, Buffer.alloc(0)),
      header(0n, 2n ** 62n, Buffer.alloc(0)),
      header(0n, 1n, u64(2n ** 50n)), // key length
      header(0n, 1n, Buffer.concat([u64(1n), Buffer.from('k'), u32(9), u32(0), u64(2n ** 52n)])), // u8 array length
      header(0n, 1n, Buffer.concat([u64(1n), Buffer.from('k'), u32(8), u64(2n ** 45n)])), // string length
      header(
        1n,
        0n,
        Buffer.concat([u64(1n), Buffer.from('w'), u32(2), u64(2n ** 40n), u64(2n ** 40n), u32(0), u64(0n)]),
      ), // element count
    ];
    for (const fill of cases) {
      const src = virtualSource(2 ** 33, fill);
      expect(await detectLayout(src)).toBeNull();
      expect(src.bytesRead).toBeLessThan(1024 * 1024);
    }
  });

  it('rejects every truncation and survives random corruption', async () => {
    // Cuts inside the alignment padding after the last tensor leave a valid file.
    await expectTruncationsNull(file, (await detect(file))!.tensors.at(-1)!.end);
    await fuzzMutations(file, 12);
  });
});

describe('pytorch zip', () => {
  const storages = [
    { key: '0', data: randomBf16(50, 0.02, 3) },
    { key: '1', data: Buffer.alloc(0) },
    { key: '10', data: seededBytes(1000, 4) },
    { key: '2', data: seededBytes(7, 5) },
  ];

  for (const zip64 of [false, true]) {
    it(`round-trips storages to their exact data ranges${zip64 ? ' (ZIP64)' : ''}`, async () => {
      const buf = writeTorchZip(storages, { zip64 });
      const layout = await detect(buf);
      expect(layout?.format).toBe('pytorch');
      expect(layout!.tensors.map((t) => t.name)).toEqual(['data/0', 'data/1', 'data/10', 'data/2']);
      for (const t of layout!.tensors) {
        expect(t).toMatchObject({ dtype: 'unknown', shape: [] });
        expect(t.start % 64).toBe(0);
        const s = storages.find((x) => `data/${x.key}` === t.name)!;
        expect(buf.subarray(t.start, t.end).equals(s.data)).toBe(true);
      }
      expectWellFormed(layout!, buf.length);
    });
  }

  it('reads data offsets from the local header, whatever the archive name and alignment', async () => {
    const buf = writeTorchZip(storages, { archive: 'pytorch_model', align: 1 });
    const layout = await detect(buf);
    expect(layout?.tensors.map((t) => t.name)).toEqual(['data/0', 'data/1', 'data/10', 'data/2']);
    for (const t of layout!.tensors) {
      const s = storages.find((x) => `data/${x.key}` === t.name)!;
      expect(buf.subarray(t.start, t.end).equals(s.data)).toBe(true);
    }
  });

  it('accepts an archive comment and an empty state dict', async () => {
    const base = writeTorchZip(storages);
    const withComment = Buffer.concat([base, Buffer.from('hello')]);
    withComment.writeUInt16LE(5, base.length - 2);
    expect((await detect(withComment))?.tensors).toHaveLength(4);
    expect((await detect(writeTorchZip([])))?.tensors).toEqual([]);
  });

  it('rejects compressed storages, non-torch zips and broken directories', async () => {
    const base = writeTorchZip(storages);
    const eocd = base.length - 22;
    const patch = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(base);
      f(b);
      return b;
    };
    const bad: [string, Buffer][] = [
      ['compressed data entry', writeTorchZip(storages, { compress: true })],
      ['no data.pkl', writeTorchZip(storages, { omitPickle: true })],
      ['central directory offset past EOCD', patch((b) => b.writeUInt32LE(eocd, eocd + 16))],
      ['central directory offset wrong', patch((b) => b.writeUInt32LE(b.readUInt32LE(eocd + 16) + 1, eocd + 16))],
      ['entry count too high', patch((b) => b.writeUInt16LE(200, eocd + 10))],
      ['comment length wrong', patch((b) => b.writeUInt16LE(3, eocd + 20))],
      [
        'local header offset wrong',
        patch((b) => {
          const cd = b.readUInt32LE(eocd + 16);
          for (let p = cd; p < eocd; p += 46 + b.readUInt16LE(p + 28) + b.readUInt16LE(p + 30)) {
            if (b.toString('utf8', p + 46, p + 46 + b.readUInt16LE(p + 28)) === 'archive/data/10')
              b.writeUInt32LE(b.readUInt32LE(p + 42) + 2, p + 42);
          }
        }),
      ],
    ];
    for (const [what, buf] of bad) expect(await detect(buf), what).toBeNull();
  });

  it('rejects every truncation and survives random corruption', async () => {
    const buf = writeTorchZip(storages);
    await expectTruncationsNull(buf);
    await fuzzMutations(buf, 13);
    await fuzzMutations(writeTorchZip(storages, { zip64: true }), 14);
  });
});

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
    'finds the tensors Constant nodes hold and those of If / Loop / Scan subgraphs, with names that ' +
      'tell them apart',
    async () => {
      const c1 = seededBytes(16 * 4, 21);
      const c2 = seededBytes(8 * 2, 22);
      const sub = seededBytes(6 * 4, 23);
      const again = seededBytes(4 * 4, 24);
      const buf = writeOnnx([{ name: 'main.w', dataType: 1, dims: [2, 2], raw: seededBytes(16, 20) }], {
        nodes: [
          onnxConstant('fc.weight', { name: '', dataType: 1, dims: [4, 4], raw: c1 }),
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
        ['branch.w', 'fc.weight', 'fc.weight#2', 'main.w', 'named_inside'].sort(),
      );
      const bytes = (n: string) => buf.subarray(byName.get(n)!.start, byName.get(n)!.end);
      expect(bytes('fc.weight').equals(c1)).toBe(true);
      expect(byName.get('fc.weight')).toMatchObject({ dtype: 'f32', shape: [4, 4] });
      expect(bytes('named_inside').equals(c2)).toBe(true);
      expect(bytes('branch.w').equals(sub)).toBe(true);
      expect(bytes('fc.weight#2').equals(again)).toBe(true);
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

describe('detectLayout', () => {
  it('returns null for empty, tiny and random files', async () => {
    expect(await detect(Buffer.alloc(0))).toBeNull();
    for (let n = 1; n < 40; n++) expect(await detect(seededBytes(n, n))).toBeNull();
    expect(await detect(Buffer.alloc(4096))).toBeNull();
    expect(await detect(Buffer.alloc(4096, 0xff))).toBeNull();
    const rnd = prng(99);
    for (let i = 0; i < 300; i++) {
      const buf = seededBytes(Math.floor(rnd() * 5000), 1000 + i);
      expect(await detect(buf)).toBeNull();
    }
  });

  it('returns null for random bytes behind each format magic', async () => {
    for (let i = 0; i < 100; i++) {
      const body = seededBytes(200 + i * 13, 5000 + i);
      const st = Buffer.from(body);
      st.writeBigUInt64LE(BigInt(i * 7), 0);
      st[8] = 0x7b;
      for (const buf of [
        Buffer.concat([Buffer.from('GGUF'), body]),
        Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), body]),
        st,
      ]) {
        expect(await detect(buf)).toBeNull();
      }
    }
  });

  it('never throws when the byte source misbehaves', async () => {
    const file = writeTorchZip([{ key: '0', data: seededBytes(16) }]);
    const failing: ByteSource = {
      size: file.length,
      read: async () => {
        throw new Error('EIO');
      },
    };
    const short: ByteSource = { size: file.length + 100, read: async (o, n) => file.subarray(o, o + n) };
    const syncThrow: ByteSource = {
      size: 100,
      read: () => {
        throw new Error('sync');
      },
    };
    const badSize = { size: Number.NaN, read: async () => Buffer.alloc(0) } as ByteSource;
    const notBuffer = { size: 64, read: async () => 'nope' } as unknown as ByteSource;
    for (const src of [failing, short, syncThrow, badSize, notBuffer])
      await expect(detectLayout(src)).resolves.toBeNull();
  });

  it('detects by content, not by any name', async () => {
    const formats = await Promise.all([
      detect(writeSafetensors([{ name: 'w', dtype: 'F32', shape: [4] }])),
      detect(writeGguf({ tensors: [{ name: 'w', type: GGML.F32, dims: [4] }] })),
      detect(writeTorchZip([{ key: '0', data: seededBytes(16) }])),
      detect(writeOnnx([{ name: 'w', dataType: 1, dims: [4], raw: seededBytes(16) }])),
    ]);
    expect(formats.map((l) => l?.format)).toEqual(['safetensors', 'gguf', 'pytorch', 'onnx']);
  });
});

describe('validateLayout', () => {
  const t = (start: number, end: number) => ({ name: `${start}`, dtype: 'u8', shape: [end - start], start, end });
  it('sorts by start and accepts zero-size tensors at boundaries', () => {
    const v = validateLayout({ format: 'safetensors', tensors: [t(10, 20), t(10, 10), t(0, 10), t(20, 20)] }, 20);
    expect(v?.tensors.map((x) => [x.start, x.end])).toEqual([
      [0, 10],
      [10, 10],
      [10, 20],
      [20, 20],
    ]);
  });
  it('rejects overlaps, out-of-range and inverted ranges', () => {
    expect(validateLayout({ format: 'gguf', tensors: [t(0, 10), t(5, 15)] }, 20)).toBeNull();
    expect(validateLayout({ format: 'gguf', tensors: [t(0, 30)] }, 20)).toBeNull();
    expect(validateLayout({ format: 'gguf', tensors: [t(5, 4)] }, 20)).toBeNull();
    expect(validateLayout({ format: 'gguf', tensors: [t(-1, 4)] }, 20)).toBeNull();
    expect(validateLayout({ format: 'gguf', tensors: [t(0.5, 4)] }, 20)).toBeNull();
  });
});
