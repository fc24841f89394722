import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  compileQuery,
  evaluate,
  formatQuery,
  formatQueryError,
  parseQuery,
  referencedFields,
  type QueryRecord,
} from '../../../../src/core/query/index.js';
import { MvmError } from '../../../../src/errors.js';
import { R, err, rec } from './records.js';

describe('syntax errors', () => {
  const cases: [string, number][] = [
    // trailing operator: the value is expected where the input ends
    ['metrics.accuracy >', 18],
    ['metrics.accuracy > 0.9 and params.lr <', 38],
    ['metrics.accuracy >   ', 21],
    ['metrics.accuracy > and', 19],
    // trailing boolean operator
    ['metrics.accuracy > 0.9 and', 26],
    ['not', 3],
    // unbalanced parentheses
    ['(metrics.accuracy > 0.9', 0],
    ['version = 1 or ((metrics.a > 1)', 15],
    ['metrics.accuracy > 0.9)', 22],
    ['(metrics.a > 1 metrics.b > 2)', 15],
    ['()', 1],
    // unterminated strings and quoted keys
    ['author = "alice', 9],
    ["author = 'al\\'", 9],
    ['metrics.`top-1 > 1', 8],
    // unknown namespace / field
    ['foo.bar > 1', 0],
    ['metrics.a > 1 and accuracy > 0.5', 18],
    ['meta.dataset = imagenet', 15],
    ['author.name = "x"', 6],
    ['metrics > 1', 7],
    // bad regex
    ['author ~ "("', 9],
    ['message ~ "[a-"', 10],
    ['author ~ 5', 9],
    // empty expression
    ['', 0],
    ['   ', 0],
    // misc
    ['metrics.accuracy', 16],
    ['metrics.accuracy 0.9', 17],
    ['> 1', 0],
    ['metrics.a > 1 & metrics.b > 2', 14],
    ['metrics.a > 1.2.3', 12],
    ['metrics.a > 1e', 12],
    ['metrics.a > 1e999', 12],
    ['metrics.a @ 1', 10],
    ['metrics. > 1', 8],
    ['"metrics.a" > 1', 0],
    ['exists metrics.a', 7],
    ['exists("metrics.a")', 7],
    ['exists(metrics.a', 16],
    ['metrics.a > 1 metrics.b', 14],
  ];

  for (const [q, pos] of cases) {
    it(`reports ${JSON.stringify(q)} at position ${pos}`, () => {
      const e = err(q);
      expect(e.code).toBe('BAD_EXPRESSION');
      expect(e.exitCode).toBe(2);
      expect(e.data.position).toBe(pos);
      expect(e.data.expression).toBe(q);
      expect(e.message).not.toContain('\n');
      expect(e.message).toContain(`position ${pos}`);
    });
  }

  it('words the common errors helpfully', () => {
    expect(err('metrics.accuracy > 0.9 and params.lr >').message).toBe("expected a value after '>' at position 38");
    expect(err('foo.bar > 1').message).toMatch(/unknown field 'foo\.bar'.*metrics.*params.*meta/);
    expect(err('metric.acc > 1').data.hint).toContain('metrics.acc');
    expect(err('author ~ "("').message).toMatch(/invalid regular expression "\(" at position 9/);
    expect(err('(metrics.a > 1').message).toContain("unclosed '('");
    expect(err('').message).toContain('empty expression');
    expect(typeof err('meta.dataset = imagenet').data.hint).toBe('string');
  });

  it('compileQuery and evaluate surface the same errors', () => {
    expect(() => compileQuery('metrics.a >')).toThrow(MvmError);
  });
});

describe('referencedFields', () => {
  it('lists each namespaced field once, in order, skipping top-level fields', () => {
    const e = parseQuery(
      'metrics.accuracy > 0.9 and (params.lr < 0.01 or not exists(metrics.eval.f1)) and author ~ "a" and ' +
        'metrics.accuracy < 1 and meta.x = meta.y',
    );
    expect(referencedFields(e)).toEqual([
      { ns: 'metrics', key: 'accuracy' },
      { ns: 'params', key: 'lr' },
      { ns: 'metrics', key: 'eval.f1' },
      { ns: 'meta', key: 'x' },
      { ns: 'meta', key: 'y' },
    ]);
    expect(referencedFields(parseQuery('version > 3'))).toEqual([]);
  });
});

describe('formatQueryError', () => {
  it('returns the source and a caret under the position', () => {
    expect(formatQueryError('metrics.a > ', 12)).toBe('metrics.a > \n            ^');
    expect(formatQueryError('foo.bar > 1', 0)).toBe('foo.bar > 1\n^');
    expect(formatQueryError('a\tb', 2)).toBe('a b\n  ^');
    expect(formatQueryError('ab', 99)).toBe('ab\n  ^');
  });

  it('lines up with error positions', () => {
    const q = 'metrics.accuracy > 0.9 and foo.bar = 1';
    const e = err(q);
    const [, caret] = formatQueryError(q, e.data.position as number).split('\n');
    expect(q.slice(caret!.indexOf('^'))).toBe('foo.bar = 1');
  });
});

describe('formatQuery', () => {
  it('round-trips to an equivalent AST', () => {
    for (const q of [
      'metrics.accuracy > 0.9 and params.lr < 0.01',
      'exists(metrics.f1) and not meta.dataset = "imagenet-2024"',
      'author ~ "^ali\\\\d" or date >= "2026-01-01"',
      'metrics.`top-1` >= 0.5 || !(version = v3) && message contains "a\\"b\\n"',
      'metrics["x\\\\y"] != false',
    ]) {
      const once = parseQuery(q);
      const text = formatQuery(once);
      expect(formatQuery(parseQuery(text))).toBe(text);
      for (const r of [R, rec({ metrics: {}, params: {}, meta: {} })])
        expect(evaluate(parseQuery(text), r)).toBe(evaluate(once, r));
    }
  });
});

describe('bulk evaluation', () => {
  it('evaluates 10,000 records with the right count', () => {
    const records: QueryRecord[] = [];
    for (let i = 0; i < 10_000; i++) {
      const metrics: QueryRecord['metrics'] = { accuracy: (i % 100) / 100 };
      if (i % 3 === 0) metrics['eval.f1'] = (i % 7) / 7;
      records.push({
        id: i.toString(16).padStart(8, '0'),
        number: i + 1,
        author: i % 2 === 0 ? 'alice' : 'bob',
        date: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString(),
        message: `run ${i}`,
        metrics,
        params: { lr: i % 4 === 0 ? 0.001 : 0.1 },
        meta: { dataset: i % 5 === 0 ? 'imagenet-2024' : 'cifar' },
      });
    }
    const q = compileQuery(
      'metrics.accuracy >= 0.9 and params.lr < 0.01 and (author ~ "^ali" or not meta.dataset = "imagenet-2024") and' +
        ' date >= "2025-02-01"',
    );
    let expected = 0;
    for (const [i, r] of records.entries()) {
      const acc = (i % 100) / 100;
      const lr = i % 4 === 0 ? 0.001 : 0.1;
      const ok = acc >= 0.9 && lr < 0.01 && (i % 2 === 0 || i % 5 !== 0) && Date.parse(r.date) >= Date.UTC(2025, 1, 1);
      if (ok) expected++;
    }
    expect(expected).toBeGreaterThan(0);
    expect(records.filter(q).length).toBe(expected);

    const missing = compileQuery('not metrics.eval.f1 > 0.5');
    const expectedMissing = records.filter((_, i) => !(i % 3 === 0 && (i % 7) / 7 > 0.5)).length;
    expect(records.filter(missing).length).toBe(expectedMissing);
  });
});

describe('docs/QUERY.md', () => {
  it('every documented --where example parses', () => {
    const doc = readFileSync(new URL('../../../../docs/QUERY.md', import.meta.url), 'utf8');
    const examples = [...doc.matchAll(/--where '([^']*)'/g)].map((x) => x[1]!);
    expect(examples.length).toBeGreaterThan(15);
    for (const q of examples) expect(() => parseQuery(q), q).not.toThrow();
  });
});
