import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Codec, decodeObject, Encoding, HEADER_SIZE } from '../../../../src/storage/codec.js';
import { PLAIN_FULL_MAX } from '../../../../src/storage/codec/codec.js';
import { encodePlanesInto, plainEstimate } from '../../../../src/storage/codec/planes.js';
import { CodecMemory } from '../../../../src/storage/codec/scratch.js';
import { FsObjectStore } from '../../../../src/storage/objectStore.js';
import { runChunkTask } from '../../../../src/storage/chunkTasks.js';
import { blake3Hex } from '../../../../src/storage/hash.js';
import type { ZstdBinding } from '../../../../src/storage/zstd.js';
import { bf16Bytes, f32Bytes, normals } from './fixtures.js';

const zstd = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;

/** Bytes of `zstd -3` of `b` through zstd-napi: the size the codec must not exceed. */
function zstd3(b: Uint8Array): number {
  return new zstd.CCtx().compress(Buffer.alloc(zstd.compressBound(b.length)), b, 3);
}

/** Bytes of `b` encoded as byte planes of `kind` alone (the payload, no header), as the codec lays them out. */
function planesOnly(b: Uint8Array, kind: 'f32' | 'bf16'): number {
  const dst = Buffer.alloc(HEADER_SIZE + zstd.compressBound(b.length) + 5 * 9);
  return encodePlanesInto(new CodecMemory(), b, kind, dst) - HEADER_SIZE;
}

/** A Fourier basis as an audio model holds it: cos(2 pi k n / N) for k, n < N as f32 (then sin, with `sin`). */
function fourier(n: number, { sin = false, scale = 1 } = {}): Buffer {
  const f = new Float32Array(n * n * (sin ? 2 : 1));
  let i = 0;
  for (const fn of sin ? [Math.cos, Math.sin] : [Math.cos])
    for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) f[i++] = scale * fn((2 * Math.PI * k * j) / n);
  return f32Bytes(f);
}

/**
 * A detector's anchor table: [cy, cx, h, w] for each anchor of each cell of a 16 x 16 grid (4 anchors) and an
 * 8 x 8 grid (12), each anchor of its own scale and aspect ratio: 1,792 anchors, 28 KiB.
 */
function anchors(): Buffer {
  const v: number[] = [];
  for (const [layer, g, per] of [
    [1, 16, 4],
    [2, 8, 12],
  ] as const)
    for (let y = 0; y < g; y++)
      for (let x = 0; x < g; x++)
        for (let a = 0; a < per; a++) {
          const scale = 0.1 + (0.75 * (a + layer * per)) / (4 * per);
          const ratio = [1, 2, 0.5, 3, 1 / 3, 1.5][a % 6]!;
          v.push((y + 0.5) / g, (x + 0.5) / g, scale / Math.sqrt(ratio), scale * Math.sqrt(ratio));
        }
  return f32Bytes(new Float32Array(v));
}

describe('encode keeps plain zstd where byte planes lose', () => {
  const cases: [string, Buffer][] = [
    ['a Fourier basis (cos, 256 x 256 f32)', fourier(256)],
    ['a Fourier basis (cos and sin, 2 x 256 x 256 f32)', fourier(256, { sin: true })],
    ['an anchor table (1,792 anchors of 4 f32)', anchors()],
  ];
  for (const [name, b] of cases)
    it(`${name}: stored no larger than zstd -3 of its bytes, though planes are far larger`, () => {
      const plain = zstd3(b);
      // the case is one the planes lose: stored as planes it would exceed zstd -3 by far
      expect(planesOnly(b, 'f32')).toBeGreaterThan(plain * 1.3);
      for (const group of ['f32', 'auto'] as const) {
        const enc = new Codec().encode(b, { level: 3, group });
        expect(enc.encoding, group).toBe(Encoding.zstd);
        // the stored payload (after the object's own 8-byte header) is zstd -3 of the bytes, no larger
        expect(enc.bytes.length - HEADER_SIZE, group).toBeLessThanOrEqual(plain);
        expect(decodeObject(enc.bytes, 'x').equals(b)).toBe(true);
      }
    });

  it('above PLAIN_FULL_MAX the spread windows decide: under the planes on a basis, well over them on weights', () => {
    const mem = new CodecMemory();
    for (const b of [fourier(256), fourier(256, { sin: true })]) {
      expect(b.length).toBeGreaterThan(PLAIN_FULL_MAX);
      expect(plainEstimate(mem, b, 3)).toBeLessThan(planesOnly(b, 'f32'));
    }
    const weights = f32Bytes(normals(1 << 18, 0.02, 21));
    const estimate = plainEstimate(mem, weights, 3);
    // close to zstd -3 of the whole, and more than 5% above the planes: plain zstd is not run at all
    expect(Math.abs(estimate / zstd3(weights) - 1)).toBeLessThan(0.01);
    expect(estimate).toBeGreaterThan(planesOnly(weights, 'f32') * 1.05);
  });

  it('random-ish weights still take byte planes, smaller than zstd -3 (f32 and bf16, 1 MiB and 256 KiB)', () => {
    const codec = new Codec();
    for (const [name, b, group] of [
      ['f32 1 MiB', f32Bytes(normals(1 << 18, 0.02, 11)), 'f32'],
      ['f32 256 KiB', f32Bytes(normals(1 << 16, 0.02, 12)), 'f32'],
      ['bf16 1 MiB', bf16Bytes(normals(1 << 19, 0.02, 13)), 'bf16'],
      ['f32 48 KiB', f32Bytes(normals(12 << 10, 0.02, 14)), 'f32'],
    ] as const) {
      const enc = codec.encode(b, { level: 3, group });
      expect(enc.encoding, name).toBe(Encoding.planes);
      expect(enc.bytes.length, name).toBeLessThan(zstd3(b));
      expect(decodeObject(enc.bytes, 'x').equals(b), name).toBe(true);
    }
  });
});

describe('a delta is weighed against the final whole encoding', () => {
  let root = '';
  let store: FsObjectStore;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mvm-plainfallback-'));
    mkdirSync(join(root, 'objects'));
    mkdirSync(join(root, 'tmp'));
    store = new FsObjectStore(join(root, 'objects'), join(root, 'tmp'), { level: 3, fsync: false });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Stores `data` as one f32 chunk of tensor 0 through a range task, with `base` as its delta base. */
  function storeChunk(name: string, data: Buffer, base?: string): { id: string; storedBytes: number } {
    const path = join(root, name);
    writeFileSync(path, data);
    const span = { start: 0, end: data.length, group: 'f32' as const, tensor: 0, ...(base && { base }) };
    const r = runChunkTask({ op: 'range', path, write: true, store: store.workerHandle(), spans: [span] });
    if (r.op !== 'range' || !('chunks' in r)) throw new Error(`not a range result: ${JSON.stringify(r.error)}`);
    return r.chunks[0]!;
  }

  it('a basis scaled by 1.003 is stored whole as plain zstd: its delta beats the planes but not plain zstd', () => {
    const base = fourier(256);
    const next = fourier(256, { scale: 1.003 });
    const baseId = storeChunk('a.bin', base).id;
    // the case: the delta is smaller than the planes (which were all a whole chunk could be before)...
    const delta = new Codec().encodeDelta(next, base, baseId, 1, 'f32')!;
    expect(delta.bytes.length).toBeLessThan(planesOnly(next, 'f32') * 0.95);
    // ...and larger than plain zstd of the chunk
    expect(delta.bytes.length).toBeGreaterThan(zstd3(next) + HEADER_SIZE);
    const stored = storeChunk('b.bin', next, baseId);
    expect(stored.id).toBe(blake3Hex(next));
    const bytes = store.readStored(stored.id);
    expect(bytes[2]).toBe(Encoding.zstd);
    expect(stored.storedBytes).toBeLessThanOrEqual(zstd3(next) + HEADER_SIZE);
    expect(store.get(stored.id).equals(next)).toBe(true);
  });

  it('a fine-tune whose delta beats plain zstd too is still stored as a delta', () => {
    const base = fourier(256);
    const next = Buffer.from(base);
    // a handful of elements changed: the difference is almost all zeros
    for (let i = 0; i < next.length; i += 4096) next.writeFloatLE(next.readFloatLE(i) * 1.5, i);
    const baseId = storeChunk('a.bin', base).id;
    const stored = storeChunk('b.bin', next, baseId);
    expect(store.readStored(stored.id)[2]).toBe(Encoding.delta);
    expect(stored.storedBytes).toBeLessThan(zstd3(next));
    expect(store.get(stored.id).equals(next)).toBe(true);
  });
});
