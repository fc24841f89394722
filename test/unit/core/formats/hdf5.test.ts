/**
 * HDF5 (`.h5`, `.weights.h5`) and Keras `.keras` files as tensor layouts,
 * checked against files h5py writes (Debian's python3-h5py; `npm test`
 * installs it) and against where HDF5 itself says each dataset's bytes are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectLayout, validateLayout } from '../../../../src/core/formats/detect.js';
import { parseHdf5, parseKeras } from '../../../../src/core/formats/hdf5.js';
import { entryRange, zipEntries } from '../../../../src/core/formats/pytorch.js';
import type { Layout } from '../../../../src/core/formats/types.js';
import { testdir } from '../../../helpers/cli.js';
import { bufferSource } from '../../../helpers/modelWriters.js';
import { h5Fixtures, type H5Dataset } from '../../../helpers/h5.js';

const DTYPES: Record<string, string> = {
  '<f4': 'F32',
  '<f2': 'F16',
  '<i8': 'I64',
  '>f8': 'F64_BE',
  '<i4': 'I32',
  '|V2': 'unknown',
};

let dir = '';
let manifest: Record<string, H5Dataset[]> = {};
let cleanup = () => {};
beforeAll(() => {
  const t = testdir();
  cleanup = t.cleanup;
  dir = t.dir;
  manifest = h5Fixtures(dir, 0);
});
afterAll(() => cleanup());

/**
 * Checks a layout against h5py's account of the file: every contiguous dataset once, at HDF5's offset (plus `base`),
 * nothing else.
 */
function expectMatches(
  layout: Layout | null,
  datasets: H5Dataset[],
  format: string,
  base: number,
  file: Buffer,
  h5: Buffer,
) {
  expect(layout?.format).toBe(format);
  const stored = datasets.filter((d) => d.where);
  expect(layout!.tensors).toHaveLength(stored.length);
  for (const d of stored) {
    const t = layout!.tensors.find((x) => x.start === base + d.where!.offset)!;
    expect(t, d.names.join()).toBeDefined();
    expect(d.names).toContain(t.name);
    expect(t.end - t.start).toBe(d.where!.size);
    expect(t.shape).toEqual(d.shape);
    // bf16 as a custom float, or as Keras saves it (opaque data marked dtype="bfloat16", as a variable- or fixed-length
    // string)
    expect(t.dtype).toBe(
      ['odd/bf16', 'odd/keras_bf16', 'odd/keras_bf16_fixed'].includes(d.names[0]!) ? 'BF16' : DTYPES[d.dtype],
    );
    // the bytes of the range are the dataset's bytes in the HDF5 file
    expect(file.subarray(t.start, t.end).equals(h5.subarray(d.where!.offset, d.where!.offset + d.where!.size))).toBe(
      true,
    );
  }
  // chunked, compressed, empty and never-written datasets are not tensors
  for (const d of datasets.filter((x) => !x.where))
    expect(layout!.tensors.some((t) => d.names.includes(t.name))).toBe(false);
}

describe('hdf5', () => {
  it(
    "reads every contiguous dataset of h5py's default file format (symbol-table groups) at the offset " +
      'HDF5 reports',
    async () => {
      const file = readFileSync(join(dir, 'earliest.h5'));
      const layout = await detectLayout(bufferSource(file));
      expectMatches(layout, manifest['earliest.h5']!, 'hdf5', 0, file, file);
      expect(layout!.tensors.map((t) => t.name)).toContain('layers/dense_3/vars/0');
      expect(layout!.tensors.filter((t) => t.name.startsWith('many/'))).toHaveLength(40);
    },
  );

  it('reads a whole model as Keras 2 saves it: model_weights/<layer>/<layer>/kernel:0, optimizer_weights', async () => {
    const file = readFileSync(join(dir, 'keras2.h5'));
    const layout = await detectLayout(bufferSource(file));
    expectMatches(layout, manifest['keras2.h5']!, 'hdf5', 0, file, file);
    const names = layout!.tensors.map((t) => t.name);
    expect(names).toContain('model_weights/dense_1/dense_1/kernel:0');
    expect(names).toContain('optimizer_weights/Adam/dense/kernel/m:0');
    expect(names).toHaveLength(13);
  });

  it("reads libver='latest' files: version 2 object headers and compact groups", async () => {
    const file = readFileSync(join(dir, 'latest.h5'));
    expectMatches(await detectLayout(bufferSource(file)), manifest['latest.h5']!, 'hdf5', 0, file, file);
  });

  it(
    "reads dense groups (libver='latest', more than 8 members): fractal heaps and name indexes of " + 'several levels',
    async () => {
      const file = readFileSync(join(dir, 'dense.h5'));
      const layout = await detectLayout(bufferSource(file));
      expectMatches(layout, manifest['dense.h5']!, 'hdf5', 0, file, file);
      const names = new Set(layout!.tensors.map((t) => t.name));
      expect([...names].filter((n) => n.startsWith('wide/'))).toHaveLength(1500);
      expect(names.has('wide/layer_0000') && names.has('wide/layer_1499') && names.has('many/w39')).toBe(true);
    },
  );

  it('reads a group of 30,000 links, whose fractal heap nests indirect blocks in its root indirect block', async () => {
    const file = readFileSync(join(dir, 'huge-group.h5'));
    const layout = await detectLayout(bufferSource(file));
    const stored = manifest['huge-group.h5']!.filter((d) => d.where);
    expect(stored).toHaveLength(6);
    expect(layout!.tensors).toHaveLength(6);
    for (const d of stored) {
      const t = layout!.tensors.find((x) => x.start === d.where!.offset)!;
      expect(t.end - t.start).toBe(d.where!.size);
      // the dataset linked 30,001 times is named once, by a name it has
      expect(t.name === 'target' || d.names.includes(t.name)).toBe(true);
    }
    expect(
      layout!.tensors
        .map((t) => t.name)
        .filter((n) => n.startsWith('g/last_'))
        .sort(),
    ).toEqual([0, 1, 2, 3, 4].map((i) => `g/last_${i}`));
  });

  it(
    'reads HDF5 after a user block (a MATLAB v7.3 header of 512 bytes; 1,024 with libver=latest): addresses count ' +
      'from the superblock',
    async () => {
      for (const [name, userBlock] of [
        ['userblock.h5', 512],
        ['userblock-latest.h5', 1024],
      ] as const) {
        const file = readFileSync(join(dir, name));
        expect(file.toString('latin1', 0, 10)).toBe('MATLAB 7.3');
        expect(file.toString('latin1', userBlock + 1, userBlock + 4)).toBe('HDF');
        const layout = await detectLayout(bufferSource(file));
        // h5py reports offsets from the start of the file, user block included
        expectMatches(layout, manifest[name]!, 'hdf5', 0, file, file);
        expect(Math.min(...layout!.tensors.map((t) => t.start))).toBeGreaterThan(userBlock);
      }
      // the signature past 512 bytes of anything else is not enough: a base address that is not the superblock's is
      // refused
      const moved = Buffer.from(readFileSync(join(dir, 'userblock.h5')));
      moved.writeUInt32LE(0, 512 + 24);
      expect(await parseHdf5(bufferSource(moved))).toBeNull();
    },
  );

  it(
    "a Keras bf16 mark that cannot be read (its global heap damaged) leaves that weight 'unknown' and the rest of " +
      'the file read',
    async () => {
      const file = Buffer.from(readFileSync(join(dir, 'earliest.h5')));
      const before = await detectLayout(bufferSource(file));
      expect(before!.tensors.find((t) => t.name === 'odd/keras_bf16')?.dtype).toBe('BF16');
      let at = file.indexOf('GCOL');
      expect(at).toBeGreaterThan(0);
      for (; at >= 0; at = file.indexOf('GCOL', at + 4)) file.write('XXXX', at, 'latin1');
      const after = await detectLayout(bufferSource(file));
      expect(after!.tensors).toHaveLength(before!.tensors.length);
      expect(after!.tensors.find((t) => t.name === 'odd/keras_bf16')?.dtype).toBe('unknown');
      // the fixed-length mark is in the attribute itself, not in the heap
      expect(after!.tensors.find((t) => t.name === 'odd/keras_bf16_fixed')?.dtype).toBe('BF16');
    },
  );

  it('reads a .keras archive: the weights of its stored model.weights.h5, at their offsets in the zip', async () => {
    const file = readFileSync(join(dir, 'model.keras'));
    const h5 = await h5Entry(file);
    const layout = await detectLayout(bufferSource(file));
    expectMatches(layout, manifest['model.keras']!, 'keras', file.indexOf(h5), file, h5);
  });

  it('gives no layout where it cannot read the structure: deflated archives, a zip without config.json', async () => {
    expect(await detectLayout(bufferSource(readFileSync(join(dir, 'deflated.keras'))))).toBeNull();
    const keras = readFileSync(join(dir, 'model.keras'));
    const renamed = Buffer.from(keras.toString('latin1').replaceAll('config.json', 'cfgxx.json_'), 'latin1');
    expect(await parseKeras(bufferSource(renamed))).toBeNull();
    expect(await parseKeras(bufferSource(keras))).not.toBeNull();
  });

  // (the 30,000-link group takes about 0.1 s a parse: fewer trials)
  it.each([
    ['earliest.h5', 300],
    ['latest.h5', 300],
    ['dense.h5', 300],
    ['userblock.h5', 300],
    ['huge-group.h5', 40],
  ] as const)(
    '%s damaged never throws: truncations and byte flips outside the data give no layout or a valid one',
    async (name, trials) => {
      const file = readFileSync(join(dir, name));
      const size = file.length;
      for (let cut = 0; cut < size; cut += Math.max(997, Math.floor(size / trials))) {
        const l = await parseHdf5(bufferSource(file.subarray(0, cut)));
        if (l) expect(validateLayout(l, cut)).not.toBeNull();
      }
      // the structure lies outside the datasets' bytes: flip bytes there
      const isData = new Uint8Array(size);
      for (const d of manifest[name]!) if (d.where) isData.fill(1, d.where.offset, d.where.offset + d.where.size);
      const structure = [...isData.keys()].filter((i) => !isData[i]);
      let seed = 12345;
      const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
      let layouts = 0;
      for (let trial = 0; trial < trials; trial++) {
        const bad = Buffer.from(file);
        for (let k = 0; k < 1 + (trial % 4); k++) bad[structure[next() % structure.length]!] = next() & 0xff;
        const l = await detectLayout(bufferSource(bad));
        if (l) {
          layouts++;
          expect(validateLayout(l, size)).not.toBeNull();
          for (const t of l.tensors) expect(t.end).toBeLessThanOrEqual(size);
        }
      }
      // many flips land in bytes a reader does not need (padding, free space): the file stays a model
      expect(layouts).toBeGreaterThan(0);
    },
  );
});

/** The bytes of the stored model.weights.h5 entry of a .keras zip. */
async function h5Entry(zip: Buffer): Promise<Buffer> {
  const entries = await zipEntries(bufferSource(zip));
  const r = await entryRange(bufferSource(zip), entries!.find((e) => e.name === 'model.weights.h5')!);
  return zip.subarray(r!.start, r!.end);
}
