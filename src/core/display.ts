/**
 * How numbers read by people are written: integers as they are; other numbers to six significant
 * digits (`0.09000000000000001` -> `0.09`, `0.0003333333333333333` -> `0.000333333`), magnitudes
 * of 100,000 and more to the unit. `--json` output never goes through this: it stays exact.
 */
export function displayNumber(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1e5) return String(Math.round(v));
  return String(Number(v.toPrecision(6)));
}

/** A metric, param or meta value written for people: numbers through displayNumber, the rest as text. */
export function displayValue(v: unknown): string {
  return typeof v === 'number' ? displayNumber(v) : String(v);
}
