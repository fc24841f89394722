/** TensorFlow Lite FlatBuffers: each constant buffer is a unit, named and typed after the tensor that uses it. */
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../../src/core/formats/detect.js';
import { parseTflite } from '../../../../src/core/formats/tflite.js';
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
});
