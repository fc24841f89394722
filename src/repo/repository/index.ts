/**
 * The repository wing: an opened `.mvm` (`Repository`), creating one, the
 * user's config, git facts, the `.gitignore` lines, and the session helpers
 * every other wing uses (the writer lock, the worker pool, bounded
 * concurrency, progress, chunk availability). It imports no other wing.
 */
export { bounded } from './bounded.js';
export {
  addFetched,
  type ChunkAvailability,
  ensureVersionFiles,
  type Fetched,
  leftOnRemote,
  NOTHING_FETCHED,
  partialRemote,
} from './chunks.js';
export {
  CLONE_MARKER,
  finishCloneAdvice,
  markCloneFinished,
  markCloneStarted,
  type UnfinishedClone,
  unfinishedClone,
} from './cloneMarker.js';
export { createRepository, type InitOptions, type InitResult } from './create.js';
export { defaultAuthor, defaultAuthorAsync, gitInfo, gitInfoAsync, lockedVersionsInGit } from './gitInfo.js';
export { addIgnores, ignoreLine, removeIgnores } from './gitignore.js';
export { DEFAULT_CONFIG, MVM_DIR, type RepoConfig, Repository } from './repository.js';
export { type Progress, withLock, withPool } from './session.js';
export { readUserConfig } from './userConfig.js';
