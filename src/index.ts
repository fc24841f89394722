/**
 * mvm as a library: everything the CLI does, typed. Open a repository with
 * `openRepository(dir)` (or create one with `init`), then call operations.
 * (`Repository.open(dir)` opens one too, but a partial store opened so does
 * not fetch the chunks it lacks: `openRepository` installs that.)
 */
export { MvmError, isMvmError, EXIT, ERROR_CODES, type ErrorCode } from './errors.js';
export { Repository, DEFAULT_CONFIG, type RepoConfig, type Progress } from './repo/repository/index.js';
export { openRepository } from './repo/transfer/index.js';
export { init, type InitOptions, type InitResult } from './ops/init.js';
export { add, rm, type TrackResult } from './ops/add.js';
export { status, type StatusResult } from './ops/status.js';
export { commit, type CommitOptions, type CommitResult } from './ops/commit.js';
export { log, type LogOptions, type LogEntry, type LogResult } from './ops/log.js';
export { show, type ShowResult, showTensors, type ShowTensorsResult } from './ops/show.js';
export { sign, type SignOptions, type SignResult } from './ops/sign.js';
export { verify, type VerifyResult } from './ops/verify.js';
export { diff, type DiffOptions, type DiffResult } from './ops/diff.js';
export { checkout, type CheckoutOptions, type CheckoutResult } from './ops/checkout.js';
export { createRef, deleteRef, listRefs, type RefInfo } from './ops/refs.js';
export {
  type BestPick,
  deploy,
  deployBest,
  type DeployBestOptions,
  type DeployBestResult,
  type DeployOptions,
  type DeployRevOptions,
  rollback,
  type ReleaseResult,
  type SkippedCandidate,
} from './ops/deploy.js';
export { promote, type PromoteOptions } from './ops/promote.js';
export { deployments, type DeploymentRecord } from './ops/deployments.js';
export { configureEnv, listEnvironments, type EnvState, type EnvChanges } from './ops/env.js';
export { exportServing, type ExportOptions } from './ops/export.js';
export { get, type GetResult } from './ops/get.js';
export { fsck, type FsckResult, type FsckProblem } from './ops/fsck.js';
export { resolveRevision } from './repo/history/index.js';
export type { Version, FileObject, FileEntry, Scalar } from './core/objects.js';
export type { VersionDiff, FileDiff, TensorChange } from './core/diff.js';
export { annotate, type AnnotateOptions, type AnnotateResult } from './ops/annotate.js';
export { compare, type CompareOptions, type CompareResult } from './ops/compare.js';
export { metricDirection } from './core/metrics.js';
export { evaluate, type EvalOptions, type EvalResult } from './ops/evaluate.js';
export { best, type BestOptions, type BestResult } from './ops/best.js';
export { lineage, type LineageNode } from './ops/lineage.js';
export { compileQuery, parseQuery, type QueryRecord } from './core/query/index.js';
export { remotes, addRemote, removeRemote, type RemoteAddOptions } from './ops/remote.js';
export { push, type PushOptions, type PushResult } from './ops/push.js';
export { fetch, type FetchOptions, type FetchResult } from './ops/fetch.js';
export { pull, type PullOptions, type PullResult } from './ops/pull.js';
export { clone, type CloneOptions, type CloneResult } from './ops/clone.js';
