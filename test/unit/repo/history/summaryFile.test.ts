import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { commit } from '../../../../src/ops/commit.js';
import { annotate } from '../../../../src/ops/annotate.js';
import { log } from '../../../../src/ops/log.js';
import type { Repository } from '../../../../src/repo/repository/repository.js';
import { smallHistory } from '../../../helpers/history.js';
import { rebuildSummaries, summariesInMemory } from '../../../../src/repo/history/summaryStore.js';
import type { VersionSummary } from '../../../../src/repo/history/summary.js';
import {
  MAX_APPENDS,
  SummaryReader,
  logMarks,
  summaryFileState,
  writeSummaryFile,
} from '../../../../src/repo/history/summaryFile.js';
import { allSummaries, withSummaries } from '../../../../src/repo/history/summaries.js';

let dir: string;
let repo: Repository;
const ids: string[] = [];
const file = () => join(dir, '.mvm', 'summaries');

/** The summaries worked out from the manifests and logs alone, not from the file. */
function fromManifests(): VersionSummary[] {
  return [...summariesInMemory(repo, { damaged: true }).values()];
}

function readAll(): Map<string, VersionSummary> | null {
  const r = SummaryReader.open(repo);
  if (!r) return null;
  try {
    return r.all();
  } finally {
    r.close();
  }
}

beforeEach(async () => {
  process.env.MVM_AUTHOR = 'Summary Test <s@example.com>';
  const h = await smallHistory('mvm-summary-', 4, {
    message: (n) => `v${n} é`,
    text: (n) => `version ${n} `.repeat(n * 50),
  });
  ({ dir, repo } = h);
  ids.splice(0, ids.length, ...h.ids);
});

afterEach(() => {
  delete process.env.MVM_AUTHOR;
  rmSync(dir, { recursive: true, force: true });
});

describe('the summary file', () => {
  it('holds what the manifests say, annotations merged in order, and a commit appends to it', async () => {
    await annotate(repo, ids[1]!, { metrics: { f1: 0.5, step: 20 } });
    await annotate(repo, ids[1]!, { metrics: { f1: 0.7 } });
    await allSummaries(repo);
    const fromFile = readAll();
    expect(fromFile).not.toBeNull();
    expect([...fromFile!.values()]).toEqual(fromManifests());
    expect(fromFile!.get(ids[1]!)!.metrics).toEqual({ step: 20, f1: 0.7 });
    expect(fromFile!.get(ids[1]!)!.annotations).toBe(2);

    const before = readFileSync(file(), 'utf8');
    writeFileSync(join(dir, 'models', 'm.bin'), 'version 5');
    const v5 = (await commit(repo, { message: 'v5', time: '2026-01-05T00:00:00Z' })).id;
    // the commit brought the file up to date itself
    expect(SummaryReader.open(repo)).not.toBeNull();
    const after = readFileSync(file(), 'utf8');
    // appended, not rewritten: the old text (but for its last state line) is a prefix
    const stateless = before.slice(0, before.lastIndexOf('{"state"'));
    expect(after.startsWith(stateless)).toBe(true);
    expect(after.slice(stateless.length)).toContain(v5);
    expect(readAll()!.get(v5)!.number).toBe(5);
  });

  it('is written whole again after MAX_APPENDS appends, so old state lines do not pile up', async () => {
    await allSummaries(repo);
    const state = summaryFileState(repo)!;
    expect(state.appends ?? 0).toBeLessThan(MAX_APPENDS);
    const count = () =>
      readFileSync(file(), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"state"')).length;
    writeFileSync(join(dir, 'models', 'm.bin'), 'version 5');
    await commit(repo, { message: 'v5', time: '2026-01-05T00:00:00Z' });
    await allSummaries(repo);
    expect(summaryFileState(repo)!.appends).toBe((state.appends ?? 0) + 1);
    expect(count()).toBeGreaterThan(1);
    // as if the file had been appended to MAX_APPENDS - 1 times
    writeSummaryFile(repo, [...readAll()!.values()], { ...summaryFileState(repo)!, appends: MAX_APPENDS - 1 });
    writeFileSync(join(dir, 'models', 'm.bin'), 'version 6');
    const v6 = (await commit(repo, { message: 'v6', time: '2026-01-06T00:00:00Z' })).id;
    await allSummaries(repo);
    expect(count()).toBe(1);
    expect(summaryFileState(repo)!.appends ?? 0).toBe(0);
    expect(readAll()!.get(v6)!.number).toBe(6);
    expect(readAll()!.size).toBe(6);
  });

  it('is refused once a log it was built from changes, and the next read writes it again', async () => {
    await allSummaries(repo);
    expect(readAll()).not.toBeNull();
    // an append to the number log by hand (a burned number, as a commit's torn line leaves)
    appendFileSync(join(dir, '.mvm', 'numbers'), '-'.repeat(64) + '\n');
    expect(SummaryReader.open(repo)).toBeNull();
    await allSummaries(repo);
    expect(summaryFileState(repo)!.numbers).toBe(5);
    expect(readAll()!.size).toBe(4);
  });

  it('a torn last line makes it stale; a damaged or reshaped middle line falls back to the manifests', async () => {
    await allSummaries(repo);
    const size = statSync(file()).size;
    truncateSync(file(), size - 3);
    expect(SummaryReader.open(repo)).toBeNull();
    expect([...(await allSummaries(repo)).keys()]).toEqual(ids);
    expect(SummaryReader.open(repo)).not.toBeNull();

    // fsck --repair writes it afresh from the manifests
    const before = readFileSync(file(), 'utf8');
    writeFileSync(file(), before.replace('"v2 é"', '"edited"'));
    await rebuildSummaries(repo);
    expect(readFileSync(file(), 'utf8')).not.toContain('"edited"');
    expect(readAll()!.size).toBe(4);

    // a line in the middle that does not parse: log still answers, from the manifests, and the file is rebuilt
    for (const damage of [(l: string) => l.slice(0, 20), (l: string) => l.replace('"files":1', '"files":"one"')]) {
      const lines = readFileSync(file(), 'utf8').split('\n');
      lines[1] = damage(lines[1]!);
      writeFileSync(file(), lines.join('\n'));
      const seen = await withSummaries(repo, (s) => [...s.all().keys()]);
      expect(seen).toEqual(ids);
      expect((await log(repo, { limit: 2 })).entries.map((e) => e.number)).toEqual([4, 3]);
      expect([...readAll()!.values()]).toEqual(fromManifests());
    }
  });

  it('reads backwards across blocks, characters split between blocks included, as far as asked', () => {
    // synthetic summaries, big enough for many 64 KiB blocks, with multi-byte text at every offset
    const many: VersionSummary[] = Array.from({ length: 3000 }, (_, i) => ({
      id: i.toString(16).padStart(64, '0'),
      number: i + 1,
      parents: i ? [(i - 1).toString(16).padStart(64, '0')] : [],
      author: 'a',
      time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      message: 'é'.repeat(i % 7) + '🙂'.repeat(i % 5) + 'x'.repeat(i % 11),
      meta: {},
      params: { lr: i / 1000 },
      metrics: { acc: i / 3000 },
      base: null,
      data: [],
      files: 1,
      size: i,
      annotations: 0,
    }));
    const state = { numbers: 3000, annotations: 0, gc: 0, ...logMarks(repo) };
    writeSummaryFile(repo, many, state);
    const r = SummaryReader.open(repo)!;
    try {
      expect(r.state).toEqual(state);
      expect(r.get(many[2999]!.id)).toEqual(many[2999]);
      expect(r.get(many[0]!.id)).toEqual(many[0]);
      expect(r.get('f'.repeat(64))).toBeUndefined();
      expect([...r.all().values()]).toEqual(many);
    } finally {
      r.close();
    }
  });
});
