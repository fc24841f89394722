import type { ChunkPool } from '../../storage/chunkPool.js';
import type { Repository } from './repository.js';

// The worker pool loads on first use (a lazy import, for start-up): its module graph (chunk tasks,
// codec, zstd, kernels) took 100-190 ms more to load than a leaf module (dist/storage/chunkPool.js
// against dist/errors.js, 2026-12-07, a busy 2-core machine); commands that never chunk, such as `log`, skip it.

/** Runs `fn` holding the repository's one-writer lock. */
export async function withLock<T>(repo: Repository, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = await repo.lock(command);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Runs `fn` with a worker pool, stopped afterwards. */
export async function withPool<T>(fn: (pool: ChunkPool) => Promise<T>): Promise<T> {
  const { ChunkPool } = await import('../../storage/chunkPool.js');
  const pool = new ChunkPool();
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

export type { Progress } from './progress.js';
