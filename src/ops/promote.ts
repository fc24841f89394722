import { MvmError } from '../errors.js';
import { validateEnvName } from '../core/revision.js';
import { type Repository, withLock } from '../repo/repository/index.js';
import { allSummaries, envCurrent } from '../repo/history/index.js';
import {
  assertEnvExists,
  assertGateNames,
  releaseMove,
  type ReleaseResult,
  withEnvRemote,
} from '../repo/deploy/index.js';

/** Options of promote: the target env's gates apply unless `noGates`. */
export interface PromoteOptions {
  reason?: string;
  who?: string;
  require?: string[];
  betterThanCurrent?: string;
  noGates?: boolean;
}

/** Deploys the version one environment serves to another (staging -> production), through the target's gates. */
export async function promote(
  repo: Repository,
  fromEnv: string,
  toEnv: string,
  opts: PromoteOptions = {},
): Promise<ReleaseResult> {
  validateEnvName(fromEnv);
  validateEnvName(toEnv);
  if (fromEnv === toEnv) throw new MvmError('BAD_ARGUMENT', `cannot promote '${fromEnv}' to itself`, { env: fromEnv });
  return withLock(repo, 'promote', () =>
    withEnvRemote(repo, async (remote) => {
      assertEnvExists(repo, fromEnv, remote);
      assertEnvExists(repo, toEnv, remote);
      const to = envCurrent(repo, fromEnv);
      if (!to)
        throw new MvmError(
          'NOTHING_DEPLOYED',
          `nothing has been deployed to '${fromEnv}', so there is nothing to promote`,
          { env: fromEnv, hint: `mvm deploy REV --env ${fromEnv}` },
        );
      const gates = {
        require: opts.require ?? [],
        ...(opts.betterThanCurrent ? { betterThanCurrent: opts.betterThanCurrent } : {}),
      };
      await assertGateNames(gates, async () => (await allSummaries(repo)).values(), {
        require: '--require',
        betterThanCurrent: '--better-than-current',
      });
      return releaseMove(repo, {
        env: toEnv,
        to,
        action: 'promote',
        fromEnv,
        reason: opts.reason,
        who: opts.who,
        gates,
        noGates: opts.noGates,
        remote,
      });
    }),
  );
}
