import { mergeInto } from '../../core/values.js';
import type { Scalar } from '../../core/objects.js';
import type { StoredSummary, VersionSummary } from './summary.js';
import type { SummaryColumns } from './summaryColumns.js';

/**
 * Every version summary, by index in number order, read a field at a time: what a scan of every version needs
 * (`best` reads the parents and one metric of 10,000 versions, and builds the summary of the winner only), where
 * SummarySource.all() builds every summary first. An index is a row of the summary columns or a summary read
 * from a line; metrics include annotations.
 */
export interface SummaryTable {
  readonly size: number;
  id(i: number): string;
  /** Null for a version made here that the shared registry has not numbered yet (VersionSummary). */
  number(i: number): number | null;
  /** The indexes of the parents the table holds (a walk of the history by index). */
  parentRows(i: number): number[];
  /** Read only: the map may be shared with the table's own rows. */
  metrics(i: number): Readonly<Record<string, Scalar>>;
  /** The whole summary: a new object, its maps shared with the table. */
  summary(i: number): VersionSummary;
  /** The index of version `id`, or -1 (the newest rows are looked at first, without building an index). */
  indexOf(id: string): number;
}

/** How many of the newest rows indexOf compares before it builds a map of every id (HEAD and its parents are there). */
const RECENT = 64;

/** indexOf over `size` rows named by `id`: the newest RECENT rows first, then a map built once. */
function finder(size: number, id: (i: number) => string): (want: string) => number {
  let index: Map<string, number> | null = null;
  return (want) => {
    if (!index) {
      for (let i = size - 1; i >= 0 && i >= size - RECENT; i--) if (id(i) === want) return i;
      index = new Map();
      for (let i = 0; i < size; i++) index.set(id(i), i);
    }
    return index.get(want) ?? -1;
  };
}

/** The metrics of a summary overlaid by annotations met newest first (applied oldest first), and their count. */
function annotated(
  metrics: Record<string, Scalar>,
  later: Record<string, Scalar>[] | undefined,
): { metrics: Record<string, Scalar>; annotations: number } {
  if (!later?.length) return { metrics, annotations: 0 };
  const out = { ...metrics };
  for (let k = later.length - 1; k >= 0; k--) mergeInto(out, later[k]!);
  return { metrics: out, annotations: later.length };
}

/** A table over summaries already built, in number order. */
export function tableOf(summaries: readonly VersionSummary[]): SummaryTable {
  const indexOf = finder(summaries.length, (i) => summaries[i]!.id);
  return {
    size: summaries.length,
    id: (i) => summaries[i]!.id,
    number: (i) => summaries[i]!.number,
    parentRows: (i) => rowsOf(summaries[i]!.parents, indexOf),
    metrics: (i) => summaries[i]!.metrics,
    summary: (i) => summaries[i]!,
    indexOf,
  };
}

/** The indexes of the ids a table holds. */
function rowsOf(ids: readonly string[], indexOf: (id: string) => number): number[] {
  const out: number[] = [];
  for (const id of ids) {
    const i = indexOf(id);
    if (i >= 0) out.push(i);
  }
  return out;
}

/**
 * The table of a summary file read through its columns: the columns' rows (older versions) then the summaries
 * read from the lines past them (newer ones, in number order: the caller checks that they come after the
 * columns), annotations met in those lines applied to the columns' rows as they are read.
 */
export function columnTable(
  columns: SummaryColumns,
  lines: readonly StoredSummary[],
  pending: ReadonlyMap<number, Record<string, Scalar>[]>,
): SummaryTable {
  const n = columns.size;
  const merged = new Map<number, { metrics: Record<string, Scalar>; annotations: number }>();
  const metricsOf = (c: number) => {
    const later = pending.get(columns.numberAt(c));
    if (!later) return { metrics: columns.metricsAt(c), annotations: 0 };
    let m = merged.get(c);
    if (!m) merged.set(c, (m = annotated(columns.metricsAt(c), later)));
    return m;
  };
  const id = (i: number) => (i < n ? columns.idAt(i) : lines[i - n]!.id);
  const indexOf = finder(n + lines.length, id);
  return {
    size: n + lines.length,
    id,
    number: (i) => (i < n ? columns.numberAt(i) : lines[i - n]!.number),
    parentRows(i) {
      if (i >= n) return rowsOf(lines[i - n]!.parents, indexOf);
      // an index among the columns is the same row; an id, a version they do not hold, is looked up
      const refs = columns.parentRefsAt(i);
      if (typeof refs === 'number') return [refs];
      const out: number[] = [];
      for (const r of refs) {
        const row = typeof r === 'number' ? r : indexOf(r);
        if (row >= 0) out.push(row);
      }
      return out;
    },
    metrics: (i) => (i < n ? metricsOf(i).metrics : lines[i - n]!.metrics),
    summary(i) {
      if (i >= n) return lines[i - n]!;
      const s = columns.summary(i);
      const m = metricsOf(i);
      return { ...s, metrics: m.metrics, annotations: s.annotations + m.annotations };
    },
    indexOf,
  };
}

/** The table as views see it: numbers past the registry's last confirmed one are null (see shownNumbers). */
export function shownTable(t: SummaryTable, confirmed: number): SummaryTable {
  const shown = (n: number | null) => (n !== null && n > confirmed ? null : n);
  return {
    ...t,
    number: (i) => shown(t.number(i)),
    summary(i) {
      const s = t.summary(i);
      return s.number !== null && s.number > confirmed ? { ...s, number: null } : s;
    },
  };
}
