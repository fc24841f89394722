/** TensorFlow Lite FlatBuffers: each constant buffer is a unit, named and typed after the tensor that uses it. */
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../../src/core/formats/detect.js';
import { parseTflite } from '../../../../src/core/formats/tflite.js';
import { groupKindForDtype } from '../../../../src/storage/bytegroup.js';
import {
  bufferSource,
  expectWellFormed,
  seededBytes,
  virtualSource,
  writeTflite,
} from '../../../helpers/modelWriters.js';

const MODEL = [
  { name: 'input', type: 0, shape: [1, 28, 28] },
  { name: 'conv/weights', type: 0, shape: [8, 3, 3, 1], data: seededBytes(8 * 9 * 4, 1) },
  { name: 'conv/bias', type: 2, shape: [8], data: seededBytes(32, 2) },
  { name: 'dense/weights_quant', type: 9, shape: [10, 1352], data: seededBytes(13520, 3) },
  { name: 'odd', type: 0, shape: [5], data: seededBytes(7, 4) },
  { name: 'output', type: 0, shape: [1, 10] },
];

describe('tflite', () => {
  it('finds every constant buffer at its bytes, with the name, dtype and shape of its tensor', async () => {
    const file = writeTflite(MODEL);
    const layout = await detectLayout(bufferSource(file));
    expect(layout?.format).toBe('tflite');
    expectWellFormed(layout!, file.length);
    expect(layout!.tensors.map((t) => [t.name, t.dtype, t.shape, t.end - t.start])).toEqual([
      ['conv/weights', 'F32', [8, 3, 3, 1], 288],
      ['conv/bias', 'I32', [8], 32],
      ['dense/weights_quant', 'I8', [10, 1352], 13520],
      // 7 bytes are not five floats: kept as a unit, untyped
      ['odd', 'unknown', [5], 7],
    ]);
    for (const t of layout!.tensors) {
      expect(t.start % 16).toBe(0);
      const data = MODEL.find((m) => m.name === t.name)!.data!;
      expect(file.subarray(t.start, t.end).equals(data)).toBe(true);
    }
  });

  it('reads the tables, never the weights: a model with 16 MiB of constants is parsed from a few pages', async () => {
    const big = writeTflite([
      { name: 'w', type: 0, shape: [4 << 20], data: Buffer.alloc(16 << 20) },
      { name: 'b', type: 0, shape: [16], data: seededBytes(64, 5) },
    ]);
    const src = virtualSource(big.length, (o, n) => big.subarray(o, o + n));
    const layout = await parseTflite(src);
    expect(layout?.tensors.map((t) => t.name)).toEqual(['w', 'b']);
    expect(src.bytesRead).toBeLessThan(1 << 20);
  });

  it('is null for a file without the TFL3 identifier, a truncated one, or offsets out of range', async () => {
    const file = writeTflite(MODEL);
    const no = async (b: Buffer) => expect(await parseTflite(bufferSource(b))).toBeNull();
    const other = Buffer.from(file);
    other.write('TFL2', 4, 'latin1');
    await no(other);
    for (let cut = 0; cut < file.length; cut += 97) await no(file.subarray(0, cut));
    const wild = Buffer.from(file);
    wild.writeUInt32LE(0xfffffff0, 0);
    await no(wild);
    // no constants
    expect(await parseTflite(bufferSource(writeTflite([{ name: 'x', type: 0, shape: [1] }])))).toBeNull();
  });

  it('types tensors by the current schema: UINT32 15, UINT16 16, INT4 17, BFLOAT16 18, INT2 19, UINT4 20', async () => {
    const file = writeTflite([
      { name: 'u32', type: 15, shape: [3], data: seededBytes(12, 11) },
      { name: 'u16', type: 16, shape: [2, 3], data: seededBytes(12, 12) },
      // five 4-bit values packed two to a byte
      { name: 'i4', type: 17, shape: [5], data: seededBytes(3, 13) },
      { name: 'bf16', type: 18, shape: [4, 4], data: seededBytes(32, 14) },
      { name: 'i2', type: 19, shape: [8], data: seededBytes(2, 15) },
      { name: 'u4', type: 20, shape: [2, 2], data: seededBytes(2, 16) },
      // RESOURCE and VARIANT are handles: their bytes stay untyped
      { name: 'resource', type: 13, shape: [1], data: seededBytes(8, 17) },
      { name: 'variant', type: 14, shape: [1], data: seededBytes(8, 18) },
      { name: 'c128', type: 11, shape: [1], data: seededBytes(16, 19) },
    ]);
    const layout = await detectLayout(bufferSource(file));
    expectWellFormed(layout!, file.length);
    expect(layout!.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['u32', 'U32', [3]],
      ['u16', 'U16', [2, 3]],
      ['i4', 'I4', [5]],
      ['bf16', 'BF16', [4, 4]],
      ['i2', 'I2', [8]],
      ['u4', 'U4', [2, 2]],
      ['resource', 'unknown', [1]],
      ['variant', 'unknown', [1]],
      ['c128', 'C128', [1]],
    ]);
    // bf16 gets its own byte planes (sign and exponent apart from the mantissa), the integers their widths
    const kind = (name: string) => groupKindForDtype(layout!.tensors.find((t) => t.name === name)!.dtype);
    expect([kind('bf16'), kind('u16'), kind('u32'), kind('i4')]).toEqual(['bf16', 'w2', 'w4', null]);
  });

  it('names buffers no tensor uses by their metadata entry or their content, not their index', async () => {
    const runtime = Buffer.from('1.5.0\0');
    const conversion = seededBytes(40, 31);
    const loose = seededBytes(24, 32);
    const model = (layers: number) =>
      writeTflite(
        [
          ...Array.from({ length: layers }, (_, i) => ({
            name: `layer${i}/weights`,
            type: 0,
            shape: [4],
            data: seededBytes(16, 40 + i),
          })),
          { name: 'head/weights', type: 0, shape: [2], data: seededBytes(8, 50) },
        ],
        {
          metadata: [
            { name: 'min_runtime_version', data: runtime },
            { name: 'CONVERSION_METADATA', data: conversion },
          ],
          unused: [loose, Buffer.from(loose)],
        },
      );
    const names = async (file: Buffer) => {
      const layout = await detectLayout(bufferSource(file));
      expectWellFormed(layout!, file.length);
      return new Map(layout!.tensors.map((t) => [t.name, file.subarray(t.start, t.end)]));
    };
    const v1 = await names(model(1));
    // a layer added in front moves every buffer after it to a new index
    const v2 = await names(model(2));
    const extras = [...v1.keys()].filter((n) => !n.includes('/weights'));
    expect(extras).toHaveLength(4);
    expect(extras.slice(0, 2)).toEqual(['metadata/min_runtime_version', 'metadata/CONVERSION_METADATA']);
    expect(extras[2]).toMatch(/^unused\/[0-9a-f]{16}$/);
    expect(extras[3]).toBe(`${extras[2]}#2`);
    expect(v1.get('metadata/min_runtime_version')!.equals(runtime)).toBe(true);
    expect(v1.get('metadata/CONVERSION_METADATA')!.equals(conversion)).toBe(true);
    expect(v1.get(extras[2]!)!.equals(loose)).toBe(true);
    for (const n of extras) expect(v2.get(n)?.equals(v1.get(n)!), n).toBe(true);
    expect([...v2.keys()].filter((n) => !v1.has(n))).toEqual(['layer1/weights']);
    // other content, another name
    const other = await names(writeTflite([], { unused: [seededBytes(24, 33)] }));
    expect([...other.keys()]).toHaveLength(1);
    expect(other.has(extras[2]!)).toBe(false);
  });
});
