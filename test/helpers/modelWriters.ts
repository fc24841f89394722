/**
 * Writers for tiny but valid model files (safetensors, GGUF, PyTorch zip,
 * ONNX) used as test fixtures, plus deterministic data generators. They are
 * written independently of src/core/formats so the parsers are checked
 * against a second implementation of each format.
 */
import zlib from 'node:zlib';
import { expect } from 'vitest';
import type { ByteSource, Layout } from '../../src/core/formats/types.js';

/** Re-export of the core Buffer-backed ByteSource, for tests. */
export { bufferSource } from '../../src/core/formats/types.js';

// ---------------------------------------------------------------- data

/** A deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` deterministic pseudo-random bytes. */
export function seededBytes(n: number, seed = 1): Buffer {
  const rnd = prng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

/** `count` bf16 values drawn from N(0, std²), deterministic in `seed`, as little-endian bytes. */
export function randomBf16(count: number, std = 0.02, seed = 1): Buffer {
  const rnd = prng(seed);
  const out = Buffer.alloc(count * 2);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < count; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - rnd()));
    f[0] = std * r * Math.cos(2 * Math.PI * rnd());
    const bits = u[0]!;
    out.writeUInt16LE(((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff, i * 2);
  }
  return out;
}

/** A ByteSource of `size` bytes produced by `fill` on demand (for huge virtual files), counting bytes read. */
export function virtualSource(
  size: number,
  fill: (offset: number, length: number) => Buffer,
): ByteSource & { bytesRead: number } {
  const src = {
    size,
    bytesRead: 0,
    async read(offset: number, length: number): Promise<Buffer> {
      const n = Math.max(0, Math.min(length, size - offset));
      src.bytesRead += n;
      return fill(offset, n);
    },
  };
  return src;
}

// ---------------------------------------------------------------- safetensors

/** Bytes per element of the safetensors dtypes the writer can size on its own. */
const ST_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** One tensor for writeSafetensors; `data` defaults to seeded bytes of the right size. */
export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  data?: Buffer;
}

/** A valid safetensors file holding `tensors` in order, with an optional `__metadata__`. */
export function writeSafetensors(tensors: SafetensorsTensor[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Buffer[] = [];
  let offset = 0;
  tensors.forEach((t, i) => {
    const data = t.data ?? seededBytes(t.shape.reduce((a, b) => a * b, 1) * need(ST_BYTES[t.dtype], t.dtype), 100 + i);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  });
  return safetensorsFromHeader(header, Buffer.concat(parts));
}

/**
 * A safetensors file with an arbitrary header (object or raw JSON text, space-padded to 8 bytes) followed by `data`.
 */
export function safetensorsFromHeader(header: unknown, data: Buffer): Buffer {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while (Buffer.byteLength(json) % 8 !== 0) json += ' ';
  const h = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

// ---------------------------------------------------------------- GGUF

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

function scalar(type: Exclude<keyof typeof GV, 'array'>, value: number | bigint | boolean | string): Buffer {
  if (type === 'string') return ggufString(String(value));
  const b = Buffer.alloc(
    type === 'u64' || type === 'i64' || type === 'f64' ? 8 : type.endsWith('32') ? 4 : type.endsWith('16') ? 2 : 1,
  );
  switch (type) {
    case 'u8':
    case 'bool':
      b.writeUInt8(Number(value));
      break;
    case 'i8':
      b.writeInt8(Number(value));
      break;
    case 'u16':
      b.writeUInt16LE(Number(value));
      break;
    case 'i16':
      b.writeInt16LE(Number(value));
      break;
    case 'u32':
      b.writeUInt32LE(Number(value));
      break;
    case 'i32':
      b.writeInt32LE(Number(value));
      break;
    case 'f32':
      b.writeFloatLE(Number(value));
      break;
    case 'u64':
      b.writeBigUInt64LE(BigInt(value));
      break;
    case 'i64':
      b.writeBigInt64LE(BigInt(value));
      break;
    case 'f64':
      b.writeDoubleLE(Number(value));
      break;
  }
  return b;
}

function ggufString(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([u64(b.length), b]);
}

// ---------------------------------------------------------------- PyTorch zip

/** One storage for writeTorchZip: written as `<archive>/data/<key>`. */
export interface TorchStorage {
  key: string;
  data: Buffer;
}

/** Options for writeTorchZip. */
export interface TorchZipOptions {
  /** Archive folder name (torch uses the file stem or "archive"). */
  archive?: string;
  /** Deflate the data entries (torch never does; mvm must then refuse the layout). */
  compress?: boolean;
  /** Write ZIP64 central directory extras and end records, as torch does for large files. */
  zip64?: boolean;
  /** Align each entry's data to this many bytes with an "FB" padding extra field, like torch (default 64). */
  align?: number;
  /** Omit data.pkl (then it is not a torch checkpoint). */
  omitPickle?: boolean;
  /** The data.pkl to write (default: an empty dict, which names no storage); see test/helpers/torch.ts. */
  pickle?: Buffer;
}

/**
 * A real ZIP laid out like torch.save output: data.pkl, byteorder, data/<key>..., version, all STORED with correct
 * CRCs.
 */
export function writeTorchZip(storages: TorchStorage[], opts: TorchZipOptions = {}): Buffer {
  const archive = opts.archive ?? 'archive';
  const files: ZipFile[] = [];
  if (!opts.omitPickle)
    files.push({
      name: `${archive}/data.pkl`,
      data: opts.pickle ?? Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]),
      compress: false,
    });
  files.push({ name: `${archive}/byteorder`, data: Buffer.from('little'), compress: false });
  for (const s of storages)
    files.push({ name: `${archive}/data/${s.key}`, data: s.data, compress: opts.compress === true });
  files.push({ name: `${archive}/version`, data: Buffer.from('3\n'), compress: false });

  return writeZip(files, { zip64: opts.zip64, align: opts.align ?? 64 });
}

/** One file of writeZip. */
export interface ZipFile {
  name: string;
  data: Buffer;
  /** Deflate it (method 8) instead of storing it. */
  compress: boolean;
}

/**
 * A ZIP of `files`, STORED unless asked to deflate, with correct CRCs; `align` pads each entry's data start with an
 * "FB" extra field.
 */
export function writeZip(files: ZipFile[], opts: { zip64?: boolean; align?: number } = {}): Buffer {
  const align = opts.align ?? 1;
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const deflate = f.compress;
    const body = deflate ? zlib.deflateRawSync(f.data) : f.data;
    const base = offset + 30 + name.length + 4;
    const padLen = (align - (base % align)) % align;
    const extra = Buffer.alloc(4 + padLen, 'Z');
    extra.writeUInt16LE(0x4246, 0); // "FB"
    extra.writeUInt16LE(padLen, 2);
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(opts.zip64 ? 45 : 20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    parts.push(local, name, extra, body);

    const z64 = opts.zip64
      ? Buffer.concat([u16(1), u16(24), u64(f.data.length), u64(body.length), u64(offset)])
      : Buffer.alloc(0);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(opts.zip64 ? 45 : 20, 4);
    cen.writeUInt16LE(opts.zip64 ? 45 : 20, 6);
    cen.writeUInt16LE(0, 8);
    cen.writeUInt16LE(deflate ? 8 : 0, 10);
    cen.writeUInt16LE(0, 12);
    cen.writeUInt16LE(0x21, 14);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(opts.zip64 ? 0xffffffff : body.length, 20);
    cen.writeUInt32LE(opts.zip64 ? 0xffffffff : f.data.length, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt16LE(z64.length, 30);
    cen.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 42);
    central.push(cen, name, z64);
    offset += 30 + name.length + extra.length + body.length;
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  const tail: Buffer[] = [];
  if (opts.zip64) {
    const z64Pos = cdOffset + cd.length;
    tail.push(
      Buffer.concat([
        u32(0x06064b50),
        u64(44),
        u16(45),
        u16(45),
        u32(0),
        u32(0),
        u64(files.length),
        u64(files.length),
        u64(cd.length),
        u64(cdOffset),
      ]),
      Buffer.concat([u32(0x07064b50), u32(0), u64(z64Pos), u32(1)]),
    );
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : files.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : files.length, 10);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cdOffset, 16);
  return Buffer.concat([...parts, cd, ...tail, eocd]);
}

/** CRC-32 (IEEE), via node:zlib when available (Node >= 20.15) and a table otherwise. */
export function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (d: Buffer) => number }).crc32;
  if (typeof native === 'function') return native(data) >>> 0;
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

// ---------------------------------------------------------------- ONNX

/**
 * One initializer for writeOnnx: `raw` goes to raw_data; `floatData` instead writes float_data; `external` marks it
 * EXTERNAL.
 */
export interface OnnxInitializer {
  name: string;
  dataType: number;
  dims: number[];
  raw?: Buffer;
  floatData?: number[];
  /** Kept in an external-data file: `true` is `weights.bin` with no offset or length entries. */
  external?: boolean | { location: string; offset?: number; length?: number };
}

/** Options for writeOnnx. */
export interface OnnxOptions {
  irVersion?: number | null;
  graphName?: string;
  /** Write dims as one packed field instead of one varint field per dim (proto2 default). */
  packedDims?: boolean;
  /** More NodeProto payloads for the graph (see onnxConstant, onnxIf). */
  nodes?: Buffer[];
}

/** A TensorProto payload. */
export function onnxTensor(t: OnnxInitializer, packedDims = false, named = true): Buffer {
  const dims = packedDims
    ? pbBytes(1, Buffer.concat(t.dims.map(varint)))
    : Buffer.concat(t.dims.map((d) => pbVarint(1, d)));
  const fields = [dims, pbVarint(2, t.dataType)];
  if (t.floatData) {
    const f = Buffer.alloc(t.floatData.length * 4);
    t.floatData.forEach((x, i) => f.writeFloatLE(x, i * 4));
    fields.push(pbBytes(4, f));
  }
  if (named) fields.push(pbBytes(8, Buffer.from(t.name)));
  if (t.raw) fields.push(pbBytes(9, t.raw));
  if (t.external) {
    const e = t.external === true ? { location: 'weights.bin' } : t.external;
    const entry = (k: string, v: string) =>
      pbBytes(13, Buffer.concat([pbBytes(1, Buffer.from(k)), pbBytes(2, Buffer.from(v))]));
    fields.push(entry('location', e.location));
    if (e.offset !== undefined) fields.push(entry('offset', String(e.offset)));
    if (e.length !== undefined) fields.push(entry('length', String(e.length)));
    fields.push(pbVarint(14, 1));
  }
  return Buffer.concat(fields);
}

/** A `Constant` NodeProto payload whose `value` attribute holds `t` (exporters leave the tensor unnamed). */
export function onnxConstant(output: string, t: OnnxInitializer): Buffer {
  const attr = Buffer.concat([
    pbBytes(1, Buffer.from('value')),
    pbBytes(5, onnxTensor(t, false, t.name !== '')),
    pbVarint(20, 4),
  ]);
  return Buffer.concat([pbBytes(2, Buffer.from(output)), pbBytes(4, Buffer.from('Constant')), pbBytes(5, attr)]);
}

/** An `If` NodeProto payload whose then_branch subgraph holds `initializers` and `nodes`. */
export function onnxIf(name: string, initializers: OnnxInitializer[], nodes: Buffer[] = []): Buffer {
  const graph = Buffer.concat([
    ...nodes.map((n) => pbBytes(1, n)),
    pbBytes(2, Buffer.from(`${name}_then`)),
    ...initializers.map((t) => pbBytes(5, onnxTensor(t))),
  ]);
  const attr = Buffer.concat([pbBytes(1, Buffer.from('then_branch')), pbBytes(6, graph), pbVarint(20, 5)]);
  return Buffer.concat([
    pbBytes(1, Buffer.from('cond')),
    pbBytes(2, Buffer.from(`${name}_out`)),
    pbBytes(3, Buffer.from(name)),
    pbBytes(4, Buffer.from('If')),
    pbBytes(5, attr),
  ]);
}

/** A valid ONNX ModelProto (ir_version, producer, opset 17, one Identity node) whose graph holds the initializers. */
export function writeOnnx(initializers: OnnxInitializer[], opts: OnnxOptions = {}): Buffer {
  const tensors = initializers.map((t) => pbBytes(5, onnxTensor(t, opts.packedDims)));
  const node = pbBytes(
    1,
    Buffer.concat([
      pbBytes(1, Buffer.from('x')),
      pbBytes(2, Buffer.from('y')),
      pbBytes(3, Buffer.from('id0')),
      pbBytes(4, Buffer.from('Identity')),
    ]),
  );
  const graph = Buffer.concat([
    node,
    ...(opts.nodes ?? []).map((n) => pbBytes(1, n)),
    pbBytes(2, Buffer.from(opts.graphName ?? 'g')),
    ...tensors,
    pbBytes(11, pbBytes(1, Buffer.from('x'))),
    pbBytes(12, pbBytes(1, Buffer.from('y'))),
  ]);
  const irVersion = opts.irVersion === undefined ? 8 : opts.irVersion;
  return Buffer.concat([
    irVersion === null ? Buffer.alloc(0) : pbVarint(1, irVersion),
    pbBytes(2, Buffer.from('mvm-test')),
    pbBytes(7, graph),
    pbBytes(8, Buffer.concat([pbBytes(1, Buffer.from('')), pbVarint(2, 17)])),
  ]);
}

/** A protobuf varint (non-negative integers up to 2^53). */
export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A protobuf varint field. */
export function pbVarint(field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

/** A protobuf length-delimited field. */
export function pbBytes(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}

// ---------------------------------------------------------------- bytes

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function pad(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`modelWriters: cannot size ${what}; pass data`);
  return v;
}

/**
 * Asserts the invariants every layout a parser returns must satisfy: integer, sorted, non-overlapping ranges within the
 * file.
 */
export function expectWellFormed(layout: Layout, size: number): void {
  let prevEnd = 0;
  for (const t of layout.tensors) {
    expect(Number.isSafeInteger(t.start) && Number.isSafeInteger(t.end)).toBe(true);
    expect(t.start).toBeGreaterThanOrEqual(prevEnd);
    expect(t.end).toBeGreaterThanOrEqual(t.start);
    expect(t.end).toBeLessThanOrEqual(size);
    prevEnd = t.end;
  }
}

/** A `.npy` file: magic, version, the header dict padded to 64 bytes, then `data`. */
export function writeNpy(
  descr: string,
  shape: number[],
  data: Buffer,
  opts: { version?: 1 | 2 | 3; fortran?: boolean } = {},
): Buffer {
  const v = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const descrText = descr.startsWith('[') ? descr : `'${descr}'`;
  const dict = `{'descr': ${descrText}, 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const pre = v === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - pre - 1, ' ') + '\n';
  const head = Buffer.alloc(pre);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = v;
  if (v === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

/** A `.npz` file as np.savez writes it (STORED entries), or as savez_compressed does (`compress`). */
export function writeNpz(arrays: { name: string; npy: Buffer }[], opts: { compress?: boolean } = {}): Buffer {
  return writeZip(arrays.map((a) => ({ name: `${a.name}.npy`, data: a.npy, compress: opts.compress === true })));
}

/**
 * One variable of a TensorFlow tensor bundle index (dtype is the TensorFlow DataType enum: 1 float, 14 bfloat16, 7
 * string...).
 */
export interface BundleVar {
  name: string;
  dtype: number;
  shape: number[];
  shard?: number;
  offset: number;
  size: number;
  /** A sliced variable's whole: no bytes of its own. */
  sliced?: boolean;
}

/**
 * A `<prefix>.index` file as TensorFlow's BundleWriter writes it: a LevelDB
 * table, uncompressed, keys sorted, restart points every `restartEvery`
 * entries, `perBlock` entries per data block; the header entry under "".
 */
export function writeBundleIndex(vars: BundleVar[], opts: { restartEvery?: number; perBlock?: number } = {}): Buffer {
  const restartEvery = opts.restartEvery ?? 16;
  const perBlock = opts.perBlock ?? 1000;
  const entryProto = (v: BundleVar) =>
    Buffer.concat([
      pbVarint(1, v.dtype),
      pbBytes(2, Buffer.concat(v.shape.map((d) => pbBytes(2, pbVarint(1, d))))),
      ...(v.shard ? [pbVarint(3, v.shard)] : []),
      pbVarint(4, v.offset),
      pbVarint(5, v.size),
      Buffer.from([0x35, 1, 2, 3, 4]), // crc32c, fixed32: skipped by readers that do not check it
      ...(v.sliced ? [pbBytes(7, Buffer.alloc(0))] : []),
    ]);
  const sorted: [Buffer, Buffer][] = [
    [Buffer.alloc(0), Buffer.concat([pbVarint(1, 1), pbVarint(2, 0)])],
    ...[...vars]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((v): [Buffer, Buffer] => [Buffer.from(v.name), entryProto(v)]),
  ];
  const blockOf = (items: [Buffer, Buffer][]) => {
    const parts: Buffer[] = [];
    const restarts: number[] = [];
    let size = 0;
    let prev = Buffer.alloc(0);
    items.forEach(([k, v], i) => {
      let shared = 0;
      if (i % restartEvery === 0) restarts.push(size);
      else while (shared < prev.length && shared < k.length && prev[shared] === k[shared]) shared++;
      const e = Buffer.concat([varint(shared), varint(k.length - shared), varint(v.length), k.subarray(shared), v]);
      parts.push(e);
      size += e.length;
      prev = k;
    });
    if (!restarts.length) restarts.push(0);
    const tail = Buffer.alloc(restarts.length * 4 + 4);
    restarts.forEach((r, i) => tail.writeUInt32LE(r, i * 4));
    tail.writeUInt32LE(restarts.length, restarts.length * 4);
    return Buffer.concat([...parts, tail]);
  };
  const out: Buffer[] = [];
  let pos = 0;
  const put = (b: Buffer) => {
    const handle = Buffer.concat([varint(pos), varint(b.length)]);
    out.push(b, Buffer.from([0, 0, 0, 0, 0])); // type 0 (none) and a CRC readers may skip
    pos += b.length + 5;
    return handle;
  };
  const index: [Buffer, Buffer][] = [];
  for (let i = 0; i < sorted.length; i += perBlock) {
    const items = sorted.slice(i, i + perBlock);
    index.push([items[items.length - 1]![0], put(blockOf(items))]);
  }
  const meta = put(blockOf([]));
  const idx = put(blockOf(index));
  const footer = Buffer.alloc(48);
  Buffer.concat([meta, idx]).copy(footer);
  footer.writeBigUInt64LE(0xdb4775248b80fb57n, 40);
  return Buffer.concat([...out, footer]);
}

/** One tensor of a TFLite model written by writeTflite: `data` makes it a constant (its own buffer). */
export interface TfliteTensor {
  name: string;
  /** TFLite TensorType: 0 FLOAT32, 1 FLOAT16, 2 INT32, 3 UINT8, 9 INT8, 17 BFLOAT16... */
  type: number;
  shape: number[];
  data?: Buffer;
}

/**
 * A TFLite FlatBuffer (identifier TFL3) with one subgraph holding `tensors`;
 * each tensor with data gets a buffer (data vectors aligned to 16, as the
 * converter writes them), buffer 0 being the empty sentinel.
 */
export function writeTflite(tensors: TfliteTensor[]): Buffer {
  const b = Buffer.alloc(4096 + tensors.reduce((s, t) => s + (t.data?.length ?? 0) + 256 + t.name.length, 0));
  let pos = 0;
  const align = (n: number) => {
    while (pos % n) pos++;
  };
  const u32 = (v: number) => {
    b.writeUInt32LE(v, pos);
    pos += 4;
  };
  /** Points the uoffset at `at` to the current position. */
  const patch = (at: number) => b.writeUInt32LE(pos - at, at);
  /** Writes a vtable and its table; fields are [slot, bytes, value]; returns where each field landed. */
  const table = (slots: number, fields: [slot: number, bytes: 1 | 4, value: number][]) => {
    align(2);
    const vt = pos;
    // every field takes 4 bytes (a u8 in the low byte), which the schema allows
    const size = 4 + 4 * fields.length;
    b.writeUInt16LE(4 + 2 * slots, pos);
    b.writeUInt16LE(size, pos + 2);
    let off = 4;
    const at = new Map<number, number>();
    for (const [slot] of fields) {
      b.writeUInt16LE(off, vt + 4 + 2 * slot);
      off += 4;
    }
    pos = vt + 4 + 2 * slots;
    align(4);
    const t = pos;
    b.writeInt32LE(t - vt, pos);
    pos += 4;
    fields.forEach(([slot, bytes, value]) => {
      at.set(slot, pos);
      if (bytes === 1) b.writeUInt8(value, pos);
      else b.writeUInt32LE(value, pos);
      pos += 4;
    });
    return { table: t, at };
  };
  /** Points the uoffset at `at` to `target`. */
  const ref = (at: number, target: number) => b.writeUInt32LE(target - at, at);
  u32(0); // root offset, patched below
  b.write('TFL3', 4, 'latin1');
  pos = 8;
  const { table: modelTable, at: model } = table(5, [
    [0, 4, 3],
    [2, 4, 0],
    [4, 4, 0],
  ]);
  ref(0, modelTable);
  // subgraphs: [one subgraph]
  align(4);
  patch(model.get(2)!);
  u32(1);
  const sgRef = pos;
  u32(0);
  const { table: sgTable, at: sg } = table(1, [[0, 4, 0]]);
  ref(sgRef, sgTable);
  align(4);
  patch(sg.get(0)!);
  u32(tensors.length);
  const tensorRefs = tensors.map(() => {
    const p = pos;
    u32(0);
    return p;
  });
  let nextBuffer = 1;
  const bufferOf = tensors.map((t) => (t.data ? nextBuffer++ : 0));
  tensors.forEach((t, i) => {
    const { table: tt, at: f } = table(4, [
      [0, 4, 0],
      [1, 1, t.type],
      [2, 4, bufferOf[i]!],
      [3, 4, 0],
    ]);
    ref(tensorRefs[i]!, tt);
    align(4);
    patch(f.get(0)!);
    u32(t.shape.length);
    for (const d of t.shape) {
      b.writeInt32LE(d, pos);
      pos += 4;
    }
    patch(f.get(3)!);
    u32(Buffer.byteLength(t.name));
    pos += b.write(t.name, pos);
    b[pos++] = 0;
  });
  // buffers: the empty sentinel, then one per constant tensor
  align(4);
  patch(model.get(4)!);
  u32(nextBuffer);
  const bufferRefs = Array.from({ length: nextBuffer }, () => {
    const p = pos;
    u32(0);
    return p;
  });
  ref(bufferRefs[0]!, table(3, []).table);
  tensors.forEach((t, i) => {
    if (!t.data) return;
    const { table: bt, at: f } = table(3, [[0, 4, 0]]);
    ref(bufferRefs[bufferOf[i]!]!, bt);
    // the data vector's bytes start on a 16-byte boundary
    while ((pos + 4) % 16) pos++;
    patch(f.get(0)!);
    u32(t.data.length);
    t.data.copy(b, pos);
    pos += t.data.length;
  });
  return b.subarray(0, pos);
}
