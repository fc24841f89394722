import { describe, it, expect } from 'vitest';
import { compileQuery, evaluate, formatQuery, parseQuery } from '../../../../src/core/query/index.js';
import { MvmError } from '../../../../src/errors.js';
import { R, m, rec } from './records.js';

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
