import { validateEnvName } from '../core/revision.js';
import { type Repository, withLock } from '../repo/repository/index.js';
import { envConfig, writeEnvConfig, type EnvConfig, envStates, validateServingName } from '../repo/deploy/index.js';

/** One environment: what it serves and its settings. */
export interface EnvState {
  env: string;
  id: string | null;
  number: number | null;
  moves: number;
  config: EnvConfig;
}

/** Changes to an environment's settings; lists replace what was stored, `clear*` remove it. */
export interface EnvChanges extends EnvConfig {
  clearGates?: boolean;
  clearExport?: boolean;
  clearHooks?: boolean;
}

/** Every environment that has been deployed to or has settings. */
export function listEnvironments(repo: Repository): EnvState[] {
  return envStates(repo);
}

/** Updates an environment's stored gates, serving folder and hooks; returns its new state. */
export async function configureEnv(repo: Repository, env: string, changes: EnvChanges): Promise<EnvState> {
  validateEnvName(env);
  if (changes.export) validateServingName(changes.export.name);
  if (changes.require?.length) {
    const { parseQuery } = await import('../core/query/index.js');
    for (const r of changes.require) parseQuery(r); // a gate that does not parse is refused now, not at the next deploy
  }
  return withLock(repo, 'env', async () => {
    const c: EnvConfig = { ...envConfig(repo, env) };
    if (changes.clearGates) {
      delete c.require;
      delete c.betterThanCurrent;
      delete c.direction;
    }
    if (changes.clearExport) delete c.export;
    if (changes.clearHooks) {
      delete c.hooks;
      delete c.onHookFailure;
    }
    if (changes.require) c.require = changes.require;
    if (changes.betterThanCurrent) c.betterThanCurrent = changes.betterThanCurrent;
    if (changes.direction) c.direction = changes.direction;
    if (changes.export) c.export = changes.export;
    if (changes.hooks) c.hooks = changes.hooks;
    if (changes.onHookFailure) c.onHookFailure = changes.onHookFailure;
    if (changes.requireSigned !== undefined) c.requireSigned = changes.requireSigned || undefined;
    writeEnvConfig(repo, env, c);
    // an env left with no settings that was never deployed to is not stored: shown empty, as before it was set
    return envStates(repo).find((s) => s.env === env) ?? { env, id: null, number: null, moves: 0, config: {} };
  });
}
