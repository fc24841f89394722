/**
 * GGUF v2/v3 (little-endian): magic "GGUF", u32 version, u64 tensor_count,
 * u64 metadata_kv_count, typed metadata KVs, tensor infos, then the data
 * section at the next multiple of `general.alignment` (default 32). Shapes
 * are reported in file order (ggml `ne`, innermost dimension first).
 */
import { lenient, ByteCursor, shapeElements, type ByteSource, type Layout, type TensorInfo } from './types.js';
import { NameBudget } from './names.js';
import { GGUF_MAX_HEADER, GGUF_MAX_NAME } from '../limits.js';

/** Block size (elements), bytes per block and canonical name of each ggml tensor type we can size. */
export const GGML_TYPES: ReadonlyMap<number, { name: string; block: number; bytes: number }> = new Map(
  (
    [
      [0, 'f32', 1, 4],
      [1, 'f16', 1, 2],
      [2, 'q4_0', 32, 18],
      [3, 'q4_1', 32, 20],
      [6, 'q5_0', 32, 22],
      [7, 'q5_1', 32, 24],
      [8, 'q8_0', 32, 34],
      [9, 'q8_1', 32, 36],
      [10, 'q2_k', 256, 84],
      [11, 'q3_k', 256, 110],
      [12, 'q4_k', 256, 144],
      [13, 'q5_k', 256, 176],
      [14, 'q6_k', 256, 210],
      [15, 'q8_k', 256, 292],
      [16, 'iq2_xxs', 256, 66],
      [17, 'iq2_xs', 256, 74],
      [18, 'iq3_xxs', 256, 98],
      [19, 'iq1_s', 256, 50],
      [20, 'iq4_nl', 32, 18],
      [21, 'iq3_s', 256, 110],
      [22, 'iq2_s', 256, 82],
      [23, 'iq4_xs', 256, 136],
      [24, 'i8', 1, 1],
      [25, 'i16', 1, 2],
      [26, 'i32', 1, 4],
      [27, 'i64', 1, 8],
      [28, 'f64', 1, 8],
      [29, 'iq1_m', 256, 56],
      [30, 'bf16', 1, 2],
      [34, 'tq1_0', 256, 54],
      [35, 'tq2_0', 256, 66],
      [39, 'mxfp4', 32, 17],
    ] as const
  ).map(([id, name, block, bytes]) => [id, { name, block, bytes }]),
);

/** Byte width of each fixed-size metadata value type (8 = string and 9 = array are variable). */
const VALUE_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const TYPE_STRING = 8;
const TYPE_ARRAY = 9;
const MAX_ARRAY_DEPTH = 8;
const MAX_DIMS = 8;
const ALIGNMENT_KEY = Buffer.from('general.alignment');

/** Parses a GGUF file's tensor map, or returns null when the bytes are not a valid GGUF v2/v3 file. */
export const parseGguf = lenient(parse);

async function parse(src: ByteSource): Promise<Layout | null> {
  const c = new ByteCursor(src);
  if (src.size < 24) return null;
  if (!(await c.bytes(4)).equals(Buffer.from('GGUF'))) return null;
  const version = await c.u32();
  if (version !== 2 && version !== 3) return null;
  const tensorCount = await c.u64();
  const kvCount = await c.u64();
  // Each KV is at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8 + 4 + 4 + 8.
  if (kvCount > c.remaining / 13 || tensorCount > c.remaining / 24) return null;

  let alignment = 32;
  for (let i = 0; i < kvCount; i++) {
    const keyLen = await c.u64();
    if (keyLen > GGUF_MAX_NAME) return null;
    const key = await c.bytes(keyLen);
    const isAlignment = key.equals(ALIGNMENT_KEY);
    const type = await c.u32();
    if (isAlignment) {
      const a = await readUnsigned(c, type);
      if (a === null || a <= 0 || a > 1 << 30 || (a & (a - 1)) !== 0) return null;
      alignment = a;
    } else {
      await skipValue(c, type, 0);
    }
    if (c.pos > GGUF_MAX_HEADER) return null;
  }

  const infos: { name: string; dims: number[]; type: number; offset: number }[] = [];
  const budget = new NameBudget();
  for (let i = 0; i < tensorCount; i++) {
    const nameLen = await c.u64();
    if (nameLen > GGUF_MAX_NAME) return null;
    const name = budget.takeBytes(await c.bytes(nameLen)) ?? `tensor${i}`;
    const nDims = await c.u32();
    if (nDims > MAX_DIMS) return null;
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(await c.u64());
    const type = await c.u32();
    const offset = await c.u64();
    infos.push({ name, dims, type, offset });
    if (c.pos > GGUF_MAX_HEADER) return null;
  }

  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  const tensors: TensorInfo[] = [];
  for (const { name, dims, type, offset } of infos) {
    const t = GGML_TYPES.get(type);
    const elements = shapeElements(dims);
    if (!t || elements === null) return null;
    if ((dims[0] ?? 1) % t.block !== 0) return null;
    const bytes = (elements / t.block) * t.bytes;
    const start = dataStart + offset;
    const end = start + bytes;
    if (!Number.isSafeInteger(end) || end > src.size) return null;
    tensors.push({ name, dtype: t.name, shape: dims, start, end });
  }
  return { format: 'gguf', tensors };
}

/** Reads an unsigned integer metadata value of any integer type; null for other types or negative values. */
async function readUnsigned(c: ByteCursor, type: number): Promise<number | null> {
  switch (type) {
    case 0:
      return c.u8();
    case 2: {
      const b = await c.bytes(2);
      return b.readUInt16LE(0);
    }
    case 4:
      return c.u32();
    case 10:
      return c.u64();
    case 1: {
      const b = await c.bytes(1);
      return nonNegative(b.readInt8(0));
    }
    case 3: {
      const b = await c.bytes(2);
      return nonNegative(b.readInt16LE(0));
    }
    case 5: {
      const b = await c.bytes(4);
      return nonNegative(b.readInt32LE(0));
    }
    case 11: {
      const b = await c.bytes(8);
      return nonNegative(Number(b.readBigInt64LE(0)));
    }
    default:
      await skipValue(c, type, 0);
      return null;
  }
}

function nonNegative(v: number): number | null {
  return v >= 0 && Number.isSafeInteger(v) ? v : null;
}

/** Skips one metadata value of the given type, throwing RangeError on unknown types or out-of-range lengths. */
export async function skipValue(c: ByteCursor, type: number, depth: number): Promise<void> {
  const fixed = VALUE_BYTES[type];
  if (fixed !== undefined) return c.skip(fixed);
  if (type === TYPE_STRING) return c.skip(await c.u64());
  if (type !== TYPE_ARRAY || depth >= MAX_ARRAY_DEPTH) throw new RangeError(`bad gguf value type ${type}`);
  const itemType = await c.u32();
  const count = await c.u64();
  if (VALUE_BYTES[itemType] === undefined && itemType !== TYPE_STRING && itemType !== TYPE_ARRAY) {
    throw new RangeError(`bad gguf array item type ${itemType}`);
  }
  const itemFixed = VALUE_BYTES[itemType];
  if (itemFixed !== undefined) return c.skip(count * itemFixed);
  // Strings take at least 8 bytes each, nested arrays at least 12.
  if (count > c.remaining / 8) throw new RangeError('gguf array too long');
  for (let i = 0; i < count; i++) {
    await skipValue(c, itemType, depth + 1);
    if (c.pos > GGUF_MAX_HEADER) throw new RangeError('gguf header too large');
  }
}
