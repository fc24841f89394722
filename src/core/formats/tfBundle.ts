/**
 * TensorFlow checkpoints and SavedModel variables (a "tensor bundle"):
 * `<prefix>.index` is a LevelDB-style table (written uncompressed) mapping
 * each variable's name to a BundleEntryProto (dtype, shape, shard, offset,
 * size), and `<prefix>.data-0000K-of-0000N` holds the bytes of shard K. This
 * is what `model.save` writes as `variables/variables.{index,data-*}` and
 * what `tf.train.Checkpoint` writes as `ckpt-N.{index,data-*}`. A data file
 * has no header: its layout comes from the index beside it.
 */
import type { Layout, TensorInfo } from './types.js';
import { NameBudget } from './names.js';

/** One variable of a bundle: where its bytes are. */
export interface BundleEntry {
  name: string;
  dtype: string;
  shape: number[];
  shard: number;
  offset: number;
  size: number;
}

/**
 * mvm's dtype name (as in safetensors) and bytes per element, by TensorFlow DataType enum value; strings are opaque
 * units.
 */
const TF_DTYPES: ReadonlyMap<number, [string, number]> = new Map([
  [1, ['F32', 4]],
  [2, ['F64', 8]],
  [3, ['I32', 4]],
  [4, ['U8', 1]],
  [5, ['I16', 2]],
  [6, ['I8', 1]],
  [7, ['STRING', 0]],
  [8, ['C64', 8]],
  [9, ['I64', 8]],
  [10, ['BOOL', 1]],
  [14, ['BF16', 2]],
  [17, ['U16', 2]],
  [19, ['F16', 2]],
  [22, ['U32', 4]],
  [23, ['U64', 8]],
]);

/** A data file's name: `<prefix>.data-<K>-of-<N>`, the index being `<prefix>.index`. */
const DATA_NAME = /^(.+)\.data-(\d{5})-of-(\d{5})$/;

/** The index file beside a data file, and the data file's shard number; null for any other name. */
export function bundleIndexFor(dataName: string): { index: string; shard: number; shards: number } | null {
  const m = DATA_NAME.exec(dataName);
  if (!m) return null;
  const shard = Number(m[2]);
  const shards = Number(m[3]);
  return shard < shards ? { index: `${m[1]}.index`, shard, shards } : null;
}

/** Table footer: two block handles padded to 40 bytes, then this magic (little-endian). */
const FOOTER = 48;
const MAGIC = 0xdb4775248b80fb57n;
/** Each block is followed by a type byte (0: uncompressed) and a CRC. */
const TRAILER = 5;

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('varint past end');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new RangeError('varint too large');
        return result;
      }
      scale *= 128;
    }
    throw new RangeError('varint too long');
  }
  bytes(n: number): Buffer {
    if (n > this.end - this.pos) throw new RangeError('bytes past end');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.bytes(8);
    else if (wire === 2) this.bytes(this.varint());
    else if (wire === 5) this.bytes(4);
    else throw new RangeError(`wire type ${wire}`);
  }
}

/** The contents of the block a handle names, checked to lie in the file and be uncompressed. */
function block(buf: Buffer, r: Reader): Buffer {
  const offset = r.varint();
  const size = r.varint();
  if (offset + size + TRAILER > buf.length - FOOTER) throw new RangeError('block past end');
  if (buf[offset + size] !== 0) throw new RangeError('compressed block');
  return buf.subarray(offset, offset + size);
}

/**
 * Calls `each(key, value)` for the entries of a block in order, each key
 * rebuilt from its shared prefix in one running buffer (a view valid during
 * the call): keys that all share one long prefix cost no more than the block.
 */
function entries(b: Buffer, each: (key: Buffer, value: Buffer) => void): void {
  if (b.length < 4) throw new RangeError('short block');
  const restarts = b.readUInt32LE(b.length - 4);
  const end = b.length - 4 - restarts * 4;
  if (restarts < 1 || end < 0) throw new RangeError('bad restarts');
  const r = new Reader(b, 0, end);
  let key = Buffer.alloc(0);
  let keyLength = 0;
  while (r.pos < end) {
    const shared = r.varint();
    const unshared = r.varint();
    const valueLength = r.varint();
    if (shared > keyLength) throw new RangeError('bad shared prefix');
    const tail = r.bytes(unshared);
    if (shared + unshared > key.length) {
      // a key is never longer than the block it is made from
      const grown = Buffer.allocUnsafe(Math.min(end, Math.max(2 * key.length, shared + unshared, 256)));
      key.copy(grown, 0, 0, shared);
      key = grown;
    }
    tail.copy(key, shared);
    keyLength = shared + unshared;
    each(key.subarray(0, keyLength), r.bytes(valueLength));
  }
}

/** A BundleEntryProto, or null for one that holds no bytes of its own (a sliced variable's whole). */
function entry(name: string, v: Buffer): BundleEntry | null {
  const r = new Reader(v, 0, v.length);
  let dtype = 0;
  const shape: number[] = [];
  let shard = 0;
  let offset = 0;
  let size = 0;
  let sliced = false;
  while (r.pos < r.end) {
    const t = r.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field === 1 && wire === 0) dtype = r.varint();
    else if (field === 2 && wire === 2) {
      const body = r.bytes(r.varint());
      const sr = new Reader(body, 0, body.length);
      while (sr.pos < sr.end) {
        const st = sr.varint();
        if (Math.floor(st / 8) === 2 && st % 8 === 2) {
          const dim = sr.bytes(sr.varint());
          const dr = new Reader(dim, 0, dim.length);
          let dimSize = 0;
          while (dr.pos < dr.end) {
            const dt = dr.varint();
            if (Math.floor(dt / 8) === 1 && dt % 8 === 0) dimSize = dr.varint();
            else dr.skip(dt % 8);
          }
          shape.push(dimSize);
        } else if (Math.floor(st / 8) === 3 && st % 8 === 0) {
          if (sr.varint()) throw new RangeError('unknown rank');
        } else sr.skip(st % 8);
      }
    } else if (field === 3 && wire === 0) shard = r.varint();
    else if (field === 4 && wire === 0) offset = r.varint();
    else if (field === 5 && wire === 0) size = r.varint();
    else if (field === 7 && wire === 2) {
      sliced = true;
      r.skip(wire);
    } else r.skip(wire);
  }
  if (sliced) return null;
  const kind = TF_DTYPES.get(dtype);
  if (!kind) throw new RangeError(`dtype ${dtype}`);
  const elements = shape.reduce((a, b) => a * b, 1);
  if (kind[1] && elements * kind[1] !== size) throw new RangeError('size does not match shape');
  return { name, dtype: kind[0], shape, shard, offset, size };
}

/**
 * Every variable of a bundle index file's bytes (the header entry, key "",
 * left out); throws RangeError on a malformed file. Names are held to the
 * limits of names.ts: a longer one, or one past the file's budget, becomes
 * `variable<N>` (N counting the variables).
 */
export function parseBundleIndex(buf: Buffer): BundleEntry[] {
  if (buf.length < FOOTER || buf.readBigUInt64LE(buf.length - 8) !== MAGIC) throw new RangeError('not a table');
  const footer = new Reader(buf, buf.length - FOOTER, buf.length - 8);
  footer.varint(); // metaindex handle: unused
  footer.varint();
  const index = block(buf, footer);
  const out: BundleEntry[] = [];
  const budget = new NameBudget();
  const handles: Buffer[] = [];
  entries(index, (_key, handle) => handles.push(handle));
  for (const handle of handles) {
    entries(block(buf, new Reader(handle, 0, handle.length)), (key, value) => {
      if (!key.length) return;
      const e = entry(budget.takeBytes(key) ?? `variable${out.length}`, value);
      if (e) out.push(e);
    });
  }
  return out;
}

/**
 * The layout of shard `shard` of a bundle (its data file is `size` bytes), from the index file's bytes; null when they
 * do not fit.
 */
export function bundleShardLayout(indexBytes: Buffer, shard: number, size: number): Layout | null {
  let all: BundleEntry[];
  try {
    all = parseBundleIndex(indexBytes);
  } catch {
    return null;
  }
  const tensors: TensorInfo[] = [];
  for (const e of all) {
    if (e.shard !== shard) continue;
    if (e.offset + e.size > size) return null;
    tensors.push({ name: e.name, dtype: e.dtype, shape: e.shape, start: e.offset, end: e.offset + e.size });
  }
  return tensors.length ? { format: 'tf-bundle', tensors } : null;
}
