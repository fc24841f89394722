/**
 * The one place where object files are read and written: the local object
 * store (FsObjectStore) on the main thread and the chunk tasks on worker
 * threads both go through these functions.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { readFully } from './readFully.js';
import { dirname, join } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { blake3Hex } from './hash.js';
import {
  maxStoredSize,
  threadCodec,
  type BaseLoader,
  type DecodeOptions,
  type OutputOptions,
  type SizeBound,
} from './codec.js';
import { MAX_OBJECT_SIZE } from '../core/limits.js';
import { fsyncDir, tempPath } from './atomic.js';
import { faultPoint } from './faults.js';
import { PackSet, packSetOf, type PackedObject } from './packSet.js';

/** A byte range of an object's stored bytes: `length` bytes from `offset`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** The path of an object inside an objects directory: `<dir>/<2 hex>/<62 hex>`. */
export function objectPath(objectsDir: string, id: string): string {
  return join(objectsDir, id.slice(0, 2), id.slice(2));
}

/** The OBJECT_MISSING error for object `id`. */
export function objectMissing(id: string): MvmError {
  return new MvmError('OBJECT_MISSING', `object ${id} is missing`, {
    id,
    hint: "run 'mvm fsck' to see what else is affected",
  });
}

/**
 * Decodes an object's stored bytes with this thread's codec (see
 * DecodeOptions: `scratch`, `loadBase`, `bound`) and checks that the content
 * hashes to `id`; throws OBJECT_CORRUPT otherwise.
 */
export function decodeVerified(stored: Uint8Array, id: string, opts: DecodeOptions = {}): Buffer {
  const content = threadCodec().decode(stored, id, opts);
  if (blake3Hex(content) !== id) {
    throw new MvmError('OBJECT_CORRUPT', `object ${id} is corrupt (hash mismatch)`, {
      id,
      hint: "run 'mvm fsck' to list every damaged object",
    });
  }
  return content;
}

/**
 * The [start, end) that `range` covers of `size` stored bytes, cut short at
 * the end (a range starting at `size` is empty); BAD_VALUE when an offset or
 * length is negative or fractional, or the range starts past the end.
 */
export function rangeBounds(size: number, range?: ByteRange): [number, number] {
  if (!range) return [0, size];
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset > size) {
    throw new MvmError('BAD_VALUE', `byte range ${offset}+${length} does not fit an object of ${size} bytes`, {
      offset,
      length,
      size,
    });
  }
  return [offset, Math.min(size, offset + length)];
}

/**
 * An object's stored (encoded) bytes, all of them or `range` (see
 * rangeBounds), not verified. Throws OBJECT_MISSING; other failures become
 * MvmErrors naming the file. With `scratch`, the bytes live in this thread's
 * codec's `read` buffer, valid until the next such read.
 */
export function readStoredFile(
  objectsDir: string,
  id: string,
  opts: OutputOptions & { range?: ByteRange } = {},
): Buffer {
  const packs = packSetOf(objectsDir);
  // packed objects are found in memory; a loose file is looked for next, and the pack folder again last
  const packed = packs.locate(id, false);
  if (packed) return readPacked(packed, opts);
  const path = objectPath(objectsDir, id);
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const [start, end] = rangeBounds(fstatSync(fd).size, opts.range);
    const want = end - start;
    // no object's stored bytes can be larger: a bigger file is refused before it is read into memory
    if (want > maxStoredSize(MAX_OBJECT_SIZE))
      throw new MvmError(
        'OBJECT_CORRUPT',
        `object ${id} is corrupt (its file holds ${want} bytes, more than any object may)`,
        { id, hint: "run 'mvm fsck' to list every damaged object" },
      );
    const buf = opts.scratch ? threadCodec().buffer('read', want) : Buffer.allocUnsafe(want);
    return buf.subarray(0, readFully(fd, buf, start, want));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      const moved = packs.refresh() ? packs.locate(id, false) : null;
      if (moved) return readPacked(moved, opts);
      throw objectMissing(id);
    }
    throw fromSystemError(e, path, 'reading');
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** A packed object's stored bytes (all, or a range), as readStoredFile gives them. */
function readPacked(obj: PackedObject, opts: OutputOptions & { range?: ByteRange }): Buffer {
  const [start, end] = rangeBounds(obj.length, opts.range);
  const want = end - start;
  const buf = opts.scratch ? threadCodec().buffer('read', want) : Buffer.allocUnsafe(want);
  return PackSet.read(obj, buf, start, want);
}

/**
 * Reads, decodes and verifies object `id`: its content and its stored size.
 * A delta's base is read the same way, from the same store. Throws
 * OBJECT_MISSING or OBJECT_CORRUPT. With `scratch`, the content lives in
 * this thread's codec's scratch, valid until its next read (the worker path).
 * `bound`: the size the naming structure declares (a chunk's, in its file object).
 */
export function readObjectFile(
  objectsDir: string,
  id: string,
  opts: OutputOptions & { bound?: SizeBound } = {},
): { content: Buffer; storedBytes: number } {
  const stored = readStoredFile(objectsDir, id, { scratch: opts.scratch });
  const content = decodeVerified(stored, id, {
    scratch: opts.scratch,
    loadBase: baseLoader(objectsDir),
    bound: opts.bound,
  });
  return { content, storedBytes: stored.length };
}

/**
 * Loads a delta's base object from the same store, into this thread's
 * scratch buffers (the delta decoder copies it out before anything else
 * decodes). The base's own hash is not checked here: the delta's content is
 * checked against the delta's id, which a damaged base cannot pass, and fsck
 * checks every object by itself.
 */
export function baseLoader(objectsDir: string): BaseLoader {
  const load = (base: string, size?: number): Buffer =>
    threadCodec().decode(readStoredFile(objectsDir, base, { scratch: true }), base, {
      scratch: true,
      loadBase: load,
      bound: { exact: size },
    });
  return load;
}

// Fan-out directories this thread has made: one mkdir per directory, not one per object.
const madeDirs = new Set<string>();

function makeDir(dir: string, objectsDir: string, fsync: boolean, again = false): void {
  if (!again && madeDirs.has(dir)) return;
  // a directory made here is a new entry of the objects directory, which must reach the disk too
  if (mkdirSync(dir, { recursive: true }) !== undefined && fsync) fsyncDir(objectsDir);
  madeDirs.add(dir);
}

/**
 * Writes `stored` (encoded bytes) as object `id`: into a new read-only file
 * in `tmpDir`, renamed into place. With `fsync`, the file is fsynced before
 * the rename and its directory after. On failure the temporary file is
 * removed and the error becomes an MvmError naming the object's file.
 */
export function writeObjectFile(
  objectsDir: string,
  tmpDir: string,
  id: string,
  stored: Uint8Array,
  fsync: boolean,
): void {
  const dest = objectPath(objectsDir, id);
  const dir = dirname(dest);
  const tmp = tempPath(tmpDir, 'o');
  let fd = -1;
  try {
    makeDir(dir, objectsDir, fsync);
    faultPoint('write', dest);
    fd = openSync(tmp, 'wx', 0o444);
    let off = 0;
    while (off < stored.length) off += writeSync(fd, stored, off, stored.length - off);
    if (fsync) {
      faultPoint('fsync', dest);
      fsyncSync(fd);
    }
    closeSync(fd);
    fd = -1;
    faultPoint('rename', dest);
    try {
      renameSync(tmp, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      makeDir(dir, objectsDir, fsync, true); // removed since this thread made it
      renameSync(tmp, dest);
    }
    if (fsync) fsyncDir(dir);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* never made, or already renamed */
    }
    throw fromSystemError(e, dest, 'writing');
  }
}
