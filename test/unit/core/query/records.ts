/** The record the query tests match against, and shorthands to match a query or catch its error. */
import { expect } from 'vitest';
import { compileQuery, parseQuery, type QueryRecord } from '../../../../src/core/query/index.js';
import { MvmError } from '../../../../src/errors.js';

export function rec(over: Partial<QueryRecord> = {}): QueryRecord {
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

export const R = rec();

export function m(query: string, r: QueryRecord = R): boolean {
  return compileQuery(query)(r);
}

export function err(query: string): MvmError {
  try {
    parseQuery(query);
  } catch (e) {
    expect(e).toBeInstanceOf(MvmError);
    return e as MvmError;
  }
  throw new Error(`expected ${JSON.stringify(query)} to fail`);
}
