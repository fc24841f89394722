import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepository, Repository } from '../../../../src/repo/repository/index.js';
import { stateStamp } from '../../../../src/repo/insight/index.js';

// The insight wing over a temporary repository: the state stamp report --serve watches.
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-insight-'));
  createRepository({ dir });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('stateStamp', () => {
  it('stays put while nothing changes, and moves when a ref or the number log does', () => {
    const repo = Repository.open(dir);
    const first = stateStamp(repo);
    expect(stateStamp(repo)).toBe(first);
    const id = 'd'.repeat(64);
    repo.refs.write('refs/heads/main', id);
    const second = stateStamp(repo);
    expect(second).not.toBe(first);
    repo.numbers.append(id);
    expect(stateStamp(repo)).not.toBe(second);
  });

  it('ignores what a report does not show (objects, the index, temporary files)', () => {
    const repo = Repository.open(dir);
    const before = stateStamp(repo);
    repo.objects.put(Buffer.from('not shown in a report'));
    expect(stateStamp(repo)).toBe(before);
  });
});
