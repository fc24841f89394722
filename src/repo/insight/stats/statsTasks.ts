import { closeSync, openSync } from 'node:fs';
import { MvmError, fromSystemError } from '../../../errors.js';
import { taskError } from '../../../storage/chunkTasks.js';
import { blake3Hex } from '../../../storage/hash.js';
import { readFully } from '../../../storage/readFully.js';
import { openObjectStore, type ObjectStoreHandle } from '../../../storage/objectStore.js';
import type { PoolResult } from '../../../storage/workerPool.js';
import { TensorDiffAccumulator, type DiffPartial } from '../../../core/tensorStats.js';
import { Bf16Pairs } from '../../../storage/statsKernel.js';

/** Compares one chunk of a tensor in two versions: decode both, accumulate difference sums. */
export interface StatsTask {
  a: string;
  b: string;
  dtype: string;
  store: ObjectStoreHandle;
  /** Bytes of each chunk (the file objects say both are this long). */
  size: number;
  /** The new side read from a workspace file at this offset instead of the store (checked against `b`). */
  file?: { path: string; offset: number };
}

/** The partial sums of one chunk pair. */
export interface StatsResult extends PoolResult {
  partial?: DiffPartial;
  bytes: number;
}

let keep = Buffer.alloc(0);
let read = Buffer.alloc(0);
let pairs: Bf16Pairs | null | undefined;

/** The new side's bytes from a workspace file, hashed: a file that changed since it was chunked is refused. */
function fromFile(task: StatsTask, file: { path: string; offset: number }): Buffer {
  if (read.length < task.size) read = Buffer.alloc(Math.max(task.size, 1 << 20));
  const buf = read.subarray(0, task.size);
  let fd = -1;
  try {
    fd = openSync(file.path, 'r');
    if (readFully(fd, buf, file.offset, task.size) !== task.size) throw new Error('the file is shorter');
  } catch (e) {
    throw fromSystemError(e, file.path, 'reading');
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  if (blake3Hex(buf) !== task.b)
    throw new MvmError('IO_ERROR', `${file.path} changed while diff --stats read it`, {
      path: file.path,
      hint: 'run the command again once the file is stable',
    });
  return buf;
}

/** One side of a pair, checked against the size the file objects give. */
function side(task: StatsTask, id: string): Buffer {
  if (task.file && id === task.b && id !== task.a) return fromFile(task, task.file);
  const content = openObjectStore(task.store).load(id, { scratch: true }).content;
  if (content.length !== task.size) throw new Error(`chunk ${id} holds ${content.length} bytes, not ${task.size}`);
  return content;
}

/** A bf16 pair compared in the codec's WebAssembly memory, with one copy (see Bf16Pairs). */
function runBf16Pair(task: StatsTask, p: Bf16Pairs): StatsResult {
  const acc = new TensorDiffAccumulator(task.dtype, p.kernel);
  p.reserve(task.size);
  const first = side(task, task.a);
  if (task.a === task.b) {
    acc.update(first, first);
    return { partial: acc.partial(), bytes: 2 * first.length };
  }
  p.keepFirst(first);
  const [a, b] = p.views(side(task, task.b));
  acc.update(a, b);
  return { partial: acc.partial(), bytes: 2 * task.size };
}

/** Runs one stats task in the current thread. */
export function runStatsTask(task: StatsTask): StatsResult {
  try {
    // bf16 pairs are folded by the WebAssembly kernel when there is one; other dtypes, and MVM_KERNELS=js, run the JS
    // loop
    if (task.dtype.toLowerCase() === 'bf16' && (pairs ??= Bf16Pairs.create())) return runBf16Pair(task, pairs);
    const acc = new TensorDiffAccumulator(task.dtype);
    const first = side(task, task.a);
    if (task.a === task.b) {
      acc.update(first, first);
      return { partial: acc.partial(), bytes: 2 * first.length };
    }
    // the next load reuses the same scratch, so keep a copy of the first side
    if (keep.length < first.length) keep = Buffer.alloc(Math.max(first.length, 1 << 20));
    const a = keep.subarray(0, first.length);
    first.copy(a);
    acc.update(a, side(task, task.b));
    return { partial: acc.partial(), bytes: 2 * task.size };
  } catch (e) {
    return { bytes: 0, error: taskError(e, task.b) };
  }
}
