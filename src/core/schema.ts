import { isObjectId } from './ids.js';

/**
 * Shape checks for JSON read from places mvm does not control (`.mvm/`, a
 * remote, a cloned repository), and the null-prototype maps such JSON is
 * read into: a key like `__proto__` or `constructor` is then a name like any
 * other, for reading (`m[key]` is only ever an own value) and for writing
 * (a plain assignment cannot change a prototype).
 */

/** A JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** An empty map with no prototype, safe for any key. */
export function nameMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A null-prototype copy of a map's own entries. */
export function toNameMap<T>(src: Record<string, T>): Record<string, T> {
  const out = nameMap<T>();
  for (const k of Object.keys(src)) out[k] = src[k] as T;
  return out;
}

/** A string, a finite number or a boolean: a value of meta, params and metrics. */
export function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** A whole number from 0 up to 2^53 - 1 (a size, an offset, a count, a mode). */
export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A full 64-hex object id. */
export function isId(v: unknown): v is string {
  return typeof v === 'string' && isObjectId(v);
}

/** A string, or absent. */
export function isOptionalString(v: unknown): v is string | undefined {
  return v === undefined || typeof v === 'string';
}

/** A short JSON rendering of an unexpected value, for messages. */
export function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
