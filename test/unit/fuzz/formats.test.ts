import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectLayout } from '../../../src/core/formats/detect.js';
import { readModelMetadata } from '../../../src/core/formats/metadata.js';
import type { ByteSource } from '../../../src/core/formats/types.js';
import { testdir } from '../../helpers/cli.js';
import { torchPickle } from '../../helpers/torch.js';
import { h5Fixtures } from '../../helpers/h5.js';
import {
  GGML,
  bufferSource,
  expectWellFormed,
  randomBf16,
  seededBytes,
  writeGguf,
  writeNpy,
  writeNpz,
  writeOnnx,
  onnxConstant,
  onnxIf,
  writeSafetensors,
  writeTorchZip,
  writeTflite,
} from '../../helpers/modelWriters.js';
import { count, mutate, mutation, params, reportCounts } from './harness.js';

afterAll(reportCounts);

/** A source that records how much it was asked for, to bound the work a parser does. */
function tracked(buf: Buffer): ByteSource & { asked: number } {
  const inner = bufferSource(buf);
  const s = {
    size: inner.size,
    asked: 0,
    read(offset: number, length: number) {
      s.asked += Math.min(Math.max(0, length), Math.max(0, buf.length - offset));
      return inner.read(offset, length);
    },
  };
  return s;
}

/**
 * Detects a layout: null (plain chunking) or well-formed, reading headers only (never more than a few times the file).
 */
async function expectParsed(buf: Buffer): Promise<void> {
  const src = tracked(buf);
  const layout = await detectLayout(src);
  if (layout) expectWellFormed(layout, buf.length);
  expect(src.asked).toBeLessThanOrEqual(8 * buf.length + 4096);
  // the model's own metadata: null or a bounded record of strings, never a throw
  const meta = await readModelMetadata(bufferSource(buf));
  if (meta) {
    expect(Object.keys(meta.metadata).length).toBeLessThanOrEqual(512);
    for (const v of Object.values(meta.metadata)) expect(typeof v).toBe('string');
  }
}

const SEEDS: [string, Buffer][] = [
  [
    'safetensors',
    writeSafetensors(
      [
        { name: 'a.weight', dtype: 'BF16', shape: [4, 8], data: randomBf16(32, 0.02, 3) },
        { name: 'b', dtype: 'F32', shape: [3] },
        { name: 'e', dtype: 'F16', shape: [0, 4] },
      ],
      { format: 'pt' },
    ),
  ],
  [
    'gguf',
    writeGguf({
      metadata: { 'general.architecture': 'llama', n: 3 },
      tensors: [
        { name: 'tok', type: GGML.F32, dims: [4, 2], data: seededBytes(32, 4) },
        { name: 'q', type: GGML.Q8_0, dims: [32], data: seededBytes(34, 5) },
      ],
    }),
  ],
  [
    'onnx',
    writeOnnx([
      { name: 'w', dataType: 1, dims: [2, 3], raw: seededBytes(24, 6) },
      { name: 'f', dataType: 1, dims: [2], floatData: [1, 2] },
    ]),
  ],
  [
    'pytorch',
    writeTorchZip([
      { key: '0', data: seededBytes(64, 7) },
      { key: '1', data: seededBytes(16, 8) },
    ]),
  ],
  [
    'pytorch training checkpoint',
    writeTorchZip(
      [
        { key: '0', data: randomBf16(32, 0.02, 18) },
        { key: '1', data: seededBytes(16, 19) },
      ],
      {
        pickle: torchPickle([
          [['model', 'w'], 'BFloat16Storage', '0', 32, [4, 8]],
          [['optimizer', 'state', 0, 'exp_avg'], 'FloatStorage', '1', 4],
        ]),
      },
    ),
  ],
  [
    'onnx constants and subgraphs',
    writeOnnx([{ name: 'w', dataType: 1, dims: [2], raw: seededBytes(8, 12) }], {
      nodes: [
        onnxConstant('c', { name: '', dataType: 10, dims: [4], raw: seededBytes(8, 13) }),
        onnxIf('b', [{ name: 's', dataType: 1, dims: [1], raw: seededBytes(4, 14) }]),
      ],
    }),
  ],
  ['npy', writeNpy('<f4', [4, 4], seededBytes(64, 9))],
  [
    'tflite',
    writeTflite(
      [
        { name: 'in', type: 0, shape: [1, 4] },
        { name: 'w', type: 0, shape: [4, 2], data: seededBytes(32, 15) },
        { name: 'q', type: 9, shape: [6], data: seededBytes(6, 16) },
      ],
      { metadata: [{ name: 'min_runtime_version', data: Buffer.from('1.5.0') }], unused: [seededBytes(12, 17)] },
    ),
  ],
  [
    'npz',
    writeNpz([
      { name: 'w', npy: writeNpy('<f2', [8], seededBytes(16, 10)) },
      { name: 'b', npy: writeNpy('<i4', [2], seededBytes(8, 11)) },
    ]),
  ],
];

/** Mutations of `seed` parse to null or a well-formed layout, counted under `name`. */
async function fuzzMutations(name: string, seed: Buffer): Promise<void> {
  await fc.assert(
    fc.asyncProperty(mutation, async (m) => {
      count(name);
      await expectParsed(mutate(seed, m));
    }),
    params,
  );
}

describe('fuzz: model parsers never throw, hang or read without bound', () => {
  for (const [name, seed] of SEEDS) {
    it(
      `${name}: a mutated file gives null (plain chunking) or a well-formed layout`,
      () => fuzzMutations(name, seed),
      120_000,
    );
  }

  it('random bytes behind each format magic give null or a well-formed layout', async () => {
    const magic = fc.constantFrom(
      Buffer.from('GGUF'),
      Buffer.from('PK\x03\x04'),
      Buffer.from([8, 7, 18]),
      Buffer.from('\x93NUMPY\x01\x00', 'latin1'),
      Buffer.from([16, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]),
      Buffer.from('\x89HDF\r\n\x1a\n\x00', 'latin1'),
      Buffer.alloc(0),
    );
    await fc.assert(
      fc.asyncProperty(magic, fc.uint8Array({ maxLength: 512 }), async (head, rest) => {
        count('random');
        await expectParsed(Buffer.concat([head, Buffer.from(rest)]));
      }),
      params,
    );
  }, 120_000);
});

describe('fuzz: HDF5 and .keras files written by h5py', () => {
  let fixtures: { dir: string; cleanup: () => void } | null = null;
  afterAll(() => fixtures?.cleanup());
  for (const [name, tensors] of [
    ['tiny.h5', 3],
    ['tiny-latest.h5', 3],
    ['tiny.keras', 3],
    ['tiny-dense.h5', 12],
    ['tiny-userblock.h5', 3],
  ] as const) {
    it(`${name}: a mutated file gives null (plain chunking) or a well-formed layout`, async () => {
      if (!fixtures) {
        fixtures = testdir();
        h5Fixtures(fixtures.dir, 0);
      }
      const seed = readFileSync(join(fixtures.dir, name));
      expect((await detectLayout(bufferSource(seed)))?.tensors.length).toBe(tensors);
      await fuzzMutations(name, seed);
    }, 120_000);
  }
});
