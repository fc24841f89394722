import { shortId } from '../../core/ids.js';
import type { Scalar } from '../../core/objects.js';
import { displayValue } from '../../core/display.js';
import { renderPaint } from './color.js';

/** Bytes in human units (binary, like ls -h). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** `v7 a1b2c3d4e5f6`, or just the short hash when the version has no number. */
export function versionLabel(id: string, number: number | null | undefined): string {
  return number ? `v${number} ${shortId(id)}` : shortId(id);
}

/**
 * The warning for numbers this repository gave before it shared a registry
 * that names other versions there: each keeps its version here.
 */
export function divergedWarning(numbers: readonly number[], remote: string): string[] {
  if (!numbers.length) return [];
  const list =
    numbers
      .slice(0, 5)
      .map((n) => `v${n}`)
      .join(', ') + (numbers.length > 5 ? ', ...' : '');
  return [
    `warning: ${list} here name other versions than in ${remote}'s registry (numbered here before this ` +
      `repository shared it); they keep naming the same versions here; 'mvm clone' gives the team's numbers`,
  ];
}

/** `k=v k2=v2` for a record of scalars, numbers rounded for reading (core/display.ts). */
export function formatPairs(rec: Record<string, Scalar>): string {
  return Object.entries(rec)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : displayValue(v)}`)
    .join(' ');
}

/** Renders rows as an aligned text table; the first row is the header. */
export function table(rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths: number[] = [];
  // colour marks take no room on screen
  const width = (c: string) => c.length - (c.match(/[\ue000-\ue0ff]/g)?.length ?? 0);
  const pad = (c: string, n: number, left: boolean) =>
    left ? ' '.repeat(Math.max(0, n - width(c))) + c : c + ' '.repeat(Math.max(0, n - width(c)));
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, width(c));
    });
  }
  return rows
    .map((r) =>
      r
        .map((c, i) =>
          align[i] === 'r' ? pad(c, widths[i]!, true) : i === r.length - 1 ? c : pad(c, widths[i]!, false),
        )
        .join('  '),
    )
    .join('\n');
}

/** A date as `2026-11-26 14:34:14 UTC`. */
export function formatDate(iso: string): string {
  return iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
    .replace(/Z$/, ' UTC');
}

/** Writes a JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Shows control characters (a file name, message or metadata from a hostile
 * repository could carry terminal escape sequences) as `\xNN` escapes; tabs
 * and newlines stay.
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Writes lines to stdout, control characters escaped, then colour marks (see color.ts) rendered. */
export function print(...lines: string[]): void {
  if (lines.length) process.stdout.write(renderPaint(escapeControls(lines.join('\n'))) + '\n');
}
