import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { MvmError, fromSystemError } from '../errors.js';
import { basename, dirname, join } from 'node:path';
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
import { packSetOf, type PackSet, type RepackResult } from './packSet.js';
import { SMALL_OBJECT, type PackedItems } from './pack.js';
import type { LocalObjectStore } from './objectStoreApi.js';
export { PackedCollector, type PackedItems } from './pack.js';

export type { ByteRange } from './objectFile.js';

export type { ObjectStore, LocalObjectStore } from './objectStoreApi.js';

/** Options of the filesystem object store. */
export interface FsObjectStoreOptions {
  level: number;
  fsync: boolean;
  /** Small objects written through worker tasks go into packs (repository format 2 and later). */
  packs?: boolean;
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
  packs: boolean;
}

/** True when an object of `storedBytes` goes into a pack in a store that writes packs. */
export function packable(handle: ObjectStoreHandle, storedBytes: number): boolean {
  return handle.packs && storedBytes <= SMALL_OBJECT;
}

/** The store a handle names, in this thread (a worker's side of FsObjectStore.workerHandle). */
export function openObjectStore(handle: ObjectStoreHandle): FsObjectStore {
  return new FsObjectStore(handle.objectsDir, handle.tmpDir, {
    level: handle.level,
    fsync: handle.fsync,
    packs: handle.packs,
  });
}

/**
 * An ObjectStore in `.mvm/objects`: loose objects, one file per object under
 * `<2 hex>/<rest>`, each written to a temporary file and renamed into place
 * (objectFile.ts), and packs of small objects under `pack/` (pack.ts).
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
    const { level, fsync } = this.opts;
    return { kind: 'fs', objectsDir: this.dir, tmpDir: this.tmpDir, level, fsync, packs: !!this.opts.packs };
  }

  private get packSet(): PackSet {
    return packSetOf(this.dir);
  }

  /** The file that holds object `id`. */
  path(id: string): string {
    return objectPath(this.dir, id);
  }

  has(id: string): boolean {
    const packs = this.packSet;
    if (packs.locate(id, false) || existsSync(this.path(id))) return true;
    return packs.refresh() && packs.locate(id, false) !== null;
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
    return this.stat(id)?.size ?? -1;
  }

  /**
   * Packed ones from the pack indexes; loose ones by listing each object folder that an id not packed falls in,
   * then a stat of those listed: an id that is not here costs no system call. Objects a merge packed meanwhile are
   * looked up again once the packs are listed anew.
   */
  storedTotal(ids: Iterable<string>): number {
    let total = 0;
    // ids not packed, by object folder (its two hex digits as a number: no string made per id)
    const looseIn = new Map<number, string[]>();
    for (const id of ids) {
      const packed = this.packSet.locate(id, false);
      if (packed) {
        total += packed.length;
        continue;
      }
      const fan = (id.charCodeAt(0) << 8) | id.charCodeAt(1);
      const list = looseIn.get(fan);
      if (list) list.push(id);
      else looseIn.set(fan, [id]);
    }
    const missed: string[] = [];
    for (const list of looseIn.values()) {
      const fan = list[0]!.slice(0, 2);
      // the folder's objects by id: one string per file here, and the ids asked about are hashed already
      const here = new Set<string>();
      try {
        for (const name of readdirSync(join(this.dir, fan))) here.add(fan + name);
      } catch {
        // no such folder: none of these is loose
      }
      for (const id of list) {
        const st = here.has(id) ? statSync(this.path(id), { throwIfNoEntry: false }) : undefined;
        if (st) total += st.size;
        else missed.push(id);
      }
    }
    if (missed.length && this.packSet.refresh())
      for (const id of missed) total += this.packSet.locate(id, false)?.length ?? 0;
    return total;
  }

  stat(id: string): { mtimeMs: number; size: number } | null {
    const packed = this.packSet.locate(id, false);
    if (packed) return { mtimeMs: packed.mtimeMs, size: packed.length };
    const st = statSync(this.path(id), { throwIfNoEntry: false });
    if (st) return { mtimeMs: st.mtimeMs, size: st.size };
    const moved = this.packSet.locate(id);
    return moved ? { mtimeMs: moved.mtimeMs, size: moved.length } : null;
  }

  encoding(id: string): number {
    try {
      return encodingOf(readStoredFile(this.dir, id, { range: { offset: 0, length: HEADER_SIZE } }));
    } catch {
      return -1;
    }
  }

  *list(): Iterable<string> {
    const packed = new Set(this.packSet.ids());
    yield* packed;
    for (const id of this.listLoose()) if (!packed.has(id)) yield id;
  }

  /** The ids of the loose objects (one file each). */
  *listLoose(): Iterable<string> {
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
    if (this.packSet.locate(id)) {
      // a packed copy, which readers read before any loose one: its bytes are kept aside, and its pack is written
      // again without it (a loose copy, if any, is read from then on; fsck checks it again)
      mkdirSync(lostDir, { recursive: true });
      writeFileSync(join(lostDir, id), this.readStored(id));
      this.packSet.repack(this.tmpDir, { drop: new Set([id]) });
      return true;
    }
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

  acceptPacked(items: PackedItems | undefined): void {
    if (!items) return;
    const packs = this.packSet;
    let at = 0;
    items.ids.forEach((id, i) => {
      const len = items.lengths[i]!;
      packs.append(this.tmpDir, id, items.data.subarray(at, at + len), this.opts.fsync);
      at += len;
    });
  }

  flushPacks(): void {
    this.packSet.flush(this.tmpDir);
  }

  writePacks(): void {
    this.opts.packs = true;
  }

  repack(drop: Set<string>): RepackResult & { absorbed: number } {
    const absorb: string[] = [];
    if (this.opts.packs) {
      for (const id of this.listLoose()) {
        if (drop.has(id)) continue;
        const size = statSync(this.path(id), { throwIfNoEntry: false })?.size ?? Infinity;
        if (size <= SMALL_OBJECT) absorb.push(id);
      }
    }
    const done = this.packSet.repack(this.tmpDir, {
      small: true,
      drop,
      absorb,
      readLoose: (id) => readStoredFile(this.dir, id),
    });
    // the loose copies go once their pack is in place
    for (const id of absorb) this.remove(id);
    return { ...done, absorbed: absorb.length };
  }

  quarantinePack(path: string, lostDir: string): boolean {
    if (dirname(path) !== this.packSet.packDir) return false;
    try {
      mkdirSync(lostDir, { recursive: true });
      faultPoint('rename', path);
      renameSync(path, join(lostDir, basename(path)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fromSystemError(e, path, 'moving aside');
    }
    this.packSet.refresh();
    return true;
  }

  packs(): ReturnType<LocalObjectStore['packs']> {
    const packs = this.packSet.list();
    const problems = [...this.packSet.problems].map(([path, e]) => ({ path, message: e.message }));
    return { packs, problems };
  }

  /** Removes an object's loose file; a packed copy leaves when its pack is written again (repack). */
  remove(id: string): number {
    const size = statSync(this.path(id), { throwIfNoEntry: false })?.size ?? -1;
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
