/**
 * The object store interfaces: ObjectStore (what the local store and remotes
 * share) and LocalObjectStore (the repository's own store); FsObjectStore
 * (objectStore.ts) implements the local one.
 */
import type { SizeBound } from './codec.js';
import type { ByteRange } from './objectFile.js';
import type { PackedItems } from './pack.js';
import type { RepackResult } from './packSet.js';
import type { ObjectStoreHandle } from './objectStore.js';

/**
 * ObjectStore holds immutable objects named by the BLAKE3 hash of their
 * content. The local store and remotes implement it; a transfer moves an
 * object's stored bytes with `readStored` on one store and `putStored` on the
 * other, so nothing is decoded and encoded again on the way.
 */
export interface ObjectStore {
  /** True when the object is present (not checked for corruption). */
  has(id: string): boolean;
  /** The verified content of an object; throws OBJECT_MISSING or OBJECT_CORRUPT. */
  get(id: string): Buffer;
  /** Stores content and returns its id; a no-op when it is already present. */
  put(content: Uint8Array): string;
  /** Size of the object as stored (compressed), or -1 when absent. */
  storedSize(id: string): number;
  /**
   * The stored sizes of those of `ids` that are here, summed (an absent one counts 0): what storedSize of each
   * would add up to, without a lookup on disk for each absent one (a partial store holds few of a version's chunks).
   */
  storedTotal(ids: Iterable<string>): number;
  /** Every object id present, in no particular order. */
  list(): Iterable<string>;
  /**
   * The object's stored (encoded) bytes, unverified: all of them, or `range`
   * cut short at the end (a range starting past the end is BAD_VALUE).
   * Throws OBJECT_MISSING. The buffer is the caller's own.
   */
  readStored(id: string, range?: ByteRange): Buffer;
  /**
   * Stores encoded bytes as object `id` after checking that they decode to
   * content hashing to `id` (OBJECT_CORRUPT, and nothing stored, otherwise);
   * a no-op write when the object is already present.
   */
  putStored(id: string, stored: Uint8Array): void;
  /**
   * Deletes an object (only gc does, under the writer lock); returns its stored size, or -1 when it was absent.
   * A local store deletes loose files only: packed objects leave through LocalObjectStore.repack.
   */
  remove(id: string): number;
}

/**
 * The repository's own object store: an ObjectStore that also keeps deltas
 * (objects stored as a difference from another), hands worker threads a
 * handle to itself, and can move a damaged object aside.
 */
export interface LocalObjectStore extends ObjectStore {
  /** What a worker thread opens this store from (openObjectStore): plain data that crosses a thread boundary. */
  workerHandle(): ObjectStoreHandle;
  /** The encoding byte of a stored object (see codec.ts), or -1 when unreadable. */
  encoding(id: string): number;
  /** The object a delta is based on, or null when `id` is stored whole or is absent. */
  deltaBase(id: string): string | null;
  /** A delta's base and its depth here (1: the base is stored whole), or null when stored whole or absent. */
  deltaOf(id: string): { base: string; depth: number } | null;
  /** Checks a delta from elsewhere through its base here: its content and the bytes to store (see FsObjectStore). */
  receiveDelta(
    id: string,
    stored: Uint8Array,
    opts?: { bound?: SizeBound; scratch?: boolean },
  ): { content: Buffer; stored: Uint8Array };
  /** The stored bytes to send elsewhere checkable by themselves: as stored, except that a delta is encoded whole. */
  portableStored(id: string): Buffer;
  /** Size of portableStored(id), or -1 when absent. */
  portableSize(id: string): number;
  /** When the object was last written (ms) and its stored size, or null when absent: one look for both. */
  stat(id: string): { mtimeMs: number; size: number } | null;
  /** Moves a damaged object aside into `lostDir` (so a good copy can be stored again); false when it was absent. */
  quarantine(id: string, lostDir: string): boolean;
  /** Takes small objects a worker encoded (PackedItems) into the pack being written. */
  acceptPacked(items: PackedItems | undefined): void;
  /** Moves the pack being written into place: its objects are stored from then on. */
  flushPacks(): void;
  /** From now on, small objects written through worker tasks go into packs (a repository format upgrade). */
  writePacks(): void;
  /**
   * Rewrites the packs holding any of `drop` without them, and (where this
   * store writes packs) moves small loose objects other than `drop` into the
   * new pack; used by gc. See PackSet.repack.
   */
  repack(drop: Set<string>): RepackResult & { absorbed: number };
  /** Moves a pack file that cannot be read (see packs().problems) aside into `lostDir`; false when it was gone. */
  quarantinePack(path: string, lostDir: string): boolean;
  /** The pack files, and the ones that cannot be read with why (fsck). */
  packs(): { packs: { path: string; size: number; count: number }[]; problems: { path: string; message: string }[] };
}
