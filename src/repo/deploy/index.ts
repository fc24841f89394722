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
  type ServingLayout,
  writeEnvConfig,
} from './envConfig.js';
export type { Gates } from './gates.js';
export { envStates, releaseMove, type ReleaseResult, servedNumbers, serveEnv } from './release.js';
export { safeDestination } from './safeDest.js';
export {
  type ExportResult,
  exportVersion,
  modelFolder,
  pruneServing,
  staleStaging,
  validateServingName,
} from './serving.js';
