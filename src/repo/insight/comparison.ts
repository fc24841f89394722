import { setKey } from '../../core/values.js';
import type { DataDep, Scalar, Version } from '../../core/objects.js';
import { metricDirection, type Direction } from '../../core/metrics.js';
import { leftOnRemote, type Repository } from '../repository/index.js';
import { numberLookup, annotationsOf, overlayMetrics } from '../history/index.js';
import { nameMap } from '../../core/schema.js';

/** How versions are compared: metric directions declared by the user (others are inferred from names). */
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
export interface CompareColumn extends Pick<Version, 'message' | 'author' | 'time' | 'meta' | 'params'> {
  id: string;
  number: number | null;
  metrics: Record<string, MetricCell>;
  /** Bytes of the files (logical), and of the chunks they use as stored on disk (compressed, counted once). */
  logicalBytes: number;
  storedBytes: number;
  chunks: number;
  /** Chunks this version shares with the first column. */
  sharedWithFirst: number;
  /**
   * Files whose file objects a partial store has not fetched (it fetches them when a command reads the version):
   * `chunks`, `sharedWithFirst` and `storedBytes` count the other files only. Absent when 0.
   */
  filesOnRemote?: number;
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

/**
 * Compares versions side by side: metadata, params, metrics (annotations
 * included) with deltas against the first, sizes, shared chunks, data and base.
 */
export function compareVersions(repo: Repository, ids: string[], opts: CompareOptions = {}): CompareResult {
  const numberOf = numberLookup(repo);
  const declared = new Map<string, Direction>();
  for (const m of opts.higherIsBetter ?? []) declared.set(m, 'higher');
  for (const m of opts.lowerIsBetter ?? []) declared.set(m, 'lower');
  const versions = ids.map((id) => {
    const v = repo.version(id);
    const metrics = overlayMetrics(v, annotationsOf(repo, id));
    const chunkIds = new Set<string>();
    let filesOnRemote = 0;
    for (const f of Object.values(v.files)) {
      // compare works offline: it counts what is here, and says what it could not
      if (leftOnRemote(repo, f.file)) filesOnRemote++;
      else for (const c of repo.file(f.file).chunks) chunkIds.add(c.id);
    }
    return { id, v, metrics, chunkIds, filesOnRemote };
  });
  const metricNames = [...new Set(versions.flatMap((x) => Object.keys(x.metrics)))].sort();

  const directions = nameMap<Direction | null>();
  for (const m of metricNames) directions[m] = declared.get(m) ?? metricDirection(m);
  const first = versions[0]!;
  const columns = versions.map((x): CompareColumn => {
    const metrics = nameMap<MetricCell>();
    for (const m of metricNames) {
      const value = x.metrics[m] ?? null;
      const base = first.metrics[m];
      const delta = typeof value === 'number' && typeof base === 'number' ? value - base : null;
      const dir = directions[m];
      const verdict =
        delta === null || x === first
          ? null
          : delta === 0
            ? 'same'
            : !dir
              ? null
              : delta > 0 === (dir === 'higher')
                ? 'better'
                : 'worse';
      setKey(metrics, m, { value, delta: x === first ? null : delta, verdict });
    }
    // counted in one pass over the store, not a stat per chunk (seconds for a 140 GB model's 133,000 chunks)
    const storedBytes = repo.objects.storedTotal(x.chunkIds);
    let shared = 0;
    for (const c of x.chunkIds) if (first.chunkIds.has(c)) shared++;
    return {
      id: x.id,
      number: numberOf(x.id),
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
      ...(x.filesOnRemote ? { filesOnRemote: x.filesOnRemote } : {}),
      data: x.v.deps.data ?? [],
      base: x.v.deps.base ?? null,
      baseNumber: x.v.deps.base ? numberOf(x.v.deps.base) : null,
    };
  });
  return { columns, metricNames, directions };
}
