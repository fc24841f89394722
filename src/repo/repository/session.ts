import type { ChunkPool } from '../../storage/chunkPool.js';
import type { Repository } from './repository.js';
import type { VersionIndex } from '../history/versionIndex.js';

// The index (LevelDB) and the worker pool load on first use: commands that
// need neither, such as `log` answering from the summary file, skip them.

/** Runs `fn` holding the repository's one-writer lock. */
export async function withLock<T>(repo: Repository, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = await repo.lock(command);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Runs `fn` with the index open, and closes it straight after so other processes can open it. */
export async function withIndex<T>(repo: Repository, fn: (index: VersionIndex) => Promise<T>): Promise<T> {
  const { VersionIndex } = await import('../history/versionIndex.js');
  const index = await VersionIndex.open(repo);
  try {
    return await fn(index);
  } finally {
    await index.close();
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

/** Progress callbacks that long operations call; the CLI draws them on a TTY. */
export interface Progress {
  start?(label: string, total: number): void;
  advance?(n: number): void;
  done?(): void;
}
