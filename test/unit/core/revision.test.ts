import { describe, it, expect } from 'vitest';
import { parseRevision, validateRefName } from '../../../src/core/revision.js';
import { codeOf } from '../../helpers/errors.js';

describe('parseRevision', () => {
  it('parses a version number', () => {
    expect(parseRevision('v7')).toEqual({ text: 'v7', base: { kind: 'number', n: 7 }, steps: [] });
    expect(parseRevision('v123').base).toEqual({ kind: 'number', n: 123 });
  });

  it('parses HEAD and @ as the head', () => {
    expect(parseRevision('HEAD').base).toEqual({ kind: 'head' });
    expect(parseRevision('@').base).toEqual({ kind: 'head' });
    expect(parseRevision('HEAD').steps).toEqual([]);
  });

  it('parses deployed and deployed@{N}', () => {
    expect(parseRevision('deployed').base).toEqual({ kind: 'deployed', back: 0, env: 'default' });
    expect(parseRevision('deployed@{2}').base).toEqual({ kind: 'deployed', back: 2, env: 'default' });
    expect(parseRevision('deployed@{0}').base).toEqual({ kind: 'deployed', back: 0, env: 'default' });
    expect(parseRevision('deployed:production').base).toEqual({ kind: 'deployed', back: 0, env: 'production' });
    expect(parseRevision('deployed:production@{3}~1').base).toEqual({ kind: 'deployed', back: 3, env: 'production' });
    for (const bad of ['deployed:', 'deployed:../x', 'deployed:a/b', 'deployed:-x', 'deployed:x.lock']) {
      expect(() => parseRevision(bad), bad).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/BAD_REF_NAME|UNKNOWN_REVISION/) }),
      );
    }
  });

  it('parses ancestry steps in order', () => {
    const r = parseRevision('main~2^2');
    expect(r.base).toEqual({ kind: 'name', name: 'main' });
    expect(r.steps).toEqual([
      { op: '~', n: 2 },
      { op: '^', n: 2 },
    ]);
  });

  it('reads a bare ~ or ^ as 1', () => {
    expect(parseRevision('HEAD~').steps).toEqual([{ op: '~', n: 1 }]);
    expect(parseRevision('HEAD^').steps).toEqual([{ op: '^', n: 1 }]);
    expect(parseRevision('HEAD~~^').steps).toEqual([
      { op: '~', n: 1 },
      { op: '~', n: 1 },
      { op: '^', n: 1 },
    ]);
    expect(parseRevision('HEAD~').base).toEqual({ kind: 'head' });
  });

  it('parses steps on version numbers and deployed', () => {
    const r = parseRevision('v7~1');
    expect(r.base).toEqual({ kind: 'number', n: 7 });
    expect(r.steps).toEqual([{ op: '~', n: 1 }]);
    const d = parseRevision('deployed@{1}^2');
    expect(d.base).toEqual({ kind: 'deployed', back: 1, env: 'default' });
    expect(d.steps).toEqual([{ op: '^', n: 2 }]);
    expect(parseRevision('HEAD~10').steps).toEqual([{ op: '~', n: 10 }]);
    expect(parseRevision('HEAD^0').steps).toEqual([{ op: '^', n: 0 }]);
  });

  it('leaves hash prefixes and names as names to resolve later', () => {
    expect(parseRevision('abc123').base).toEqual({ kind: 'name', name: 'abc123' });
    expect(parseRevision('exp/lr-3e-4').base).toEqual({ kind: 'name', name: 'exp/lr-3e-4' });
    expect(parseRevision('v7x').base).toEqual({ kind: 'name', name: 'v7x' });
    expect(parseRevision('deployedx').base).toEqual({ kind: 'name', name: 'deployedx' });
  });

  it('keeps the original text and trims surrounding space', () => {
    const r = parseRevision('  v3~1 ');
    expect(r.text).toBe('  v3~1 ');
    expect(r.base).toEqual({ kind: 'number', n: 3 });
    expect(r.steps).toEqual([{ op: '~', n: 1 }]);
  });

  it('refuses revisions without a base', () => {
    expect(codeOf(() => parseRevision(''))).toBe('UNKNOWN_REVISION');
    expect(codeOf(() => parseRevision('   '))).toBe('UNKNOWN_REVISION');
    expect(codeOf(() => parseRevision('~1'))).toBe('UNKNOWN_REVISION');
    expect(codeOf(() => parseRevision('^'))).toBe('UNKNOWN_REVISION');
  });
});

describe('validateRefName', () => {
  it('accepts ordinary names', () => {
    for (const name of ['exp/lr-3e-4', 'main', 'feature_x', 'release-1.0', 'a/b/c', 'v1.2', 'vNext', 'V12', 'ABCD']) {
      expect(validateRefName(name, 'branch'), name).toBe(name);
    }
  });

  it.each([
    ['', 'empty'],
    ['HEAD', 'reserved'],
    ['deployed', 'reserved'],
    ['@', 'reserved'],
    ['v12', 'version number'],
    ['deadbeef', 'hash'],
    ['abcd', 'hash'],
    ['a..b', 'double dot'],
    ['-x', 'leading dash'],
    ['x.lock', '.lock suffix'],
    ['a/x.lock/b', '.lock part'],
    ['a//b', 'empty part'],
    ['a/', 'trailing slash'],
    ['/a', 'leading slash'],
    ['.hidden', 'leading dot'],
    ['a/.hidden', 'part with leading dot'],
    ['sp ace', 'space'],
    ['a~1', 'tilde'],
    ['a^', 'caret'],
    ['a:b', 'colon'],
    ['a@{1}', 'at-brace'],
    ['tab\t', 'tab'],
  ])('rejects %j (%s) with BAD_REF_NAME', (name) => {
    expect(codeOf(() => validateRefName(name, 'tag'))).toBe('BAD_REF_NAME');
  });
});
