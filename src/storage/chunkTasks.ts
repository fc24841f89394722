import { closeSync, openSync, writeSync } from 'node:fs';
import { readFully } from './readFully.js';
import { blake3Hex } from './hash.js';
import { corruptObject, decodedSize, deltaOf, threadCodec, type GroupChoice } from './codec.js';
import { MAX_OBJECT_SIZE } from '../core/limits.js';
import { decodeVerified } from './objectFile.js';
import { openObjectStore, packable, PackedCollector, type ObjectStoreHandle, type PackedItems } from './objectStore.js';
import type { PoolResult } from './workerPool.js';
import { MvmError } from '../errors.js';
import { smallerDelta } from './deltaChoice.js';

/** Reads, decodes and verifies one object, then writes its content into `fd` at `offset`. */
export interface RestoreTask {
  op: 'restore';
  id: string;
  size: number;
  store: ObjectStoreHandle;
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
  store: ObjectStoreHandle;
  fd: number;
  offset: number;
}
/** Reads, decodes and verifies one stored object without writing anything. */
export interface VerifyTask {
  op: 'verify';
  id: string;
  store: ObjectStoreHandle;
}
/**
 * One chunk of a RangeTask: a byte range of the file, the byte grouping to try, and the parent version's chunk of the
 * same tensor (a delta base).
 */
export interface RangeSpan {
  start: number;
  end: number;
  group: GroupChoice;
  base?: string;
  /**
   * The tensor the chunk belongs to (with `base`): once one chunk of it is not alike its base, the rest are not tried.
   */
  tensor?: number;
  /** A chunk id held elsewhere (a partial store's remote): a chunk with this id is not stored here. */
  held?: string;
}
/**
 * Reads a run of chunks of a file itself, hashes them, and with `write`
 * compresses and writes those not in `store` yet. Workers each take a range, so
 * reading and hashing scale across cores with no buffers crossing threads.
 */
export interface RangeTask {
  op: 'range';
  path: string;
  spans: RangeSpan[];
  write: boolean;
  store: ObjectStoreHandle;
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
  store: ObjectStoreHandle;
  /** false: an item written into `places` is not also stored (a partial store keeps it only there). */
  storePlaced?: boolean;
  /** A delta whose base is not stored yet is handed back (PutResult.deferred): with its bytes when true. */
  keepDeferred?: boolean;
}
/**
 * A delta a PutTask could not check yet because its base is not stored:
 * nothing of it was written. `size` is its declared size (held to its file
 * object's word already); `bytes` its stored bytes when the task kept them.
 */
export interface DeferredDelta {
  id: string;
  base: string;
  size: number;
  bytes: Uint8Array | null;
}
/**
 * Checks objects as stored (`data` holds them at the given offsets: a range
 * of a remote pack) without writing anything; the result lists, rather than
 * throws, every one that does not decode to content hashing to its id, and
 * the deltas apart, unchecked.
 */
export interface CheckTask {
  op: 'check';
  data: Uint8Array;
  items: { id: string; offset: number; length: number }[];
}
/** Work that the chunk worker pool runs. */
export type ChunkTask = RestoreTask | VerifyTask | RangeTask | PatchTask | PutTask | CheckTask;

/** One chunk's outcome in a RangeTask: its id and size, whether it was new here, and its stored size if so. */
export interface RangeChunk {
  id: string;
  size: number;
  isNew: boolean;
  storedBytes: number;
}

/** A RestoreTask's or VerifyTask's outcome: the chunk's content size and its stored size. */
export interface LoadResult extends PoolResult {
  op: 'restore' | 'verify';
  id: string;
  size: number;
  storedBytes: number;
}
/** A PatchTask's outcome: `kept` when the bytes already held the chunk and nothing was read or written. */
export interface PatchResult extends PoolResult {
  op: 'patch';
  id: string;
  size: number;
  storedBytes: number;
  kept: boolean;
}
/** A RangeTask's outcome: each chunk's, and their total size. */
export interface RangeResult extends PoolResult {
  op: 'range';
  size: number;
  chunks: RangeChunk[];
  /** New small objects, for the caller to pack (LocalObjectStore.acceptPacked): not stored yet. */
  packed?: PackedItems;
}
/** A PutTask's outcome: the stored bytes of its items, and the deltas whose base is not here yet. */
export interface PutResult extends PoolResult {
  op: 'put';
  storedBytes: number;
  deferred?: DeferredDelta[];
  /** Small objects checked here, for the caller to pack (LocalObjectStore.acceptPacked): not stored yet. */
  packed?: PackedItems;
}
/** A CheckTask's outcome: how many objects it checked, and those that failed, each with why. */
export interface CheckResult extends PoolResult {
  op: 'check';
  checked: number;
  bad: { id: string; code: string; message: string }[];
  /** The deltas among the objects, not decoded (their bases may lie elsewhere). */
  deltas?: string[];
}
/** A task that failed as a whole: its error as data (ChunkPool turns it back into an MvmError). */
export interface FailedResult extends PoolResult {
  op: ChunkTask['op'];
  error: NonNullable<PoolResult['error']>;
}
/** What a task returns, by its kind (`op`), or its failure. */
export type ChunkResult = LoadResult | PatchResult | RangeResult | PutResult | CheckResult | FailedResult;
/** The result of a task of type T that did not fail. */
export type ResultOf<T extends ChunkTask> = Exclude<Extract<ChunkResult, { op: T['op'] }>, FailedResult>;

/** A chunk of `len` bytes read from a file, in this thread's codec `input` scratch. */
function inputScratch(len: number): Buffer {
  return threadCodec().buffer('input', len).subarray(0, len);
}

function runRange(task: RangeTask, packed: PackedCollector): RangeChunk[] {
  const store = openObjectStore(task.store);
  const fd = openSync(task.path, 'r');
  // tensors of this task whose first changed chunk looked written anew, not fine-tuned
  const rewritten = new Set<number>();
  try {
    return task.spans.map((span) => {
      const len = span.end - span.start;
      const data = inputScratch(len);
      if (readFully(fd, data, span.start) < len) {
        throw new MvmError('IO_ERROR', `${task.path} shrank while it was being read`, {
          path: task.path,
          hint: 'wait until the file is fully written and run the command again',
        });
      }
      const id = blake3Hex(data);
      if (!task.write || span.held === id || store.has(id)) return { id, size: len, isNew: false, storedBytes: 0 };
      let enc = threadCodec().encode(data, { level: store.level, group: span.group, scratch: true });
      if (span.base && span.base !== id && span.group && span.group !== 'auto' && !rewritten.has(span.tensor ?? -1)) {
        const d = smallerDelta(store, data, span.base, span.group, enc);
        if (d === 'unlike') rewritten.add(span.tensor ?? -1);
        else enc = d;
      }
      if (packable(task.store, enc.bytes.length)) packed.add(id, enc.bytes);
      else store.writeEncoded(id, enc.bytes);
      return { id, size: len, isNew: true, storedBytes: enc.bytes.length };
    });
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `content` into `fd` at `offset`. */
function writeAll(fd: number, content: Buffer, offset: number): void {
  for (let off = 0; off < content.length; ) off += writeSync(fd, content, off, content.length - off, offset + off);
}

function runPut(task: PutTask): PutResult {
  const store = openObjectStore(task.store);
  let size = 0;
  const deferred: DeferredDelta[] = [];
  const packed = new PackedCollector();
  for (const it of task.items) {
    let stored: Uint8Array = task.data.subarray(it.offset, it.offset + it.length);
    const bound = { exact: it.size };
    let content: Buffer;
    const delta = deltaOf(stored);
    if (delta) {
      // its declared size is held to the file object's word and the object limit before anything waits or decodes
      const declared = decodedSize(stored);
      if ((it.size !== undefined && declared !== it.size) || declared > MAX_OBJECT_SIZE)
        throw corruptObject(it.id)(`its header declares ${declared} bytes where ${it.size ?? 'at most'} are expected`);
      if (!store.has(delta.base)) {
        // the base is not here yet: the caller resolves it (arriving later, or fetched for it) and sends it again
        deferred.push({
          id: it.id,
          base: delta.base,
          size: declared,
          bytes: task.keepDeferred ? stored.slice() : null,
        });
        continue;
      }
      ({ content, stored } = store.receiveDelta(it.id, stored, { bound, scratch: true }));
    } else content = decodeVerified(stored, it.id, { scratch: true, bound });
    const keep = task.storePlaced !== false || !it.places?.length;
    if (keep && !store.has(it.id)) {
      if (packable(task.store, stored.length)) packed.add(it.id, stored);
      else store.writeEncoded(it.id, stored);
    }
    for (let i = 0; it.places && i < it.places.length; i += 2) writeAll(it.places[i]!, content, it.places[i + 1]!);
    size += it.length;
  }
  const items = packed.items();
  return { op: 'put', storedBytes: size, ...(deferred.length && { deferred }), ...(items && { packed: items }) };
}

function runCheck(task: CheckTask): CheckResult {
  const bad: CheckResult['bad'] = [];
  const deltas: string[] = [];
  for (const it of task.items) {
    try {
      const stored = task.data.subarray(it.offset, it.offset + it.length);
      // a delta is checked through its base, which this range may not hold: the caller does it
      if (deltaOf(stored)) {
        deltas.push(it.id);
        continue;
      }
      decodeVerified(stored, it.id, { scratch: true });
    } catch (e) {
      const err = taskError(e, it.id);
      bad.push({ id: it.id, code: err.code, message: err.message });
    }
  }
  return { op: 'check', checked: task.items.length, bad, ...(deltas.length && { deltas }) };
}

function runPatch(task: PatchTask): PatchResult {
  const have = inputScratch(task.size);
  if (readFully(task.fd, have, task.offset) === task.size && blake3Hex(have) === task.id)
    return { op: 'patch', id: task.id, size: task.size, storedBytes: 0, kept: true };
  const { content, storedBytes } = openObjectStore(task.store).load(task.id, { scratch: true, size: task.size });
  writeAll(task.fd, content, task.offset);
  return { op: 'patch', id: task.id, size: content.length, storedBytes, kept: false };
}

function runLoad(task: RestoreTask | VerifyTask): LoadResult | FailedResult {
  const size = task.op === 'restore' ? task.size : undefined;
  const { content, storedBytes } = openObjectStore(task.store).load(task.id, { scratch: true, size });
  if (task.op === 'restore' && content.length !== task.size) {
    const message = `object ${task.id} is corrupt (wrong size)`;
    return { op: task.op, error: { code: 'OBJECT_CORRUPT', message, id: task.id } };
  }
  if (task.op === 'restore') writeAll(task.fd, content, task.offset);
  return { op: task.op, id: task.id, size: content.length, storedBytes };
}

/** Runs one task in the current thread; the worker entry point and the inline pool both call this. */
export function runChunkTask(task: ChunkTask): ChunkResult {
  try {
    switch (task.op) {
      case 'put':
        return runPut(task);
      case 'check':
        return runCheck(task);
      case 'range': {
        const packed = new PackedCollector();
        const chunks = runRange(task, packed);
        const items = packed.items();
        return { op: 'range', size: chunks.reduce((n, c) => n + c.size, 0), chunks, ...(items && { packed: items }) };
      }
      case 'patch':
        return runPatch(task);
      case 'verify':
      case 'restore':
        return runLoad(task);
    }
  } catch (e) {
    const id = task.op === 'restore' || task.op === 'verify' || task.op === 'patch' ? task.id : undefined;
    return { op: task.op, error: taskError(e, id) };
  } finally {
    // a task that grew this thread's scratch past SCRATCH_KEEP lets it go
    threadCodec().trim();
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
