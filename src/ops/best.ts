import { MvmError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import { metricDirection } from '../core/metrics.js';
import { allSummaries, queryRecord } from '../repo/summaries.js';
import type { VersionSummary } from '../repo/versionIndex.js';

/** Options of `mvm best`. */
export interface BestOptions {
  metric: string;
  where?: string;
  /** Force the direction; by default it is inferred from the metric's name (loss, latency... are lower-is-better). */
  lowerIsBetter?: boolean;
  higherIsBetter?: boolean;
}

/** The winning version and the runners-up considered. */
export interface BestResult {
  id: string;
  number: number;
  value: number;
  direction: 'higher' | 'lower';
  candidates: number;
}

/** Finds the version with the best value of a metric (annotations included), among those matching `where`. */
export async function best(repo: Repository, opts: BestOptions): Promise<BestResult> {
  // the query language (and its regex engine) loads only when a query is given
  const match = opts.where !== undefined ? (await import('../core/query/index.js')).compileQuery(opts.where) : null;
  const direction = opts.lowerIsBetter ? 'lower' : opts.higherIsBetter ? 'higher' : metricDirection(opts.metric) ?? 'higher';
  let winner: VersionSummary | null = null;
  let candidates = 0;
  for (const s of (await allSummaries(repo)).values()) {
    const v = s.metrics[opts.metric];
    if (typeof v !== 'number') continue;
    if (match && !match(queryRecord(s))) continue;
    candidates++;
    const w = winner?.metrics[opts.metric] as number | undefined;
    // ties go to the newer version
    if (w === undefined || (direction === 'higher' ? v > w : v < w) || (v === w && s.number > winner!.number)) winner = s;
  }
  if (!winner) {
    throw new MvmError('NO_VERSIONS', `no version has metric '${opts.metric}'${opts.where ? ' and matches the query' : ''}`, { metric: opts.metric, hint: "record it with 'mvm commit --metric' or 'mvm annotate'" });
  }
  return { id: winner.id, number: winner.number, value: winner.metrics[opts.metric] as number, direction, candidates };
}
