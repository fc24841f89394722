import { describe, it, expect } from 'vitest';
import { TensorDiffAccumulator, supportsStats, type TensorDiffStats } from '../../../src/core/tensorStats.js';

const f32 = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);
const u16 = (xs: number[]): Uint8Array => new Uint8Array(new Uint16Array(xs).buffer);

function stats(dtype: string, a: Uint8Array, b: Uint8Array): TensorDiffStats {
  const acc = new TensorDiffAccumulator(dtype);
  acc.update(a, b);
  return acc.result();
}

/** The value a 16-bit pattern decodes to: |v| from normA, its sign from the cosine against +1. */
function decoded(dtype: 'bf16' | 'f16', bits: number): number {
  const one = dtype === 'bf16' ? 0x3f80 : 0x3c00;
  const s = stats(dtype, u16([bits]), u16([one]));
  return s.normA * s.cosine;
}

/** Deterministic pseudo-random floats in [-1, 1). */
function randomFloats(n: number, seed: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push((x >>> 0) / 2 ** 31 - 1);
  }
  return out;
}

describe('TensorDiffAccumulator', () => {
  it('computes a hand-checked f32 example', () => {
    const s = stats('f32', f32([1, 2, 3, 4]), f32([1, 2.5, 3, 0]));
    expect(s.elements).toBe(4);
    expect(s.changed).toBe(2);
    expect(s.fractionChanged).toBe(0.5);
    expect(s.maxAbsDelta).toBe(4);
    expect(s.normA).toBeCloseTo(Math.sqrt(30), 12);
    expect(s.normB).toBeCloseTo(Math.sqrt(16.25), 12);
    expect(s.relL2).toBeCloseTo(Math.sqrt(16.25) / Math.sqrt(30), 12);
    expect(s.cosine).toBeCloseTo(15 / (Math.sqrt(30) * Math.sqrt(16.25)), 12);
  });

  it('reports identical tensors as unchanged', () => {
    const a = f32(randomFloats(1000, 7));
    const s = stats('f32', a, a.slice());
    expect(s.changed).toBe(0);
    expect(s.fractionChanged).toBe(0);
    expect(s.maxAbsDelta).toBe(0);
    expect(s.relL2).toBe(0);
    expect(s.cosine).toBeCloseTo(1, 12);
    expect(s.normA).toBe(s.normB);
  });

  it('handles all-zero and empty tensors', () => {
    const zero = f32([0, 0, 0]);
    expect(stats('f32', zero, zero)).toMatchObject({ changed: 0, relL2: 0, cosine: 1, normA: 0, normB: 0 });
    expect(stats('f32', zero, f32([0, 3, 0]))).toMatchObject({
      changed: 1,
      relL2: Infinity,
      cosine: 0,
      maxAbsDelta: 3,
    });
    expect(stats('f32', f32([0, 3, 0]), zero)).toMatchObject({ changed: 1, relL2: 1, cosine: 0 });
    expect(new TensorDiffAccumulator('bf16').result()).toEqual({
      elements: 0,
      changed: 0,
      fractionChanged: 0,
      maxAbsDelta: 0,
      relL2: 0,
      cosine: 1,
      normA: 0,
      normB: 0,
    });
  });

  it('compares by value: ±0 and NaN pairs are unchanged, NaN vs a number is an infinite change', () => {
    const s = stats('f32', f32([0, NaN, 1, Infinity, 5]), f32([-0, NaN, NaN, Infinity, 5]));
    expect(s.changed).toBe(1);
    expect(s.maxAbsDelta).toBe(Infinity);
    const inf = stats('f32', f32([Infinity, 1]), f32([-Infinity, 1]));
    expect(inf).toMatchObject({ changed: 1, maxAbsDelta: Infinity });
    // -0 vs +0 in bf16 bit patterns 0x8000 / 0x0000.
    expect(stats('bf16', u16([0x8000]), u16([0x0000])).changed).toBe(0);
    // Distinct NaN payloads are still "both NaN".
    expect(stats('bf16', u16([0x7fc0]), u16([0xffc1])).changed).toBe(0);
  });

  it('decodes bf16 values', () => {
    expect(decoded('bf16', 0x3f80)).toBe(1);
    expect(decoded('bf16', 0xc000)).toBe(-2);
    expect(decoded('bf16', 0x3f00)).toBe(0.5);
    expect(decoded('bf16', 0x4049)).toBe(3.140625);
    expect(decoded('bf16', 0x0001)).toBe(2 ** -133); // smallest subnormal
    expect(stats('bf16', u16([0x7f80]), u16([0])).normA).toBe(Infinity);
    expect(stats('bf16', u16([0xff80]), u16([0x7f80]))).toMatchObject({ changed: 1, maxAbsDelta: Infinity });
    expect(stats('bf16', u16([0x7fc0]), u16([0])).normA).toBeNaN();
  });

  it('decodes f16 values, including subnormals and infinities', () => {
    expect(decoded('f16', 0x3c00)).toBe(1);
    expect(decoded('f16', 0xc000)).toBe(-2);
    expect(decoded('f16', 0x3800)).toBe(0.5);
    expect(decoded('f16', 0x0001)).toBe(2 ** -24);
    expect(decoded('f16', 0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(decoded('f16', 0x0400)).toBe(6.103515625e-5); // smallest normal
    expect(decoded('f16', 0x7bff)).toBe(65504);
    expect(decoded('f16', 0xbc00)).toBe(-1);
    expect(stats('f16', u16([0x7c00]), u16([0])).normA).toBe(Infinity);
    expect(stats('f16', u16([0xfc00]), u16([0x7c00]))).toMatchObject({ changed: 1, maxAbsDelta: Infinity });
    expect(stats('f16', u16([0x7e00]), u16([0x7e00])).changed).toBe(0);
    expect(stats('f16', u16([0x7e00]), u16([0])).normA).toBeNaN();
  });

  it('gives the same result streamed in pieces as in one shot, aligned or not', () => {
    const xs = randomFloats(20_000, 1);
    const ys = xs.map((x, i) => (i % 3 === 0 ? x + 0.01 * xs[(i * 7) % xs.length]! : x));
    const a = f32(xs);
    const b = f32(ys);
    const whole = stats('f32', a, b);
    const acc = new TensorDiffAccumulator('f32');
    // Unaligned copies (byteOffset 1) exercise the scratch path.
    const ua = Buffer.alloc(a.length + 1);
    const ub = Buffer.alloc(b.length + 1);
    ua.set(a, 1);
    ub.set(b, 1);
    const sizes = [4, 400, 12, 16_384, 4, 20_000, 8];
    let off = 0;
    for (let k = 0; off < a.length; k++) {
      const end = Math.min(a.length, off + sizes[k % sizes.length]!);
      acc.update(ua.subarray(1 + off, 1 + end), ub.subarray(1 + off, 1 + end));
      off = end;
    }
    acc.update(new Uint8Array(0), new Uint8Array(0));
    const pieces = acc.result();
    expect(pieces.elements).toBe(whole.elements);
    expect(pieces.changed).toBe(whole.changed);
    expect(pieces.maxAbsDelta).toBe(whole.maxAbsDelta);
    for (const k of ['relL2', 'cosine', 'normA', 'normB'] as const) expect(pieces[k]).toBeCloseTo(whole[k], 12);
  });

  it('matches a naive reference on a bf16 tensor longer than one block', () => {
    const n = 150_001;
    const xs = randomFloats(n, 3);
    const bitsA = new Uint16Array(n);
    const bitsB = new Uint16Array(n);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    let aa = 0,
      bb = 0,
      ab = 0,
      dd = 0,
      max = 0,
      changed = 0;
    for (let i = 0; i < n; i++) {
      f[0] = xs[i]! * 0.05;
      bitsA[i] = u[0]! >>> 16;
      bitsB[i] = i % 2 ? bitsA[i]! : bitsA[i]! ^ 1;
      u[0] = bitsA[i]! << 16;
      const p = f[0]!;
      u[0] = bitsB[i]! << 16;
      const q = f[0]!;
      aa += p * p;
      bb += q * q;
      ab += p * q;
      dd += (q - p) ** 2;
      max = Math.max(max, Math.abs(q - p));
      if (p !== q) changed++;
    }
    const acc = new TensorDiffAccumulator('BF16');
    const A = new Uint8Array(bitsA.buffer);
    const B = new Uint8Array(bitsB.buffer);
    for (let off = 0; off < A.length; off += 50_000)
      acc.update(A.subarray(off, off + 50_000), B.subarray(off, off + 50_000));
    const s = acc.result();
    expect(s.elements).toBe(n);
    expect(s.changed).toBe(changed);
    expect(s.maxAbsDelta).toBe(max);
    expect(s.normA).toBeCloseTo(Math.sqrt(aa), 10);
    expect(s.normB).toBeCloseTo(Math.sqrt(bb), 10);
    expect(s.relL2).toBeCloseTo(Math.sqrt(dd) / Math.sqrt(aa), 10);
    expect(s.cosine).toBeCloseTo(ab / Math.sqrt(aa * bb), 10);
  });

  it('handles integer dtypes', () => {
    const i8 = stats(
      'i8',
      new Uint8Array(new Int8Array([-128, 127, 5]).buffer),
      new Uint8Array(new Int8Array([127, -128, 5]).buffer),
    );
    expect(i8).toMatchObject({ elements: 3, changed: 2, maxAbsDelta: 255 });
    expect(i8.normA).toBeCloseTo(Math.sqrt(128 ** 2 + 127 ** 2 + 25), 12);
    expect(stats('u8', Uint8Array.from([0, 255]), Uint8Array.from([255, 255]))).toMatchObject({
      changed: 1,
      maxAbsDelta: 255,
    });
    const i16 = (xs: number[]): Uint8Array => new Uint8Array(new Int16Array(xs).buffer);
    expect(stats('i16', i16([-32768, 1]), i16([32767, 1]))).toMatchObject({ changed: 1, maxAbsDelta: 65535 });
    expect(stats('u16', u16([65535, 0]), u16([0, 0]))).toMatchObject({ changed: 1, maxAbsDelta: 65535, normA: 65535 });
    const i32 = (xs: number[]): Uint8Array => new Uint8Array(new Int32Array(xs).buffer);
    expect(stats('i32', i32([-(2 ** 31), 7]), i32([2 ** 31 - 1, 7]))).toMatchObject({
      changed: 1,
      maxAbsDelta: 2 ** 32 - 1,
    });
    const u32 = (xs: number[]): Uint8Array => new Uint8Array(new Uint32Array(xs).buffer);
    expect(stats('u32', u32([2 ** 32 - 1]), u32([0]))).toMatchObject({ changed: 1, normA: 2 ** 32 - 1 });
  });

  it('handles 64-bit integers exactly for change detection', () => {
    const i64 = (xs: bigint[]): Uint8Array => new Uint8Array(new BigInt64Array(xs).buffer);
    const u64 = (xs: bigint[]): Uint8Array => new Uint8Array(new BigUint64Array(xs).buffer);
    const s = stats('i64', i64([-1n, 2n ** 53n + 1n, -(2n ** 40n)]), i64([1n, 2n ** 53n, -(2n ** 40n)]));
    // 2^53 + 1 rounds to 2^53 as a double, but its bits differ: still a change.
    expect(s).toMatchObject({ elements: 3, changed: 2, maxAbsDelta: 2 });
    expect(s.normA).toBeCloseTo(Math.sqrt(1 + 2 ** 106 + 2 ** 80), -20);
    const u = stats('u64', u64([2n ** 64n - 1n, 3n]), u64([0n, 3n]));
    expect(u).toMatchObject({ changed: 1, maxAbsDelta: 2 ** 64, normA: Math.sqrt(2 ** 128 + 9) });
    expect(stats('i64', i64([-(2n ** 63n)]), i64([0n])).maxAbsDelta).toBe(2 ** 63);
  });

  it('handles f64 and unaligned f64 windows', () => {
    const a = new Uint8Array(new Float64Array([1e300, -1, 0.1]).buffer);
    const b = new Uint8Array(new Float64Array([1e300, -1, 0.3]).buffer);
    const ua = Buffer.alloc(a.length + 3);
    const ub = Buffer.alloc(b.length + 5);
    ua.set(a, 3);
    ub.set(b, 5);
    const s = stats('f64', ua.subarray(3), ub.subarray(5));
    expect(s).toMatchObject({ elements: 3, changed: 1 });
    expect(s.maxAbsDelta).toBeCloseTo(0.2, 15);
  });

  it('validates dtypes and window sizes', () => {
    for (const d of ['bf16', 'f16', 'f32', 'f64', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'F32']) {
      expect(supportsStats(d), d).toBe(true);
    }
    for (const d of ['bool', 'f8_e4m3', 'c64', '', 'toString']) expect(supportsStats(d), d).toBe(false);
    expect(() => new TensorDiffAccumulator('bool')).toThrow(Error);
    const acc = new TensorDiffAccumulator('f32');
    expect(() => acc.update(new Uint8Array(8), new Uint8Array(4))).toThrow(RangeError);
    expect(() => acc.update(new Uint8Array(6), new Uint8Array(6))).toThrow(RangeError);
  });
});
