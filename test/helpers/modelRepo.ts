/**
 * Repositories of model files for the format suites (formats/models, safetensors, odd-files, compression and
 * commands/diff-stats), with 4 KiB chunks: a workspace that tracks models/, objects read back from disk, and
 * tensor data with statistics computed independently of src/.
 */
import { expect } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decompress } from 'zstd-napi';
import { mvm, testdir } from './cli.js';
import { prng, randomBf16 } from './modelWriters.js';
import { ok, json } from './assertions.js';
import { diskBytes, storedBytes, storedSizes } from './storedObjects.js';

export const CHUNK = 4096;

/** Cleanups of the repositories made by repo(); each test file runs them after each test. */
export const cleanups: (() => void)[] = [];

// ---------------------------------------------------------------- CLI helpers

/** A fresh workspace holding `files`, with an mvm repository (4 KiB chunks unless told) tracking models/. */
export function repo(files: Record<string, Buffer>, chunkSize: number | null = CHUNK) {
  const t = testdir();
  cleanups.push(t.cleanup);
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  for (const [p, b] of Object.entries(files)) put(t.path(p), b);
  ok(run(['init', ...(chunkSize === null ? [] : ['--chunk-size', String(chunkSize)])]));
  ok(run(['add', 'models']));
  return {
    dir: t.dir,
    path: t.path,
    run,
    write: (p: string, b: Buffer) => put(t.path(p), b),
    read: (p: string) => readFileSync(t.path(p)),
    commit: (message: string) => json(run(['commit', '-m', message, '--json'])),
    diff: (a: string, b: string, ...extra: string[]) => json(run(['diff', a, b, '--json', ...extra])),
    /** Every stored object (loose or packed): id -> its stored size. */
    objects: () => storedSizes(join(t.dir, '.mvm', 'objects')),
    /** The bytes the object store takes on disk: its loose files and its pack files. */
    objectBytesOnDisk: () => diskBytes(join(t.dir, '.mvm', 'objects')),
    /** The file objects (docs/FORMAT.md) of version `rev`, read from disk, by path. */
    fileObjects: (rev: string): ((path: string) => any) => {
      const files: Record<string, { file: string }> = json(run(['show', rev, '--json'])).version.files;
      return (path) => JSON.parse(readObject(join(t.dir, '.mvm', 'objects'), files[path]!.file).toString('utf8'));
    },
  };
}

/** An object's content, decoded from its stored encoding (raw or zstd; JSON objects are never byte planes). */
export function readObject(objectsDir: string, id: string): Buffer {
  const b = storedBytes(objectsDir, id);
  expect(b[0]).toBe(0x4d);
  expect(b[1]).toBe(1);
  const payload = b.subarray(8);
  const content = b[2] === 0 ? payload : b[2] === 1 ? decompress(payload) : null;
  expect(content, `object ${id} has encoding ${b[2]}`).not.toBeNull();
  expect(content!.length).toBe(b.readUInt32LE(4));
  return content!;
}

export function put(path: string, data: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** Objects in `after` but not in `before`, and their total size on disk. */
export function added(before: Map<string, number>, after: Map<string, number>): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const [k, v] of after) {
    if (before.has(k)) continue;
    count++;
    bytes += v;
  }
  return { count, bytes };
}

export const chunksOf = (n: number) => Math.ceil(n / CHUNK);

// ---------------------------------------------------------------- data

/** `count` f32 values drawn from N(0, std²), deterministic in `seed`. */
export function normalF32(count: number, std = 1, seed = 1): Float32Array {
  const rnd = prng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = std * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  return out;
}

export const f32Bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
export const f32 = (count: number, seed: number) => f32Bytes(normalF32(count, 0.02, seed));
export const bf16 = (count: number, seed: number) => randomBf16(count, 0.02, seed);

/** IEEE binary16 bits of x (round to nearest; tiny values flush to zero). */
export function toF16(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a < 2 ** -14) return sign;
  let e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

export function f16(count: number, seed: number): Buffer {
  const v = normalF32(count, 0.02, seed);
  const out = Buffer.alloc(count * 2);
  v.forEach((x, i) => out.writeUInt16LE(toF16(x), i * 2));
  return out;
}

export function readBf16(b: Buffer): Float64Array {
  const out = new Float64Array(b.length / 2);
  const tmp = Buffer.alloc(4);
  for (let i = 0; i < out.length; i++) {
    tmp.writeUInt32LE((b.readUInt16LE(i * 2) << 16) >>> 0);
    out[i] = tmp.readFloatLE(0);
  }
  return out;
}

/** Difference statistics of two equal-length value arrays, in float64, computed independently of src/. */
export function expectedStats(a: Float64Array, b: Float64Array) {
  let aa = 0;
  let bb = 0;
  let ab = 0;
  let dd = 0;
  let max = 0;
  let changed = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    const q = b[i]!;
    aa += p * p;
    bb += q * q;
    ab += p * q;
    const d = q - p;
    dd += d * d;
    if (d !== 0) changed++;
    max = Math.max(max, Math.abs(d));
  }
  return {
    elements: a.length,
    changed,
    fractionChanged: changed / a.length,
    maxAbsDelta: max,
    relL2: Math.sqrt(dd) / Math.sqrt(aa),
    cosine: ab / Math.sqrt(aa * bb),
  };
}

/** |actual - expected| <= tol * max(1, |expected|). */
export function near(actual: number, expected: number, tol = 1e-9): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    tol * Math.max(1, Math.abs(expected)),
  );
}

/** The data of every stored entry of a zip, read by walking its local headers (independently of src/). */
export function zipEntries(zip: Buffer): Map<string, { start: number; end: number }> {
  const out = new Map<string, { start: number; end: number }>();
  let p = 0;
  while (p + 30 <= zip.length && zip.readUInt32LE(p) === 0x04034b50) {
    const size = zip.readUInt32LE(18 + p);
    const nameLen = zip.readUInt16LE(p + 26);
    const extraLen = zip.readUInt16LE(p + 28);
    const name = zip.toString('utf8', p + 30, p + 30 + nameLen);
    const start = p + 30 + nameLen + extraLen;
    out.set(name, { start, end: start + size });
    p = start + size;
  }
  return out;
}

/** A copy of `buf` with its middle byte flipped (inside the data of every fixture, so its defect stays). */
export function flipMiddle(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  out[out.length >> 1] ^= 0xff;
  return out;
}
