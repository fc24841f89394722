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
} from '../../../src/core/query/index.js';
import { MvmError } from '../../../src/errors.js';

function rec(over: Partial<QueryRecord> = {}): QueryRecord {
  return {
    id: 'ab12cd34ef56',
    number: 7,
    author: 'alice',
    date: '2026-01-31T12:30:00Z',
    message: 'fine-tune on "imagenet"\nsecond line',
    metrics: {
      accuracy: 0.93,
      loss: 0.21,
      'eval.f1': 0.88,
      'top-1': 0.75,
      'odd key': 1,
      converged: true,
      stage: 'final',
    },
    params: { lr: 0.0003, epochs: 10, optimizer: 'adam', batch: '32' },
    meta: { dataset: 'imagenet-2024', gpu: 'a100', finetuned: true },
    ...over,
  };
}

const R = rec();

function m(query: string, r: QueryRecord = R): boolean {
  return compileQuery(query)(r);
}

function err(query: string): MvmError {
  try {
    parseQuery(query);
  } catch (e) {
    expect(e).toBeInstanceOf(MvmError);
    return e as MvmError;
  }
  throw new Error(`expected ${JSON.stringify(query)} to fail`);
}

describe('comparison operators', () => {
  it('compares numbers with every operator', () => {
    expect(m('metrics.accuracy > 0.9')).toBe(true);
    expect(m('metrics.accuracy > 0.93')).toBe(false);
    expect(m('metrics.accuracy >= 0.93')).toBe(true);
    expect(m('metrics.accuracy < 0.93')).toBe(false);
    expect(m('metrics.accuracy <= 0.93')).toBe(true);
    expect(m('metrics.accuracy = 0.93')).toBe(true);
    expect(m('metrics.accuracy == 0.93')).toBe(true);
    expect(m('metrics.accuracy != 0.93')).toBe(false);
    expect(m('metrics.accuracy != 0.5')).toBe(true);
    expect(m('params.epochs = 10')).toBe(true);
  });

  it('compares strings lexicographically', () => {
    expect(m('author = "alice"')).toBe(true);
    expect(m("author = 'Alice'")).toBe(false);
    expect(m('author < "bob"')).toBe(true);
    expect(m('author > "alex"')).toBe(true);
    expect(m('author >= "alice" and author <= "alice"')).toBe(true);
    expect(m('params.optimizer != "sgd"')).toBe(true);
  });

  it('compares booleans by equality only', () => {
    expect(m('meta.finetuned = true')).toBe(true);
    expect(m('meta.finetuned = TRUE')).toBe(true);
    expect(m('meta.finetuned != false')).toBe(true);
    expect(m('metrics.converged = false')).toBe(false);
    expect(m('meta.finetuned > false')).toBe(false);
  });

  it('compares mismatched types as text for = and != and never orders them', () => {
    expect(m('params.batch = 32')).toBe(true); // "32" vs 32
    expect(m('params.epochs = "10"')).toBe(true);
    expect(m('params.epochs != "10"')).toBe(false);
    expect(m('meta.finetuned = "true"')).toBe(true);
    expect(m('params.batch > 1')).toBe(false);
    expect(m('params.batch < 1000')).toBe(false);
    expect(m('params.epochs > "1"')).toBe(false);
  });

  it('matches regexes with ~ (case-sensitive) and !~', () => {
    expect(m('author ~ "^ali"')).toBe(true);
    expect(m('author ~ "^Ali"')).toBe(false);
    expect(m('author =~ "ce$"')).toBe(true);
    expect(m('author !~ "^ali"')).toBe(false);
    expect(m('author !~ "^bob"')).toBe(true);
    expect(m('meta.dataset ~ "^imagenet-\\d{4}$"')).toBe(true);
    expect(m('meta.dataset ~ "^imagenet-\\\\d"')).toBe(true); // a doubled backslash works too
    expect(m('id ~ "^ab12"')).toBe(true);
    expect(m('params.epochs ~ "^1"')).toBe(true); // numbers match by their text form
  });

  it('regexes cannot hang: a pattern that backtracks exponentially in JavaScript runs in linear time', () => {
    const long = rec({ message: 'a'.repeat(100_000) + 'c' });
    // with JavaScript's engine this takes longer than the test timeout; RE2 answers at once
    expect(m('message ~ "^(a+)+b$"', long)).toBe(false);
    expect(m('message ~ "^(a|aa)+c$"', long)).toBe(true);
    expect(m('message ~ "(?i)IMAGENET"')).toBe(true);
  });

  it('a regex RE2 cannot run in linear time (backreference, lookaround) is BAD_EXPRESSION naming the problem', () => {
    for (const [q, why] of [
      ['author ~ "(a)\\1"', 'invalid escape'],
      ['author ~ "(?=a)"', 'unsupported Perl syntax'],
      ['author ~ "["', 'missing closing ]'],
    ] as const) {
      let err: unknown;
      try {
        compileQuery(q);
      } catch (e) {
        err = e;
      }
      expect(err, q).toBeInstanceOf(MvmError);
      expect((err as MvmError).code).toBe('BAD_EXPRESSION');
      expect((err as MvmError).message).toContain(why);
    }
  });

  it('tests substrings with contains (keyword is case-insensitive)', () => {
    expect(m('message contains "imagenet"')).toBe(true);
    expect(m('message CONTAINS "ImageNet"')).toBe(false);
    expect(m('meta.dataset contains "2024"')).toBe(true);
    expect(m('meta.dataset contains 2024')).toBe(true);
    expect(m('not message contains "resnet"')).toBe(true);
  });

  it('accepts the literal on the left and flips ordering operators', () => {
    expect(m('0.9 < metrics.accuracy')).toBe(true);
    expect(m('0.95 <= metrics.accuracy')).toBe(false);
    expect(m('"alice" = author')).toBe(true);
    const e = parseQuery('1 > metrics.loss');
    expect(e).toMatchObject({ type: 'compare', op: '<', left: { ns: 'metrics', key: 'loss' }, right: { value: 1 } });
  });

  it('compares two fields', () => {
    expect(m('metrics.loss < metrics.accuracy')).toBe(true);
    expect(m('metrics.loss > metrics.accuracy')).toBe(false);
    expect(m('metrics.loss < metrics.missing')).toBe(false);
    expect(m('metrics.stage = metrics.stage')).toBe(true);
  });

  it('compares version numbers, including vN literals', () => {
    expect(m('version = 7')).toBe(true);
    expect(m('version >= v7')).toBe(true);
    expect(m('version > v7')).toBe(false);
    expect(m('V3 < version')).toBe(true);
    expect(m('number = 7')).toBe(true);
  });
});

describe('boolean logic and precedence', () => {
  it('binds not tighter than and, and tighter than or', () => {
    // a or b and c  ==  a or (b and c)
    expect(m('version = 7 or version = 1 and version = 2')).toBe(true);
    expect(m('(version = 7 or version = 1) and version = 2')).toBe(false);
    // not a and b  ==  (not a) and b
    expect(m('not version = 1 and version = 7')).toBe(true);
    expect(m('not (version = 1 and version = 7)')).toBe(true);
    expect(m('not (version = 7 and version = 7)')).toBe(false);
    expect(formatQuery(parseQuery('metrics.a = 1 or metrics.b = 2 and not metrics.c = 3'))).toBe(
      '(metrics.a = 1 or (metrics.b = 2 and not metrics.c = 3))',
    );
  });

  it('supports symbolic operators and case-insensitive keywords', () => {
    expect(m('version = 7 && author = "alice"')).toBe(true);
    expect(m('version = 1 || author = "alice"')).toBe(true);
    expect(m('!version = 1')).toBe(true);
    expect(m('!(version = 7)')).toBe(false);
    expect(m('version = 7 AND NOT author = "bob" Or version = 1')).toBe(true);
    expect(m('not not version = 7')).toBe(true);
  });

  it('handles nested parentheses and n-ary chains', () => {
    expect(m('((version = 7))')).toBe(true);
    expect(m('(version = 1 or (version = 2 or (version = 7))) and (author = "alice")')).toBe(true);
    const e = parseQuery('version = 1 or version = 2 or version = 3');
    expect(e).toMatchObject({ type: 'or', args: [{}, {}, {}] });
    expect(m('version = 1 or version = 2 or version = 3')).toBe(false);
    expect(m('version > 1 and version > 2 and version > 3 and version < 8')).toBe(true);
  });

  it('evaluate() agrees with compileQuery()', () => {
    const e = parseQuery('metrics.accuracy > 0.9 and params.lr < 0.01');
    expect(evaluate(e, R)).toBe(true);
    expect(evaluate(e, rec({ params: { lr: 0.1 } }))).toBe(false);
  });
});

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
    const doc = readFileSync(new URL('../../../docs/QUERY.md', import.meta.url), 'utf8');
    const examples = [...doc.matchAll(/--where '([^']*)'/g)].map((x) => x[1]!);
    expect(examples.length).toBeGreaterThan(15);
    for (const q of examples) expect(() => parseQuery(q), q).not.toThrow();
  });
});
