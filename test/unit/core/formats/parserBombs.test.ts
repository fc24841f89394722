import { describe, expect, it } from 'vitest';
import { parseTflite } from '../../../../src/core/formats/tflite.js';
import { bundleShardLayout, parseBundleIndex } from '../../../../src/core/formats/tfBundle.js';
import { parseOnnx } from '../../../../src/core/formats/onnx.js';
import { bufferSource, type TensorInfo } from '../../../../src/core/formats/types.js';
import { NameBudget } from '../../../../src/core/formats/names.js';
import { MAX_NAME_CHARS, MAX_TENSOR_NAME } from '../../../../src/core/limits.js';
import { bundlePrefixBomb, onnxNameBomb, tfliteNameBomb } from '../../../helpers/parserBombs.js';

/** Characters of names a parse gave, all together. */
const nameChars = (tensors: { name: string }[]) => tensors.reduce((n, t) => n + t.name.length, 0);

/** Every name within the per-name limit, and all of them within a small multiple of the file. */
function bounded(tensors: { name: string }[], fileBytes: number): void {
  expect(Math.max(...tensors.map((t) => t.name.length))).toBeLessThanOrEqual(MAX_TENSOR_NAME);
  expect(nameChars(tensors)).toBeLessThanOrEqual(Math.min(MAX_NAME_CHARS, 2 * fileBytes));
}

describe('parser output is bounded by its input: names', () => {
  it(
    'TFLite: 3,500 tensors sharing one 64 KiB name (a 190 KB file) give placeholder names, and still ' +
      'their buffers',
    async () => {
      const file = tfliteNameBomb(64 << 10, 3500);
      expect(file.length).toBeLessThan(200_000);
      const layout = await parseTflite(bufferSource(file));
      expect(layout?.tensors.length).toBe(3500);
      bounded(layout!.tensors, file.length);
      expect(layout!.tensors[0]).toMatchObject({ name: 'buffer1', dtype: 'F32', end: layout!.tensors[0]!.start + 4 });
      // a short shared name is kept, for every tensor
      const small = await parseTflite(bufferSource(tfliteNameBomb(10, 3)));
      expect(small?.tensors.map((t) => t.name)).toEqual(['nnnnnnnnnn', 'nnnnnnnnnn', 'nnnnnnnnnn']);
    },
  );

  it('TF bundle index: 6,000 keys sharing one 64 KiB prefix are read with one running key, named variable<N>', () => {
    const file = bundlePrefixBomb(64 << 10, 6000);
    const entries = parseBundleIndex(file);
    expect(entries.length).toBe(6000);
    bounded(entries, file.length);
    expect(entries.slice(0, 2).map((e) => e.name)).toEqual(['variable0', 'variable1']);
    expect(entries.at(-1)).toMatchObject({ dtype: 'F32', offset: 4 * 5999, size: 4 });
    expect(bundleShardLayout(file, 0, 4 * 6000)?.tensors.length).toBe(6000);
    // short shared prefixes still make the real names
    expect(parseBundleIndex(bundlePrefixBomb(3, 3)).map((e) => e.name)).toEqual(['ppp0000', 'ppp0001', 'ppp0002']);
  });

  it(
    "ONNX: 5,000 unnamed constants taking one node's 1 MiB output name give placeholders (no '#n' " + 'copies of it)',
    async () => {
      const file = onnxNameBomb(1 << 20, 5000);
      const layout = await parseOnnx(bufferSource(file));
      expect(layout?.tensors.length).toBe(5000);
      bounded(layout!.tensors, file.length);
      expect(layout!.tensors.slice(0, 2).map((t) => t.name)).toEqual(['tensor0', 'tensor1']);
      expect((await parseOnnx(bufferSource(onnxNameBomb(3, 3))))?.tensors.map((t: TensorInfo) => t.name)).toEqual([
        'ooo',
        'ooo#2',
        'ooo#3',
      ]);
    },
  );

  it('NameBudget holds each name to MAX_TENSOR_NAME and a file to its total', () => {
    const budget = new NameBudget(3000);
    expect(budget.take('a'.repeat(MAX_TENSOR_NAME))).toHaveLength(MAX_TENSOR_NAME);
    expect(budget.take('a'.repeat(MAX_TENSOR_NAME + 1))).toBeNull();
    expect(budget.takeBytes(Buffer.alloc(5 * MAX_TENSOR_NAME, 0x61))).toBeNull();
    expect(budget.take('b'.repeat(1000))).toHaveLength(1000);
    expect(budget.take('c'.repeat(977))).toBeNull(); // 976 left
    expect(budget.take('d'.repeat(976))).toHaveLength(976);
    expect(budget.take('e')).toBeNull();
  });
});
