/**
 * The deploy wing: environments' settings, gates, a release (one move of an
 * env: gates, export, log and ref, hooks) and the serving folder layouts it
 * writes.
 */
export {
  envConfig,
  type EnvConfig,
  type ExportTarget,
  readEnvConfigs,
  removeEnvConfig,
  type ServingLayout,
  type ServingSpec,
  sharedSettings,
  writeEnvConfig,
} from './envConfig.js';
export {
  adoptEnvs,
  assertEnvExists,
  type EnvAdoption,
  type EnvRemote,
  envVersions,
  pushEnvs,
  remoteEnvsFor,
  updateRemoteEnv,
  withEnvRemote,
} from './envSync.js';
export { currentOf, type RemoteEnv } from './remoteEnvs.js';
export { assertGateNames, type GateFailure, type Gates } from './gates.js';
export { type BestPick, pickBestPassing, type SkippedCandidate } from './bestRelease.js';
export { envStates, moveGates, releaseMove, type ReleaseResult, servedNumbers, serveEnv } from './release.js';
export { safeDestination } from './safeDest.js';
export {
  type ExportResult,
  exportVersion,
  modelFolder,
  numberedFolders,
  pruneServing,
  staleStaging,
  validateServingName,
} from './serving.js';
export { type FollowStep, type FollowTarget, followStep, openFollowerStore } from './follow.js';
