import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChunkPool } from '../../storage/chunkPool.js';
import { isMvmError } from '../../errors.js';
import { explainDiskFull } from './diskFull.js';
import type { Repository } from './repository.js';

// The worker pool loads on first use (a lazy import, for start-up): its module graph (chunk tasks,
// codec, zstd, kernels) took 100-190 ms more to load than a leaf module (dist/storage/chunkPool.js
// against dist/errors.js, 2026-12-07, a busy 2-core machine); commands that never chunk, such as `log`, skip it.

/**
 * Runs `fn` holding the repository's one-writer lock. When it runs out of
 * disk space, its temporary files are removed and the error says what it
 * stored that stays (`explainDiskFull`) before the lock is released.
 */
export async function withLock<T>(repo: Repository, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = await repo.lock(command);
  const since = lockedAt(repo);
  try {
    return await fn();
  } catch (e) {
    throw isMvmError(e, 'DISK_FULL') ? explainDiskFull(repo, since, e) : e;
  } finally {
    lock.release();
  }
}

/**
 * When this process took the lock, by the file system's clock (the lock
 * file's ctime: linking it in changed it), so that objects written since
 * compare with it exactly; Date.now() when it cannot be read.
 */
function lockedAt(repo: Repository): number {
  return statSync(join(repo.dir, 'lock'), { throwIfNoEntry: false })?.ctimeMs ?? Date.now();
}

/** Runs `fn` with a worker pool (of `threads`, else the default), stopped afterwards. */
export async function withPool<T>(fn: (pool: ChunkPool) => Promise<T>, threads?: number): Promise<T> {
  const { ChunkPool } = await import('../../storage/chunkPool.js');
  const pool = new ChunkPool(threads);
  try {
    return await fn(pool);
  } finally {
    // the threads are told to stop, not waited for: their exit (10-25 ms measured) runs alongside what the caller
    // does next (a commit's version, refs and stat cache) instead of before it
    pool.close().catch(() => undefined);
  }
}

export type { Progress } from './progress.js';
