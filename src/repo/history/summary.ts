import type { Scalar, Version } from '../../core/objects.js';
import { isCount, isId, isRecord, isScalar, toNameMap } from '../../core/schema.js';

/**
 * What the summary file keeps of each version, enough for log, queries and
 * compare without reading manifests. `number` is the version's line in
 * `.mvm/numbers`, which orders the file; whether it is a number to show is
 * the number log's to say (see VersionSummary).
 */
export interface StoredSummary extends Pick<Version, 'parents' | 'author' | 'time' | 'message' | 'meta' | 'params'> {
  id: string;
  number: number;
  /** Metrics as recorded, overlaid by later annotations (newest wins). */
  metrics: Record<string, Scalar>;
  base: string | null;
  /** Datasets used: their ids, and the paths or names they were recorded under. */
  data: string[];
  files: number;
  size: number;
  annotations: number;
}

/**
 * A version's summary as views see it: `number` is its registry number, null
 * for a version made here that the shared registry has not numbered yet.
 */
export type VersionSummary = Omit<StoredSummary, 'number'> & { number: number | null };

/** The stored summary of a version manifest. */
export function summarize(id: string, number: number, v: Version): StoredSummary {
  const files = Object.values(v.files);
  return {
    id,
    number,
    parents: v.parents,
    author: v.author,
    time: v.time,
    message: v.message,
    meta: v.meta,
    params: v.params,
    metrics: toNameMap(v.metrics),
    base: v.deps.base ?? null,
    data: (v.deps.data ?? []).flatMap((d) => [d.id, ...(d.path ? [d.path] : []), ...(d.name ? [d.name] : [])]),
    files: files.length,
    size: files.reduce((s, f) => s + f.size, 0),
    annotations: 0,
  };
}

/** A map of scalars (a for-in loop: no array per map, as this runs for every summary a log reads). */
function isScalarMap(v: unknown): v is Record<string, Scalar> {
  if (!isRecord(v)) return false;
  for (const k in v) if (!isScalar(v[k])) return false;
  return true;
}

/** Whether a value read back from the summary file has a summary's shape (which readers rely on). */
export function isSummary(v: unknown): v is StoredSummary {
  return (
    isRecord(v) &&
    isId(v.id) &&
    isCount(v.number) &&
    Array.isArray(v.parents) &&
    v.parents.every(isId) &&
    typeof v.author === 'string' &&
    typeof v.time === 'string' &&
    typeof v.message === 'string' &&
    isScalarMap(v.meta) &&
    isScalarMap(v.params) &&
    isScalarMap(v.metrics) &&
    (v.base === null || isId(v.base)) &&
    Array.isArray(v.data) &&
    v.data.every((d) => typeof d === 'string') &&
    isCount(v.files) &&
    isCount(v.size) &&
    isCount(v.annotations)
  );
}

/**
 * A summary file (or its columns) with a value that does not parse or is not of its shape (a damaged disk, or a
 * hand-edited `.mvm/`: appends are checked, rewrites atomic).
 */
export class SummaryFileDamaged extends Error {}
