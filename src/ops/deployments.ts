import { validateEnvName } from '../core/revision.js';
import type { Repository } from '../repo/repository/index.js';
import { numberOf, deployLog, listEnvs, type DeployLogEntry } from '../repo/history/index.js';

/** One logged move of an environment, with version numbers for display. */
export interface DeploymentRecord extends DeployLogEntry {
  env: string;
  fromNumber: number | null;
  toNumber: number | null;
}

/** The moves of one environment, or of every one, newest first (who, when, from, to, why). */
export function deployments(repo: Repository, opts: { env?: string } = {}): DeploymentRecord[] {
  const envs = opts.env ? [validateEnvName(opts.env)] : listEnvs(repo);
  const all = envs.flatMap((env) =>
    deployLog(repo, env).map((e, i) => ({
      ...e,
      env,
      seq: i,
      fromNumber: e.from ? numberOf(repo, e.from) : null,
      toNumber: numberOf(repo, e.to),
    })),
  );
  // newest first; moves of one env keep their logged order when the clock ties
  all.sort((a, b) =>
    a.time < b.time ? 1 : a.time > b.time ? -1 : a.env === b.env ? b.seq - a.seq : a.env < b.env ? -1 : 1,
  );
  return all.map(({ seq: _seq, ...e }) => e);
}
