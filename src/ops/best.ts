import type { Repository } from '../repo/repository/index.js';
import { type Best, bestVersion, type RankOptions } from '../repo/history/index.js';

/** Options of `mvm best`. */
export type BestOptions = RankOptions;

/** The winning version, its value and how many versions were ranked. */
export type BestResult = Best;

/** Finds the version with the best value of a metric (annotations included), among those matching `where`. */
export async function best(repo: Repository, opts: BestOptions): Promise<BestResult> {
  // one scan of every version's parents and metrics: nothing sorted, no summary built
  return bestVersion(repo, opts);
}
