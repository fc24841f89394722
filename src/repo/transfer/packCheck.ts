import { isMvmError } from '../../errors.js';
import { packKey, type PackEntry, type PackIndex } from '../../storage/remote/packs.js';
import { corruptObject, decodedSize, decodeObject, deltaOf, maxStoredSize } from '../../storage/codec.js';
import { MAX_OBJECT_SIZE } from '../../core/limits.js';
import { decodeVerified } from '../../storage/objectFile.js';
import { MAX_DELTA_DEPTH } from '../../storage/delta.js';
import type { ObjectStore } from '../../storage/objectStore.js';
import type { ChunkPool } from '../../storage/chunkPool.js';
import { type Progress, bounded } from '../repository/index.js';
import { RangeSlots } from './rangeSlots.js';
import type { RemoteSession } from './remoteSession.js';

/** Largest ranged read of a pack while checking it: memory holds about one per job, whatever the remote's size. */
const CHECK_RANGE = 8 << 20;

/** One problem `mvm fsck --remote` found. */
export interface RemoteProblem {
  kind: 'bad-index' | 'missing-pack' | 'bad-pack' | 'corrupt' | 'missing' | 'bad-ref' | 'bad-registry';
  /** The object, for corrupt and missing objects (and registry entries). */
  id?: string;
  /** The pack, for index and pack problems and corrupt copies. */
  pack?: string;
  /** The ref (`refs/heads/main`) or `numbers`. */
  ref?: string;
  message: string;
  /**
   * What needs the object on the remote, the first few: versions (and paths in them), or a ref or registry entry
   * (`v3`).
   */
  usedBy: { version?: string; ref?: string; path?: string }[];
}

/** Ranges of one pack to read and hash, a few MiB each (an object larger than that alone). */
function packRanges(
  pack: string,
  objects: PackIndex['objects'],
): { pack: string; offset: number; length: number; items: { id: string; offset: number; length: number }[] }[] {
  const out: ReturnType<typeof packRanges> = [];
  let cur: (typeof out)[number] | null = null;
  for (const [id, offset, length] of objects) {
    if (!cur || offset + length - cur.offset > CHECK_RANGE) {
      cur = { pack, offset, length: 0, items: [] };
      out.push(cur);
    }
    cur.items.push({ id, offset: offset - cur.offset, length });
    cur.length = offset + length - cur.offset;
  }
  return out;
}

/**
 * Hashes every object of the given packs, streamed in bounded ranges through
 * the worker pool (about jobs x 8 MiB in memory). Checks each pack's size
 * against its index first: objects past the end of a short pack are damaged.
 * Returns the damaged copies (pack -> ids, each with why) and what was read.
 */
export async function checkPacks(
  s: RemoteSession,
  indexes: PackIndex[],
  jobs: number,
  pool: ChunkPool,
  progress?: Progress,
  local?: ObjectStore,
): Promise<{ bad: Map<string, Map<string, string>>; packProblems: RemoteProblem[]; objects: number; bytes: number }> {
  const bad = new Map<string, Map<string, string>>();
  const mark = (pack: string, id: string, why: string) => {
    const m = bad.get(pack) ?? new Map<string, string>();
    if (!m.has(id)) m.set(id, why);
    bad.set(pack, m);
  };
  const packProblems: RemoteProblem[] = [];
  const ranges: ReturnType<typeof packRanges> = [];
  let objects = 0;
  for (const idx of indexes) {
    const size = await s.backend.size(packKey(idx.pack));
    const end = idx.objects.reduce((n, [, offset, length]) => Math.max(n, offset + length), 0);
    if (size === null) {
      packProblems.push({
        kind: 'missing-pack',
        pack: idx.pack,
        message: `pack ${idx.pack} is missing, though an index names its ${idx.objects.length} object(s)`,
        usedBy: [],
      });
      for (const [id] of idx.objects) mark(idx.pack, id, `object ${id} is in a missing pack`);
      continue;
    }
    if (size !== end)
      packProblems.push({
        kind: 'bad-pack',
        pack: idx.pack,
        message: `pack ${idx.pack} is ${size} bytes where its index says ${end}`,
        usedBy: [],
      });
    const inside = idx.objects.filter(([id, offset, length]) => {
      if (offset + length <= size) return true;
      mark(idx.pack, id, `object ${id} lies past the end of its pack`);
      return false;
    });
    objects += idx.objects.length;
    ranges.push(...packRanges(idx.pack, inside));
  }
  progress?.start?.(
    `check ${s.remote.name}`,
    ranges.reduce((n, r) => n + r.length, 0),
  );
  let bytes = 0;
  const deltas: { id: string; pack: string }[] = [];
  const slots = new RangeSlots(CHECK_RANGE);
  // enough ranges in flight to keep the network and a few threads busy; memory is about twice that many ranges
  await bounded(ranges.length, Math.max(jobs, Math.min(pool.threads, 4), 2), async (i) => {
    const r = ranges[i]!;
    let buf: Buffer;
    try {
      buf = await s.backend.readRange(packKey(r.pack), r.offset, r.length);
    } catch (e) {
      // a pack that shrank or vanished since its size was read: every object of the range is unreadable
      if (!isMvmError(e, 'REMOTE_CORRUPT')) throw e;
      for (const it of r.items) mark(r.pack, it.id, e.message);
      return;
    }
    bytes += buf.length;
    const slot = slots.take(buf.length);
    try {
      const data = new Uint8Array(slot, 0, buf.length);
      data.set(buf);
      const res = await pool.submit({ op: 'check', data, items: r.items });
      for (const b of res.bad ?? []) mark(r.pack, b.id, b.message);
      for (const id of res.deltas ?? []) deltas.push({ id, pack: r.pack });
    } finally {
      slots.give(slot);
    }
    progress?.advance?.(r.length);
  });
  // deltas last, each through its base: this store's copy, or the remote's
  const where = new Map<string, PackEntry>();
  for (const idx of indexes)
    for (const [id, offset, length] of idx.objects)
      if (!bad.get(idx.pack)?.has(id) && !where.has(id)) where.set(id, { pack: idx.pack, offset, length });
  await bounded(deltas.length, jobs, async (i) => {
    const { id, pack } = deltas[i]!;
    const why = await checkDelta(s, id, where, local);
    if (why) mark(pack, id, why);
  });
  progress?.done?.();
  return { bad, packProblems, objects, bytes };
}

/**
 * Checks a delta on a remote: its chain is read down to a base this store
 * holds or one stored whole on the remote, at most MAX_DELTA_DEPTH deltas
 * deep, then decoded and hashed. Returns why it fails, or null.
 */
async function checkDelta(
  s: RemoteSession,
  id: string,
  where: ReadonlyMap<string, PackEntry>,
  local?: ObjectStore,
): Promise<string | null> {
  // every object of the chain decodes to the delta's declared size: an entry longer than its largest encoding is
  // refused before it is read
  let size = MAX_OBJECT_SIZE;
  const read = async (oid: string) => {
    const e = where.get(oid);
    if (e && e.length > maxStoredSize(size)) throw corruptObject(oid)(`its pack entry holds ${e.length} bytes`);
    return e ? s.backend.readRange(packKey(e.pack), e.offset, e.length) : null;
  };
  try {
    const chain = new Map<string, Buffer>();
    let held: { id: string; content: Buffer } | null = null;
    for (let at = id; ; ) {
      const stored = await read(at);
      if (!stored) return `object ${id} is a delta whose base ${at} no pack holds`;
      chain.set(at, stored);
      const d = deltaOf(stored);
      if (!d) break;
      if (at === id) size = Math.min(size, decodedSize(stored));
      if (local?.has(d.base)) {
        held = { id: d.base, content: local.get(d.base) };
        break;
      }
      if (chain.has(d.base) || chain.size > MAX_DELTA_DEPTH)
        return `object ${id} is a delta whose chain is deeper than ${MAX_DELTA_DEPTH}, or a cycle`;
      at = d.base;
    }
    const load = (oid: string, size?: number): Buffer =>
      oid === held?.id ? held.content : decodeObject(chain.get(oid)!, oid, { loadBase: load, bound: { exact: size } });
    decodeVerified(chain.get(id)!, id, { loadBase: load });
    return null;
  } catch (e) {
    if (isMvmError(e, 'OBJECT_CORRUPT') || isMvmError(e, 'REMOTE_CORRUPT')) return e.message;
    throw e;
  }
}
