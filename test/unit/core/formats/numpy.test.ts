/** NumPy `.npy` and `.npz` files as tensor layouts. */
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../../src/core/formats/detect.js';
import { parseNpy, parseNpz } from '../../../../src/core/formats/numpy.js';
import {
  bufferSource,
  seededBytes,
  writeNpy,
  writeNpz,
  writeTorchZip,
  writeZip,
} from '../../../helpers/modelWriters.js';

describe('numpy', () => {
  it('reads a .npy array: dtype, shape and the exact data range, in every header version', async () => {
    for (const version of [1, 2, 3] as const) {
      const data = seededBytes(2 * 3 * 4, version);
      const file = writeNpy('<f4', [2, 3], data, { version });
      const layout = await detectLayout(bufferSource(file));
      expect(layout).toEqual({
        format: 'numpy',
        tensors: [{ name: 'array', dtype: 'F32', shape: [2, 3], start: file.length - data.length, end: file.length }],
      });
      expect((file.length - data.length) % 64).toBe(0);
    }
    const t = async (descr: string, shape: number[], bytes: number) =>
      (await parseNpy(bufferSource(writeNpy(descr, shape, Buffer.alloc(bytes)))))?.tensors[0];
    expect(await t('<f2', [5], 10)).toMatchObject({ dtype: 'F16', shape: [5] });
    expect(await t('|u1', [7], 7)).toMatchObject({ dtype: 'U8' });
    expect(await t('<i8', [], 8)).toMatchObject({ dtype: 'I64', shape: [] });
    expect(await t('>f4', [2], 8)).toMatchObject({ dtype: 'F32_BE' });
    expect(await t('<f8', [0, 4], 0)).toMatchObject({ dtype: 'F64', shape: [0, 4] });
    expect(await t('<c8', [2], 16)).toMatchObject({ dtype: 'C64' });
    expect(await t('>c16', [2], 32)).toMatchObject({ dtype: 'C128_BE' });
  });

  it('refuses what it cannot map: other dtypes, structured arrays, wrong lengths, bad headers', async () => {
    const no = async (b: Buffer) => expect(await parseNpy(bufferSource(b))).toBeNull();
    await no(writeNpy('<U5', [2], Buffer.alloc(40)));
    await no(writeNpy("[('a', '<f4'), ('b', '<i4')]", [2], Buffer.alloc(16)));
    await no(writeNpy('<f4', [2, 3], Buffer.alloc(23)));
    await no(writeNpy('<f4', [2, 3], Buffer.alloc(25)));
    await no(writeNpy('<f4', [-1], Buffer.alloc(4)));
    const good = writeNpy('<f4', [4], Buffer.alloc(16));
    for (let cut = 0; cut < good.length; cut += 7) await no(good.subarray(0, cut));
    const badVersion = Buffer.from(good);
    badVersion[6] = 9;
    await no(badVersion);
  });

  it(
    'reads an uncompressed .npz: one tensor per array at its data bytes; a compressed one is a plain ' + 'file',
    async () => {
      const a = seededBytes(64 * 4, 3);
      const b = seededBytes(10 * 2, 4);
      const file = writeNpz([
        { name: 'weights', npy: writeNpy('<f4', [8, 8], a) },
        { name: 'bias', npy: writeNpy('<f2', [10], b) },
      ]);
      const layout = await detectLayout(bufferSource(file));
      expect(layout?.format).toBe('numpy');
      expect(layout!.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
        ['weights', 'F32', [8, 8]],
        ['bias', 'F16', [10]],
      ]);
      expect(file.subarray(layout!.tensors[0]!.start, layout!.tensors[0]!.end).equals(a)).toBe(true);
      expect(file.subarray(layout!.tensors[1]!.start, layout!.tensors[1]!.end).equals(b)).toBe(true);
      expect(
        await parseNpz(
          bufferSource(writeNpz([{ name: 'w', npy: writeNpy('<f4', [8], seededBytes(32)) }], { compress: true })),
        ),
      ).toBeNull();
      // a torch checkpoint is still a torch checkpoint, and a zip with other files is not an .npz
      expect((await detectLayout(bufferSource(writeTorchZip([{ key: '0', data: seededBytes(64) }]))))?.format).toBe(
        'pytorch',
      );
      expect(await parseNpz(bufferSource(writeTorchZip([{ key: '0', data: seededBytes(64) }])))).toBeNull();
    },
  );

  it('an .npz array of strings or records, or a deflated one, stays plain data; the others are tensors', async () => {
    // np.savez of weights beside class names (a '<U7' array) and a record array
    const w = seededBytes(16 * 4, 5);
    const file = writeZip([
      { name: 'labels.npy', data: writeNpy('<U7', [3], Buffer.alloc(3 * 28)) },
      { name: 'w.npy', data: writeNpy('<f4', [4, 4], w) },
      { name: 'records.npy', data: writeNpy("[('a', '<f4'), ('b', '<i4')]", [2], Buffer.alloc(16)) },
      { name: 'deflated.npy', data: writeNpy('<f4', [64], Buffer.alloc(256)), compress: true },
    ]);
    const layout = await detectLayout(bufferSource(file));
    expect(layout?.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([['w', 'F32', [4, 4]]]);
    expect(file.subarray(layout!.tensors[0]!.start, layout!.tensors[0]!.end).equals(w)).toBe(true);
    // nothing but string arrays: no layout
    expect(
      await parseNpz(bufferSource(writeNpz([{ name: 'l', npy: writeNpy('<U7', [1], Buffer.alloc(28)) }]))),
    ).toBeNull();
  });
});
