import { MvmError } from '../errors.js';
import { DEFAULT_ENV, validateEnvName } from '../core/revision.js';
import { type Repository, withLock } from '../repo/repository/index.js';
import {
  allSummaries,
  resolveRevision,
  deployLog,
  deploymentStack,
  envCurrent,
  rankDirection,
  rankVersions,
} from '../repo/history/index.js';
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
  type EnvRemote,
  assertEnvExists,
  updateRemoteEnv,
  sharedSettings,
  assertGateNames,
  pickBestPassing,
  type BestPick,
} from '../repo/deploy/index.js';

export type { BestPick, ReleaseResult, SkippedCandidate } from '../repo/deploy/index.js';

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
  const gates = commandLineGates(opts);
  return withLock(repo, 'deploy', () =>
    withEnvRemote(repo, async (remote) => {
      assertEnvExists(repo, env, remote);
      const to = resolveRevision(repo, rev);
      await assertGateNames(gates, async () => (await allSummaries(repo)).values(), GATE_FLAGS);
      return deployTo(repo, env, to, gates, remote, opts);
    }),
  );
}

/** How the gate flags are named in a did-you-mean. */
const GATE_FLAGS = { require: '--require', betterThanCurrent: '--better-than-current' };

/** The gates given on the command line. */
function commandLineGates(opts: DeployRevOptions): Partial<Gates> {
  const gates: Partial<Gates> = { require: opts.require ?? [] };
  if (opts.betterThanCurrent) gates.betterThanCurrent = opts.betterThanCurrent;
  if (opts.lowerIsBetter !== undefined) gates.direction = opts.lowerIsBetter ? 'lower' : 'higher';
  return gates;
}

/** `deploy --export`: the serving folder stored as the env's (on the team's remote too). */
async function rememberExport(
  repo: Repository,
  env: string,
  remote: EnvRemote | null,
  target: ExportTarget | undefined,
): Promise<void> {
  if (!target) return;
  const c = { ...envConfig(repo, env), export: target };
  if (remote) await updateRemoteEnv(repo, remote, env, (f) => ({ ...f, settings: sharedSettings(c) }), true);
  writeEnvConfig(repo, env, { ...envConfig(repo, env), export: target });
}

/** The move of deploy and deploy --best, under the lock: serving folder remembered, env moved through its gates. */
async function deployTo(
  repo: Repository,
  env: string,
  to: string,
  gates: Partial<Gates>,
  remote: EnvRemote | null,
  opts: DeployRevOptions,
): Promise<ReleaseResult> {
  await rememberExport(repo, env, remote, opts.export);
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
}

/** Options of `deploy --best`: the ranking (as `best` ranks) on top of a deploy's. */
export interface DeployBestOptions extends Omit<DeployRevOptions, 'lowerIsBetter'> {
  metric: string;
  where?: string;
  /** Every branch's versions, not only those HEAD descends from. */
  all?: boolean;
  /** The direction of the ranking metric, and of --better-than-current when given. */
  lowerIsBetter?: boolean;
  higherIsBetter?: boolean;
}

/** What `deploy --best` did: the move, and which version it chose over which. */
export type DeployBestResult = ReleaseResult & { best: BestPick };

/**
 * Deploys the best version by a metric (ranked as `mvm best` ranks) that passes the env's gates: candidates best
 * first, the first that passes is deployed exactly as `mvm deploy vN` would deploy it.
 */
export async function deployBest(repo: Repository, opts: DeployBestOptions): Promise<DeployBestResult> {
  const env = validateEnvName(opts.env ?? DEFAULT_ENV);
  if (opts.export) validateServingName(opts.export.name);
  const direction = rankDirection(opts);
  const forced = opts.lowerIsBetter || opts.higherIsBetter;
  if (forced && opts.betterThanCurrent && opts.betterThanCurrent !== opts.metric)
    throw new MvmError(
      'BAD_ARGUMENT',
      `--${direction}-is-better would apply to both ${opts.metric} and ${opts.betterThanCurrent}; rank and gate on ` +
        'one metric, or give the direction through the env (mvm env E --better-than-current M --lower-is-better)',
    );
  // a forced direction reaches the gates only with --better-than-current (which then names the ranked metric)
  const gates = commandLineGates({
    ...opts,
    lowerIsBetter: forced && opts.betterThanCurrent ? direction === 'lower' : undefined,
  });
  return withLock(repo, 'deploy', () =>
    withEnvRemote(repo, async (remote) => {
      assertEnvExists(repo, env, remote);
      const ranking = await rankVersions(repo, opts);
      await assertGateNames(gates, async () => ranking.summaries.values(), GATE_FLAGS);
      const pick = await pickBestPassing(repo, env, ranking, {
        gates,
        noGates: opts.noGates,
        scope: opts.all ? 'on any branch' : 'on the current branch',
      });
      return { ...(await deployTo(repo, env, pick.id, gates, remote, opts)), best: pick };
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
