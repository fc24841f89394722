import { MvmError } from '../errors.js';
import type { Repository } from '../repo/repository/index.js';
import { metricDirection } from '../core/metrics.js';
import { didYouMean } from '../core/suggest.js';
import { allSummaries, queryRecord, type VersionSummary } from '../repo/history/index.js';

/** Options of `mvm best`. */
export interface BestOptions {
  metric: string;
  where?: string;
  /** Force the direction; by default it is inferred from the metric's name (loss, latency... are lower-is-better). */
  lowerIsBetter?: boolean;
  higherIsBetter?: boolean;
  /** Search every version, not only those HEAD descends from (the default, like `log`). */
  all?: boolean;
}

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
  // the query language (and its regex engine) loads only when a query is given
  const match = opts.where !== undefined ? (await import('../core/query/index.js')).compileQuery(opts.where) : null;
  const direction = opts.lowerIsBetter
    ? 'lower'
    : opts.higherIsBetter
      ? 'higher'
      : (metricDirection(opts.metric) ?? 'higher');
  let winner: VersionSummary | null = null;
  let candidates = 0;
  const summaries = await allSummaries(repo);
  const scope = opts.all ? null : ancestry(repo.headId(), summaries);
  for (const s of summaries.values()) {
    if (scope && !scope.has(s.id)) continue;
    const v = s.metrics[opts.metric];
    if (typeof v !== 'number') continue;
    if (match && !match(queryRecord(s))) continue;
    candidates++;
    const w = winner?.metrics[opts.metric] as number | undefined;
    // ties go to the newer version (summaries come oldest first)
    if (w === undefined || (direction === 'higher' ? v > w : v < w) || v === w) winner = s;
  }
  if (!winner) {
    const known = new Set<string>();
    for (const s of summaries.values()) for (const m of Object.keys(s.metrics)) known.add(m);
    throw new MvmError(
      'NO_VERSIONS',
      `no version${scope ? ' on the current branch' : ''} has metric '${opts.metric}'` +
        `${opts.where ? ' and matches the query' : ''}${known.has(opts.metric) ? '' : didYouMean(opts.metric, known)}`,
      {
        metric: opts.metric,
        hint: scope
          ? "--all searches every branch; record the metric with 'mvm commit --metric' or 'mvm annotate'"
          : "record it with 'mvm commit --metric' or 'mvm annotate'",
      },
    );
  }
  return { id: winner.id, number: winner.number, value: winner.metrics[opts.metric] as number, direction, candidates };
}

/** HEAD and every version it descends from (all parents), from the index's summaries. */
function ancestry(head: string | null, summaries: Map<string, VersionSummary>): Set<string> {
  const seen = new Set<string>();
  const stack = head ? [head] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const p of summaries.get(id)?.parents ?? []) stack.push(p);
  }
  return seen;
}
