import { describe, it, expect } from 'vitest';
import { typedValue, parsePairs, flattenMetrics, checkMetric, checkMetrics } from '../../../src/core/values.js';
import { MvmError } from '../../../src/errors.js';

function errOf(fn: () => unknown): MvmError | null {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MvmError);
    return e as MvmError;
  }
  return null;
}

describe('typedValue', () => {
  it('reads numbers as numbers', () => {
    expect(typedValue('3')).toBe(3);
    expect(typedValue('-2.5')).toBe(-2.5);
    expect(typedValue('+4')).toBe(4);
    expect(typedValue('1e-4')).toBe(0.0001);
    expect(typedValue('3E+2')).toBe(300);
    expect(typedValue('.5')).toBe(0.5);
    expect(typedValue('7.')).toBe(7);
    expect(typedValue(' 42 ')).toBe(42);
    expect(typedValue('0')).toBe(0);
  });

  it('reads true/false as booleans', () => {
    expect(typedValue('true')).toBe(true);
    expect(typedValue('false')).toBe(false);
    expect(typedValue('True')).toBe('True');
  });

  it('keeps anything else as the raw string', () => {
    expect(typedValue('high')).toBe('high');
    expect(typedValue('')).toBe('');
    expect(typedValue('  ')).toBe('  ');
    expect(typedValue('0x10')).toBe('0x10');
    expect(typedValue('1,000')).toBe('1,000');
    expect(typedValue('NaN')).toBe('NaN');
    expect(typedValue('Infinity')).toBe('Infinity');
    expect(typedValue('1e')).toBe('1e');
    expect(typedValue('.')).toBe('.');
    expect(typedValue('-')).toBe('-');
    expect(typedValue('3e-4 ')).toBe(0.0003);
    expect(typedValue(' v1 ')).toBe(' v1 ');
  });
});

describe('typedValue on numbers that overflow', () => {
  // A version's params/meta are stored with canonicalJson, which refuses
  // non-finite numbers with a TypeError; typedValue must never produce one.
  it('never returns a non-finite number', () => {
    for (const raw of ['1e999', '-1e400', '9'.repeat(400)]) {
      const v = typedValue(raw);
      expect(typeof v === 'number' && !Number.isFinite(v), `${raw.slice(0, 12)} -> ${String(v)}`).toBe(false);
    }
  });

  it('parsePairs for params/meta yields only storable values', () => {
    const out = parsePairs(['lr=1e999'], 'param');
    expect(Number.isFinite(out.lr) || typeof out.lr !== 'number').toBe(true);
  });
});

describe('parsePairs', () => {
  it('parses typed key=value pairs', () => {
    expect(parsePairs(['lr=3e-4', 'epochs=3', 'optimizer=adamw', 'fp16=true'], 'param')).toEqual({
      lr: 0.0003,
      epochs: 3,
      optimizer: 'adamw',
      fp16: true,
    });
  });

  it("keeps '=' inside values", () => {
    expect(parsePairs(['cmd=a=b=c', 'expr=x==y'], 'meta')).toEqual({ cmd: 'a=b=c', expr: 'x==y' });
  });

  it('lets a later pair override an earlier one', () => {
    expect(parsePairs(['a=1', 'a=2'], 'param')).toEqual({ a: 2 });
  });

  it('accepts dotted, slashed and dashed keys, and an empty value as a string', () => {
    expect(parsePairs(['eval.f1=0.8', 'data/split-a=1', '_x=', ' k =v'], 'meta')).toEqual({
      'eval.f1': 0.8,
      'data/split-a': 1,
      _x: '',
      k: 'v',
    });
  });

  it('refuses pairs without a key or without =', () => {
    for (const p of ['novalue', '=3', ' =3', '']) {
      const err = errOf(() => parsePairs([p], 'param'));
      expect(err?.code, p).toBe('BAD_VALUE');
      expect(err?.data.flag).toBe('param');
    }
  });

  it('validates keys', () => {
    for (const p of ['1abc=1', '-a=1', 'a b=1', 'a$=1', '.a=1', 'é=1']) {
      expect(errOf(() => parsePairs([p], 'param'))?.code, p).toBe('BAD_VALUE');
    }
  });

  it("numeric mode refuses non-numbers such as 'high'", () => {
    expect(errOf(() => parsePairs(['acc=high'], 'metric', true))?.code).toBe('BAD_VALUE');
    expect(errOf(() => parsePairs(['acc='], 'metric', true))?.code).toBe('BAD_VALUE');
    expect(errOf(() => parsePairs(['acc=NaN'], 'metric', true))?.code).toBe('BAD_VALUE');
    expect(errOf(() => parsePairs(['acc=Infinity'], 'metric', true))?.code).toBe('BAD_VALUE');
    expect(errOf(() => parsePairs(['acc=1e999'], 'metric', true))?.code).toBe('BAD_VALUE');
  });

  it('metric mode accepts numbers and booleans, the same rule as metrics files', () => {
    expect(parsePairs(['acc=0.93', 'loss=1e-3', 'step=-1'], 'metric', true)).toEqual({
      acc: 0.93,
      loss: 0.001,
      step: -1,
    });
    expect(parsePairs(['passed=true'], 'metric', true)).toEqual({ passed: true });
    expect(flattenMetrics({ passed: true }, 'm.json')).toEqual({ passed: true });
  });

  it(
    'checkMetric is the one rule: finite numbers and booleans pass, anything else is BAD_VALUE naming key and ' +
      'source',
    () => {
      for (const v of [0, -1.5, 1e300, true, false]) expect(checkMetric('k', v, 'src')).toBe(v);
      for (const v of ['0.9', NaN, Infinity, -Infinity, null, undefined, {}, []]) {
        const err = errOf(() => checkMetric('k', v, 'src'));
        expect(err?.code, String(v)).toBe('BAD_VALUE');
        expect(err?.data).toMatchObject({ key: 'k', source: 'src' });
      }
      expect(checkMetrics({ a: 1, b: false }, 'api')).toEqual({ a: 1, b: false });
      expect(errOf(() => checkMetrics({ a: 1, b: 'x' }, 'api'))?.data.key).toBe('b');
    },
  );

  it('refuses the whole list when one pair is bad (nothing partially returned)', () => {
    expect(errOf(() => parsePairs(['a=1', 'b=oops'], 'metric', true))?.data.key).toBe('b');
  });
});

describe('flattenMetrics', () => {
  it('flattens nested objects into dotted keys', () => {
    expect(
      flattenMetrics({ acc: 0.9, eval: { f1: 0.8, per_class: { cat: 0.7, dog: 0.6 } }, ok: true }, 'm.json'),
    ).toEqual({
      acc: 0.9,
      'eval.f1': 0.8,
      'eval.per_class.cat': 0.7,
      'eval.per_class.dog': 0.6,
      ok: true,
    });
  });

  it('returns nothing for an empty object', () => {
    expect(flattenMetrics({}, 'm.json')).toEqual({});
    expect(flattenMetrics({ a: {} }, 'm.json')).toEqual({});
  });

  it('refuses non-number leaves and names the key', () => {
    for (const [obj, key] of [
      [{ a: 'high' }, 'a'],
      [{ a: { b: null } }, 'a.b'],
      [{ a: [1, 2] }, 'a'],
      [{ x: { y: { z: NaN } } }, 'x.y.z'],
      [{ inf: Infinity }, 'inf'],
    ] as [unknown, string][]) {
      const err = errOf(() => flattenMetrics(obj, 'm.json'));
      expect(err?.code, JSON.stringify(obj)).toBe('BAD_VALUE');
      expect(err?.data.key).toBe(key);
      expect(err?.data.source).toBe('m.json');
    }
  });

  it('refuses a top level that is not an object', () => {
    for (const v of [null, 3, 'x', [1], undefined]) {
      expect(errOf(() => flattenMetrics(v, 'm.json'))?.code, String(v)).toBe('BAD_VALUE');
    }
  });
});
