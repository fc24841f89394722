import { describe, it, expect } from 'vitest';
import { detectLayout } from '../../../../src/core/formats/detect.js';
import {
  GGML,
  randomBf16,
  seededBytes,
  virtualSource,
  writeGguf,
  type GgufOptions,
  expectWellFormed,
} from '../../../helpers/modelWriters.js';
import { detect, expectTruncationsNull, fuzzMutations } from './layoutChecks.js';

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
