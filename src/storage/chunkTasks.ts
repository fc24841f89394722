import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { readFully } from './readFully.js';
import { blake3Hex } from './hash.js';
import {
  decodedSize,
  deltaOf,
  encodeDelta,
  encodeObject,
  topPlane,
  trimScratch,
  SCRATCH_KEEP,
  type Encoded,
} from './codec.js';
import { groupWidth, type GroupKind } from './bytegroup.js';
import { deltaWidth, MAX_DELTA_DEPTH } from './delta.js';
import {
  baseLoader,
  decodeVerified,
  objectPath,
  readObjectFile,
  readStoredFile,
  trimReadScratch,
  writeObjectFile,
} from './objectFile.js';
import type { GroupChoice } from './codec.js';
import type { PoolResult } from './workerPool.js';
import { MvmError } from '../errors.js';

/** Deltas must save this share of the whole encoding to be kept: every read of one also reads its base. */
const DELTA_MIN_SAVING = 0.05;

/**
 * The chunk as a delta against `baseId` (the parent version's chunk of the
 * same tensor) when that is smaller by DELTA_MIN_SAVING, else `whole`. A base
 * that is gone, damaged, of another size or already MAX_DELTA_DEPTH deep
 * leaves the chunk whole; 'unlike' says the tensor looks written anew.
 */
function smallerDelta(
  objectsDir: string,
  content: Buffer,
  baseId: string,
  group: GroupKind,
  whole: Encoded,
): Encoded | 'unlike' {
  try {
    const w = deltaWidth(group);
    const stored = readStoredFile(objectsDir, baseId, { reuse: true });
    const depth = (deltaOf(stored)?.depth ?? 0) + 1;
    if (!w || depth > MAX_DELTA_DEPTH || decodedSize(stored) !== content.length) return whole;
    // a look at the base's sign-and-exponent plane alone, when it has one, before decoding all of it
    const n = Math.floor(content.length / w);
    const top = topPlane(stored);
    const looked = top !== null && top.kind === group;
    if (looked && !alike((i) => top.plane[i]!, content, group, Math.min(n, top.plane.length))) return 'unlike';
    // the base lives in scratch memory until the difference is taken (encodeDelta reads it first)
    const base = decodeVerified(stored, baseId, true, baseLoader(objectsDir), { exact: content.length });
    if (!looked && !alike((i) => topByte(base, i, group), content, group, n)) return 'unlike';
    const d = encodeDelta(content, base, baseId, depth, group, true);
    return d && d.bytes.length < whole.bytes.length * (1 - DELTA_MIN_SAVING) ? d : whole;
  } catch {
    return whole;
  }
}

/**
 * Element i's top byte as the byte planes of `kind` group it: for floats the
 * sign and exponent (after the one-bit rotation), for integers the high byte.
 */
function topByte(b: Uint8Array, i: number, kind: GroupKind): number {
  const w = groupWidth(kind);
  const rotate = kind === 'bf16' || kind === 'f16' || kind === 'f32';
  const j = i * w;
  if (w === 2) {
    const v = b[j]! | (b[j + 1]! << 8);
    return (rotate ? ((v << 1) | (v >>> 15)) >>> 8 : v >>> 8) & 0xff;
  }
  const v = (b[j]! | (b[j + 1]! << 8) | (b[j + 2]! << 16) | (b[j + 3]! << 24)) >>> 0;
  return (rotate ? ((v << 1) | (v >>> 31)) >>> 24 : v >>> 24) & 0xff;
}

/**
 * Whether a chunk looks fine-tuned from its base: most of a sample of every
 * 16th element (of the first n) keeps the base's top byte (`baseTop(i)`), as a
 * small relative change leaves a float's sign and exponent alone. A tensor
 * written anew shares far fewer, and its difference would not compress.
 */
function alike(baseTop: (i: number) => number, b: Uint8Array, kind: GroupKind, n: number): boolean {
  let same = 0;
  let seen = 0;
  for (let i = 0; i < n; i += 16, seen++) same += +(baseTop(i) === topByte(b, i, kind));
  return seen === 0 || same >= seen * 0.6;
}

/** Reads, decodes and verifies one object, then writes its content into `fd` at `offset`. */
export interface RestoreTask {
  op: 'restore';
  id: string;
  size: number;
  objectsDir: string;
  fd: number;
  offset: number;
}
/**
 * Makes `size` bytes at `offset` of `fd` hold chunk `id`: they are read and
 * hashed first, and only when they differ is the chunk decoded from the store
 * and written. Used when a file is rebuilt from a copy of an older version.
 */
export interface PatchTask {
  op: 'patch';
  id: string;
  size: number;
  objectsDir: string;
  fd: number;
  offset: number;
}
/** Reads, decodes and verifies one stored object without writing anything. */
export interface VerifyTask {
  op: 'verify';
  id: string;
  objectsDir: string;
}
/** One chunk of a RangeTask: a byte range of the file, the byte grouping to try, and the parent version's chunk of the same tensor (a delta base). */
export interface RangeSpan {
  start: number;
  end: number;
  group: GroupChoice;
  base?: string;
  /** The tensor the chunk belongs to (with `base`): once one chunk of it is not alike its base, the rest are not tried. */
  tensor?: number;
  /** A chunk id held elsewhere (a partial store's remote): a chunk with this id is not stored here. */
  held?: string;
}
/**
 * Reads a run of chunks of a file itself, hashes them, and with `store`
 * compresses and writes those not stored yet. Workers each take a range, so
 * reading and hashing scale across cores with no buffers crossing threads.
 */
export interface RangeTask {
  op: 'range';
  path: string;
  spans: RangeSpan[];
  store: boolean;
  objectsDir: string;
  tmpDir: string;
  level: number;
  fsync: boolean;
}
/**
 * Verifies objects as stored (bytes fetched from a remote, say: `data` holds
 * them at the given offsets) and writes those not stored yet. A worker per
 * range spreads the decoding and hashing of a download over the cores. An
 * item's `places` ([fd, offset, ...]) are where its verified content is also
 * written: files being built while they download (and, with `storePlaced`
 * false, the only place it is written).
 */
export interface PutTask {
  op: 'put';
  data: Uint8Array;
  /** `size`: the content size the item's file object declares; its decode is held to it before allocating. */
  items: { id: string; offset: number; length: number; size?: number; places?: number[] }[];
  objectsDir: string;
  tmpDir: string;
  fsync: boolean;
  /** false: an item written into `places` is not also stored (a partial store keeps it only there). */
  storePlaced?: boolean;
}
/**
 * Checks objects as stored (`data` holds them at the given offsets: a range
 * of a remote pack) without writing anything; the result lists, rather than
 * throws, every one that does not decode to content hashing to its id.
 */
export interface CheckTask {
  op: 'check';
  data: Uint8Array;
  items: { id: string; offset: number; length: number }[];
}
/** Work that the chunk worker pool runs. */
export type ChunkTask = RestoreTask | VerifyTask | RangeTask | PatchTask | PutTask | CheckTask;

/** One chunk's outcome in a RangeTask. */
export interface RangeChunk {
  id: string;
  size: number;
  isNew: boolean;
  storedBytes: number;
}

/** What a task returns: the chunk id, its size, and whether it was new and its stored size. */
export interface ChunkResult extends PoolResult {
  id: string;
  size: number;
  isNew: boolean;
  storedBytes: number;
  /** Per-chunk outcomes of a RangeTask. */
  chunks?: RangeChunk[];
  /** For a PatchTask: true when the bytes already held the chunk and nothing was written. */
  kept?: boolean;
  /** For a CheckTask: the objects that failed, each with why. */
  bad?: { id: string; code: string; message: string }[];
}

/** The path of an object file; it lives in objectFile.ts and is re-exported here for the task modules. */
export { objectPath } from './objectFile.js';

/**
 * Reads, decodes and verifies one stored object. Throws MvmError
 * OBJECT_MISSING or OBJECT_CORRUPT. With `reuse`, the content lives in a
 * per-thread scratch buffer valid until the next load.
 */
export function loadChunk(
  objectsDir: string,
  id: string,
  reuse: boolean,
  size?: number,
): { content: Buffer; storedBytes: number } {
  return readObjectFile(objectsDir, id, reuse, { exact: size });
}

/** Lets go of this thread's read and hash scratch (and the codec's) when a task grew it past SCRATCH_KEEP. */
function trimTaskScratch(): void {
  if (rangeScratch.length > SCRATCH_KEEP) rangeScratch = Buffer.alloc(0);
  trimScratch();
  trimReadScratch();
}

let rangeScratch = Buffer.alloc(0);

function runRange(task: RangeTask): RangeChunk[] {
  const fd = openSync(task.path, 'r');
  // tensors of this task whose first changed chunk looked written anew, not fine-tuned
  const rewritten = new Set<number>();
  try {
    return task.spans.map((span) => {
      const len = span.end - span.start;
      if (rangeScratch.length < len) rangeScratch = Buffer.alloc(Math.max(len, 1 << 20));
      const data = rangeScratch.subarray(0, len);
      if (readFully(fd, data, span.start) < len) {
        throw new MvmError('IO_ERROR', `${task.path} shrank while it was being read`, {
          path: task.path,
          hint: 'wait until the file is fully written and run the command again',
        });
      }
      const id = blake3Hex(data);
      if (!task.store || span.held === id || existsSync(objectPath(task.objectsDir, id)))
        return { id, size: len, isNew: false, storedBytes: 0 };
      let enc = encodeObject(data, { level: task.level, group: span.group }, true);
      if (span.base && span.base !== id && span.group && span.group !== 'auto' && !rewritten.has(span.tensor ?? -1)) {
        const d = smallerDelta(task.objectsDir, data, span.base, span.group, enc);
        if (d === 'unlike') rewritten.add(span.tensor ?? -1);
        else enc = d;
      }
      writeObjectFile(task.objectsDir, task.tmpDir, id, enc.bytes, task.fsync);
      return { id, size: len, isNew: true, storedBytes: enc.bytes.length };
    });
  } finally {
    closeSync(fd);
  }
}

/** Runs one task in the current thread; the worker entry point and the inline pool both call this. */
export function runChunkTask(task: ChunkTask): ChunkResult {
  try {
    switch (task.op) {
      case 'put': {
        let size = 0;
        for (const it of task.items) {
          const stored = task.data.subarray(it.offset, it.offset + it.length);
          const content = decodeVerified(stored, it.id, true, undefined, { exact: it.size });
          const keep = task.storePlaced !== false || !it.places?.length;
          if (keep && !existsSync(objectPath(task.objectsDir, it.id)))
            writeObjectFile(task.objectsDir, task.tmpDir, it.id, stored, task.fsync);
          for (let i = 0; it.places && i < it.places.length; i += 2) {
            const fd = it.places[i]!;
            const at = it.places[i + 1]!;
            for (let off = 0; off < content.length; )
              off += writeSync(fd, content, off, content.length - off, at + off);
          }
          size += it.length;
        }
        return { id: '', size, isNew: false, storedBytes: size };
      }
      case 'check': {
        const bad: NonNullable<ChunkResult['bad']> = [];
        for (const it of task.items) {
          try {
            decodeVerified(task.data.subarray(it.offset, it.offset + it.length), it.id, true);
          } catch (e) {
            const err = taskError(e, it.id);
            bad.push({ id: it.id, code: err.code, message: err.message });
          }
        }
        return { id: '', size: task.items.length, isNew: false, storedBytes: 0, bad };
      }
      case 'range': {
        const chunks = runRange(task);
        return { id: '', size: chunks.reduce((n, c) => n + c.size, 0), isNew: false, storedBytes: 0, chunks };
      }
      case 'patch': {
        if (rangeScratch.length < task.size) rangeScratch = Buffer.alloc(Math.max(task.size, 1 << 20));
        const have = rangeScratch.subarray(0, task.size);
        if (readFully(task.fd, have, task.offset) === task.size && blake3Hex(have) === task.id)
          return { id: task.id, size: task.size, isNew: false, storedBytes: 0, kept: true };
        const { content, storedBytes } = loadChunk(task.objectsDir, task.id, true, task.size);
        let off = 0;
        while (off < content.length) off += writeSync(task.fd, content, off, content.length - off, task.offset + off);
        return { id: task.id, size: content.length, isNew: false, storedBytes, kept: false };
      }
      case 'verify':
      case 'restore': {
        const { content, storedBytes } = loadChunk(
          task.objectsDir,
          task.id,
          true,
          task.op === 'restore' ? task.size : undefined,
        );
        if (task.op === 'restore' && content.length !== task.size) {
          return {
            id: task.id,
            size: 0,
            isNew: false,
            storedBytes: 0,
            error: { code: 'OBJECT_CORRUPT', message: `object ${task.id} is corrupt (wrong size)`, id: task.id },
          };
        }
        if (task.op === 'restore') {
          let off = 0;
          while (off < content.length) off += writeSync(task.fd, content, off, content.length - off, task.offset + off);
        }
        return { id: task.id, size: content.length, isNew: false, storedBytes };
      }
    }
  } catch (e) {
    const id = task.op === 'restore' || task.op === 'verify' || task.op === 'patch' ? task.id : undefined;
    return { id: id ?? '', size: 0, isNew: false, storedBytes: 0, error: taskError(e, id) };
  } finally {
    trimTaskScratch();
  }
}

/** A thrown error as data that can cross a thread boundary (MvmError code, or the errno). */
export function taskError(e: unknown, id?: string): NonNullable<PoolResult['error']> {
  if (e instanceof MvmError) {
    const { id: dataId, hint, path } = e.data as { id?: string; hint?: string; path?: string };
    return { code: e.code, message: e.message, id: dataId ?? id, hint, path };
  }
  const err = e as NodeJS.ErrnoException;
  return {
    code: 'IO_ERROR',
    message: err?.message ?? String(e),
    id,
    errno: typeof err?.code === 'string' ? err.code : undefined,
  };
}
