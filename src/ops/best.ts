import type { Repository } from '../repo/repository/index.js';
import { bestVersion, type RankOptions } from '../repo/history/index.js';

/** Options of `mvm best`. */
export type BestOptions = RankOptions;

/** The winning version and the runners-up considered. */
export interface BestResult {
  id: string;
  number: number | null;
  value: number;
  direction: 'higher' | 'lower';
  candidates: number;
}

/** Finds the version with the best value of a metric (annotations included), among those matching `where`. */
export async function best(repo: Repository, opts: BestOptions): Promise<BestResult> {
  // the winner and the count: nothing is sorted, and only the winner's summary is built
  const { best: winner, candidates, direction } = await bestVersion(repo, opts);
  return {
    id: winner.id,
    number: winner.number,
    value: winner.metrics[opts.metric] as number,
    direction,
    candidates,
  };
}
