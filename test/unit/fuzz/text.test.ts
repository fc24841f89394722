import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileQuery } from '../../../src/core/query/index.js';
import type { QueryRecord } from '../../../src/core/query/index.js';
import { parseRevision } from '../../../src/core/revision.js';
import { MvmError } from '../../../src/errors.js';
import { count, params, reportCounts } from './harness.js';

afterAll(reportCounts);

/** Text that looks like a query often enough to get past the lexer. */
const queryText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc
    .array(
      fc.constantFrom(
        'metrics.acc',
        'params.lr',
        'message',
        'author',
        'time',
        'id',
        'number',
        'meta.x',
        '__proto__',
        'constructor.name',
        '>',
        '>=',
        '<',
        '=',
        '!=',
        '~',
        '!~',
        'contains',
        'and',
        'or',
        'not',
        '(',
        ')',
        'exists(',
        '0.5',
        '-1e308',
        '"a"',
        '"(a+)+b"',
        '"["',
        'true',
        '2026-01-01',
        '"2 days ago"',
        ' ',
      ),
      { maxLength: 14 },
    )
    .map((p) => p.join(' ')),
);

const RECORD: QueryRecord = {
  id: 'ab'.repeat(32),
  number: 3,
  author: 'alice',
  message: 'a'.repeat(2000),
  time: '2026-05-01T00:00:00.000Z',
  branch: 'main',
  tags: [],
  refs: [],
  parents: [],
  meta: { x: 'y' },
  params: { lr: 0.01 },
  metrics: { acc: 0.9 },
} as unknown as QueryRecord;

describe('fuzz: text parsers give a result or a clear error', () => {
  it('--where: compiles to a predicate that answers true or false, or throws BAD_EXPRESSION', () => {
    fc.assert(
      fc.property(queryText, (q) => {
        count('where');
        let pred: ((r: QueryRecord) => boolean) | null = null;
        try {
          pred = compileQuery(q);
        } catch (e) {
          expect(e, q).toBeInstanceOf(MvmError);
          expect((e as MvmError).message.length).toBeGreaterThan(0);
          return;
        }
        expect(typeof pred(RECORD)).toBe('boolean');
      }),
      params,
    );
  });

  it('revisions: parse or UNKNOWN_REVISION, and long step chains parse in linear time', () => {
    const rev = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .array(fc.constantFrom('v', '1', '9', '~', '^', 'HEAD', '@', 'deployed', '@{', '}', 'main', '/', '..', ' '), {
          maxLength: 20,
        })
        .map((p) => p.join('')),
    );
    fc.assert(
      fc.property(rev, (text) => {
        count('revision');
        try {
          const r = parseRevision(text);
          for (const s of r.steps) expect(Number.isInteger(s.n) && s.n >= 0).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(MvmError);
          expect((e as MvmError).code).toBe('UNKNOWN_REVISION');
        }
      }),
      params,
    );
    expect(parseRevision(`main${'~'.repeat(50_000)}x`).base).toMatchObject({ kind: 'name' });
  });
});
