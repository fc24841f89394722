/**
 * The workspace wing: the files on disk. Scanning and identifying them (with
 * the stat cache), chunking one file, assembling and checking out a version,
 * staged downloads, sidecar layouts, globs, ignore rules, dataset hashes.
 * Chunks it reads are made available through `repo.chunks`, never by
 * fetching itself.
 */
export { type CheckedOut, checkoutVersion } from './checkoutVersion.js';
export { checkDataDeps, type DataDrift, hashData, resolveDataDeps } from './dataDeps.js';
export { chunkFile } from './chunkFile.js';
export { assembleFile, restoreFile } from './fileio.js';
export { expandGlob, isGlob, pathspecMatcher } from './globs.js';
export { ignoreRules } from './ignoreRules.js';
export { StagedFiles } from './staging.js';
export { dropStatCache, recordStats, type StatEntry } from './statCache.js';
export { emptyTrash } from './trash.js';
export {
  compareWithVersion,
  identifyWorkspace,
  isCovered,
  type StatusEntry,
  symlinkError,
  symlinkOnPath,
  visibleFiles,
} from './workspace.js';
