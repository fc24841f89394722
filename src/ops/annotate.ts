import { MvmError } from '../errors.js';
import { OBJECT_FORMAT, type Annotation, type Scalar } from '../core/objects.js';
import { parsePairs } from '../core/values.js';
import type { Repository } from './repository.js';
import { resolveRevision, numberOf } from './resolve.js';
import { withLock } from './session.js';
import { defaultAuthor } from './gitInfo.js';
import type { AnnotationLogEntry } from './versionIndex.js';

/** Options of `mvm annotate`. */
export interface AnnotateOptions {
  /** `key=number` strings, or typed metrics from the library API. */
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
  const metrics = Array.isArray(opts.metrics) ? parsePairs(opts.metrics, 'metric', true) : { ...(opts.metrics ?? {}) };
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new MvmError('BAD_VALUE', `metric ${k} is not a finite number`, { key: k });
  }
  if (!Object.keys(metrics).length && !opts.note?.trim()) {
    throw new MvmError('BAD_ARGUMENT', 'nothing to annotate: give --metric k=v or --note', { hint: 'e.g. mvm annotate v3 --metric f1=0.82 --note "eval on test-2026"' });
  }
  return withLock(repo, 'annotate', async () => {
    const target = resolveRevision(repo, rev);
    repo.version(target);
    const a: Annotation = {
      type: 'annotation',
      format: OBJECT_FORMAT,
      target,
      author: defaultAuthor(repo.root, opts.author),
      time: new Date().toISOString(),
      metrics,
      ...(opts.note?.trim() ? { note: opts.note.trim() } : {}),
    };
    const id = repo.putObject(a);
    const entry: AnnotationLogEntry = { target, annotation: id };
    repo.refs.appendLog('annotations', entry);
    return { target, number: numberOf(repo, target), annotation: id, metrics, note: a.note };
  });
}
