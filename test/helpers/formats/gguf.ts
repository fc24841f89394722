/** A writer for GGUF fixtures. */
import { seededBytes } from '../data.js';
import { need, pad, u32, u64 } from './bytes.js';

/** (block elements, block bytes) of the ggml types the writer can size on its own. */
const GGML_SIZES: Record<number, [number, number]> = {
  0: [1, 4],
  1: [1, 2],
  2: [32, 18],
  3: [32, 20],
  6: [32, 22],
  7: [32, 24],
  8: [32, 34],
  9: [32, 36],
  10: [256, 84],
  11: [256, 110],
  12: [256, 144],
  13: [256, 176],
  14: [256, 210],
  15: [256, 292],
  24: [1, 1],
  25: [1, 2],
  26: [1, 4],
  27: [1, 8],
  28: [1, 8],
  30: [1, 2],
};

/** ggml tensor type ids by name, for readable fixtures. */
export const GGML = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  BF16: 30,
} as const;

/** GGUF metadata value type ids. */
const GV = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

/** A typed GGUF metadata value; plain strings, numbers (u32), booleans and string arrays are accepted as shorthands. */
export type GgufValue =
  | string
  | number
  | boolean
  | string[]
  | { type: Exclude<keyof typeof GV, 'array'>; value: number | bigint | boolean | string }
  | { type: 'array'; itemType: Exclude<keyof typeof GV, 'array'>; values: (number | bigint | boolean | string)[] }
  | { type: 'array'; itemType: 'array'; values: GgufValue[] };

/**
 * One tensor for writeGguf; dims are in ggml order (innermost first); `data` defaults to seeded bytes of the right
 * size; `offset` overrides the declared data offset (to build bad files).
 */
export interface GgufTensor {
  name: string;
  type: number;
  dims: number[];
  data?: Buffer;
  offset?: number;
}

/** Options for writeGguf. */
export interface GgufOptions {
  version?: number;
  /** Written as a u32 `general.alignment` KV when given; 32 otherwise. */
  alignment?: number;
  metadata?: Record<string, GgufValue>;
  tensors: GgufTensor[];
}

/** A valid GGUF file (v3 by default) with the given metadata and tensors laid out in order, each aligned. */
export function writeGguf(opts: GgufOptions): Buffer {
  const align = opts.alignment ?? 32;
  const kvs: [string, GgufValue][] = Object.entries(opts.metadata ?? {});
  if (opts.alignment !== undefined) kvs.unshift(['general.alignment', { type: 'u32', value: opts.alignment }]);
  const out: Buffer[] = [Buffer.from('GGUF'), u32(opts.version ?? 3), u64(opts.tensors.length), u64(kvs.length)];
  for (const [k, v] of kvs) out.push(ggufString(k), ggufValue(v, true));

  const datas = opts.tensors.map((t, i) => {
    if (t.data) return t.data;
    const [block, bytes] = need(GGML_SIZES[t.type], `ggml type ${t.type}`);
    return seededBytes((t.dims.reduce((a, b) => a * b, 1) / block) * bytes, 200 + i);
  });
  let offset = 0;
  const offsets: number[] = [];
  opts.tensors.forEach((t, i) => {
    out.push(ggufString(t.name), u32(t.dims.length), ...t.dims.map(u64), u32(t.type), u64(t.offset ?? offset));
    offsets.push(offset);
    offset = pad(offset + datas[i]!.length, align);
  });
  const head = Buffer.concat(out);
  const data = Buffer.alloc(offset);
  datas.forEach((d, i) => d.copy(data, offsets[i]));
  return Buffer.concat([head, Buffer.alloc(pad(head.length, align) - head.length), data]);
}

function ggufValue(v: GgufValue, withType: boolean): Buffer {
  if (typeof v === 'string') return ggufValue({ type: 'string', value: v }, withType);
  if (typeof v === 'number') return ggufValue({ type: 'u32', value: v }, withType);
  if (typeof v === 'boolean') return ggufValue({ type: 'bool', value: v }, withType);
  if (Array.isArray(v)) return ggufValue({ type: 'array', itemType: 'string', values: v }, withType);
  const typeTag = withType ? [u32(GV[v.type])] : [];
  if (v.type === 'array') {
    const items = v.values.map((x) =>
      v.itemType === 'array'
        ? ggufValue(x as GgufValue, false)
        : ggufValue({ type: v.itemType, value: x } as GgufValue, false),
    );
    return Buffer.concat([...typeTag, u32(GV[v.itemType]), u64(v.values.length), ...items]);
  }
  return Buffer.concat([...typeTag, scalar(v.type, v.value)]);
}

/** A scalar's value as the writers take it. */
type Scalar = number | bigint | boolean | string;

/** Size in bytes and writer of each fixed-size GGUF scalar type. */
const SCALARS: Record<Exclude<keyof typeof GV, 'array' | 'string'>, [number, (b: Buffer, v: Scalar) => void]> = {
  u8: [1, (b, v) => b.writeUInt8(Number(v))],
  bool: [1, (b, v) => b.writeUInt8(Number(v))],
  i8: [1, (b, v) => b.writeInt8(Number(v))],
  u16: [2, (b, v) => b.writeUInt16LE(Number(v))],
  i16: [2, (b, v) => b.writeInt16LE(Number(v))],
  u32: [4, (b, v) => b.writeUInt32LE(Number(v))],
  i32: [4, (b, v) => b.writeInt32LE(Number(v))],
  f32: [4, (b, v) => b.writeFloatLE(Number(v))],
  u64: [8, (b, v) => b.writeBigUInt64LE(BigInt(v))],
  i64: [8, (b, v) => b.writeBigInt64LE(BigInt(v))],
  f64: [8, (b, v) => b.writeDoubleLE(Number(v))],
};

function scalar(type: Exclude<keyof typeof GV, 'array'>, value: Scalar): Buffer {
  if (type === 'string') return ggufString(String(value));
  const [size, write] = SCALARS[type];
  const b = Buffer.alloc(size);
  write(b, value);
  return b;
}

function ggufString(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([u64(b.length), b]);
}
