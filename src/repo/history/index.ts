/**
 * The history wing: what the repository knows about its versions over time.
 * The summary file (derived; the one store of version summaries) for log and
 * queries, revisions and numbers, reachability for gc, the gc and deploy
 * logs, annotations, `mvm.lock`, rebase and `fsck --repair`.
 */
export { annotationsOf, overlayMetrics, recordAnnotation } from './annotations.js';
export {
  deployLog,
  type DeployLogEntry,
  deploymentStack,
  envCurrent,
  envLogName,
  envRef,
  listEnvs,
  moveEnv,
} from './deployments.js';
export { type GcLogEntry, removedVersions } from './gcLog.js';
export {
  adoptTracked,
  LOCK_FILE,
  type LockFile,
  lockNotPushed,
  lockText,
  readLock,
  readLockAt,
  writeLock,
} from './lockfile.js';
export { followRegistry } from './numbering.js';
export { gcRoots, reachableObjects } from './reachable.js';
export { mergeOnto, replayOnto, type Rebased } from './rebase.js';
export { repairRepository } from './repair.js';
export { type Best, bestVersion, rankDirection, type Ranking, type RankOptions, rankVersions } from './ranking.js';
export { numberLookup, numberOf, provisionalIds, resolveRevision, resolveTarget } from './revisions.js';
export { allSummaries, queryRecord, refNames, type SummarySource, whereWarnings, withSummaries } from './summaries.js';
export { summarize, type VersionSummary } from './summary.js';
export { refreshSummaries } from './summaryStore.js';
