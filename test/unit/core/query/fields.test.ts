import { describe, it, expect } from 'vitest';
import { parseQuery } from '../../../../src/core/query/index.js';
import { err, m, rec } from './records.js';

describe('missing fields', () => {
  const bare = rec({ metrics: {}, params: {}, meta: {} });

  it('makes every comparison on a missing field false', () => {
    for (const q of [
      'metrics.f1 > 0.5',
      'metrics.f1 <= 0.5',
      'metrics.f1 = 0.5',
      'metrics.f1 != 0.5',
      'metrics.f1 ~ ""',
      'metrics.f1 !~ "x"',
      'metrics.f1 contains ""',
    ]) {
      expect(m(q, bare), q).toBe(false);
    }
  });

  it('so not <comparison> is true when the field is missing', () => {
    expect(m('not metrics.f1 > 0.5', bare)).toBe(true);
    expect(m('not meta.dataset = "imagenet-2024"', bare)).toBe(true);
    expect(m('meta.dataset != "imagenet-2024"', bare)).toBe(false);
  });

  it('does not see inherited object properties', () => {
    expect(m('exists(metrics.constructor)')).toBe(false);
    expect(m('metrics.toString ~ ""')).toBe(false);
    expect(m('exists(meta.__proto__)')).toBe(false);
  });

  it('exists() tests presence regardless of value', () => {
    expect(m('exists(metrics.accuracy)')).toBe(true);
    expect(m('exists(metrics.f1)')).toBe(false);
    expect(m('EXISTS(meta.finetuned)')).toBe(true);
    expect(m('exists( metrics.eval.f1 )')).toBe(true);
    expect(m('exists(author)')).toBe(true);
    expect(m('exists(metrics.f1) or not exists(metrics.f1)', bare)).toBe(true);
    expect(m('exists(metrics.f1) and not meta.dataset = "imagenet-2024"', rec({ metrics: { f1: 1 }, meta: {} }))).toBe(
      true,
    );
    expect(m('!exists(params.lr)')).toBe(false);
    expect(m('exists(metrics.zero)', rec({ metrics: { zero: 0 } }))).toBe(true);
    expect(m('exists(metrics.no)', rec({ metrics: { no: false } }))).toBe(true);
  });
});

describe('field paths', () => {
  it('treats everything after the namespace as the (flattened) key', () => {
    expect(parseQuery('metrics.eval.f1 > 0')).toMatchObject({ left: { ns: 'metrics', key: 'eval.f1' } });
    expect(m('metrics.eval.f1 > 0.8')).toBe(true);
    expect(m('metrics.layer.0.norm = 2', rec({ metrics: { 'layer.0.norm': 2 } }))).toBe(true);
  });

  it('allows hyphens inside identifiers', () => {
    expect(m('metrics.top-1 = 0.75')).toBe(true);
    expect(m('metrics.top-1>-1')).toBe(true);
  });

  it('accepts backtick and bracket quoted keys', () => {
    expect(m('metrics.`top-1` = 0.75')).toBe(true);
    expect(m('metrics.`odd key` = 1')).toBe(true);
    expect(m('metrics["odd key"] = 1')).toBe(true);
    expect(m("metrics['top-1'] = 0.75")).toBe(true);
    expect(m('metrics.eval["f1"] = 0.88')).toBe(true);
    expect(m('metrics.`eval.f1` = 0.88')).toBe(true);
    expect(parseQuery('metrics.`a\\`b` = 1')).toMatchObject({ left: { key: 'a`b' } });
  });

  it('accepts namespaces and top-level names case-insensitively, keys case-sensitively', () => {
    expect(m('METRICS.accuracy > 0.9')).toBe(true);
    expect(m('Author = "alice"')).toBe(true);
    expect(m('metrics.Accuracy > 0.9')).toBe(false);
  });
});

describe('literals', () => {
  it('parses negative, fractional and exponent numbers', () => {
    const lit = (q: string) => (parseQuery(`params.x = ${q}`) as { right: { value: unknown } }).right.value;
    expect(lit('3e-4')).toBe(3e-4);
    expect(lit('-1.5')).toBe(-1.5);
    expect(lit('-2E+3')).toBe(-2000);
    expect(lit('.5')).toBe(0.5);
    expect(lit('-.25')).toBe(-0.25);
    expect(lit('42')).toBe(42);
    expect(lit('1.')).toBe(1);
    expect(m('params.lr = 3e-4')).toBe(true);
    expect(m('params.lr < 1e-3 and params.lr > -1.5')).toBe(true);
    expect(m('params.x>-2', rec({ params: { x: -1.5 } }))).toBe(true);
  });

  it('decodes string escapes and keeps unknown escapes for regexes', () => {
    const lit = (q: string) => (parseQuery(`message = ${q}`) as { right: { value: unknown } }).right.value;
    expect(lit('"a\\"b"')).toBe('a"b');
    expect(lit("'it\\'s'")).toBe("it's");
    expect(lit('"tab\\there"')).toBe('tab\there');
    expect(lit('"line\\nbreak\\r"')).toBe('line\nbreak\r');
    expect(lit('"back\\\\slash"')).toBe('back\\slash');
    expect(lit('"\\u00e9\\u{1F600}"')).toBe('é😀');
    expect(lit('"\\d+\\.\\d"')).toBe('\\d+\\.\\d');
    expect(lit('"single \' inside"')).toBe("single ' inside");
    expect(lit("'double \" inside'")).toBe('double " inside');
    expect(lit('""')).toBe('');
    expect(m('message contains "on \\"imagenet\\"\\nsecond"')).toBe(true);
    expect(m('message ~ "\\bsecond\\b"')).toBe(true);
  });
});

describe('dates', () => {
  const at = (date: string) => rec({ date });

  it('compares the date field as time, not text', () => {
    expect(m('date >= "2026-01-01"', at('2026-01-31T12:30:00Z'))).toBe(true);
    expect(m('date < "2026-01-01"', at('2025-12-31T23:59:59Z'))).toBe(true);
    // Offsets are honoured: 2026-01-01T01:00+02:00 is 2025-12-31T23:00Z.
    expect(m('date < "2026-01-01"', at('2026-01-01T01:00:00+02:00'))).toBe(true);
    expect(m('date > "2026-01-31T12:00:00Z"', at('2026-01-31T12:30:00Z'))).toBe(true);
    expect(m('date < "2026-01-31T13:00:00+01:00"', at('2026-01-31T12:30:00Z'))).toBe(false);
    expect(m('"2026-01-01" <= date', at('2026-01-05T00:00:00Z'))).toBe(true);
  });

  it('treats a date literal as the whole period it names', () => {
    const r = at('2026-01-31T23:59:59.999Z');
    expect(m('date = "2026-01-31"', r)).toBe(true);
    expect(m('date <= "2026-01-31"', r)).toBe(true);
    expect(m('date < "2026-01-31"', r)).toBe(false);
    expect(m('date > "2026-01-31"', r)).toBe(false);
    expect(m('date > "2026-01-30"', r)).toBe(true);
    expect(m('date != "2026-01-31"', r)).toBe(false);
    expect(m('date = "2026-01"', r)).toBe(true);
    expect(m('date = "2026"', r)).toBe(true);
    expect(m('date < "2026-02"', r)).toBe(true);
    expect(m('date = "2026-01-31T23:59"', r)).toBe(true);
    expect(m('date = "2026-01-31T23:59:59"', r)).toBe(true);
    expect(m('date = "2026-01-31T23:59:59.998Z"', r)).toBe(false);
  });

  it('uses text semantics for ~ and contains on date', () => {
    expect(m('date ~ "^2026-01"')).toBe(true);
    expect(m('date contains "T12:30"')).toBe(true);
  });

  it('is false for an unparsable stored date', () => {
    expect(m('date > "2000-01-01"', at('not a date'))).toBe(false);
    expect(m('not date > "2000-01-01"', at('not a date'))).toBe(true);
  });

  it('rejects invalid date literals', () => {
    for (const d of ['2026-13-01', '2026-02-30', 'yesterday', '7 days ago', '2026-01-01T25:00']) {
      const e = err(`date > "${d}"`);
      expect(e.code).toBe('BAD_EXPRESSION');
      expect(e.data.position).toBe(7);
    }
    expect(m('date > "2024-02-29"')).toBe(true);
  });
});
