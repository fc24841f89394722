import { MvmError } from '../errors.js';
import type { Scalar } from '../core/objects.js';
import { checkMetrics, parsePairs } from '../core/values.js';
import type { Repository } from '../repo/repository/index.js';
import { numberOf, recordAnnotation } from '../repo/history/index.js';

/** Options of `mvm annotate`. */
export interface AnnotateOptions {
  /** `key=value` strings, or typed metrics from the library API. */
  metrics?: string[] | Record<string, Scalar>;
  note?: string;
  author?: string;
}

/** What `mvm annotate` recorded. */
export interface AnnotateResult {
  target: string;
  number: number | null;
  annotation: string;
  metrics: Record<string, Scalar>;
  note?: string;
}

/**
 * Attaches facts that arrived later (metrics from an evaluation, a note) to a
 * version without changing its id: an immutable annotation object, listed in
 * the append-only log `logs/annotations`. Newest values win in show, log,
 * compare and queries; the history stays.
 */
export async function annotate(repo: Repository, rev: string, opts: AnnotateOptions): Promise<AnnotateResult> {
  const metrics = Array.isArray(opts.metrics)
    ? parsePairs(opts.metrics, 'metric', true)
    : checkMetrics(opts.metrics ?? {}, 'metrics');
  if (!Object.keys(metrics).length && !opts.note?.trim()) {
    throw new MvmError('BAD_ARGUMENT', 'nothing to annotate: give --metric k=v or --note', {
      hint: 'e.g. mvm annotate v3 --metric f1=0.82 --note "eval on test-2026"',
    });
  }
  const r = await recordAnnotation(repo, rev, { metrics, note: opts.note, author: opts.author });
  return { target: r.target, number: numberOf(repo, r.target), annotation: r.id, metrics, note: r.annotation.note };
}
