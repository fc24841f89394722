import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commit } from '../../../../src/ops/commit.js';
import { annotate } from '../../../../src/ops/annotate.js';
import { gc } from '../../../../src/ops/gc.js';
import { Repository } from '../../../../src/repo/repository/repository.js';
import { acquireLock } from '../../../../src/storage/lock.js';
import { smallHistory } from '../../../helpers/history.js';
import { removeStored, replaceStored, storedBytes } from '../../../helpers/storedObjects.js';
import { allSummaries } from '../../../../src/repo/history/summaries.js';
import { summariesInMemory } from '../../../../src/repo/history/summaryStore.js';
import { SummaryReader, summaryFileState } from '../../../../src/repo/history/summaryFile.js';

// The summary file is the one store of version summaries; these tests move the logs it is built from
// (numbers, logs/annotations, logs/gc) the ways mvm moves them and check what the next read sees.
let dir: string;
let repo: Repository;
const ids: string[] = [];
const file = () => join(dir, '.mvm', 'summaries');

beforeEach(async () => {
  process.env.MVM_AUTHOR = 'Summary Store Test <store@example.com>';
  const h = await smallHistory('mvm-summary-store-', 5, {
    message: (n) => `v${n}`,
    text: (n) => `version ${n} `.repeat(n * 100),
  });
  ({ dir, repo } = h);
  ids.splice(0, ids.length, ...h.ids);
  await allSummaries(repo);
});

afterEach(() => {
  delete process.env.MVM_AUTHOR;
  rmSync(dir, { recursive: true, force: true });
});

const numbersOf = async () => [...(await allSummaries(repo)).values()].map((s) => [s.number, s.id]);

describe('the summary store', () => {
  it('a renumbering of the same length (ids swapped, same size) is seen, and the summaries follow it', async () => {
    const before = summaryFileState(repo)!;
    // as a fetch renumbers unpushed versions: the log is replaced with one of the same length
    const swapped = [ids[0]!, ids[1]!, ids[2]!, ids[4]!, ids[3]!];
    repo.numbers.replace(swapped, repo.tmpDir);
    expect(SummaryReader.open(repo)).toBeNull();
    expect(await numbersOf()).toEqual(swapped.map((id, i) => [i + 1, id]));
    const after = summaryFileState(repo)!;
    expect(after.numbersFile.size).toBe(before.numbersFile.size);
    expect(after.numbersFile.blake3).not.toBe(before.numbersFile.blake3);
    // and back again: the new log may even reuse the first one's inode; its hash still differs from the last
    repo.numbers.replace(ids, repo.tmpDir);
    expect(await numbersOf()).toEqual(ids.map((id, i) => [i + 1, id]));
  });

  it('a renumbering keeps the summaries the file holds: no manifest is read again', async () => {
    await annotate(repo, ids[3]!, { metrics: { f1: 0.25 } });
    await allSummaries(repo);
    // v4's manifest becomes unreadable; a rebuild from the manifests would lose it, the file keeps it
    const objects = join(dir, '.mvm', 'objects');
    const bytes = storedBytes(objects, ids[3]!);
    removeStored(objects, ids[3]!);
    repo.numbers.replace([ids[0]!, ids[1]!, ids[2]!, ids[4]!, ids[3]!], repo.tmpDir);
    const all = await allSummaries(repo);
    expect(all.get(ids[3]!)).toMatchObject({ number: 5, metrics: { step: 4, f1: 0.25 }, annotations: 1 });
    expect(all.get(ids[4]!)?.number).toBe(4);
    // (a fresh handle: the one above keeps decoded manifests) from the manifests alone, v4 would be gone
    expect(summariesInMemory(Repository.open(dir), { damaged: true }).has(ids[3]!)).toBe(false);
    replaceStored(objects, ids[3]!, bytes);
  });

  it('versions gc removes leave the file when logs/gc grows', async () => {
    // v4 and v5 leave the history: main moves back to v3, nothing else reaches them
    repo.refs.write('refs/heads/main', ids[2]!);
    const r = await gc(repo, { graceDays: 0 });
    expect(r.versions.map((v) => v.id).sort()).toEqual([ids[3]!, ids[4]!].sort());
    const all = await allSummaries(repo);
    expect([...all.keys()]).toEqual(ids.slice(0, 3));
    expect(summaryFileState(repo)!.gc).toBe(1);
  });

  it('an annotation log that was rewritten, not appended to, rebuilds the file from the manifests', async () => {
    await annotate(repo, ids[0]!, { metrics: { f1: 0.5 } });
    await annotate(repo, ids[1]!, { metrics: { f1: 0.6 } });
    expect((await allSummaries(repo)).get(ids[0]!)?.metrics.f1).toBe(0.5);
    // the first line goes (as fsck --repair moves a bad line aside): v1's annotation no longer counts
    const path = join(dir, '.mvm', 'logs', 'annotations');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, `${lines[1]}\n`);
    const all = await allSummaries(repo);
    expect(all.get(ids[0]!)).toMatchObject({ metrics: { step: 1 }, annotations: 0 });
    expect(all.get(ids[1]!)).toMatchObject({ metrics: { step: 2, f1: 0.6 }, annotations: 1 });
  });

  it('a reader that finds the file stale while another holds its lock works in memory and writes nothing', async () => {
    writeFileSync(join(dir, 'models', 'm.bin'), 'sixth');
    const v6 = await commit(repo, { message: 'v6' });
    const before = readFileSync(file(), 'utf8');
    const lock = await acquireLock(join(dir, '.mvm', 'summaries.lock'), 'other reader', 0);
    try {
      const all = await allSummaries(repo);
      expect([...all.keys()]).toEqual([...ids, v6.id]);
      expect(readFileSync(file(), 'utf8')).toBe(before);
    } finally {
      lock.release();
    }
    // with the lock free, the next reader appends v6
    expect([...(await allSummaries(repo)).keys()]).toEqual([...ids, v6.id]);
    expect(readFileSync(file(), 'utf8').startsWith(before.slice(0, before.lastIndexOf('{"state"')))).toBe(true);
    expect(SummaryReader.open(repo)).not.toBeNull();
  });

  it('two reads at once on a stale file both see every version, and the file ends current', async () => {
    writeFileSync(join(dir, 'models', 'm.bin'), 'sixth');
    const v6 = await commit(repo, { message: 'v6' });
    const [a, b] = await Promise.all([allSummaries(repo), allSummaries(repo)]);
    expect([...a.keys()]).toEqual([...ids, v6.id]);
    expect([...b.keys()]).toEqual([...ids, v6.id]);
    expect(SummaryReader.open(repo)).not.toBeNull();
  });
});
