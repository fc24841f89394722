/**
 * Streaming difference statistics between two versions of one tensor. The
 * caller feeds both tensors' little-endian bytes in parallel windows of equal
 * length. bf16/f16 are decoded inside the hot loop through 65536-entry lookup
 * tables; every other dtype is converted block by block into float64 scratch
 * arrays first. Per-block sums are plain float64 and are added to the totals
 * with Kahan compensation, so long tensors keep ~float64 accuracy cheaply.
 *
 * "Changed" means value inequality: -0 equals +0, and NaN vs NaN is unchanged;
 * for i64/u64 the raw bits are compared (values above 2^53 round when decoded).
 * A changed element whose difference is NaN (NaN vs a number) counts as an
 * infinite difference.
 */

/** Running difference statistics between tensor a (old) and b (new). */
export interface TensorDiffStats {
  /** Elements compared so far. */
  elements: number;
  /** Elements whose value differs (see the module comment for NaN and ±0). */
  changed: number;
  /** changed / elements (0 for an empty tensor). */
  fractionChanged: number;
  /** Largest |b - a| over changed elements (0 if none changed). */
  maxAbsDelta: number;
  /** ||b - a||₂ / ||a||₂; Infinity if ||a|| = 0 but b differs, 0 if both are zero. */
  relL2: number;
  /** a·b / (||a|| ||b||); 1 if both are all-zero, 0 if exactly one is. */
  cosine: number;
  /** ||a||₂. */
  normA: number;
  /** ||b||₂. */
  normB: number;
}

/** Converts n elements at byteOffset of buf (aligned, host order) to float64. */
type Decoder = (buf: ArrayBufferLike, byteOffset: number, n: number, out: Float64Array) => void;

/** A dtype is read either through a 16-bit lookup table or through a decoder. */
type DtypeInfo = { size: number; lut: () => Float32Array } | { size: number; decode: Decoder };

/** Elements per block: larger for the table path, which needs no float64 scratch. */
const LUT_BLOCK = 65536;
const DECODE_BLOCK = 4096;
const TWO_32 = 4294967296;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let bf16Table: Float32Array | undefined;
let f16Table: Float32Array | undefined;

/** bf16 is the top half of an f32, so its table aliases bit patterns h << 16. */
function bf16Lut(): Float32Array {
  if (!bf16Table) {
    const t = new Float32Array(65536);
    const bits = new Uint32Array(t.buffer);
    for (let h = 0; h < 65536; h++) bits[h] = h << 16;
    bf16Table = t;
  }
  return bf16Table;
}

/** IEEE binary16, including subnormals, infinities and NaN. */
function f16Lut(): Float32Array {
  if (!f16Table) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >>> 10) & 0x1f;
      const frac = h & 0x3ff;
      if (exp === 0) t[h] = sign * frac * 2 ** -24;
      else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
      else t[h] = sign * (1024 + frac) * 2 ** (exp - 25);
    }
    f16Table = t;
  }
  return f16Table;
}

/** 64-bit integers as hi * 2^32 + lo: one correctly rounded addition, no BigInt allocation. */
function decode64(signed: boolean, buf: ArrayBufferLike, off: number, n: number, out: Float64Array): void {
  const u = new Uint32Array(buf, off, 2 * n);
  const h = LITTLE_ENDIAN ? 1 : 0;
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    const hi = u[j + h]!;
    out[i] = (signed ? hi | 0 : hi) * TWO_32 + u[j + 1 - h]!;
  }
}

/** Conversion done natively by TypedArray.prototype.set (f32, f64, ints up to 32 bits). */
function viaSet(Ctor: new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<number>, size: number): DtypeInfo {
  return { size, decode: (buf, off, n, out) => out.set(new Ctor(buf, off, n)) };
}

const DTYPES: Readonly<Record<string, DtypeInfo>> = {
  bf16: { size: 2, lut: bf16Lut },
  f16: { size: 2, lut: f16Lut },
  f32: viaSet(Float32Array, 4),
  f64: viaSet(Float64Array, 8),
  i8: viaSet(Int8Array, 1),
  u8: viaSet(Uint8Array, 1),
  i16: viaSet(Int16Array, 2),
  u16: viaSet(Uint16Array, 2),
  i32: viaSet(Int32Array, 4),
  u32: viaSet(Uint32Array, 4),
  i64: { size: 8, decode: (buf, off, n, out) => decode64(true, buf, off, n, out) },
  u64: { size: 8, decode: (buf, off, n, out) => decode64(false, buf, off, n, out) },
};

function dtypeInfo(dtype: string): DtypeInfo | undefined {
  const key = dtype.toLowerCase();
  return Object.hasOwn(DTYPES, key) ? DTYPES[key] : undefined;
}

/** Whether TensorDiffAccumulator handles this dtype (case-insensitive, e.g. 'bf16' or 'BF16'). */
export function supportsStats(dtype: string): boolean {
  return dtypeInfo(dtype) !== undefined;
}

/** Sums of one block (written by the kernels) plus the running maximum (read and written). */
export interface BlockSums {
  aa: number;
  bb: number;
  ab: number;
  dd: number;
  max: number;
  changed: number;
}

// The two kernels below are twins, kept apart on purpose: the same loop, which
// must stay in step, differing only in how p and q are loaded (a lookup table
// of 16-bit codes, or float64 values). One shared body would see both array
// kinds and become a polymorphic, much slower loop (`npm run bench:tensors`).
//
// For non-NaN operands q - p === 0 exactly when q === p (gradual underflow),
// so `d !== 0` counts value changes. It is added branch-free because about
// half the elements change in a fine-tune, which defeats branch prediction.
// A NaN difference means equal infinities, NaN vs NaN (both unchanged) or NaN
// vs a number (a change of unbounded size).

/** Folds n bf16/f16 pairs, decoded through lut, into s. */
function accumulateLut(lut: Float32Array, x: Uint16Array, y: Uint16Array, n: number, s: BlockSums): void {
  let aa = 0;
  let bb = 0;
  let ab = 0;
  let dd = 0;
  let max = s.max;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const p = lut[x[i]!]!;
    const q = lut[y[i]!]!;
    aa += p * p;
    bb += q * q;
    ab += p * q;
    const d = q - p;
    if (d === d) {
      dd += d * d;
      const ad = Math.abs(d);
      if (ad > max) max = ad;
      changed += +(d !== 0);
    } else if (p !== q && (p === p || q === q)) {
      changed++;
      dd = Infinity;
      max = Infinity;
    }
  }
  s.aa = aa;
  s.bb = bb;
  s.ab = ab;
  s.dd = dd;
  s.max = max;
  s.changed = changed;
}

/** Folds n decoded float64 pairs into s. */
function accumulate(x: Float64Array, y: Float64Array, n: number, s: BlockSums): void {
  let aa = 0;
  let bb = 0;
  let ab = 0;
  let dd = 0;
  let max = s.max;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const p = x[i]!;
    const q = y[i]!;
    aa += p * p;
    bb += q * q;
    ab += p * q;
    const d = q - p;
    if (d === d) {
      dd += d * d;
      const ad = Math.abs(d);
      if (ad > max) max = ad;
      changed += +(d !== 0);
    } else if (p !== q && (p === p || q === q)) {
      changed++;
      dd = Infinity;
      max = Infinity;
    }
  }
  s.aa = aa;
  s.bb = bb;
  s.ab = ab;
  s.dd = dd;
  s.max = max;
  s.changed = changed;
}

/**
 * Folds n pairs of 16-bit elements into s as accumulateLut would (same sums,
 * `max` read and written); false, with s untouched, when it cannot.
 */
export type BlockKernel = (x: Uint16Array, y: Uint16Array, n: number, s: BlockSums) => boolean;

/** Kahan-compensated running total. */
class KahanSum {
  sum = 0;
  private c = 0;
  /** Adds v to the total. */
  add(v: number): void {
    const y = v - this.c;
    const t = this.sum + y;
    this.c = t - this.sum - y;
    this.sum = t;
    if (this.c !== this.c) this.c = 0; // after an Infinity the compensation is meaningless
  }
}

/** Accumulates TensorDiffStats over parallel windows of two tensors' bytes. */
export class TensorDiffAccumulator {
  private readonly size: number;
  private readonly lut: Float32Array | null;
  private readonly decode: Decoder | null;
  private readonly bits64: boolean;
  private readonly block: number;
  /** Copies of unaligned windows, one per side, allocated on first need. */
  private scratch: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];
  private readonly xa: Float64Array;
  private readonly xb: Float64Array;
  private readonly sums: BlockSums = { aa: 0, bb: 0, ab: 0, dd: 0, max: 0, changed: 0 };
  private readonly aa = new KahanSum();
  private readonly bb = new KahanSum();
  private readonly ab = new KahanSum();
  private readonly dd = new KahanSum();
  private elements = 0;
  private changed = 0;

  /**
   * Starts empty statistics for a tensor of this dtype; throws for dtypes
   * supportsStats rejects. `kernel` may fold a block of bf16 pairs instead of
   * the JS loop (a compiled one, say); where it returns false the loop runs.
   */
  constructor(
    dtype: string,
    private readonly kernel?: BlockKernel,
  ) {
    const info = dtypeInfo(dtype);
    if (!info) throw new Error(`tensor statistics do not support dtype ${JSON.stringify(dtype)}`);
    this.size = info.size;
    this.lut = 'lut' in info ? info.lut() : null;
    this.decode = 'decode' in info ? info.decode : null;
    this.bits64 = info.size === 8 && dtype.toLowerCase() !== 'f64';
    this.block = this.lut ? LUT_BLOCK : DECODE_BLOCK;
    this.xa = new Float64Array(this.lut ? 0 : DECODE_BLOCK);
    this.xb = new Float64Array(this.lut ? 0 : DECODE_BLOCK);
  }

  /** Adds the next window of both tensors: equal lengths, a multiple of the element size. */
  update(a: Uint8Array, b: Uint8Array): void {
    const size = this.size;
    if (a.length !== b.length) throw new RangeError(`tensor windows differ in length: ${a.length} vs ${b.length}`);
    if (a.length % size !== 0) throw new RangeError(`window of ${a.length} bytes is not a multiple of ${size}`);
    const n = a.length / size;
    const s = this.sums;
    for (let start = 0; start < n; start += this.block) {
      const m = Math.min(this.block, n - start);
      const lo = start * size;
      const hi = lo + m * size;
      const va = this.aligned(a, lo, hi, 0);
      const vb = this.aligned(b, lo, hi, 1);
      if (this.lut) {
        const x = new Uint16Array(va.buffer, va.byteOffset, m);
        const y = new Uint16Array(vb.buffer, vb.byteOffset, m);
        if (!this.kernel?.(x, y, m, s)) accumulateLut(this.lut, x, y, m, s);
      } else {
        this.decode!(va.buffer, va.byteOffset, m, this.xa);
        this.decode!(vb.buffer, vb.byteOffset, m, this.xb);
        accumulate(this.xa, this.xb, m, s);
        if (this.bits64) s.changed = countChanged64(va, vb, m);
      }
      this.aa.add(s.aa);
      this.bb.add(s.bb);
      this.ab.add(s.ab);
      this.dd.add(s.dd);
      this.changed += s.changed;
    }
    this.elements += n;
  }

  /** src[lo, hi) at an offset that suits typed-array views of the element size, in host byte order. */
  private aligned(src: Uint8Array, lo: number, hi: number, side: 0 | 1): Uint8Array {
    const size = this.size;
    if (LITTLE_ENDIAN && (src.byteOffset + lo) % size === 0) return src.subarray(lo, hi);
    if (this.scratch[side].length < this.block * size) this.scratch[side] = new Uint8Array(this.block * size);
    const region = this.scratch[side].subarray(0, hi - lo);
    region.set(src.subarray(lo, hi));
    if (!LITTLE_ENDIAN) swapBytes(region, size);
    return region;
  }

  /** The raw sums so far, to be combined with other accumulators' (e.g. from other threads). */
  partial(): DiffPartial {
    return {
      elements: this.elements,
      changed: this.changed,
      aa: this.aa.sum,
      bb: this.bb.sum,
      ab: this.ab.sum,
      dd: this.dd.sum,
      max: this.sums.max,
    };
  }

  /** The statistics of everything fed so far (may be called at any time). */
  result(): TensorDiffStats {
    return combineStats([this.partial()]);
  }
}

/** Raw sums of a TensorDiffAccumulator over part of a tensor; parts add up. */
export interface DiffPartial {
  elements: number;
  changed: number;
  aa: number;
  bb: number;
  ab: number;
  dd: number;
  max: number;
}

/** The statistics of a whole tensor from the partial sums of its pieces. */
export function combineStats(parts: DiffPartial[]): TensorDiffStats {
  const aa = new KahanSum();
  const bb = new KahanSum();
  const ab = new KahanSum();
  const dd = new KahanSum();
  let elements = 0;
  let changed = 0;
  let max = 0;
  for (const p of parts) {
    aa.add(p.aa);
    bb.add(p.bb);
    ab.add(p.ab);
    dd.add(p.dd);
    elements += p.elements;
    changed += p.changed;
    if (p.max > max || p.max !== p.max) max = p.max;
  }
  const normA = Math.sqrt(aa.sum);
  const normB = Math.sqrt(bb.sum);
  const diff = Math.sqrt(dd.sum);
  const relL2 = normA === 0 ? (diff === 0 ? 0 : Infinity) : diff / normA;
  let cosine: number;
  if (normA === 0 && normB === 0) cosine = 1;
  else if (normA === 0 || normB === 0) cosine = 0;
  else cosine = Math.max(-1, Math.min(1, ab.sum / (normA * normB)));
  return {
    elements,
    changed,
    fractionChanged: elements === 0 ? 0 : changed / elements,
    maxAbsDelta: max,
    relL2,
    cosine,
    normA,
    normB,
  };
}

function countChanged64(a: Uint8Array, b: Uint8Array, n: number): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  const ub = new Uint32Array(b.buffer, b.byteOffset, 2 * n);
  let changed = 0;
  for (let j = 0; j < 2 * n; j += 2) if (ua[j] !== ub[j] || ua[j + 1] !== ub[j + 1]) changed++;
  return changed;
}

/** Reverses each size-byte element in place (big-endian hosts only). */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let l = i, r = i + size - 1; l < r; l++, r--) {
      const t = bytes[l]!;
      bytes[l] = bytes[r]!;
      bytes[r] = t;
    }
  }
}
