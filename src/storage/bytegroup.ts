/**
 * Byte grouping: a reversible rearrangement of fixed-width elements into byte
 * planes (plane k = byte k of every element, planes concatenated), applied to a
 * chunk before zstd as in ZipNN / Hugging Face Xet. Float kinds first rotate
 * each element left by one bit, so the sign moves to bit 0 and the exponent
 * lands in one byte of its own (bf16: byte 1 = the 8 exponent bits; f32:
 * byte 3). Bytes after the last whole element are kept as-is at the end.
 *
 * Layout of groupBytes(input) for width w, n = floor(len / w):
 *   [plane 0: n bytes][plane 1: n bytes]...[plane w-1: n bytes][len % w tail bytes]
 *
 * Widths 2 and 4 run in WebAssembly SIMD when it is there (kernels.ts, 16
 * elements per step); otherwise, and for width 8, the JS fast path
 * (little-endian host, n a multiple of 4) moves 4 elements per step through
 * Uint32Array views, and everything else takes an endian-neutral byte loop.
 * All produce identical bytes (`jsOnly` forces JS, for tests).
 */

import { kernelArena, wasmKernels } from './kernels.js';

/** How a chunk's bytes were rearranged before compression. */
export type GroupKind = 'bf16' | 'f16' | 'f32' | 'f64' | 'w2' | 'w4' | 'w8';

/** Stable on-disk code (1..7) of each group kind; written into stored objects, so never renumber. */
export const GROUP_KIND_CODES: Readonly<Record<GroupKind, number>> = Object.freeze({
  bf16: 1,
  f16: 2,
  f32: 3,
  f64: 4,
  w2: 5,
  w4: 6,
  w8: 7,
});

const KIND_BY_CODE: ReadonlyMap<number, GroupKind> = new Map(
  (Object.keys(GROUP_KIND_CODES) as GroupKind[]).map((k) => [GROUP_KIND_CODES[k], k]),
);

/** The group kind stored under an on-disk code, or null if the code is unknown. */
export function groupKindFromCode(code: number): GroupKind | null {
  return KIND_BY_CODE.get(code) ?? null;
}

const WIDTH: Readonly<Record<GroupKind, 2 | 4 | 8>> = { bf16: 2, f16: 2, f32: 4, f64: 8, w2: 2, w4: 4, w8: 8 };

/** Element width in bytes that a group kind splits into planes. */
export function groupWidth(kind: GroupKind): 2 | 4 | 8 {
  const w = WIDTH[kind];
  if (w === undefined) throw new TypeError(`unknown byte-group kind: ${String(kind)}`);
  return w;
}

const DTYPE_KIND: Readonly<Record<string, GroupKind>> = {
  bf16: 'bf16',
  f16: 'f16',
  f32: 'f32',
  f64: 'f64',
  i16: 'w2',
  u16: 'w2',
  i32: 'w4',
  u32: 'w4',
  i64: 'w8',
  u64: 'w8',
};

/** The group kind suited to a tensor dtype (case-insensitive, e.g. 'bf16' or 'BF16'), or null for none. */
export function groupKindForDtype(dtype: string): GroupKind | null {
  const key = dtype.toLowerCase();
  return Object.hasOwn(DTYPE_KIND, key) ? DTYPE_KIND[key]! : null;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Rearranges input into byte planes (see the module comment); the exact inverse is ungroupBytes. */
export function groupBytes(input: Uint8Array, kind: GroupKind, out?: Buffer, jsOnly = false): Buffer {
  return transform(input, kind, true, out, jsOnly);
}

/** Restores the original bytes from groupBytes(original, kind). */
export function ungroupBytes(grouped: Uint8Array, kind: GroupKind, out?: Buffer, jsOnly = false): Buffer {
  return transform(grouped, kind, false, out, jsOnly);
}

/** Below this many elements the WebAssembly call and copies cost more than they save. */
const WASM_MIN_ELEMENTS = 256;

/**
 * Runs the WebAssembly kernel when it applies: both buffers in its memory
 * (no copy; see kernelArena), or neither (copied through its arena).
 * Returns false to leave the work to the JS kernels.
 */
function wasmTransform(src: Uint8Array, out: Buffer, n: number, w: number, forward: boolean, rotate: boolean): boolean {
  if ((w !== 2 && w !== 4) || n < WASM_MIN_ELEMENTS) return false;
  const k = wasmKernels();
  if (!k) return false;
  const fn = w === 2 ? (forward ? k.group2 : k.ungroup2) : forward ? k.group4 : k.ungroup4;
  const body = n * w;
  const mem = k.memory.buffer;
  const srcIn = src.buffer === mem;
  if (srcIn !== (out.buffer === mem)) return false;
  if (srcIn) {
    fn(src.byteOffset, out.byteOffset, n, rotate ? 1 : 0);
    return true;
  }
  const a = kernelArena(k, body);
  a.input.set(src.subarray(0, body));
  fn(a.input.byteOffset, a.output.byteOffset, n, rotate ? 1 : 0);
  out.set(a.output.subarray(0, body));
  return true;
}

/**
 * `into`, when given, receives the result (it must not overlap `src`; at least src.length long), saving an allocation.
 */
function transform(src: Uint8Array, kind: GroupKind, forward: boolean, into?: Buffer, jsOnly = false): Buffer {
  const w = groupWidth(kind);
  const len = src.length;
  const n = Math.floor(len / w);
  const body = n * w;
  const out = into ? into.subarray(0, len) : Buffer.allocUnsafe(len);
  const rotate = kind === 'bf16' || kind === 'f16' || kind === 'f32';
  if (!jsOnly && wasmTransform(src, out, n, w, forward, rotate)) {
    // done by the WebAssembly kernel
  } else if (LITTLE_ENDIAN && n > 0 && n % 4 === 0 && (out.byteOffset & 3) === 0) {
    const aligned = (src.byteOffset & 3) === 0 ? src : alignedCopy(src.subarray(0, body));
    const s = new Uint32Array(aligned.buffer, aligned.byteOffset, body >>> 2);
    const d = new Uint32Array(out.buffer, out.byteOffset, body >>> 2);
    const q = n >>> 2;
    if (w === 2) {
      if (forward) group2(s, d, q, rotate);
      else ungroup2(s, d, q, rotate);
    } else if (w === 4) {
      if (forward) group4(s, d, q, rotate);
      else ungroup4(s, d, q, rotate);
    } else {
      if (forward) group8(s, d, q);
      else ungroup8(s, d, q);
    }
  } else if (forward) {
    groupScalar(src, out, n, w, rotate);
  } else {
    ungroupScalar(src, out, n, w, rotate);
  }
  if (body < len) out.set(src.subarray(body), body);
  return out;
}

/** A copy of bytes at a fresh (8-byte aligned) offset; Buffer#slice would alias instead. */
function alignedCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

// ---- word kernels: 4 elements per step; s = elements, d = planes (q words each) ----

// Rotating variants get loops of their own: a loop-invariant `if (rotate)` in
// the body measurably slows these loops down. The tiny helpers are inlined.

/** Rotates both 16-bit halves of a word left by one bit. */
const rotl16x2 = (a: number): number => ((a << 1) & 0xfffefffe) | ((a >>> 15) & 0x00010001);
/** Rotates both 16-bit halves of a word right by one bit. */
const rotr16x2 = (a: number): number => ((a >>> 1) & 0x7fff7fff) | ((a << 15) & 0x80008000);
/** Low bytes of the four 16-bit elements in words a, b. */
const lowBytes = (a: number, b: number): number =>
  (a & 0xff) | ((a >>> 8) & 0xff00) | ((b & 0xff) << 16) | ((b << 8) & 0xff000000);
/** High bytes of the four 16-bit elements in words a, b. */
const highBytes = (a: number, b: number): number =>
  ((a >>> 8) & 0xff) | ((a >>> 16) & 0xff00) | ((b & 0xff00) << 8) | (b & 0xff000000);
/** Elements 0 and 1 (as one word) from plane words lo, hi. */
const firstPair = (lo: number, hi: number): number =>
  (lo & 0xff) | ((hi & 0xff) << 8) | ((lo & 0xff00) << 8) | ((hi & 0xff00) << 16);
/** Elements 2 and 3 (as one word) from plane words lo, hi. */
const secondPair = (lo: number, hi: number): number =>
  ((lo >>> 16) & 0xff) | ((hi >>> 8) & 0xff00) | ((lo >>> 8) & 0xff0000) | (hi & 0xff000000);

function group2(s: Uint32Array, d: Uint32Array, q: number, rotate: boolean): void {
  if (rotate) {
    for (let i = 0, j = 0; i < q; i++, j += 2) {
      const a = rotl16x2(s[j]!);
      const b = rotl16x2(s[j + 1]!);
      d[i] = lowBytes(a, b);
      d[q + i] = highBytes(a, b);
    }
  } else {
    for (let i = 0, j = 0; i < q; i++, j += 2) {
      const a = s[j]!;
      const b = s[j + 1]!;
      d[i] = lowBytes(a, b);
      d[q + i] = highBytes(a, b);
    }
  }
}

function ungroup2(s: Uint32Array, d: Uint32Array, q: number, rotate: boolean): void {
  if (rotate) {
    for (let i = 0, j = 0; i < q; i++, j += 2) {
      d[j] = rotr16x2(firstPair(s[i]!, s[q + i]!));
      d[j + 1] = rotr16x2(secondPair(s[i]!, s[q + i]!));
    }
  } else {
    for (let i = 0, j = 0; i < q; i++, j += 2) {
      d[j] = firstPair(s[i]!, s[q + i]!);
      d[j + 1] = secondPair(s[i]!, s[q + i]!);
    }
  }
}

/** Rotates a word left by one bit. */
const rotl32 = (w: number): number => (w << 1) | (w >>> 31);

/**
 * 4x4 byte transpose: d[base + k * stride] = byte k of w0, w1, w2, w3 (as
 * bytes 0..3), rotated right by one bit when rotr. The transpose is its own
 * inverse, so it serves both directions; call sites pass a literal rotr, which
 * the compiler folds once the helper is inlined.
 */
function transpose4(
  d: Uint32Array,
  base: number,
  stride: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  rotr: boolean,
): void {
  const t0 = (w0 & 0x00ff00ff) | ((w1 & 0x00ff00ff) << 8);
  const t1 = ((w0 >>> 8) & 0x00ff00ff) | (w1 & 0xff00ff00);
  const t2 = (w2 & 0x00ff00ff) | ((w3 & 0x00ff00ff) << 8);
  const t3 = ((w2 >>> 8) & 0x00ff00ff) | (w3 & 0xff00ff00);
  const b0 = (t0 & 0xffff) | (t2 << 16);
  const b1 = (t1 & 0xffff) | (t3 << 16);
  const b2 = (t0 >>> 16) | (t2 & 0xffff0000);
  const b3 = (t1 >>> 16) | (t3 & 0xffff0000);
  d[base] = rotr ? (b0 >>> 1) | (b0 << 31) : b0;
  d[base + stride] = rotr ? (b1 >>> 1) | (b1 << 31) : b1;
  d[base + 2 * stride] = rotr ? (b2 >>> 1) | (b2 << 31) : b2;
  d[base + 3 * stride] = rotr ? (b3 >>> 1) | (b3 << 31) : b3;
}

function group4(s: Uint32Array, d: Uint32Array, q: number, rotate: boolean): void {
  if (rotate) {
    for (let i = 0, j = 0; i < q; i++, j += 4) {
      transpose4(d, i, q, rotl32(s[j]!), rotl32(s[j + 1]!), rotl32(s[j + 2]!), rotl32(s[j + 3]!), false);
    }
  } else {
    for (let i = 0, j = 0; i < q; i++, j += 4) transpose4(d, i, q, s[j]!, s[j + 1]!, s[j + 2]!, s[j + 3]!, false);
  }
}

function ungroup4(s: Uint32Array, d: Uint32Array, q: number, rotate: boolean): void {
  const q2 = 2 * q;
  const q3 = 3 * q;
  if (rotate) {
    for (let i = 0, j = 0; i < q; i++, j += 4) transpose4(d, j, 1, s[i]!, s[q + i]!, s[q2 + i]!, s[q3 + i]!, true);
  } else {
    for (let i = 0, j = 0; i < q; i++, j += 4) transpose4(d, j, 1, s[i]!, s[q + i]!, s[q2 + i]!, s[q3 + i]!, false);
  }
}

/** 8-byte elements: the low words of 4 elements fill planes 0-3, the high words planes 4-7. */
function group8(s: Uint32Array, d: Uint32Array, q: number): void {
  const q4 = 4 * q;
  for (let i = 0, j = 0; i < q; i++, j += 8) {
    transpose4(d, i, q, s[j]!, s[j + 2]!, s[j + 4]!, s[j + 6]!, false);
    transpose4(d, q4 + i, q, s[j + 1]!, s[j + 3]!, s[j + 5]!, s[j + 7]!, false);
  }
}

function ungroup8(s: Uint32Array, d: Uint32Array, q: number): void {
  const q2 = 2 * q;
  const q3 = 3 * q;
  const q4 = 4 * q;
  for (let i = 0, j = 0; i < q; i++, j += 8) {
    transpose4(d, j, 2, s[i]!, s[q + i]!, s[q2 + i]!, s[q3 + i]!, false);
    transpose4(d, j + 1, 2, s[q4 + i]!, s[q4 + q + i]!, s[q4 + q2 + i]!, s[q4 + q3 + i]!, false);
  }
}

// ---- byte kernels: any n, any alignment, any host byte order ----

function groupScalar(s: Uint8Array, d: Uint8Array, n: number, w: number, rotate: boolean): void {
  if (rotate && w === 2) {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const v = s[j]! | (s[j + 1]! << 8);
      const r = (v << 1) | (v >>> 15);
      d[i] = r;
      d[n + i] = r >>> 8;
    }
  } else if (rotate) {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const v = s[j]! | (s[j + 1]! << 8) | (s[j + 2]! << 16) | (s[j + 3]! << 24);
      const r = (v << 1) | (v >>> 31);
      d[i] = r;
      d[n + i] = r >>> 8;
      d[2 * n + i] = r >>> 16;
      d[3 * n + i] = r >>> 24;
    }
  } else {
    for (let k = 0; k < w; k++) {
      const base = k * n;
      for (let i = 0, j = k; i < n; i++, j += w) d[base + i] = s[j]!;
    }
  }
}

function ungroupScalar(s: Uint8Array, d: Uint8Array, n: number, w: number, rotate: boolean): void {
  if (rotate && w === 2) {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const r = s[i]! | (s[n + i]! << 8);
      const v = (r >>> 1) | ((r & 1) << 15);
      d[j] = v;
      d[j + 1] = v >>> 8;
    }
  } else if (rotate) {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const r = s[i]! | (s[n + i]! << 8) | (s[2 * n + i]! << 16) | (s[3 * n + i]! << 24);
      const v = (r >>> 1) | (r << 31);
      d[j] = v;
      d[j + 1] = v >>> 8;
      d[j + 2] = v >>> 16;
      d[j + 3] = v >>> 24;
    }
  } else {
    for (let k = 0; k < w; k++) {
      const base = k * n;
      for (let i = 0, j = k; i < n; i++, j += w) d[j] = s[base + i]!;
    }
  }
}
