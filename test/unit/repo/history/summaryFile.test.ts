import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { commit } from '../../../../src/ops/commit.js';
import { annotate } from '../../../../src/ops/annotate.js';
import { log } from '../../../../src/ops/log.js';
import type { Repository } from '../../../../src/repo/repository/repository.js';
import { smallHistory } from '../../../helpers/history.js';
import { VersionIndex } from '../../../../src/repo/history/versionIndex.js';
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

async function indexed(): Promise<VersionSummary[]> {
  const index = await VersionIndex.open(repo);
  try {
    return await index.summaries();
  } finally {
    await index.close();
  }
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
  it('holds what the index holds, annotations merged in order, and commits append to it', async () => {
    await annotate(repo, ids[1]!, { metrics: { f1: 0.5, step: 20 } });
    await annotate(repo, ids[1]!, { metrics: { f1: 0.7 } });
    const fromIndex = await indexed();
    const fromFile = readAll();
    expect(fromFile).not.toBeNull();
    expect([...fromFile!.values()]).toEqual(fromIndex);
    expect(fromFile!.get(ids[1]!)!.metrics).toEqual({ step: 20, f1: 0.7 });
    expect(fromFile!.get(ids[1]!)!.annotations).toBe(2);

    const before = readFileSync(file(), 'utf8');
    writeFileSync(join(dir, 'models', 'm.bin'), 'version 5');
    const v5 = (await commit(repo, { message: 'v5', time: '2026-01-05T00:00:00Z' })).id;
    const after = readFileSync(file(), 'utf8');
    // appended, not rewritten: the old text (but for its last state line) is a prefix
    const stateless = before.slice(0, before.lastIndexOf('{"state"'));
    expect(after.startsWith(stateless)).toBe(true);
    expect(after.slice(stateless.length)).toContain(v5);
    expect(readAll()!.get(v5)!.number).toBe(5);
  });

  it('is written whole again after MAX_APPENDS appends, so old state lines do not pile up', async () => {
    const state = summaryFileState(repo)!;
    expect(state.appends ?? 0).toBeLessThan(MAX_APPENDS);
    const count = () =>
      readFileSync(file(), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"state"')).length;
    writeFileSync(join(dir, 'models', 'm.bin'), 'version 5');
    await commit(repo, { message: 'v5', time: '2026-01-05T00:00:00Z' });
    expect(summaryFileState(repo)!.appends).toBe((state.appends ?? 0) + 1);
    expect(count()).toBeGreaterThan(1);
    // as if the file had been appended to MAX_APPENDS - 1 times
    writeSummaryFile(repo, [...readAll()!.values()], { ...summaryFileState(repo)!, appends: MAX_APPENDS - 1 });
    writeFileSync(join(dir, 'models', 'm.bin'), 'version 6');
    const v6 = (await commit(repo, { message: 'v6', time: '2026-01-06T00:00:00Z' })).id;
    expect(count()).toBe(1);
    expect(summaryFileState(repo)!.appends ?? 0).toBe(0);
    expect(readAll()!.get(v6)!.number).toBe(6);
    expect(readAll()!.size).toBe(6);
  });

  it('is refused once a log it was built from changes, and the next index open writes it again', async () => {
    expect(readAll()).not.toBeNull();
    // an append to the number log by hand (as a commit by another process would do before its index sync)
    appendFileSync(join(dir, '.mvm', 'numbers'), '-'.repeat(64) + '\n');
    expect(SummaryReader.open(repo)).toBeNull();
    await indexed();
    expect(summaryFileState(repo)!.numbers).toBe(5);
    expect(readAll()!.size).toBe(4);
  });

  it('a torn last line or a rebuilt index makes it stale; a damaged middle line falls back to the index', async () => {
    const size = statSync(file()).size;
    truncateSync(file(), size - 3);
    expect(SummaryReader.open(repo)).toBeNull();
    expect([...(await allSummaries(repo)).keys()]).toEqual(ids);
    expect(SummaryReader.open(repo)).not.toBeNull();

    // a file naming another index generation is stale; a rebuild writes it for the new one
    const generation = summaryFileState(repo)!.generation;
    writeFileSync(join(dir, '.mvm', 'index', 'active'), 'g-0-00000000\n');
    expect(SummaryReader.open(repo)).toBeNull();
    writeFileSync(join(dir, '.mvm', 'index', 'active'), `${generation}\n`);
    expect(SummaryReader.open(repo)).not.toBeNull();
    const lock = await repo.lock('test');
    try {
      await VersionIndex.rebuild(repo);
    } finally {
      lock.release();
    }
    const rebuilt = summaryFileState(repo)!.generation;
    expect(rebuilt).not.toBe(generation);
    expect(readFileSync(join(dir, '.mvm', 'index', 'active'), 'utf8').trim()).toBe(rebuilt);
    expect(readAll()!.size).toBe(4);

    // a line in the middle that does not parse: log still answers, from the index
    const lines = readFileSync(file(), 'utf8').split('\n');
    lines[1] = lines[1]!.slice(0, 20);
    writeFileSync(file(), lines.join('\n'));
    const seen = await withSummaries(repo, (s) => [...s.all().keys()]);
    expect(seen).toEqual(ids);
    expect((await log(repo, { limit: 2 })).entries.map((e) => e.number)).toEqual([4, 3]);
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
    const state = {
      generation: readFileSync(join(dir, '.mvm', 'index', 'active'), 'utf8').trim(),
      numbers: 3000,
      annotations: 0,
      ...logMarks(repo),
    };
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
