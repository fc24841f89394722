import { describe, it, expect } from 'vitest';
import { detectLayout } from '../../../../src/core/formats/detect.js';
import { parseSafetensorsIndex } from '../../../../src/core/formats/safetensors.js';
import {
  randomBf16,
  safetensorsFromHeader,
  seededBytes,
  virtualSource,
  writeSafetensors,
  expectWellFormed,
} from '../../../helpers/modelWriters.js';
import { detect, expectTruncationsNull, fuzzMutations } from './layoutChecks.js';

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
