/**
 * Pack files: many small objects' stored bytes in one file, with a sorted
 * index at its end, so a model of hundreds of tiny tensors takes one file
 * (and its disk blocks) instead of hundreds. Layout (docs/FORMAT.md, Packs):
 *
 *   "MVMPACK1"                      8 bytes
 *   stored bytes of each object     back to back, in any order
 *   index                           n entries of ENTRY_SIZE, ids strictly increasing:
 *                                   32-byte id, u64 offset, u32 length (little-endian)
 *   trailer                         u32 n, u32 0, u64 index offset, 32-byte BLAKE3 of the index
 *
 * A pack is named `<BLAKE3 of its index, hex>.pack`. Everything in it is
 * checked before use: the trailer against the file's size, the index against
 * its hash and order, each entry against the object area and the largest
 * stored size an object may have; objects themselves are verified by their
 * hash when decoded, like loose ones.
 */
import { closeSync, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { blake3Hex } from './hash.js';
import { readFully } from './readFully.js';
import { maxStoredSize } from './codec.js';
import { MAX_OBJECT_SIZE } from '../core/limits.js';
import { fsyncDir, tempPath } from './atomic.js';
import { faultPoint } from './faults.js';

export const PACK_MAGIC = Buffer.from('MVMPACK1');
export const ENTRY_SIZE = 44;
export const TRAILER_SIZE = 48;
/** Objects whose stored bytes are at most this many go into packs (where the store writes packs). */
export const SMALL_OBJECT = 256 * 1024;
/** The most entries one pack may claim: what an index of that many entries could describe at all. */
const MAX_ENTRIES = 1 << 26;

/** The file name of a pack, from its index's hash. */
export function packFileName(indexHash: string): string {
  return `${indexHash}.pack`;
}

/** True for names of pack files. */
export function isPackName(name: string): boolean {
  return /^[0-9a-f]{64}\.pack$/.test(name);
}

/** Why a pack cannot be used: the PACK_CORRUPT-style message for `path`. */
function badPack(path: string, why: string): MvmError {
  return new MvmError('OBJECT_CORRUPT', `pack ${path} is damaged: ${why}`, {
    path,
    hint: "run 'mvm fsck' to see which objects it held, then 'mvm fsck --repair'",
  });
}

/** One pack's index, checked: where each object's stored bytes lie in the pack file. */
export class PackIndex {
  private constructor(
    readonly path: string,
    readonly size: number,
    readonly mtimeMs: number,
    /** The index entries (n * ENTRY_SIZE bytes). */
    private readonly index: Buffer,
  ) {}

  get count(): number {
    return this.index.length / ENTRY_SIZE;
  }

  /** Reads and checks the index of the pack at `path` (OBJECT_CORRUPT when it is damaged). */
  static load(path: string): PackIndex {
    let fd = -1;
    try {
      fd = openSync(path, 'r');
      const st = fstatSync(fd);
      const size = st.size;
      if (size < PACK_MAGIC.length + TRAILER_SIZE) throw badPack(path, 'it is too short');
      const head = Buffer.alloc(PACK_MAGIC.length);
      readFully(fd, head, 0);
      if (!head.equals(PACK_MAGIC)) throw badPack(path, 'it does not start as a pack');
      const trailer = Buffer.alloc(TRAILER_SIZE);
      if (readFully(fd, trailer, size - TRAILER_SIZE) < TRAILER_SIZE) throw badPack(path, 'it ends early');
      const n = trailer.readUInt32LE(0);
      const at = Number(trailer.readBigUInt64LE(8));
      if (n > MAX_ENTRIES || at !== size - TRAILER_SIZE - n * ENTRY_SIZE || at < PACK_MAGIC.length)
        throw badPack(path, `its trailer claims ${n} objects indexed at ${at}, which a ${size}-byte file cannot hold`);
      const index = Buffer.alloc(n * ENTRY_SIZE);
      if (readFully(fd, index, at) < index.length) throw badPack(path, 'its index ends early');
      if (blake3Hex(index) !== trailer.subarray(16, 48).toString('hex'))
        throw badPack(path, 'its index does not match its checksum');
      const maxStored = maxStoredSize(MAX_OBJECT_SIZE);
      for (let i = 0; i < n; i++) {
        const e = i * ENTRY_SIZE;
        if (i > 0 && index.compare(index, e - ENTRY_SIZE, e - ENTRY_SIZE + 32, e, e + 32) <= 0)
          throw badPack(path, 'its index is not in order');
        const off = Number(index.readBigUInt64LE(e + 32));
        const len = index.readUInt32LE(e + 40);
        if (off < PACK_MAGIC.length || off + len > at || len > maxStored)
          throw badPack(path, `entry ${i} points outside the objects it holds`);
      }
      return new PackIndex(path, size, st.mtimeMs, index);
    } catch (e) {
      if (e instanceof MvmError) throw e;
      throw fromSystemError(e, path, 'reading');
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  /** The entry number of object `raw` (its 32-byte id), or -1. */
  find(raw: Buffer): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = mid * ENTRY_SIZE;
      // the entry's id against the one looked for
      const c = this.index.compare(raw, 0, 32, e, e + 32);
      if (c === 0) return mid;
      if (c > 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }

  /** Entry i: its id (hex), offset and stored length. */
  entry(i: number): { id: string; offset: number; length: number } {
    const e = i * ENTRY_SIZE;
    return {
      id: this.index.toString('hex', e, e + 32),
      offset: Number(this.index.readBigUInt64LE(e + 32)),
      length: this.index.readUInt32LE(e + 40),
    };
  }

  /** Every object id in this pack. */
  *ids(): Iterable<string> {
    for (let i = 0; i < this.count; i++) yield this.index.toString('hex', i * ENTRY_SIZE, i * ENTRY_SIZE + 32);
  }
}

/** An object entry to write into a pack: its id, and where its stored bytes are (read with `read`). */
export interface PackEntry {
  id: string;
  offset: number;
  length: number;
}

/**
 * A pack being written: objects are appended to a temporary file in
 * `tmpDir` as they come; `finish` writes the index and trailer and renames
 * the file into `packDir` (fsynced first with `fsync`). Nothing is visible
 * to readers before `finish`; `abandon` removes the temporary file.
 */
export class PackBuilder {
  private fd = -1;
  private tmp = '';
  private at = PACK_MAGIC.length;
  private readonly entries = new Map<string, { offset: number; length: number }>();

  constructor(
    private readonly tmpDir: string,
    private readonly packDir: string,
    private readonly fsync: boolean,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The offset and length of a pending object in the temporary file, or undefined. */
  pending(id: string): { offset: number; length: number } | undefined {
    return this.entries.get(id);
  }

  /** The temporary file's descriptor (to read pending objects back), or -1 before the first add. */
  get file(): number {
    return this.fd;
  }

  /** Appends an object's stored bytes (a no-op for an id already added). */
  add(id: string, stored: Uint8Array): void {
    if (this.entries.has(id)) return;
    try {
      if (this.fd < 0) {
        this.tmp = tempPath(this.tmpDir, 'p');
        this.at = PACK_MAGIC.length;
        faultPoint('write', join(this.packDir, 'new.pack'));
        this.fd = openSync(this.tmp, 'wx+', 0o444); // read too: pending objects are read back
        writeAll(this.fd, PACK_MAGIC, 0);
      }
      writeAll(this.fd, stored, this.at);
    } catch (e) {
      this.abandon();
      throw fromSystemError(e, this.packDir, 'writing');
    }
    this.entries.set(id, { offset: this.at, length: stored.length });
    this.at += stored.length;
  }

  /** Writes the index and trailer and moves the pack into place; returns its path, or null when empty. */
  finish(): string | null {
    if (this.fd < 0) return null;
    const ids = [...this.entries.keys()].sort();
    const index = Buffer.alloc(ids.length * ENTRY_SIZE);
    ids.forEach((id, i) => {
      const e = this.entries.get(id)!;
      index.write(id, i * ENTRY_SIZE, 32, 'hex');
      index.writeBigUInt64LE(BigInt(e.offset), i * ENTRY_SIZE + 32);
      index.writeUInt32LE(e.length, i * ENTRY_SIZE + 40);
    });
    const hash = blake3Hex(index);
    const trailer = Buffer.alloc(TRAILER_SIZE);
    trailer.writeUInt32LE(ids.length, 0);
    trailer.writeBigUInt64LE(BigInt(this.at), 8);
    trailer.write(hash, 16, 32, 'hex');
    const dest = join(this.packDir, packFileName(hash));
    try {
      writeAll(this.fd, index, this.at);
      writeAll(this.fd, trailer, this.at + index.length);
      if (this.fsync) {
        faultPoint('fsync', dest);
        fsyncSync(this.fd);
      }
      closeSync(this.fd);
      this.fd = -1;
      faultPoint('rename', dest);
      renameSync(this.tmp, dest);
      if (this.fsync) fsyncDir(this.packDir);
    } catch (e) {
      this.abandon();
      throw fromSystemError(e, dest, 'writing');
    }
    this.entries.clear();
    return dest;
  }

  /** Drops the pack being written. */
  abandon(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.entries.clear();
    if (!this.tmp) return;
    try {
      unlinkSync(this.tmp);
    } catch {
      /* never made, or already moved into place */
    }
  }
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off, position + off);
}

/** Small objects a worker encoded and hands back to be packed: ids, their stored lengths, their bytes in a row. */
export interface PackedItems {
  ids: string[];
  lengths: number[];
  data: Uint8Array;
}

/** Collects small encoded objects on a worker thread, for PackedItems. */
export class PackedCollector {
  private readonly ids: string[] = [];
  private readonly lengths: number[] = [];
  private readonly parts: Buffer[] = [];

  /** Keeps a copy of `stored` as object `id`. */
  add(id: string, stored: Uint8Array): void {
    this.ids.push(id);
    this.lengths.push(stored.length);
    this.parts.push(Buffer.from(stored));
  }

  /** The collected objects, or undefined when none. */
  items(): PackedItems | undefined {
    return this.ids.length ? { ids: this.ids, lengths: this.lengths, data: Buffer.concat(this.parts) } : undefined;
  }
}
