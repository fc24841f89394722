import { MvmError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import { resolveRevision } from '../repo/revisions.js';
import { compareVersions, type CompareOptions, type CompareResult } from '../repo/comparison.js';

export type { CompareOptions, CompareResult, CompareColumn, MetricCell } from '../repo/comparison.js';

/** Compares versions side by side: metadata, params, metrics with deltas against the first, sizes, shared chunks, data and base. */
export function compare(repo: Repository, revs: string[], opts: CompareOptions = {}): CompareResult {
  if (revs.length < 1) throw new MvmError('BAD_ARGUMENT', 'name at least one version to compare', { hint: 'mvm compare v3 v5 v8' });
  return compareVersions(repo, revs.map((r) => resolveRevision(repo, r)), opts);
}
