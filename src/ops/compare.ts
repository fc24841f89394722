import { MvmError } from '../errors.js';
import type { DataDep, Scalar } from '../core/objects.js';
import type { Repository } from './repository.js';
import { resolveRevision, numberOf } from './resolve.js';
import { annotationsOf } from './show.js';

/** Whether larger values of a metric are better, smaller ones, or unknown. */
export type Direction = 'higher' | 'lower';

const LOWER = /(^|[._-])(loss|error|err|latency|latency_ms|perplexity|ppl|wer|cer|mae|mse|rmse|time|seconds|ms|size|memory)($|[._-])/i;
const HIGHER = /(^|[._-])(acc|accuracy|f1|precision|recall|auc|roc_auc|bleu|rouge\w*|map|ndcg|score|top1|top5|top-1|top-5|throughput|iou|dice|r2)($|[._-])/i;

/** The direction a metric's name implies (loss, latency, error... lower; accuracy, f1, recall... higher), or null. */
export function metricDirection(name: string): Direction | null {
  if (LOWER.test(name)) return 'lower';
  if (HIGHER.test(name)) return 'higher';
  return null;
}

/** Options of `mvm compare`. */
export interface CompareOptions {
  higherIsBetter?: string[];
  lowerIsBetter?: string[];
}

/** One metric of one version against the first version. */
export interface MetricCell {
  value: Scalar | null;
  delta: number | null;
  /** better / worse than the first column when the direction is known; same when equal. */
  verdict: 'better' | 'worse' | 'same' | null;
}

/** One column of the comparison. */
export interface CompareColumn {
  id: string;
  number: number | null;
  message: string;
  author: string;
  time: string;
  meta: Record<string, Scalar>;
  params: Record<string, Scalar>;
  metrics: Record<string, MetricCell>;
  /** Bytes of the files (logical), and of the chunks they use as stored on disk (compressed, counted once). */
  logicalBytes: number;
  storedBytes: number;
  chunks: number;
  /** Chunks this version shares with the first column. */
  sharedWithFirst: number;
  data: DataDep[];
  base: string | null;
  baseNumber: number | null;
}

/** The comparison table of `mvm compare`. */
export interface CompareResult {
  columns: CompareColumn[];
  metricNames: string[];
  directions: Record<string, Direction | null>;
}

/** Compares versions side by side: metadata, params, metrics with deltas against the first, sizes, shared chunks, data and base. */
export function compare(repo: Repository, revs: string[], opts: CompareOptions = {}): CompareResult {
  if (revs.length < 1) throw new MvmError('BAD_ARGUMENT', 'name at least one version to compare', { hint: 'mvm compare v3 v5 v8' });
  const ids = revs.map((r) => resolveRevision(repo, r));
  const declared = new Map<string, Direction>();
  for (const m of opts.higherIsBetter ?? []) declared.set(m, 'higher');
  for (const m of opts.lowerIsBetter ?? []) declared.set(m, 'lower');
  const versions = ids.map((id) => {
    const v = repo.version(id);
    const metrics = { ...v.metrics };
    for (const a of annotationsOf(repo, id)) Object.assign(metrics, a.metrics);
    const chunkIds = new Set<string>();
    for (const f of Object.values(v.files)) for (const c of repo.file(f.file).chunks) chunkIds.add(c.id);
    return { id, v, metrics, chunkIds };
  });
  const metricNames = [...new Set(versions.flatMap((x) => Object.keys(x.metrics)))].sort();
  const directions: Record<string, Direction | null> = {};
  for (const m of metricNames) directions[m] = declared.get(m) ?? metricDirection(m);
  const first = versions[0]!;
  const columns = versions.map((x): CompareColumn => {
    const metrics: Record<string, MetricCell> = {};
    for (const m of metricNames) {
      const value = x.metrics[m] ?? null;
      const base = first.metrics[m];
      const delta = typeof value === 'number' && typeof base === 'number' ? value - base : null;
      const dir = directions[m];
      const verdict = delta === null || x === first ? null : delta === 0 ? 'same' : !dir ? null : (delta > 0) === (dir === 'higher') ? 'better' : 'worse';
      metrics[m] = { value, delta: x === first ? null : delta, verdict };
    }
    let storedBytes = 0;
    let shared = 0;
    for (const c of x.chunkIds) {
      storedBytes += Math.max(0, repo.objects.storedSize(c));
      if (first.chunkIds.has(c)) shared++;
    }
    return {
      id: x.id,
      number: numberOf(repo, x.id),
      message: x.v.message,
      author: x.v.author,
      time: x.v.time,
      meta: x.v.meta,
      params: x.v.params,
      metrics,
      logicalBytes: Object.values(x.v.files).reduce((s, f) => s + f.size, 0),
      storedBytes,
      chunks: x.chunkIds.size,
      sharedWithFirst: shared,
      data: x.v.deps.data ?? [],
      base: x.v.deps.base ?? null,
      baseNumber: x.v.deps.base ? numberOf(repo, x.v.deps.base) : null,
    };
  });
  return { columns, metricNames, directions };
}
