import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init } from '../../../../src/ops/init.js';
import { Repository } from '../../../../src/repo/repository/repository.js';
import { MAX_STAT_CACHE } from '../../../../src/core/limits.js';
import { dropStatCache, readStatCache, recordStats, type StatEntry } from '../../../../src/repo/workspace/statCache.js';

let dir: string;
let repo: Repository;
const cache = () => join(dir, '.mvm', 'stat-cache');

const entry = (n: number): StatEntry => ({
  size: n,
  mtimeNs: `${1_700_000_000_000_000_000n + BigInt(n)}`,
  ctimeNs: `${1_700_000_000_000_000_001n + BigInt(n)}`,
  ino: `${1000 + n}`,
  file: n.toString(16).padStart(64, '0'),
  at: `${1_800_000_000_000_000_000n}`,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-statcache-'));
  init({ dir });
  repo = Repository.open(dir);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the stat cache', () => {
  it('records, merges, drops and reads back entries, for the paths asked only', () => {
    recordStats(
      repo,
      new Map([
        ['a.bin', entry(1)],
        ['dir/b.bin', entry(2)],
        ['constructor', entry(3)],
      ]),
    );
    recordStats(
      repo,
      new Map<string, StatEntry | null>([
        ['a.bin', entry(4)],
        ['dir/b.bin', null],
      ]),
    );
    const got = readStatCache(repo, ['a.bin', 'dir/b.bin', 'constructor', '__proto__']);
    expect([...got.keys()].sort()).toEqual(['a.bin', 'constructor']);
    expect(got.get('a.bin')).toEqual(entry(4));
    expect(got.get('constructor')).toEqual(entry(3));
    expect(readFileSync(cache(), 'utf8').split('\n')[0]).toBe('mvm-stat-cache 1');
    dropStatCache(repo);
    expect(readStatCache(repo, ['a.bin']).size).toBe(0);
  });

  it('skips lines of another shape and ignores a file that is not a stat cache or is too large', () => {
    recordStats(repo, new Map([['a.bin', entry(1)]]));
    const good = readFileSync(cache(), 'utf8');
    const bad = [
      '["b.bin",1,"1","1","1","../../etc/passwd","1"]',
      '["c.bin",-1,"1","1","1","' + 'a'.repeat(64) + '","1"]',
      '["d.bin",1,"1e9","1","1","' + 'a'.repeat(64) + '","1"]',
      '{"__proto__":{"polluted":1}}',
      '["e.bin",1,"1","1","1","' + 'a'.repeat(64) + '"]',
      'not json',
    ];
    writeFileSync(cache(), good + bad.join('\n') + '\n');
    const got = readStatCache(repo, ['a.bin', 'b.bin', 'c.bin', 'd.bin', 'e.bin']);
    expect([...got.keys()]).toEqual(['a.bin']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // a later write keeps only well-formed entries
    recordStats(repo, new Map([['f.bin', entry(6)]]));
    expect(readFileSync(cache(), 'utf8').trimEnd().split('\n')).toHaveLength(3);
    // another header: an empty cache
    writeFileSync(cache(), good.replace('mvm-stat-cache 1', 'mvm-stat-cache 9'));
    expect(readStatCache(repo, ['a.bin']).size).toBe(0);
    // larger than the cap (a sparse file: nothing is read, let alone allocated)
    writeFileSync(cache(), good);
    truncateSync(cache(), MAX_STAT_CACHE + 1);
    expect(statSync(cache()).size).toBe(MAX_STAT_CACHE + 1);
    expect(readStatCache(repo, ['a.bin']).size).toBe(0);
  });
});
