import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync, appendFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RefStore } from '../../../src/storage/refs.js';
import { codeOf } from '../../helpers/errors.js';

const ID1 = '1'.repeat(64);
const ID2 = 'abcdef0123456789'.repeat(4);

let dir = '';
let refs: RefStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-refs-'));
  mkdirSync(join(dir, 'tmp'));
  mkdirSync(join(dir, 'logs'));
  refs = new RefStore(dir, join(dir, 'tmp'), false);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('HEAD', () => {
  it('a missing HEAD is REF_CORRUPT', () => {
    expect(codeOf(() => refs.readHead())).toBe('REF_CORRUPT');
  });

  it('round-trips a symbolic HEAD', () => {
    refs.writeHead({ kind: 'branch', ref: 'refs/heads/main' });
    expect(readFileSync(join(dir, 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(refs.readHead()).toEqual({ kind: 'branch', ref: 'refs/heads/main' });
  });

  it('round-trips a detached HEAD', () => {
    refs.writeHead({ kind: 'detached', id: ID2 });
    expect(refs.readHead()).toEqual({ kind: 'detached', id: ID2 });
    refs.writeHead({ kind: 'branch', ref: 'refs/heads/exp/a' });
    expect(refs.readHead()).toEqual({ kind: 'branch', ref: 'refs/heads/exp/a' });
  });

  it('garbage in HEAD is REF_CORRUPT', () => {
    for (const text of ['garbage\n', ID1.slice(1), ID2.toUpperCase(), '', 'ref:refs/heads/main']) {
      writeFileSync(join(dir, 'HEAD'), text);
      expect(
        codeOf(() => refs.readHead()),
        JSON.stringify(text),
      ).toBe('REF_CORRUPT');
    }
  });

  it('tolerates surrounding whitespace in HEAD', () => {
    writeFileSync(join(dir, 'HEAD'), `  ${ID1}\n\n`);
    expect(refs.readHead()).toEqual({ kind: 'detached', id: ID1 });
  });
});

describe('refs', () => {
  it('reads null for a missing ref', () => {
    expect(refs.read('refs/heads/main')).toBeNull();
  });

  it('writes and reads refs, creating nested directories', () => {
    refs.write('refs/heads/main', ID1);
    refs.write('refs/heads/exp/a', ID2);
    refs.write('refs/tags/v1.0', ID1);
    expect(refs.read('refs/heads/main')).toBe(ID1);
    expect(refs.read('refs/heads/exp/a')).toBe(ID2);
    expect(refs.read('refs/tags/v1.0')).toBe(ID1);
    expect(readFileSync(join(dir, 'refs/heads/exp/a'), 'utf8')).toBe(ID2 + '\n');
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('overwrites a ref', () => {
    refs.write('refs/heads/main', ID1);
    refs.write('refs/heads/main', ID2);
    expect(refs.read('refs/heads/main')).toBe(ID2);
  });

  it('garbage in a ref is REF_CORRUPT', () => {
    mkdirSync(join(dir, 'refs/heads'), { recursive: true });
    for (const text of ['garbage', ID1.slice(0, 40), `ref: refs/heads/x`, `${ID1}${ID1}`, '\u0000'.repeat(64)]) {
      writeFileSync(join(dir, 'refs/heads/main'), text);
      expect(
        codeOf(() => refs.read('refs/heads/main')),
        JSON.stringify(text).slice(0, 30),
      ).toBe('REF_CORRUPT');
    }
  });

  it('an empty ref file (torn write) is REF_CORRUPT, not missing', () => {
    mkdirSync(join(dir, 'refs/heads'), { recursive: true });
    writeFileSync(join(dir, 'refs/heads/main'), '');
    expect(codeOf(() => refs.read('refs/heads/main'))).toBe('REF_CORRUPT');
  });

  it('deletes refs and reports whether they existed', () => {
    refs.write('refs/tags/t', ID1);
    expect(refs.delete('refs/tags/t')).toBe(true);
    expect(refs.read('refs/tags/t')).toBeNull();
    expect(refs.delete('refs/tags/t')).toBe(false);
    expect(refs.delete('refs/tags/never/existed')).toBe(false);
  });

  it('lists refs under a prefix, nested names included, sorted', () => {
    refs.write('refs/heads/main', ID1);
    refs.write('refs/heads/exp/b', ID2);
    refs.write('refs/heads/exp/a', ID1);
    refs.write('refs/heads/zeta', ID2);
    refs.write('refs/tags/v1', ID1);
    expect(refs.list('refs/heads/')).toEqual([
      { name: 'exp/a', ref: 'refs/heads/exp/a', value: ID1 },
      { name: 'exp/b', ref: 'refs/heads/exp/b', value: ID2 },
      { name: 'main', ref: 'refs/heads/main', value: ID1 },
      { name: 'zeta', ref: 'refs/heads/zeta', value: ID2 },
    ]);
    expect(refs.list('refs/tags/').map((r) => r.name)).toEqual(['v1']);
  });

  it('lists nothing for a missing prefix and raw content for garbage refs', () => {
    expect(refs.list('refs/heads/')).toEqual([]);
    mkdirSync(join(dir, 'refs/tags'), { recursive: true });
    writeFileSync(join(dir, 'refs/tags/bad'), 'garbage\n');
    expect(refs.list('refs/tags/')).toEqual([{ name: 'bad', ref: 'refs/tags/bad', value: 'garbage' }]);
  });

  it('lists nothing once the last ref is deleted', () => {
    refs.write('refs/heads/exp/a', ID1);
    refs.delete('refs/heads/exp/a');
    expect(refs.list('refs/heads/')).toEqual([]);
  });
});

describe('logs', () => {
  it('appends and reads entries oldest first', () => {
    refs.appendLog('journal', { id: ID1, n: 1 });
    refs.appendLog('journal', { id: ID2, n: 2 });
    expect(refs.readLog('journal')).toEqual([
      { id: ID1, n: 1 },
      { id: ID2, n: 2 },
    ]);
  });

  it(
    'a log mvm knows the shape of keeps only the lines that fit it; logProblems names the others (not a torn last ' +
      'line)',
    () => {
      const entry = { time: 't', who: 'w', action: 'deploy', from: null, to: ID1 };
      refs.appendLog('deployed', entry);
      appendFileSync(join(dir, 'logs/deployed'), 'garbage\n{"action":"deploy","to":"../x"}\n');
      refs.appendLog('deployed', { ...entry, from: ID1, to: ID2 });
      appendFileSync(join(dir, 'logs/deployed'), '{"torn');
      expect(refs.readLog('deployed')).toEqual([entry, { ...entry, from: ID1, to: ID2 }]);
      expect(refs.logProblems('deployed').map((b) => b.line)).toEqual([2, 3]);
    },
  );

  it('reads a missing log as empty', () => {
    expect(refs.readLog('nothing')).toEqual([]);
  });

  it('skips a torn last line', () => {
    refs.appendLog('journal', { id: ID1 });
    refs.appendLog('journal', { id: ID2 });
    appendFileSync(join(dir, 'logs/journal'), '{"id":"abc');
    expect(refs.readLog('journal')).toEqual([{ id: ID1 }, { id: ID2 }]);
  });

  it('keeps appending after a torn line', () => {
    refs.appendLog('journal', { id: ID1 });
    appendFileSync(join(dir, 'logs/journal'), '{"id":"ab');
    refs.appendLog('journal', { id: ID2 });
    // the new entry must not be lost by being glued onto the torn fragment
    expect(refs.readLog('journal')).toEqual([{ id: ID1 }, { id: ID2 }]);
  });

  it('writes one JSON object per line', () => {
    refs.appendLog('x', { a: 'line\nbreak' });
    const text = readFileSync(join(dir, 'logs/x'), 'utf8');
    expect(text.split('\n').filter(Boolean).length).toBe(1);
    expect(refs.readLog('x')).toEqual([{ a: 'line\nbreak' }]);
  });

  it(
    'append to a log whose folder is missing creates it (logs/envs/<env>); one that cannot be a folder fails with ' +
      'an MvmError',
    () => {
      refs.appendLog('envs/production', { id: ID1 });
      expect(readFileSync(join(dir, 'logs', 'envs', 'production'), 'utf8')).toBe(`${JSON.stringify({ id: ID1 })}\n`);
      rmSync(join(dir, 'logs'), { recursive: true });
      writeFileSync(join(dir, 'logs'), 'a file where the folder should be');
      const code = codeOf(() => refs.appendLog('deployed', { id: ID1 }));
      expect(code).not.toBeNull();
      expect(code!.startsWith('non-MvmError')).toBe(false);
    },
  );
});
