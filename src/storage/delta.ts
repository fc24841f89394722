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
  return bufs.map((b) => (w === 2 ? new Uint16Array(b.buffer, b.byteOffset, n) : new Uint32Array(b.buffer, b.byteOffset, n)));
}

/** out = zigzag(b - a) per element of width w; tail bytes (b - a) mod 256. All three have b's length. */
export function elementDiff(a: Uint8Array, b: Uint8Array, w: DeltaWidth, out: Uint8Array): void {
  const n = Math.floor(b.length / w);
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
  for (let j = n * w; j < b.length; j++) out[j] = (b[j]! - a[j]!) & 0xff;
}

/** out = a + unzigzag(diff) per element (the inverse of elementDiff). */
export function applyDiff(a: Uint8Array, diff: Uint8Array, w: DeltaWidth, out: Uint8Array): void {
  const n = Math.floor(diff.length / w);
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
  for (let j = n * w; j < diff.length; j++) out[j] = (a[j]! + diff[j]!) & 0xff;
}
