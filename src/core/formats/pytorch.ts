/**
 * PyTorch zip checkpoints (torch.save since 1.6, and TorchScript archives): a
 * ZIP whose `<archive>/data.pkl` pickle refers to storages stored as
 * `<archive>/data/<key>` entries. Each STORED storage entry is one unit,
 * with the dtype and element count the pickle gives it (torchPickle.ts;
 * 'unknown' and [] when it gives none), named after the state-dict tensor
 * that views it (with that tensor's shape when it views all of it), or
 * `data/<key>` when none does.
 */
import { lenient, type ByteSource, type Layout, type TensorInfo } from './types.js';
import { torchPickle, type TorchPickle, type TorchStorage, type TorchTensor } from './torchPickle.js';
import { MAX_PICKLE, ZIP_MAX_CENTRAL_DIRECTORY } from '../limits.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;

interface Entry {
  name: string;
  method: number;
  flags: number;
  compressed: number;
  uncompressed: number;
  localOffset: number;
}

/**
 * Parses a PyTorch zip checkpoint's storage map, or returns null when the bytes are not one (or a storage is
 * compressed).
 */
export const parsePytorchZip = lenient(parse);

/** A zip entry as the central directory describes it. */
export interface ZipEntry {
  name: string;
  /** Stored as is (not compressed, not encrypted): its bytes in the file are its content. */
  stored: boolean;
  localOffset: number;
  size: number;
  /** Where the central directory starts: no entry's data reaches past it. */
  limit: number;
}

/** The entries of a zip file from its central directory; null when the bytes are not a zip. */
export async function zipEntries(src: ByteSource): Promise<ZipEntry[] | null> {
  if (src.size < LOCAL_SIZE + EOCD_SIZE) return null;
  const magic = await src.read(0, 4);
  if (magic.length < 4 || magic.readUInt32LE(0) !== SIG_LOCAL) return null;
  const dir = await findCentralDirectory(src);
  if (!dir) return null;
  const cd = await src.read(dir.offset, dir.size);
  if (cd.length !== dir.size) return null;
  const entries = readCentralDirectory(cd, dir.count);
  if (!entries) return null;
  return entries.map((e) => ({
    name: e.name,
    stored: e.method === 0 && (e.flags & 1) === 0 && e.compressed === e.uncompressed,
    localOffset: e.localOffset,
    size: e.compressed,
    limit: dir.offset,
  }));
}

/**
 * The byte range of an entry's data, found through its local header; null when that header is not where the directory
 * says.
 */
export async function entryRange(src: ByteSource, e: ZipEntry): Promise<{ start: number; end: number } | null> {
  const local = await src.read(e.localOffset, LOCAL_SIZE);
  if (local.length !== LOCAL_SIZE || local.readUInt32LE(0) !== SIG_LOCAL) return null;
  const start = e.localOffset + LOCAL_SIZE + local.readUInt16LE(26) + local.readUInt16LE(28);
  const end = start + e.size;
  return end > e.limit ? null : { start, end };
}

async function parse(src: ByteSource): Promise<Layout | null> {
  const entries = await zipEntries(src);
  if (!entries) return null;
  const pkl = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (!pkl) return null;
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length) + 'data/';

  // the pickle gives each storage its dtype and the tensors that view it: read when stored (torch stores every entry)
  const pklRange = pkl.stored && pkl.size <= MAX_PICKLE ? await entryRange(src, pkl) : null;
  const pickled = pklRange
    ? torchPickle(await src.read(pklRange.start, pklRange.end - pklRange.start))
    : { storages: new Map<string, TorchStorage>(), tensors: [] };
  const names = storageNames(pickled);
  const used = new Set<string>();
  const tensors: TensorInfo[] = [];
  for (const e of entries) {
    if (!e.name.startsWith(prefix)) continue;
    const key = e.name.slice(prefix.length);
    if (key.length === 0 || key.includes('/')) continue;
    if (!e.stored) return null;
    const r = await entryRange(src, e);
    if (!r) return null;
    // a storage whose byte count disagrees with the pickle keeps no dtype
    const s = pickled.storages.get(key);
    const typed = s && s.numel * s.itemSize === r.end - r.start ? s : null;
    const t = names.get(key);
    let name = t && !used.has(t.name) ? t.name : `data/${key}`;
    while (used.has(name)) name += '_';
    used.add(name);
    const shape = typed ? (t && covers(t, typed) ? t.shape! : [typed.numel]) : [];
    tensors.push({ name, dtype: typed?.dtype ?? 'unknown', shape, start: r.start, end: r.end });
  }
  return { format: 'pytorch', tensors };
}

/** Whether a tensor views the whole of its storage (so the storage has the tensor's shape). */
function covers(t: TorchTensor, s: TorchStorage): boolean {
  return t.offset === 0 && t.shape !== null && t.shape.reduce((a, d) => a * d, 1) === s.numel;
}

/** The tensor that names each storage: the first in the pickle that views all of it, else the first that views it. */
function storageNames(p: TorchPickle): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  for (const t of p.tensors) {
    const prev = out.get(t.storage);
    const s = p.storages.get(t.storage);
    if (!prev || (s && covers(t, s) && !covers(prev, s))) out.set(t.storage, t);
  }
  return out;
}

/** Locates the central directory through the (ZIP64) end-of-central-directory record. */
async function findCentralDirectory(src: ByteSource): Promise<{ offset: number; size: number; count: number } | null> {
  const tailStart = Math.max(0, src.size - EOCD_SIZE - MAX_COMMENT);
  const tail = await src.read(tailStart, src.size - tailStart);
  if (tail.length !== src.size - tailStart) return null;
  let at = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) return null;
  const eocdPos = tailStart + at;
  let count = tail.readUInt16LE(at + 10);
  let size = tail.readUInt32LE(at + 12);
  let offset = tail.readUInt32LE(at + 16);
  let end = eocdPos;

  if (eocdPos >= 20) {
    const loc = await src.read(eocdPos - 20, 20);
    if (loc.length === 20 && loc.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
      const z64Pos = safe(loc.readBigUInt64LE(8));
      if (z64Pos === null || z64Pos + 56 > eocdPos - 20) return null;
      const z = await src.read(z64Pos, 56);
      if (z.length !== 56 || z.readUInt32LE(0) !== SIG_ZIP64_EOCD) return null;
      const c = safe(z.readBigUInt64LE(32));
      const s = safe(z.readBigUInt64LE(40));
      const o = safe(z.readBigUInt64LE(48));
      if (c === null || s === null || o === null) return null;
      [count, size, offset, end] = [c, s, o, z64Pos];
    }
  }
  if (size > ZIP_MAX_CENTRAL_DIRECTORY || offset + size > end || count > size / CENTRAL_SIZE) return null;
  return { offset, size, count };
}

/** Decodes `count` central directory headers, applying ZIP64 extra fields; null when malformed. */
function readCentralDirectory(cd: Buffer, count: number): Entry[] | null {
  const entries: Entry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) return null;
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cd.length) return null;
    const e: Entry = {
      name: cd.toString('utf8', p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen),
      flags: cd.readUInt16LE(p + 8),
      method: cd.readUInt16LE(p + 10),
      compressed: cd.readUInt32LE(p + 20),
      uncompressed: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
    };
    const extra = cd.subarray(p + CENTRAL_SIZE + nameLen, p + CENTRAL_SIZE + nameLen + extraLen);
    if (!applyZip64Extra(e, extra)) return null;
    entries.push(e);
    p = next;
  }
  return entries;
}

/** Replaces 0xFFFFFFFF sizes/offsets with the values from a ZIP64 extra field (id 0x0001). */
function applyZip64Extra(e: Entry, extra: Buffer): boolean {
  const MAX32 = 0xffffffff;
  if (e.uncompressed !== MAX32 && e.compressed !== MAX32 && e.localOffset !== MAX32) return true;
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (q + 4 + len > extra.length) return false;
    if (id === 0x0001) {
      let r = q + 4;
      const take = (): number | null => {
        if (r + 8 > q + 4 + len) return null;
        const v = safe(extra.readBigUInt64LE(r));
        r += 8;
        return v;
      };
      for (const field of ['uncompressed', 'compressed', 'localOffset'] as const) {
        if (e[field] !== MAX32) continue;
        const v = take();
        if (v === null) return false;
        e[field] = v;
      }
      return true;
    }
    q += 4 + len;
  }
  return false;
}

function safe(v: bigint): number | null {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
}
