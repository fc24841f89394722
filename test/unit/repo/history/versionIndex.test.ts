import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commit } from '../../../../src/ops/commit.js';
import { annotate } from '../../../../src/ops/annotate.js';
import type { Repository } from '../../../../src/repo/repository/repository.js';
import { smallHistory } from '../../../helpers/history.js';
import { VersionIndex } from '../../../../src/repo/history/versionIndex.js';

// The index keeps version summaries in segments; a segment size of 3 puts the
// edges (v3|v4, v6|v7) within reach of a seven-version history.
let dir: string;
let repo: Repository;
const ids: string[] = [];

beforeEach(async () => {
  process.env.MVM_AUTHOR = 'Index Test <index@example.com>';
  const h = await smallHistory('mvm-index-', 7, {
    message: (n) => `v${n}`,
    text: (n) => `version ${n} `.repeat(n * 100),
  });
  ({ dir, repo } = h);
  ids.splice(0, ids.length, ...h.ids);
});

afterEach(() => {
  delete process.env.MVM_AUTHOR;
  rmSync(dir, { recursive: true, force: true });
});

async function withIndex<T>(opts: { segmentSize?: number }, fn: (index: VersionIndex) => Promise<T>): Promise<T> {
  const index = await VersionIndex.open(repo, opts);
  try {
    return await fn(index);
  } finally {
    await index.close();
  }
}

describe('VersionIndex segments', () => {
  it('a small segment size spreads summaries over segments and reads them back in number order', async () => {
    await withIndex({ segmentSize: 3 }, async (index) => {
      expect(index.persistent).toBe(true);
      expect(index.segmentSize).toBe(3);
      const all = await index.summaries();
      expect(all.map((s) => s.number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(all.map((s) => s.id)).toEqual(ids);
      expect(all.map((s) => s.message)).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7']);
      // one summary on each side of each segment edge
      for (const n of [3, 4, 6, 7]) {
        const s = await index.summary(ids[n - 1]!);
        expect(s?.number, `v${n}`).toBe(n);
        expect(s?.metrics.step).toBe(n);
      }
      expect(await index.numberOf(ids[6]!)).toBe(7);
    });
  });

  it('a version committed later lands in a new segment; an annotation updates the summary in its segment', async () => {
    await withIndex({ segmentSize: 3 }, async (index) => expect((await index.summaries()).length).toBe(7));
    writeFileSync(join(dir, 'models', 'm.bin'), 'eighth');
    const v8 = await commit(repo, { message: 'v8' });
    await annotate(repo, 'v5', { metrics: { f1: 0.5 } });
    await withIndex({ segmentSize: 3 }, async (index) => {
      const all = await index.summaries();
      expect(all.map((s) => s.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(all[7]!.id).toBe(v8.id);
      const v5 = await index.summary(ids[4]!);
      expect(v5?.metrics).toEqual({ step: 5, f1: 0.5 });
      expect(v5?.annotations).toBe(1);
      expect((await index.summary(ids[3]!))?.annotations).toBe(0);
    });
  });

  it('opening with another segment size rebuilds the index in that layout, with the same summaries', async () => {
    const small = await withIndex({ segmentSize: 3 }, (index) => index.summaries());
    const big = await withIndex({}, async (index) => {
      expect(index.segmentSize).toBe(1000);
      return index.summaries();
    });
    expect(big).toEqual(small);
    const again = await withIndex({ segmentSize: 2 }, (index) => index.summaries());
    expect(again).toEqual(small);
  });

  it('MVM_INDEX_SEGMENT sets the segment size when the option is absent', async () => {
    process.env.MVM_INDEX_SEGMENT = '4';
    try {
      await withIndex({}, async (index) => {
        expect(index.segmentSize).toBe(4);
        expect((await index.summaries()).map((s) => s.number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      });
    } finally {
      delete process.env.MVM_INDEX_SEGMENT;
    }
  });

  it(
    'two indexes opened at once on a new repository: one holds the directory, the other works in memory, both see ' +
      'every version',
    async () => {
      rmSync(join(repo.dir, 'index'), { recursive: true, force: true });
      const [a, b] = await Promise.all([
        VersionIndex.open(repo, { waitMs: 50 }),
        VersionIndex.open(repo, { waitMs: 50 }),
      ]);
      try {
        expect([a.persistent, b.persistent].sort()).toEqual([false, true]);
        expect((await a.summaries()).map((s) => s.id)).toEqual(ids);
        expect((await b.summaries()).map((s) => s.id)).toEqual(ids);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
  );
});

describe('VersionIndex generations', () => {
  const indexDir = () => join(repo.dir, 'index');
  const active = () => readFileSync(join(indexDir(), 'active'), 'utf8').trim();
  const generations = () =>
    readdirSync(indexDir())
      .filter((f) => f.startsWith('g-'))
      .sort();

  it(
    'a rebuild builds a new generation beside the one a reader has open, swaps it in, and leaves the ' +
      'open one alone',
    async () => {
      await withIndex({}, async () => undefined);
      const first = active();
      const reader = await VersionIndex.open(repo);
      try {
        expect(reader.persistent).toBe(true);
        const lock = await repo.lock('test');
        try {
          await VersionIndex.rebuild(repo);
        } finally {
          lock.release();
        }
        const second = active();
        expect(second).not.toBe(first);
        // the reader's generation is still there and still answers
        expect(generations()).toEqual([first, second].sort());
        expect((await reader.summaries()).map((s) => s.id)).toEqual(ids);
      } finally {
        await reader.close();
      }
      // once nobody has it open, the next rebuild removes it
      const lock = await repo.lock('test');
      try {
        await VersionIndex.rebuild(repo);
      } finally {
        lock.release();
      }
      expect(generations()).toEqual([active()]);
      await withIndex({}, async (index) => expect((await index.summaries()).map((s) => s.id)).toEqual(ids));
    },
  );

  it(
    'a reader that finds the index damaged while a writer holds the lock works in memory and rebuilds ' + 'nothing',
    async () => {
      await withIndex({}, async () => undefined);
      const gen = active();
      writeFileSync(join(indexDir(), gen, 'CURRENT'), 'no-such-manifest\n');
      const other = await repo.tryLock('other writer');
      expect(other).not.toBeNull();
      try {
        await withIndex({}, async (index) => {
          expect(index.persistent).toBe(false);
          expect((await index.summaries()).map((s) => s.id)).toEqual(ids);
        });
        expect(active()).toBe(gen);
        expect(generations()).toEqual([gen]);
      } finally {
        other!.release();
      }
      // with the lock free, the next reader builds a new generation and removes the damaged one
      await withIndex({}, async (index) => {
        expect(index.persistent).toBe(true);
        expect((await index.summaries()).map((s) => s.id)).toEqual(ids);
      });
      expect(active()).not.toBe(gen);
      expect(generations()).toEqual([active()]);
    },
  );

  it('an index in the layout from before generations is replaced and its files removed', async () => {
    rmSync(indexDir(), { recursive: true, force: true });
    const { LevelKv } = await import('../../../../src/storage/kv.js');
    const legacy = await LevelKv.open(indexDir(), 0);
    if (typeof legacy === 'string') throw new Error(legacy);
    await legacy.batch([{ type: 'put', key: 'state:format', value: '2' }]);
    await legacy.close();
    await withIndex({}, async (index) => expect((await index.summaries()).map((s) => s.id)).toEqual(ids));
    expect(readdirSync(indexDir()).sort()).toEqual(['active', active()].sort());
  });

  it("an 'active' file naming something outside the index folder is ignored", async () => {
    mkdirSync(indexDir(), { recursive: true });
    writeFileSync(join(indexDir(), 'active'), '../../outside\n');
    await withIndex({}, async (index) => expect((await index.summaries()).map((s) => s.id)).toEqual(ids));
    expect(active()).toMatch(/^g-/);
    expect(existsSync(join(dir, 'outside'))).toBe(false);
  });
});
