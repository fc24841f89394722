import { MvmError } from '../../errors.js';
import { canonicalJson } from '../../core/canonical.js';
import { isObjectId } from '../../core/ids.js';
import { blake3Hex } from '../hash.js';
import { MAX_PACK_BYTES } from '../../core/limits.js';
import type { RemoteBackend } from './backend.js';

/** The layout of a remote; a remote with a newer one is refused. */
export const REMOTE_FORMAT = 1;

/** Where one object sits on a remote: pack, byte offset and length of its stored bytes. */
export interface PackEntry {
  pack: string;
  offset: number;
  length: number;
}

/** A pack index: the objects one pack holds, in pack order. */
export interface PackIndex {
  format: number;
  pack: string;
  objects: [id: string, offset: number, length: number][];
  /**
   * In a pack of file objects: for each, the packs that hold its chunks (so a
   * partial store reads those packs' indexes only). Older readers ignore it.
   */
  chunkPacks?: Record<string, string[]>;
}

/** The most packs a file object's `chunkPacks` may name (a 4 TiB file in 64 MiB packs names 65,536). */
export const MAX_CHUNK_PACKS = 1 << 17;

/** Key of a pack file on the remote. */
export const packKey = (id: string) => `packs/${id}.pack`;
/** Key of a pack index on the remote. */
export const indexKey = (id: string) => `packs/${id}.idx`;
/**
 * Key of the empty file that marks a pack as holding chunks only: a partial
 * store reads such a pack's index only when it needs chunks from it.
 */
export const chunksMarkerKey = (id: string) => `packs/${id}.chunks`;

/** Where a pack's objects go (its index) and how many bytes it has, before any byte is read. */
export interface PackLayout {
  id: string;
  size: number;
  index: PackIndex;
}

/**
 * Lays out objects (ids with their stored sizes, in order) as one pack: the
 * stored bytes back to back, and the index naming each object's place. The
 * pack id is the hash of the index's object list, so the same objects always
 * make the same pack and a push that is run again rewrites it rather than
 * adding another.
 */
export function packLayout(objects: { id: string; length: number }[]): PackLayout {
  const list: PackIndex['objects'] = [];
  let offset = 0;
  for (const o of objects) {
    list.push([o.id, offset, o.length]);
    offset += o.length;
  }
  const id = blake3Hex(Buffer.from(canonicalJson(list)));
  return { id, size: offset, index: { format: REMOTE_FORMAT, pack: id, objects: list } };
}

/**
 * The bytes of a pack in parts of `partSize` (the last one shorter), reading
 * one object at a time, so a pack of any size is sent holding one part.
 */
export function* packParts(layout: PackLayout, read: (id: string) => Buffer, partSize: number): Generator<Buffer> {
  let part = Buffer.allocUnsafe(Math.min(partSize, layout.size));
  let used = 0;
  let left = layout.size;
  for (const [id, , length] of layout.index.objects) {
    const stored = read(id);
    if (stored.length !== length)
      throw new MvmError('OBJECT_CORRUPT', `object ${id} changed size while it was packed`, { id });
    for (let at = 0; at < length; ) {
      const n = Math.min(length - at, part.length - used);
      stored.copy(part, used, at, at + n);
      used += n;
      at += n;
      if (used === part.length) {
        left -= used;
        yield part;
        part = Buffer.allocUnsafe(Math.min(partSize, left));
        used = 0;
      }
    }
  }
}

/**
 * Writes objects to a remote as one pack: the pack whole first, then its
 * index (a reader never meets an index naming bytes not there yet). `read`
 * gives each object's stored bytes; `sent` is told each part as it goes.
 */
export async function writePack(
  backend: RemoteBackend,
  objects: { id: string; length: number }[],
  read: (id: string) => Buffer,
  partSize: number,
  sent?: (bytes: number) => void,
  kind?: { chunksOnly: true } | { chunkPacks: Record<string, string[]> },
): Promise<PackLayout> {
  const layout = packLayout(objects);
  if (kind && 'chunkPacks' in kind) layout.index.chunkPacks = kind.chunkPacks;
  const parts = function* () {
    for (const part of packParts(layout, read, partSize)) {
      yield part;
      sent?.(part.length);
    }
  };
  await backend.writeParts(packKey(layout.id), layout.size, parts());
  // the mark before the index: an index is what makes a pack count
  if (kind && 'chunksOnly' in kind) await backend.write(chunksMarkerKey(layout.id), Buffer.alloc(0));
  await backend.write(indexKey(layout.id), Buffer.from(JSON.stringify(layout.index)));
  return layout;
}

/** A whole pack in one buffer (small packs, tests). */
export function buildPack(
  objects: { id: string; length: number }[],
  read: (id: string) => Buffer,
): { id: string; data: Buffer; index: PackIndex } {
  const layout = packLayout(objects);
  const data = Buffer.concat([...packParts(layout, read, Math.max(1, layout.size))], layout.size);
  return { id: layout.id, data, index: layout.index };
}

/** Parses and checks a pack index read from a remote; anything malformed is REMOTE_CORRUPT. */
export function parsePackIndex(bytes: Buffer, id: string, url: string): PackIndex {
  const bad = (why: string) =>
    new MvmError('REMOTE_CORRUPT', `pack index ${id} on ${url} is malformed: ${why}`, {
      url,
      pack: id,
      hint: 'the remote is damaged; remove that pack index, then push again from a complete repository',
    });
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  const idx = v as PackIndex;
  if (!idx || typeof idx !== 'object' || idx.pack !== id || !Array.isArray(idx.objects))
    throw bad('wrong shape or pack id');
  if (typeof idx.format !== 'number' || idx.format > REMOTE_FORMAT) {
    throw new MvmError(
      'REMOTE_FORMAT',
      `pack index ${id} on ${url} is in format ${String(idx.format)}, newer than this mvm understands`,
      { url, hint: 'upgrade mvm' },
    );
  }
  let end = 0;
  for (const e of idx.objects) {
    if (
      !Array.isArray(e) ||
      e.length !== 3 ||
      typeof e[0] !== 'string' ||
      !isObjectId(e[0]) ||
      !Number.isSafeInteger(e[1]) ||
      !Number.isSafeInteger(e[2]) ||
      e[1] < end ||
      e[2] < 0
    )
      throw bad('bad entry');
    end = e[1] + e[2];
    // a length no pack can have: refused here, before a read would try to hold it
    if (end > MAX_PACK_BYTES)
      throw bad(`object ${e[0]} would end at byte ${end}, past the ${MAX_PACK_BYTES} a pack may hold`);
  }
  if (blake3Hex(Buffer.from(canonicalJson(idx.objects))) !== id) throw bad('its objects do not hash to its id');
  if (idx.chunkPacks !== undefined) {
    const cp = idx.chunkPacks as unknown;
    if (!cp || typeof cp !== 'object' || Array.isArray(cp)) throw bad('chunkPacks is not an object');
    const held = new Set(idx.objects.map((o) => o[0]));
    for (const [file, packs] of Object.entries(cp)) {
      if (!held.has(file)) throw bad(`chunkPacks names ${file.slice(0, 64)}, which the pack does not hold`);
      if (
        !Array.isArray(packs) ||
        packs.length > MAX_CHUNK_PACKS ||
        !packs.every((p) => typeof p === 'string' && isObjectId(p))
      )
        throw bad(`chunkPacks of ${file} is not a list of pack ids`);
    }
  }
  return {
    format: idx.format,
    pack: idx.pack,
    objects: idx.objects,
    ...(idx.chunkPacks && { chunkPacks: idx.chunkPacks }),
  };
}
