import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import type { Repository } from '../../../../src/repo/repository/repository.js';
import { smallHistory } from '../../../helpers/history.js';
import { followRegistry } from '../../../../src/repo/history/numbering.js';
import { numberLookup, numberOf, provisionalIds, resolveRevision } from '../../../../src/repo/history/revisions.js';
import { allSummaries } from '../../../../src/repo/history/summaries.js';

// How local numbers follow a registry without a shown number ever naming another version.
let dir: string;
let repo: Repository;
let ids: string[];
const burned = null;

beforeEach(async () => {
  process.env.MVM_AUTHOR = 'Numbering Test <numbers@example.com>';
  ({ dir, repo, ids } = await smallHistory('mvm-numbering-', 5, { message: (n) => `m${n}`, text: (n) => `${n} ` }));
});

afterEach(() => {
  delete process.env.MVM_AUTHOR;
  rmSync(dir, { recursive: true, force: true });
});

/** What every reader of numbers says about each version, in order: the one source, read four ways. */
async function shown(): Promise<(number | null)[]> {
  const lookup = numberLookup(repo);
  const summaries = await allSummaries(repo);
  return ids.map((id) => {
    const n = numberOf(repo, id);
    expect(lookup(id)).toBe(n);
    expect(summaries.get(id)?.number ?? null).toBe(n);
    if (n !== null) expect(resolveRevision(repo, `v${n}`)).toBe(id);
    return n;
  });
}

describe('numbers and a registry', () => {
  it('a repository on its own numbers every version; joining an empty registry keeps them', async () => {
    expect(repo.numbers.confirmed()).toBeNull();
    expect(await shown()).toEqual([1, 2, 3, 4, 5]);
    expect(await followRegistry(repo, [...ids], 'origin')).toEqual([]);
    expect(repo.numbers.confirmed()).toBe(5);
    expect(await shown()).toEqual([1, 2, 3, 4, 5]);
  });

  it('after joining, versions made here have no number until the registry numbers them', async () => {
    await followRegistry(repo, ids.slice(0, 3), 'origin');
    // v4 and v5 were numbered before the join: they stay numbers (the repository was its own registry then)
    expect(await shown()).toEqual([1, 2, 3, 4, 5]);
    // from a registry of three, a fresh clone's view: what the registry lacks shows no number
    repo.numbers.replace(ids, repo.tmpDir);
    repo.numbers.setConfirmed(3, 'origin', repo.tmpDir);
    expect(await shown()).toEqual([1, 2, 3, null, null]);
    expect(provisionalIds(repo)).toEqual(ids.slice(3));
    expect(() => resolveRevision(repo, 'v4')).toThrow(/numbered v1 to v3; 2 version\(s\) made here get numbers/);
    // another clone pushed v4 first: ours take v5 and v6, in the order made, and nothing shown changed meaning
    const theirs = ids[4]!;
    expect(await followRegistry(repo, [...ids.slice(0, 3), theirs, ids[3]!], 'origin')).toEqual([]);
    expect(await shown()).toEqual([1, 2, 3, 5, 4]);
    expect(provisionalIds(repo)).toEqual([]);
  });

  it('a registry that numbers other versions for numbers shown here: they keep theirs and are reported', async () => {
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    const diverged = await followRegistry(repo, [a, c, b, burned, d, e], 'origin');
    expect(diverged).toEqual([2, 3, 4, 5]);
    expect(await shown()).toEqual([1, 2, 3, 4, 5]);
    expect(repo.numbers.confirmed()).toBe(6);
  });

  it('only versions held here are adopted, each once; a burned line takes the version later', async () => {
    repo.numbers.replace([ids[0]!], repo.tmpDir);
    repo.numbers.setConfirmed(1, 'origin', repo.tmpDir);
    const fileObject = repo.version(ids[0]!).files[Object.keys(repo.version(ids[0]!).files)[0]!]!.file;
    const missing = 'f'.repeat(64);
    await followRegistry(repo, [ids[0]!, missing, fileObject, ids[1]!, ids[1]!, ids[2]!], 'origin');
    expect(repo.numbers.readAll()).toEqual([ids[0], null, null, ids[1], null, ids[2]]);
    expect(await shown()).toEqual([1, 4, 6, null, null]);
  });

  it('a damaged registry.json confirms nothing, so nothing shows a number it may not keep', async () => {
    await followRegistry(repo, ids.slice(0, 2), 'origin');
    writeFileSync(repo.numbers.registryPath, '{"format": 1, "numbered": "lots"}');
    expect(repo.numbers.registryState()).toBeNull();
    expect(await shown()).toEqual([null, null, null, null, null]);
  });
});
