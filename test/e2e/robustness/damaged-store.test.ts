/** Damaged objects, refs and index: fsck names what is wrong, commands fail with the right code and write nothing. */
import { describe, it, expect } from 'vitest';
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mvm, randomBytes } from '../../helpers/cli.js';
import {
  CHUNK,
  chunkIds,
  corruptObject,
  errorOf,
  expectSound,
  fails,
  fileSha,
  fsckOf,
  headFile,
  logOf,
  ok,
  plainBytes,
  repoWith,
  restoreObject,
  sha,
} from '../../helpers/reliability.js';
import { isPacked, isStored, removeStored, replaceStored, storedBytes } from '../../helpers/storedObjects.js';

describe('reliability', () => {
  describe('damage', () => {
    // v1: a.bin (16 chunks), b.bin (8 chunks); v2: the first 4 chunks of a.bin and first 2 of b.bin rewritten
    function damagedFixture() {
      const a1 = plainBytes(16 * CHUNK, 11);
      const b1 = plainBytes(8 * CHUNK, 12);
      const { d, v1 } = repoWith({ 'a.bin': a1, 'b.bin': b1 });
      const a2 = Buffer.from(a1);
      randomBytes(4 * CHUNK, 13).copy(a2, 16, 16);
      const b2 = Buffer.from(b1);
      randomBytes(2 * CHUNK, 14).copy(b2, 16, 16);
      writeFileSync(d.path('a.bin'), a2);
      writeFileSync(d.path('b.bin'), b2);
      const v2 = ok<{ id: string; number: number }>(d, ['commit', '-m', 'v2']);
      expect(v2.number).toBe(2);
      const ids = { a1: chunkIds(a1), b1: chunkIds(b1), a2: chunkIds(a2) };
      // the fixture is plain fixed-size chunked: every computed chunk is stored under its BLAKE3 id
      for (const id of [...ids.a1, ...ids.b1, ...ids.a2])
        expect(isStored(d.path('.mvm/objects'), id), `chunk ${id} stored`).toBe(true);
      const snap = () => ({
        a: fileSha(d.path('a.bin')),
        b: fileSha(d.path('b.bin')),
        ai: statSync(d.path('a.bin')).ino,
        bi: statSync(d.path('b.bin')).ino,
        head: headFile(d),
        main: readFileSync(d.path('.mvm/refs/heads/main'), 'utf8'),
      });
      return { d, v1, v2: v2.id, ids, snap, a1, b1, a2, b2 };
    }

    it(
      'a corrupt chunk: fsck names it with version and path; checkout fails OBJECT_CORRUPT and leaves the ' +
        'workspace alone',
      () => {
        const { d, v1, v2, ids, snap, a1 } = damagedFixture();
        try {
          expectSound(d, { noTemp: true });
          const onlyV1 = ids.a1[1]!; // in the rewritten region: used by v1 only
          const shared = ids.a1[9]!; // untouched region: used by v1 and v2
          // small chunks live in packs: the flipped bytes are inside a pack file
          expect([onlyV1, shared].map((id) => isPacked(d.path('.mvm/objects'), id))).toEqual([true, true]);
          const origOnly = corruptObject(d, onlyV1);
          const origShared = corruptObject(d, shared);
          const { exitCode, report } = fsckOf(d);
          expect(exitCode).toBe(7);
          expect(report.ok).toBe(false);
          const p1 = report.problems.find((p) => p.id === onlyV1);
          expect(p1, JSON.stringify(report.problems)).toBeDefined();
          expect(p1!.kind).toBe('corrupt');
          expect(p1!.usedBy).toContainEqual(expect.objectContaining({ version: v1, number: 1, path: 'a.bin' }));
          expect(p1!.usedBy.some((u) => u.number === 2)).toBe(false);
          const p2 = report.problems.find((p) => p.id === shared);
          expect(p2?.kind).toBe('corrupt');
          expect(p2!.usedBy).toContainEqual(expect.objectContaining({ version: v1, number: 1, path: 'a.bin' }));
          expect(p2!.usedBy).toContainEqual(expect.objectContaining({ version: v2, number: 2, path: 'a.bin' }));
          expect(report.problems).toHaveLength(2);
          // the text report is one line per problem plus the summary, and also exits 7
          const text = mvm(['fsck', '-q'], { cwd: d.dir });
          expect(text.exitCode).toBe(7);
          expect(text.stdout).toContain(onlyV1);
          expect(text.stdout).toMatch(/v1 [0-9a-f]{12}:a\.bin/);

          // checkout of v1 needs the damaged chunk: refused, nothing touched
          const before = snap();
          const f = fails(d, ['checkout', 'v1'], 'OBJECT_CORRUPT', 7);
          expect([onlyV1, shared]).toContain(errorOf(f).data.id);
          expect(snap()).toEqual(before);
          expect(readdirSync(d.path('.mvm/tmp'))).toEqual([]);
          expect(existsSync(d.path('.mvm/lock'))).toBe(false);
          // the damaged shared chunk is not needed to check out v1's b.bin... but a forced checkout of main needs it
          writeFileSync(d.path('a.bin'), 'local scribble');
          const before2 = snap();
          fails(d, ['checkout', 'main', '--force'], 'OBJECT_CORRUPT', 7);
          expect(snap()).toEqual(before2);
          expect(readFileSync(d.path('a.bin'), 'utf8')).toBe('local scribble');

          // repaired: everything is sound again and v1 restores bit for bit
          restoreObject(d, onlyV1, origOnly);
          restoreObject(d, shared, origShared);
          expectSound(d);
          ok(d, ['checkout', 'v1', '--force']);
          expect(fileSha(d.path('a.bin'))).toBe(sha(a1));
        } finally {
          d.cleanup();
        }
      },
    );

    it('a damaged chunk of one file does not let checkout rewrite the other files either', () => {
      const { d, ids, snap } = damagedFixture();
      try {
        // b.bin sorts after a.bin: a checkout that restored file by file would replace a.bin first
        const orig = corruptObject(d, ids.b1[0]!);
        const before = snap();
        fails(d, ['checkout', 'v1'], 'OBJECT_CORRUPT', 7);
        expect(snap(), 'a failed checkout must leave every workspace file as it was').toEqual(before);
        restoreObject(d, ids.b1[0]!, orig);
        expectSound(d);
      } finally {
        d.cleanup();
      }
    });

    it(
      'a missing chunk: fsck reports it missing with version and path; checkout fails OBJECT_MISSING and leaves ' +
        'the workspace alone',
      () => {
        const { d, v1, ids, snap, a1, a2 } = damagedFixture();
        try {
          const gone = ids.a1[2]!;
          const objects = d.path('.mvm/objects');
          const orig = storedBytes(objects, gone);
          removeStored(objects, gone);
          const { exitCode, report } = fsckOf(d);
          expect(exitCode).toBe(7);
          expect(report.problems).toHaveLength(1);
          expect(report.problems[0]).toMatchObject({ kind: 'missing', id: gone });
          expect(report.problems[0]!.usedBy).toContainEqual(
            expect.objectContaining({ version: v1, number: 1, path: 'a.bin' }),
          );
          const before = snap();
          const f = fails(d, ['checkout', 'v1'], 'OBJECT_MISSING', 7);
          expect(errorOf(f).data.id).toBe(gone);
          expect(snap()).toEqual(before);
          expect(fileSha(d.path('a.bin'))).toBe(sha(a2));
          expect(readdirSync(d.path('.mvm/tmp'))).toEqual([]);
          // the version manifest itself missing: fsck and checkout say so too
          const mOrig = storedBytes(objects, v1);
          removeStored(objects, v1);
          const m = fsckOf(d);
          expect(m.exitCode).toBe(7);
          expect(m.report.problems).toContainEqual(expect.objectContaining({ kind: 'missing', id: v1 }));
          fails(d, ['checkout', 'v1'], 'OBJECT_MISSING', 7);
          expect(snap()).toEqual(before);
          replaceStored(objects, v1, mOrig);
          replaceStored(objects, gone, orig);
          expectSound(d);
          ok(d, ['checkout', 'v1']);
          expect(fileSha(d.path('a.bin'))).toBe(sha(a1));
        } finally {
          d.cleanup();
        }
      },
    );

    it('a corrupt ref: commands fail REF_CORRUPT, fsck reports bad-ref, and nothing is written', () => {
      const { d, v2 } = damagedFixture();
      try {
        const numbers = readFileSync(d.path('.mvm/numbers'));
        writeFileSync(d.path('.mvm/refs/heads/main'), 'this is not a version id\n');
        fails(d, ['log'], 'REF_CORRUPT', 7);
        fails(d, ['status'], 'REF_CORRUPT', 7);
        fails(d, ['show'], 'REF_CORRUPT', 7);
        writeFileSync(d.path('b.bin'), 'changed');
        fails(d, ['commit', '-m', 'on a broken ref'], 'REF_CORRUPT', 7);
        expect(readFileSync(d.path('.mvm/refs/heads/main'), 'utf8')).toBe('this is not a version id\n');
        expect(readFileSync(d.path('.mvm/numbers'))).toEqual(numbers);
        expect(existsSync(d.path('.mvm/lock'))).toBe(false);
        const { exitCode, report } = fsckOf(d);
        expect(exitCode).toBe(7);
        expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'bad-ref', ref: 'refs/heads/main' }));
        expect(report.problems.every((p) => p.kind === 'bad-ref')).toBe(true);
        // versions are still reachable by number
        expect(ok<{ id: string }>(d, ['show', 'v2']).id).toBe(v2);
        writeFileSync(d.path('.mvm/refs/heads/main'), `${v2}\n`);
        expectSound(d);
      } finally {
        d.cleanup();
      }
    });

    it('a deleted, garbled, reshaped or stale summary file or stat cache is rebuilt: log and status work', () => {
      const { d, v1, v2 } = damagedFixture();
      try {
        const expectLog = () => {
          const l = logOf(d);
          expect(l.map((e) => [e.id, e.number])).toEqual([
            [v2, 2],
            [v1, 1],
          ]);
          expect(l.map((e) => e.message)).toEqual(['v2', 'v1']);
        };
        const expectClean = () =>
          expect(ok<{ clean: boolean; head: string }>(d, ['status'])).toMatchObject({ clean: true, head: v2 });
        expectLog();
        expectClean();
        const summaries = d.path('.mvm/summaries');
        const statCache = d.path('.mvm/stat-cache');
        // deleted
        rmSync(summaries);
        rmSync(statCache);
        expectLog();
        expectClean();
        expect(existsSync(summaries)).toBe(true);
        expect(existsSync(statCache)).toBe(true);
        // garbage
        writeFileSync(summaries, cryptoRandomBytes(3000));
        writeFileSync(statCache, cryptoRandomBytes(3000));
        expectLog();
        expectClean();
        // lines of another shape ahead of a good state line: a summary whose metrics are a string, a stat entry
        // whose file id is not an id
        const lines = readFileSync(summaries, 'utf8').trimEnd().split('\n');
        const bad = JSON.parse(lines[0]!);
        bad.s.metrics = 'acc';
        bad.s.parents = 'none';
        writeFileSync(summaries, [JSON.stringify(bad), ...lines.slice(1)].join('\n') + '\n');
        const stats = readFileSync(statCache, 'utf8').trimEnd().split('\n');
        writeFileSync(statCache, `${stats[0]}\n["b.bin",1,"1","1","1","../../x","1"]\n{"__proto__":1}\n`);
        expectLog();
        expectClean();
        expect(readFileSync(summaries, 'utf8')).not.toContain('"metrics":"acc"');
        // an old copy of the summary file (from before v3) is brought up to date
        const old = readFileSync(summaries);
        writeFileSync(d.path('b.bin'), 'v3 content');
        const v3 = ok<{ id: string; number: number }>(d, ['commit', '-m', 'v3']);
        expect(v3.number).toBe(3);
        writeFileSync(summaries, old);
        expect(logOf(d).map((e) => [e.id, e.number])).toEqual([
          [v3.id, 3],
          [v2, 2],
          [v1, 1],
        ]);
        expect(ok<{ clean: boolean }>(d, ['status']).clean).toBe(true);
        expectSound(d);
      } finally {
        d.cleanup();
      }
    });
  });
});
