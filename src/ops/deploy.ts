import { MvmError } from '../errors.js';
import { DEFAULT_ENV, validateEnvName } from '../core/revision.js';
import { type Repository, withLock } from '../repo/repository/index.js';
import { resolveRevision, deployLog, deploymentStack, envCurrent } from '../repo/history/index.js';
import {
  envConfig,
  writeEnvConfig,
  type ExportTarget,
  releaseMove,
  serveEnv,
  type ReleaseResult,
  type Gates,
  validateServingName,
  withEnvRemote,
  assertEnvExists,
  updateRemoteEnv,
  sharedSettings,
} from '../repo/deploy/index.js';

export type { ReleaseResult } from '../repo/deploy/index.js';

/** Options of deploy and rollback. */
export interface DeployOptions {
  /** The environment to move (default: `default`, the one `deployed` names). */
  env?: string;
  reason?: string;
  who?: string;
}

/** Options of deploy: gates for this deploy on top of the env's, and a serving folder to keep in step. */
export interface DeployRevOptions extends DeployOptions {
  require?: string[];
  betterThanCurrent?: string;
  lowerIsBetter?: boolean;
  noGates?: boolean;
  /** Remember this serving folder as the env's and export every version the env gets into it. */
  export?: ExportTarget;
}

/** Points an environment at a version: gates checked, serving folder exported, move logged, hooks run. */
export async function deploy(repo: Repository, rev: string, opts: DeployRevOptions = {}): Promise<ReleaseResult> {
  const env = validateEnvName(opts.env ?? DEFAULT_ENV);
  if (opts.export) validateServingName(opts.export.name);
  return withLock(repo, 'deploy', () =>
    withEnvRemote(repo, async (remote) => {
      assertEnvExists(repo, env, remote);
      const to = resolveRevision(repo, rev);
      if (opts.export) {
        const c = { ...envConfig(repo, env), export: opts.export };
        if (remote) await updateRemoteEnv(repo, remote, env, (f) => ({ ...f, settings: sharedSettings(c) }), true);
        writeEnvConfig(repo, env, { ...envConfig(repo, env), export: opts.export });
      }
      const gates: Partial<Gates> = { require: opts.require ?? [] };
      if (opts.betterThanCurrent) gates.betterThanCurrent = opts.betterThanCurrent;
      if (opts.lowerIsBetter !== undefined) gates.direction = opts.lowerIsBetter ? 'lower' : 'higher';
      const result = await releaseMove(repo, {
        env,
        to,
        action: 'deploy',
        reason: opts.reason,
        who: opts.who,
        gates,
        noGates: opts.noGates,
        remote,
      });
      // already deployed, but a serving folder was just set up: bring it in step
      if (!result.changed && opts.export) result.export = await serveEnv(repo, env, opts.export);
      return result;
    }),
  );
}

/** Moves an environment back to its previous deployment, or to `to` when given. Never gated. */
export async function rollback(repo: Repository, opts: DeployOptions & { to?: string } = {}): Promise<ReleaseResult> {
  const env = validateEnvName(opts.env ?? DEFAULT_ENV);
  return withLock(repo, 'rollback', () =>
    withEnvRemote(repo, async (remote) => {
      assertEnvExists(repo, env, remote);
      const current = envCurrent(repo, env);
      if (!current) {
        throw new MvmError(
          'NOTHING_DEPLOYED',
          `nothing has been deployed to '${env}' yet, so there is nothing to roll back`,
          { env, hint: `deploy a version with 'mvm deploy REV${env === DEFAULT_ENV ? '' : ` --env ${env}`}'` },
        );
      }
      let to: string;
      if (opts.to) to = resolveRevision(repo, opts.to);
      else {
        const stack = deploymentStack(deployLog(repo, env));
        const prev = stack[stack.length - 2];
        if (!prev)
          throw new MvmError('NO_PREVIOUS_DEPLOYMENT', `there is no earlier deployment of '${env}' to roll back to`, {
            env,
            deployed: current,
            hint: 'use --to REV to deploy a specific version',
          });
        to = prev;
      }
      return releaseMove(repo, { env, to, action: 'rollback', reason: opts.reason, who: opts.who, remote });
    }),
  );
}
