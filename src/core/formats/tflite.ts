/**
 * TensorFlow Lite models: a FlatBuffer (file identifier `TFL3` at bytes 4-8)
 * whose `buffers` hold the constant tensors' bytes inline, each as a byte
 * vector aligned to 16. A tensor names its buffer by index, so each buffer
 * with data becomes one unit, named, typed and shaped after the first
 * tensor of the first subgraph that uses it; a buffer no tensor uses is
 * named by the `Model.metadata` entry that points to it, else by its
 * content, never by its index. Models over 2 GiB keep buffers
 * after the FlatBuffer instead (`offset`, `size` in the Buffer table), which
 * are placed the same way.
 */
import { lenient, shapeElements, type ByteSource, type Layout, type TensorInfo } from './types.js';
import { NameBudget } from './names.js';
import { MAX_NAME_BYTES } from '../limits.js';

/** mvm's dtype name (as in safetensors) and bits per element, by TFLite TensorType. */
const TFLITE_DTYPES: ReadonlyMap<number, [string, number]> = new Map([
  [0, ['F32', 32]],
  [1, ['F16', 16]],
  [2, ['I32', 32]],
  [3, ['U8', 8]],
  [4, ['I64', 64]],
  [5, ['STRING', 0]],
  [6, ['BOOL', 8]],
  [7, ['I16', 16]],
  [8, ['C64', 64]],
  [9, ['I8', 8]],
  [10, ['F64', 64]],
  [11, ['C128', 128]],
  [12, ['U64', 64]],
  // 13 RESOURCE and 14 VARIANT hold handles, not numbers: their buffers stay `unknown`
  [15, ['U32', 32]],
  [16, ['U16', 16]],
  [17, ['I4', 4]],
  [18, ['BF16', 16]],
  [19, ['I2', 2]],
  [20, ['U4', 4]],
]);

/** Field indexes (vtable slots) of the schema's tables that are read here. */
const MODEL = { subgraphs: 2, buffers: 4, metadata: 6 };
const METADATA = { name: 0, buffer: 1 };
const SUBGRAPH = { tensors: 0 };
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3 };
const BUFFER = { data: 0, offset: 1, size: 2 };

/** Bounds on what a hostile file can make the parser walk. */
const MAX_ITEMS = 1 << 20;
/** The file is read in pages of this size around the tables (weights are never read), at most MAX_PAGES kept. */
const PAGE = 64 * 1024;
const MAX_PAGES = 64;

/** A bounds-checked, paged view of a FlatBuffer: tables are read where they lie, data vectors only measured. */
class Flat {
  private readonly pages = new Map<number, Buffer>();
  constructor(private readonly src: ByteSource) {}
  private async bytes(at: number, n: number): Promise<Buffer> {
    if (!Number.isSafeInteger(at) || at < 0 || at + n > this.src.size) throw new RangeError('read past end');
    const p = Math.floor(at / PAGE);
    if (Math.floor((at + n - 1) / PAGE) !== p) return this.read(at, n);
    let page = this.pages.get(p);
    if (!page) {
      if (this.pages.size >= MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
      page = await this.read(p * PAGE, Math.min(PAGE, this.src.size - p * PAGE));
      this.pages.set(p, page);
    }
    return page.subarray(at - p * PAGE, at - p * PAGE + n);
  }
  private async read(at: number, n: number): Promise<Buffer> {
    const b = await this.src.read(at, n);
    if (!Buffer.isBuffer(b) || b.length !== n) throw new RangeError('short read');
    return b;
  }
  async u8(at: number): Promise<number> {
    return (await this.bytes(at, 1))[0]!;
  }
  async u16(at: number): Promise<number> {
    return (await this.bytes(at, 2)).readUInt16LE(0);
  }
  async u32(at: number): Promise<number> {
    return (await this.bytes(at, 4)).readUInt32LE(0);
  }
  async i32(at: number): Promise<number> {
    return (await this.bytes(at, 4)).readInt32LE(0);
  }
  async u64(at: number): Promise<number> {
    const v = (await this.bytes(at, 8)).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('u64 too large');
    return Number(v);
  }
  /** The absolute position of field `slot` of the table at `table`, or null when absent. */
  async field(table: number, slot: number): Promise<number | null> {
    const vtable = table - (await this.i32(table));
    const vsize = await this.u16(vtable);
    if (vsize < 4 || vsize % 2) throw new RangeError('bad vtable');
    if (4 + slot * 2 + 2 > vsize) return null;
    const off = await this.u16(vtable + 4 + slot * 2);
    return off ? table + off : null;
  }
  /** The table (or vector) a uoffset at `at` points to. */
  async deref(at: number): Promise<number> {
    return at + (await this.u32(at));
  }
  /** A vector field: its element count (at most `max`) and the position of element 0, checked to lie in the file. */
  async vector(
    table: number,
    slot: number,
    elementBytes: number,
    max = MAX_ITEMS,
  ): Promise<{ length: number; start: number } | null> {
    const f = await this.field(table, slot);
    if (f === null) return null;
    const v = await this.deref(f);
    const length = await this.u32(v);
    if (length > max || v + 4 + length * elementBytes > this.src.size) throw new RangeError('bad vector');
    return { length, start: v + 4 };
  }
  /**
   * A string field as a name, or null when absent, too long or past the
   * file's budget: tensors may all share one long string, which is then
   * measured, not decoded again for each.
   */
  async name(table: number, slot: number, budget: NameBudget): Promise<string | null> {
    const f = await this.field(table, slot);
    if (f === null) return null;
    const v = await this.deref(f);
    const length = await this.u32(v);
    if (v + 4 + length > this.src.size) throw new RangeError('bad vector');
    return length > MAX_NAME_BYTES ? null : budget.takeBytes(await this.bytes(v + 4, length));
  }
}

async function parse(src: ByteSource): Promise<Layout | null> {
  if (src.size < 16) return null;
  const f = new Flat(src);
  const head = await src.read(0, 8);
  if (!Buffer.isBuffer(head) || head.length < 8 || head.toString('latin1', 4, 8) !== 'TFL3') return null;
  const model = await f.deref(0);
  // the first tensor that uses a buffer names it
  const named = new Map<number, { name: string; dtype: string; bits: number; shape: number[] }>();
  const budget = new NameBudget();
  const subgraphs = await f.vector(model, MODEL.subgraphs, 4);
  let seen = 0;
  for (let s = 0; s < (subgraphs?.length ?? 0); s++) {
    const sg = await f.deref(subgraphs!.start + 4 * s);
    const tensors = await f.vector(sg, SUBGRAPH.tensors, 4);
    for (let t = 0; t < (tensors?.length ?? 0); t++) {
      if (++seen > MAX_ITEMS) throw new RangeError('too many tensors');
      const tensor = await f.deref(tensors!.start + 4 * t);
      const bufferAt = await f.field(tensor, TENSOR.buffer);
      const index = bufferAt === null ? 0 : await f.u32(bufferAt);
      if (index === 0 || named.has(index)) continue; // buffer 0 is the schema's empty sentinel
      const typeAt = await f.field(tensor, TENSOR.type);
      const kind = TFLITE_DTYPES.get(typeAt === null ? 0 : await f.u8(typeAt));
      const dims = await f.vector(tensor, TENSOR.shape, 4, 64);
      const shape: number[] = [];
      for (let d = 0; d < (dims?.length ?? 0); d++) shape.push(await f.i32(dims!.start + 4 * d));
      named.set(index, {
        name: (await f.name(tensor, TENSOR.name, budget)) ?? `buffer${index}`,
        dtype: kind?.[0] ?? 'unknown',
        bits: kind?.[1] ?? 0,
        shape,
      });
    }
  }
  const metadata = await metadataNames(f, model, budget);
  const buffers = await f.vector(model, MODEL.buffers, 4);
  const out: TensorInfo[] = [];
  const unnamed: number[] = []; // places in `out` of buffers that nothing names
  for (let i = 1; i < (buffers?.length ?? 0); i++) {
    const table = await f.deref(buffers!.start + 4 * i);
    let start: number;
    let end: number;
    const data = await f.vector(table, BUFFER.data, 1, Number.MAX_SAFE_INTEGER);
    if (data?.length) {
      start = data.start;
      end = data.start + data.length;
    } else {
      const offAt = await f.field(table, BUFFER.offset);
      const sizeAt = await f.field(table, BUFFER.size);
      if (offAt === null || sizeAt === null) continue;
      start = await f.u64(offAt);
      end = start + (await f.u64(sizeAt));
      if (start <= 1 || end === start) continue; // offset 1 marks "no data" in the schema
      if (end > src.size) throw new RangeError('buffer past end');
    }
    const t = named.get(i);
    const elements = t ? shapeElements(t.shape) : null;
    // a byte count that does not match the tensor's shape keeps the bytes as a unit, untyped
    const typed =
      t !== undefined && t.bits > 0 && elements !== null && Math.ceil((elements * t.bits) / 8) === end - start;
    const name = t?.name ?? metadata.get(i);
    if (name === undefined) unnamed.push(out.length);
    out.push({
      name: name ?? `buffer${i}`,
      dtype: typed ? t.dtype : 'unknown',
      shape: t?.shape ?? [end - start],
      start,
      end,
    });
  }
  await nameByContent(src, out, unnamed, budget);
  return out.length ? { format: 'tflite', tensors: out } : null;
}

/**
 * The buffers that `Model.metadata` entries name (`min_runtime_version`,
 * `CONVERSION_METADATA`, `TFLITE_METADATA`...), as `metadata/<name>`; the
 * first entry naming a buffer names it, and a name met again takes `#2`.
 */
async function metadataNames(f: Flat, model: number, budget: NameBudget): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  const entries = await f.vector(model, MODEL.metadata, 4);
  const used = new Map<string, number>();
  for (let m = 0; m < (entries?.length ?? 0); m++) {
    const entry = await f.deref(entries!.start + 4 * m);
    const bufferAt = await f.field(entry, METADATA.buffer);
    const index = bufferAt === null ? 0 : await f.u32(bufferAt);
    if (index === 0 || names.has(index)) continue;
    const name = await f.name(entry, METADATA.name, budget);
    if (name === null) continue;
    const n = (used.get(name) ?? 0) + 1;
    used.set(name, n);
    const full = budget.take(n > 1 ? `metadata/${name}#${n}` : `metadata/${name}`);
    if (full !== null) names.set(index, full);
  }
  return names;
}

/** Of buffers that nothing names, at most this many are read to be named by their content ... */
const MAX_CONTENT_NAMED = 1024;
/** ... and of each, at most its first and last CONTENT_SAMPLE bytes. */
const CONTENT_SAMPLE = 16 * 1024;

/**
 * Names the buffers at `places` of `out`, which no tensor or metadata entry
 * names, by their content: `unused/<16 hex digits>`, two 32-bit FNV-1a lanes
 * over their size and bytes (the first and last 16 KiB of a larger buffer),
 * with `#2` for a second buffer of the same digest. So adding a buffer
 * before one does not rename it, as its index would. Past the limits above
 * a buffer keeps the placeholder `buffer<i>`.
 */
async function nameByContent(src: ByteSource, out: TensorInfo[], places: number[], budget: NameBudget): Promise<void> {
  const used = new Map<string, number>();
  for (const p of places.slice(0, MAX_CONTENT_NAMED)) {
    const t = out[p]!;
    const size = t.end - t.start;
    const head = await readExactly(src, t.start, Math.min(size, CONTENT_SAMPLE));
    const tailStart = Math.max(t.start + head.length, t.end - CONTENT_SAMPLE);
    const tail = await readExactly(src, tailStart, t.end - tailStart);
    const digest = fnv64([sizeBytes(size), head, tail]);
    const n = (used.get(digest) ?? 0) + 1;
    used.set(digest, n);
    t.name = budget.take(n > 1 ? `unused/${digest}#${n}` : `unused/${digest}`) ?? t.name;
  }
}

async function readExactly(src: ByteSource, at: number, n: number): Promise<Buffer> {
  if (n === 0) return Buffer.alloc(0);
  const b = await src.read(at, n);
  if (!Buffer.isBuffer(b) || b.length !== n) throw new RangeError('short read');
  return b;
}

/** A byte count as 8 little-endian bytes. */
function sizeBytes(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/** FNV-1a over `parts` in two 32-bit lanes (FNV's prime, and Murmur's multiplier), as 16 hex digits. */
function fnv64(parts: Uint8Array[]): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      a = Math.imul(a ^ part[i]!, 0x01000193);
      b = Math.imul(b ^ part[i]!, 0x5bd1e995);
    }
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** Parses a TFLite model's constant buffers, or null when the bytes are not one. Never throws. */
export const parseTflite = lenient(parse);
