import { layerOf } from '../../core/diff.js';
import { MvmError } from '../../errors.js';

/**
 * Tensor names for the text output of `show --tensors` and `diff`: grouped by
 * layer (`core/diff.ts` `layerOf`, as `diff --json` counts layers), each
 * name shown after its layer's prefix, a prefix every name of the file shares
 * said once, and at most a given number of rows.
 */

/** A common prefix shorter than this is left in place: it costs less than the line that would say it. */
const MIN_PREFIX = 16;

/** Characters a name is cut at when shortened: a layer or scope boundary. */
const SEPARATORS = new Set(['.', '/', ':', ';']);

/** The longest prefix all names share, cut after its last separator; '' when under MIN_PREFIX characters. */
export function commonPrefix(names: readonly string[]): string {
  if (names.length < 2) return '';
  let p = names[0]!;
  for (const n of names) {
    let i = 0;
    while (i < p.length && i < n.length && p[i] === n[i]) i++;
    p = p.slice(0, i);
    if (!p) return '';
  }
  let cut = p.length;
  while (cut > 0 && !SEPARATORS.has(p[cut - 1]!)) cut--;
  return cut >= MIN_PREFIX ? p.slice(0, cut) : '';
}

/** `name` as shown under its layer: what follows the layer's prefix (the whole name when nothing follows). */
export function shortName(name: string, layer: string): string {
  if (!layer.endsWith('*')) return name;
  const stem = layer.slice(0, -1);
  return name.startsWith(stem) && name.length > stem.length ? name.slice(stem.length) : name;
}

/** A layer's key as shown once the file's common prefix is said: the prefix replaced by '…'. */
export function shownLayer(layer: string, prefix: string): string {
  return prefix && layer.startsWith(prefix) && layer.length > prefix.length ? `…${layer.slice(prefix.length)}` : layer;
}

/** Items of one layer, in the order they came. */
export interface LayerGroup<T> {
  layer: string;
  items: T[];
}

/** Items grouped by the layer of their name, layers in the order of their first item. */
export function groupByLayer<T>(items: readonly T[], nameOf: (t: T) => string): LayerGroup<T>[] {
  const groups = new Map<string, LayerGroup<T>>();
  for (const t of items) {
    const layer = layerOf(nameOf(t));
    let g = groups.get(layer);
    if (!g) {
      g = { layer, items: [] };
      groups.set(layer, g);
    }
    g.items.push(t);
  }
  return [...groups.values()];
}

/** A row budget shared by the files of one output (`--limit`). */
export class RowBudget {
  /** Rows left out since the last flush, and the layers of which no row was shown. */
  hidden = 0;
  hiddenLayers = 0;
  constructor(private left: number) {}

  /** The first items of a group that fit; counts the rest as hidden. */
  take<T>(items: readonly T[]): readonly T[] {
    const n = Math.min(items.length, Math.max(0, this.left));
    this.left -= n;
    if (n < items.length) {
      this.hidden += items.length - n;
      if (n === 0) this.hiddenLayers++;
    }
    return n === items.length ? items : items.slice(0, n);
  }

  /** The line saying what was left out since the last call (one file's rows), or none. */
  flush(indent: string, what: string): string[] {
    if (!this.hidden) return [];
    const layers = this.hiddenLayers ? ` (${this.hiddenLayers} more layer(s))` : '';
    const line = `${indent}... and ${this.hidden} more ${what}${layers}: --limit N shows more, --json lists all`;
    this.hidden = 0;
    this.hiddenLayers = 0;
    return [line];
  }
}

/** The row limit `--limit` asks for (a whole number of 1 or more), or `dflt` when not given. */
export function rowLimit(limit: number | undefined, dflt: number): number {
  if (limit === undefined) return dflt;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new MvmError('BAD_ARGUMENT', `--limit must be a whole number of 1 or more, not ${String(limit)}`, {
      hint: 'use --json for every row',
    });
  return limit;
}
