import { WorkerPool } from './workerPool.js';
import { runChunkTask, type ChunkTask, type ChunkResult, type ResultOf } from './chunkTasks.js';
import { MvmError, fromSystemError, type ErrorCode, ERROR_CODES } from '../errors.js';

/** Turns a task failure that crossed the thread boundary back into an MvmError. */
export function chunkError(err: NonNullable<ChunkResult['error']>): Error {
  if (err.errno) {
    const sys = Object.assign(new Error(err.message), { code: err.errno });
    return fromSystemError(sys, err.id ? `object ${err.id}` : 'object store', 'writing');
  }
  if (err.code in ERROR_CODES) {
    const data = { id: err.id, ...(err.path !== undefined && { path: err.path }) };
    return new MvmError(err.code as ErrorCode, err.message, {
      ...data,
      hint: err.hint ?? "run 'mvm fsck' to list every damaged object",
    });
  }
  return new MvmError('IO_ERROR', err.message, { id: err.id });
}

/**
 * ChunkPool hashes, compresses, writes, restores and verifies chunks on
 * worker threads, so every core works while the main thread reads.
 */
export class ChunkPool extends WorkerPool<ChunkTask, ChunkResult> {
  constructor(threads?: number) {
    super(new URL('./chunkWorker.js', import.meta.url), runChunkTask, chunkError, threads);
  }

  /** Runs a task and resolves to the result of its kind (see WorkerPool.submit); rejects when it failed. */
  override submit<T extends ChunkTask>(task: T, transfer: ArrayBuffer[] = []): Promise<ResultOf<T>> {
    return super.submit(task, transfer) as Promise<ResultOf<T>>;
  }
}
