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
 * The one rule for a metric value, wherever it comes from (--metric, a
 * metrics file, annotate, eval, the library API): a finite number or a
 * boolean. Anything else throws BAD_VALUE naming the key and the source.
 */
export function checkMetric(key: string, v: unknown, source: string): Scalar {
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return v;
  throw new MvmError('BAD_VALUE', `${source}: metric ${key || '(top level)'} is not a finite number or a boolean`, {
    source,
    key,
    hint: 'metrics are numbers (or true/false), e.g. accuracy=0.93',
  });
}

/** Checks every value of a typed metrics record (from the library API) and returns a copy. */
export function checkMetrics(metrics: Record<string, unknown>, source: string): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [k, v] of Object.entries(metrics)) setKey(out, k, checkMetric(k, v, source));
  return out;
}

/**
 * Sets `obj[key]` as an own property whatever the key: `__proto__` or
 * `constructor` are names like any other (a plain assignment to `__proto__`
 * would change the object's prototype and drop the value).
 */
export function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Copies every own key of `src` onto `target` with setKey (Object.assign, safe for any key). */
export function mergeInto<T>(target: Record<string, T>, src: Record<string, T>): Record<string, T> {
  for (const k of Object.keys(src)) setKey(target, k, src[k] as T);
  return target;
}

/**
 * Parses `key=value` pairs from the command line. With `metric`, values
 * must pass checkMetric. Refused input throws BAD_VALUE before anything is
 * written.
 */
export function parsePairs(pairs: string[], flag: string, metric = false): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const key = eq > 0 ? p.slice(0, eq).trim() : '';
    if (!key)
      throw new MvmError('BAD_VALUE', `--${flag} '${p}' is not key=value`, {
        flag,
        value: p,
        hint: `write --${flag} name=value`,
      });
    if (!KEY_RE.test(key))
      throw new MvmError(
        'BAD_VALUE',
        `--${flag} key '${key}' must start with a letter or _ and hold only letters, digits, _ . - /`,
        { flag, key },
      );
    const raw = p.slice(eq + 1);
    const v = typedValue(raw);
    setKey(out, key, metric ? checkMetric(key, v, `--${flag} ${key}='${raw}'`) : v);
  }
  return out;
}

/**
 * Flattens a nested JSON object of metrics into dotted keys (`{eval: {f1: 0.8}}`
 * becomes `eval.f1`); every leaf must pass checkMetric.
 */
export function flattenMetrics(obj: unknown, source: string): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  const walk = (v: unknown, prefix: string) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}.${k}` : k);
    } else {
      setKey(out, prefix, checkMetric(prefix, v, source));
    }
  };
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    throw new MvmError('BAD_VALUE', `${source} must hold a JSON object of metrics`, { source });
  walk(obj, '');
  return out;
}
