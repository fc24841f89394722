/**
 * NumPy arrays: `.npy` (a magic, a header that is a Python dict literal
 * naming dtype, order and shape, padded to 64 bytes, then the data) and
 * `.npz` (a zip of `.npy` files, as `np.savez` writes it). Each array is one
 * tensor; its data starts after its own header. `np.savez_compressed`
 * deflates the entries, so such a file is not a layout. Only simple dtypes
 * are recognised (numbers, bool, complex as C64 and C128): a structured,
 * string or object array is not a tensor (a `.npy` of one is a plain file; in
 * a `.npz` its entry stays plain data between the other arrays' tensors).
 */
import { entryRange, zipEntries } from './pytorch.js';
import { lenient, type ByteSource, type Layout, type TensorInfo } from './types.js';
import { NUMPY_MAX_HEADER } from '../limits.js';

const MAGIC = '\x93NUMPY';

/** NumPy type characters and sizes -> our dtype names (those the byte-plane kernels know where they apply). */
const KINDS: Record<string, string> = {
  f2: 'F16',
  f4: 'F32',
  f8: 'F64',
  i1: 'I8',
  u1: 'U8',
  b1: 'BOOL',
  i2: 'I16',
  u2: 'U16',
  i4: 'I32',
  u4: 'U32',
  i8: 'I64',
  u8: 'U64',
  c8: 'C64',
  c16: 'C128',
};

/** One array's header: dtype, shape and where its data lies, relative to the start of the `.npy` bytes. */
interface NpyHeader {
  dtype: string;
  shape: number[];
  dataStart: number;
  dataLength: number;
}

/** Reads a `.npy` header at `offset` of `src`; null when it is not one or names a dtype we do not handle. */
async function readNpyHeader(src: ByteSource, offset: number, limit: number): Promise<NpyHeader | null> {
  const pre = await src.read(offset, 12);
  if (pre.length < 10 || pre.toString('latin1', 0, 6) !== MAGIC) return null;
  const major = pre[6]!;
  let len: number;
  let at: number;
  if (major === 1) {
    len = pre.readUInt16LE(8);
    at = 10;
  } else if (major === 2 || major === 3) {
    if (pre.length < 12) return null;
    len = pre.readUInt32LE(8);
    at = 12;
  } else return null;
  if (len > NUMPY_MAX_HEADER || offset + at + len > limit) return null;
  const text = (await src.read(offset + at, len)).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /['"]descr['"]\s*:\s*['"]([<>|=]?)([a-z])(\d+)['"]/.exec(text);
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !shapeText || !/['"]fortran_order['"]\s*:\s*(True|False)/.test(text)) return null;
  const [, order, kind, size] = descr;
  const base = KINDS[`${kind}${size}`];
  if (!base) return null;
  // big-endian arrays keep their tensor boundaries but get a dtype of their own (no byte planes)
  const dtype = order === '>' && Number(size) > 1 ? `${base}_BE` : base;
  const parts = shapeText[1]!
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (!parts.every((p) => /^\d+$/.test(p))) return null;
  const shape = parts.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataLength = count * Number(size);
  if (!Number.isSafeInteger(dataLength)) return null;
  return { dtype, shape, dataStart: at + len, dataLength };
}

async function parseNpyFile(src: ByteSource): Promise<Layout | null> {
  const h = await readNpyHeader(src, 0, src.size);
  if (!h || h.dataStart + h.dataLength !== src.size) return null;
  return {
    format: 'numpy',
    tensors: [{ name: 'array', dtype: h.dtype, shape: h.shape, start: h.dataStart, end: src.size }],
  };
}

async function parseNpzFile(src: ByteSource): Promise<Layout | null> {
  const entries = await zipEntries(src);
  if (!entries || entries.length === 0 || !entries.every((e) => e.name.endsWith('.npy'))) return null;
  const tensors: TensorInfo[] = [];
  for (const e of entries) {
    // a deflated entry, or an array that is no tensor (strings, records, objects), stays plain data
    if (!e.stored) continue;
    const r = await entryRange(src, e);
    if (!r) return null;
    const h = await readNpyHeader(src, r.start, r.end);
    if (!h || r.start + h.dataStart + h.dataLength !== r.end) continue;
    tensors.push({
      name: e.name.slice(0, -'.npy'.length),
      dtype: h.dtype,
      shape: h.shape,
      start: r.start + h.dataStart,
      end: r.end,
    });
  }
  return tensors.length > 0 ? { format: 'numpy', tensors } : null;
}

/** A `.npy` file's single array as a layout, or null. */
export const parseNpy = lenient(parseNpyFile);

/**
 * The arrays of a `.npz` file's stored entries as a layout, or null (not a zip of `.npy` files only, or no such
 * array: `np.savez_compressed` deflates every entry).
 */
export const parseNpz = lenient(parseNpzFile);
