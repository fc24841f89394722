import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commit } from '../../../../src/ops/commit.js';
import { annotate } from '../../../../src/ops/annotate.js';
import { log } from '../../../../src/ops/log.js';
import type { Repository } from '../../../../src/repo/repository/repository.js';
import { smallHistory } from '../../../helpers/history.js';
import { summariesInMemory } from '../../../../src/repo/history/summaryStore.js';
import { type StoredSummary, SummaryFileDamaged } from '../../../../src/repo/history/summary.js';
import { columnsPolicy, SummaryReader } from '../../../../src/repo/history/summaryFile.js';
import { bestVersion, rankVersions } from '../../../../src/repo/history/ranking.js';
import type { SummaryTable } from '../../../../src/repo/history/summaryTable.js';
import { allSummaries } from '../../../../src/repo/history/summaries.js';

let dir: string;
let repo: Repository;
let ids: string[] = [];
const columnsFile = () => join(dir, '.mvm', 'summaries.columns');
const defaultAfter = columnsPolicy.after;

/** Every summary as the reader of the current summary file gives it (columns used where current). */
function readAll(): StoredSummary[] {
  const r = SummaryReader.open(repo)!;
  try {
    return [...r.all().values()];
  } finally {
    r.close();
  }
}

/** The summaries from the manifests and logs alone. */
const fromManifests = () => [...summariesInMemory(repo, { damaged: true }).values()];

/** The fields of the columns file, in the order of their texts (ids first). */
const FIELDS = ['ids', 'number', 'parents', 'author', 'time', 'message', 'meta', 'params', 'metrics', 'base', 'data'];
FIELDS.push('files', 'size', 'annotations');

/** The columns file with its fields edited by `edit` (the header's lengths kept right). */
function editBody(edit: (body: Record<string, unknown>) => void): void {
  const bytes = readFileSync(columnsFile());
  const nl = bytes.indexOf(0x0a);
  const header = JSON.parse(bytes.subarray(0, nl).toString('utf8')) as { lengths: number[] };
  const body: Record<string, unknown> = {};
  let at = nl + 1;
  header.lengths.forEach((len, k) => {
    body[FIELDS[k]!] = JSON.parse(bytes.subarray(at, at + len).toString('utf8'));
    at += len;
  });
  edit(body);
  const texts = FIELDS.map((f) => Buffer.from(JSON.stringify(body[f])));
  const out = Buffer.concat(texts);
  const head = { ...header, body: out.length, lengths: texts.map((t) => t.length) };
  writeFileSync(columnsFile(), Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), out]));
}

beforeEach(async () => {
  process.env.MVM_AUTHOR = 'Columns Test <c@example.com>';
  ({ dir, repo, ids } = await smallHistory('mvm-columns-', 4, {
    message: (n) => `v${n} é`,
    text: (n) => `version ${n} `.repeat(n * 50),
  }));
  columnsPolicy.after = 0;
});

afterEach(() => {
  columnsPolicy.after = defaultAfter;
  delete process.env.MVM_AUTHOR;
  rmSync(dir, { recursive: true, force: true });
});

describe('the summary columns', () => {
  it('are written by a reader of every summary and read back as the same summaries', async () => {
    await annotate(repo, ids[1]!, { metrics: { f1: 0.5 } });
    await allSummaries(repo);
    expect(existsSync(columnsFile())).toBe(true);
    expect(readAll()).toEqual(fromManifests());
    // used, not only written: an edit to the columns shows (the lines would say otherwise)
    editBody((b) => {
      (b.message as string[])[2] = 'from the columns';
    });
    expect(readAll().find((s) => s.id === ids[2])!.message).toBe('from the columns');
  });

  it('are joined by the lines appended since: new versions and annotations of covered ones', async () => {
    await allSummaries(repo);
    const written = statSync(columnsFile()).mtimeMs;
    columnsPolicy.after = 1 << 30;
    await annotate(repo, ids[0]!, { metrics: { f1: 0.25, step: 10 } });
    writeFileSync(join(dir, 'models', 'm.bin'), 'version 5');
    const v5 = (await commit(repo, { message: 'v5', time: '2026-01-05T00:00:00Z' })).id;
    await annotate(repo, v5, { metrics: { f1: 0.75 } });
    // brought up to date by appends (the columns are not written: too little past them)
    await allSummaries(repo);
    const all = readAll();
    expect(statSync(columnsFile()).mtimeMs).toBe(written);
    expect(all).toEqual(fromManifests());
    expect(all[0]!.metrics).toEqual({ step: 10, f1: 0.25 });
    expect(all[0]!.annotations).toBe(1);
    expect(all.at(-1)!.metrics).toEqual({ f1: 0.75 });
    expect((await log(repo, { where: 'metrics.f1 > 0.2' })).entries.map((e) => e.id)).toEqual([v5, ids[0]]);
  });

  it('are not used once the summary file is written whole, or when damaged, and are written again', async () => {
    await allSummaries(repo);
    const edited = () =>
      editBody((b) => {
        (b.message as string[])[0] = 'stale';
      });
    const damages: [string, () => void][] = [
      ['not JSON', () => writeFileSync(columnsFile(), readFileSync(columnsFile(), 'utf8').slice(0, 300))],
      ['a value of another type', () => editBody((b) => ((b.size as unknown[])[1] = 'big'))],
      ['a parent out of range', () => editBody((b) => ((b.parents as unknown[])[1] = 99))],
      ['a column too short', () => editBody((b) => (b.time as unknown[]).pop())],
      ['ids that are not hex', () => editBody((b) => (b.ids = (b.ids as string).replace(/^../, 'zz')))],
      ['a wrong body length', () => writeFileSync(columnsFile(), readFileSync(columnsFile(), 'utf8') + ' ')],
    ];
    for (const [what, damage] of damages) {
      damage();
      expect(readAll(), what).toEqual(fromManifests());
      // written again from the lines
      expect(readAll(), what).toEqual(fromManifests());
    }
    // a summary file written whole (a renumbering, gc, fsck --repair): columns of the old one are not taken for it
    edited();
    const f = join(dir, '.mvm', 'summaries');
    writeFileSync(f, readFileSync(f, 'utf8').replace('"v3 é"', '"v3 e"'));
    const all = readAll();
    expect(all.map((s) => s.message)).toEqual(['v1 é', 'v2 é', 'v3 e', 'v4 é']);
  });

  it('are left alone when the file is short, and give way to lines read past them', async () => {
    columnsPolicy.after = defaultAfter;
    await allSummaries(repo);
    expect(existsSync(columnsFile())).toBe(false);
    columnsPolicy.after = 0;
    await allSummaries(repo);
    editBody((b) => {
      (b.message as string[])[0] = 'from the columns';
    });
    const r = SummaryReader.open(repo)!;
    try {
      // get() read every line already: all() keeps to the lines
      expect(r.get(ids[0]!)!.message).toBe('v1 é');
      expect([...r.all().values()]).toEqual(fromManifests());
    } finally {
      r.close();
    }
  });

  it('give a table read a field at a time, lines and annotations joined; damage shows where it is read', async () => {
    await allSummaries(repo);
    columnsPolicy.after = 1 << 30;
    await annotate(repo, ids[1]!, { metrics: { f1: 0.5 } });
    writeFileSync(join(dir, 'models', 'm.bin'), 'version 5');
    const v5 = (await commit(repo, { message: 'v5', time: '2026-01-05T00:00:00Z' })).id;
    await allSummaries(repo);
    const expected = fromManifests();
    const withTable = <T>(fn: (t: SummaryTable) => T): T => {
      const r = SummaryReader.open(repo)!;
      try {
        return fn(r.table());
      } finally {
        r.close();
      }
    };
    withTable((t) => {
      // four rows from the columns, one from a line past them
      expect(t.size).toBe(5);
      expect(Array.from({ length: t.size }, (_, i) => t.summary(i))).toEqual(expected);
      expect(Array.from({ length: t.size }, (_, i) => [t.id(i), t.number(i), t.metrics(i)])).toEqual(
        expected.map((s) => [s.id, s.number, s.metrics]),
      );
      expect(t.metrics(1)).toMatchObject({ f1: 0.5 });
      expect([t.indexOf(v5), t.indexOf(ids[0]!), t.indexOf('0'.repeat(64))]).toEqual([4, 0, -1]);
      expect(Array.from({ length: t.size }, (_, i) => t.parentRows(i))).toEqual(
        expected.map((s) => s.parents.map((p) => expected.findIndex((e) => e.id === p))),
      );
    });
    // a column no scan reads, damaged: the table loads, and building that summary says so
    editBody((b) => ((b.author as unknown[])[1] = 7));
    withTable((t) => {
      expect(t.metrics(1)).toEqual(expected[1]!.metrics);
      expect(() => t.summary(1)).toThrow(SummaryFileDamaged);
    });
    // best reads no author: it answers from the columns, damage and all
    const best = await bestVersion(repo, { metric: 'f1' });
    expect([best.id, best.number, best.value, best.candidates]).toEqual([ids[1], 2, 0.5, 1]);
    expect(existsSync(columnsFile())).toBe(true);
    // a ranking builds every summary inside withSummaries, which reads the manifests again then
    const ranking = await rankVersions(repo, { metric: 'f1' });
    expect([ranking.best.id, ranking.best.author, ranking.candidates]).toEqual([ids[1], expected[1]!.author, 1]);
    // ... and writes the summary file whole: the columns of the old one are gone
    expect(existsSync(columnsFile())).toBe(false);
    // a column a scan reads, damaged: the columns are not used, and the table comes from the lines
    columnsPolicy.after = 0;
    await allSummaries(repo);
    editBody((b) => ((b.metrics as unknown[])[2] = 'x'));
    withTable((t) => expect(Array.from({ length: t.size }, (_, i) => t.summary(i))).toEqual(expected));
  });

  it('give a table where a line past them repeats a version they hold: the line wins, in number order', async () => {
    await allSummaries(repo);
    columnsPolicy.after = 1 << 30;
    const f = join(dir, '.mvm', 'summaries');
    const text = readFileSync(f, 'utf8');
    const lines = text.trimEnd().split('\n');
    const state = lines.at(-1)!;
    const again = JSON.parse(lines.find((l) => l.includes(ids[1]!))!) as { s: StoredSummary };
    again.s.message = 'from a line';
    // the version's line again, then the same state line: the columns still cover the file's first bytes
    writeFileSync(f, `${text}${JSON.stringify(again)}\n${state}\n`);
    const r = SummaryReader.open(repo)!;
    try {
      const t = r.table();
      const rows = Array.from({ length: t.size }, (_, i) => t.summary(i));
      expect(rows.map((s) => s.id)).toEqual(ids);
      expect(rows.map((s) => s.message)).toEqual(['v1 é', 'from a line', 'v3 é', 'v4 é']);
      expect(Array.from({ length: t.size }, (_, i) => t.parentRows(i))).toEqual(
        rows.map((s) => s.parents.map((p) => rows.findIndex((e) => e.id === p))),
      );
    } finally {
      r.close();
    }
  });
});
