import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { MvmError, fromSystemError } from '../errors.js';
import { join } from 'node:path';
import { blake3Hex } from './hash.js';
import {
  DELTA_PREFIX,
  decodedSize,
  deltaOf,
  encodeObject,
  encodingOf,
  HEADER_SIZE,
  threadCodec,
  type BaseLoader,
  type SizeBound,
} from './codec.js';
import { groupKindFromCode } from './bytegroup.js';
import {
  baseLoader,
  decodeVerified,
  objectPath,
  readObjectFile,
  readStoredFile,
  writeObjectFile,
  type ByteRange,
} from './objectFile.js';
import { faultPoint } from './faults.js';
import { MAX_DELTA_DEPTH } from './delta.js';

export type { ByteRange } from './objectFile.js';

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
  /** Deletes an object (only gc does, under the writer lock); returns its stored size, or -1 when it was absent. */
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
}

/** Options of the filesystem object store. */
export interface FsObjectStoreOptions {
  level: number;
  fsync: boolean;
}

/**
 * A serialisable handle to a FsObjectStore: what a task posted to a worker
 * thread carries instead of the store, opened there with openObjectStore.
 */
export interface ObjectStoreHandle {
  kind: 'fs';
  objectsDir: string;
  tmpDir: string;
  level: number;
  fsync: boolean;
}

/** Makes a new FsObjectStore's folders: all 256 fan-out folders up front, so object writes never need a mkdir. */
export function makeObjectDirs(objectsDir: string): void {
  for (let i = 0; i < 256; i++) mkdirSync(join(objectsDir, i.toString(16).padStart(2, '0')), { recursive: true });
}

/** The store a handle names, in this thread (a worker's side of FsObjectStore.workerHandle). */
export function openObjectStore(handle: ObjectStoreHandle): FsObjectStore {
  return new FsObjectStore(handle.objectsDir, handle.tmpDir, { level: handle.level, fsync: handle.fsync });
}

/**
 * An ObjectStore in `.mvm/objects`, one file per object under `<2 hex>/<rest>`,
 * each written to a temporary file and renamed into place (objectFile.ts).
 */
export class FsObjectStore implements LocalObjectStore {
  constructor(
    readonly dir: string,
    readonly tmpDir: string,
    private readonly opts: FsObjectStoreOptions,
  ) {}

  /** The zstd level objects are encoded at. */
  get level(): number {
    return this.opts.level;
  }

  workerHandle(): ObjectStoreHandle {
    return { kind: 'fs', objectsDir: this.dir, tmpDir: this.tmpDir, level: this.opts.level, fsync: this.opts.fsync };
  }

  /** The file that holds object `id`. */
  path(id: string): string {
    return objectPath(this.dir, id);
  }

  has(id: string): boolean {
    return existsSync(this.path(id));
  }

  get(id: string): Buffer {
    return readObjectFile(this.dir, id).content;
  }

  put(content: Uint8Array): string {
    const id = blake3Hex(content);
    if (this.has(id)) return id;
    const enc = threadCodec().encode(content, { level: this.opts.level, scratch: true });
    writeObjectFile(this.dir, this.tmpDir, id, enc.bytes, this.opts.fsync);
    return id;
  }

  /**
   * Reads, decodes and verifies object `id`: its content and its stored size.
   * Throws OBJECT_MISSING or OBJECT_CORRUPT. `size`: the size the naming
   * structure declares (a chunk's, in its file object). With `scratch`, the
   * content lives in this thread's codec scratch until its next read.
   */
  load(id: string, opts: { scratch?: boolean; size?: number } = {}): { content: Buffer; storedBytes: number } {
    const bound: SizeBound | undefined = opts.size === undefined ? undefined : { exact: opts.size };
    return readObjectFile(this.dir, id, { scratch: opts.scratch, bound });
  }

  /** An object's stored bytes, unverified, in this thread's codec `read` scratch until the next such read. */
  readStoredScratch(id: string): Buffer {
    return readStoredFile(this.dir, id, { scratch: true });
  }

  /** Loads a delta's base from this store, into this thread's codec scratch (see objectFile.ts). */
  baseLoader(): BaseLoader {
    return baseLoader(this.dir);
  }

  /**
   * Writes encoded bytes as object `id` without decoding them again: only for
   * bytes this thread just encoded from, or verified against, content hashing
   * to `id` (putStored checks them first).
   */
  writeEncoded(id: string, stored: Uint8Array): void {
    writeObjectFile(this.dir, this.tmpDir, id, stored, this.opts.fsync);
  }

  storedSize(id: string): number {
    try {
      return statSync(this.path(id)).size;
    } catch {
      return -1;
    }
  }

  stat(id: string): { mtimeMs: number; size: number } | null {
    const st = statSync(this.path(id), { throwIfNoEntry: false });
    return st ? { mtimeMs: st.mtimeMs, size: st.size } : null;
  }

  encoding(id: string): number {
    try {
      return encodingOf(readStoredFile(this.dir, id, { range: { offset: 0, length: HEADER_SIZE } }));
    } catch {
      return -1;
    }
  }

  *list(): Iterable<string> {
    let fans: string[];
    try {
      fans = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const fan of fans) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const rest of readdirSync(join(this.dir, fan))) {
        if (/^[0-9a-f]{62}$/.test(rest)) yield fan + rest;
      }
    }
  }

  readStored(id: string, range?: ByteRange): Buffer {
    return readStoredFile(this.dir, id, { range });
  }

  deltaBase(id: string): string | null {
    return this.deltaOf(id)?.base ?? null;
  }

  deltaOf(id: string): { base: string; depth: number } | null {
    try {
      return deltaOf(readStoredFile(this.dir, id, { range: { offset: 0, length: HEADER_SIZE + DELTA_PREFIX } }));
    } catch {
      return null;
    }
  }

  /**
   * Checks a delta that came from elsewhere (a remote) against its base here,
   * which must be stored: decodes it through that base (held to `bound`, the
   * size its file object declares, before anything is allocated) and checks
   * the hash (OBJECT_CORRUPT otherwise). Returns its content (in scratch with
   * `scratch`) and the bytes to store: the same delta at its depth here (its
   * base's depth here + 1), or, when that would be deeper than
   * MAX_DELTA_DEPTH, the chunk encoded whole, as this store's writer does.
   */
  receiveDelta(
    id: string,
    stored: Uint8Array,
    opts: { bound?: SizeBound; scratch?: boolean } = {},
  ): { content: Buffer; stored: Uint8Array } {
    const d = deltaOf(stored);
    if (!d) throw new MvmError('BAD_VALUE', `object ${id} is not a delta`, { id });
    const depth = (this.deltaOf(d.base)?.depth ?? 0) + 1;
    if (depth <= MAX_DELTA_DEPTH) {
      const content = decodeVerified(stored, id, { ...opts, loadBase: baseLoader(this.dir) });
      if (d.depth === depth) return { content, stored };
      const copy = Buffer.from(stored);
      copy[HEADER_SIZE + 32] = depth;
      return { content, stored: copy };
    }
    // too deep here: the base is decoded by itself first (its own chain is at most MAX_DELTA_DEPTH deep)
    const base = Buffer.from(baseLoader(this.dir)(d.base, decodedSize(stored)));
    const content = decodeVerified(stored, id, { ...opts, loadBase: () => base });
    const whole = encodeObject(content, { level: this.opts.level, group: groupKindFromCode(stored[3]!) });
    return { content, stored: whole.bytes };
  }

  /**
   * The stored bytes to send elsewhere: as stored, except that a delta is
   * decoded and encoded whole again (what a push sends when the remote has
   * no base for it, and what push --repair re-sends: checkable by itself).
   */
  portableStored(id: string): Buffer {
    const stored = this.readStored(id);
    if (!deltaOf(stored)) return stored;
    const content = decodeVerified(stored, id, { loadBase: baseLoader(this.dir) });
    return encodeObject(content, { level: this.opts.level, group: groupKindFromCode(stored[3]!) }).bytes;
  }

  /** A delta is encoded whole to find its size. */
  portableSize(id: string): number {
    return this.deltaBase(id) ? this.portableStored(id).length : this.storedSize(id);
  }

  /** As ObjectStore.putStored; a delta is checked through its base, which must be here (receiveDelta). */
  putStored(id: string, stored: Uint8Array): void {
    if (deltaOf(stored)) stored = this.receiveDelta(id, stored, { scratch: true }).stored;
    else decodeVerified(stored, id, { scratch: true });
    if (!this.has(id)) writeObjectFile(this.dir, this.tmpDir, id, stored, this.opts.fsync);
  }

  quarantine(id: string, lostDir: string): boolean {
    try {
      mkdirSync(lostDir, { recursive: true });
      faultPoint('rename', this.path(id));
      renameSync(this.path(id), join(lostDir, id));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fromSystemError(e, this.path(id), 'moving aside');
    }
  }

  remove(id: string): number {
    const size = this.storedSize(id);
    if (size < 0) return -1;
    try {
      faultPoint('unlink', this.path(id));
      unlinkSync(this.path(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
      throw fromSystemError(e, this.path(id), 'deleting');
    }
    return size;
  }
}
