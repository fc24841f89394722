import type { Scalar, Version } from '../../core/objects.js';
import { toNameMap } from '../../core/schema.js';

/** What the index keeps of each version, enough for log, queries and compare without reading manifests. */
export interface VersionSummary extends Pick<Version, 'parents' | 'author' | 'time' | 'message' | 'meta' | 'params'> {
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

/** The index summary of a version manifest. */
export function summarize(id: string, number: number, v: Version): VersionSummary {
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
