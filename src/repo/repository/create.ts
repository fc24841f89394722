import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MvmError, fromSystemError } from '../../errors.js';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../core/limits.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import { DEFAULT_CONFIG, MVM_DIR, Repository, type RepoConfig } from './repository.js';
import { addIgnores } from './gitignore.js';
import { readUserConfig } from './userConfig.js';

/** Options of `mvm init`. */
export interface InitOptions {
  /** Workspace root; defaults to the current directory. */
  dir?: string;
  chunkSize?: number;
  compressionLevel?: number;
  fsync?: RepoConfig['fsync'];
  /** Make a partial store whose missing chunks this remote holds (clone). */
  partial?: string;
}

/** What `mvm init` did. */
export interface InitResult {
  root: string;
  mvmDir: string;
  chunkSize: number;
  gitignoreUpdated: boolean;
}

/** Creates `.mvm/` in a workspace: config, HEAD on branch main, empty stores, and a .gitignore entry. */
export function createRepository(opts: InitOptions = {}): InitResult {
  const root = resolve(opts.dir ?? process.cwd());
  if (Repository.exists(root)) {
    throw new MvmError('ALREADY_A_REPOSITORY', `${join(root, MVM_DIR)} already exists`, {
      path: root,
      hint: 'this workspace is already an mvm repository',
    });
  }
  // a workspace inside another would have its files tracked twice and its .mvm committed by the outer one
  for (let up = dirname(root); ; up = dirname(up)) {
    if (Repository.exists(up)) {
      throw new MvmError('ALREADY_A_REPOSITORY', `${root} is inside the mvm workspace ${up}`, {
        path: root,
        outer: up,
        hint: `use the workspace at ${up}, or init somewhere outside it`,
      });
    }
    if (up === dirname(up)) break;
  }
  try {
    if (!statSync(root).isDirectory()) throw new MvmError('BAD_ARGUMENT', `${root} is not a directory`, { path: root });
  } catch (e) {
    throw fromSystemError(e, root, 'opening');
  }
  const user = readUserConfig().init ?? {};
  const chunkSize = opts.chunkSize ?? user.chunkSize ?? DEFAULT_CONFIG.chunkSize;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new MvmError(
      'BAD_VALUE',
      `chunk size must be a whole number of bytes from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`,
      { chunkSize },
    );
  }
  const level = opts.compressionLevel ?? user.compressionLevel ?? DEFAULT_CONFIG.compressionLevel;
  if (!Number.isInteger(level) || level < 0 || level > 19)
    throw new MvmError('BAD_VALUE', 'compression level must be 0 (off) to 19', { level });
  const dir = join(root, MVM_DIR);
  const tmp = join(dir, 'tmp');
  for (const d of ['objects', 'refs/heads', 'refs/tags', 'logs', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  const config: RepoConfig = {
    ...DEFAULT_CONFIG,
    chunkSize,
    compressionLevel: level,
    fsync: opts.fsync ?? user.fsync ?? DEFAULT_CONFIG.fsync,
    ...(opts.partial ? { partial: opts.partial } : {}),
  };
  writeFileAtomic(join(dir, 'HEAD'), 'ref: refs/heads/main\n', { tmpDir: tmp });
  writeFileAtomic(join(dir, 'tracked.json'), JSON.stringify({ paths: [] }, null, 2) + '\n', { tmpDir: tmp });
  // config.json last: its presence is what makes the directory a repository
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n', { tmpDir: tmp, fsync: true });
  const added = addIgnores(root, [`/${MVM_DIR}/`]);
  return { root, mvmDir: dir, chunkSize, gitignoreUpdated: added.length > 0 };
}
