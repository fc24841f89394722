import { MvmError, isMvmError } from '../../errors.js';
import { decodeVerified } from '../../storage/objectFile.js';
import { maxStoredSize } from '../../storage/codec.js';
import { FETCH_MAX_GAP, FETCH_MAX_RANGE, MAX_METADATA_SIZE, MAX_OBJECT_SIZE } from '../../core/limits.js';
import { packKey, type PackEntry } from '../../storage/remote/packs.js';
import { type Repository, type Progress, bounded } from '../repository/index.js';
import type { ChunkPool } from '../../storage/chunkPool.js';
import type { RemoteIndex } from './remoteIndex.js';
import type { RemoteSession } from './remoteSession.js';
import type { StagedFiles } from '../workspace/index.js';
import { RangeSlots } from './rangeSlots.js';
import { basesFromWorkspace, deltaLevels, PENDING_BYTES, PendingDeltas, type PendingDelta } from './receiveDeltas.js';
import { MAX_DELTA_DEPTH } from '../../storage/delta.js';

/**
 * Downloads objects by id from the remote's packs with ranged reads, merging
 * neighbours in one pack into one request. Every object is hash-checked once:
 * here, for manifests and file objects handed to `sink` with their content,
 * or by the worker threads that store chunks; a bad one is REMOTE_CORRUPT.
 * Manifests and file objects decode to at most MAX_METADATA_SIZE, a chunk
 * to the size `sizes` has for it (its file object's word) and at most
 * MAX_OBJECT_SIZE, each checked before anything is allocated. A chunk that
 * is a delta is checked through its base, which must be stored here first:
 * held already, arriving in the same download, or fetched for it
 * (receiveDeltas); `pendingBytes` caps the bytes of deltas kept in memory
 * while they wait (tests shrink it).
 */
export async function download(
  s: RemoteSession,
  index: RemoteIndex,
  ids: string[],
  jobs: number,
  sink: ((id: string, stored: Buffer, content: Buffer) => void) | ChunkSink,
  progress?: Progress,
  sizes?: ReadonlyMap<string, number>,
  pendingBytes = PENDING_BYTES,
): Promise<number> {
  if (typeof sink === 'function') return downloadRanges(s, index, ids, jobs, sink, progress, sizes);
  const pending = new PendingDeltas(pendingBytes);
  let bytes = await downloadRanges(s, index, ids, jobs, { ...sink, pending }, progress, sizes);
  if (pending.size) bytes += await receiveDeltas(s, index, jobs, sink, pending);
  return bytes;
}

/** Where downloaded chunks go: verified and stored by the pool's threads, and written into staged files. */
interface ChunkSink {
  repo: Repository;
  pool: ChunkPool;
  staged: StagedFiles | null;
  storePlaced: boolean;
}

/**
 * The deltas a download could not check when they arrived (their base was
 * not here): the bases no one holds are fetched for them, a level at a time
 * (a whole one is stored, a delta waits with the rest), then they are checked
 * and stored in the order deltaLevels gives, each through its base, now here
 * (stored even in a partial store, which keeps the staged version's chunks in
 * its files only: a delta of the next level may be based on it).
 */
async function receiveDeltas(
  s: RemoteSession,
  index: RemoteIndex,
  jobs: number,
  sink: ChunkSink,
  pending: PendingDeltas,
): Promise<number> {
  const held = (id: string) => sink.repo.objects.has(id);
  let bytes = 0;
  for (let round = 0; ; round++) {
    let need = pending.basesToFetch(held);
    if (round === 0 && basesFromWorkspace(sink.repo, need)) need = pending.basesToFetch(held);
    if (!need.size) break;
    // a round per level: a chain this long is refused by deltaLevels below, whatever else the remote holds
    if (round >= MAX_DELTA_DEPTH) break;
    // a base in a pack whose index a partial store has not read (its file object did not name it): read them all
    await index.loadChunkPacks([], need.keys());
    const onRemote = [...need.keys()].filter((id) => index.has(id));
    if (!onRemote.length) break;
    bytes += await downloadRanges(s, index, onRemote, jobs, { ...sink, staged: null, pending }, undefined, need);
  }
  const slots = new RangeSlots(FETCH_MAX_RANGE);
  for (const level of deltaLevels(pending, held, s.remote.url)) {
    const kept = level.filter((p) => p.bytes);
    // a task per range's worth of kept bytes, as a download hands them to the threads
    const groups: PendingDelta[][] = [];
    let size = 0;
    for (const p of kept) {
      if (!groups.length || size + p.bytes!.length > FETCH_MAX_RANGE) {
        groups.push([]);
        size = 0;
      }
      groups[groups.length - 1]!.push(p);
      size += p.bytes!.length;
    }
    await bounded(groups.length, jobs, async (g) => {
      const items = groups[g]!;
      const length = items.reduce((n, p) => n + p.bytes!.length, 0);
      const slot = slots.take(length);
      try {
        const data = new Uint8Array(slot, 0, length);
        let at = 0;
        const task = items.map((p) => {
          data.set(p.bytes!, at);
          at += p.bytes!.length;
          return { id: p.id, offset: at - p.bytes!.length, length: p.bytes!.length, size: p.size, places: p.places };
        });
        const res = await sink.pool.submit({
          op: 'put',
          data,
          items: task,
          store: sink.repo.objects.workerHandle(),
          // stored even when also written into staged files: a delta of the next level may be based on it
          storePlaced: true,
        });
        sink.repo.objects.acceptPacked(res.packed);
        if (res.deferred?.length) throw lostBase(s, res.deferred[0]!.id);
      } catch (e) {
        throw corruptFrom(s, String((e as MvmError).data?.id ?? ''), null, e);
      } finally {
        slots.give(slot);
      }
    });
    // this level is stored before the next, whose deltas are checked through it on other threads
    sink.repo.objects.flushPacks();
    // those whose bytes were not kept are downloaded again, now that their bases are here
    const dropped = level.filter((p) => !p.bytes);
    if (dropped.length) {
      const sizes = new Map(dropped.map((p) => [p.id, p.size]));
      const again = { ...sink, storePlaced: true, pending: null };
      bytes += await downloadRanges(s, index, [...sizes.keys()], jobs, again, undefined, sizes);
    }
    for (const p of level) sink.staged?.filled(p.id);
  }
  return bytes;
}

/** A delta whose base was here a moment ago, and is not now. */
function lostBase(s: RemoteSession, id: string): MvmError {
  return new MvmError('OBJECT_MISSING', `the base of object ${id} from ${s.remote.url} left this store`, {
    id,
    hint: 'run the command again (a gc that ran meanwhile removed it)',
  });
}

/** OBJECT_CORRUPT from decoding a remote's object, as REMOTE_CORRUPT naming it; any other error as it is. */
function corruptFrom(s: RemoteSession, id: string, pack: string | null, e: unknown): unknown {
  if (!isMvmError(e, 'OBJECT_CORRUPT')) return e;
  return new MvmError('REMOTE_CORRUPT', `object ${id} on ${s.remote.url} is corrupt (${e.code})`, {
    url: s.remote.url,
    id,
    ...(pack && { pack }),
    hint: "nothing was written; the remote copy is damaged: 'mvm push --repair' from a good repository mends it",
  });
}

/**
 * download's ranged reads. A chunk that is a delta whose base is not stored
 * yet goes to `sink.pending` (null: none may be, as when its base was just
 * stored: an error).
 */
async function downloadRanges(
  s: RemoteSession,
  index: RemoteIndex,
  ids: string[],
  jobs: number,
  sink: ((id: string, stored: Buffer, content: Buffer) => void) | (ChunkSink & { pending: PendingDeltas | null }),
  progress?: Progress,
  sizes?: ReadonlyMap<string, number>,
): Promise<number> {
  const byPack = new Map<string, (PackEntry & { id: string })[]>();
  const bound = (id: string) =>
    typeof sink === 'function' ? { max: MAX_METADATA_SIZE } : { exact: sizes?.get(id), max: MAX_OBJECT_SIZE };
  for (const id of ids) {
    const e = index.get(id);
    if (!e)
      throw new MvmError('REMOTE_CORRUPT', `${s.remote.url} names object ${id} but no pack holds it`, {
        url: s.remote.url,
        id,
        hint:
          "the remote is incomplete: 'mvm fsck --remote' lists what it lacks, 'mvm push --repair' from a " +
          'complete repository mends it',
      });
    const b = bound(id);
    if (e.length > maxStoredSize(b.exact ?? b.max))
      throw new MvmError(
        'REMOTE_CORRUPT',
        `object ${id} on ${s.remote.url} is corrupt (its pack entry holds ${e.length} bytes, more than it can take)`,
        {
          url: s.remote.url,
          id,
          pack: e.pack,
          hint: 'nothing was written; the remote copy is damaged: push it again from a good repository',
        },
      );
    byPack.set(e.pack, [...(byPack.get(e.pack) ?? []), { ...e, id }]);
  }
  const ranges: { pack: string; offset: number; length: number; items: (PackEntry & { id: string })[] }[] = [];
  for (const [pack, items] of byPack) {
    items.sort((a, b) => a.offset - b.offset);
    let cur: (typeof ranges)[number] | null = null;
    for (const it of items) {
      const end = it.offset + it.length;
      if (cur && it.offset - (cur.offset + cur.length) <= FETCH_MAX_GAP && end - cur.offset <= FETCH_MAX_RANGE) {
        cur.length = Math.max(cur.length, end - cur.offset);
        cur.items.push(it);
      } else {
        cur = { pack, offset: it.offset, length: it.length, items: [it] };
        ranges.push(cur);
      }
    }
  }
  const corrupt = (id: string, pack: string, e: unknown) => corruptFrom(s, id, pack, e);
  let bytes = 0;
  const slots = new RangeSlots(FETCH_MAX_RANGE);
  await bounded(ranges.length, jobs, async (i) => {
    const r = ranges[i]!;
    const buf = await s.backend.readRange(packKey(r.pack), r.offset, r.length);
    const length = buf.length;
    bytes += length;
    if (typeof sink === 'function') {
      for (const it of r.items) {
        const stored = buf.subarray(it.offset - r.offset, it.offset - r.offset + it.length);
        try {
          sink(it.id, Buffer.from(stored), decodeVerified(stored, it.id, { bound: bound(it.id) }));
        } catch (e) {
          throw corrupt(it.id, r.pack, e);
        }
      }
    } else {
      // chunks: verified and written by the worker threads, a range per task
      const items = r.items.map((it) => ({
        id: it.id,
        offset: it.offset - r.offset,
        length: it.length,
        size: sizes?.get(it.id),
        places: sink.staged?.placesOf(it.id),
      }));
      const slot = slots.take(length);
      let waiting: Set<string> | null = null;
      try {
        const data = new Uint8Array(slot, 0, length);
        data.set(buf);
        const res = await sink.pool.submit({
          op: 'put',
          data,
          items,
          store: sink.repo.objects.workerHandle(),
          storePlaced: sink.storePlaced,
          keepDeferred: sink.pending?.keepBytes ?? false,
        });
        sink.repo.objects.acceptPacked(res.packed);
        for (const d of res.deferred ?? []) {
          if (!sink.pending) throw lostBase(s, d.id);
          sink.pending.add(d, items.find((it) => it.id === d.id)?.places);
          (waiting ??= new Set()).add(d.id);
        }
      } catch (e) {
        throw corrupt(String((e as MvmError).data?.id ?? ''), r.pack, e);
      } finally {
        slots.give(slot);
      }
      // a delta waiting for its base is filled in once it is checked (receiveDeltas)
      for (const it of r.items) if (!waiting?.has(it.id)) sink.staged?.filled(it.id);
    }
    progress?.advance?.(length);
  });
  // the small objects are stored once their pack is in place: before anything names them, and before
  // a delta based on one of them is checked on another thread
  if (typeof sink !== 'function') sink.repo.objects.flushPacks();
  return bytes;
}
