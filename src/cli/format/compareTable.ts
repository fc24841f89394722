import type { CompareResult } from '../../ops/compare.js';
import type { Scalar } from '../../core/objects.js';
import { formatBytes, formatDate, table, versionLabel } from './text.js';

function fmt(v: Scalar | null | undefined): string {
  if (v === null || v === undefined) return '-';
  return typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
}

/** Renders a comparison as a text table (shared with `mvm eval`). */
export function compareTable(r: CompareResult): string {
  const cols = r.columns;
  const rows: string[][] = [['', ...cols.map((c) => versionLabel(c.id, c.number))]];
  rows.push(['message', ...cols.map((c) => c.message.split('\n')[0]!.slice(0, 40))]);
  rows.push(['author', ...cols.map((c) => c.author.replace(/\s*<.*>$/, ''))]);
  rows.push(['date', ...cols.map((c) => formatDate(c.time).slice(0, 16))]);
  const keys = (pick: (c: CompareResult['columns'][number]) => Record<string, Scalar>) => [...new Set(cols.flatMap((c) => Object.keys(pick(c))))].sort();
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
        return `${fmt(cell.value)} (${sign}${fmt(cell.delta)}${cell.verdict && cell.verdict !== 'same' ? ` ${cell.verdict}` : ''})`;
      }),
    ]);
  }
  rows.push(['size', ...cols.map((c) => formatBytes(c.logicalBytes))]);
  rows.push(['stored', ...cols.map((c) => formatBytes(c.storedBytes))]);
  rows.push([`chunks shared with ${versionLabel(cols[0]!.id, cols[0]!.number).split(' ')[0]}`, ...cols.map((c) => `${c.sharedWithFirst}/${c.chunks}`)]);
  rows.push(['data', ...cols.map((c) => c.data.map((d) => `${d.path ?? d.name}@${d.id.slice(0, 8)}`).join(' ') || '-')]);
  rows.push(['base', ...cols.map((c) => (c.base ? versionLabel(c.base, c.baseNumber) : '-'))]);
  return table(rows);
}
