/**
 * The packs of one objects directory as this thread sees them: their checked
 * indexes (read once, looked up in memory, so finding a packed object opens
 * nothing), descriptors opened on first read and kept, the pack this thread
 * is writing, and merging. Other processes add and remove packs at any time:
 * a lookup that misses lists the pack folder again when it changed, so an
 * object moved by a merge is found in its new pack.
 */
import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fromSystemError, type MvmError } from '../errors.js';
import { readFully } from './readFully.js';
import { isPackName, PackBuilder, PackIndex } from './pack.js';
import { faultPoint } from './faults.js';

/** More packs than this after a write: the small ones are merged into one. */
export const MAX_PACKS = 16;
/** Packs at least this large are left as they are by merges (gc still rewrites those holding garbage). */
export const MERGE_BELOW = 32 * 1024 * 1024;
const MAX_OPEN = 64;

interface Loaded {
  name: string;
  index: PackIndex;
  fd: number;
}

/** Where a packed object is: a pack's entry, or the pack being written. */
export interface PackedObject {
  path: string;
  fd: number;
  offset: number;
  length: number;
  mtimeMs: number;
}

/** What a repack did. */
export interface RepackResult {
  /** Packs rewritten (and removed), and the pack written (null when nothing was left to keep). */
  replaced: string[];
  written: string | null;
  /** Objects in the written pack. */
  objects: number;
}

export class PackSet {
  readonly packDir: string;
  private packs: Loaded[] = [];
  private listed = -1;
  private open = 0;
  private writer: PackBuilder | null = null;
  /** Packs that could not be read, by path: why (fsck reports them). */
  readonly problems = new Map<string, MvmError>();

  constructor(readonly objectsDir: string) {
    this.packDir = join(objectsDir, 'pack');
  }

  /** Lists the pack folder again when it changed since last listed; true when the packs changed. */
  refresh(): boolean {
    let mtime: number;
    try {
      // no folder is the common case (a store with no packs yet), asked once per missing object: no error made for it
      mtime = statSync(this.packDir, { throwIfNoEntry: false })?.mtimeMs ?? -2;
    } catch {
      mtime = -2;
    }
    if (mtime === this.listed) return false;
    this.listed = mtime;
    const names = mtime === -2 ? [] : readdirSync(this.packDir).filter(isPackName);
    const have = new Map(this.packs.map((p) => [p.name, p]));
    const next: Loaded[] = [];
    this.problems.clear();
    for (const name of names) {
      const old = have.get(name);
      if (old) {
        have.delete(name);
        next.push(old);
        continue;
      }
      try {
        next.push({ name, index: PackIndex.load(join(this.packDir, name)), fd: -1 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        this.problems.set(join(this.packDir, name), e as MvmError);
      }
    }
    for (const gone of have.values()) this.close(gone);
    this.packs = next;
    return true;
  }

  private ensureListed(): void {
    if (this.listed === -1) this.refresh();
  }

  private close(p: Loaded): void {
    if (p.fd < 0) return;
    closeSync(p.fd);
    p.fd = -1;
    this.open--;
  }

  /** Where object `id` is packed (the pack being written included), or null; `again`: list again on a miss. */
  locate(id: string, again = true): PackedObject | null {
    const pend = this.writer?.pending(id);
    if (pend) return { path: this.packDir, fd: this.writer!.file, ...pend, mtimeMs: Date.now() };
    this.ensureListed();
    // the id as bytes, in a buffer of this thread's reused (a lookup per chunk of a large model allocated one each)
    const raw = RAW_ID;
    if (raw.write(id, 0, 32, 'hex') !== 32) return null;
    for (const p of this.packs) {
      const i = p.index.find(raw);
      if (i < 0) continue;
      const fd = this.fdOf(p);
      if (fd < 0) break; // removed since listed: list again
      const e = p.index.entry(i);
      return { path: p.index.path, fd, offset: e.offset, length: e.length, mtimeMs: p.index.mtimeMs };
    }
    return again && this.refresh() ? this.locate(id, false) : null;
  }

  private fdOf(p: Loaded): number {
    if (p.fd >= 0) return p.fd;
    if (this.open >= MAX_OPEN) for (const q of this.packs) this.close(q);
    try {
      p.fd = openSync(p.index.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, p.index.path, 'reading');
      this.listed = -3; // gone: the next miss lists the folder whatever its time says
      return -1;
    }
    this.open++;
    return p.fd;
  }

  /** Reads `length` bytes at `offset` of a located object into `into` (its start). */
  static read(obj: PackedObject, into: Buffer, start: number, length: number): Buffer {
    try {
      return into.subarray(0, readFully(obj.fd, into, obj.offset + start, length));
    } catch (e) {
      throw fromSystemError(e, obj.path, 'reading');
    }
  }

  /** Every object id in the packs in place (duplicates across packs included; not the pack being written). */
  *ids(): Iterable<string> {
    this.refresh();
    for (const p of this.packs) yield* p.index.ids();
  }

  /** The packs, listed afresh: path, size, object count. */
  list(): { path: string; size: number; count: number }[] {
    this.refresh();
    return this.packs.map((p) => ({ path: p.index.path, size: p.index.size, count: p.index.count }));
  }

  /** True while this thread is writing a pack here. */
  get writing(): boolean {
    return (this.writer?.size ?? 0) > 0;
  }

  /** Appends an object to the pack this thread is writing (made on the first). */
  append(tmpDir: string, id: string, stored: Uint8Array, fsync: boolean): void {
    if (!this.writer) {
      mkdirSync(this.packDir, { recursive: true });
      this.writer = new PackBuilder(tmpDir, this.packDir, fsync);
    }
    this.writer.add(id, stored);
  }

  /** Moves the pack being written into place, then merges small packs when there are too many. */
  flush(tmpDir: string): void {
    const done = this.writer?.finish();
    if (!done) return;
    this.refresh();
    if (this.packs.length > MAX_PACKS) this.repack(tmpDir, { small: true });
  }

  /** Drops the pack being written (its objects were never visible). */
  abandon(): void {
    this.writer?.abandon();
  }

  /**
   * Rewrites packs into one: with `small`, every pack below MERGE_BELOW;
   * with `drop`, also every pack holding one of those ids, which are left
   * out; `absorb` adds loose objects (read through `readLoose`). The new
   * pack is fsynced and in place before any old pack is removed, so a crash
   * leaves every object in at least one pack.
   */
  repack(
    tmpDir: string,
    opts: { small?: boolean; drop?: Set<string>; absorb?: string[]; readLoose?: (id: string) => Buffer },
  ): RepackResult {
    this.refresh();
    const drop = opts.drop ?? new Set<string>();
    const targets = this.packs.filter(
      (p) =>
        (opts.small && p.index.size < MERGE_BELOW) || (drop.size > 0 && [...p.index.ids()].some((id) => drop.has(id))),
    );
    const absorb = opts.absorb ?? [];
    if (targets.length + absorb.length === 0 || (targets.length === 1 && !drop.size && !absorb.length))
      return { replaced: [], written: null, objects: 0 };
    mkdirSync(this.packDir, { recursive: true });
    const out = new PackBuilder(tmpDir, this.packDir, true);
    let buf = Buffer.alloc(64 * 1024);
    try {
      for (const p of targets) {
        const fd = this.fdOf(p);
        if (fd < 0) continue;
        for (let i = 0; i < p.index.count; i++) {
          const e = p.index.entry(i);
          if (drop.has(e.id) || out.pending(e.id)) continue;
          if (buf.length < e.length) buf = Buffer.alloc(e.length);
          const obj = { path: p.index.path, fd, offset: e.offset, length: e.length, mtimeMs: 0 };
          out.add(e.id, PackSet.read(obj, buf, 0, e.length));
        }
      }
      for (const id of absorb) if (!drop.has(id) && !out.pending(id)) out.add(id, opts.readLoose!(id));
    } catch (e) {
      out.abandon();
      throw e;
    }
    const objects = out.size;
    const written = out.finish();
    const replaced: string[] = [];
    for (const p of targets) {
      if (written && p.index.path === written) continue; // the same objects as before: the same pack
      this.close(p);
      try {
        faultPoint('unlink', p.index.path);
        unlinkSync(p.index.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, p.index.path, 'deleting');
      }
      replaced.push(p.index.path);
    }
    this.listed = -3;
    this.refresh();
    return { replaced, written, objects };
  }

  /** Closes every descriptor this set holds. */
  closeAll(): void {
    for (const p of this.packs) this.close(p);
    this.abandon();
  }
}

/** locate's scratch: an id's 32 bytes, written whole before each use (a shorter write is no id). */
const RAW_ID = Buffer.alloc(32);

// this thread's pack sets, by objects directory (a bounded few: tests open many repositories in one process)
const sets = new Map<string, PackSet>();

/** This thread's PackSet of `objectsDir`. */
export function packSetOf(objectsDir: string): PackSet {
  let s = sets.get(objectsDir);
  if (s) return s;
  if (sets.size >= 16) {
    for (const [dir, set] of sets) {
      if (set.writing) continue; // its pending objects are not written yet
      set.closeAll();
      sets.delete(dir);
      break;
    }
  }
  s = new PackSet(objectsDir);
  sets.set(objectsDir, s);
  return s;
}
