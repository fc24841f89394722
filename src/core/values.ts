import { MvmError } from '../errors.js';
import type { Scalar } from './objects.js';

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;

/** Reads a value as typed: numbers as numbers, true/false as booleans, anything else as a string. */
export function typedValue(raw: string): Scalar {
  const t = raw.trim();
  // a number too large for a double (1e999) stays a string rather than becoming Infinity
  if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) && Number.isFinite(Number(t))) return Number(t);
  if (t === 'true') return true;
  if (t === 'false') return false;
  return raw;
}

/**
 * Parses `key=value` pairs from the command line. `numeric` refuses values
 * that are not finite numbers (metrics). Refused input throws BAD_VALUE
 * before anything is written.
 */
export function parsePairs(pairs: string[], flag: string, numeric = false): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const key = eq > 0 ? p.slice(0, eq).trim() : '';
    if (!key) throw new MvmError('BAD_VALUE', `--${flag} '${p}' is not key=value`, { flag, value: p, hint: `write --${flag} name=value` });
    if (!KEY_RE.test(key)) throw new MvmError('BAD_VALUE', `--${flag} key '${key}' must start with a letter or _ and hold only letters, digits, _ . - /`, { flag, key });
    const raw = p.slice(eq + 1);
    const v = typedValue(raw);
    if (numeric && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw new MvmError('BAD_VALUE', `--${flag} ${key}: '${raw}' is not a number`, { flag, key, value: raw, hint: 'metrics are numbers, e.g. accuracy=0.93' });
    }
    out[key] = v;
  }
  return out;
}

/**
 * Flattens a nested JSON object of metrics into dotted keys (`{eval: {f1: 0.8}}`
 * becomes `eval.f1`), refusing anything that is not a finite number (or boolean).
 */
export function flattenMetrics(obj: unknown, source: string): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  const walk = (v: unknown, prefix: string) => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new MvmError('BAD_VALUE', `${source}: metric ${prefix} is not a finite number`, { source, key: prefix });
      out[prefix] = v;
    } else if (typeof v === 'boolean') {
      out[prefix] = v;
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}.${k}` : k);
    } else {
      throw new MvmError('BAD_VALUE', `${source}: metric ${prefix || '(top level)'} must be a number or an object of numbers`, { source, key: prefix });
    }
  };
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new MvmError('BAD_VALUE', `${source} must hold a JSON object of metrics`, { source });
  walk(obj, '');
  return out;
}
