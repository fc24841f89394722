/**
 * Fine-tune deltas: a chunk of a tensor whose parent version holds the same
 * tensor (name, dtype, shape, chunk size) may be stored as the difference
 * from the parent's chunk. The difference is taken element by element as
 * integers of the element's width (the bit patterns of bf16 / f16 / f32
 * values, or of 16- and 32-bit integers), modulo 2^width, zigzagged so that
 * small steps either way become small numbers; the bytes after the last whole
 * element differ bytewise. A small relative change of a float leaves its sign
 * and exponent alone and moves its mantissa a little: the high byte planes of
 * the difference are almost all zero and compress to nearly nothing.
 *
 * Applying is the exact inverse, so the chunk comes back bit for bit, and it
 * is still checked against its id after decoding.
 */
import type { GroupKind } from './bytegroup.js';
import { kernelMemory, ownKernels, type OwnKernels } from './kernelInstance.js';

/** A delta's base may itself be a delta, at most this many deep; a deeper chunk is stored whole. */
export const MAX_DELTA_DEPTH = 8;

/** Element widths deltas are taken at. */
export type DeltaWidth = 2 | 4;

/** The element width a tensor's byte grouping implies for deltas, or null when deltas do not apply. */
export function deltaWidth(kind: GroupKind | null | undefined): DeltaWidth | null {
  switch (kind) {
    case 'bf16':
    case 'f16':
    case 'w2':
      return 2;
    case 'f32':
    case 'w4':
      return 4;
    default:
      return null;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Element i of width w (little-endian), as an unsigned number. */
function load(b: Uint8Array, i: number, w: DeltaWidth): number {
  const j = i * w;
  return w === 2 ? b[j]! | (b[j + 1]! << 8) : (b[j]! | (b[j + 1]! << 8) | (b[j + 2]! << 16) | (b[j + 3]! << 24)) >>> 0;
}

function store(b: Uint8Array, i: number, w: DeltaWidth, v: number): void {
  const j = i * w;
  b[j] = v;
  b[j + 1] = v >>> 8;
  if (w === 4) {
    b[j + 2] = v >>> 16;
    b[j + 3] = v >>> 24;
  }
}

/** Typed views of whole elements when the host and the buffers allow it (the fast path). */
function views(w: DeltaWidth, ...bufs: Uint8Array[]): (Uint16Array | Uint32Array)[] | null {
  if (!LITTLE_ENDIAN || bufs.some((b) => b.byteOffset % w !== 0)) return null;
  const n = Math.floor(bufs[0]!.length / w);
  return bufs.map((b) =>
    w === 2 ? new Uint16Array(b.buffer, b.byteOffset, n) : new Uint32Array(b.buffer, b.byteOffset, n),
  );
}

/** Fewer elements than this are not worth copying into the WebAssembly kernels' memory. */
const WASM_MIN_ELEMENTS = 4096;
let wasm: OwnKernels | null | undefined;

/**
 * Runs diff or apply over n whole elements in WebAssembly SIMD (kernels.wat:
 * diff2/diff4/apply2/apply4, the loops below): the inputs are copied into the
 * kernels' own memory and the result copied out. False when the kernels are
 * not available (MVM_KERNELS=js, no SIMD) or n is small: the JS loops run.
 */
function wasmElements(
  op: 'diff' | 'apply',
  w: DeltaWidth,
  a: Uint8Array,
  b: Uint8Array,
  out: Uint8Array,
  n: number,
): boolean {
  if (n < WASM_MIN_ELEMENTS) return false;
  if (wasm === undefined) wasm = ownKernels();
  if (!wasm) return false;
  const bytes = n * w;
  const mem = kernelMemory(wasm, 3 * bytes);
  mem.set(a.subarray(0, bytes), 0);
  mem.set(b.subarray(0, bytes), bytes);
  (op === 'diff' ? (w === 2 ? wasm.diff2 : wasm.diff4) : w === 2 ? wasm.apply2 : wasm.apply4)(0, bytes, 2 * bytes, n);
  out.set(mem.subarray(2 * bytes, 3 * bytes));
  return true;
}

/**
 * Drops the delta kernels when their memory grew past `maxBytes` (it never shrinks); the next use makes a fresh
 * instance.
 */
export function releaseDeltaKernels(maxBytes: number): void {
  if (wasm && wasm.memory.buffer.byteLength > maxBytes) wasm = undefined;
}

/** out = zigzag(b - a) per element of width w; tail bytes (b - a) mod 256. All three have b's length. */
export function elementDiff(a: Uint8Array, b: Uint8Array, w: DeltaWidth, out: Uint8Array): void {
  const n = Math.floor(b.length / w);
  if (!wasmElements('diff', w, a, b, out, n)) diffJs(a, b, w, out, n);
  for (let j = n * w; j < b.length; j++) out[j] = (b[j]! - a[j]!) & 0xff;
}

/** out = a + unzigzag(diff) per element (the inverse of elementDiff). */
export function applyDiff(a: Uint8Array, diff: Uint8Array, w: DeltaWidth, out: Uint8Array): void {
  const n = Math.floor(diff.length / w);
  if (!wasmElements('apply', w, a, diff, out, n)) applyJs(a, diff, w, out, n);
  for (let j = n * w; j < diff.length; j++) out[j] = (a[j]! + diff[j]!) & 0xff;
}

/** elementDiff's n whole elements in JS (exported for the tests that hold the kernels to it). */
export function diffJs(a: Uint8Array, b: Uint8Array, w: DeltaWidth, out: Uint8Array, n: number): void {
  const v = views(w, a, b, out);
  if (v && w === 2) {
    const [x, y, z] = v as Uint16Array[];
    for (let i = 0; i < n; i++) {
      const d = ((y![i]! - x![i]!) << 16) >> 16;
      z![i] = (d << 1) ^ (d >> 15);
    }
  } else if (v) {
    const [x, y, z] = v as Uint32Array[];
    for (let i = 0; i < n; i++) {
      const d = (y![i]! - x![i]!) | 0;
      z![i] = (d << 1) ^ (d >> 31);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const d = w === 2 ? ((load(b, i, 2) - load(a, i, 2)) << 16) >> 16 : (load(b, i, 4) - load(a, i, 4)) | 0;
      store(out, i, w, w === 2 ? (d << 1) ^ (d >> 15) : ((d << 1) ^ (d >> 31)) >>> 0);
    }
  }
}

/** applyDiff's n whole elements in JS (exported for the tests that hold the kernels to it). */
export function applyJs(a: Uint8Array, diff: Uint8Array, w: DeltaWidth, out: Uint8Array, n: number): void {
  const v = views(w, a, diff, out);
  if (v && w === 2) {
    const [x, z, y] = v as Uint16Array[];
    for (let i = 0; i < n; i++) {
      const zz = z![i]!;
      y![i] = x![i]! + ((zz >>> 1) ^ -(zz & 1));
    }
  } else if (v) {
    const [x, z, y] = v as Uint32Array[];
    for (let i = 0; i < n; i++) {
      const zz = z![i]!;
      y![i] = x![i]! + ((zz >>> 1) ^ -(zz & 1));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const zz = load(diff, i, w);
      store(out, i, w, (load(a, i, w) + ((zz >>> 1) ^ -(zz & 1))) >>> 0);
    }
  }
}
