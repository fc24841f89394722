/** Deterministic data and an error catcher shared by the codec tests. */
import { expect } from 'vitest';
import { MvmError } from '../../../../src/errors.js';

/** Deterministic xorshift32 stream. */
function rng(seed = 0x9e3779b9): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function randomBytes(n: number, seed = 1): Buffer {
  const r = rng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = r() & 0xff;
  return out;
}

/** Normal(0, sigma) floats via Box-Muller. */
export function normals(n: number, sigma: number, seed = 7): Float32Array {
  const r = rng(seed);
  const u = () => (r() + 1) / 4294967297;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const a = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = a * Math.cos(t) * sigma;
    if (i + 1 < n) out[i + 1] = a * Math.sin(t) * sigma;
  }
  return out;
}

/** bf16 little-endian bytes: the upper half of each f32. */
export function bf16Bytes(values: Float32Array): Buffer {
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = Buffer.alloc(values.length * 2);
  for (let i = 0; i < u32.length; i++) out.writeUInt16LE(u32[i]! >>> 16, i * 2);
  return out;
}

export function f32Bytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

export const TEXT = Buffer.from(
  Array.from({ length: 400 }, (_, i) => `line ${i % 17}: the quick brown fox jumps over the lazy dog\n`).join(''),
);

/** Calls fn and returns the MvmError it throws; fails the test if it returns or throws anything else. */
export function corruptError(fn: () => unknown): MvmError {
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(MvmError);
  const err = thrown as MvmError;
  expect(err.code).toBe('OBJECT_CORRUPT');
  return err;
}

/** Runs fn and returns its result, or null when it throws OBJECT_CORRUPT; any other error fails the test at `where`. */
export function resultOrCorrupt<T>(fn: () => T, where: string): T | null {
  try {
    return fn();
  } catch (e) {
    expect(e, where).toBeInstanceOf(MvmError);
    expect((e as MvmError).code, where).toBe('OBJECT_CORRUPT');
    return null;
  }
}
