import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectLayout } from '../../src/core/formats/detect.js';
import { bundleShardLayout } from '../../src/core/formats/tfBundle.js';
import { tfjsShardLayout } from '../../src/core/formats/tfjs.js';
import { onnxExternalData } from '../../src/core/formats/onnx.js';
import { readModelMetadata } from '../../src/core/formats/metadata.js';
import type { ByteSource, Layout } from '../../src/core/formats/types.js';
import { compileQuery } from '../../src/core/query/index.js';
import type { QueryRecord } from '../../src/core/query/index.js';
import { parseRevision } from '../../src/core/revision.js';
import { versionProblems } from '../../src/core/versionCheck.js';
import { decodeAnnotation, decodeFileObject, decodeVersion, encodeJsonObject } from '../../src/core/objects.js';
import { summarize } from '../../src/repo/history/summary.js';
import { compareWithVersion, visibleFiles } from '../../src/repo/workspace/workspace.js';
import { overlayMetrics } from '../../src/repo/history/annotations.js';
import { diffTensors, diffVersions } from '../../src/core/diff.js';
import { MvmError } from '../../src/errors.js';
import { decodeVerified } from '../../src/storage/objectFile.js';
import { encodeDelta, encodeObject } from '../../src/storage/codec.js';
import { blake3Hex } from '../../src/storage/hash.js';
import { testdir } from '../helpers/cli.js';
import { torchPickle } from '../helpers/torch.js';
import { torchPickle as scanTorchPickle } from '../../src/core/formats/torchPickle.js';
import { h5Fixtures } from '../helpers/h5.js';
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
  writeBundleIndex,
  writeTflite,
} from '../helpers/modelWriters.js';

// Property-based fuzzing (fast-check) of everything that reads untrusted text
// or bytes: the model parsers (and the files that describe weight files
// beside them), the revision parser, the --where language, version decoding
// and manifest validation (HDF5 and .keras seeds come from h5py). `npm test` runs MVM_FUZZ_RUNS cases
// per property (200 by default); `npm run fuzz` runs 100,000 and prints the counts.
const RUNS = Math.max(1, Number(process.env.MVM_FUZZ_RUNS ?? 200));
const SEED = process.env.MVM_FUZZ_SEED ? Number(process.env.MVM_FUZZ_SEED) : undefined;
const counts = new Map<string, number>();
const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
const params = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) };

afterAll(() => {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} cases: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
});

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
    writeTflite([
      { name: 'in', type: 0, shape: [1, 4] },
      { name: 'w', type: 0, shape: [4, 2], data: seededBytes(32, 15) },
      { name: 'q', type: 9, shape: [6], data: seededBytes(6, 16) },
    ]),
  ],
  [
    'npz',
    writeNpz([
      { name: 'w', npy: writeNpy('<f2', [8], seededBytes(16, 10)) },
      { name: 'b', npy: writeNpy('<i4', [2], seededBytes(8, 11)) },
    ]),
  ],
];

/** Edits to a seed file: overwritten bytes, then an optional cut or insertion. */
const mutation = fc.record({
  writes: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  insert: fc.option(fc.record({ at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }), { nil: undefined }),
});

function mutate(
  seed: Buffer,
  m: fc.RecordValue<{
    writes: { at: number; byte: number }[];
    cut: number | undefined;
    insert: { at: number; bytes: Uint8Array } | undefined;
  }>,
): Buffer {
  let b = Buffer.from(seed);
  for (const w of m.writes) b[w.at % b.length] = w.byte;
  if (m.insert) {
    const at = m.insert.at % (b.length + 1);
    b = Buffer.concat([b.subarray(0, at), Buffer.from(m.insert.bytes), b.subarray(at)]);
  }
  if (m.cut !== undefined) b = b.subarray(0, m.cut % (b.length + 1));
  return b;
}

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

/** Every tensor of a layout (in any order: the caller sorts and checks overlaps) lies inside the file. */
function expectInside(layout: Layout, size: number): void {
  for (const t of layout.tensors) {
    expect(Number.isSafeInteger(t.start) && Number.isSafeInteger(t.end)).toBe(true);
    expect(0 <= t.start && t.start <= t.end && t.end <= size).toBe(true);
  }
}

describe('fuzz: files that describe a weight file beside them', () => {
  it('a mutated TensorFlow bundle index gives null or a well-formed layout of the data file, never a ' +
    'throw', async () => {
    const index = writeBundleIndex(
      [
        { name: 'a/kernel', dtype: 1, shape: [4, 8], offset: 0, size: 128 },
        { name: 'b/bias', dtype: 14, shape: [8], offset: 128, size: 16 },
        { name: 'c', dtype: 7, shape: [], offset: 144, size: 20 },
        { name: 'd', dtype: 1, shape: [2], shard: 1, offset: 0, size: 8 },
      ],
      { restartEvery: 2, perBlock: 2 },
    );
    await fc.assert(
      fc.asyncProperty(mutation, fc.integer({ min: 0, max: 400 }), async (m, size) => {
        count('tf-bundle index');
        const layout = bundleShardLayout(mutate(index, m), 0, size);
        if (layout) expectInside(layout, size);
      }),
      params,
    );
  }, 120_000);

  it('a mutated ONNX model lists external tensors with sane ranges, or gives null, never a throw', async () => {
    const model = writeOnnx([
      { name: 'w', dataType: 1, dims: [2, 2], raw: seededBytes(16, 17) },
      { name: 'e1', dataType: 16, dims: [8, 4], external: { location: 'm.onnx.data', offset: 0, length: 64 } },
      { name: 'e2', dataType: 1, dims: [4], external: { location: 'm.onnx.data', offset: 64 } },
    ]);
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        count('onnx external data');
        const ext = await onnxExternalData(bufferSource(mutate(model, m)));
        for (const e of ext ?? []) {
          expect(
            Number.isSafeInteger(e.offset) && e.offset >= 0 && Number.isSafeInteger(e.length) && e.length >= 0,
          ).toBe(true);
          expect(Number.isSafeInteger(e.offset + e.length)).toBe(true);
          expect(e.location.length).toBeGreaterThan(0);
        }
      }),
      params,
    );
  }, 120_000);

  it('a mutated torch.save pickle (a nested training checkpoint, a whole module) gives storages and names, never a ' +
    'throw or a loop', () => {
    const module = torchPickle(
      [
        ['backbone.0.weight', 'BFloat16Storage', '0', 16, [4, 4]],
        ['bn.running_mean', 'FloatStorage', '1', 4],
      ],
      2,
      { module: 'model', extra: { epoch: 1 } },
    );
    const nested = torchPickle(
      [
        [['model', 'fc.weight'], 'BFloat16Storage', '0', 64, [8, 8]],
        [['model', 'tied'], 'BFloat16Storage', '0', 64, [8, 8]],
        [['optimizer', 'state', 0, 'exp_avg'], 'FloatStorage', '1', 64, [8, 8]],
        [['optimizer', 'state', 0, 'step'], 'LongStorage', '2', 1, []],
        [['ema', '#0'], 'HalfStorage', '3', 8],
      ],
      2,
      { extra: { epoch: 3, param_groups: [{ lr: 0.001, params: [0] }] } },
    );
    fc.assert(
      fc.property(mutation, fc.boolean(), (m, whole) => {
        count('torch pickle');
        const bad = mutate(whole ? module : nested, m);
        const { storages, tensors } = scanTorchPickle(bad);
        for (const s of storages.values()) expect(Number.isSafeInteger(s.numel) && s.itemSize > 0).toBe(true);
        // names are strings of at most 1,024 characters, each storage a key the pickle named
        for (const t of tensors)
          expect(typeof t.name === 'string' && t.name.length <= 1024 && typeof t.storage === 'string').toBe(true);
      }),
      params,
    );
  }, 120_000);

  it('a mutated TensorFlow.js model.json gives null or a well-formed layout of the shard, never a throw', async () => {
    const manifest = Buffer.from(
      JSON.stringify({
        weightsManifest: [
          {
            paths: ['s1.bin', 's2.bin'],
            weights: [
              { name: 'k', shape: [4, 6], dtype: 'float32' },
              { name: 'q', shape: [30], dtype: 'float32', quantization: { dtype: 'uint8' } },
            ],
          },
        ],
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        mutation,
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        async (m, a, b) => {
          count('tfjs manifest');
          const sizes: Record<string, number> = { 's1.bin': a, 's2.bin': b };
          const layout = tfjsShardLayout(mutate(manifest, m).toString('utf8'), 's2.bin', (n) => sizes[n] ?? null);
          if (layout) expectInside(layout, b);
        },
      ),
      params,
    );
  }, 120_000);
});

/** Text that looks like a query often enough to get past the lexer. */
const queryText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc
    .array(
      fc.constantFrom(
        'metrics.acc',
        'params.lr',
        'message',
        'author',
        'time',
        'id',
        'number',
        'meta.x',
        '__proto__',
        'constructor.name',
        '>',
        '>=',
        '<',
        '=',
        '!=',
        '~',
        '!~',
        'contains',
        'and',
        'or',
        'not',
        '(',
        ')',
        'exists(',
        '0.5',
        '-1e308',
        '"a"',
        '"(a+)+b"',
        '"["',
        'true',
        '2026-01-01',
        '"2 days ago"',
        ' ',
      ),
      { maxLength: 14 },
    )
    .map((p) => p.join(' ')),
);

const RECORD: QueryRecord = {
  id: 'ab'.repeat(32),
  number: 3,
  author: 'alice',
  message: 'a'.repeat(2000),
  time: '2026-05-01T00:00:00.000Z',
  branch: 'main',
  tags: [],
  refs: [],
  parents: [],
  meta: { x: 'y' },
  params: { lr: 0.01 },
  metrics: { acc: 0.9 },
} as unknown as QueryRecord;

describe('fuzz: text parsers give a result or a clear error', () => {
  it('--where: compiles to a predicate that answers true or false, or throws BAD_EXPRESSION', () => {
    fc.assert(
      fc.property(queryText, (q) => {
        count('where');
        let pred: ((r: QueryRecord) => boolean) | null = null;
        try {
          pred = compileQuery(q);
        } catch (e) {
          expect(e, q).toBeInstanceOf(MvmError);
          expect((e as MvmError).message.length).toBeGreaterThan(0);
          return;
        }
        expect(typeof pred(RECORD)).toBe('boolean');
      }),
      params,
    );
  });

  it('revisions: parse or UNKNOWN_REVISION, and long step chains parse in linear time', () => {
    const rev = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .array(fc.constantFrom('v', '1', '9', '~', '^', 'HEAD', '@', 'deployed', '@{', '}', 'main', '/', '..', ' '), {
          maxLength: 20,
        })
        .map((p) => p.join('')),
    );
    fc.assert(
      fc.property(rev, (text) => {
        count('revision');
        try {
          const r = parseRevision(text);
          for (const s of r.steps) expect(Number.isInteger(s.n) && s.n >= 0).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(MvmError);
          expect((e as MvmError).code).toBe('UNKNOWN_REVISION');
        }
      }),
      params,
    );
    expect(parseRevision(`main${'~'.repeat(50_000)}x`).base).toMatchObject({ kind: 'name' });
  });

  it(
    'manifests: a version versionProblems calls safe has only relative, normalised, non-aliasing paths and ' +
      'permission bits',
    () => {
      const seg = fc.constantFrom(
        'a',
        'b',
        'model.bin',
        '..',
        '.',
        '',
        '.git',
        '.GIT',
        '.mvm',
        'x\u0000y',
        'é',
        'C:',
        'a\\b',
        '__proto__',
        ' ',
      );
      const path = fc
        .tuple(fc.boolean(), fc.array(seg, { minLength: 1, maxLength: 4 }))
        .map(([abs, parts]) => (abs ? '/' : '') + parts.join('/'));
      const entry = fc.record({
        file: fc.constantFrom('ab'.repeat(32), 'zz', ''),
        mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o2644, 0o1777, -1, 1.5),
        size: fc.constantFrom(0, 10, -1),
      });
      fc.assert(
        fc.property(fc.dictionary(path, entry, { maxKeys: 5 }), (files) => {
          count('manifest');
          // Windows refuses a drive or a backslash besides; elsewhere they are names like any other
          const win = versionProblems({ files }, 'win32').length === 0;
          if (win) for (const p of Object.keys(files)) expect(/^[A-Za-z]:/.test(p) || p.includes('\\')).toBe(false);
          const problems = versionProblems({ files }, 'any');
          if (problems.length) return;
          expect(versionProblems({ files }, 'linux')).toEqual([]);
          const keys = Object.keys(files);
          for (const p of keys) {
            expect(p.startsWith('/') || p.includes('\0')).toBe(false);
            for (const part of p.split('/')) {
              expect(['', '.', '..']).not.toContain(part);
              expect(['.git', '.mvm']).not.toContain(part.toLowerCase());
            }
            expect(files[p]!.mode & ~0o777).toBe(0);
            for (const q of keys) expect(q.startsWith(`${p}/`), `${p} is a file and a folder`).toBe(false);
          }
        }),
        params,
      );
    },
  );

  it('version objects: arbitrary JSON decodes to a version or fails with an MvmError', () => {
    const json = fc.oneof(
      fc.json(),
      fc
        .record({
          type: fc.constant('version'),
          format: fc.constantFrom(1, 2),
          files: fc.jsonValue(),
          parents: fc.jsonValue(),
          deps: fc.jsonValue(),
        })
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(json, (text) => {
        count('version');
        try {
          decodeVersion(Buffer.from(text), 'ab'.repeat(32));
        } catch (e) {
          expect(e).toBeInstanceOf(MvmError);
        }
      }),
      params,
    );
  });

  it('stored objects, deltas included: damaged bytes decode to the right content or fail with OBJECT_CORRUPT', () => {
    const base = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff));
    const content = Buffer.from(base.map((x, i) => (i % 7 === 0 ? x ^ 1 : x)));
    const baseId = blake3Hex(base);
    const id = blake3Hex(content);
    const seeds = [
      encodeDelta(content, base, baseId, 1, 'bf16')!.bytes,
      encodeObject(content, { level: 3, group: 'f32' }).bytes,
      encodeObject(content, { level: 3 }).bytes,
    ];
    const edit = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      writes: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(edit, (m) => {
        count('object');
        let b = Buffer.from(seeds[m.seed]!);
        for (const w of m.writes) b[w.at % b.length] = w.byte;
        if (m.cut !== undefined) b = b.subarray(0, m.cut % (b.length + 1));
        try {
          // the loader serves the one base there is; any other id is a missing object
          expect(
            decodeVerified(b, id, {
              loadBase: (want) =>
                want === baseId
                  ? base
                  : (() => {
                      throw new MvmError('OBJECT_MISSING', want);
                    })(),
            }).equals(content),
          ).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(MvmError);
          expect(['OBJECT_CORRUPT', 'OBJECT_MISSING']).toContain((e as MvmError).code);
        }
      }),
      params,
    );
  });

  it(
    'manifests (versions, file objects, annotations): mutated JSON decodes to a well-formed object every reader ' +
      'can use, or fails with OBJECT_CORRUPT',
    () => {
      const A = 'a'.repeat(64);
      const B = 'b'.repeat(64);
      const seeds: Record<string, unknown>[] = [
        {
          type: 'version',
          format: 1,
          parents: [A],
          author: 'Ada',
          time: '2026-01-01T00:00:00.000Z',
          message: 'm',
          files: { 'm/w.bin': { file: B, mode: 420, size: 10 }, __proto__x: { file: A, mode: 493, size: 0 } },
          meta: { k: 'v' },
          params: { lr: 0.1 },
          metrics: { acc: 0.9, ok: true },
          deps: { base: A, data: [{ id: 'x', name: 'n', path: 'p' }] },
          git: { commit: 'c', dirty: false, branch: 'main' },
        },
        {
          type: 'file',
          format: 1,
          size: 30,
          chunkSize: 16,
          chunks: [
            [A, 16],
            [B, 14],
          ],
          layout: {
            format: 'safetensors',
            tensors: [
              { name: 't', dtype: 'F32', shape: [2, 2], start: 8, end: 24, chunkStart: 0, chunkEnd: 2 },
              { name: 'u', dtype: 'BF16', shape: [], start: 24, end: 24, chunkStart: 1, chunkEnd: 1 },
            ],
            unlisted: 2,
          },
        },
        { type: 'annotation', format: 1, target: A, author: 'a', time: 't', metrics: { f1: 0.5 }, note: 'n' },
      ];
      // every place in a JSON tree, as a list of keys
      const places = (v: unknown, at: (string | number)[] = []): (string | number)[][] => {
        const out = [at];
        if (Array.isArray(v)) v.forEach((x, i) => out.push(...places(x, [...at, i])));
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...places(x, [...at, k]));
        return out;
      };
      const hostileKey = fc.constantFrom(
        '__proto__',
        'constructor',
        'toString',
        'data',
        'base',
        'files',
        'layout',
        'tensors',
        'x',
      );
      const edit = fc.record({
        seed: fc.nat(seeds.length - 1),
        ops: fc.array(
          fc.record({
            at: fc.nat(),
            kind: fc.constantFrom('set', 'delete', 'add', 'add'),
            key: hostileKey,
            value: fc.oneof(
              fc.jsonValue({ maxDepth: 2 }),
              fc.constantFrom('x', -1, 1e308, 2 ** 53, 0.5, null, [], {}, [A, 1], A),
            ),
          }),
          { minLength: 0, maxLength: 3 },
        ),
        text: fc.option(
          fc.record({ at: fc.nat(), with: fc.constantFrom('', '1e999', '-', '"', '{', ']', 'null', '"__proto__":') }),
          { nil: undefined, freq: 4 },
        ),
      });
      fc.assert(
        fc.property(edit, (m) => {
          count('manifest json');
          const o = structuredClone(seeds[m.seed]!);
          for (const op of m.ops) {
            const all = places(o).filter((p) => p.length > 0);
            const path = all[op.at % all.length]!;
            const parent = path.slice(0, -1).reduce<any>((x, k) => x[k], o);
            const last = path[path.length - 1]!;
            if (op.kind === 'delete') Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
            else if (op.kind === 'set') parent[last] = op.value;
            else if (parent && typeof parent === 'object' && !Array.isArray(parent))
              Object.defineProperty(parent, op.key, {
                value: op.value,
                enumerable: true,
                writable: true,
                configurable: true,
              });
          }
          let text = JSON.stringify(o);
          if (m.text) {
            const at = m.text.at % (text.length + 1);
            text = text.slice(0, at) + m.text.with + text.slice(at + 1);
          }
          const bytes = Buffer.from(text);
          const id = 'ab'.repeat(32);
          const tryDecode = <T>(fn: () => T): T | null => {
            try {
              return fn();
            } catch (e) {
              expect(e).toBeInstanceOf(MvmError);
              expect((e as MvmError).code).toBe('OBJECT_CORRUPT');
              return null;
            }
          };
          const v = tryDecode(() => decodeVersion(bytes, id));
          if (v) {
            count('manifest json accepted');
            // what log, status, fsck, fetch and the index do with a version never throws a TypeError
            summarize(id, 1, v);
            versionProblems(v, 'any');
            compareWithVersion(new Map(), v);
            visibleFiles(v.files, ['m']);
            overlayMetrics(v, [{ metrics: v.metrics }]);
            const empty = { type: 'file', format: 1, size: 0, chunkSize: 1, chunks: [] } as never;
            expect(diffVersions(null, v, () => empty).files).toHaveLength(Object.keys(v.files).length);
            expect(Object.getPrototypeOf(v.files)).toBeNull();
            // written back (as rebase does) it reads the same (-0 is written as 0, as canonical JSON does)
            expect(encodeJsonObject(decodeVersion(encodeJsonObject(v), id)).equals(encodeJsonObject(v))).toBe(true);
            for (const e of Object.values(v.files)) expect(Number.isSafeInteger(e.size) && e.size >= 0).toBe(true);
          }
          const f = tryDecode(() => decodeFileObject(bytes, id));
          if (f) {
            count('manifest json accepted');
            expect(f.chunks.reduce((n, c) => n + c.size, 0)).toBe(f.size);
            for (const t of f.layout?.tensors ?? []) {
              expect(
                t.start <= t.end && t.end <= f.size && t.chunkStart <= t.chunkEnd && t.chunkEnd <= f.chunks.length,
              ).toBe(true);
            }
            diffTensors(f, f);
            expect(encodeJsonObject(decodeFileObject(encodeJsonObject(f), id)).equals(encodeJsonObject(f))).toBe(true);
          }
          const a = tryDecode(() => decodeAnnotation(bytes, id));
          if (a) {
            count('manifest json accepted');
            expect(Object.getPrototypeOf(a.metrics)).toBeNull();
            overlayMetrics({ metrics: {} } as never, [a]);
          }
        }),
        params,
      );
    },
  );
});
