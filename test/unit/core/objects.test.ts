import { describe, it, expect } from 'vitest';
import { canonicalJson } from '../../../src/core/canonical.js';
import {
  encodeJsonObject,
  decodeFileObject,
  decodeVersion,
  decodeAnnotation,
  OBJECT_FORMAT,
  type FileObject,
  type Version,
  type Annotation,
} from '../../../src/core/objects.js';
import type { MvmError } from '../../../src/errors.js';
import { codeOf } from '../../helpers/errors.js';

const ID_A = 'a'.repeat(64);
const ID_B = '0123456789abcdef'.repeat(4);
const ID_C = 'c'.repeat(64);

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

const FILE: FileObject = {
  type: 'file',
  format: OBJECT_FORMAT,
  size: 150,
  chunkSize: 64,
  chunks: [
    { id: ID_A, size: 64 },
    { id: ID_B, size: 64 },
    { id: ID_A, size: 22 },
  ],
  layout: {
    format: 'safetensors',
    tensors: [{ name: 't', dtype: 'F32', shape: [2, 3], start: 8, end: 32, chunkStart: 0, chunkEnd: 1 }],
  },
};

describe('file objects', () => {
  it('encodes chunks as [id, size] pairs with sorted keys', () => {
    const bytes = encodeJsonObject(FILE);
    const text = bytes.toString('utf8');
    const parsed = JSON.parse(text);
    expect(parsed.chunks).toEqual([
      [ID_A, 64],
      [ID_B, 64],
      [ID_A, 22],
    ]);
    expect(Object.keys(parsed)).toEqual([...Object.keys(parsed)].sort());
    expect(text).toBe(canonicalJson(parsed));
  });

  it('round-trips through decodeFileObject', () => {
    const back = decodeFileObject(encodeJsonObject(FILE), 'id');
    expect(back).toEqual(FILE);
  });

  it('round-trips without a layout', () => {
    const { layout: _omit, ...plain } = FILE;
    const back = decodeFileObject(encodeJsonObject(plain), 'id');
    expect(back).toEqual(plain);
    expect(back.layout).toBeUndefined();
  });

  it('encodes the same object to the same bytes whatever the key order', () => {
    const reordered = {
      chunks: FILE.chunks,
      layout: FILE.layout,
      chunkSize: 64,
      size: 150,
      format: OBJECT_FORMAT,
      type: 'file',
    } as FileObject;
    expect(encodeJsonObject(reordered).equals(encodeJsonObject(FILE))).toBe(true);
  });

  it('rejects chunk sizes that do not add up to the size', () => {
    /** The error code of decoding a 100-byte file object whose two chunks hold 64 and `last` bytes, or null. */
    const decodeWithLast = (last: number) => {
      const chunks = [
        [ID_A, 64],
        [ID_B, last],
      ];
      return codeOf(() => decodeFileObject(json({ type: 'file', format: 1, size: 100, chunkSize: 64, chunks }), 'id'));
    };
    expect(decodeWithLast(35)).toBe('OBJECT_CORRUPT');
    expect(decodeWithLast(37)).toBe('OBJECT_CORRUPT');
    expect(decodeWithLast(36)).toBeNull();
  });

  it('rejects bad chunk ids and malformed chunk entries', () => {
    const base = { type: 'file', format: 1, size: 10, chunkSize: 64 };
    for (const chunks of [
      [['abc', 10]],
      [[ID_A.toUpperCase(), 10]],
      [[ID_A + 'a', 10]],
      [[ID_A.slice(1) + 'g', 10]],
      [[123, 10]],
      [[ID_A, '10']],
      [{ id: ID_A, size: 10 }],
      [ID_A],
    ]) {
      expect(
        codeOf(() => decodeFileObject(json({ ...base, chunks }), 'id')),
        JSON.stringify(chunks),
      ).toBe('OBJECT_CORRUPT');
    }
  });

  it('rejects things that are not file objects', () => {
    expect(codeOf(() => decodeFileObject(Buffer.from('not json'), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(Buffer.from('[1,2]'), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(Buffer.from('null'), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(json({ type: 'version', format: 1, size: 0, chunks: [] }), 'id'))).toBe(
      'OBJECT_CORRUPT',
    );
    expect(codeOf(() => decodeFileObject(json({ type: 'file', format: 1, chunks: [] }), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(json({ type: 'file', format: 1, size: 0 }), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it('rejects a newer format', () => {
    const o = { type: 'file', format: 99, size: 0, chunkSize: 64, chunks: [] };
    expect(codeOf(() => decodeFileObject(json(o), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(json({ ...o, format: 1 }), 'id'))).toBeNull();
  });

  it('accepts an empty file', () => {
    const back = decodeFileObject(json({ type: 'file', format: 1, size: 0, chunkSize: 64, chunks: [] }), 'id');
    expect(back.chunks).toEqual([]);
    expect(back.size).toBe(0);
  });
});

const VERSION: Version = {
  type: 'version',
  format: OBJECT_FORMAT,
  parents: [ID_A],
  author: 'Ada <ada@example.com>',
  time: '2024-05-01T12:00:00.000Z',
  message: 'tune lr',
  files: { 'model.safetensors': { file: ID_B, mode: 0o644, size: 150 } },
  meta: { framework: 'torch' },
  params: { lr: 0.0003, epochs: 3 },
  metrics: { acc: 0.93 },
  deps: { base: ID_C, data: [{ name: 'train', id: 'x' }] },
  git: { commit: 'deadbeef', dirty: false, branch: 'main' },
};

describe('versions', () => {
  it('round-trips through encode/decode', () => {
    expect(decodeVersion(encodeJsonObject(VERSION), 'id')).toEqual(VERSION);
  });

  it('fills defaults for missing meta, params, metrics and deps', () => {
    const o = { type: 'version', format: 1, parents: [], author: 'a', time: 't', message: 'm', files: {} };
    const v = decodeVersion(json(o), 'id');
    expect(v.meta).toEqual({});
    expect(v.params).toEqual({});
    expect(v.metrics).toEqual({});
    expect(v.deps).toEqual({});
    expect(v.parents).toEqual([]);
  });

  it('keeps present values instead of the defaults', () => {
    const o = {
      type: 'version',
      format: 1,
      parents: [],
      author: 'a',
      time: 't',
      message: 'm',
      files: {},
      metrics: { f1: 0.5 },
    };
    expect(decodeVersion(json(o), 'id').metrics).toEqual({ f1: 0.5 });
  });

  it('rejects a newer format with OBJECT_CORRUPT', () => {
    const o = { ...JSON.parse(encodeJsonObject(VERSION).toString()), format: 99 };
    expect(codeOf(() => decodeVersion(json(o), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it('rejects a missing or non-numeric format', () => {
    const o = JSON.parse(encodeJsonObject(VERSION).toString());
    delete o.format;
    expect(codeOf(() => decodeVersion(json(o), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeVersion(json({ ...o, format: '1' }), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it('rejects bad parents, missing files and the wrong type', () => {
    const o = JSON.parse(encodeJsonObject(VERSION).toString());
    expect(codeOf(() => decodeVersion(json({ ...o, parents: ['abc'] }), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeVersion(json({ ...o, parents: ID_A }), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeVersion(json({ ...o, parents: [7] }), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeVersion(json({ ...o, files: null }), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeVersion(json({ ...o, type: 'file' }), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeVersion(encodeJsonObject(FILE), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it('the error names the id', () => {
    try {
      decodeVersion(Buffer.from('{'), 'the-id');
      expect.unreachable();
    } catch (e) {
      expect((e as MvmError).data.id).toBe('the-id');
    }
  });
});

describe('annotations', () => {
  const ANN: Annotation = {
    type: 'annotation',
    format: 1,
    target: ID_A,
    author: 'a',
    time: 't',
    metrics: { acc: 0.9 },
    note: 'n',
  };

  it('round-trips and fills metrics', () => {
    expect(decodeAnnotation(encodeJsonObject(ANN), 'id')).toEqual(ANN);
    const { metrics: _m, ...noMetrics } = ANN;
    expect(decodeAnnotation(json(noMetrics), 'id').metrics).toEqual({});
  });

  it('rejects non-annotations and newer formats', () => {
    expect(codeOf(() => decodeAnnotation(encodeJsonObject(VERSION), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeAnnotation(json({ ...ANN, format: 99 }), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeAnnotation(json({ ...ANN, target: 5 }), 'id'))).toBe('OBJECT_CORRUPT');
  });
});

describe('one door: every field of a manifest is checked', () => {
  const V = () => JSON.parse(encodeJsonObject(VERSION).toString()) as Record<string, unknown>;

  it('refuses a version whose deps.data is a string (it used to be stored and crash log, status and commit)', () => {
    expect(codeOf(() => decodeVersion(json({ ...V(), deps: { data: 'x' } }), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it.each<[string, (o: Record<string, unknown>) => void]>([
    ['author a number', (o) => (o.author = 5)],
    ['time missing', (o) => delete o.time],
    ['message an object', (o) => (o.message = {})],
    ['files a list', (o) => (o.files = [])],
    ['a files entry without an id', (o) => (o.files = { a: { file: 'x', mode: 420, size: 1 } })],
    ['a files entry with a string size', (o) => (o.files = { a: { file: ID_A, mode: 420, size: '1' } })],
    ['a files entry with a negative mode', (o) => (o.files = { a: { file: ID_A, mode: -1, size: 1 } })],
    ['a files entry that is null', (o) => (o.files = { a: null })],
    ['meta a string', (o) => (o.meta = 'x')],
    ['a param that is an object', (o) => (o.params = { lr: { x: 1 } })],
    ['a metric that is null', (o) => (o.metrics = { acc: null })],
    ['a metric that is a list', (o) => (o.metrics = { acc: [1] })],
    ['deps a list', (o) => (o.deps = [])],
    ['deps.base not an id', (o) => (o.deps = { base: 'v1' })],
    ['deps.data an object', (o) => (o.deps = { data: { id: 'x' } })],
    ['a deps.data entry without an id', (o) => (o.deps = { data: [{ name: 'x' }] })],
    ['a deps.data entry with a numeric path', (o) => (o.deps = { data: [{ id: 'x', path: 3 }] })],
    ['git a string', (o) => (o.git = 'abc')],
    ['git.dirty a string', (o) => (o.git = { commit: 'abc', dirty: 'no' })],
    ['git.branch a number', (o) => (o.git = { commit: 'abc', dirty: false, branch: 1 })],
    ['format a fraction', (o) => (o.format = 0.5)],
  ])('refuses a version with %s', (_, edit) => {
    const o = V();
    edit(o);
    expect(codeOf(() => decodeVersion(json(o), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it('refuses a metric of 1e999 (JSON.parse reads it as Infinity)', () => {
    const text = encodeJsonObject(VERSION).toString().replace('"acc":0.93', '"acc":1e999');
    expect(codeOf(() => decodeVersion(Buffer.from(text), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it('refuses 1e999 anywhere, even in a field it does not know (it could not be written back, as rebase does)', () => {
    const text = encodeJsonObject(VERSION).toString().replace('"author"', '"later":[1e999],"author"');
    expect(codeOf(() => decodeVersion(Buffer.from(text), 'id'))).toBe('OBJECT_CORRUPT');
    const f = encodeJsonObject(FILE).toString().replace('"chunkSize"', '"x":{"y":-1e999},"chunkSize"');
    expect(codeOf(() => decodeFileObject(Buffer.from(f), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it('keeps fields it does not know (format 1 allows new optional ones)', () => {
    const v = decodeVersion(json({ ...V(), later: { x: 1 } }), 'id') as Version & { later?: unknown };
    expect(v.later).toEqual({ x: 1 });
  });

  it.each<[string, (o: Record<string, any>) => void]>([
    ['a chunk size that is a string', (o) => (o.chunks[0][1] = '64')],
    ['a chunk entry of three items', (o) => o.chunks[0].push(1)],
    ['chunkSize zero', (o) => (o.chunkSize = 0)],
    ['a layout without tensors', (o) => delete o.layout.tensors],
    ['a layout whose format is a number', (o) => (o.layout.format = 1)],
    ['a tensor without a name', (o) => delete o.layout.tensors[0].name],
    ['a tensor whose shape holds a string', (o) => (o.layout.tensors[0].shape = ['2'])],
    ['a tensor that ends past the file', (o) => (o.layout.tensors[0].end = 151)],
    ['a tensor that ends before it starts', (o) => (o.layout.tensors[0].start = 40)],
    ['a tensor whose chunks run past the list', (o) => (o.layout.tensors[0].chunkEnd = 4)],
    [
      'a tensor whose chunk range is reversed',
      (o) => ((o.layout.tensors[0].chunkStart = 2), (o.layout.tensors[0].chunkEnd = 1)),
    ],
    ['a tensor with a negative start', (o) => (o.layout.tensors[0].start = -1)],
    ['unlisted a string', (o) => (o.layout.unlisted = '3')],
  ])('refuses a file object with %s', (_, edit) => {
    const o = JSON.parse(encodeJsonObject(FILE).toString());
    edit(o);
    expect(codeOf(() => decodeFileObject(json(o), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it.each<[string, Record<string, unknown>]>([
    ['an author that is a number', { author: 1 }],
    ['a note that is a number', { note: 1 }],
    ['metrics that are a string', { metrics: 'x' }],
    ['a metric that is an object', { metrics: { a: {} } }],
  ])('refuses an annotation with %s', (_, change) => {
    const ann = { type: 'annotation', format: 1, target: ID_A, author: 'a', time: 't', metrics: { acc: 0.9 } };
    expect(codeOf(() => decodeAnnotation(json({ ...ann, ...change }), 'id'))).toBe('OBJECT_CORRUPT');
  });

  it('maps keyed by names have no prototype: __proto__ and constructor are names like any other', () => {
    const text =
      '{"author":"a","deps":{},"files":{"__proto__":{"file":"' +
      ID_A +
      '","mode":420,"size":1},"constructor":{"file":"' +
      ID_B +
      '","mode":420,"size":2}},' +
      '"format":1,"message":"m","meta":{"__proto__":"x"},"metrics":{"constructor":1},' +
      '"params":{"toString":2},"parents":[],"time":"t","type":"version"}';
    const v = decodeVersion(Buffer.from(text), 'id');
    expect(Object.keys(v.files)).toEqual(['__proto__', 'constructor']);
    expect(v.files.__proto__!.file).toBe(ID_A);
    expect(Object.getPrototypeOf(v.files)).toBeNull();
    expect(v.meta.__proto__).toBe('x');
    expect(v.metrics.constructor).toBe(1);
    expect(v.params.toString).toBe(2);
    // absent names read as absent, not as Object.prototype's members
    expect(v.metrics.toString).toBeUndefined();
    expect(v.files.hasOwnProperty).toBeUndefined();
    // and they are written back byte for byte
    expect(encodeJsonObject(v).toString()).toBe(text);
    const ann = decodeAnnotation(
      json({ type: 'annotation', format: 1, target: ID_A, author: 'a', time: 't', metrics: {} }),
      'id',
    );
    expect(ann.metrics.constructor).toBeUndefined();
  });
});
