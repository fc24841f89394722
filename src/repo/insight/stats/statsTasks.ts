import { taskError } from '../../../storage/chunkTasks.js';
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
}

/** The partial sums of one chunk pair. */
export interface StatsResult extends PoolResult {
  partial?: DiffPartial;
  bytes: number;
}

let keep = Buffer.alloc(0);
let pairs: Bf16Pairs | null | undefined;

/** One side of a pair, checked against the size the file objects give. */
function side(task: StatsTask, id: string): Buffer {
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
