/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {...}}`,
 * then the data section; data offsets are relative to 8 + N.
 */
import { lenient, shapeElements, type ByteSource, type Layout, type TensorInfo } from './types.js';
import { scanObjectEntries } from './jsonScan.js';
import { TensorList, type PackingLimits } from './tensorList.js';
import { MAX_LISTED_TENSORS, SAFETENSORS_MAX_HEADER } from '../limits.js';

/** Bits per element of each safetensors dtype (upper-case, as written in the file). */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  I64: 64,
  U64: 64,
  F64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
};

/** Parses a safetensors file's tensor map, or returns null when the bytes are not a valid safetensors file. */
export const parseSafetensors = lenient((src) => parse(src));

async function parse(src: ByteSource, limits?: PackingLimits): Promise<Layout | null> {
  if (src.size < 10) return null;
  const head = await src.read(0, 9);
  if (head.length < 9 || head[8] !== 0x7b /* '{' */) return null;
  const n = head.readBigUInt64LE(0);
  if (n < 2n || n > BigInt(SAFETENSORS_MAX_HEADER) || 8n + n > BigInt(src.size)) return null;
  const headerLen = Number(n);
  const dataStart = 8 + headerLen;
  // the header is read entry by entry: a million tensors never become one parsed object
  const list = new TensorList(limits);
  const names = new Set<string>();
  const ok = await scanObjectEntries(src, 8, headerLen, (name, info) => {
    if (name === '__metadata__') return true;
    const t = tensorOf(name, info, dataStart, src.size);
    if (!t || !list.add(t)) return false;
    // a name given twice is not a valid header; names are remembered while they are listed
    if (list.count <= (limits?.maxListed ?? MAX_LISTED_TENSORS)) {
      if (names.has(name)) return false;
      names.add(name);
    } else names.clear();
    return true;
  });
  return ok ? list.layout('safetensors') : null;
}

/** parseSafetensors with other packing limits (for tests). */
export const parseSafetensorsWith = (limits: PackingLimits) => lenient((src) => parse(src, limits));

function tensorOf(name: string, info: unknown, dataStart: number, size: number): TensorInfo | null {
  if (!isObject(info)) return null;
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string' || dtype.length === 0 || dtype.length > 32) return null;
  if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) return null;
  const elements = shapeElements(shape);
  if (elements === null) return null;
  const [begin, end] = offsets as unknown[];
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end)) return null;
  const b = begin as number;
  const e = end as number;
  if (b < 0 || e < b || dataStart + e > size) return null;
  const bits = DTYPE_BITS[dtype];
  if (bits !== undefined) {
    const totalBits = elements * bits;
    if (!Number.isSafeInteger(totalBits) || totalBits % 8 !== 0 || totalBits / 8 !== e - b) return null;
  }
  return {
    name,
    dtype: dtype.toLowerCase(),
    shape: [...(shape as number[])],
    start: dataStart + b,
    end: dataStart + e,
  };
}

/**
 * Parses a sharded model's `model.safetensors.index.json`, returning its weight_map (tensor name -> shard file) or
 * null.
 */
export function parseSafetensorsIndex(json: string): Record<string, string> | null {
  try {
    const doc: unknown = JSON.parse(json);
    if (!isObject(doc) || !isObject(doc.weight_map)) return null;
    const entries = Object.entries(doc.weight_map);
    if (!entries.every(([, file]) => typeof file === 'string')) return null;
    return Object.fromEntries(entries) as Record<string, string>;
  } catch {
    return null;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
