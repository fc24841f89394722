import { MvmError } from '../errors.js';
import { didYouMean } from '../core/suggest.js';
import type { Repository } from '../repo/repository/index.js';
import { resolveRevision } from '../repo/history/index.js';
import { compareVersions, type CompareOptions, type CompareResult } from '../repo/insight/index.js';

export type { CompareOptions, CompareResult, CompareColumn, MetricCell } from '../repo/insight/index.js';

/**
 * Compares versions side by side: metadata, params, metrics with deltas against the first, sizes, shared chunks, data
 * and base.
 */
export function compare(repo: Repository, revs: string[], opts: CompareOptions = {}): CompareResult {
  if (revs.length < 1)
    throw new MvmError('BAD_ARGUMENT', 'name at least one version to compare', { hint: 'mvm compare v3 v5 v8' });
  const r = compareVersions(
    repo,
    revs.map((x) => resolveRevision(repo, x)),
    opts,
  );
  // a direction declared for a metric none of these versions has is a typo, not a no-op
  for (const m of [...(opts.higherIsBetter ?? []), ...(opts.lowerIsBetter ?? [])]) {
    if (!r.metricNames.includes(m)) {
      throw new MvmError('BAD_VALUE', `none of these versions has a metric '${m}'${didYouMean(m, r.metricNames)}`, {
        metric: m,
        metrics: r.metricNames,
        hint: `metrics here: ${r.metricNames.join(', ') || '(none)'}`,
      });
    }
  }
  return r;
}
