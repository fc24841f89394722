import { loadChunk, taskError } from '../../storage/chunkTasks.js';
import type { PoolResult } from '../../storage/workerPool.js';
import { TensorDiffAccumulator, type DiffPartial } from '../../core/tensorStats.js';
import { bf16StatsKernel } from '../../storage/statsKernel.js';

/** Compares one chunk of a tensor in two versions: decode both, accumulate difference sums. */
export interface StatsTask {
  a: string;
  b: string;
  dtype: string;
  objectsDir: string;
}

/** The partial sums of one chunk pair. */
export interface StatsResult extends PoolResult {
  partial?: DiffPartial;
  bytes: number;
}

let keep = Buffer.alloc(0);

/** Runs one stats task in the current thread. */
export function runStatsTask(task: StatsTask): StatsResult {
  try {
    // bf16 pairs are folded by the WebAssembly kernel when there is one
    const acc = new TensorDiffAccumulator(task.dtype, task.dtype.toLowerCase() === 'bf16' ? (bf16StatsKernel() ?? undefined) : undefined);
    const first = loadChunk(task.objectsDir, task.a, true).content;
    if (task.a === task.b) {
      acc.update(first, first);
      return { partial: acc.partial(), bytes: 2 * first.length };
    }
    // the next load reuses the same scratch, so keep a copy of the first side
    if (keep.length < first.length) keep = Buffer.alloc(Math.max(first.length, 1 << 20));
    const a = keep.subarray(0, first.length);
    first.copy(a);
    const b = loadChunk(task.objectsDir, task.b, true).content;
    if (a.length !== b.length) throw new Error(`chunk sizes differ (${a.length} vs ${b.length})`);
    acc.update(a, b);
    return { partial: acc.partial(), bytes: a.length + b.length };
  } catch (e) {
    return { bytes: 0, error: taskError(e, task.b) };
  }
}
