import type { CompareResult } from '../../ops/compare.js';
import type { Scalar } from '../../core/objects.js';
import { displayValue } from '../../core/display.js';
import { paint, stripPaint } from './color.js';
import { formatBytes, formatDate, table, versionLabel } from './text.js';

/** A cell's value for people (core/display.ts rounding), '-' when the version has none. */
function fmt(v: Scalar | null | undefined): string {
  return v === null || v === undefined ? '-' : displayValue(v);
}

/** The comparison as rows: a header row of versions, then one row per field. */
export function compareRows(r: CompareResult): string[][] {
  const cols = r.columns;
  const rows: string[][] = [['', ...cols.map((c) => versionLabel(c.id, c.number))]];
  rows.push(['message', ...cols.map((c) => c.message.split('\n')[0]!.slice(0, 40))]);
  rows.push(['author', ...cols.map((c) => c.author.replace(/\s*<.*>$/, ''))]);
  rows.push(['date', ...cols.map((c) => formatDate(c.time).slice(0, 16))]);
  const keys = (pick: (c: CompareResult['columns'][number]) => Record<string, Scalar>) =>
    [...new Set(cols.flatMap((c) => Object.keys(pick(c))))].sort();
  for (const k of keys((c) => c.meta)) rows.push([`meta.${k}`, ...cols.map((c) => fmt(c.meta[k]))]);
  for (const k of keys((c) => c.params)) rows.push([`params.${k}`, ...cols.map((c) => fmt(c.params[k]))]);
  for (const m of r.metricNames) {
    const dir = r.directions[m];
    rows.push([
      `${m}${dir === 'higher' ? ' (higher is better)' : dir === 'lower' ? ' (lower is better)' : ''}`,
      ...cols.map((c) => {
        const cell = c.metrics[m]!;
        if (cell.delta === null) return fmt(cell.value);
        const sign = cell.delta > 0 ? '+' : '';
        const verdict =
          cell.verdict === 'better'
            ? ` ${paint('better', 'better')}`
            : cell.verdict === 'worse'
              ? ` ${paint('worse', 'worse')}`
              : cell.verdict && cell.verdict !== 'same'
                ? ` ${cell.verdict}`
                : '';
        return `${fmt(cell.value)} (${sign}${fmt(cell.delta)}${verdict})`;
      }),
    ]);
  }
  rows.push(['size', ...cols.map((c) => formatBytes(c.logicalBytes))]);
  rows.push(['stored', ...cols.map((c) => formatBytes(c.storedBytes))]);
  rows.push([
    `chunks shared with ${versionLabel(cols[0]!.id, cols[0]!.number).split(' ')[0]}`,
    // a partial store that has not read a version's file objects cannot count its chunks offline
    ...cols.map((c) => (c.filesOnRemote || cols[0]!.filesOnRemote ? '?' : `${c.sharedWithFirst}/${c.chunks}`)),
  ]);
  rows.push([
    'data',
    ...cols.map((c) => c.data.map((d) => `${d.path ?? d.name}@${d.id.slice(0, 8)}`).join(' ') || '-'),
  ]);
  rows.push(['base', ...cols.map((c) => (c.base ? versionLabel(c.base, c.baseNumber) : '-'))]);
  return rows;
}

/** Rows and columns swapped: one row per version. */
function pivot(rows: string[][]): string[][] {
  return rows[0]!.map((_, j) => rows.map((r) => r[j] ?? ''));
}

/**
 * Renders a comparison as a text table (shared with `mvm eval`): fields down,
 * versions across; when that is wider than `width` (the terminal), versions
 * down and fields across instead, whichever is narrower.
 */
export function compareTable(r: CompareResult, width?: number): string {
  const rows = compareRows(r);
  const text = table(rows);
  if (!width || Math.max(...text.split('\n').map((l) => l.length)) <= width) return text;
  const turned = table(pivot(rows));
  return Math.max(...turned.split('\n').map((l) => l.length)) < Math.max(...text.split('\n').map((l) => l.length))
    ? turned
    : text;
}

/** A Markdown table (for pull-request comments): fields down, versions across. */
export function compareMarkdown(r: CompareResult): string {
  const cell = (c: string) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const [head, ...body] = compareRows(r).map((row) => row.map(stripPaint));
  head![0] = 'field';
  const line = (row: string[]) => `| ${row.map(cell).join(' | ')} |`;
  return [line(head!), `|${head!.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...body.map(line)].join(
    '\n',
  );
}

/** CSV (RFC 4180 quoting, newline-separated): fields down, versions across. */
export function compareCsv(r: CompareResult): string {
  const rows = compareRows(r).map((row) => row.map(stripPaint));
  rows[0]![0] = 'field';
  const quote = (c: string) => (/[",\n\r]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  return rows.map((row) => row.map(quote).join(',')).join('\n');
}
