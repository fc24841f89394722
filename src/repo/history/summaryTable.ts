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
  parents(i: number): readonly string[];
  /** Read only: the map may be shared with the table's own rows. */
  metrics(i: number): Readonly<Record<string, Scalar>>;
  /** The whole summary: a new object, its maps shared with the table. */
  summary(i: number): VersionSummary;
  /** The index of version `id`, or -1. */
  indexOf(id: string): number;
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
  let index: Map<string, number> | null = null;
  return {
    size: summaries.length,
    id: (i) => summaries[i]!.id,
    number: (i) => summaries[i]!.number,
    parents: (i) => summaries[i]!.parents,
    metrics: (i) => summaries[i]!.metrics,
    summary: (i) => summaries[i]!,
    indexOf(id) {
      index ??= new Map(summaries.map((s, i) => [s.id, i]));
      return index.get(id) ?? -1;
    },
  };
}

/**
 * The table of a summary file read through its columns: the columns' rows (older versions) then the summaries
 * read from the lines past them (newer ones, in number order), annotations met in those lines applied to the
 * columns' rows as they are read. A column row whose version a line also gave is the line's.
 */
export function columnTable(
  columns: SummaryColumns,
  lines: readonly StoredSummary[],
  pending: ReadonlyMap<number, Record<string, Scalar>[]>,
): SummaryTable {
  const given = new Set(lines.map((s) => s.id));
  // column indexes in order, skipping those a line gave (none, unless lines were read back past the columns)
  const rows: number[] = [];
  for (let c = 0; c < columns.size; c++) if (!given.size || !given.has(columns.idAt(c))) rows.push(c);
  const n = rows.length;
  const merged = new Map<number, { metrics: Record<string, Scalar>; annotations: number }>();
  const metricsOf = (c: number) => {
    const later = pending.get(columns.numberAt(c));
    if (!later) return { metrics: columns.metricsAt(c), annotations: 0 };
    let m = merged.get(c);
    if (!m) merged.set(c, (m = annotated(columns.metricsAt(c), later)));
    return m;
  };
  let index: Map<string, number> | null = null;
  return {
    size: n + lines.length,
    id: (i) => (i < n ? columns.idAt(rows[i]!) : lines[i - n]!.id),
    number: (i) => (i < n ? columns.numberAt(rows[i]!) : lines[i - n]!.number),
    parents: (i) => (i < n ? columns.parentsAt(rows[i]!) : lines[i - n]!.parents),
    metrics: (i) => (i < n ? metricsOf(rows[i]!).metrics : lines[i - n]!.metrics),
    summary(i) {
      if (i >= n) return lines[i - n]!;
      const s = columns.summary(rows[i]!);
      const m = metricsOf(rows[i]!);
      return { ...s, metrics: m.metrics, annotations: s.annotations + m.annotations };
    },
    indexOf(id) {
      if (!index) {
        index = new Map();
        for (let i = 0; i < n + lines.length; i++) index.set(i < n ? columns.idAt(rows[i]!) : lines[i - n]!.id, i);
      }
      return index.get(id) ?? -1;
    },
  };
}

/** The table as views see it: numbers past the registry's last confirmed one are null (see shownNumbers). */
export function shownTable(t: SummaryTable, confirmed: number): SummaryTable {
  const shown = (n: number | null) => (n !== null && n > confirmed ? null : n);
  return {
    ...t,
    size: t.size,
    number: (i) => shown(t.number(i)),
    summary(i) {
      const s = t.summary(i);
      return s.number !== null && s.number > confirmed ? { ...s, number: null } : s;
    },
  };
}
