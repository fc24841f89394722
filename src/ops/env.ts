import { MvmError } from '../errors.js';
import { DEFAULT_ENV, validateEnvName } from '../core/revision.js';
import { type Repository, withLock, defaultAuthor } from '../repo/repository/index.js';
import { allSummaries, deployLog, envCurrent, envLogName, envRef } from '../repo/history/index.js';
import {
  assertEnvExists,
  assertGateNames,
  envConfig,
  writeEnvConfig,
  type EnvConfig,
  envStates,
  removeEnvConfig,
  sharedSettings,
  updateRemoteEnv,
  validateServingName,
  withEnvRemote,
} from '../repo/deploy/index.js';

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
  /** Create the env (with any settings given); deploys to an env nobody created are refused. */
  create?: boolean;
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
  // and a gate naming a field no version has, close to one some version has (a typo), too
  await assertGateNames(changes, async () => (await allSummaries(repo)).values(), {
    require: '--require',
    betterThanCurrent: '--better-than-current',
  });
  return withLock(repo, 'env', () =>
    withEnvRemote(repo, async (remote) => {
      const settings = Object.entries(changes).some(([k, v]) => k !== 'create' && v !== undefined);
      // changing an env's settings creates it, as --create does; a typo in a deploy does not
      if (!changes.create && !settings) assertEnvExists(repo, env, remote);
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
      if (changes.export) delete c.serving;
      if (remote) {
        const shared = sharedSettings(c);
        await updateRemoteEnv(
          repo,
          remote,
          env,
          (f) =>
            f.removed
              ? { format: 1, settings: shared, log: [], past: [...(f.past ?? []), f.log] }
              : { ...f, settings: shared },
          true,
        );
        // the team's settings are in; this clone's own (folder, hooks, a signature requirement set here) are kept below
      }
      writeEnvConfig(repo, env, c);
      // an env left with no settings that was never deployed to is not stored: shown empty, as before it was set
      return envStates(repo).find((s) => s.env === env) ?? { env, id: null, number: null, moves: 0, config: {} };
    }),
  );
}

/** What removing an env did: its last version and how many moves its kept history holds. */
export interface EnvRemoval {
  env: string;
  id: string | null;
  moves: number;
}

/**
 * Removes an environment: deploys to it are refused from then on, its settings are dropped, and its history is kept
 * (on the remote in its file, here in `.mvm/logs/envs-removed/<env>`). Serving folders are left as they are.
 */
export async function removeEnv(repo: Repository, env: string, who?: string): Promise<EnvRemoval> {
  validateEnvName(env);
  if (env === DEFAULT_ENV)
    throw new MvmError('BAD_ARGUMENT', `the '${DEFAULT_ENV}' environment cannot be removed`, {
      env,
      hint: 'remove the envs you created',
    });
  return withLock(repo, 'env', () =>
    withEnvRemote(repo, async (remote) => {
      assertEnvExists(repo, env, remote);
      const id = envCurrent(repo, env);
      const log = deployLog(repo, env);
      if (remote) {
        const removed = { time: new Date().toISOString(), who: defaultAuthor(repo.root, who) };
        await updateRemoteEnv(repo, remote, env, (f) => ({ ...f, removed }));
      } else {
        for (const e of log) repo.refs.appendLog(`envs-removed/${env}`, e);
        repo.refs.replaceLog(envLogName(env), []);
        repo.refs.delete(envRef(env));
        removeEnvConfig(repo, env);
      }
      return { env, id, moves: log.length };
    }),
  );
}
