/**
 * A model file's own metadata, as text: safetensors `__metadata__`, GGUF
 * key-values (arrays summarised, not listed), ONNX producer fields and
 * `metadata_props`, and the `metadata.json` of a Keras `.keras` archive
 * (`keras_version`, `date_saved`). Read from a ByteSource, so it works on a version in the
 * store as well as on a file; bounded in entries and value length, and never
 * throws (a file without readable metadata gives null).
 */
import { ByteCursor, type ByteSource } from './types.js';
import { setKey } from '../values.js';
import { scanObjectEntries } from './jsonScan.js';
import { KERAS_MAX_METADATA, SAFETENSORS_MAX_HEADER } from '../limits.js';
import { lengthEnd, skipField, tag, varint } from './onnx.js';
import { skipValue } from './gguf.js';
import { entryRange, zipEntries } from './pytorch.js';
import { kerasWeights } from './hdf5.js';

/** Entries kept, and characters kept of each value. */
const MAX_ENTRIES = 512;
const MAX_VALUE = 256;

export interface ModelMetadata {
  format: 'safetensors' | 'gguf' | 'onnx' | 'keras';
  metadata: Record<string, string>;
}

const clip = (v: string) => (v.length > MAX_VALUE ? `${v.slice(0, MAX_VALUE)}… (${v.length} chars)` : v);

function put(out: Record<string, string>, key: string, value: string): void {
  if (Object.keys(out).length >= MAX_ENTRIES) return;
  setKey(out, key, clip(value));
}

/** The model metadata of a file by its content, or null. */
export async function readModelMetadata(src: ByteSource): Promise<ModelMetadata | null> {
  try {
    if (src.size < 16) return null;
    const head = await src.read(0, 16);
    if (head.toString('latin1', 0, 4) === 'GGUF') return await gguf(src);
    if (head.readUInt32LE(0) === 0x04034b50) return await keras(src);
    if (head[8] === 0x7b) return await safetensors(src);
    return await onnx(src);
  } catch {
    return null;
  }
}

async function safetensors(src: ByteSource): Promise<ModelMetadata | null> {
  const n = Number((await src.read(0, 8)).readBigUInt64LE(0));
  if (n < 2 || n > SAFETENSORS_MAX_HEADER || 8 + n > src.size) return null;
  const metadata: Record<string, string> = {};
  let found = false;
  // writers put __metadata__ first: stop there instead of reading every tensor entry
  const ok = await scanObjectEntries(src, 8, n, (key, value) => {
    if (key !== '__metadata__') return true;
    found = true;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) put(metadata, k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    return false;
  });
  if (!ok && !found) return null;
  return { format: 'safetensors', metadata };
}

const GGUF_READ: Record<number, (b: Buffer) => string> = {
  0: (b) => String(b.readUInt8(0)),
  1: (b) => String(b.readInt8(0)),
  2: (b) => String(b.readUInt16LE(0)),
  3: (b) => String(b.readInt16LE(0)),
  4: (b) => String(b.readUInt32LE(0)),
  5: (b) => String(b.readInt32LE(0)),
  6: (b) => String(b.readFloatLE(0)),
  7: (b) => String(b[0] !== 0),
  10: (b) => String(b.readBigUInt64LE(0)),
  11: (b) => String(b.readBigInt64LE(0)),
  12: (b) => String(b.readDoubleLE(0)),
};
const GGUF_WIDTH: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const GGUF_TYPE_NAMES: Record<number, string> = {
  0: 'u8',
  1: 'i8',
  2: 'u16',
  3: 'i16',
  4: 'u32',
  5: 'i32',
  6: 'f32',
  7: 'bool',
  8: 'string',
  9: 'array',
  10: 'u64',
  11: 'i64',
  12: 'f64',
};

async function gguf(src: ByteSource): Promise<ModelMetadata | null> {
  const c = new ByteCursor(src, 4);
  const version = await c.u32();
  if (version !== 2 && version !== 3) return null;
  await c.u64(); // tensor count
  const kvCount = await c.u64();
  if (kvCount > c.remaining / 13) return null;
  const metadata: Record<string, string> = {};
  const str = async (max: number) => {
    const len = await c.u64();
    if (len > max) {
      c.skip(len);
      return `(${len} bytes)`;
    }
    return (await c.bytes(len)).toString('utf8');
  };
  for (let i = 0; i < kvCount; i++) {
    const key = await str(4096);
    const type = await c.u32();
    if (type === 8) put(metadata, key, await str(64 * 1024));
    else if (type === 9) {
      const itemType = await c.u32();
      const count = await c.u64();
      put(metadata, key, `[${count} × ${GGUF_TYPE_NAMES[itemType] ?? `type ${itemType}`}]`);
      // skip the items: rewind over the array header and let skipValue walk it
      c.pos -= 12;
      await skipValue(c, 9, 0);
    } else if (GGUF_READ[type]) put(metadata, key, GGUF_READ[type]!(await c.bytes(GGUF_WIDTH[type]!)));
    else return null;
  }
  return { format: 'gguf', metadata };
}

/** A Keras 3 archive (a zip with `config.json` and `model.weights.h5`): the entries of its stored `metadata.json`. */
async function keras(src: ByteSource): Promise<ModelMetadata | null> {
  const entries = await zipEntries(src);
  if (!kerasWeights(entries)) return null;
  const metadata: Record<string, string> = {};
  const meta = entries!.find((e) => e.name === 'metadata.json');
  if (meta?.stored && meta.size <= KERAS_MAX_METADATA) {
    const r = await entryRange(src, meta);
    const value: unknown = r ? JSON.parse((await src.read(r.start, r.end - r.start)).toString('utf8')) : null;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) put(metadata, k, typeof v === 'string' ? v : JSON.stringify(v));
    }
  }
  return { format: 'keras', metadata };
}

const ONNX_FIELDS: Record<number, string> = { 2: 'producer_name', 3: 'producer_version', 4: 'domain', 6: 'doc_string' };

async function onnx(src: ByteSource): Promise<ModelMetadata | null> {
  const c = new ByteCursor(src);
  const metadata: Record<string, string> = {};
  let irVersion = false;
  let graph = false;
  while (c.pos < src.size) {
    const { field, wire } = await tag(c);
    if (field === 1 && wire === 0) {
      put(metadata, 'ir_version', String(await varint(c)));
      irVersion = true;
    } else if (field === 5 && wire === 0) put(metadata, 'model_version', String(await varint(c)));
    else if (ONNX_FIELDS[field] && wire === 2) {
      const end = await lengthEnd(c, src.size);
      put(metadata, ONNX_FIELDS[field]!, (await c.bytes(Math.min(end - c.pos, 64 * 1024))).toString('utf8'));
      c.pos = end;
    } else if (field === 14 && wire === 2) {
      // StringStringEntryProto: key = 1, value = 2
      const end = await lengthEnd(c, src.size);
      let k = '';
      let v = '';
      while (c.pos < end) {
        const t = await tag(c);
        if ((t.field === 1 || t.field === 2) && t.wire === 2) {
          const e = await lengthEnd(c, end);
          const s = (await c.bytes(Math.min(e - c.pos, 64 * 1024))).toString('utf8');
          c.pos = e;
          if (t.field === 1) k = s;
          else v = s;
        } else await skipField(c, t.wire, end);
      }
      if (k) put(metadata, `metadata_props.${k}`, v);
    } else {
      if (field === 7 && wire === 2) graph = true;
      await skipField(c, wire, src.size);
    }
  }
  return irVersion && graph ? { format: 'onnx', metadata } : null;
}
