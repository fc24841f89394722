import { describe, it, expect } from 'vitest';
import { deflateSync } from 'node:zlib';
import { compress } from 'zstd-napi';
import {
  GROUP_KIND_CODES,
  groupBytes,
  groupKindForDtype,
  groupKindFromCode,
  groupWidth,
  ungroupBytes,
  type GroupKind,
} from '../../../src/storage/bytegroup.js';

const KINDS: GroupKind[] = ['bf16', 'f16', 'f32', 'f64', 'w2', 'w4', 'w8'];

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function randomBytes(n: number, seed = 12345): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Straightforward reference of the specified layout, independent of the fast paths. */
function referenceGroup(input: Uint8Array, kind: GroupKind): Buffer {
  const w = groupWidth(kind);
  const n = Math.floor(input.length / w);
  const out = Buffer.alloc(input.length);
  for (let i = 0; i < n; i++) {
    const el = [...input.subarray(i * w, i * w + w)];
    if (kind === 'bf16' || kind === 'f16' || kind === 'f32') {
      // Rotate the little-endian w-byte value left by one bit.
      let v = 0n;
      for (let k = w - 1; k >= 0; k--) v = (v << 8n) | BigInt(el[k]!);
      const bits = BigInt(8 * w);
      const mask = (1n << bits) - 1n;
      v = ((v << 1n) | (v >> (bits - 1n))) & mask;
      for (let k = 0; k < w; k++) el[k] = Number((v >> BigInt(8 * k)) & 0xffn);
    }
    for (let k = 0; k < w; k++) out[k * n + i] = el[k]!;
  }
  out.set(input.subarray(n * w), n * w);
  return out;
}

/** N(0, sigma) weights as little-endian bf16 bytes (Box-Muller, deterministic). */
function gaussianBf16(count: number, sigma: number): Buffer {
  const rnd = randomBytes(count * 8, 777);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    const u1 = (rnd.readUInt32LE(i * 8) + 1) / 4294967297;
    const u2 = rnd.readUInt32LE(i * 8 + 4) / 4294967296;
    f[0] = sigma * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    out.writeUInt16LE(u[0]! >>> 16, i * 2);
  }
  return out;
}

describe('groupBytes / ungroupBytes', () => {
  it('lays out a hand-computed bf16 example', () => {
    // 1.0 = 0x3f80, -2.0 = 0xc000, 0.5 = 0x3f00, 1.5 = 0x3fc0, then a tail byte.
    const input = Buffer.from([0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f, 0xc0, 0x3f, 0xab]);
    // Rotated: 0x7f00, 0x8001, 0x7e00, 0x7f80 -> low bytes (mantissa + sign), high bytes (exponents).
    const expected = Buffer.from([0x00, 0x01, 0x00, 0x80, 0x7f, 0x80, 0x7e, 0x7f, 0xab]);
    expect(groupBytes(input, 'bf16')).toEqual(expected);
    expect(ungroupBytes(expected, 'bf16')).toEqual(input);
    // Three elements (not a multiple of four: the byte-loop path) and no tail.
    const three = input.subarray(0, 6);
    expect(groupBytes(three, 'bf16')).toEqual(Buffer.from([0x00, 0x01, 0x00, 0x7f, 0x80, 0x7e]));
  });

  it('lays out hand-computed f32 and plain-plane examples', () => {
    // 1.0f = 0x3f800000 -> 0x7f000000; -2.0f = 0xc0000000 -> 0x80000001: byte 3 is the exponent.
    const f32 = Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
    expect([...groupBytes(f32, 'f32')]).toEqual([0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x7f, 0x80]);
    const w4 = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([...groupBytes(w4, 'w4')]).toEqual([1, 5, 2, 6, 3, 7, 4, 8, 9, 10]);
    const w8 = Buffer.from([...Array(32).keys()]); // four elements: the word path
    const expected8: number[] = [];
    for (let k = 0; k < 8; k++) for (let e = 0; e < 4; e++) expected8.push(e * 8 + k);
    expect([...groupBytes(w8, 'w8')]).toEqual(expected8);
    expect([...groupBytes(w8, 'f64')]).toEqual(expected8);
  });

  it('matches the reference layout and round-trips for every kind and length 0..1000', () => {
    const data = randomBytes(1100);
    const lengths = [...Array(80).keys(), ...Array.from({ length: 60 }, (_, i) => (i * 7919) % 1001), 1000, 1024, 1001];
    for (const kind of KINDS) {
      for (const len of lengths) {
        // Offsets 0..3 exercise unaligned inputs (copied before the word path).
        const off = len % 4;
        const input = data.subarray(off, off + len);
        const grouped = groupBytes(input, kind);
        expect(grouped.length).toBe(len);
        expect(grouped.equals(referenceGroup(input, kind)), `${kind} len ${len}`).toBe(true);
        const back = ungroupBytes(grouped, kind);
        expect(back.equals(input), `${kind} len ${len}`).toBe(true);
        // The inverse must also accept unaligned grouped input.
        const shifted = Buffer.alloc(len + 1);
        grouped.copy(shifted, 1);
        expect(ungroupBytes(shifted.subarray(1), kind).equals(input)).toBe(true);
      }
    }
  });

  it('round-trips a 1 MiB random buffer (and one with a ragged tail) for every kind', () => {
    const mib = randomBytes((1 << 20) + 7, 99);
    for (const kind of KINDS) {
      for (const input of [mib.subarray(0, 1 << 20), mib, mib.subarray(1, (1 << 20) + 1)]) {
        const grouped = groupBytes(input, kind);
        expect(ungroupBytes(grouped, kind).equals(input), kind).toBe(true);
      }
      const sample = mib.subarray(0, 4099);
      expect(groupBytes(sample, kind).equals(referenceGroup(sample, kind)), kind).toBe(true);
    }
  });

  it('makes N(0, 0.02) bf16 weights compress better', () => {
    const raw = gaussianBf16(1 << 18, 0.02);
    const grouped = groupBytes(raw, 'bf16');
    const deflatedRaw = deflateSync(raw).length;
    const deflatedGrouped = deflateSync(grouped).length;
    expect(deflatedGrouped).toBeLessThan(deflatedRaw * 0.95);
    const zRaw = compress(raw).length;
    const zGrouped = compress(grouped).length;
    expect(zGrouped).toBeLessThan(zRaw * 0.95);
  });

  it('rejects unknown kinds', () => {
    expect(() => groupBytes(Buffer.alloc(4), 'w3' as GroupKind)).toThrow();
  });
});

describe('group kinds', () => {
  it('maps dtypes to kinds', () => {
    const cases: [string, GroupKind | null][] = [
      ['bf16', 'bf16'],
      ['f16', 'f16'],
      ['f32', 'f32'],
      ['f64', 'f64'],
      ['i16', 'w2'],
      ['u16', 'w2'],
      ['i32', 'w4'],
      ['u32', 'w4'],
      ['i64', 'w8'],
      ['u64', 'w8'],
      ['BF16', 'bf16'],
      ['i8', null],
      ['u8', null],
      ['bool', null],
      ['f8_e4m3', null],
      ['constructor', null],
    ];
    for (const [dtype, kind] of cases) expect(groupKindForDtype(dtype), dtype).toBe(kind);
  });

  it('has stable, distinct codes 1..7 with a reverse lookup', () => {
    expect(GROUP_KIND_CODES).toEqual({ bf16: 1, f16: 2, f32: 3, f64: 4, w2: 5, w4: 6, w8: 7 });
    for (const kind of KINDS) expect(groupKindFromCode(GROUP_KIND_CODES[kind])).toBe(kind);
    expect(groupKindFromCode(0)).toBeNull();
    expect(groupKindFromCode(8)).toBeNull();
  });
});
