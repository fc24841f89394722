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

/**
 * Downloads objects by id from the remote's packs with ranged reads, merging
 * neighbours in one pack into one request. Every object is hash-checked once:
 * here, for manifests and file objects handed to `sink` with their content,
 * or by the worker threads that store chunks; a bad one is REMOTE_CORRUPT.
 * Manifests and file objects decode to at most MAX_METADATA_SIZE, a chunk
 * to the size `sizes` has for it (its file object's word) and at most
 * MAX_OBJECT_SIZE, each checked before anything is allocated.
 */
export async function download(
  s: RemoteSession,
  index: RemoteIndex,
  ids: string[],
  jobs: number,
  sink:
    | ((id: string, stored: Buffer, content: Buffer) => void)
    | { repo: Repository; pool: ChunkPool; staged: StagedFiles | null; storePlaced: boolean },
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
  const corrupt = (id: string, pack: string, e: unknown) => {
    if (!isMvmError(e, 'OBJECT_CORRUPT')) return e;
    return new MvmError('REMOTE_CORRUPT', `object ${id} on ${s.remote.url} is corrupt (${e.code})`, {
      url: s.remote.url,
      id,
      pack,
      hint: "nothing was written; the remote copy is damaged: 'mvm push --repair' from a good repository mends it",
    });
  };
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
      try {
        const data = new Uint8Array(slot, 0, length);
        data.set(buf);
        await sink.pool.submit({
          op: 'put',
          data,
          items,
          store: sink.repo.objects.workerHandle(),
          storePlaced: sink.storePlaced,
        });
      } catch (e) {
        throw corrupt(String((e as MvmError).data?.id ?? ''), r.pack, e);
      } finally {
        slots.give(slot);
      }
      for (const it of r.items) sink.staged?.filled(it.id);
    }
    progress?.advance?.(length);
  });
  return bytes;
}
