import { describe, it, expect } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import {
  encodeJsonObject,
  decodeFileObject,
  decodeVersion,
  decodeAnnotation,
  OBJECT_FORMAT,
  type FileObject,
  type Version,
  type Annotation,
} from '../../src/core/objects.js';
import { isObjectId, isIdPrefix, shortId } from '../../src/core/ids.js';
import { MvmError } from '../../src/errors.js';
import { codeOf } from '../helpers/errors.js';

const ID_A = 'a'.repeat(64);
const ID_B = '0123456789abcdef'.repeat(4);
const ID_C = 'c'.repeat(64);

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    const v = { b: 1, a: { z: [3, { y: 1, x: 2 }], c: 'x' }, A: null };
    expect(canonicalJson(v)).toBe('{"A":null,"a":{"c":"x","z":[3,{"x":2,"y":1}]},"b":1}');
  });

  it('is stable whatever the insertion order', () => {
    const a = { one: 1, two: { p: true, q: [1, 2, 3] }, three: 'x' };
    const b = { three: 'x', two: { q: [1, 2, 3], p: true }, one: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe(canonicalJson(JSON.parse(canonicalJson(a))));
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
  });

  it('drops undefined object members', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('escapes strings as JSON does', () => {
    expect(canonicalJson({ 'k"ey': 'line\nbreak "q" \u00e9' })).toBe(JSON.stringify({ 'k"ey': 'line\nbreak "q" \u00e9' }));
  });

  it('throws on non-finite numbers anywhere', () => {
    expect(() => canonicalJson(NaN)).toThrow();
    expect(() => canonicalJson({ a: Infinity })).toThrow();
    expect(() => canonicalJson({ a: [1, -Infinity] })).toThrow();
    expect(() => canonicalJson({ deep: { deeper: { x: NaN } } })).toThrow();
  });

  it('throws on values JSON cannot hold', () => {
    expect(() => canonicalJson(() => 1)).toThrow();
    expect(() => canonicalJson(10n)).toThrow();
    expect(() => canonicalJson(undefined)).toThrow();
  });
});

describe('ids', () => {
  it('recognises full ids and prefixes', () => {
    expect(isObjectId(ID_B)).toBe(true);
    expect(isObjectId(ID_B.toUpperCase())).toBe(false);
    expect(isObjectId(ID_B.slice(1))).toBe(false);
    expect(isObjectId(ID_B + '0')).toBe(false);
    expect(isIdPrefix('abcd')).toBe(true);
    expect(isIdPrefix('abc')).toBe(false);
    expect(isIdPrefix('abcg')).toBe(false);
    expect(shortId(ID_B)).toBe('0123456789ab');
  });
});

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
    expect(parsed.chunks).toEqual([[ID_A, 64], [ID_B, 64], [ID_A, 22]]);
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
    const reordered = { chunks: FILE.chunks, layout: FILE.layout, chunkSize: 64, size: 150, format: OBJECT_FORMAT, type: 'file' } as FileObject;
    expect(encodeJsonObject(reordered).equals(encodeJsonObject(FILE))).toBe(true);
  });

  it('rejects chunk sizes that do not add up to the size', () => {
    const o = { type: 'file', format: 1, size: 100, chunkSize: 64, chunks: [[ID_A, 64], [ID_B, 35]] };
    expect(codeOf(() => decodeFileObject(json(o), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(json({ ...o, chunks: [[ID_A, 64], [ID_B, 37]] }), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(json({ ...o, chunks: [[ID_A, 64], [ID_B, 36]] }), 'id'))).toBeNull();
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
      expect(codeOf(() => decodeFileObject(json({ ...base, chunks }), 'id')), JSON.stringify(chunks)).toBe('OBJECT_CORRUPT');
    }
  });

  it('rejects things that are not file objects', () => {
    expect(codeOf(() => decodeFileObject(Buffer.from('not json'), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(Buffer.from('[1,2]'), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(Buffer.from('null'), 'id'))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeFileObject(json({ type: 'version', format: 1, size: 0, chunks: [] }), 'id'))).toBe('OBJECT_CORRUPT');
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
    const o = { type: 'version', format: 1, parents: [], author: 'a', time: 't', message: 'm', files: {}, metrics: { f1: 0.5 } };
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
  const ANN: Annotation = { type: 'annotation', format: 1, target: ID_A, author: 'a', time: 't', metrics: { acc: 0.9 }, note: 'n' };

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
